"""A ``SparkBatch`` → ``OUT/<table>.parquet/`` (Spark part files) + ``OUT/manifest.json``, after the row accounting.

Money columns are written as decimal(20,2) yuan, computed from integer fen in decimal arithmetic, as the
single-machine Parquet writer does. Written into a staging folder next to OUT through Hadoop's FileSystem
(local disk, HDFS, S3…) and renamed into place, so a failed run leaves the previous output or none.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from pathlib import Path

import polars as pl
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType

from engine.batch.manifest import run_part, stable_from_counts
from engine.batch.money import plain_yuan
from engine.batch.read import NOT_EVALUATED_DUPLICATE, NOT_EVALUATED_ERRORS, NOT_READ
from engine.batch.run import BatchResult, round_summary
from engine.batch.sources import ENTERPRISES, EVENTS
from engine.batch.spark.job import SparkBatch
from engine.batch.tables import HEADERS
from engine.batch.write import _json

# the detail tables, written as Spark's part files; every other table is small and written as one file
DETAIL = ("lines", "entities", "undetermined", "requirements", "withheld", "superseded", "to_pay", "to_complete", "paid",
          "outside", "errors")


def yuan(batch: SparkBatch, key: str):
    """Table ``key`` with its money columns as decimal(20,2) yuan (fen × 0.01, exact)."""
    df = batch.tables[key]
    cent = F.lit(Decimal("0.01")).cast(DecimalType(3, 2))
    money = set(batch.money[key])
    return df.select(*[(F.col(f"`{c}`").cast(DecimalType(20, 0)) * cent).cast(DecimalType(20, 2)).alias(c) if c in money
                       else F.col(f"`{c}`") for c in df.columns])


def write(batch: SparkBatch, out: str | Path, *, started: float | None = None, timings: dict | None = None) -> BatchResult:
    """Check the accounting, then write every table and the manifest; returns what ``run_batch`` returns."""
    started = time.perf_counter() if started is None else started
    timings = dict(timings or {})
    mark = time.perf_counter()
    accounting = batch.check()
    timings["check"] = time.perf_counter() - mark  # the groups ran in ``evaluate`` (the caller times that)
    mark = time.perf_counter()
    fs, target = _fs(batch, str(out))
    jvm = batch.spark.sparkContext._jvm
    staging = jvm.org.apache.hadoop.fs.Path(target.getParent(), f".{target.getName()}.{uuid.uuid4().hex}.tmp")
    try:
        outputs = []
        for key in batch.tables:  # in the single-machine batch's sheet order
            folder = f"{key}.parquet"
            df = yuan(batch, key)
            if key not in DETAIL:
                df = df.coalesce(1)  # summaries, notes and the rules table are small: one file each
            df.write.option("compression", "zstd").parquet(staging.toString() + "/" + folder)
            outputs.append({"file": folder, "rows": _height(batch, accounting, key, df)})
        timings["write"] = time.perf_counter() - mark
        manifest = _manifest(batch, accounting, outputs, timings, started)
        stream = fs.create(jvm.org.apache.hadoop.fs.Path(staging, "manifest.json"), True)
        stream.write(bytearray(_json(manifest).encode("utf-8")))
        stream.close()
        _swap(fs, jvm, staging, target)
    except BaseException:
        fs.delete(staging, True)
        raise
    stats = accounting["stats"]
    rows_in = {ENTERPRISES: stats["rows_in_enterprises"], EVENTS: stats["rows_in_events"]}
    accounted = {ENTERPRISES: stats["accounted_enterprises"], EVENTS: stats["accounted_events"]}
    base = Path(str(out))
    files = [base / o["file"] for o in outputs] + [base / "manifest.json"]
    return BatchResult(base, files, manifest, rows_in, accounted, stats["rows_with_errors"], timings, _ignored(batch))


def _ignored(batch: SparkBatch) -> list[tuple[str, str]]:
    """(sheet, column) of every input column not read (``engine.batch.run.ignored_columns`` on the notes table)."""
    i = 1 if batch.lang == "en" else 0
    sheet, column, action = (HEADERS[k][i] for k in ("sheet", "column", "action"))
    notes = pl.from_arrow(batch.tables["notes"].toArrow())
    if not isinstance(notes, pl.DataFrame) or not notes.height:
        return []
    return list(notes.filter(pl.col(action) == NOT_READ[i]).select(sheet, column).iter_rows())


def _height(batch: SparkBatch, accounting: dict, key: str, df) -> int:
    """Rows of a written table: counted during the accounting, fixed by the rule base, or counted now."""
    if key in accounting["heights"]:
        return accounting["heights"][key]
    if key in batch.fixed_heights:
        return batch.fixed_heights[key]
    return df.count()


def _fs(batch: SparkBatch, out: str):
    jvm = batch.spark.sparkContext._jvm
    conf = batch.spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(out)
    fs = path.getFileSystem(conf)
    path = fs.makeQualified(path)
    if fs.exists(path) and not fs.getFileStatus(path).isDirectory():
        raise NotADirectoryError(f"{out} is a file; the Spark batch writes a folder")
    fs.mkdirs(path.getParent())
    return fs, path


def _swap(fs, jvm, staging, target) -> None:
    """Staging folder → OUT; a previous OUT is moved aside first and removed after."""
    old = None
    if fs.exists(target):
        old = jvm.org.apache.hadoop.fs.Path(target.getParent(), f".{target.getName()}.{uuid.uuid4().hex}.old")
        if not fs.rename(target, old):
            raise OSError(f"cannot move the previous output {target.toString()} aside")
    if not fs.rename(staging, target):
        if old is not None:
            fs.rename(old, target)
        raise OSError(f"cannot move the output into {target.toString()}")
    if old is not None:
        fs.delete(old, True)


def _manifest(batch: SparkBatch, accounting: dict, outputs: list[dict], timings: dict, started: float) -> dict:
    stats, population = accounting["stats"], accounting["population"]
    rows_in = {ENTERPRISES: stats["rows_in_enterprises"], EVENTS: stats["rows_in_events"]}
    accounted = {ENTERPRISES: stats["accounted_enterprises"], EVENTS: stats["accounted_events"]}
    rows = {"in": rows_in, "accounted": accounted, "balanced": accounted == rows_in,
            "enterprises_evaluated": stats["enterprises_evaluated"],
            "enterprises_not_evaluated": {NOT_EVALUATED_ERRORS: stats["not_evaluated_errors"],
                                          NOT_EVALUATED_DUPLICATE: stats["not_evaluated_duplicate"]},
            "events_counted": stats["events_counted"],
            "rows_with_errors": stats["rows_with_errors"], "error_messages": stats["error_messages"],
            "evaluated_by_per_profile_engine": stats["fallback"]}
    counts = _result_counts(stats)
    local = [Path(str(s)) for s in batch.sources if s is not None and not hasattr(s, "schema") and Path(str(s)).is_file()]
    stable = stable_from_counts(local, rows, counts, accounting["notes"], batch.ruleset, batch.as_of, "parquet", batch.lang,
                                outputs)
    others = [s for s in batch.sources if s is not None and (hasattr(s, "schema") or not Path(str(s)).is_file())]
    stable["inputs"] += [{"source": "DataFrame" if hasattr(s, "schema") else str(s)} for s in others]
    stable["byte_identical"] = ("this 'stable' object and every table's values and order within each part file are the same "
                                "on a re-run with the same inputs, rules, as-of date, language and partition count; "
                                "Parquet part files are written by Spark and their bytes are not promised; 'run' is not")
    if batch.round_ is not None:
        stable["round"] = round_summary(batch.round_, {k: stats[k] for k in ("new_lines", "new_fen", "paid_lines", "paid_fen",
                                                                              "outside")})
    stable["spark"] = {"input_records": accounting["input_records"], "blank_records": accounting["blank_records"],
                       "duplicate_code_rows": population["duplicate_code_rows"],
                       "events_without_enterprise": population["events_without_enterprise"]}
    run = run_part(timings, time.perf_counter() - started, None)
    run.update(engine="spark", spark=batch.spark.version, master=batch.spark.sparkContext.master, partitions=batch.partitions,
               group_seconds=round(stats["group_ms"] / 1000, 3))
    return {"stable": stable, "run": run}


def _result_counts(stats: dict) -> dict:
    """The manifest's result counts, summed in Spark over the groups (checked against the tables' heights)."""
    first = ("entities_with_money", "entities_with_support_measures", "benefit_lines")
    names = ("undetermined", "requirements_checked", "requirements_violated", "withheld", "superseded")
    return {**{n: stats[n] for n in first}, "total_yuan": plain_yuan(stats["total_fen"]), **{n: stats[n] for n in names}}
