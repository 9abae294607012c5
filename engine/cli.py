"""The ``huiqi`` command.

Core commands live here; batch, drafting and scenario tools add theirs through ``register`` functions
listed in ``EXTENSIONS`` so each stays in its own module.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from engine import json_keys
from engine.claims import lookup_from_args
from engine.evaluate import evaluate
from engine.period import PeriodError
from engine.profile import ProfileError
from engine.render import render_explanation, render_text
from engine.rulebook import LoadError, RuleSet, load_rules

# 0 clean; 2 bad command line; 3 unusable input; 4 broken rules; 5 batch finished but some rows had errors.
EXIT_OK, EXIT_USAGE, EXIT_BAD_INPUT, EXIT_BAD_RULES, EXIT_ROW_ERRORS = 0, 2, 3, 4, 5
EXTENSIONS = ("engine.batch.cli", "engine.drafting.cli", "engine.bdd.cli", "engine.web.cli", "engine.ledger.cli")  # ledger adds --ledger to the others


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_BAD_INPUT):
        super().__init__(message)
        self.code = code


def as_of_date(text: str) -> date:
    from engine.textnorm import ParseError, parse_date

    try:
        return parse_date(text)
    except ParseError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_common(parser: argparse.ArgumentParser, as_of_required: bool = True) -> None:
    parser.add_argument("--as-of", type=as_of_date, required=as_of_required,
                        help="evaluation date (评估日), e.g. 2019-12-31; never the system clock")
    parser.add_argument("--rules", default=None, help="rules folder (default: the shipped rule base)")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="output language (default zh)")


def add_period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", type=period_arg, default=None,
                        help="claim round (申报期): a year (2019) or START..END (2019-01-01..2019-06-30); only events "
                             "inside it earn event benefits / 只有申报期内的事件计入事件类奖补")


def period_arg(text: str):
    from engine.period import PeriodError, parse_period

    try:
        return parse_period(text)
    except PeriodError as exc:
        raise argparse.ArgumentTypeError(f"{exc.message_zh} / {exc.message_en}") from None


def load_ruleset(path: str | None) -> RuleSet:
    try:
        return load_rules(path)
    except LoadError as exc:
        raise CliError(exc.text("zh") + "\n" + exc.text("en"), EXIT_BAD_RULES) from None


MAX_PROFILE_BYTES = 10_000_000  # one enterprise with its events; batch files go through ``huiqi batch``


def read_profile(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise CliError(f"找不到文件 / file not found: {path}")
    if file.stat().st_size > MAX_PROFILE_BYTES:
        raise CliError(f"{path}: 文件过大（超过{MAX_PROFILE_BYTES // 1_000_000} MB）/ "
                       f"file too large (over {MAX_PROFILE_BYTES // 1_000_000} MB)")
    try:
        data = json_keys.loads(file.read_text(encoding="utf-8-sig"))  # a key given twice is refused by the profile parser
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CliError(f"{path}: 不是有效的 JSON / not valid JSON: {exc}") from None
    except RecursionError:
        raise CliError(f"{path}: JSON 嵌套过深 / JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise CliError(f"{path}: 应为一个 JSON 对象 / must be a JSON object")
    return data


def run_evaluate(args: argparse.Namespace, explain_rule: str | None = None) -> int:
    ruleset = load_ruleset(args.rules)
    if explain_rule is not None and explain_rule not in ruleset.by_id:
        explain_rule = rule_by_name(explain_rule, ruleset)
    outputs = []
    for path in args.profiles:
        try:
            explain = explain_rule is not None or getattr(args, "traces", False)
            result = evaluate(read_profile(path), args.as_of, ruleset, explain=explain, period=args.period,
                              ledger=lookup_from_args(args))
        except PeriodError as exc:
            raise CliError(exc.text(args.lang), EXIT_USAGE) from None
        except ProfileError as exc:
            lines = "\n".join("  - " + e.text(args.lang) for e in exc.errors)
            raise CliError(f"{path}: {'资料有误' if args.lang == 'zh' else 'invalid profile'}:\n{lines}") from None
        if explain_rule is not None:
            outputs.append(render_explanation(result, explain_rule, args.lang))
        elif getattr(args, "format", "text") == "json":
            outputs.append(result.to_json(traces=getattr(args, "traces", False)))
        else:
            outputs.append(render_text(result, args.lang))
    sys.stdout.write(("\n" if getattr(args, "format", "text") == "json" else "\n\n").join(outputs))
    if not outputs[-1].endswith("\n"):
        sys.stdout.write("\n")
    return EXIT_OK


def rule_by_name(name: str, ruleset: RuleSet) -> str:
    """The id of the rule ``name`` names: its id, or its Chinese or English title (as scenarios name rules)."""
    from engine.bdd.world import lookup_rule
    from engine.schema import suggest

    found = lookup_rule(name, ruleset)
    if found.rule is not None:
        return found.rule.id
    if found.ambiguous:
        listed = "; ".join(f"{r.id}（{r.title} / {r.title_en}）" for r in found.ambiguous)
        raise CliError(f"规则名称「{name}」不唯一，请改用规则编号 / rule title '{name}' is ambiguous, use the rule id: {listed}",
                       EXIT_USAGE)
    hint = suggest(name, ruleset.by_id)
    raise CliError(f"未知规则 / unknown rule: {name}" + (f"（是否想写 / did you mean {hint}?）" if hint else ""), EXIT_USAGE)


def run_rules_list(args: argparse.Namespace) -> int:
    from engine.render_rules import rules_table

    ruleset = load_ruleset(args.rules)
    sys.stdout.write(rules_table(ruleset, args.as_of, args.lang))
    return EXIT_OK


class _Version(argparse.Action):
    """``--version``: loads the shipped rules only when asked (their fingerprint is part of the answer)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from engine.about import version_text

        sys.stdout.write(version_text(load_ruleset(None)))
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="huiqi", description="惠企 Huiqi: Liaoning IP policy benefits, cited and explained")
    parser.add_argument("--version", action=_Version, help="version and rule-set fingerprint / 版本与规则集指纹")
    commands = parser.add_subparsers(dest="command", required=True)

    ev = commands.add_parser("evaluate", help="evaluate profiles (JSON) / 评估主体")
    ev.add_argument("profiles", nargs="+", help="profile JSON file(s)")
    add_common(ev)
    add_period(ev)
    ev.add_argument("--format", choices=("text", "json"), default="text")
    ev.add_argument("--traces", action="store_true", help="with --format json: include every rule's decision")
    ev.set_defaults(handler=run_evaluate)

    ex = commands.add_parser("explain", help="explain one rule for a profile / 解释一条规则")
    ex.add_argument("profiles", nargs=1, help="profile JSON file")
    ex.add_argument("--rule", required=True, help="rule id or title (zh or en) / 规则编号或名称")
    add_common(ex)
    add_period(ex)
    ex.set_defaults(handler=lambda a: run_evaluate(a, a.rule))

    rules = commands.add_parser("rules", help="the rule base / 规则库")
    rules_commands = rules.add_subparsers(dest="rules_command", required=True)
    rl = rules_commands.add_parser("list", help="every rule with its window and source / 列出规则")
    add_common(rl, as_of_required=False)
    rl.set_defaults(handler=run_rules_list)

    for name in EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # that tool is not part of this build
            raise
        module.register(commands, rules_commands)
    return parser


EXIT_INTERNAL = 70  # sysexits EX_SOFTWARE: a bug in Huiqi, never a problem with the user's input
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return args.handler(args)
    except CliError as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        _drain_interrupts()
        print("已中断 / interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # unreadable/unwritable file, full disk: the environment, not a bug
        print(f"无法读写文件 / cannot read or write a file: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - last resort: expected errors are CliError (above)
        limit = getattr(sys.modules.get("engine.durable_driver"), "EngineLimitError", None)
        if limit is not None and isinstance(exc, limit):  # a rule set durable_rules cannot run: the rules' fault
            print(f"规则集超出 durable_rules 引擎的限制 / the rule set exceeds what durable_rules can run: {exc}", file=sys.stderr)
            return EXIT_BAD_RULES
        return _internal_error(exc)


def _drain_interrupts() -> None:
    """polars turns one Ctrl-C into a KeyboardInterrupt and Python may raise it once more at its next check
    (engine.output_safety): let such a pending one pass while SIGINT is ignored, so the interrupted run still ends
    with its own exit code, then put the handler back (children started later must still get Ctrl-C)."""
    import signal

    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to drain here
        return
    try:
        for _ in range(1000):  # the loop's back-edges are where the interpreter delivers pending signals
            pass
    finally:
        signal.signal(signal.SIGINT, previous)


def _internal_error(exc: BaseException) -> int:
    """Print a short bilingual message, keep the traceback in a file (or show it with HUIQI_DEBUG=1)."""
    import os
    import tempfile
    import traceback

    details = "".join(traceback.format_exception(exc))
    if os.environ.get("HUIQI_DEBUG"):
        sys.stderr.write(details)
        where = "above / 见上"
    else:
        try:
            fd, where = tempfile.mkstemp(prefix="huiqi-error-", suffix=".txt")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(details)
        except OSError:
            where = "(could not be saved; rerun with HUIQI_DEBUG=1 / 无法保存，请设置 HUIQI_DEBUG=1 重试)"
    print(f"Huiqi 内部错误（程序缺陷，不是输入的问题）/ internal error in Huiqi (a bug, not a problem with your input): "
          f"{type(exc).__name__}\n详细信息 / details: {where}\n请将此文件与所用命令一并报告 / "
          "please report it with the command you ran", file=sys.stderr)
    return EXIT_INTERNAL


if __name__ == "__main__":
    # Run the engine.cli module, not this __main__ copy: extensions raise engine.cli.CliError, which a
    # second copy of the class would not catch.
    from engine.cli import main as _main

    sys.exit(_main())
