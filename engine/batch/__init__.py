"""Batch evaluation for bureau staff: whole lists of enterprises in, checkable tables out.

Public API::

    from engine.batch import read_population, evaluate_population, run_batch

    population = read_population("list.xlsx")            # or .csv / .parquet / .jsonl, + events=...
    results = evaluate_population(population, date(2019, 12, 31))          # shipped rules
    other = evaluate_population(population, date(2019, 12, 31), rules="draft/")  # another rule set
    summary = run_batch("list.xlsx", as_of=date(2019, 12, 31), out="out.xlsx")   # read + evaluate + write

``read_population`` returns a ``Population`` (typed enterprise and event tables in input order, the
error rows, input row counts; ``population.profiles()`` yields ``engine.profile.Profile`` objects).
``evaluate_population`` returns ``Results`` (tables keyed by ``eid``, rule id and event ``idx``; amounts
in fen). ``run_batch`` writes every output table and the manifest and returns a ``BatchResult``; it raises
``OutputRefused`` (before reading anything) when ``out`` would replace an input or a file it did not write.
"""

from importlib import import_module
from typing import Any

# Imported on first use, so ``huiqi`` starts fast and ``--workers`` can still size polars' thread pool.
_EXPORTS = {
    "BadInput": "engine.batch.sources", "OutputRefused": "engine.output_safety", "BatchResult": "engine.batch.run", "Population": "engine.batch.read",
    "Results": "engine.batch.columnar", "evaluate_population": "engine.batch.run", "read_population": "engine.batch.read",
    "rows_from_evaluation": "engine.batch.columnar", "run_batch": "engine.batch.run",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'engine.batch' has no attribute {name!r}")
