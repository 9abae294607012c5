"""Very large inputs: read, evaluate and write enterprise chunk by enterprise chunk, in bounded memory.

Taken by ``run_batch`` only when the enterprise file is .parquet or .csv (UTF-8, comma-separated, no lone CR:
``engine.batch.csv_text.streamable``), any events file is too,
and the enterprise file has more than ``threshold(chunk_rows)`` rows; every other input goes through the
in-memory path unchanged. ``chunk_rows`` defaults to ``CHUNK_ROWS``; ``HUIQI_BATCH_CHUNK_ROWS`` or
``run_batch(chunk_rows=…)`` / ``huiqi batch --chunk-rows`` change it (tests force tiny chunks).

How it stays exact:

* a pre-pass reads only the credit-code columns: duplicate codes are found over the whole file (each
  duplicate row's error still names every other row) and each event row is routed to the chunk holding
  the first enterprise row with its code (unknown and missing codes: the first chunk), so an event always
  meets its enterprise, and an orphan event gets the same explanation;
* each chunk is a ``Population`` read by the same ``_Reader`` (only the duplicate marking uses the
  whole-file keys) and evaluated by ``evaluate_population``; its detail tables (benefit lines, entities,
  undetermined, requirements, withheld, superseded) are appended to the outputs in chunk order, which is
  input order, as the in-memory path orders them;
* summaries are added up over chunks (enterprises never span chunks); the errors table is kept (one row
  per problem, small unless the input is mostly errors) and sorted at the end as the in-memory path sorts it.

Outputs: csv, jsonl and xlsx bytes are identical to the in-memory path's. Parquet detail tables are
written with pyarrow's ``ParquetWriter`` (one row group per chunk), so their bytes differ from the
in-memory path's while their values are identical (text columns are plain strings, not dictionary
Enums); they are byte-identical across re-runs with the same chunk size. xlsx detail tables are spilled
to temporary Parquet files next to the output and written sheet after sheet at the end.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl

from engine import schema
from engine.batch.cells import parse_column
from engine.batch.csv_text import raise_row_error, streamable
from engine.batch.duplicates import MERGED
from engine.batch.read import (
    ENTITY_ACTION,
    ERROR_COLUMNS,
    NOT_EVALUATED_DUPLICATE,
    NOT_EVALUATED_ERRORS,
    Population,
    _Reader,
    _sorted_errors,
    duplicate_messages,
)
from engine.batch.sources import ENTERPRISES, EVENTS, BadInput, RawTable, _from_frame, classify, input_format

CHUNK_ROWS = 500_000
DETAIL = ("lines", "entities", "undetermined", "requirements", "withheld", "superseded")
KEY_SLICE = 2_000_000  # rows of a key column parsed at a time in the pre-pass


def chunk_rows_setting(chunk_rows: int | None = None) -> int:
    if chunk_rows is None:
        chunk_rows = int(os.environ.get("HUIQI_BATCH_CHUNK_ROWS") or CHUNK_ROWS)
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be a positive number")
    return chunk_rows


def threshold(chunk_rows: int) -> int:
    """Enterprise rows above which the chunked path is taken (3 chunks: 1,500,000 by default)."""
    return chunk_rows * 3


# -- the plan ----------------------------------------------------------------------------------------

@dataclass
class _File:
    path: Path
    fmt: str  # "parquet" or "csv"
    headers: list[str]
    kind: str
    rows: int  # records in the file (blank rows included)

    @property
    def first_row(self) -> int:
        return 1 if self.fmt == "parquet" else 2

    def scan(self) -> pl.LazyFrame:
        if self.fmt == "parquet":
            return pl.scan_parquet(self.path)
        return pl.scan_csv(self.path, infer_schema=False, truncate_ragged_lines=False)

    def read(self, offset: int, length: int, columns: list[str] | None = None) -> pl.DataFrame:
        try:
            lazy = self.scan().slice(offset, length)
            if columns is not None:
                lazy = lazy.select(columns)
            return lazy.collect()
        except Exception as exc:  # noqa: BLE001 - as read_tables: any reader failure means the file is unusable
            if self.fmt == "csv":
                raise_row_error(self.path)  # name the row, as the in-memory reader does
            raise BadInput(f"无法读取文件 {self.path.name}：{type(exc).__name__}: {exc}",
                           f"cannot read {self.path.name}: {type(exc).__name__}: {exc}") from None


@dataclass
class Plan:
    enterprises: _File
    events: _File | None
    chunk_rows: int
    chunks: int = 0
    notes: list[str] = field(default_factory=list)


def _open(path: Path, default_kind: str) -> _File | None:
    if not path.is_file():
        return None
    try:
        fmt = input_format(path)
    except BadInput:
        return None
    if fmt not in ("parquet", "csv"):
        return None
    probe = _File(path, fmt, [], default_kind, 0)
    names = probe.scan().collect_schema().names()
    headers = [" ".join(str(c).split()) for c in names]
    return _File(path, fmt, headers, classify(headers) or default_kind, 0)


def plan(enterprises: str | Path, events: str | Path | None, chunk_rows: int | None = None) -> Plan | None:
    """A chunked plan when the input is large enough and of a streamable kind; None: use the in-memory path."""
    size = chunk_rows_setting(chunk_rows)
    limit = threshold(size)
    path = Path(enterprises)
    if not path.is_file() or path.suffix.lower() not in (".parquet", ".pq", ".csv", ".txt"):
        return None
    if path.suffix.lower() in (".csv", ".txt") and path.stat().st_size < limit * 20:
        return None  # a CSV record with a credit code, a name and a city takes more than 20 bytes: not above the limit
    try:
        ents = _open(path, ENTERPRISES)
        evs = _open(Path(events), EVENTS) if events is not None else None
        if ents is None or ents.kind != ENTERPRISES or (events is not None and (evs is None or evs.kind != EVENTS)):
            return None
        ents.rows = ents.scan().select(pl.len()).collect().item()
        if ents.rows <= limit:
            return None
        for f in (ents, evs):
            if f is not None and f.fmt == "csv" and not streamable(f.path):
                return None  # GB18030, tab-separated, lone-CR or odd-header CSV: the in-memory reader reads it
        if evs is not None:
            evs.rows = evs.scan().select(pl.len()).collect().item()
    except Exception:  # noqa: BLE001 - anything odd: the in-memory path reads it and reports
        return None
    if _code_column(ents) is None or (evs is not None and _code_column(evs) is None):
        return None
    from engine.batch.event_columns import find_groups

    probe = RawTable(ENTERPRISES, ents.path.name, ents.path.name, ents.headers, [pl.Series([], dtype=pl.String)] * len(ents.headers),
                     pl.Series([], dtype=pl.Int64))
    if find_groups(0, probe):
        return None  # event columns beside the enterprise columns: the in-memory reader splits them
    return Plan(ents, evs, size, -(-ents.rows // size))


def _code_column(f: _File) -> str | None:
    """The raw column holding the credit code (as ``_Reader.map_headers`` finds it), or None when absent/ambiguous."""
    found = []
    for name, header in zip(f.scan().collect_schema().names(), f.headers):
        field_name = schema.field_for_header(header, schema.ENTITY_HEADERS if f.kind == ENTERPRISES else schema.EVENT_HEADERS)
        if field_name is None and f.kind == EVENTS:
            field_name = {"credit_code": "credit_code"}.get(schema.field_for_header(header, schema.ENTITY_HEADERS) or "")
        if field_name == "credit_code":
            found.append(name)
    return found[0] if len(found) == 1 else None


def _codes(f: _File, check: bool) -> pl.Series:
    """The parsed credit code of every record (null when blank), as the reader parses it, slice by slice."""
    column = _code_column(f)
    spec = schema.ENTITY_BY_NAME["credit_code"]
    parts = []
    for offset in range(0, max(f.rows, 1), KEY_SLICE):
        raw = f.read(offset, KEY_SLICE, [column]).get_column(column)
        if raw.dtype == pl.String:
            raw = raw.replace("", None)
        parts.append(parse_column(spec, raw, check=check).values.cast(pl.String))
    return pl.concat(parts) if parts else pl.Series([], dtype=pl.String)


# -- keys: duplicates and event routing ----------------------------------------------------------------

@dataclass
class _Keys:
    duplicated: set[str]
    others: dict[str, list[tuple[str, int]]]  # code → every (sheet, row) holding it, in input order
    event_chunk: pl.Series | None  # chunk of each event record


def _keys(p: Plan) -> _Keys:
    ents = p.enterprises
    codes = pl.DataFrame({"code": _codes(ents, check=True)}).with_row_index("i")
    size = -(-ents.rows // p.chunks)
    coded = codes.filter(pl.col("code").is_not_null())
    dup = coded.filter(pl.len().over("code") > 1)
    others: dict[str, list[tuple[str, int]]] = {}
    for code, i in dup.select("code", "i").iter_rows():
        others.setdefault(code, []).append((ents.path.name, ents.first_row + i))
    event_chunk = None
    if p.events is not None:
        first = coded.unique("code", keep="first").select("code", (pl.col("i") // size).cast(pl.UInt32).alias("chunk"))
        del codes, coded
        ev = pl.DataFrame({"code": _codes(p.events, check=False)})
        event_chunk = ev.join(first, on="code", how="left", maintain_order="left").get_column("chunk").fill_null(0)
    return _Keys(set(others), others, event_chunk)


class _ChunkReader(_Reader):
    """``_Reader`` for one chunk; duplicates are judged over the whole file."""

    def __init__(self, tables, paths, keys: _Keys):
        super().__init__(tables, paths)
        self.keys = keys

    def mark_duplicates(self, entities: pl.DataFrame) -> pl.DataFrame:
        duplicated = pl.col("credit_code").is_not_null() & pl.col("credit_code").is_in(list(self.keys.duplicated))
        dup = entities.filter(duplicated).select("credit_code", "_t", "_p", "sheet", "row")
        if dup.height:
            for t, group in dup.group_by("_t", maintain_order=True):
                table = self.tables[t[0]]
                zh, en = duplicate_messages(group, self.keys.others)
                col = self.field_columns[t[0]]["credit_code"]
                self.error_rows(table, group.get_column("_p"), table.headers[col], "credit_code", table.columns[col],
                                pl.Series(zh, dtype=pl.String), pl.Series(en, dtype=pl.String), ENTITY_ACTION, ENTERPRISES)
        return entities.with_columns((~pl.col("_bad") & ~duplicated).alias("_ok"), duplicated.alias("_dup")).drop("_bad")


def _chunk_population(p: Plan, keys: _Keys, k: int) -> tuple[Population, list[pl.Series]]:
    """Chunk ``k`` as a Population, and per table the record index (in its file) of each of its rows."""
    ents = p.enterprises
    size = -(-ents.rows // p.chunks)
    frame = ents.read(k * size, size)
    table = _from_frame(frame, ents.path.name, ents.path.name, ENTERPRISES, first_row=ents.first_row + k * size)
    tables = [table]
    records = [table.rows - ents.first_row]
    if p.events is not None:
        evs = p.events
        parts, index = [], []
        for offset in range(0, max(evs.rows, 1), KEY_SLICE):
            mine = keys.event_chunk.slice(offset, KEY_SLICE) == k
            if not mine.any():
                continue
            parts.append(evs.read(offset, KEY_SLICE).filter(mine))
            index.append(mine.arg_true().cast(pl.Int64) + offset)
        frame = pl.concat(parts) if parts else evs.read(0, 0)
        at = pl.concat(index) if index else pl.Series([], dtype=pl.Int64)
        del parts
        ev_table = _from_frame(frame, evs.path.name, evs.path.name, EVENTS, first_row=0)
        ev_table.rows = (at.gather(ev_table.rows) + evs.first_row).alias("row")
        tables.append(ev_table)
        records.append(ev_table.rows - evs.first_row)
    paths = [ents.path] + ([p.events.path] if p.events is not None else [])
    return _ChunkReader(tables, paths, keys).run(), records


# -- writers -------------------------------------------------------------------------------------------

def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns([pl.col(c).cast(pl.String) for c, d in frame.schema.items() if isinstance(d, (pl.Enum, pl.Categorical))])


class _Appender:
    """One output table written chunk after chunk (csv/jsonl/parquet file, or xlsx spill files)."""

    def __init__(self, key: str, path: Path, fmt: str):
        self.key, self.path, self.fmt = key, path, fmt
        self.rows = 0
        self.parts: list[Path] = []  # xlsx: spilled chunks
        self.handle: Any = None
        self.writer: Any = None
        self.schema: Any = None
        self.title: str = ""
        self.money: tuple[str, ...] = ()
        self.columns: list[str] = []
        self.dtypes: dict[str, pl.DataType] = {}

    def append(self, table, n: int) -> None:
        from engine.batch.money import fen_to_decimal_text
        from engine.batch.write import csv_ready, write_csv, yuan_decimal

        frame = table.frame
        first = n == 0
        if first:
            self.title, self.money, self.columns, self.dtypes = table.title, table.money, frame.columns, dict(frame.schema)
        self.rows += frame.height
        if self.fmt == "xlsx":
            part = self.path.with_name(f"{self.key}.{n:06d}.parquet")
            frame.write_parquet(part, compression="lz4")
            self.parts.append(part)
            return
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            frame = frame.with_columns([yuan_decimal(pl.col(c)).alias(c) for c in table.money])
            arrow = _plain(frame).to_arrow()
            if first:
                self.schema = arrow.schema
                self.writer = pq.ParquetWriter(self.path, self.schema, compression="zstd", compression_level=1,
                                               write_statistics=True)
            if frame.height or first:
                self.writer.write_table(arrow.cast(self.schema), row_group_size=max(frame.height, 1))
            return
        if first:
            self.handle = self.path.open("wb")
        if self.fmt == "csv":
            write_csv(csv_ready(frame, table.money), self.handle, first)
        elif frame.height:
            frame.with_columns([fen_to_decimal_text(pl.col(c)).alias(c) for c in table.money]).write_ndjson(self.handle)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def frames(self, start: int, length: int):
        """xlsx: rows [start, start + length) of the spilled table, chunk by chunk."""
        at = 0
        for part in self.parts:
            height = pl.scan_parquet(part).select(pl.len()).collect().item()
            lo, hi = max(start, at), min(start + length, at + height)
            if lo < hi:
                yield pl.read_parquet(part).slice(lo - at, hi - lo)
            at += height


def _write_xlsx(entries: list, path: Path, progress) -> None:
    """``write._write_xlsx`` for tables that are either whole frames or spilled (``_Appender``)."""
    from engine.batch.write import EXCEL_MAX_ROWS, new_workbook

    workbook, header, money, day = new_workbook(path)
    total = sum(e.rows if isinstance(e, _Appender) else e.frame.height for e in entries)
    done = 0
    for entry in entries:
        if isinstance(entry, _Appender):
            height, title, columns, dtypes, money_cols = entry.rows, entry.title, entry.columns, entry.dtypes, entry.money
            frames = entry.frames
        else:
            frame = entry.frame
            height, title, columns, dtypes, money_cols = frame.height, entry.title, frame.columns, dict(frame.schema), entry.money

            def frames(start, length, frame=frame):
                yield frame.slice(start, length)
        pieces = max(1, -(-height // (EXCEL_MAX_ROWS - 1)))
        for piece in range(pieces):
            name = title if piece == 0 else f"{title} ({piece + 1})"
            start = piece * (EXCEL_MAX_ROWS - 1)
            rows = max(0, min(EXCEL_MAX_ROWS - 1, height - start))
            _write_sheet(workbook.add_worksheet(name[:31]), frames(start, rows), rows, columns, dtypes, money_cols,
                         header, money, day)
            done += rows
            if progress is not None:
                progress("write", done, total)
    workbook.close()


def _write_sheet(sheet, frames, height: int, columns: list[str], dtypes: dict, money_cols, header, money, day) -> None:
    """``write._write_sheet`` over a sequence of frames holding ``height`` rows in all (same bytes)."""
    from engine.batch.write import ROWS_PER_BLOCK, _cell_xml

    sheet.freeze_panes(1, 0)
    for j, name in enumerate(columns):
        width = min(60, max(8, len(name) * 2 + 2))
        fmt = money if name in money_cols else (day if dtypes[name] == pl.Date else None)
        sheet.set_column(j, j, width, fmt)
    sheet.write_row(0, 0, columns, header)
    if not height:
        return
    sheet.autofilter(0, 0, height, len(columns) - 1)
    if sheet._check_dimensions(height, len(columns) - 1):
        raise ValueError("table too large for one sheet")
    sheet._write_single_row(1)
    styles = {name: (money if name in money_cols else day if dtypes[name] == pl.Date else None) for name in columns}
    cells = [_cell_xml(name, j, dtypes[name], styles[name], name in money_cols) for j, name in enumerate(columns)]
    at = 0
    for frame in frames:
        for start in range(0, frame.height, ROWS_PER_BLOCK):
            block = frame.slice(start, ROWS_PER_BLOCK).with_row_index("_r", offset=at + 2)
            at += block.height
            xml = block.select(pl.concat_str([pl.lit('<row r="'), pl.col("_r").cast(pl.String), pl.lit('">'), *cells,
                                              pl.lit("</row>")]).str.join("")).item()
            sheet.fh.write(xml)
    sheet.previous_row = height


# -- summaries -----------------------------------------------------------------------------------------

def _add(total: pl.DataFrame | None, part: pl.DataFrame) -> pl.DataFrame:
    """Row-by-row sum of the integer columns of two summaries with the same rows (rules, cities)."""
    if total is None:
        return part
    keys = [c for c, d in part.schema.items() if not d.is_integer()]
    if not total.select(keys).equals(part.select(keys)):
        raise AssertionError("chunk summaries have different rows")
    return total.with_columns([(pl.col(c) + part.get_column(c)).alias(c) for c, d in part.schema.items() if d.is_integer()])


def _rule_city(parts: list[pl.DataFrame], rules, lang: str) -> pl.DataFrame:
    """The rule × city summary of the whole input from the chunks' ones (same rows, order and types)."""
    from engine.cities import CITIES, CITY_EN

    frame = pl.concat(parts, how="vertical")
    rule, title, city, *counts = frame.columns
    cities = [CITY_EN.get(c, c) for c in CITIES] if lang == "en" else list(CITIES)
    order = {r.id: i for i, r in enumerate(rules.rules)}
    # enterprises never span chunks: their counts add up like lines and yuan
    grouped = frame.group_by(rule, title, city, maintain_order=True).agg([pl.col(c).sum() for c in counts])
    return (grouped.with_columns(pl.col(rule).cast(pl.String).replace_strict(order, default=None, return_dtype=pl.Int64).alias("_r"),
                                 pl.col(city).cast(pl.String).replace_strict(cities, list(range(len(cities))), default=None,
                                                                             return_dtype=pl.Int64).alias("_c"))
            .sort("_r", "_c").drop("_r", "_c").cast(frame.schema))


# -- the run -------------------------------------------------------------------------------------------

def run(p: Plan, *, ruleset, as_of: date, out: Path, fmt: str, lang: str, workers: int | None, progress, started: float,
        timings: dict[str, float], round_=None):
    from engine.batch.manifest import recipient_counts, run_part, stable_from_counts
    from engine.batch.money import plain_yuan
    from engine.batch.run import BatchResult, evaluate_population, ignored_columns, round_counts, round_summary
    from engine.batch.tables import SUMMARIES, OutputTable, TotalCounts, _Builder, add_total_row, output_tables
    from engine.batch.write import SUFFIX, _json, _remove, _write_table, publish_workbook, sha256_of
    from engine.output_safety import real_target, swap_in_folder, temporary_folder

    out = Path(out)
    target = real_target(out)  # a symbolic link is written through to its target (engine.output_safety)
    if fmt == "xlsx":
        if target.is_dir():
            raise IsADirectoryError(f"{out} is a folder; give an .xlsx file name")
    elif target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{out} is a file; --format {fmt} writes a folder")
    work = temporary_folder(target, ".spill" if fmt == "xlsx" else ".tmp")
    timings.update(read=0.0, evaluate=0.0, tables=0.0, write=0.0)
    try:
        mark = time.perf_counter()
        keys = _keys(p)
        timings["read"] += time.perf_counter() - mark
        # a claim round's detail tables follow the others (per chunk: the to-pay list is by department within a chunk)
        detail = DETAIL + (() if round_ is None else ("to_pay", "to_complete", "paid")
                           + (("outside",) if round_.period is not None else ()))
        appenders = {key: _Appender(key, work / (key + SUFFIX.get(fmt, ".parquet")), fmt) for key in detail}
        summaries: dict[str, Any] = {}
        rule_city: list[pl.DataFrame] = []
        errors: list[pl.DataFrame] = []
        rows_in = {ENTERPRISES: 0, EVENTS: 0}
        evaluated = events_counted = fallback = 0
        counts = dict.fromkeys(("entities_with_money", "entities_with_support_measures", "benefit_lines", "undetermined", "requirements_checked", "requirements_violated", "withheld",
                                "superseded"), 0)
        fen = 0
        round_totals: dict[str, int] = {}
        notes: list[str] = []
        column_notes: list[pl.DataFrame] = []
        not_evaluated = dict.fromkeys((NOT_EVALUATED_ERRORS, NOT_EVALUATED_DUPLICATE), 0)
        rules_table = None
        total = p.enterprises.rows
        for k in range(p.chunks):
            mark = time.perf_counter()
            population, records = _chunk_population(p, keys, k)
            population.check_accounting()
            timings["read"] += time.perf_counter() - mark
            mark = time.perf_counter()
            results = evaluate_population(population, as_of, ruleset, period=getattr(round_, "period", None),
                                          ledger=getattr(round_, "ledger", None))
            timings["evaluate"] += time.perf_counter() - mark
            mark = time.perf_counter()
            tables = {t.key: t for t in output_tables(population, results, ruleset, as_of, lang, totals=False, round_=round_)}
            timings["tables"] += time.perf_counter() - mark
            mark = time.perf_counter()
            for key in detail:
                appenders[key].append(tables[key], k)
            for key in ("summary_rules", "summary_cities"):
                summaries[key] = OutputTable(key, tables[key].title, _add(getattr(summaries.get(key), "frame", None),
                                                                          tables[key].frame), tables[key].money)
            rule_city.append(tables["summary_rule_city"].frame)
            summaries["summary_rule_city"] = tables["summary_rule_city"]
            rules_table = tables["rules"]
            timings["write"] += time.perf_counter() - mark
            # error rows keyed by record index in their file (unique per row, as positions are in-memory)
            err = population.errors
            for t, index in enumerate(records):
                mine = err.get_column("_t") == t
                if mine.any():
                    err = err.with_columns(pl.when(mine).then(index.gather(err.get_column("_p").set(~mine, 0)))
                                           .otherwise(pl.col("_p")).alias("_p"))
            errors.append(err)
            for kind in (ENTERPRISES, EVENTS):
                rows_in[kind] += population.rows_in[kind]
            evaluated += population.entities.height
            events_counted += population.events.height
            fallback += int(population.entities.get_column("fallback").sum())
            for name, value in recipient_counts(results.lines).items():  # enterprises never span chunks
                counts[name] += value
            counts["benefit_lines"] += results.lines.height
            fen += int(results.lines.get_column("amount").sum() or 0)
            counts["undetermined"] += results.undetermined.height
            counts["requirements_checked"] += results.requirements.height
            counts["requirements_violated"] += int((results.requirements.get_column("status") == "violated").sum())
            counts["withheld"] += results.withheld.height
            counts["superseded"] += results.superseded.height
            if round_ is not None:
                for name, value in round_counts(results).items():
                    round_totals[name] = round_totals.get(name, 0) + value
            notes += population.notes
            column_notes.append(population.column_notes)
            for reason, n in population.not_evaluated_counts().items():
                not_evaluated[reason] += n
            del population, results, tables
            if progress is not None:
                progress("evaluate", min(total, (k + 1) * -(-total // p.chunks)), total)
        mark = time.perf_counter()
        for appender in appenders.values():
            appender.close()
        summary_city = summaries["summary_rule_city"]
        summaries["summary_rule_city"] = OutputTable(summary_city.key, summary_city.title, _rule_city(rule_city, ruleset, lang),
                                                     summary_city.money)
        totals = TotalCounts({k: counts[k] for k in ("entities_with_money", "entities_with_support_measures")}, not_evaluated)
        for key in SUMMARIES:
            summaries[key] = add_total_row(summaries[key], totals, lang)
        sources = [SimpleNamespace(source=f.path.name, sheet=f.path.name) for f in (p.enterprises, p.events) if f is not None]
        all_errors = _sorted_errors(pl.concat(errors, how="vertical") if errors else pl.DataFrame(schema=ERROR_COLUMNS), sources)
        shim = SimpleNamespace(pop=SimpleNamespace(errors=all_errors), lang=lang)
        shim.table = lambda key, frame, money=(): _Builder.table(shim, key, frame, money)
        errors_table = _Builder.errors(shim)
        shim.pop.column_notes = pl.concat(column_notes).unique(maintain_order=True)  # chunks share their headers
        notes_table = _Builder.notes(shim)
        order = ["summary_rules", "summary_cities", "summary_rule_city", *detail, "errors", "notes", "rules"]
        entries = [appenders[key] if key in appenders else
                   {"errors": errors_table, "notes": notes_table, "rules": rules_table}.get(key) or summaries[key]
                   for key in order]
        rejected = all_errors.select("table", "_t", "_p").unique()
        accounted = {ENTERPRISES: evaluated + int((rejected["table"] == ENTERPRISES).sum()),
                     EVENTS: events_counted + int((rejected["table"] == EVENTS).sum())}
        rows = {"in": dict(rows_in), "accounted": accounted, "balanced": accounted == rows_in,
                "enterprises_evaluated": evaluated, "enterprises_not_evaluated": not_evaluated, "events_counted": events_counted,
                "rows_with_errors": all_errors.filter(pl.col("table") != MERGED).select("_t", "_p").unique().height,
                "error_messages": all_errors.height,
                "evaluated_by_per_profile_engine": fallback}
        result_counts = {**counts, "total_yuan": plain_yuan(fen)}
        inputs = [f.path for f in (p.enterprises, p.events) if f is not None]
        manifest: dict = {}

        def build(outputs: list[dict]) -> dict:
            timings["write"] += time.perf_counter() - mark
            manifest["stable"] = stable_from_counts(inputs, rows, result_counts, notes, ruleset, as_of, fmt, lang, outputs)
            if round_ is not None:
                manifest["stable"]["round"] = round_summary(round_, round_totals)
            manifest["run"] = run_part(timings, time.perf_counter() - started, workers)
            return manifest

        if fmt == "xlsx":
            heights = {e.key: (e.rows if isinstance(e, _Appender) else e.frame.height) for e in entries}
            files = [out, publish_workbook(target, lambda tmp: _write_xlsx(entries, tmp, progress), heights, build)]
        else:
            outputs = []
            for n, entry in enumerate(entries, start=1):
                if isinstance(entry, _Appender):
                    path, height = entry.path, entry.rows
                else:
                    path, height = work / (entry.key + SUFFIX[fmt]), entry.frame.height
                    _write_table(entry, path, fmt)
                outputs.append({"file": path.name, "sha256": sha256_of(path), "rows": height})
                if progress is not None:
                    progress("write", n, len(entries))
            (work / "manifest.json").write_text(_json(build(outputs)), encoding="utf-8")
            swap_in_folder(work, target)
            files = [out / o["file"] for o in outputs] + [out / "manifest.json"]
    except BaseException:
        for appender in locals().get("appenders", {}).values():
            try:
                appender.close()
            except Exception:  # noqa: BLE001 - cleaning up after the real error
                pass
        while True:  # the loop must be here, around the call: see _remove
            try:
                _remove(work)
                break
            except KeyboardInterrupt:
                continue
        raise
    if fmt == "xlsx":
        _remove(work)
    timings["total"] = time.perf_counter() - started
    error_rows = rows["rows_with_errors"]
    return BatchResult(out, files, manifest, rows_in, accounted, error_rows, timings,
                       ignored_columns(shim.pop.column_notes))
