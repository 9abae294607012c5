"""The run manifest: what went in, which rules, what came out, and how long it took.

``manifest["stable"]`` is byte-identical when the same inputs are evaluated again with the same rules,
as-of date, format and language (file hashes, rule fingerprint, row counts, totals, output hashes).
``manifest["run"]`` holds what legitimately differs between runs: timings, peak memory, thread count.
"""

from __future__ import annotations

import platform
import resource
from datetime import date
from pathlib import Path

import polars as pl

import engine
from engine.batch.columnar import Results
from engine.batch.money import plain_yuan
from engine.batch.read import Population
from engine.batch.write import sha256_of
from engine.rulebook import RuleSet

MANIFEST_VERSION = 1


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def stable_part(population: Population, results: Results, rules: RuleSet, as_of: date, fmt: str, lang: str,
                outputs: list[dict]) -> dict:
    accounted = population.rows_accounted()
    rows = {
        "in": dict(population.rows_in),
        "accounted": accounted,
        "balanced": accounted == population.rows_in,
        "enterprises_evaluated": population.entities.height,
        "enterprises_not_evaluated": population.not_evaluated_counts(),
        "events_counted": population.events.height,
        "rows_with_errors": population.error_rows,
        "error_messages": population.errors.height,
        "evaluated_by_per_profile_engine": int(population.entities.get_column("fallback").sum()),
    }
    counts = {
        **recipient_counts(results.lines),
        "benefit_lines": results.lines.height,
        "total_yuan": plain_yuan(results.lines.get_column("amount").sum()),
        "undetermined": results.undetermined.height,
        "requirements_checked": results.requirements.height,
        "requirements_violated": int((results.requirements.get_column("status") == "violated").sum()),
        "withheld": results.withheld.height,
        "superseded": results.superseded.height,
    }
    return stable_from_counts(population.inputs, rows, counts, population.notes, rules, as_of, fmt, lang, outputs)


def recipient_counts(lines: pl.DataFrame) -> dict[str, int]:
    """Enterprises receiving money and enterprises receiving a support measure without an amount (``tables.recipients``)."""
    from engine.batch.tables import recipients

    money, support = lines.select(recipients()).row(0)
    return {"entities_with_money": int(money), "entities_with_support_measures": int(support)}


def stable_from_counts(inputs: list[Path], rows: dict, counts: dict, notes: list[str], rules: RuleSet, as_of: date,
                       fmt: str, lang: str, outputs: list[dict]) -> dict:
    """The stable part from counts (``stable_part``; the chunked path in ``engine.batch.stream`` adds chunks up)."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "tool": f"huiqi batch {engine.__version__}",
        "version": engine.__version__,
        "as_of": as_of.isoformat(),
        "format": fmt,
        "lang": lang,
        "rules": {"fingerprint": rules.fingerprint, "rules": len(rules.rules),
                  "documents": sorted(rules.documents)},
        "inputs": [{"file": p.name, "sha256": sha256_of(p), "bytes": p.stat().st_size, **_read_as(p)} for p in inputs],
        "rows": rows,
        "results": counts,
        "outputs": outputs,
        "notes": sorted(set(notes)),
        "byte_identical": ("every output data file and this 'stable' object are byte-identical on a re-run "
                           "with the same inputs, rules, as-of date, format and language; 'run' is not"),
    }


def _read_as(path: Path) -> dict[str, str]:
    """How a CSV input was decoded (encoding, separator, line endings); nothing for other formats."""
    from engine.batch.csv_text import csv_format
    from engine.batch.sources import input_format

    return csv_format(path).manifest() if input_format(path) == "csv" else {}


def run_part(timings: dict[str, float], total: float, workers: int | None) -> dict:
    return {
        "timings_s": {k: round(v, 3) for k, v in {**timings, "total": total}.items()},
        "peak_rss_mb": peak_rss_mb(),
        "workers": workers,
        "polars_threads": pl.thread_pool_size(),
        "python": platform.python_version(),
        "polars": pl.__version__,
    }
