"""Read → evaluate → write, with timings, progress and the manifest."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from engine.batch.columnar import ColumnarEvaluator, Results, chunks, rows_from_evaluation
from engine.batch.read import Population, read_population
from engine.claims import ClaimLookup, FrameClaims
from engine.evaluate import evaluate, resolve_rules
from engine.period import as_period
from engine.results import Period
from engine.rulebook import RuleSet

CHUNK_SIZE = 250_000

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class Round:
    """A claim round for the output tables: its period (or None) and the ledger consulted (or None)."""

    period: Period | None
    ledger: ClaimLookup | None


def evaluate_population(population: Population, as_of: date, rules: RuleSet | str | Path | None = None, *,
                        chunk_size: int = CHUNK_SIZE, progress: Progress | None = None,
                        period: Period | tuple[date, date] | str | None = None, ledger: ClaimLookup | None = None) -> Results:
    """Evaluate every enterprise of ``population`` as of ``as_of`` under ``rules`` (default: shipped rules).

    Columnar (polars) in chunks of ``chunk_size`` enterprises; enterprises flagged ``fallback`` go through
    ``engine.evaluate`` (backend "python") and come back as the same rows. Results are ordered by
    enterprise (input order), rule (rule-base order) and event index, as the per-profile engine lists them.
    ``period`` and ``ledger`` as in ``engine.evaluate``: the ledger is read once (``claims_frame``) and joined.
    """
    if not isinstance(as_of, date):
        raise TypeError("as_of must be a datetime.date")
    ruleset = resolve_rules(rules)
    chosen = as_period(period, as_of)
    claims = ledger.claims_frame() if ledger is not None else None
    evaluator = ColumnarEvaluator(ruleset, as_of, chosen, claims)
    parts: list[Results] = []
    total = len(population)
    done = 0
    for entities, events in chunks(population.entities, population.events, chunk_size):
        parts.append(evaluator.evaluate(entities, events))
        done += entities.height
        if progress is not None:
            progress("evaluate", done, total)
    results = Results.concat(parts)
    fallback = population.entities.filter(pl.col("fallback")).get_column("eid").to_list()
    if fallback:
        lookup = FrameClaims(claims) if claims is not None else None
        exact = [rows_from_evaluation(eid, evaluate(population.profile(eid), as_of, ruleset, backend="python", period=chosen,
                                                    ledger=lookup), ruleset) for eid in fallback]
        keep = pl.col("eid").is_in(fallback).not_()
        trimmed = Results(**{name: getattr(results, name).filter(keep) for name in vars(results)})
        results = Results.concat([trimmed, *exact]).sorted()
    return results


def round_counts(results: Results) -> dict[str, int]:
    """What a claim round adds up (fen and line counts), per chunk or for the whole run."""
    return {"new_lines": results.lines.height, "new_fen": int(results.lines.get_column("amount").sum() or 0),
            "paid_lines": results.paid.height, "paid_fen": int(results.paid.get_column("amount").sum() or 0),
            "outside": results.outside.height}


def round_summary(round_: Round, counts: dict[str, int]) -> dict:
    """The manifest's account of a claim round: new in this round and already paid, apart."""
    from engine.batch.money import plain_yuan

    return {"period": round_.period.text() if round_.period is not None else None, "ledger": round_.ledger is not None,
            "new_lines": counts["new_lines"], "new_yuan": plain_yuan(counts["new_fen"]),
            "already_paid_lines": counts["paid_lines"], "already_paid_yuan": plain_yuan(counts["paid_fen"]),
            "events_outside_period": counts["outside"]}


@dataclass
class BatchResult:
    """What ``run_batch`` did: where it wrote, the counts, the exit status and the manifest."""

    out: Path
    files: list[Path]
    manifest: dict
    rows_in: dict[str, int]
    rows_accounted: dict[str, int]
    error_rows: int
    timings: dict[str, float] = field(default_factory=dict)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (sheet, column) of every input column not read

    @property
    def clean(self) -> bool:
        return self.error_rows == 0

    def accounting_line(self, lang: str = "zh") -> str:
        total_in = sum(self.rows_in.values())
        total_acc = sum(self.rows_accounted.values())
        if lang == "en":
            return (f"rows in = {total_in} (enterprises {self.rows_in['enterprises']}, events {self.rows_in['events']}); "
                    f"rows accounted = {total_acc} (results + errors); rows with errors = {self.error_rows}")
        return (f"输入行数 = {total_in}（企业 {self.rows_in['enterprises']}，事件 {self.rows_in['events']}）；"
                f"已处理行数 = {total_acc}（结果 + 错误）；有错误的行 = {self.error_rows}")

    def ignored_line(self, lang: str = "zh", shown: int = 8) -> str | None:
        """"未读取的列 3 个：企业「备注」…（原因见“说明”表）", or None when every column was read."""
        if not self.ignored:
            return None
        names = [f"{sheet}「{column}」" for sheet, column in self.ignored[:shown]]
        more = len(self.ignored) - len(names)
        if lang == "en":
            return (f"columns not read: {len(self.ignored)}: " + ", ".join(names) + (f" and {more} more" if more else "")
                    + " (why: see the Notes table)")
        return f"未读取的列 {len(self.ignored)} 个：" + "、".join(names) + ("等" if more else "") + "（原因见“说明”表）"


def ignored_columns(column_notes: pl.DataFrame) -> list[tuple[str, str]]:
    """(sheet, column) of the notes table's columns that were not read (``read.NOT_READ``)."""
    from engine.batch.read import NOT_READ

    return list(column_notes.filter(pl.col("action_zh") == NOT_READ[0]).select("sheet", "column").iter_rows())


def run_batch(enterprises: str | Path, events: str | Path | None = None, *, as_of: date,
              rules: RuleSet | str | Path | None = None, out: str | Path, fmt: str = "xlsx", lang: str = "zh",
              workers: int | None = None, progress: Progress | None = None, chunk_rows: int | None = None,
              period: Period | tuple[date, date] | str | None = None, ledger: ClaimLookup | None = None) -> BatchResult:
    """Read, evaluate and write a batch; see ``engine.batch`` and docs/batch-guide.md.

    ``out``: the .xlsx file (fmt "xlsx") or a folder (fmt "csv", "parquet", "jsonl"), written atomically.
    ``workers``: polars threads; honoured when set before polars is first imported (the CLI does this),
    otherwise only recorded in the manifest. ``chunk_rows``: above 3 × this many enterprise rows (default
    500,000; env ``HUIQI_BATCH_CHUNK_ROWS``) a .parquet/.csv input is read, evaluated and written chunk by
    chunk in bounded memory (``engine.batch.stream``). ``period`` / ``ledger``: a claim round and a
    ``engine.claims.ClaimLookup`` (see ``evaluate_population``); with either, the round's tables are written
    too (already paid, outside the period, to pay, missing facts). Raises ``BadInput`` for unusable input,
    ``engine.period.PeriodError`` for a period ending after ``as_of`` and ``engine.rulebook.LoadError`` for
    broken rules.
    """
    from engine.batch.manifest import run_part, stable_part
    from engine.batch.output_guard import check_batch_output
    from engine.batch.tables import output_tables
    from engine.batch.write import write_output

    if fmt not in ("xlsx", "csv", "parquet", "jsonl"):
        raise ValueError("fmt must be xlsx, csv, parquet or jsonl")
    if lang not in ("zh", "en"):
        raise ValueError("lang must be zh or en")
    check_batch_output(out, fmt, [p for p in (enterprises, events) if p is not None])
    started = time.perf_counter()
    timings: dict[str, float] = {}
    mark = time.perf_counter()
    ruleset = resolve_rules(rules)
    chosen = as_period(period, as_of)  # before reading anything: a bad period is the caller's error
    if ledger is not None:
        ledger = FrameClaims(ledger.claims_frame())  # one query for the whole run, however many chunks
    round_ = Round(chosen, ledger) if chosen is not None or ledger is not None else None
    timings["rules"] = time.perf_counter() - mark
    from engine.batch import stream

    plan = stream.plan(enterprises, events, chunk_rows)
    if plan is not None:
        if progress is not None:
            progress("read", 1, 1)
        return stream.run(plan, ruleset=ruleset, as_of=as_of, out=Path(out), fmt=fmt, lang=lang, workers=workers,
                          progress=progress, started=started, timings=timings, round_=round_)
    mark = time.perf_counter()
    population = read_population(enterprises, events)
    timings["read"] = time.perf_counter() - mark
    if progress is not None:
        progress("read", 1, 1)
    mark = time.perf_counter()
    population.check_accounting()  # before anything is written: never a silently shrunk output
    results = evaluate_population(population, as_of, ruleset, progress=progress, period=chosen, ledger=ledger)
    timings["evaluate"] = time.perf_counter() - mark
    mark = time.perf_counter()
    tables = output_tables(population, results, ruleset, as_of, lang, round_=round_)
    timings["tables"] = time.perf_counter() - mark
    write_started = time.perf_counter()
    manifest: dict = {}

    def build(outputs: list[dict]) -> dict:
        timings["write"] = time.perf_counter() - write_started
        manifest["stable"] = stable_part(population, results, ruleset, as_of, fmt, lang, outputs)
        if round_ is not None:
            manifest["stable"]["round"] = round_summary(round_, round_counts(results))
        manifest["run"] = run_part(timings, time.perf_counter() - started, workers)
        return manifest

    files = write_output(tables, Path(out), fmt, build, progress=progress)
    timings["total"] = time.perf_counter() - started
    return BatchResult(Path(out), files, manifest, population.rows_in, population.rows_accounted(), population.error_rows,
                       timings, ignored_columns(population.column_notes))
