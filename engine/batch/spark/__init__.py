"""Province-wide batches on Apache Spark (``pip install "huiqi[spark]"``): the same tables as ``huiqi batch``.

::

    from engine.batch.spark import evaluate, session, write

    spark = session("local[2]")                       # or spark-submit's session
    batch = evaluate("ents.parquet", "events.parquet", as_of=date(2022, 6, 30), spark=spark)
    batch.tables["lines"].show()                      # Spark DataFrames, money in integer fen
    write(batch, "out/")                              # Parquet tables + manifest, after the row accounting

The population is co-partitioned by parsed credit code and each partition is evaluated by the existing
single-machine reader and columnar evaluator through Arrow (``engine.batch.spark.group``); no rule is
implemented here. See docs/scale.md for the design, the figures and running on a cluster.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {"SparkBatch": "engine.batch.spark.job", "evaluate": "engine.batch.spark.job", "session": "engine.batch.spark.job",
            "write": "engine.batch.spark.output"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'engine.batch.spark' has no attribute {name!r}")
