"""The Spark plan: inputs → parsed credit-code keys → co-partitioned groups → the batch's tables as DataFrames.

1. Each input row gets its file name and row number (``_metadata`` of a Parquet scan; other DataFrames are
   numbered in their own order) and its parsed credit code (``parse_column``, vectorised per Arrow batch),
   exactly as the single-machine reader parses it.
2. Both sides are repartitioned by a bucket of that code into ``partitions`` partitions (one bucket per
   partition), so every row sharing a code meets in one group, whatever file or input partition it came from.
3. ``groupBy(bucket).cogroup(...).applyInArrow`` runs ``group.evaluate_group`` (the single-machine reader,
   columnar evaluator and table builder) once per partition; the long-layout result is cached and split into
   one DataFrame per output table, detail tables sorted into input order, summaries added up in Spark (then
   collected, small, for the driver to append their total rows), the notes table's copies dropped.
4. ``SparkBatch.check()`` compares Spark's own counts with what the groups accounted for and checks, over the
   whole population in Spark, that every row with a duplicated code and every event without an enterprise
   is in the errors table.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema
from pyspark.sql.types import LongType, StringType, StructField, StructType

from engine import schema
from engine.batch.read import NOT_EVALUATED_DUPLICATE, NOT_EVALUATED_ERRORS, AccountingError, _Reader
from engine.batch.sources import ENTERPRISES, EVENTS, BadInput, _from_frame
from engine.batch.spark.group import (
    BUCKET,
    CONSTANT,
    DEDUPLICATED,
    FILE,
    KEY,
    ROW,
    STAT_FIELDS,
    STATS,
    SUMMED,
    Setup,
    _plain,
    evaluate_group,
)
from engine.batch.tables import HEADERS, OutputTable, TotalCounts, add_total_row
from engine.claims import ClaimLookup
from engine.credit_code import ALPHABET
from engine.evaluate import resolve_rules
from engine.period import as_period
from engine.results import Period
from engine.rulebook import RuleSet

ROWS_PER_GROUP = 200_000  # enterprises per partition by default: the in-process batch's sweet spot
Source = DataFrame | str | Path


@dataclass
class SparkBatch:
    """The batch's output tables as Spark DataFrames (keys and order as ``engine.batch.tables.output_tables``).

    Money columns (``money[key]``) hold integer fen (LongType); ``write`` turns them into decimal yuan.
    ``check()`` must pass before the results are reported (``write`` calls it).
    """

    spark: SparkSession
    tables: dict[str, DataFrame]
    titles: dict[str, str]
    money: dict[str, tuple[str, ...]]
    inputs: dict[str, DataFrame]
    narrow: dict[str, DataFrame]
    groups: DataFrame
    ruleset: RuleSet
    as_of: date
    lang: str
    partitions: int
    sources: list[Any] = field(default_factory=list)
    driver_notes: list[str] = field(default_factory=list)
    fixed_heights: dict[str, int] = field(default_factory=dict)  # tables whose rows are known on the driver
    accounting: dict | None = None
    round_: Any = None  # the claim round (``engine.batch.run.Round``), or None
    summary_stats: dict = field(default_factory=dict)  # the groups' accounting, summed for the summaries

    def check(self) -> dict:
        """Row accounting with Spark counts; raises ``AccountingError`` when a row is lost or counted twice."""
        if self.accounting is None:
            self.accounting = _check(self)
        return self.accounting

    def unpersist(self) -> None:
        self.groups.unpersist()


def session(master: str | None = None, app: str = "huiqi batch", conf: dict[str, str] | None = None) -> SparkSession:
    """A SparkSession with Arrow on (``master`` None: whatever spark-submit or the environment says, else local[*])."""
    builder = SparkSession.builder.appName(app).config("spark.sql.execution.arrow.pyspark.enabled", "true")
    if master is not None:
        builder = builder.master(master)
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def evaluate(enterprises: Source, events: Source | None = None, *, as_of: date, rules: RuleSet | str | Path | None = None,
             lang: str = "zh", spark: SparkSession | None = None, partitions: int | None = None,
             period: Period | tuple[date, date] | str | None = None, ledger: ClaimLookup | None = None) -> SparkBatch:
    """Evaluate a population held by Spark (DataFrames, table names or Parquet paths); see the module docstring.

    ``partitions``: groups to evaluate (default: enough for ``ROWS_PER_GROUP`` enterprises each, at least the
    cluster's default parallelism). ``period`` / ``ledger``: a claim round, as ``run_batch`` takes them; the
    ledger is read once here (``claims_frame()``) and shipped to every group. Raises ``BadInput`` for unusable
    input (missing columns…), as the single-machine batch does, and ``engine.period.PeriodError`` for a period
    ending after ``as_of``. The groups are evaluated once, here (cached): the summaries are added up and their
    total rows appended on the driver; the detail tables are Spark DataFrames over that cache.
    """
    if not isinstance(as_of, date):
        raise TypeError("as_of must be a datetime.date")
    if lang not in ("zh", "en"):
        raise ValueError("lang must be zh or en")
    spark = spark or SparkSession.builder.getOrCreate()
    ruleset = resolve_rules(rules)
    ents = _numbered(spark, enterprises, "enterprises")
    evs = _numbered(spark, events, "events") if events is not None else None
    chosen = as_period(period, as_of)
    claims = ledger.claims_frame() if ledger is not None else None  # one query for the whole run
    round_on = chosen is not None or ledger is not None
    setup = Setup(ruleset, as_of, lang, period=chosen, claims=claims, in_round=round_on)
    # The driver runs the group function on no rows: validates headers (BadInput) and fixes the output layout.
    zone = spark.conf.get("spark.sql.session.timeZone")  # Spark hands timestamps to Arrow in the session's zone
    empty = {kind: to_arrow_schema(df.schema, timezone=zone).empty_table() for kind, df in ((ENTERPRISES, ents), (EVENTS, evs))
             if df is not None}
    layout, population, outputs = evaluate_group(empty[ENTERPRISES], empty.get(EVENTS), setup)
    spark_schema = from_arrow_schema(layout.schema)
    setup = Setup(ruleset, as_of, lang, to_arrow_schema(spark_schema, timezone=zone), chosen, claims, round_on)
    if partitions is None:
        partitions = max(spark.sparkContext.defaultParallelism, math.ceil(ents.count() / ROWS_PER_GROUP))
    if partitions < 1:
        raise ValueError("partitions must be a positive number")
    bucket = _bucket_expr(partitions)
    keyed = {ENTERPRISES: _keyed(ents, ENTERPRISES, bucket, zone)}
    if evs is not None:
        keyed[EVENTS] = _keyed(evs, EVENTS, bucket, zone)
    # the whole-population checks parse the code column alone again (a narrow scan) instead of caching every row
    narrow = {kind: _keyed(df.select(F.col(f"`{_code_column(df, kind)}`"), FILE, ROW), kind, bucket, zone) for kind, df in
              ((ENTERPRISES, ents), (EVENTS, evs)) if df is not None}
    left = keyed[ENTERPRISES].repartition(partitions, BUCKET)
    if evs is not None:
        right = keyed[EVENTS].repartition(partitions, BUCKET)

        def run(enterprises: pa.Table, events: pa.Table) -> pa.Table:
            return evaluate_group(enterprises, events, setup)[0]

        groups = left.groupBy(BUCKET).cogroup(right.groupBy(BUCKET)).applyInArrow(run, spark_schema)
    else:
        def run_alone(enterprises: pa.Table) -> pa.Table:
            return evaluate_group(enterprises, None, setup)[0]

        groups = left.groupBy(BUCKET).applyInArrow(run_alone, spark_schema)
    groups = groups.persist(StorageLevel.MEMORY_AND_DISK)
    tables, titles, money = {}, {}, {}
    stats = _stats(groups)
    summaries = _summaries(groups, outputs, stats, lang)
    for table in outputs:
        titles[table.key], money[table.key] = table.title, table.money
        if table.key in CONSTANT:
            tables[table.key] = _driver_frame(spark, table.frame)
        elif table.key in SUMMED:
            tables[table.key] = _driver_frame(spark, summaries[table.key])
        elif table.key in DEDUPLICATED:
            rows = groups.where(F.col("_table") == table.key).select(F.col(f"`{table.key}`.*"), "_f", "_r").distinct()
            tables[table.key] = rows.orderBy("_f", "_r").drop("_f", "_r").coalesce(1)
        else:
            # input order within each partition (partitions follow credit-code buckets): no global sort to pay for
            rows = groups.where(F.col("_table") == table.key).select(F.col(f"`{table.key}`.*"), "_f", "_r", "_i")
            tables[table.key] = rows.sortWithinPartitions("_f", "_r", "_i").drop("_f", "_r", "_i")
    from engine.batch.run import Round

    return SparkBatch(spark, tables, titles, money, {ENTERPRISES: ents, **({EVENTS: evs} if evs is not None else {})}, narrow,
                      groups, ruleset, as_of, lang, partitions, [enterprises, events], population.notes,
                      {**{t.key: t.frame.height for t in outputs if t.key in CONSTANT},
                       **{key: frame.height for key, frame in summaries.items()}},
                      round_=Round(chosen, setup.ledger()) if round_on else None, summary_stats=stats)


def _driver_frame(spark: SparkSession, frame: pl.DataFrame) -> DataFrame:
    """A small table made on the driver as a Spark DataFrame (types as the groups' tables have them)."""
    arrow = _plain(frame).to_arrow(compat_level=pl.CompatLevel.oldest())
    return spark.createDataFrame(arrow.to_pandas(), schema=from_arrow_schema(arrow.schema))


# -- inputs ---------------------------------------------------------------------------------------------

def _read(spark: SparkSession, source: Source) -> DataFrame:
    """A DataFrame as given, Parquet at a path (file, folder, hdfs://, s3a://…), or a table of the catalogue."""
    if isinstance(source, DataFrame):
        return source
    text = str(source)
    try:
        if isinstance(source, Path) or "/" in text or "://" in text or text.lower().endswith((".parquet", ".pq")) \
                or Path(text).exists():
            return spark.read.parquet(text)
        return spark.table(text)
    except AnalysisException as exc:  # no such path or table, not Parquet…: unusable input, not a crash
        reason = str(exc).splitlines()[0]
        raise BadInput(f"无法读取 {text}（需要 Parquet 文件、目录或表名）：{reason}",
                       f"cannot read {text} (a Parquet file, folder or table name is needed): {reason}") from None


def _numbered(spark: SparkSession, source: Source, name: str) -> DataFrame:
    """The input with ``_file`` and ``_row``: the Parquet file's name and 1-based record number when Spark scans
    files; otherwise ``name`` and the position in the DataFrame's own order (partition by partition)."""
    df = _read(spark, source)
    for meta in (FILE, ROW, KEY, BUCKET):
        if meta in df.columns:
            raise BadInput(f"{name}：列名 {meta} 为内部保留", f"{name}: column name {meta} is reserved")
    if df.inputFiles():  # scanned from files: Spark knows each row's file and record number
        try:
            return df.select("*", F.col("_metadata.file_name").alias(FILE), (F.col("_metadata.row_index") + 1).alias(ROW))
        except AnalysisException:  # transformed past the scan: number rows in the DataFrame's order instead
            pass
    with_id = df.withColumn("_mid", F.monotonically_increasing_id())
    part = F.shiftright("_mid", 33)
    counts = sorted(with_id.groupBy(part.alias("_pid")).count().collect())
    offsets, total = [], 0
    for pid, count in counts:
        offsets.append((pid, total))
        total += count
    starts = spark.createDataFrame(offsets or [(0, 0)], "_pid long, _start long")
    numbered = with_id.join(F.broadcast(starts), part == F.col("_pid"), "left")
    return numbered.select(*[F.col(f"`{c}`") for c in df.columns], F.lit(name).alias(FILE),
                           (F.col("_start") + F.col("_mid") - F.shiftleft(part, 33) + 1).alias(ROW))


def _code_column(df: DataFrame, kind: str) -> str:
    """The data column holding the credit code, found by the single-machine reader's own header mapping."""
    data = [c for c in df.columns if c not in (FILE, ROW)]
    frame = pl.DataFrame(schema={c: pl.String for c in data})
    reader = _Reader([_from_frame(frame, kind, kind, kind, 0)], [])
    if kind == ENTERPRISES:
        found = reader.map_headers(0, schema.ENTITY_HEADERS)
    else:
        found = reader.map_headers(0, schema.EVENT_HEADERS, {"credit_code": "credit_code", "name": "_name"})
    return data[found["credit_code"]]


def _keyed(df: DataFrame, kind: str, bucket, zone: str) -> DataFrame:
    """``_key``: the credit code as the reader parses it (enterprises with check characters, events without);
    rows without one get a key of their own (they meet no other row). ``_bucket``: its partition.

    Event codes already in the strict form (18 characters of GB 32100's alphabet) parse to themselves, so
    they are keyed in the JVM; only the other event rows, and every enterprise row (whose check character
    decides whether it has a code at all), go through ``parse_column`` in Python."""
    column = _code_column(df, kind)
    check = kind == ENTERPRISES
    out_schema = StructType([*df.schema.fields, StructField(KEY, StringType())])  # add() would change df.schema

    def keys(batches):
        from engine.batch.cells import parse_column

        spec = schema.ENTITY_BY_NAME["credit_code"]
        target = to_arrow_schema(out_schema, timezone=zone)
        for batch in batches:
            frame = pl.from_arrow(batch)
            raw = frame.get_column(column)
            if raw.dtype == pl.String:
                raw = raw.replace("", None)
            parsed = parse_column(spec, raw, check=check).values.cast(pl.String)
            alone = pl.concat_str([pl.lit("\x00"), frame.get_column(FILE), pl.lit(":"), frame.get_column(ROW).cast(pl.String)])
            key = pl.select(pl.coalesce(parsed, alone)).to_series().alias(KEY)
            out = pa.RecordBatch.from_arrays([*batch.columns, key.to_arrow(compat_level=pl.CompatLevel.oldest())],
                                             names=[*batch.schema.names, KEY])
            yield out.cast(target)

    if check or not isinstance(df.schema[column].dataType, StringType):
        return df.mapInArrow(keys, out_schema).withColumn(BUCKET, bucket)
    strict = F.coalesce(F.col(f"`{column}`").rlike(f"^[{ALPHABET}]{{18}}$"), F.lit(False))
    fast = df.where(strict).withColumn(KEY, F.col(f"`{column}`"))
    slow = df.where(~strict).mapInArrow(keys, out_schema)
    return fast.unionByName(slow).withColumn(BUCKET, bucket)


def _bucket_expr(partitions: int):
    """Bucket value per key such that Spark's hash partitioning into ``partitions`` sends bucket b to partition b
    (one group per partition, none left empty by hash collisions): for each b the smallest id hashing onto b."""
    first: dict[int, int] = {}
    candidate = 0
    while len(first) < partitions:
        first.setdefault(spark_hash_long(candidate) % partitions, candidate)
        candidate += 1
    values = F.array(*[F.lit(first[p]).cast(LongType()) for p in range(partitions)])
    return F.element_at(values, (F.pmod(F.xxhash64(KEY), F.lit(partitions)) + 1).cast("int"))


def spark_hash_long(value: int, seed: int = 42) -> int:
    """Spark's ``hash()`` of a bigint (Murmur3_x86_32.hashLong, seed 42), as HashPartitioning computes it."""
    mask = 0xFFFFFFFF

    def rotl(x: int, r: int) -> int:
        return ((x << r) | (x >> (32 - r))) & mask

    def mix_k1(k1: int) -> int:
        return (rotl((k1 * 0xCC9E2D51) & mask, 15) * 0x1B873593) & mask

    def mix_h1(h1: int, k1: int) -> int:
        return (rotl(h1 ^ k1, 13) * 5 + 0xE6546B64) & mask

    h1 = mix_h1(seed & mask, mix_k1(value & mask))
    h1 = mix_h1(h1, mix_k1((value >> 32) & mask)) ^ 8
    h1 ^= h1 >> 16
    h1 = (h1 * 0x85EBCA6B) & mask
    h1 ^= h1 >> 13
    h1 = (h1 * 0xC2B2AE35) & mask
    h1 ^= h1 >> 16
    return h1 - (1 << 32) if h1 & 0x80000000 else h1


# -- summaries ----------------------------------------------------------------------------------------------

def _stats(groups: DataFrame) -> dict[str, int]:
    """The groups' accounting (``group.STAT_FIELDS``), summed in Spark."""
    row = groups.where(F.col("_table") == STATS).agg(
        *[F.sum(f"{STATS}.{c}").cast(LongType()).alias(c) for c in STAT_FIELDS]).collect()[0]
    return {c: int(row[c] or 0) for c in STAT_FIELDS}


def _summaries(groups: DataFrame, outputs: list[OutputTable], stats: dict[str, int], lang: str) -> dict[str, pl.DataFrame]:
    """The three summaries added up over the groups in Spark, collected (small), with the total row the
    single-machine batch ends them with; its distinct-enterprise counts are the groups' own, summed (an
    enterprise's rows all sit in one group), not a column sum."""
    counts = TotalCounts({k: stats[k] for k in ("entities_with_money", "entities_with_support_measures")},
                         {NOT_EVALUATED_ERRORS: stats["not_evaluated_errors"],
                          NOT_EVALUATED_DUPLICATE: stats["not_evaluated_duplicate"]})
    out = {}
    for table in outputs:
        if table.key not in SUMMED:
            continue
        layout = _plain(table.frame).schema
        arrow = _summed(groups, table.key, table.frame.columns).toArrow()
        summed = pl.from_arrow(arrow)
        if not isinstance(summed, pl.DataFrame):
            raise TypeError("expected an Arrow table")
        # no group ran (an input without rows): the driver's run on no rows has the zero rows
        summed = summed.cast(dict(layout)) if summed.height else _plain(table.frame)
        out[table.key] = add_total_row(OutputTable(table.key, table.title, summed, table.money), counts, lang).frame
    return out


def _summed(groups: DataFrame, key: str, columns: list[str]) -> DataFrame:
    """A summary table added up over groups: integer columns summed by the other columns and the row's order."""
    rows = groups.where(F.col("_table") == key).select(F.col(f"`{key}`.*"), "_f", "_r", "_i")
    counts = [c for c in columns if isinstance(rows.schema[c].dataType, LongType)]
    labels = [c for c in columns if c not in counts]
    order = ["_f", "_r"] if key == "summary_rule_city" else ["_i"]
    summed = rows.groupBy(*labels, *order).agg(*[F.sum(F.col(f"`{c}`")).cast(LongType()).alias(c) for c in counts])
    return summed.orderBy(*order).select(*[F.col(f"`{c}`") for c in columns])


# -- accounting -----------------------------------------------------------------------------------------------

def _check(batch: SparkBatch) -> dict:
    # one pass over the cached groups: every table's height and the groups' own accounting, summed
    per_table = batch.groups.groupBy("_table").agg(
        F.count(F.lit(1)).alias("_rows"), *[F.sum(f"{STATS}.{c}").cast(LongType()).alias(c) for c in STAT_FIELDS],
        F.array_sort(F.array_distinct(F.flatten(F.collect_list(f"{STATS}.notes")))).alias("notes")).collect()
    found = {r["_table"]: r for r in per_table}
    stats_row = found.get(STATS)
    stats = {c: int(stats_row[c] or 0) if stats_row is not None else 0 for c in STAT_FIELDS}
    # the groups' notes; the driver's (on no rows) only when no group ran (an input without rows)
    notes = sorted(set(stats_row["notes"] or [])) if stats_row is not None else sorted(set(batch.driver_notes))
    heights = {key: int(found[key]["_rows"]) if key in found else 0 for key in batch.tables
               if key not in SUMMED + CONSTANT + DEDUPLICATED}
    counted = {kind: df.count() for kind, df in batch.inputs.items()}  # Spark's own count of the input records
    counted.setdefault(EVENTS, 0)
    problems = []
    for kind, name in ((ENTERPRISES, "enterprises"), (EVENTS, "events")):
        if stats[f"received_{name}"] != counted[kind]:
            problems.append(f"{kind}: Spark counts {counted[kind]} input rows, the groups received {stats[f'received_{name}']}")
        if stats[f"accounted_{name}"] != stats[f"rows_in_{name}"]:
            problems.append(f"{kind}: {stats[f'rows_in_{name}']} rows in, {stats[f'accounted_{name}']} accounted")
    if {k: v for k, v in stats.items() if k != "group_ms"} != {k: v for k, v in batch.summary_stats.items() if k != "group_ms"}:
        problems.append("the groups' accounting differs from the one the summaries were made with")
    # 企业汇总 lists every enterprise row: the evaluated ones and the ones not evaluated
    expected = {"entities": ("enterprises_evaluated", "not_evaluated_errors", "not_evaluated_duplicate"),
                "errors": ("error_messages",), "lines": ("benefit_lines",), "undetermined": ("undetermined",),
                "requirements": ("requirements_checked",), "withheld": ("withheld",), "superseded": ("superseded",),
                "to_pay": ("payable_lines",), "to_complete": ("undetermined",), "paid": ("paid_lines",),
                "outside": ("outside",)}
    for key, names in expected.items():
        if key not in batch.tables:
            continue
        made = sum(stats[n] for n in names)
        if heights.get(key, 0) != made:
            problems.append(f"{key} table holds {heights.get(key, 0)} rows, the groups made {made}")
    population = _population_checks(batch)
    for what, missing in population.pop("missing").items():
        if missing:
            problems.append(f"{missing} {what} not in the errors table")
    if problems:
        raise AccountingError("; ".join(problems))
    blank = {kind: counted[kind] - stats[f"rows_in_{name}"] for kind, name in ((ENTERPRISES, "enterprises"), (EVENTS, "events"))}
    return {"stats": stats, "notes": notes, "input_records": counted, "blank_records": blank, "heights": heights,
            "population": population}


def _population_checks(batch: SparkBatch) -> dict:
    """Whole-population facts found in Spark, independently of the groups (one job): enterprise rows whose
    credit code another enterprise row has too, and event rows whose code no enterprise row has. Every such
    row must be in the errors table."""
    i = 1 if batch.lang == "en" else 0
    errors = (batch.tables["errors"].select(F.col(f"`{HEADERS['source'][i]}`").alias(FILE), F.col(f"`{HEADERS['row'][i]}`")
                                            .alias(ROW)).distinct().withColumn("_error", F.lit(True)))
    sides = [batch.narrow[ENTERPRISES].select(KEY, FILE, ROW, F.lit(1).alias("_e"))]
    if EVENTS in batch.narrow:
        sides.append(batch.narrow[EVENTS].select(KEY, FILE, ROW, F.lit(0).alias("_e")))
    rows = sides[0] if len(sides) == 1 else sides[0].unionByName(sides[1])
    per_key = rows.groupBy(KEY).agg(F.sum("_e").alias("_n"))
    flagged = (rows.join(per_key, KEY).where(((F.col("_e") == 1) & (F.col("_n") > 1)) | ((F.col("_e") == 0) & (F.col("_n") == 0)))
               .join(errors, [FILE, ROW], "left"))
    dup, orphan = (F.col("_e") == 1), (F.col("_e") == 0)
    unreported = F.col("_error").isNull()
    result = flagged.agg(F.sum(dup.cast("long")), F.sum(orphan.cast("long")), F.sum((dup & unreported).cast("long")),
                         F.sum((orphan & unreported).cast("long"))).collect()[0]
    values = [int(v or 0) for v in result]
    return {"duplicate_code_rows": values[0], "events_without_enterprise": values[1],
            "missing": {"duplicate-code rows": values[2], "events without an enterprise": values[3]}}


def default_partitions() -> int | None:
    value = os.environ.get("HUIQI_SPARK_PARTITIONS")
    return int(value) if value else None


__all__ = ["SparkBatch", "evaluate", "session"]
