"""Recording claim lines: one transaction per command, uniqueness enforced by the database.

``record`` reads the active claims of the sheet's enterprises, decides each line (new, unchanged, approved →
paid, or a conflict), and inserts the new ones. Any conflict refuses the whole command: nothing is written,
not even the round. A concurrent writer that inserted the same once-key between our read and our insert
makes the database refuse ours (the partial unique index); the transaction is then rolled back and run
again from the start, and finds the line already there. So two clerks recording the same sheet at once
pay it exactly once, on SQLite (whose writers queue on ``BEGIN IMMEDIATE``) and on PostgreSQL alike.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, and_, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from engine.batch.money import plain_yuan
from engine.ledger.db import LedgerError, writing
from engine.ledger.migrate import require_current
from engine.ledger.schema import ACTIVE, claims, rounds

RETRIES = 5
_IN_CHUNK = 900  # credit codes per IN (…) list: far below SQLite's and PostgreSQL's parameter limits

# Test hooks (tests/test_ledger_*.py): write a marker file when a command starts, or write one inside the
# open transaction and wait there (until "<marker>.release" appears or the pause ends), so a test can kill the
# process or let a second writer run into the transaction in flight.
START_FILE_ENV = "HUIQI_LEDGER_TEST_START_FILE"
PAUSE_FILE_ENV, PAUSE_SECONDS_ENV = "HUIQI_LEDGER_TEST_PAUSE_FILE", "HUIQI_LEDGER_TEST_PAUSE_S"


@dataclass(frozen=True)
class RoundInfo:
    name: str
    as_of: date
    rules_fingerprint: str
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True)
class ClaimLine:
    """One line to record; ``where`` says where it came from (e.g. "补贴明细 row 7") for messages."""

    credit_code: str
    rule_id: str
    once_key: str
    amount_fen: int | None
    event_type: str | None = None
    event_date: date | None = None
    event_ref: str | None = None
    note: str | None = None
    where: str = ""


@dataclass
class Conflict:
    line: ClaimLine
    message_zh: str
    message_en: str


class LedgerConflict(LedgerError):
    """Lines the ledger refuses; nothing was recorded."""

    def __init__(self, conflicts: list[Conflict]):
        self.conflicts = conflicts
        zh = "\n".join(f"  - {c.line.where}：{c.message_zh}" for c in conflicts)
        en = "\n".join(f"  - {c.line.where}: {c.message_en}" for c in conflicts)
        super().__init__(f"台账拒绝了 {len(conflicts)} 行，本次未记录任何内容：\n{zh}",
                         f"the ledger refused {len(conflicts)} line(s); nothing was recorded:\n{en}")


@dataclass
class RecordReport:
    round_name: str
    round_created: bool
    inserted: list[ClaimLine] = field(default_factory=list)
    upgraded: list[ClaimLine] = field(default_factory=list)  # approved → paid
    unchanged: list[tuple[ClaimLine, str]] = field(default_factory=list)  # (line, round it is recorded in)

    @property
    def changed(self) -> bool:
        return self.round_created or bool(self.inserted or self.upgraded)


def now() -> datetime:
    """Audit timestamps (when a clerk recorded a line): the only use of the clock in Huiqi, never in evaluation."""
    return datetime.now(UTC)


def record(engine: Engine, round_info: RoundInfo, lines: Sequence[ClaimLine], status: str,
           operator: str | None = None) -> RecordReport:
    """Record ``lines`` as ``status`` (approved | paid) in round ``round_info`` in one transaction."""
    if status not in ACTIVE:
        raise ValueError("status must be approved or paid")
    if os.environ.get(START_FILE_ENV):
        Path(os.environ[START_FILE_ENV]).write_text("started\n", encoding="utf-8")
    require_current(engine)
    for attempt in range(RETRIES):
        try:
            with writing(engine) as connection:
                report = _record(connection, round_info, lines, status, operator)
                _test_pause()
                return report
        except IntegrityError:  # a concurrent writer took a once-key (or the round name) first: start again
            if attempt == RETRIES - 1:
                raise
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == RETRIES - 1:
                raise
        time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _test_pause() -> None:
    marker = os.environ.get(PAUSE_FILE_ENV)
    if marker:
        Path(marker).write_text("in transaction\n", encoding="utf-8")
        release = Path(marker + ".release")
        deadline = time.monotonic() + float(os.environ.get(PAUSE_SECONDS_ENV, "30"))
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.02)


def _record(connection: Connection, info: RoundInfo, lines: Sequence[ClaimLine], status: str,
            operator: str | None) -> RecordReport:
    round_id, created, names = _round(connection, info)
    report = RecordReport(info.name, created)
    existing = _active(connection, {line.credit_code for line in lines})
    seen: dict[tuple[str, str], ClaimLine] = {}
    conflicts: list[Conflict] = []
    for line in lines:
        key = (line.credit_code, line.once_key)
        if key in seen:
            first = seen[key]
            if (first.rule_id, first.amount_fen) != (line.rule_id, line.amount_fen):
                conflicts.append(Conflict(line, f"与 {first.where} 的一次性键相同（{line.once_key}），规则或金额却不同",
                                          f"same once-key as {first.where} ({line.once_key}) with another rule or amount"))
            continue
        seen[key] = line
        held = existing.get(key)
        if held is None:
            report.inserted.append(line)
        elif (held["rule_id"], held["amount_fen"]) != (line.rule_id, line.amount_fen):
            conflicts.append(_conflict(line, held, names))
        elif held["status"] == "approved" and status == "paid":
            report.upgraded.append(line)
        else:
            report.unchanged.append((line, names[held["round_id"]]))
    if conflicts:
        raise LedgerConflict(conflicts)
    stamp = now()
    if report.inserted:
        connection.execute(insert(claims), [
            {"credit_code": line.credit_code, "rule_id": line.rule_id, "once_key": line.once_key,
             "event_type": line.event_type, "event_date": line.event_date, "event_ref": line.event_ref,
             "amount_fen": line.amount_fen, "status": status, "round_id": round_id, "operator": operator,
             "note": line.note, "recorded_at": stamp, "updated_at": stamp} for line in report.inserted])
    for line in report.upgraded:
        connection.execute(update(claims).where(and_(claims.c.credit_code == line.credit_code,
                                                     claims.c.once_key == line.once_key, claims.c.status == "approved"))
                           .values(status="paid", updated_at=stamp, operator=operator))
    return report


def revoke(engine: Engine, credit_code: str, once_key: str, status: str = "revoked", operator: str | None = None,
           note: str | None = None) -> dict:
    """Mark the active claim of (credit code, once-key) revoked (撤销) or rejected (驳回), freeing its once-key;
    returns the claim as it was. One transaction; raises ``LedgerError`` when there is no active claim."""
    if status not in ("revoked", "rejected"):
        raise ValueError("status must be revoked or rejected")
    require_current(engine)
    with writing(engine) as connection:
        where = and_(claims.c.credit_code == credit_code, claims.c.once_key == once_key, claims.c.status.in_(ACTIVE))
        held = connection.execute(select(claims, rounds.c.name.label("round")).join(rounds, rounds.c.id == claims.c.round_id)
                                  .where(where)).mappings().first()
        if held is None:
            raise LedgerError(f"台账中没有 {credit_code} 的一次性键 {once_key} 的有效记录（已批准或已兑现）",
                              f"the ledger holds no approved or paid claim of {credit_code} for once-key {once_key}")
        text = "; ".join(t for t in (held["note"], note) if t) or None
        connection.execute(update(claims).where(claims.c.id == held["id"])
                           .values(status=status, operator=operator or held["operator"], note=text, updated_at=now()))
        return dict(held)


def _conflict(line: ClaimLine, held: dict, names: dict[int, str]) -> Conflict:
    was = f"{plain_yuan(held['amount_fen'])}" if held["amount_fen"] is not None else "—"
    new = f"{plain_yuan(line.amount_fen)}" if line.amount_fen is not None else "—"
    status_zh = {"approved": "已批准", "paid": "已兑现"}[held["status"]]
    return Conflict(
        line,
        f"一次性键 {line.once_key} 已在轮次“{names[held['round_id']]}”记为{status_zh}（规则 {held['rule_id']}，{was} 元），"
        f"本行为规则 {line.rule_id}、{new} 元：同一奖励不能再记一次；如需更正，请先撤销原记录",
        f"once-key {line.once_key} is already {held['status']} in round '{names[held['round_id']]}' "
        f"(rule {held['rule_id']}, {was} yuan); this line says rule {line.rule_id}, {new} yuan: the same award cannot "
        "be recorded again; revoke the earlier line first to correct it")


def _round(connection: Connection, info: RoundInfo) -> tuple[int, bool, dict[int, str]]:
    """The round's id (created if new; an existing one must match), whether it was created, and every round's name."""
    row = connection.execute(select(rounds).where(rounds.c.name == info.name)).mappings().first()
    created = False
    if row is None:
        connection.execute(insert(rounds).values(name=info.name, period_start=info.period_start, period_end=info.period_end,
                                                 as_of=info.as_of, rules_fingerprint=info.rules_fingerprint, created_at=now()))
        row = connection.execute(select(rounds).where(rounds.c.name == info.name)).mappings().one()
        created = True
    else:
        mismatches = [(label_zh, label_en, str(row[column]), str(value))
                      for column, value, label_zh, label_en in (
                          ("period_start", info.period_start, "申报期起", "period start"),
                          ("period_end", info.period_end, "申报期止", "period end"),
                          ("as_of", info.as_of, "评估日", "as-of date"),
                          ("rules_fingerprint", info.rules_fingerprint, "规则集指纹", "rule-set fingerprint"))
                      if row[column] != value]
        if mismatches:
            zh = "；".join(f"{z}：台账 {a}，本表 {b}" for z, _, a, b in mismatches)
            en = "; ".join(f"{e}: ledger {a}, this sheet {b}" for _, e, a, b in mismatches)
            raise LedgerError(f"轮次“{info.name}”已存在，但与本表的评估条件不同（{zh}）；请换一个轮次名，或用同样条件重新批量评估",
                              f"round '{info.name}' exists with other evaluation settings ({en}); use another round name "
                              "or re-run the batch with the round's settings")
    names = {row.id: row.name for row in connection.execute(select(rounds.c.id, rounds.c.name))}
    return row["id"], created, names


def _active(connection: Connection, credit_codes: Iterable[str]) -> dict[tuple[str, str], dict]:
    """Active (approved/paid) claims of these enterprises by (credit code, once-key)."""
    codes = sorted(credit_codes)
    found: dict[tuple[str, str], dict] = {}
    for start in range(0, len(codes), _IN_CHUNK):
        query = select(claims.c.credit_code, claims.c.once_key, claims.c.rule_id, claims.c.amount_fen, claims.c.status,
                       claims.c.round_id).where(claims.c.credit_code.in_(codes[start:start + _IN_CHUNK]),
                                                claims.c.status.in_(ACTIVE))
        for row in connection.execute(query).mappings():
            found[(row["credit_code"], row["once_key"])] = dict(row)
    return found
