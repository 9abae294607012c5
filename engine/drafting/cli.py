"""``huiqi rules check``, ``huiqi rules show`` and ``huiqi diff``: the drafters' tools."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.cli import (
    EXIT_BAD_INPUT,
    EXIT_BAD_RULES,
    EXIT_OK,
    EXIT_ROW_ERRORS,
    EXIT_USAGE,
    CliError,
    as_of_date,
    load_ruleset,
)
from engine.output_safety import atomic_file
from engine.rulebook import default_rules_dir


def register(commands, rules_commands) -> None:
    """Add ``diff`` to the top-level commands and ``check`` / ``show`` to ``huiqi rules``."""
    check = rules_commands.add_parser("check", help="static checks of a rule base / 规则静态检查")
    check.add_argument("path", nargs="?", default=None, help="rules folder or file (default: the shipped rules)")
    check.add_argument("--as-of", type=as_of_date, default=None, help="also warn about what has expired by this date")
    check.add_argument("--sources", default=None, help="folder of source texts (default: the rules' sources/ folder, else the shipped texts)")
    check.add_argument("--lang", choices=("zh", "en"), default="zh")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(handler=run_check)

    show = rules_commands.add_parser("show", help="the rule base as a publishable catalogue / 规则目录")
    show.add_argument("path", nargs="?", default=None, help="rules folder (default: the shipped rules)")
    show.add_argument("--format", choices=("md", "html"), default=None, help="default: from -o's suffix, else md")
    show.add_argument("--as-of", type=as_of_date, default=None, help="show parameter values at this date in formulas")
    show.add_argument("--lang", choices=("zh", "en"), default="zh")
    show.add_argument("-o", "--output", default=None, help="write to this file instead of the terminal")
    show.set_defaults(handler=run_show)

    diff = commands.add_parser("diff", help="impact of a rule change on a population / 规则修改影响分析")
    diff.add_argument("base", help="current rules folder")
    diff.add_argument("proposed", help="proposed rules folder")
    diff.add_argument("--population", required=True, help="enterprises: .xlsx .csv .parquet .jsonl .json or a folder of JSON")
    diff.add_argument("--events", default=None, help="events table, linked by 统一社会信用代码")
    diff.add_argument("--as-of", type=as_of_date, required=True, help="evaluation date (评估日)")
    diff.add_argument("-o", "--output", action="append", default=[], help="report.xlsx or report.html (repeatable)")
    diff.add_argument("--lang", choices=("zh", "en"), default="zh")
    diff.add_argument("--backend", choices=("durable", "python"), default="durable", help=argparse.SUPPRESS)
    diff.set_defaults(handler=run_diff_command)


def run_check(args: argparse.Namespace) -> int:
    from engine.drafting.check import check_rules, problem_dict, render

    if args.path is not None and not Path(args.path).exists():
        raise CliError(f"找不到规则目录 / rules path not found: {args.path}", EXIT_USAGE)
    result = check_rules(args.path, args.as_of, args.sources)
    if args.format == "json":
        sys.stdout.write(json.dumps([problem_dict(p) for p in result.problems], ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render(result, args.lang))
    return EXIT_BAD_RULES if result.errors else EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    from engine.drafting.catalogue import render_html, render_markdown

    rules = load_ruleset(args.path)
    if args.output:
        _check_outputs([args.output], [args.path or default_rules_dir()])
    fmt = args.format or ("html" if args.output and args.output.lower().endswith((".html", ".htm")) else "md")
    text = (render_html if fmt == "html" else render_markdown)(rules, args.as_of, args.lang)
    if args.output:
        _write_text(args.output, text)
        print(f"{'已写入' if args.lang == 'zh' else 'wrote'} {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _check_outputs(outputs: list[str], inputs: list[str]) -> None:
    """Exit 3 before any work when a report would replace an input (``engine.output_safety``)."""
    from engine.output_safety import OutputRefused, check_not_an_input

    for output in outputs:
        try:
            check_not_an_input(output, inputs, folder=False)
        except OutputRefused as exc:
            raise CliError(f"{exc.message_zh}\n{exc.message_en}", EXIT_BAD_INPUT) from None


def _write_text(output: str, text: str) -> None:
    """A report file written atomically (through a symbolic link to its target)."""
    with atomic_file(output) as tmp:
        tmp.write_text(text, encoding="utf-8")


def run_diff_command(args: argparse.Namespace) -> int:
    from engine.drafting.diff import label_of, render_terminal, run_diff
    from engine.drafting.population import PopulationError, read_population

    for output in args.output:
        if not output.lower().endswith((".xlsx", ".html", ".htm", ".txt")):
            raise CliError(f"-o 只支持 .xlsx、.html、.txt / -o takes .xlsx, .html or .txt: {output}", EXIT_USAGE)
    _check_outputs(args.output, [p for p in (args.population, args.events, args.base, args.proposed) if p is not None])
    base = load_ruleset(args.base)
    proposed = load_ruleset(args.proposed)
    try:
        population = read_population(args.population, args.events)
    except PopulationError as exc:
        raise CliError(str(exc), EXIT_BAD_INPUT) from None
    if not population.profiles:
        raise CliError("评估对象中没有可读取的主体 / no readable entity in the population:\n" + "\n".join(population.errors),
                       EXIT_BAD_INPUT)
    report = run_diff(base, proposed, population.profiles, args.as_of, population.labels, population.errors,
                      label_of(args.base), label_of(args.proposed), Path(args.population).name, args.backend, lang=args.lang,
                      rows_in=population.rows_in, rows_not_read=population.rows_not_read)
    text = render_terminal(report, args.lang)
    for output in args.output:
        lower = output.lower()
        if lower.endswith(".xlsx"):
            from engine.drafting.report_xlsx import write_xlsx

            with atomic_file(output) as tmp:
                write_xlsx(report, tmp, args.lang)
        elif lower.endswith(".txt"):
            _write_text(output, text)
        else:
            from engine.drafting.report_html import render_html

            _write_text(output, render_html(report, args.lang))
        print(f"{'已写入' if args.lang == 'zh' else 'wrote'} {output}", file=sys.stderr)
    sys.stdout.write(text)
    if report.has_row_errors:  # as huiqi batch: the report is written, but it leaves rows out
        print("部分行无法读取，未计入报告（见“无法读取的行”）/ some rows could not be read and are not in the report",
              file=sys.stderr)
        return EXIT_ROW_ERRORS
    return EXIT_OK
