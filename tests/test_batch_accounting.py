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
