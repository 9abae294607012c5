"""The claim round's tables (``huiqi batch --period … [--ledger …]``): the work lists and what the round left out.

* 待兑现 / To pay — new lines with an amount, by department: enterprise, amount, calculation, citation, once-key;
  ready for approval (a ledger then records them, ``huiqi ledger record``).
* 需补充材料 / Missing facts — each undetermined line with the facts it lacks, worded as a request a clerk can
  send to the enterprise.
* 已兑现 / Already paid — lines whose once-key the ledger holds: when, in which round, how much.
* 申报期外事件 / Outside the period — the events the round did not count (never dropped silently).

The summaries by rule and by city and the entities table gain "already paid" columns (entities also "outside the
period"); the other tables are as without a round.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from engine.batch.tables import HEADERS, OutputTable
from engine.claims import STATUS_WORDS
from engine.round_words import outside_text


def round_tables(builder: Any, tables: list[OutputTable], round_: Any) -> list[OutputTable]:
    """``tables`` with the round's columns added and its four tables before the errors table."""
    by_key = {t.key: t for t in tables}
    by_key["summary_rules"] = _summary_rules(builder, by_key["summary_rules"])
    by_key["entities"] = _entities(builder, round_)  # rebuilt with the round's columns
    by_key["summary_cities"] = _summary_cities(builder, by_key["summary_cities"])
    extra = [_to_pay(builder), _to_complete(builder), _paid(builder)]
    if round_.period is not None:
        extra.append(_outside(builder, round_.period))
    out = []
    for table in tables:
        if table.key == "errors":
            out += extra
        out.append(by_key[table.key])
    return out


def _header(builder: Any, key: str) -> str:
    return HEADERS[key][1 if builder.lang == "en" else 0]


def _summary_rules(builder: Any, table: OutputTable) -> OutputTable:
    paid = builder.res.paid.group_by("rule").agg(pl.len().cast(pl.Int64).alias("paid_lines"),
                                                 pl.col("amount").sum().cast(pl.Int64).alias("paid_total"))
    rules = builder.rule_info.filter(pl.col("kind") != "derived").select("rule")
    extra = rules.join(paid, on="rule", how="left", maintain_order="left").select(
        pl.col("paid_lines").fill_null(0).alias(_header(builder, "paid_lines")),
        pl.col("paid_total").fill_null(0).alias(_header(builder, "paid_total")))
    return OutputTable(table.key, table.title, pl.concat([table.frame, extra], how="horizontal"),
                       (*table.money, _header(builder, "paid_total")))


def _summary_cities(builder: Any, table: OutputTable) -> OutputTable:
    from engine.cities import CITIES

    paid = builder.by_city(builder.res.paid).group_by("city").agg(
        pl.len().cast(pl.Int64).alias("paid_lines"), pl.col("amount").sum().cast(pl.Int64).alias("paid_total"))
    rows = [*CITIES, None]  # as _Builder.summary_cities: the last row, cities not read, was never paid
    extra = pl.DataFrame({"city": rows}, schema={"city": pl.String}).join(paid, on="city", how="left", maintain_order="left").select(
        pl.col("paid_lines").fill_null(0).alias(_header(builder, "paid_lines")),
        pl.col("paid_total").fill_null(0).alias(_header(builder, "paid_total")))
    return OutputTable(table.key, table.title, pl.concat([table.frame, extra], how="horizontal"),
                       (*table.money, _header(builder, "paid_total")))


def _entities(builder: Any, round_: Any) -> OutputTable:
    totals = builder.pop.entities.select("eid").join(builder.res.totals, on="eid", how="left", maintain_order="left")
    columns = [pl.col("eid"), pl.col("paid_lines").fill_null(0), pl.col("paid_total").fill_null(0)]
    if round_.period is not None:
        columns.append(pl.col("outside").fill_null(0))
    return builder.entities(totals.select(columns), money=("paid_total",))  # rows not evaluated: empty


def _to_pay(builder: Any) -> OutputTable:
    lines = builder.res.lines.filter(pl.col("amount").is_not_null())
    departments = builder.rule_info.select("departments").to_series().gather(lines.get_column("rule_pos"))
    frame = builder.detailed(lines).with_columns(departments.alias("departments")).select(
        "departments", "credit_code", "name", "city", "rule", "title", "event_type", "event_date", "event_ref", "event_no",
        "amount", "calculation", "citation", "once_key")
    # by department, then as the benefit lines are ordered (enterprise, rule, event)
    frame = frame.with_row_index("_n").sort("departments", "_n").drop("_n")
    return builder.table("to_pay", frame, ("amount",))


def _to_complete(builder: Any) -> OutputTable:
    labelled = builder.missing_labels(builder.res.undetermined)
    frame = builder.detailed(labelled).with_columns(pl.col("missing").cast(pl.String))
    event = pl.concat_str([pl.col("event_type").cast(pl.String), pl.lit(" "), pl.col("event_ref").fill_null(""),
                           pl.lit(" ("), pl.col("event_date").cast(pl.String), pl.lit(")")])
    if builder.lang == "en":
        about = pl.when(pl.col("event_type").is_not_null()).then(pl.concat_str([pl.lit(" for "), event])).otherwise(pl.lit(""))
        request = pl.concat_str([pl.col("name"), pl.lit(": to decide on "), pl.col("title").cast(pl.String), pl.lit(" ("),
                                 pl.col("citation").cast(pl.String), pl.lit(")"), about,
                                 pl.lit(", please send us: "), pl.col("missing"), pl.lit(".")])
    else:
        about = pl.when(pl.col("event_type").is_not_null()).then(pl.concat_str([pl.lit("（"), event, pl.lit("）")])) \
            .otherwise(pl.lit(""))
        request = pl.concat_str([pl.col("name"), pl.lit("：为核定「"), pl.col("title").cast(pl.String), pl.lit("」（"),
                                 pl.col("citation").cast(pl.String), pl.lit("）"), about, pl.lit("，请补充提供："),
                                 pl.col("missing"), pl.lit("。")])
    frame = frame.select("credit_code", "name", "city", "rule", "title", "event_type", "event_date", "event_ref", "event_no",
                         "missing", request.alias("request"))
    return builder.table("to_complete", frame)


def _paid(builder: Any) -> OutputTable:
    paid = builder.res.paid
    status = {k: v[1] if builder.lang == "en" else v[0] for k, v in STATUS_WORDS.items()}
    frame = builder.detailed(paid).select(
        "credit_code", "name", "city", "rule", "title", "event_type", "event_date", "event_ref", "event_no", "amount",
        "calculation", "once_key", pl.col("status").replace_strict(status, default=pl.col("status")).alias("paid_status"),
        "round_name", "recorded_at", "paid_amount", "paid_rule", "citation")
    return builder.table("paid", frame, ("amount", "paid_amount"))


def _outside(builder: Any, period: Any) -> OutputTable:
    outside = builder.res.outside
    position = (builder.offsets.gather(outside.get_column("eid")) + outside.get_column("idx")).cast(pl.UInt32)
    frame = pl.concat([builder.who.gather(outside.get_column("eid")), builder.event_info.gather(position)], how="horizontal")
    days = frame.get_column("event_date").unique().sort().to_list()
    i = 1 if builder.lang == "en" else 0
    reasons = [outside_text(day, period)[i] for day in days]
    frame = frame.with_columns(pl.col("event_date").replace_strict(days, reasons, return_dtype=pl.String).alias("reason")) \
        if days else frame.with_columns(pl.lit(None, dtype=pl.String).alias("reason"))
    frame = frame.select("credit_code", "name", "city", "event_type", "event_date", "event_ref", "event_no", "reason")
    return builder.table("outside", frame)
