"""One co-partitioned group (the enterprises and events of a set of credit codes) → every output row, as Arrow.

This is the single-machine batch run on a slice of the population: the group's raw rows become
``RawTable``s (``engine.batch.sources``), are read by the same ``_Reader`` (``engine.batch.read``),
evaluated by ``evaluate_population`` (``engine.batch.run``: the columnar evaluator, with its per-profile
fallback) and turned into the same output tables by ``output_tables`` (``engine.batch.tables``). Nothing
here knows a rule. Every row sharing a parsed credit code is in the same group, so duplicates and events
without an enterprise are judged with all the rows that concern them.

The result is one Arrow table in a "long" layout: ``_table`` names the output table, ``_f``/``_r``/``_i``
are its sort key (the enterprise's or error's file — "0:" and the name for enterprise files, "1:" for event
files — and row, then the position within the group),
and one struct column per output table holds the row (null in the other tables' rows). ``_stats`` rows
carry the group's row accounting. The summaries come without their total rows (``totals=False``): Spark adds
the groups up and the driver appends the total row (``engine.batch.tables.add_total_row``), as the chunked
path does. The notes table (说明) depends on an input's headers only, so every group holding rows of one
file repeats that file's rows; the job keeps one copy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
import pyarrow as pa

from engine.batch.manifest import recipient_counts
from engine.batch.read import NOT_EVALUATED_DUPLICATE, NOT_EVALUATED_ERRORS, Population, _Reader
from engine.batch.sources import ENTERPRISES, EVENTS, BadInput, _from_frame
from engine.batch.tables import output_tables
from engine.results import Period
from engine.rulebook import RuleSet

FILE, ROW, KEY, BUCKET = "_file", "_row", "_key", "_bucket"  # columns the Spark job adds to each input row
META = (FILE, ROW, KEY, BUCKET)
SUMMED = ("summary_rules", "summary_cities", "summary_rule_city")  # added up over groups in Spark
CONSTANT = ("rules",)  # the same for every group: taken from the driver's run on no rows
DEDUPLICATED = ("notes",)  # the same rows in every group holding rows of one input: one copy kept
PLACEHOLDER = "\x00"  # name prefix of the empty table a group reads when it holds no rows of a kind
STATS = "_stats"
# row accounting of one group, summed in Spark and checked against Spark's own counts
STAT_FIELDS = ("received_enterprises", "received_events", "rows_in_enterprises", "rows_in_events",
               "accounted_enterprises", "accounted_events", "rows_with_errors", "error_messages",
               "enterprises_evaluated", "events_counted", "fallback", "benefit_lines", "total_fen", "undetermined",
               "requirements_checked", "requirements_violated", "withheld", "superseded",
               "not_evaluated_errors", "not_evaluated_duplicate", "entities_with_money", "entities_with_support_measures",
               "payable_lines", "new_lines", "new_fen", "paid_lines", "paid_fen", "outside", "group_ms")
# output table → the Results frame it is built from row for row (entities: see ``_entity_order``)
_ROW_SOURCE = {"lines": "lines", "undetermined": "undetermined", "requirements": "requirements", "withheld": "withheld",
               "superseded": "superseded", "to_complete": "undetermined", "paid": "paid", "outside": "outside"}


@dataclass(frozen=True)
class Setup:
    """What every group needs, shipped to the executors once (pickled with the function)."""

    ruleset: RuleSet
    as_of: date
    lang: str
    schema: pa.Schema | None = None  # the output layout (None on the driver's first run)
    # a claim round: its period, and the ledger's claims read once on the driver (``claims_frame()``); they
    # travel inside this pickled Setup, i.e. are broadcast with the task
    period: Period | None = None
    claims: pl.DataFrame | None = None
    in_round: bool = False  # a round's tables and columns (with a period or a ledger)

    def round_(self) -> Any:
        """The ``engine.batch.run.Round`` the output tables take (None without a round)."""
        if not self.in_round:
            return None
        from engine.batch.run import Round

        return Round(self.period, self.ledger())

    def ledger(self) -> Any:
        from engine.claims import FrameClaims

        return FrameClaims(self.claims) if self.claims is not None else None


def file_order(kind: str, name: str) -> str:
    """Sort key of a file: enterprise files before event files, each by name (the order errors are listed in)."""
    return ("0:" if kind == ENTERPRISES else "1:") + name


def evaluate_group(enterprises: pa.Table, events: pa.Table | None, setup: Setup) -> tuple[pa.Table, Population, list]:
    """Read, evaluate and tabulate one group; returns (long-layout rows, its Population, its OutputTables)."""
    started = time.perf_counter()
    tables, order = [], []
    for kind, raw in ((ENTERPRISES, enterprises), (EVENTS, events)):
        if raw is None:
            continue
        frame = pl.from_arrow(raw)
        if not isinstance(frame, pl.DataFrame):
            raise TypeError("expected an Arrow table")
        names = sorted(frame.get_column(FILE).unique().to_list()) if frame.height else []
        if not names and (kind == ENTERPRISES or setup.schema is None):
            # no rows: one empty table, so the reader still checks the headers (the driver's run) or has an
            # enterprise table (a group of events alone); in a group it is a placeholder that says nothing
            names = [kind if setup.schema is None else PLACEHOLDER + kind]
        for name in names:
            part = frame.filter(pl.col(FILE) == name).sort(ROW) if frame.height else frame
            data = part.drop([c for c in META if c in part.columns])
            table = _from_frame(data, name, name, kind, first_row=0)
            # _from_frame numbers rows from 0 and drops blank ones: map back to the file's own row numbers
            table.rows = part.get_column(ROW).cast(pl.Int64).gather(table.rows).alias("row")
            if kind == EVENTS and table.kind != EVENTS:  # as read_population refuses such an --events file
                raise BadInput(f"{table.source}：事件文件需要类型、日期和统一社会信用代码列",
                               f"{table.source}: an events file needs type, date and credit code columns")
            tables.append(table)
            order.append(file_order(kind, name))
    population = _Reader(tables, []).run()
    population.check_accounting()  # the group's rows are evaluated or in its errors, never both, never neither
    from engine.batch.run import evaluate_population

    ledger = setup.ledger()
    results = evaluate_population(population, setup.as_of, setup.ruleset, period=setup.period, ledger=ledger)
    round_ = setup.round_()
    outputs = output_tables(population, results, setup.ruleset, setup.as_of, setup.lang, totals=False, round_=round_)
    received = {ENTERPRISES: enterprises.num_rows, EVENTS: events.num_rows if events is not None else 0}
    return _long(population, results, outputs, order, received, setup, started), population, outputs


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Types Spark has: Enum/Categorical → String, unsigned → Int64."""
    casts = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, (pl.Enum, pl.Categorical)):
            casts.append(pl.col(name).cast(pl.String))
        elif dtype.is_unsigned_integer():
            casts.append(pl.col(name).cast(pl.Int64))
    return frame.with_columns(casts) if casts else frame


def _long(population: Population, results, outputs: list, order: list[str], received: dict, setup: Setup,
          started: float) -> pa.Table:
    entities = population.entities
    files = dict(enumerate(order))
    position = entities.select(pl.col("_t").replace_strict(files, return_dtype=pl.String).alias("_f"),
                               pl.col("row").cast(pl.Int64).alias("_r"))
    parts: list[tuple[str, pl.DataFrame, pl.DataFrame]] = []  # (key, rows, sort key)
    for table in outputs:
        frame = _plain(table.frame)
        index = pl.int_range(0, frame.height, eager=True, dtype=pl.Int64).alias("_i")
        if table.key in CONSTANT:
            continue
        if table.key == "entities":
            key = _entity_order(population, files)
            if key.height != frame.height:
                raise AssertionError(f"entities: {frame.height} rows for {key.height} enterprise rows")
            key = key.with_columns(index)
        elif table.key in _ROW_SOURCE:
            source = getattr(results, _ROW_SOURCE[table.key])
            if source.height != frame.height:
                raise AssertionError(f"{table.key}: {frame.height} rows for {source.height} results")
            key = position.gather(source.get_column("eid")).with_columns(index)
        elif table.key == "notes":
            frame, key = _notes_order(frame, population, files)
        elif table.key == "errors":
            errors = population.errors
            key = errors.select(pl.col("_t").replace_strict(files, default="", return_dtype=pl.String).alias("_f"),
                                pl.col("row").cast(pl.Int64).alias("_r")).with_columns(index)
        elif table.key == "summary_rule_city":
            key = _rule_city_order(frame, setup).with_columns(index)
        else:  # summaries: the same rows in every group; any table added later: kept in group order
            key = pl.DataFrame({"_f": pl.repeat("", frame.height, dtype=pl.String, eager=True),
                                "_r": pl.repeat(0, frame.height, dtype=pl.Int64, eager=True)}).with_columns(index)
        parts.append((table.key, frame, key))
    accounted = population.rows_accounted()
    not_evaluated = population.not_evaluated_counts()
    round_counts = _round_counts(results)
    stats = {"received_enterprises": received[ENTERPRISES], "received_events": received[EVENTS],
             "rows_in_enterprises": population.rows_in[ENTERPRISES], "rows_in_events": population.rows_in[EVENTS],
             "accounted_enterprises": accounted[ENTERPRISES], "accounted_events": accounted[EVENTS],
             "rows_with_errors": population.error_rows, "error_messages": population.errors.height,
             "enterprises_evaluated": entities.height, "events_counted": population.events.height,
             "fallback": int(entities.get_column("fallback").sum()),
             # the manifest's result counts, defined as engine.batch.manifest.stable_part defines them
             "benefit_lines": results.lines.height, "total_fen": int(results.lines.get_column("amount").sum() or 0),
             "undetermined": results.undetermined.height, "requirements_checked": results.requirements.height,
             "requirements_violated": int((results.requirements.get_column("status") == "violated").sum()),
             "withheld": results.withheld.height, "superseded": results.superseded.height,
             "not_evaluated_errors": not_evaluated[NOT_EVALUATED_ERRORS],
             "not_evaluated_duplicate": not_evaluated[NOT_EVALUATED_DUPLICATE],
             # distinct enterprises, summable over groups: an enterprise's rows all sit in one group
             **recipient_counts(results.lines),
             "payable_lines": int(results.lines.get_column("amount").is_not_null().sum()), **round_counts,
             "group_ms": round((time.perf_counter() - started) * 1000)}  # for throughput figures only (benchmarks/spark.py)
    notes = sorted(n for n in set(population.notes) if not n.startswith(PLACEHOLDER))
    stats_frame = pl.DataFrame({**{k: [v] for k, v in stats.items()}, "notes": [notes]},
                               schema={**dict.fromkeys(STAT_FIELDS, pl.Int64), "notes": pl.List(pl.String)})
    parts.append((STATS, stats_frame, pl.DataFrame({"_f": [""], "_r": [0], "_i": [0]},
                                                    schema={"_f": pl.String, "_r": pl.Int64, "_i": pl.Int64})))
    return _assemble(parts, setup.schema)


def _round_counts(results) -> dict[str, int]:
    from engine.batch.run import round_counts

    return round_counts(results)


def _entity_order(population: Population, files: dict[int, str]) -> pl.DataFrame:
    """(file, row) of each 企业汇总 row: the evaluated and the not-evaluated enterprise rows, in input order."""
    rows = pl.concat([population.entities.select("_t", "_p", "row"), population.not_evaluated.select("_t", "_p", "row")],
                     how="vertical_relaxed").sort("_t", "_p")
    return rows.select(pl.col("_t").replace_strict(files, return_dtype=pl.String).alias("_f"),
                       pl.col("row").cast(pl.Int64).alias("_r"))


def _notes_order(frame: pl.DataFrame, population: Population, files: dict[int, str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The notes rows of the group's real inputs (not of a placeholder) and their key: the input's file order
    and the row's position among that input's notes (the same in every group, so copies can be dropped)."""
    sources = population.column_notes.get_column("source")
    order = {t.source: files[i] for i, t in enumerate(population.tables)}
    real = ~sources.str.starts_with(PLACEHOLDER)
    sources = sources.filter(real)
    key = pl.DataFrame({"_f": sources.replace_strict(order, return_dtype=pl.String)})
    key = key.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over("_f").alias("_r"), pl.lit(0, dtype=pl.Int64).alias("_i"))
    return frame.filter(real), key


def _rule_city_order(frame: pl.DataFrame, setup: Setup) -> pl.DataFrame:
    """(rule position, city position) of each rule × city row: the order the single-machine table has."""
    from engine.cities import CITIES, CITY_EN

    rule, _, city = frame.columns[:3]
    cities = [CITY_EN.get(c, c) for c in CITIES] if setup.lang == "en" else list(CITIES)
    order = {r.id: i for i, r in enumerate(setup.ruleset.rules)}
    return frame.select(pl.col(rule).replace_strict(order, default=-1, return_dtype=pl.Int64).cast(pl.String).str.zfill(6).alias("_f"),
                        pl.col(city).replace_strict(cities, list(range(len(cities))), default=-1, return_dtype=pl.Int64)
                        .alias("_r"))


def _struct(frame: pl.DataFrame) -> pa.StructArray:
    arrow = frame.to_arrow(compat_level=pl.CompatLevel.oldest())  # plain Arrow types (large_string, not views)
    return pa.StructArray.from_arrays([c.combine_chunks() for c in arrow.columns], names=frame.columns)


def _assemble(parts: list[tuple[str, pl.DataFrame, pl.DataFrame]], schema: pa.Schema | None) -> pa.Table:
    """The long layout: one struct column per table, ``_table`` and the sort key."""
    structs = {key: _struct(frame) for key, frame, _ in parts}
    types = {key: array.type for key, array in structs.items()}
    if schema is not None:
        types = {name: schema.field(name).type for name in schema.names if name not in ("_table", "_f", "_r", "_i")}
    batches = []
    for key, frame, order in parts:
        n = frame.height
        if not n:
            continue
        columns = {"_table": pa.array([key] * n, pa.string()),
                   **{c: order.get_column(c).to_arrow(compat_level=pl.CompatLevel.oldest()) for c in ("_f", "_r", "_i")}}
        for name, kind in types.items():
            columns[name] = structs[key].cast(kind) if name == key else pa.nulls(n, kind)
        batches.append(pa.table(columns))
    if not batches:
        fields = [pa.field("_table", pa.string()), pa.field("_f", pa.large_string()), pa.field("_r", pa.int64()),
                  pa.field("_i", pa.int64())]
        return pa.table({f.name: pa.array([], f.type) for f in fields} | {k: pa.nulls(0, t) for k, t in types.items()})
    table = pa.concat_tables(batches)
    return table.cast(schema) if schema is not None else table
