"""``huiqi batch``: evaluate a whole list of enterprises and write checkable tables.

Exit codes (``engine.cli``): 0 clean; 5 finished but some rows had errors (good rows still written);
3 unusable input; 4 broken rules; 2 bad command line. Nothing heavy is imported until the command runs,
so ``--workers`` can still set the polars thread pool.
"""

from __future__ import annotations

import argparse
import os
import sys


def register(commands: argparse._SubParsersAction, rules_commands: argparse._SubParsersAction) -> None:
    """Add ``huiqi batch``."""
    from engine.cli import add_common, add_period

    batch = commands.add_parser(
        "batch", help="evaluate a list of enterprises (xlsx/csv/parquet/jsonl) / 批量评估",
        description="Evaluate every enterprise of ENTERPRISES as of --as-of and write summary, benefit lines, per-entity "
                    "totals, undetermined, requirements, withheld, superseded, error and notes tables plus a manifest. "
                    "批量评估：输出汇总、补贴明细、企业汇总、待定、要求核查、取消、被替代、错误、说明表和清单文件。")
    batch.add_argument("enterprises", help="enterprise list: .xlsx (sheets 企业 and 事件), .csv, .parquet or .jsonl")
    batch.add_argument("--events", default=None, help="events file (.xlsx/.csv/.parquet/.jsonl) linked by credit code")
    batch.add_argument("-o", "--out", required=True, help="output .xlsx file, or folder for csv/parquet/jsonl")
    batch.add_argument("--format", choices=("xlsx", "csv", "parquet", "jsonl"), default=None,
                       help="output format (default: xlsx when OUT ends in .xlsx)")
    batch.add_argument("--workers", type=int, default=None, help="threads to use (default: all cores)")
    batch.add_argument("--chunk-rows", type=int, default=None,
                       help="enterprises per chunk for very large .parquet/.csv inputs (chunked above 3x this; "
                            "default 500000) / 超大输入分块处理的每块企业数")
    batch.add_argument("--engine", choices=("columnar", "spark"), default="columnar",
                       help="columnar: this machine (default); spark: Apache Spark, Parquet or table names in, Parquet out "
                            "(pip install huiqi[spark]) / 计算引擎")
    batch.add_argument("--master", default=None, help="with --engine spark: local[2], spark://host:7077, yarn… "
                                                      "(default: spark-submit's, else local[*])")
    add_common(batch)
    add_period(batch)
    batch.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from engine.cli import EXIT_BAD_INPUT, EXIT_USAGE, CliError, load_ruleset

    if args.engine == "spark":
        from engine.batch.spark.cli import run_spark

        return run_spark(args)

    fmt = args.format or ("xlsx" if str(args.out).lower().endswith(".xlsx") else None)
    if fmt is None:
        raise CliError("请用 --format 指定输出格式（xlsx、csv、parquet、jsonl），或让 -o 以 .xlsx 结尾\n"
                       "give --format (xlsx, csv, parquet, jsonl) or an -o ending in .xlsx", EXIT_USAGE)
    if args.workers is not None:
        if args.workers < 1:
            raise CliError("--workers 应为正整数 / --workers must be a positive number", EXIT_USAGE)
        # Assigned, not setdefault: an inherited POLARS_MAX_THREADS must not silently win over --workers.
        os.environ["POLARS_MAX_THREADS"] = str(args.workers)
        if "polars" in sys.modules:  # only in-process callers: the pool is fixed once polars is imported
            import polars

            if polars.thread_pool_size() != args.workers:
                print(f"--workers {args.workers} 未生效：polars 已按 {polars.thread_pool_size()} 个线程启动 / "
                      f"--workers {args.workers} not applied: polars already runs {polars.thread_pool_size()} threads "
                      "(the manifest records both)", file=sys.stderr)
    if args.chunk_rows is not None and args.chunk_rows < 1:
        raise CliError("--chunk-rows 应为正整数 / --chunk-rows must be a positive number", EXIT_USAGE)
    ruleset = load_ruleset(args.rules)

    from engine.batch.run import run_batch
    from engine.batch.sources import BadInput
    from engine.claims import lookup_from_args
    from engine.output_safety import OutputRefused
    from engine.period import PeriodError

    lang = args.lang
    with _progress() as progress:
        try:
            result = run_batch(args.enterprises, args.events, as_of=args.as_of, rules=ruleset, out=args.out, fmt=fmt,
                               lang=lang, workers=args.workers, progress=progress,
                               chunk_rows=args.chunk_rows, period=args.period, ledger=lookup_from_args(args))
        except PeriodError as exc:
            raise CliError(exc.text(lang), EXIT_USAGE) from None
        except (BadInput, OutputRefused) as exc:
            raise CliError(exc.message_en if lang == "en" else f"{exc.message_zh}\n{exc.message_en}", EXIT_BAD_INPUT) from None
        except Exception as exc:
            if not _io_failure(exc):
                raise
            raise CliError(f"无法读写文件（磁盘已满、只读文件系统、无权限或路径不对？）：{exc}\n"
                           f"cannot read or write a file (disk full, read-only file system, no permission or wrong path?): "
                           f"{exc}", EXIT_BAD_INPUT) from None
    return report(result, lang)


def report(result, lang: str) -> int:
    """Print where the batch wrote, its totals and the row accounting; the exit code (also for ``--engine spark``)."""
    from engine.cli import EXIT_OK, EXIT_ROW_ERRORS

    stable = result.manifest["stable"]
    total = stable["results"]["total_yuan"]
    written = ", ".join(str(p) for p in result.files[:1]) + (f" (+{len(result.files) - 1})" if len(result.files) > 1 else "")
    counts = stable["results"]
    skipped = stable["rows"]["enterprises_not_evaluated"]
    if lang == "en":
        print(f"wrote {written}", file=sys.stderr)
        print(f"enterprises evaluated {stable['rows']['enterprises_evaluated']} (receiving money "
              f"{counts['entities_with_money']}, receiving support measures without an amount "
              f"{counts['entities_with_support_measures']}), benefit lines {counts['benefit_lines']}, "
              f"total {total} yuan, undetermined {counts['undetermined']}; enterprise rows not evaluated "
              f"{sum(skipped.values())} (errors {skipped['errors']}, duplicate credit codes {skipped['duplicate']})",
              file=sys.stderr)
    else:
        print(f"已写出 {written}", file=sys.stderr)
        print(f"评估企业 {stable['rows']['enterprises_evaluated']} 家（获资金补贴 {counts['entities_with_money']} 家，"
              f"获无具体金额的支持措施 {counts['entities_with_support_measures']} 家），补贴 {counts['benefit_lines']} 条，"
              f"合计 {total} 元，待定 {counts['undetermined']} 条；未评估企业行 {sum(skipped.values())} 行（有错误 "
              f"{skipped['errors']}，信用代码重复 {skipped['duplicate']}）", file=sys.stderr)
    round_ = stable.get("round")
    if round_ is not None:
        if lang == "en":
            print(f"claim round {round_['period'] or '(whole history)'}: new {round_['new_lines']} lines, "
                  f"{round_['new_yuan']} yuan; already paid {round_['already_paid_lines']} lines, "
                  f"{round_['already_paid_yuan']} yuan", file=sys.stderr)
        else:
            print(f"申报期 {round_['period'] or '（全部历史）'}：本轮新增 {round_['new_lines']} 条，{round_['new_yuan']} 元；"
                  f"已兑现 {round_['already_paid_lines']} 条，{round_['already_paid_yuan']} 元", file=sys.stderr)
    print(result.accounting_line(lang))
    ignored = result.ignored_line(lang)
    if ignored is not None:  # never dropped without a word
        print(ignored)
    if not result.clean:
        hint = ("some rows had errors: see the errors table" if lang == "en"
                else "部分行有错误，详见“错误”表；其余行已正常评估并写出")
        print(hint, file=sys.stderr)
        return EXIT_ROW_ERRORS
    return EXIT_OK


def _io_failure(exc: BaseException) -> bool:
    """The environment refused a read or write (full disk, read-only file system, permissions…): exit 3, not a bug.

    OSError itself; xlsxwriter's file errors; polars' parquet writer, which reports the OS error as a ComputeError.
    """
    if isinstance(exc, OSError):
        return True
    from xlsxwriter.exceptions import XlsxFileError

    if isinstance(exc, XlsxFileError):
        return True
    import polars

    return isinstance(exc, polars.exceptions.ComputeError) and "(os error " in str(exc)


class _progress:
    """A rich progress bar on stderr when stderr is a terminal; otherwise nothing."""

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                            TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self.bar.__enter__()
        self.tasks: dict[str, int] = {}
        names = {"read": "读取 read", "evaluate": "评估 evaluate", "write": "写出 write"}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in self.tasks:
                self.tasks[stage] = self.bar.add_task(names.get(stage, stage), total=total)
            self.bar.update(self.tasks[stage], completed=done, total=total)

        return update

    def __exit__(self, *exc) -> None:
        bar = getattr(self, "bar", None)
        if bar is not None:
            bar.__exit__(*exc)

