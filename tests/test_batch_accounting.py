"""What the batch summaries count (issue 16): money beneficiaries apart from support-measure recipients,
enterprises not evaluated, columns not read, event columns beside the enterprise columns."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from engine.batch import run_batch
from engine.batch.write import manifest_path
from engine.cli import main

SAMPLE = Path("examples/batch/sample.xlsx")
AS_OF = date(2019, 12, 31)


@pytest.fixture(scope="module")
def sample_csv(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "out"
    run_batch(SAMPLE, as_of=AS_OF, out=out, fmt="csv")
    return out


def _csv(folder: Path, key: str, total_row: bool = False) -> pl.DataFrame:
    """An output table as text; summaries without their last row ("合计") unless ``total_row``."""
    frame = pl.read_csv(folder / f"{key}.csv", infer_schema=False)
    if key.startswith("summary") and not total_row:
        assert frame.row(-1)[0] == "合计"
        frame = frame.head(-1)
    return frame


def test_money_beneficiaries_are_counted_apart_from_support_measure_recipients(sample_csv):
    lines = _csv(sample_csv, "lines").with_columns(pl.col("金额（元）").cast(pl.Decimal(20, 2)))
    money = lines.filter(pl.col("金额（元）") > 0)
    support = lines.filter(pl.col("金额（元）").is_null())
    assert money.height and support.height  # the sample has both kinds of line
    cities = _csv(sample_csv, "summary_cities").with_columns(pl.col("获资金补贴企业数", "获支持措施企业数（无具体金额）").cast(pl.Int64))
    for city, paid, measures in cities.select("所在城市", "获资金补贴企业数", "获支持措施企业数（无具体金额）").iter_rows():
        assert paid == money.filter(pl.col("所在城市") == city).get_column("统一社会信用代码").n_unique()
        assert measures == support.filter(pl.col("所在城市") == city).get_column("统一社会信用代码").n_unique()
    rules = _csv(sample_csv, "summary_rules").with_columns(pl.col("获资金补贴企业数", "获支持措施企业数（无具体金额）").cast(pl.Int64))
    for rule, paid, measures in rules.select("规则编号", "获资金补贴企业数", "获支持措施企业数（无具体金额）").iter_rows():
        assert paid == money.filter(pl.col("规则编号") == rule).get_column("统一社会信用代码").n_unique()
        assert measures == support.filter(pl.col("规则编号") == rule).get_column("统一社会信用代码").n_unique()
    both = _csv(sample_csv, "summary_rule_city").with_columns(pl.col("获资金补贴企业数", "获支持措施企业数（无具体金额）").cast(pl.Int64))
    for rule, city, paid, measures in both.select("规则编号", "所在城市", "获资金补贴企业数", "获支持措施企业数（无具体金额）").iter_rows():
        mine = (pl.col("规则编号") == rule) & (pl.col("所在城市") == city)
        assert paid == money.filter(mine).get_column("统一社会信用代码").n_unique()
        assert measures == support.filter(mine).get_column("统一社会信用代码").n_unique()
    for key in ("summary_rules", "summary_rule_city"):  # an enterprise paid under two rules is one enterprise
        total = _csv(sample_csv, key, total_row=True).row(-1, named=True)
        assert int(total["获资金补贴企业数"]) == money.get_column("统一社会信用代码").n_unique()
        assert int(total["获支持措施企业数（无具体金额）"]) == support.get_column("统一社会信用代码").n_unique()
    stable = json.loads((sample_csv / "manifest.json").read_text(encoding="utf-8"))["stable"]["results"]
    assert stable["entities_with_money"] == money.get_column("统一社会信用代码").n_unique()
    assert stable["entities_with_support_measures"] == support.get_column("统一社会信用代码").n_unique()


def test_terminal_summary_splits_money_from_support_measures(tmp_path, capsys):
    main(["batch", str(SAMPLE), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx")])
    printed = capsys.readouterr().err
    stable = json.loads(manifest_path(tmp_path / "o.xlsx", "xlsx").read_text(encoding="utf-8"))["stable"]["results"]
    assert f"获资金补贴 {stable['entities_with_money']} 家" in printed
    assert f"获无具体金额的支持措施 {stable['entities_with_support_measures']} 家" in printed


def test_enterprises_not_evaluated_are_counted_in_every_summary(sample_csv):
    errors = _csv(sample_csv, "errors")
    refused = errors.filter(pl.col("处理") == "该企业行未评估")
    duplicate_rows = set(refused.filter(pl.col("问题").str.starts_with("统一社会信用代码重复")).get_column("行号"))
    error_rows = set(refused.get_column("行号")) - duplicate_rows
    assert len(duplicate_rows) == 2 and len(error_rows) == 8  # the sample's deliberate mistakes
    # 企业汇总: every enterprise row of the input, in input order, the ones not evaluated saying why
    entities = _csv(sample_csv, "entities")
    assert entities.height == 304
    assert entities.get_column("行号").cast(pl.Int64).is_sorted()
    status = dict(zip(entities.get_column("行号"), entities.get_column("评估状态")))
    assert {r for r, s in status.items() if s == "未评估：统一社会信用代码重复（见“错误”表）"} == duplicate_rows
    assert {r for r, s in status.items() if s == "未评估：有错误（见“错误”表）"} == error_rows
    assert sum(s == "已评估" for s in status.values()) == 294
    # by city: evaluated + not evaluated = the enterprise rows, with a row for cities that could not be read
    cities = _csv(sample_csv, "summary_cities", total_row=True)
    total = cities.row(-1, named=True)
    assert (int(total["评估企业数"]), int(total["未评估企业数（有错误）"]), int(total["未评估企业数（信用代码重复）"])) == (294, 8, 2)
    assert cities.row(-2, named=True)["所在城市"] == "（所在城市未能读取）"
    assert int(cities.row(-2, named=True)["未评估企业数（有错误）"]) == 1  # row 19: 所在城市 is not a city
    # by rule and rule x city: the total row says how many rows were not evaluated and why
    for key in ("summary_rules", "summary_rule_city"):
        note = _csv(sample_csv, key, total_row=True).row(-1, named=True)["规则名称"]
        assert "另有 10 个企业行未评估（有错误 8 行，信用代码重复 2 行）" in note
    rows = json.loads((sample_csv / "manifest.json").read_text(encoding="utf-8"))["stable"]["rows"]
    assert rows["enterprises_not_evaluated"] == {"errors": 8, "duplicate": 2}


def test_terminal_summary_counts_enterprises_not_evaluated(tmp_path, capsys):
    main(["batch", str(SAMPLE), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx"), "--lang", "en"])
    assert "enterprise rows not evaluated 10 (errors 8, duplicate credit codes 2)" in capsys.readouterr().err


# -- 16.2: columns are never dropped without a word; event columns beside the enterprise columns --------------

ONE_SHEET_HEADERS = ["统一社会信用代码", "名称", "所在城市", "企业规模", "商标国际注册日期", "商标国际注册费用（元）", "备注"]


def _one_sheet(tmp_path: Path, rows: list[list], headers: list[str] = ONE_SHEET_HEADERS) -> Path:
    import xlsxwriter

    path = tmp_path / "list.xlsx"
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    sheet = workbook.add_worksheet("企业")
    for i, row in enumerate([headers, *rows]):
        sheet.write_row(i, 0, row)
    workbook.close()
    return path


def _codes(n: int) -> list[str]:
    import random

    from engine.batch import synth

    return synth.credit_codes(random.Random(3), n, ["91"] * n, ["阜新市"] * n)


def test_event_columns_beside_the_enterprise_are_events_and_counted(tmp_path, capsys):
    codes = _codes(3)
    path = _one_sheet(tmp_path, [[codes[0], "甲公司", "阜新", "小型", "2016-05-01", "12,345.67元", "老客户"],
                                 [codes[1], "乙公司", "阜新", "小型", "", "", ""],
                                 [codes[2], "丙公司", "阜新", "小型", "2016-06-01", "1万元", ""]])
    out = tmp_path / "out.xlsx"
    assert main(["batch", str(path), "--as-of", "2019-12-31", "-o", str(out)]) == 0
    printed = capsys.readouterr()
    # three enterprise rows, two of which carry a trademark registration: 3 + 2 rows in, all accounted
    assert "输入行数 = 5（企业 3，事件 2）；已处理行数 = 5" in printed.out
    assert "未读取的列 1 个：企业「备注」" in printed.out
    from python_calamine import load_workbook

    lines = load_workbook(str(out)).get_sheet_by_name("补贴明细").to_python()
    paid = {(row[0], row[3]): row[9] for row in lines[1:] if row[3] == "ln2015.trademark.intl-subsidy"}
    assert paid == {(codes[0], "ln2015.trademark.intl-subsidy"): 8641.97, (codes[2], "ln2015.trademark.intl-subsidy"): 7000.0}
    notes = load_workbook(str(out)).get_sheet_by_name("说明").to_python()
    assert notes[0] == ["文件", "工作表", "列", "处理", "原因"]
    read_as = {row[2]: row[3] for row in notes[1:]}
    assert read_as == {"商标国际注册日期": "作为「商标国际注册」事件的「日期」读取",
                       "商标国际注册费用（元）": "作为「商标国际注册」事件的「费用」读取", "备注": "未读取"}


def test_one_sheet_layout_evaluates_as_an_events_table_would(tmp_path):
    """The same events given as columns beside the enterprises or as an events table: the same results, and the
    batch still equals the per-profile engine."""
    from test_batch_equivalence import _assert_same

    from engine import default_rules
    from engine.batch import evaluate_population, read_population, synth
    from engine.batch.columnar import SCHEMAS

    ents, evs = synth.population(120, 3.0, seed=3)
    kinds = {"intl_trademark_registration": "商标国际注册", "patent_application": "专利申请", "ip_pledge_loan": "知识产权质押贷款"}
    firsts = [evs.filter(pl.col("type") == code).unique("credit_code", keep="first", maintain_order=True) for code in kinds]
    wide = ents
    for (code, zh), mine in zip(kinds.items(), firsts):
        columns = {"date": "日期", "ref": "编号", "route": "注册途径", "cost": "费用（元）", "patent_type": "专利类型",
                   "loan_amount": "贷款金额"}
        keep = [c for c in columns if c in ("date", "ref") or schema_has(code, c)]
        wide = wide.join(mine.select("credit_code", *[pl.col(c).alias(f"{zh}{columns[c]}") for c in keep]),
                         on="credit_code", how="left", maintain_order="left")
    wide.write_parquet(tmp_path / "wide.parquet")
    table = pl.concat(firsts)
    table.write_parquet(tmp_path / "events.parquet")
    ents.write_parquet(tmp_path / "ents.parquet")
    one = read_population(tmp_path / "wide.parquet")
    two = read_population(tmp_path / "ents.parquet", tmp_path / "events.parquet")
    assert one.rows_in == {"enterprises": 120, "events": table.height} and one.rows_accounted() == one.rows_in
    assert one.column_notes.filter(pl.col("action_zh") == "未读取").height == 0
    rules = default_rules()
    for as_of in (date(2016, 12, 31), date(2022, 6, 30)):
        a, b = evaluate_population(one, as_of, rules), evaluate_population(two, as_of, rules)
        for name in SCHEMAS:
            assert getattr(a, name).equals(getattr(b, name)), name
        _assert_same(one, as_of, rules)


def schema_has(code: str, name: str) -> bool:
    from engine import schema

    return any(f.name == name for f in schema.EVENT_BY_CODE[code].fields)


def test_event_columns_without_a_date_are_an_error_not_a_silent_skip(tmp_path, capsys):
    codes = _codes(2)
    path = _one_sheet(tmp_path, [[codes[0], "甲公司", "阜新", "小型", "12,345.67元", ""], [codes[1], "乙公司", "阜新", "小型", "", ""]],
                      [h for h in ONE_SHEET_HEADERS if h != "商标国际注册日期"])
    out = tmp_path / "out"
    assert main(["batch", str(path), "--as-of", "2019-12-31", "-o", str(out), "--format", "csv"]) == 5
    errors = pl.read_csv(out / "errors.csv")
    assert errors.height == 1
    assert "缺少日期列（如「商标国际注册日期」）" in errors.item(0, "问题") and "1行有数据未计入" in errors.item(0, "问题")
    notes = pl.read_csv(out / "notes.csv")
    assert set(notes.get_column("列")) == {"商标国际注册费用（元）", "备注"}
    assert "未读取的列 2 个" in capsys.readouterr().out


def test_notes_name_the_sheet_and_reason_in_english(tmp_path):
    codes = _codes(1)
    path = _one_sheet(tmp_path, [[codes[0], "甲公司", "阜新", "小型", "2016-05-01", "100", "x"]])
    result = run_batch(path, as_of=AS_OF, out=tmp_path / "o", fmt="jsonl", lang="en")
    notes = pl.read_ndjson(tmp_path / "o" / "notes.jsonl")
    assert notes.columns == ["file", "sheet", "column", "what happened", "reason"]
    assert notes.filter(pl.col("column") == "备注").row(0) == (
        "list.xlsx", "企业", "备注", "not read",
        "neither an enterprise field nor an event column named event type + field (e.g. 商标国际注册日期)")
    assert result.ignored == [("企业", "备注")]


def test_chunked_runs_write_the_same_notes_and_totals(tmp_path):
    from engine.batch import stream, synth

    ents, evs = synth.population(200, 2.0, seed=4)
    codes = ents.get_column("credit_code").to_list()
    codes[150] = codes[2]  # a duplicate across chunks: not evaluated, counted in the totals
    ents = ents.with_columns(pl.Series("credit_code", codes), pl.lit("x").alias("备注"))
    ents.write_csv(tmp_path / "e.csv")
    evs.write_csv(tmp_path / "v.csv")
    whole = run_batch(tmp_path / "e.csv", tmp_path / "v.csv", as_of=AS_OF, out=tmp_path / "whole", fmt="csv")
    chunked = run_batch(tmp_path / "e.csv", tmp_path / "v.csv", as_of=AS_OF, out=tmp_path / "chunked", fmt="csv", chunk_rows=37)
    assert stream.plan(tmp_path / "e.csv", tmp_path / "v.csv", 37) is not None  # the second run was chunked
    for name in ("notes.csv", "summary_rules.csv", "summary_cities.csv", "summary_rule_city.csv", "entities.csv"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "chunked" / name).read_bytes(), name
    assert whole.ignored == chunked.ignored == [("e.csv", "备注")]
    assert chunked.manifest["stable"]["rows"]["enterprises_not_evaluated"] == {"errors": 0, "duplicate": 2}
    # event columns beside the enterprise columns are split by the in-memory reader only
    ents.with_columns(pl.lit("2016-05-01").alias("商标国际注册日期")).write_csv(tmp_path / "wide.csv")
    assert stream.plan(tmp_path / "wide.csv", None, 37) is None


@pytest.mark.parametrize(("header", "expected"), [
    ("商标国际注册日期", ("intl_trademark_registration", "date")),
    ("商标国际注册费用（元）", ("intl_trademark_registration", "cost")),
    ("商标国际注册-注册号", ("intl_trademark_registration", "ref")),
    ("马德里商标注册费用", ("intl_trademark_registration", "cost")),
    ("专利申请日期", ("patent_application", "date")),
    ("专利申请专利类型", ("patent_application", "patent_type")),
    ("发明专利授权实缴申请费", ("invention_patent_grant", "application_fee_paid")),
    ("知识产权质押贷款金额", ("ip_pledge_loan", "loan_amount")),
    ("PCT申请日期", ("pct_application", "date")),
    ("international trademark registration date", ("intl_trademark_registration", "date")),
    ("备注", None), ("费用", None), ("专利申请", None), ("有效发明专利数", None),
])
def test_event_column_names(header, expected):
    from engine.batch.event_columns import event_column

    assert event_column(header) == expected
