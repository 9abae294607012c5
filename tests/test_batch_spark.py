"""The Spark batch (``engine.batch.spark``) gives the single-machine batch's tables, value for value.

One local[2] SparkSession for the whole test session (starting the JVM is the slow part). The input is a
small generated population with bad rows of every kind the reader reports: a duplicate credit code whose two
rows sit in different input partitions, a bad cell, a blank row, a value finer than the columnar scale (the
per-profile fallback), events for an unknown, a blank, a duplicated and a refused enterprise, a bad event
cell and a wrong event field, an event listed twice (merged into a note row) and one given twice with different
details (its enterprise refused), and a column the reader does not know (a row of the notes table). Parquet row groups are tiny and Spark's split size too, so both files are read
as several input partitions and every enterprise's events arrive from another file and partition.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

pyspark = pytest.importorskip("pyspark")

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from engine.batch import synth  # noqa: E402
from engine.batch.read import AccountingError, read_population  # noqa: E402
from engine.batch.run import Round, evaluate_population, run_batch  # noqa: E402
from engine.batch.spark import evaluate  # noqa: E402
from engine.batch.spark.job import BUCKET, KEY, _bucket_expr, spark_hash_long  # noqa: E402
from engine.batch.tables import output_tables  # noqa: E402
from engine.claims import InMemoryClaims, PaidClaim  # noqa: E402
from engine.cli import main  # noqa: E402
from engine.evaluate import resolve_rules  # noqa: E402
from engine.period import as_period  # noqa: E402

AS_OF = date(2022, 6, 30)
N = 240


@pytest.fixture(scope="session")
def spark():
    session = (SparkSession.builder.master("local[2]").appName("huiqi tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.default.parallelism", "2")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.files.maxPartitionBytes", "16384")  # several input partitions per small file
               .config("spark.sql.files.openCostInBytes", "1024")
               .config("spark.driver.memory", "1g")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _population(folder: Path) -> tuple[Path, Path]:
    ents, evs = synth.population(N, 3.0, seed=5)
    codes = ents.get_column("credit_code").to_list()
    codes[230] = codes[2]  # a duplicate: first and last row groups, so different input partitions
    ents = ents.with_columns(pl.Series("credit_code", codes), pl.col("employees").cast(pl.String),
                             pl.col("revenue_wan").cast(pl.String))
    ents = ents.with_columns(
        pl.when(pl.int_range(pl.len()) == 17).then(pl.lit("not a number")).otherwise(pl.col("employees")).alias("employees"),
        pl.when(pl.int_range(pl.len()) == 40).then(pl.lit("1234.123456")).otherwise(pl.col("revenue_wan")).alias("revenue_wan"))
    ents = ents.with_columns(pl.lit("备注").alias("备注"), pl.lit("x").alias("联系人"))  # not fields: the notes table says so
    blank = pl.DataFrame({c: [None] for c in ents.columns}, schema=ents.schema)
    ents = pl.concat([ents.slice(0, 100), blank, ents.slice(100)])
    evs = evs.with_columns(pl.col("date").cast(pl.String))
    # unknown, blank, duplicated, refused enterprise, bad date, and a code in lower case with spaces (parsed in Python,
    # it must still meet its enterprise, whose code is keyed in the strict form)
    extra = evs.head(6).with_columns(
        pl.Series("credit_code", ["91210100MA0UNKNOWN", None, codes[230], codes[17], codes[9], f" {codes[20].lower()} "]),
        pl.Series("date", ["2019-05-01", "2019-05-01", "2019-05-01", "2019-05-01", "2019-13-45", "2019-05-01"]))
    wrong = evs.filter(pl.col("type") == "patent_application").head(1).with_columns(pl.lit(5000.0).alias("loan_amount"))
    twice = evs.slice(60, 1)  # the same event again: merged, counted once
    clash = evs.filter(pl.col("type") == "ip_pledge_loan").slice(1, 1).with_columns(pl.col("loan_amount") + 1)
    evs = pl.concat([evs.slice(0, 50), extra, evs.slice(50), wrong, twice, clash]).reverse()  # late enterprises' events first
    evs = evs.with_columns(pl.lit("经办人").alias("经办人"))
    folder.mkdir(parents=True, exist_ok=True)
    ents.write_parquet(folder / "ents.parquet", row_group_size=40)
    evs.write_parquet(folder / "events.parquet", row_group_size=60)
    return folder / "ents.parquet", folder / "events.parquet"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    return _population(tmp_path_factory.mktemp("spark_in"))


@pytest.fixture(scope="module")
def single(files):
    """The single-machine batch's tables for the same files."""
    ruleset = resolve_rules(None)
    population = read_population(*files)
    results = evaluate_population(population, AS_OF, ruleset)
    return population, {t.key: t for t in output_tables(population, results, ruleset, AS_OF, "zh")}


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns([pl.col(c).cast(pl.String) for c, d in frame.schema.items() if isinstance(d, (pl.Enum, pl.Categorical))])


def _collect(df) -> pl.DataFrame:
    return pl.from_arrow(df.toArrow())


def _canonical(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True, maintain_order=True)


def _assert_same(spark_table: pl.DataFrame, expected: pl.DataFrame, key: str, ordered: bool) -> None:
    expected = _plain(expected)
    assert spark_table.columns == expected.columns, key
    got = spark_table.cast(dict(expected.schema))
    if not ordered:
        got, expected = _canonical(got), _canonical(expected)
    assert got.height == expected.height, key
    assert got.equals(expected), f"{key}: first difference\n{got.join(expected, on=got.columns, how='anti').head(3)}"


@pytest.fixture(scope="module")
def batches(spark, files):
    """One evaluation per partition count, shared by the tests that only read it."""
    made = {}

    def get(partitions: int):
        if partitions not in made:
            made[partitions] = evaluate(str(files[0]), str(files[1]), as_of=AS_OF, spark=spark, partitions=partitions)
        return made[partitions]

    yield get
    for batch in made.values():
        batch.unpersist()


@pytest.mark.parametrize("partitions", [1, 2, 7])
def test_tables_equal_the_single_machine_batch(spark, files, single, batches, partitions):
    population, expected = single
    assert population.errors.height >= 8  # the bad rows are there to be found
    assert (population.errors.get_column("table") == "merged").sum() == 1  # the event listed twice
    assert population.not_evaluated_counts() == {"errors": 2, "duplicate": 2}  # bad cell and conflicting events; the pair
    assert expected["notes"].frame.height == 3 and expected["entities"].frame.height == N
    batch = batches(partitions)
    assert spark.read.parquet(str(files[0])).rdd.getNumPartitions() > 1  # the duplicate's rows came from different splits
    accounting = batch.check()
    assert accounting["input_records"] == {"enterprises": N + 1, "events": population.rows_in["events"]}
    assert accounting["blank_records"] == {"enterprises": 1, "events": 0}
    assert accounting["population"]["duplicate_code_rows"] == 2
    # the unknown code, the blank one, and the events of row 231's own code (that row now repeats row 3's)
    assert accounting["population"]["events_without_enterprise"] == 3
    stats = accounting["stats"]
    assert stats["fallback"] == 1 and stats["enterprises_evaluated"] == population.entities.height
    assert (stats["rows_in_enterprises"], stats["rows_in_events"]) == (population.rows_in["enterprises"], population.rows_in["events"])
    assert stats["rows_with_errors"] == population.error_rows
    assert list(batch.tables) == list(expected)
    for key, table in expected.items():
        _assert_same(_collect(batch.tables[key]), table.frame, key, ordered=key.startswith("summary") or key in ("rules", "notes"))
        assert batch.money[key] == table.money


def test_cli_writes_the_single_machine_parquet_values(spark, files, tmp_path, capsys):
    """With a claim period: every table (the round's too) and the manifest's account of the round."""
    out = tmp_path / "spark_out"
    code = main(["batch", str(files[0]), "--events", str(files[1]), "--engine", "spark", "--master", "local[2]",
                 "-o", str(out), "--as-of", AS_OF.isoformat(), "--period", "2016-01-01..2021-12-31"])
    assert code == 5  # finished, some rows had errors
    assert "「备注」" in capsys.readouterr().out  # the column not read is named, as huiqi batch names it
    reference = run_batch(*files, as_of=AS_OF, out=tmp_path / "single", fmt="parquet", period="2016-01-01..2021-12-31")
    mine = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stable"]
    theirs = reference.manifest["stable"]
    assert mine["round"] == theirs["round"] and mine["round"]["events_outside_period"] > 0
    assert mine["rows"] == theirs["rows"] and mine["results"] == theirs["results"]
    assert mine["inputs"] == theirs["inputs"] and mine["notes"] == theirs["notes"]
    assert sorted(p.name for p in reference.files) == sorted(f for f in os.listdir(out) if not f.startswith("."))
    for path in reference.files:
        if path.suffix != ".parquet":
            continue
        got = pl.read_parquet(out / path.name / "*.parquet")
        expected = _plain(pl.read_parquet(path))
        _assert_same(got, expected, path.name, ordered=path.name.startswith(("summary", "rules", "notes")))


def test_a_table_name_without_files_is_numbered_in_its_own_order(spark, files, single):
    """A catalogue table (here a temporary view of an in-memory DataFrame): rows numbered 1… in the DataFrame's
    order and named after the table; the results are the same."""
    _, expected = single
    rows = pl.read_parquet(files[0])
    spark.createDataFrame(rows.to_pandas()).createOrReplaceTempView("huiqi_enterprises")
    batch = evaluate("huiqi_enterprises", str(files[1]), as_of=AS_OF, spark=spark, partitions=2)
    batch.check()
    _assert_same(_collect(batch.tables["lines"]), expected["lines"].frame, "lines", ordered=False)
    errors = _collect(batch.tables["errors"]).filter(pl.col("文件") == "enterprises")
    mine = expected["errors"].frame.filter(pl.col("文件") == "ents.parquet")
    assert sorted(errors.get_column("行号").to_list()) == sorted(mine.get_column("行号").to_list())
    batch.unpersist()


def test_unusable_input_is_exit_3_with_a_plain_message(spark, files, tmp_path, capsys):
    no_city = tmp_path / "no_city.parquet"
    pl.read_parquet(files[0]).drop("city").write_parquet(no_city)
    no_date = tmp_path / "no_date.parquet"
    pl.read_parquet(files[1]).drop("date").write_parquet(no_date)
    cases = [(tmp_path / "missing.parquet", files[1], "cannot read"), (no_city, files[1], "required column(s) missing: city"),
             (files[0], no_date, "lacks required column(s): date")]
    for ents, evs, message in cases:
        code = main(["batch", str(ents), "--events", str(evs), "--engine", "spark", "-o", str(tmp_path / "out"),
                     "--as-of", AS_OF.isoformat()])
        assert code == 3
        err = capsys.readouterr().err
        assert "Traceback" not in err and message in err
    assert not (tmp_path / "out").exists()


def test_a_lost_row_fails_the_accounting(batches):
    batch = batches(2)
    events = batch.inputs["events"]
    # Spark now counts one event row more than the groups received: as if the shuffle had lost one
    tampered = replace(batch, inputs={**batch.inputs, "events": events.unionByName(events.limit(1))}, accounting=None)
    with pytest.raises(AccountingError, match="events: Spark counts"):
        tampered.check()


def test_each_partition_evaluates_exactly_one_bucket(spark):
    values = list(range(-3, 40)) + [2**40 + 7, -(2**50)]
    frame = spark.createDataFrame([(v,) for v in values], "v long").select("v", F.hash("v").alias("h"))
    assert {r["v"]: r["h"] for r in frame.collect()} == {v: spark_hash_long(v) for v in values}
    keys = spark.range(0, 500).select(F.concat(F.lit("91"), F.col("id").cast("string")).alias(KEY))
    spread = (keys.withColumn(BUCKET, _bucket_expr(7)).repartition(7, BUCKET)
              .groupBy(F.spark_partition_id().alias("p")).agg(F.countDistinct(BUCKET).alias("buckets")).collect())
    assert sorted((r["p"], r["buckets"]) for r in spread) == [(p, 1) for p in range(7)]


def test_events_in_two_files_meet_their_enterprise(spark, files, single, tmp_path):
    """A folder of event files: an enterprise's events from both files are counted, in file then row order."""
    folder = tmp_path / "events"
    folder.mkdir()
    evs = pl.read_parquet(files[1])
    evs.slice(0, evs.height // 2).write_parquet(folder / "a.parquet")
    evs.slice(evs.height // 2).write_parquet(folder / "b.parquet")
    batch = evaluate(str(files[0]), str(folder), as_of=AS_OF, spark=spark, partitions=2)
    batch.check()
    _, expected = single
    for key in ("lines", "undetermined", "superseded", "requirements", "withheld", "summary_rules"):
        _assert_same(_collect(batch.tables[key]), expected[key].frame, key, ordered=key.startswith("summary"))
    errors = _collect(batch.tables["errors"])
    assert set(errors.get_column("文件")) == {"ents.parquet", "a.parquet", "b.parquet"}
    batch.unpersist()


def test_a_claim_round_gives_the_single_machine_round_tables(spark, files):
    """A claim period and a ledger holding three of the period's lines (read once on the driver, shipped to the
    groups): the round's tables and columns equal the single-machine batch's, in English (the CLI test checks the
    manifest)."""
    window = (date(2016, 1, 1), date(2021, 12, 31))
    ruleset, period = resolve_rules(None), as_period(window, AS_OF)
    population = read_population(*files)
    first = evaluate_population(population, AS_OF, ruleset, period=period)
    paid = first.lines.filter(pl.col("amount") > 0).head(3)
    codes = population.entities.get_column("credit_code").gather(paid.get_column("eid"))
    ledger = InMemoryClaims([PaidClaim(code, key, rule, Decimal(fen) / 100, "paid", "2020年度", recorded_at="2022-01-05")
                             for code, key, rule, fen in zip(codes, paid.get_column("once_key"), paid.get_column("rule"),
                                                             paid.get_column("amount"))])
    results = evaluate_population(population, AS_OF, ruleset, period=period, ledger=ledger)
    expected = {t.key: t for t in output_tables(population, results, ruleset, AS_OF, "en", round_=Round(period, ledger))}
    assert {"to_pay", "to_complete", "paid", "outside"} <= set(expected) and expected["paid"].frame.height == 3
    assert expected["outside"].frame.height > 0
    batch = evaluate(str(files[0]), str(files[1]), as_of=AS_OF, spark=spark, partitions=2, period=window, ledger=ledger,
                     lang="en")
    assert list(batch.tables) == list(expected)
    for key, table in expected.items():
        _assert_same(_collect(batch.tables[key]), table.frame, key, ordered=key.startswith("summary") or key in ("rules", "notes"))
    assert batch.check()["stats"]["paid_lines"] == 3
    batch.unpersist()
