"""Events listed twice, over a whole population at once: the columnar side of ``engine.once.distinct_events``.

An event identical in every field to an earlier event of the same enterprise is *merged*: it stays in the
events table (positions and the per-profile view are unchanged) with ``_merged`` = the index of the first,
is never counted, and gets a note row. Two events with one type and reference that differ otherwise make
the enterprise a *conflict*: it is not evaluated. ``_ordinal`` numbers the distinct ref-less events of one
type and date, for their once-keys.
"""

from __future__ import annotations

import polars as pl

MERGED = "merged"  # the errors table's "table" value of a note on a merged duplicate (not an error row)
MERGED_ACTION = ("与同一企业的一条事件完全相同，已合并，只计一次", "identical to another event of the same enterprise: merged, counted once")
_NOT_IDENTITY = frozenset({"_t", "_p", "row", "eid", "idx", "_merged", "_ordinal"})


def identity_columns(events: pl.DataFrame) -> list[str]:
    """The columns that make an event what it is: type, date, reference and every field."""
    return [c for c in events.columns if c not in _NOT_IDENTITY]


def _has_ref() -> pl.Expr:
    return pl.col("ref").is_not_null() & (pl.col("ref") != "")


def conflicted(events: pl.DataFrame) -> list[int]:
    """Enterprises (eid) with two distinct events of one type and reference."""
    if not events.height:
        return []
    fields = identity_columns(events)
    distinct = events.filter(pl.struct(["eid", *fields]).is_first_distinct() & _has_ref())
    clash = distinct.filter(pl.len().over(["eid", "type", "ref"]) > 1)
    return sorted(set(clash.get_column("eid").to_list()))


def mark(events: pl.DataFrame) -> pl.DataFrame:
    """``events`` (sorted by eid, idx) with ``_merged`` (index of the first identical event, or null) and ``_ordinal``."""
    fields = identity_columns(events)
    if not events.height:
        return events.with_columns(pl.lit(None, dtype=pl.Int64).alias("_merged"), pl.lit(1, dtype=pl.Int64).alias("_ordinal"))
    first = pl.struct(["eid", *fields]).is_first_distinct()
    events = events.with_columns(
        pl.when(first).then(None).otherwise(pl.col("idx").first().over(["eid", *fields])).cast(pl.Int64).alias("_merged"))
    refless = events.filter(pl.col("_merged").is_null() & ~_has_ref()).select(
        "eid", "idx", (pl.int_range(pl.len()).over(["eid", "type", "date"]) + 1).cast(pl.Int64).alias("_ordinal"))
    return (events.join(refless, on=["eid", "idx"], how="left", maintain_order="left")
            .with_columns(pl.col("_ordinal").fill_null(1)))


def merged_notes(events: pl.DataFrame) -> pl.DataFrame:
    """One row per merged duplicate: its table/position and the sheet and row of the event it repeats."""
    firsts = events.select("eid", pl.col("idx").alias("_merged"), pl.col("_t").alias("_ft"), pl.col("row").alias("_frow"))
    return (events.filter(pl.col("_merged").is_not_null())
            .join(firsts, on=["eid", "_merged"], how="left", maintain_order="left")
            .select("_t", "_p", "_ft", "_frow"))
