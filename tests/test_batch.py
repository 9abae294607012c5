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
    assert header.startswith("credit code,name,city,rule id")
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
