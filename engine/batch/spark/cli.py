"""``huiqi batch ENTERPRISES --events EVENTS --engine spark [--master …] -o OUT``: Parquet (or tables) in, Parquet out.

Exit codes as ``huiqi batch``: 0 clean, 5 some rows had errors, 3 unusable input, 2 bad command line
(also: pyspark or Java missing, or an option the Spark engine does not take).
"""

from __future__ import annotations

import argparse
import sys
import time


def _check_local_output(args: argparse.Namespace) -> None:
    """A local OUT obeys ``huiqi batch``'s rules (engine.batch.output_guard) before Spark starts; an hdfs://, s3a://…
    OUT is the cluster's business."""
    from engine.batch.output_guard import check_batch_output
    from engine.cli import EXIT_BAD_INPUT, CliError
    from engine.output_safety import OutputRefused

    if "://" in str(args.out):
        return
    inputs = [p for p in (args.enterprises, args.events) if p is not None and "://" not in str(p)]
    try:
        check_batch_output(args.out, "parquet", inputs)
    except OutputRefused as exc:
        raise CliError(exc.message_en if args.lang == "en" else f"{exc.message_zh}\n{exc.message_en}", EXIT_BAD_INPUT) from None


def run_spark(args: argparse.Namespace) -> int:
    from engine.cli import EXIT_BAD_INPUT, EXIT_USAGE, CliError, load_ruleset

    if args.format not in (None, "parquet"):
        raise CliError("--engine spark 只写 Parquet（--format parquet）/ --engine spark writes Parquet only (--format parquet)",
                       EXIT_USAGE)
    if args.workers is not None or args.chunk_rows is not None:
        raise CliError("--engine spark 不使用 --workers/--chunk-rows，请用 --master local[N] 或集群配置 / --engine spark takes "
                       "no --workers/--chunk-rows: use --master local[N] or the cluster's settings", EXIT_USAGE)
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise CliError('--engine spark 需要 pyspark：pip install "huiqi[spark]" / --engine spark needs pyspark: '
                       'pip install "huiqi[spark]"', EXIT_USAGE) from None
    _check_local_output(args)
    started = time.perf_counter()
    ruleset = load_ruleset(args.rules)
    from engine.batch.sources import BadInput
    from engine.batch.spark.job import default_partitions, evaluate, session
    from engine.batch.spark.output import write
    from engine.claims import lookup_from_args
    from engine.period import PeriodError

    lang = args.lang
    try:
        spark = session(args.master)
    except Exception as exc:  # noqa: BLE001 - the JVM did not start: say what to install, not a traceback
        raise CliError(f"无法启动 Spark（需要 Java 17 或更高版本）：{exc}\ncannot start Spark (Java 17 or later is needed): {exc}",
                       EXIT_USAGE) from None
    try:
        mark = time.perf_counter()
        batch = evaluate(args.enterprises, args.events, as_of=args.as_of, rules=ruleset, lang=lang, spark=spark,
                         partitions=default_partitions(), period=args.period, ledger=lookup_from_args(args))
        result = write(batch, args.out, started=started, timings={"rules": 0.0, "evaluate": time.perf_counter() - mark})
    except PeriodError as exc:
        raise CliError(exc.text(lang), EXIT_USAGE) from None
    except BadInput as exc:
        raise CliError(exc.message_en if lang == "en" else f"{exc.message_zh}\n{exc.message_en}", EXIT_BAD_INPUT) from None
    print(f"Spark {spark.version}, {batch.partitions} partitions", file=sys.stderr)
    from engine.batch.cli import report

    return report(result, lang)
