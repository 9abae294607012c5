"""``huiqi ledger``: init, record, show, export (the payment ledger, 兑现台账).

Each command is one transaction: a refused line, an error or a kill leaves the ledger exactly as it was.
Exit codes as ``engine.cli``: 0 done; 3 refused or unusable input (nothing recorded); 4 broken rules; 2 usage.
"""

from __future__ import annotations

import argparse
import sys


def register(commands: argparse._SubParsersAction, rules_commands: argparse._SubParsersAction) -> None:
    """Add ``huiqi ledger``, and ``--ledger URL`` to ``huiqi evaluate|explain|batch|serve`` (``engine.claims.lookup_from_args``)."""
    for name in ("evaluate", "explain", "batch", "serve"):
        if name in commands.choices:
            commands.choices[name].add_argument(
                "--ledger", default=None, metavar="URL", type=_usable_ledger,
                help="payment ledger (claims.db, sqlite:///…, postgresql://…): lines already approved or paid are "
                     "reported as already paid and leave the total / 兑现台账：已兑现的不再计入合计")
    ledger = commands.add_parser("ledger", help="the payment ledger (SQLite or PostgreSQL) / 兑现台账")
    sub = ledger.add_subparsers(dest="ledger_command", required=True)

    init = sub.add_parser("init", help="create the ledger or migrate it to this version's schema / 初始化或升级台账")
    init.add_argument("url", help="claims.db, sqlite:///claims.db or postgresql://user@host/db")
    _lang(init)
    init.set_defaults(handler=run_init)

    record = sub.add_parser("record", help="record an approved benefit-lines sheet / 将审批后的补贴明细记入台账",
                            description="Record the benefit-lines sheet huiqi batch wrote, as edited by the clerk: deleted "
                                        "rows are not approved; an amount may be lowered by hand, never raised.")
    record.add_argument("results", help="the batch's .xlsx, or its csv folder / lines.csv")
    _url(record)
    record.add_argument("--round", required=True, help="round name (申报轮次), e.g. 2019")
    record.add_argument("--status", required=True, choices=("paid", "approved"), help="paid (已兑现) or approved (已批准)")
    record.add_argument("--operator", default=None, help="who records (经办人)")
    record.add_argument("--manifest", default=None, help="the batch's manifest (default: next to RESULTS)")
    record.add_argument("--rules", default=None, help="the rules folder the batch used (default: the shipped rules)")
    _lang(record)
    record.set_defaults(handler=run_record)

    revoke = sub.add_parser("revoke", help="revoke (or reject) one recorded claim, freeing its once-key / 撤销一条记录",
                            description="Mark an approved or paid claim revoked (撤销) or rejected (驳回): it stays in the "
                                        "ledger for the record, and the award may be recorded again (e.g. with a corrected amount).")
    _url(revoke)
    revoke.add_argument("--credit-code", required=True, help="统一社会信用代码")
    revoke.add_argument("--once-key", required=True, help="一次性键 (from the benefit-lines sheet or ledger show)")
    revoke.add_argument("--status", choices=("revoked", "rejected"), default="revoked")
    revoke.add_argument("--operator", default=None, help="who revokes (经办人)")
    revoke.add_argument("--note", default=None, help="why (原因)")
    _lang(revoke)
    revoke.set_defaults(handler=run_revoke)

    show = sub.add_parser("show", help="one enterprise's claims / 查询企业的兑现记录")
    _url(show)
    show.add_argument("--credit-code", required=True, help="统一社会信用代码")
    _lang(show)
    show.set_defaults(handler=run_show)

    export = sub.add_parser("export", help="the whole ledger as .xlsx (or a csv folder) / 导出台账")
    _url(export)
    export.add_argument("-o", "--out", required=True, help="ledger.xlsx, or a folder with --format csv")
    export.add_argument("--format", choices=("xlsx", "csv"), default=None)
    _lang(export)
    export.set_defaults(handler=run_export)


def _usable_ledger(url: str) -> str:
    """``--ledger`` of evaluate/explain/batch: a ledger that opens and is at this schema, checked while parsing so a
    wrong URL is a usage error (exit 2) with a plain message, not a failure halfway through an evaluation."""
    try:
        from sqlalchemy.exc import SQLAlchemyError

        from engine.ledger.db import LedgerError
        from engine.ledger.lookup import open_lookup
    except ModuleNotFoundError:
        raise argparse.ArgumentTypeError("台账功能需要安装 huiqi[ledger] / the ledger needs: pip install 'huiqi[ledger]'") from None
    try:
        open_lookup(url).engine.dispose()
    except LedgerError as exc:
        raise argparse.ArgumentTypeError(f"{exc.message_zh} / {exc.message_en}") from None
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise argparse.ArgumentTypeError(f"无法使用台账数据库 / cannot use the ledger database: {detail}") from None
    return url


def _url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ledger", required=True, help="claims.db, sqlite:///claims.db or postgresql://user@host/db")


def _lang(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")


class _guard:
    """LedgerError and database failures → CliError (exit 3) with a bilingual message; a missing extra → exit 2."""

    def __init__(self, lang: str):
        self.lang = lang
        try:
            import alembic  # noqa: F401
            import sqlalchemy  # noqa: F401
        except ModuleNotFoundError:
            from engine.cli import EXIT_USAGE, CliError

            raise CliError("台账功能需要安装 huiqi[ledger]：pip install 'huiqi[ledger]'\n"
                           "the ledger needs the ledger extra: pip install 'huiqi[ledger]'", EXIT_USAGE) from None

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, _tb) -> bool:
        if exc is None:
            return False
        from sqlalchemy.exc import OperationalError

        from engine.cli import EXIT_BAD_INPUT, CliError
        from engine.ledger.db import LedgerError

        if isinstance(exc, LedgerError):
            raise CliError(exc.text(self.lang), EXIT_BAD_INPUT) from None
        if isinstance(exc, OperationalError):
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            message = (f"cannot use the ledger database: {detail}" if self.lang == "en"
                       else f"无法使用台账数据库：{detail}\ncannot use the ledger database: {detail}")
            raise CliError(message, EXIT_BAD_INPUT) from None
        return False


def run_init(args: argparse.Namespace) -> int:
    from engine.ledger.db import connect
    from engine.ledger.migrate import upgrade

    with _guard(args.lang):
        before, after = upgrade(connect(args.url, create=True))
    if before == after:
        print(f"the ledger is up to date (schema {after})" if args.lang == "en" else f"台账已是最新（结构版本 {after}）")
    elif before is None:
        print(f"ledger created (schema {after})" if args.lang == "en" else f"台账已创建（结构版本 {after}）")
    else:
        print(f"ledger migrated from schema {before} to {after}" if args.lang == "en"
              else f"台账已从结构版本 {before} 升级到 {after}")
    return 0


def run_record(args: argparse.Namespace) -> int:
    from engine.cli import load_ruleset
    from engine.ledger.db import connect
    from engine.ledger.migrate import require_current
    from engine.ledger.report import record_summary
    from engine.ledger.sheet import read_claims
    from engine.ledger.store import record

    rules = load_ruleset(args.rules)
    with _guard(args.lang):
        engine = connect(args.ledger)
        require_current(engine)
        sheet = read_claims(args.results, args.round, rules, args.manifest)
        report = record(engine, sheet.round, sheet.lines, args.status, args.operator)
    sys.stdout.write(record_summary(report, sheet, args.status, args.lang))
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    from engine.batch.money import plain_yuan
    from engine.credit_code import normalise_credit_code
    from engine.ledger.db import connect
    from engine.ledger.report import STATUS
    from engine.ledger.store import revoke

    code = normalise_credit_code(args.credit_code)
    with _guard(args.lang):
        held = revoke(connect(args.ledger), code, args.once_key.strip(), args.status, args.operator, args.note)
    amount = "—" if held["amount_fen"] is None else plain_yuan(held["amount_fen"])
    was, now = STATUS[held["status"]], STATUS[args.status]
    print(f"{code} {args.once_key}: {was[1]} in round {held['round']} ({held['rule_id']}, {amount} yuan) → {now[1]}"
          if args.lang == "en" else
          f"{code} {args.once_key}：轮次 {held['round']} 的{was[0]}记录（{held['rule_id']}，{amount} 元）已改为{now[0]}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from engine.credit_code import normalise_credit_code
    from engine.ledger.db import connect
    from engine.ledger.read import claims_frame
    from engine.ledger.report import claims_text

    code = normalise_credit_code(args.credit_code)
    with _guard(args.lang):
        frame = claims_frame(connect(args.ledger), [code])
    sys.stdout.write(claims_text(frame, code, args.lang))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.batch.write import write_output
    from engine.ledger.db import connect
    from engine.ledger.migrate import current_revision
    from engine.ledger.read import claims_frame, rounds_frame
    from engine.ledger.report import export_manifest, export_tables

    fmt = args.format or ("xlsx" if str(args.out).lower().endswith(".xlsx") else "csv")
    with _guard(args.lang):
        engine = connect(args.ledger)
        rounds, claims = rounds_frame(engine), claims_frame(engine)
        revision = current_revision(engine)
    out = Path(args.out)
    files = write_output(export_tables(rounds, claims, args.lang), out, fmt, export_manifest(out, rounds, claims, revision))
    print(f"wrote {files[0]}: {rounds.height} round(s), {claims.height} claim line(s)" if args.lang == "en"
          else f"已写出 {files[0]}：轮次 {rounds.height} 个，记录 {claims.height} 条")
    return 0
