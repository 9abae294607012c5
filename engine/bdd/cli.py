"""``huiqi features …``: the drafters' scenario tools on the command line."""

from __future__ import annotations

import argparse


def run_check(args: argparse.Namespace) -> int:
    from engine.bdd.lint import main

    return main(args.paths, args.rules, args.lang)


def run_steps(args: argparse.Namespace) -> int:
    from engine.bdd.sentences import vocabulary_text

    print(vocabulary_text())
    return 0


def register(commands: argparse._SubParsersAction, rules_commands: argparse._SubParsersAction) -> None:
    """Add ``huiqi features check`` and ``huiqi features steps``."""
    features = commands.add_parser("features", help="policy scenarios (.feature files) / 政策场景")
    sub = features.add_subparsers(dest="features_command", required=True)
    check = sub.add_parser("check", help="lint feature files: duplicate scenarios, unknown sentences and rules / 检查功能文件")
    check.add_argument("paths", nargs="*", default=["features"], help="feature files or folders (default: features)")
    check.add_argument("--rules", default=None, help="rules folder to check rule names against (default: the shipped rule base)")
    check.add_argument("--lang", choices=("zh", "en"), default="zh", help="message language (default zh)")
    check.set_defaults(handler=run_check)
    steps = sub.add_parser("steps", help="print the scenario vocabulary / 列出场景用语")
    steps.set_defaults(handler=run_steps)
