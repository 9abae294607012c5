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


def _csv(folder: Path, key: str) -> pl.DataFrame:
    return pl.read_csv(folder / f"{key}.csv", infer_schema=False)


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
    stable = json.loads((sample_csv / "manifest.json").read_text(encoding="utf-8"))["stable"]["results"]
    assert stable["entities_with_money"] == money.get_column("统一社会信用代码").n_unique()
    assert stable["entities_with_support_measures"] == support.get_column("统一社会信用代码").n_unique()


def test_terminal_summary_splits_money_from_support_measures(tmp_path, capsys):
    main(["batch", str(SAMPLE), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx")])
    printed = capsys.readouterr().err
    stable = json.loads(manifest_path(tmp_path / "o.xlsx", "xlsx").read_text(encoding="utf-8"))["stable"]["results"]
    assert f"获资金补贴 {stable['entities_with_money']} 家" in printed
    assert f"获无具体金额的支持措施 {stable['entities_with_support_measures']} 家" in printed
