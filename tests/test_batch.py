"""``huiqi batch`` end to end: the shipped sample, formats, errors, exit codes, determinism, atomic output."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from python_calamine import load_workbook

from engine.batch import read_population, run_batch, synth
from engine.batch.tables import TITLES
from engine.batch.write import manifest_path
from engine.cli import EXIT_BAD_INPUT, EXIT_BAD_RULES, EXIT_OK, EXIT_ROW_ERRORS, main

SAMPLE = Path("examples/batch/sample.xlsx")
SAMPLE_CSV = (Path("examples/batch/sample_enterprises.csv"), Path("examples/batch/sample_events.csv"))
AS_OF = date(2019, 12, 31)


def _sheet(path: Path, name: str) -> list[list]:
    return load_workbook(str(path)).get_sheet_by_name(name).to_python()


def test_sample_writes_every_sheet_and_exits_5(tmp_path, capsys):
    out = tmp_path / "out.xlsx"
    assert main(["batch", str(SAMPLE), "--as-of", "2019-12-31", "-o", str(out)]) == EXIT_ROW_ERRORS
    printed = capsys.readouterr().out
    assert "输入行数 = 1032" in printed and "已处理行数 = 1032" in printed
    assert load_workbook(str(out)).sheet_names == [zh for zh, _ in TITLES.values()]
    manifest = json.loads(manifest_path(out, "xlsx").read_text(encoding="utf-8"))
    assert manifest["stable"]["rows"]["balanced"] is True
    assert manifest["stable"]["rows"]["in"] == manifest["stable"]["rows"]["accounted"]
    lines = _sheet(out, "补贴明细")
    assert lines[0][:4] == ["统一社会信用代码", "名称", "所在城市", "规则编号"]
    assert len(lines) > 500
    cities = {row[2] for row in lines[1:]}
    assert {"阜新市", "铁岭市"} <= cities


def test_sample_errors_name_sheet_row_column_value_and_say_what_happened(tmp_path):
    population = read_population(SAMPLE)
    errors = population.errors
    assert population.rows_accounted() == population.rows_in
    messages = dict(zip(zip(errors["sheet"], errors["row"], errors["column"]), errors["message_zh"]))
    assert "应为18位" in messages[("企业", 7, "统一社会信用代码")]
    assert "非法字符" in messages[("企业", 13, "统一社会信用代码")]
    assert "辽宁省地级市" in messages[("企业", 19, "所在城市")]
    assert messages[("企业", 25, "名称")] == "必填字段缺失"
    assert "重复" in messages[("企业", 42, "统一社会信用代码")] and "第43行" in messages[("企业", 42, "统一社会信用代码")]
    assert "第42行" in messages[("企业", 43, "统一社会信用代码")]
    assert "都未评估" in messages[("企业", 43, "统一社会信用代码")]
    kinds = " ".join(errors["message_zh"].to_list())
    for fragment in ("无法识别的整数", "无法识别的是/否值", "不是有效选项", "无法识别的数值", "金额不能为负数", "日期不存在",
                     "像是只有年份", "企业表中没有此统一社会信用代码的企业", "未知的事件类型", "事件没有此字段", "有错误，未评估"):
        assert fragment in kinds, fragment
    assert set(errors["action_zh"]) == {"该企业行未评估", "该事件行未计入"}
    bad_enterprise_rows = errors.filter(pl.col("table") == "enterprises").select("row").unique().height
    assert population.entities.height == population.rows_in["enterprises"] - bad_enterprise_rows


def test_csv_sample_reads_the_same_as_the_workbook():
    book = read_population(SAMPLE)
    csv = read_population(*SAMPLE_CSV)
    skip = {"source", "sheet", "_t", "_p"}
    assert book.entities.drop(*skip).equals(csv.entities.drop(*skip))
    assert book.events.drop("_t", "_p").equals(csv.events.drop("_t", "_p"))
    assert book.errors.select("row", "column", "value").equals(csv.errors.select("row", "column", "value"))


def test_clean_input_exits_0_and_english_headers(tmp_path, capsys):
    ents, evs = synth.population(200, 3.0, seed=2)
    ents.write_parquet(tmp_path / "e.parquet")
    evs.write_csv(tmp_path / "v.csv")
    code = main(["batch", str(tmp_path / "e.parquet"), "--events", str(tmp_path / "v.csv"), "--as-of", "2019-12-31",
                 "-o", str(tmp_path / "out"), "--format", "csv", "--lang", "en"])
    assert code == EXIT_OK
    assert "rows in = " in capsys.readouterr().out
    header = (tmp_path / "out" / "lines.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith('"credit code","name","city","rule id"')  # text fields quoted (formula-safe CSV)
    errors = (tmp_path / "out" / "errors.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(errors) == 1


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_folder_formats_have_one_file_per_table(tmp_path, fmt):
    result = run_batch(SAMPLE, as_of=AS_OF, out=tmp_path / "out", fmt=fmt)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted([f"{key}.{fmt}" for key in TITLES] + ["manifest.json"])
    assert result.rows_in == result.rows_accounted
    if fmt == "parquet":
        lines = pl.read_parquet(tmp_path / "out" / "lines.parquet")
        assert lines.schema["金额（元）"] == pl.Decimal(20, 2)


def test_reruns_are_byte_identical(tmp_path):
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    for fmt, name in (("xlsx", "a.xlsx"), ("parquet", "pa"), ("jsonl", "ja")):
        first = run_batch(SAMPLE, as_of=AS_OF, out=tmp_path / "1" / name, fmt=fmt)
        again = run_batch(SAMPLE, as_of=AS_OF, out=tmp_path / "2" / name, fmt=fmt)
        for a, b in zip(first.files, again.files):
            if a.name.endswith("manifest.json"):
                assert first.manifest["stable"] == again.manifest["stable"]
                continue
            assert a.read_bytes() == b.read_bytes(), a.name


def test_output_is_replaced_atomically(tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_batch(SAMPLE, as_of=AS_OF, out=out, fmt="csv")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    import engine.batch.write as write

    calls = {"n": 0}
    original = write._write_table

    def failing(table, path, fmt):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        original(table, path, fmt)

    monkeypatch.setattr(write, "_write_table", failing)
    with pytest.raises(KeyboardInterrupt):
        run_batch(SAMPLE, as_of=date(2022, 6, 30), out=out, fmt="csv")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary files left behind


def test_unusable_input_exits_3(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "missing.xlsx"), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx")]) == EXIT_BAD_INPUT
    (tmp_path / "list.csv").write_text("序号,备注\n1,x\n", encoding="utf-8")
    assert main(["batch", str(tmp_path / "list.csv"), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx")]) == EXIT_BAD_INPUT
    (tmp_path / "names.csv").write_text("名称,所在城市\n甲,阜新\n", encoding="utf-8")
    assert main(["batch", str(tmp_path / "names.csv"), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx")]) == EXIT_BAD_INPUT
    assert "统一社会信用代码" in capsys.readouterr().err
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    assert main(["batch", str(tmp_path / "broken.xlsx"), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx")]) == EXIT_BAD_INPUT
    assert not (tmp_path / "o.xlsx").exists()


def test_broken_rules_exit_4(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bad.toml").write_text("[document]\nid = 1\n", encoding="utf-8")
    code = main(["batch", str(SAMPLE), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx"), "--rules", str(tmp_path / "rules")])
    assert code == EXIT_BAD_RULES


def test_jsonl_with_nested_events_and_mixed_headers(tmp_path):
    good = synth.credit_codes(__import__("random").Random(1), 2, ["91", "91"], ["阜新市", "铁岭市"])
    records = [
        {"统一社会信用代码": good[0], "名称": "甲", "所在城市": "阜新", "企业规模": "小型", "主体类型": "企业",
         "events": [{"type": "商标国际注册", "date": "2019/3/1", "费用": "10,000元", "route": "马德里"},
                    {"type": "专利申请", "date": "2019-02-30"}]},
        {"credit_code": good[1], "name": "乙", "city": "Tieling", "events": [{"类型": "驰名商标", "日期": "2014年5月1日"}]},
        {"credit_code": good[0], "name": "甲（重复）", "city": "阜新市"},
    ]
    path = tmp_path / "list.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    population = read_population(path)
    assert population.rows_in == {"enterprises": 3, "events": 3}
    assert population.rows_accounted() == population.rows_in
    assert population.entities.get_column("name").to_list() == ["乙"]  # both rows with the shared code are refused
    messages = population.errors.get_column("message_zh").to_list()
    assert sum(m.startswith("统一社会信用代码重复") for m in messages) == 2
    assert sum("所属企业的统一社会信用代码在企业表中重复" in m for m in messages) == 1  # 甲's good event
    assert any("日期不存在" in m for m in messages)


def test_duplicate_and_unknown_enterprise_events_are_errors_not_merges(tmp_path):
    code = synth.credit_codes(__import__("random").Random(2), 1, ["91"], ["铁岭市"])[0]
    (tmp_path / "e.csv").write_text(f"统一社会信用代码,名称,所在城市\n{code},甲,铁岭市\n", encoding="utf-8")
    other = "91211200MA0000000" + __import__("engine.credit_code", fromlist=["x"]).check_character("91211200MA0000000")
    (tmp_path / "v.csv").write_text(f"统一社会信用代码,类型,日期\n{other},PCT申请,2020-01-01\n{code},PCT申请,2020-01-01\n",
                                    encoding="utf-8")
    population = read_population(tmp_path / "e.csv", tmp_path / "v.csv")
    assert population.events.height == 1
    assert population.errors.get_column("message_zh").to_list() == ["企业表中没有此统一社会信用代码的企业"]
    assert population.errors.get_column("row").to_list() == [2]


def test_xlsx_cells_round_trip(tmp_path):
    from engine.batch.tables import OutputTable
    from engine.batch.write import write_output

    frame = pl.DataFrame({
        "text": ["a & b < c > d", " leading", "trailing ", "tab\there", "ctrl\x01x", None, "中文（全角）"],
        "number": [1, None, 3, 4, 5, 6, 1_000_000_000_000],
        "money": [123456, 1, None, 0, 99, 100, 10 ** 14],
        "day": [date(2016, 5, 1), date(1900, 3, 1), None, date(2099, 12, 31), date(2019, 12, 31), date(2020, 2, 29), date(2000, 1, 1)],
    })
    table = OutputTable("t", "表", frame, ("money",))
    write_output([table], tmp_path / "t.xlsx", "xlsx", lambda outputs: {"outputs": outputs})
    rows = load_workbook(str(tmp_path / "t.xlsx")).get_sheet_by_name("表").to_python()
    assert rows[0] == ["text", "number", "money", "day"]
    for got, want in zip(rows[1:], frame.iter_rows()):
        text, number, money, day = want
        assert got[0] == (text or "")  # control characters travel as _xHHHH_ escapes and come back
        assert got[1] == ("" if number is None else number)
        assert got[2] == ("" if money is None else pytest.approx(money / 100))
        assert got[3] == ("" if day is None else day)
    # a second reader (openpyxl parses the XML itself), and the public xlsxwriter path gives the same cells
    import openpyxl

    import engine.batch.write as write

    def cells(path: Path) -> list[tuple]:
        sheet = openpyxl.load_workbook(path, read_only=True)["表"]
        return [tuple(c.value for c in row) for row in sheet.iter_rows()]

    fast = cells(tmp_path / "t.xlsx")
    assert fast[0] == ("text", "number", "money", "day")
    for got, want in zip(fast[1:], frame.iter_rows()):
        text, number, money, day = want
        if text is None or "\x01" not in text:  # openpyxl leaves the _xHHHH_ escape of a control character as it is
            assert got[0] == text
        assert got[1] == number
        assert got[2] == (None if money is None else pytest.approx(money / 100))
        assert (got[3].date() if got[3] is not None else None) == day
    assert fast[2][0] == " leading" and fast[3][0] == "trailing " and fast[4][0] == "tab\there"
    monkey = pytest.MonkeyPatch()
    monkey.setattr(write, "_fast_path_available", lambda sheet, styles: False)
    try:
        write_output([table], tmp_path / "slow.xlsx", "xlsx", lambda outputs: {"outputs": outputs})
    finally:
        monkey.undo()
    assert cells(tmp_path / "slow.xlsx") == fast


# -- review findings: nothing dropped silently, nothing counted twice, no crash on the environment ---------------

def _xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for i, row in enumerate(rows):
            sheet.write_row(i, 0, row)
    workbook.close()
    return path


def _codes(n: int, seed: int = 7) -> list[str]:
    return synth.credit_codes(__import__("random").Random(seed), n, ["91"] * n, ["铁岭市"] * n)


def test_invisible_blank_name_is_refused_like_parse_profile(tmp_path):
    code = _codes(1)[0]
    (tmp_path / "e.csv").write_text(f"统一社会信用代码,名称,所在城市\n{code},\u200b\u200b\u200b\u200b-,铁岭市\n", encoding="utf-8")
    population = read_population(tmp_path / "e.csv")
    assert population.entities.height == 0
    assert population.errors.get_column("message_zh").to_list() == ["必填字段缺失"]


def test_fallback_row_that_parse_profile_refuses_goes_to_errors(tmp_path, monkeypatch):
    """Backstop: a fallback enterprise (evaluated by the per-profile engine) that parse_profile refuses is an
    error row with its events, not a crash, and the others are renumbered and evaluated."""
    import engine.batch.read as read
    from engine.profile import FieldError, ProfileError

    codes = _codes(3)
    (tmp_path / "e.csv").write_text("统一社会信用代码,名称,所在城市,营业收入（万元）\n"
                                    f"{codes[0]},甲,铁岭市,100\n{codes[1]},乙,铁岭市,1234.56789\n{codes[2]},丙,铁岭市,100\n",
                                    encoding="utf-8")
    (tmp_path / "v.csv").write_text(f"统一社会信用代码,类型,日期\n{codes[1]},PCT申请,2019-01-01\n{codes[2]},PCT申请,2019-01-01\n",
                                    encoding="utf-8")
    real = read.parse_profile

    def refuse(data):
        if data.get("name") == "乙":
            raise ProfileError([FieldError(field="name", label_zh="名称", message_zh="测试", message_en="test")])
        return real(data)

    monkeypatch.setattr(read, "parse_profile", refuse)
    population = read_population(tmp_path / "e.csv", tmp_path / "v.csv")
    assert population.entities.get_column("name").to_list() == ["甲", "丙"]
    assert population.entities.get_column("eid").to_list() == [0, 1]
    assert population.events.get_column("eid").to_list() == [1]
    assert population.errors.get_column("row").to_list() == [3, 2]
    assert population.errors.get_column("table").to_list() == ["enterprises", "events"]
    population.check_accounting()
    result = run_batch(tmp_path / "e.csv", tmp_path / "v.csv", as_of=AS_OF, out=tmp_path / "out", fmt="jsonl")
    assert result.error_rows == 2 and result.rows_in == result.rows_accounted


def test_unclassified_data_sheet_is_reported_not_skipped(tmp_path, capsys):
    codes = _codes(3)
    head = ["统一社会信用代码", "名称", "所在城市"]
    path = _xlsx(tmp_path / "in.xlsx", {
        "企业": [head, [codes[0], "甲", "铁岭市"]],
        "企业（续）": [["名称", "所在城市", "备注"], ["乙", "铁岭市", ""], ["丙", "铁岭市", ""]],  # known headers, no credit code
        "事件": [["说明"], ["没有表头的事件"]],  # named as data, no header row
        "说明": [["本工作簿的说明"]],  # no data: ignored
    })
    population = read_population(path)
    skipped = population.errors.filter(pl.col("table") == "sheets")
    assert skipped.get_column("sheet").to_list() == ["企业（续）", "事件"]
    assert skipped.get_column("value").to_list() == ["2", "2"]
    assert "2行数据未计入" in skipped.get_column("message_zh")[0]
    population.check_accounting()
    code = main(["batch", str(path), "--as-of", "2019-12-31", "-o", str(tmp_path / "out.xlsx")])
    assert code == EXIT_ROW_ERRORS


def test_column_of_the_other_table_is_noted(tmp_path):
    code = _codes(1)[0]
    (tmp_path / "e.csv").write_text(f"统一社会信用代码,名称,所在城市,费用\n{code},甲,铁岭市,100\n", encoding="utf-8")
    notes = read_population(tmp_path / "e.csv").notes
    assert any("「费用」属于事件表" in n for n in notes)


def test_events_given_twice_are_refused(tmp_path):
    from engine.batch.sources import BadInput

    with pytest.raises(BadInput, match="already holds events"):
        read_population(SAMPLE, SAMPLE_CSV[1])
    with pytest.raises(BadInput, match="enterprise file"):
        read_population(SAMPLE_CSV[0], SAMPLE_CSV[0])
    copy = tmp_path / "copy.csv"
    copy.write_bytes(SAMPLE_CSV[0].read_bytes())
    with pytest.raises(BadInput, match="a copy"):
        read_population(SAMPLE_CSV[0], copy)


def test_accounting_checks_rows_not_counts(tmp_path, monkeypatch):
    """A row both evaluated and refused, with another row lost, balances the counts but not the rows."""
    from engine.batch.read import AccountingError

    population = read_population(*SAMPLE_CSV)
    population.check_accounting()
    refused = population.errors.filter(pl.col("table") == "enterprises").select("_t", "_p").unique()
    assert refused.height
    wrong = population.errors.with_columns(  # move the first refused row onto an evaluated one
        pl.when((pl.col("_t") == refused["_t"][0]) & (pl.col("_p") == refused["_p"][0]))
        .then(population.entities["_p"][0]).otherwise(pl.col("_p")).alias("_p"))
    assert wrong.select("table", "_t", "_p").unique().height == population.errors.select("table", "_t", "_p").unique().height
    population.errors = wrong
    with pytest.raises(AccountingError):
        population.check_accounting()
    import engine.batch.run as run

    monkeypatch.setattr(run, "read_population", lambda *a, **k: population)
    out = tmp_path / "out"
    with pytest.raises(AccountingError):
        run_batch(*SAMPLE_CSV, as_of=AS_OF, out=out, fmt="csv")
    assert not out.exists()  # nothing written


def test_full_disk_is_exit_3_not_a_crash(tmp_path, monkeypatch, capsys):
    import engine.batch.write as write

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write, "_write_table", full)
    code = main(["batch", str(SAMPLE), "--as-of", "2019-12-31", "-o", str(tmp_path / "out"), "--format", "csv"])
    assert code == EXIT_BAD_INPUT
    assert "No space left" in capsys.readouterr().err


def test_workers_overrides_an_inherited_thread_setting(tmp_path, monkeypatch):
    import os

    monkeypatch.setenv("POLARS_MAX_THREADS", "7")
    main(["batch", str(SAMPLE), "--as-of", "2019-12-31", "-o", str(tmp_path / "out.xlsx"), "--workers", "2"])
    assert os.environ["POLARS_MAX_THREADS"] == "2"
