"""Wording of claim rounds, once-keys and duplicate events, in Chinese and English, for both engines.

One place for each sentence, so the per-profile result, the batch tables and the scenarios say the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from engine import schema
from engine.claims import STATUS_WORDS, PaidClaim
from engine.money import format_yuan
from engine.profile import FieldError
from engine.results import BenefitLine, Period


def event_name(event_type: str, lang: str) -> str:
    spec = schema.EVENT_BY_CODE[event_type]
    return spec.en if lang == "en" else spec.zh


def merged_text(later: int, first: int) -> tuple[str, str]:
    """A duplicate event (0-based indices) merged into the first identical one."""
    return (f"事件{later + 1}与事件{first + 1}完全相同，视为同一事件，只计一次",
            f"event {later + 1} is identical to event {first + 1}: the same event, counted once")


def merged_row_text(sheet: str, row: int) -> tuple[str, str]:
    """A duplicate event row of a batch input, merged into the first identical one."""
    return (f"与{sheet}第{row}行的事件完全相同，视为同一事件，只计一次",
            f"identical to the event in {sheet} row {row}: the same event, counted once")


def conflict_text(event_type: str, ref: str, first: int, later: int, fields: Sequence[str]) -> tuple[str, str]:
    """Two events with one type and reference that differ in ``fields``."""
    return (f"事件{first + 1}和事件{later + 1}是同一「{event_name(event_type, 'zh')}」（编号 {ref}），但{'、'.join(fields)}不同；"
            "请核对后只保留正确的一条",
            f"events {first + 1} and {later + 1} are the same {event_name(event_type, 'en')} (reference {ref}) but differ in "
            f"{', '.join(fields)}; check them and keep the right one")


def differing_fields(a: Any, b: Any) -> list[str]:
    one, other = a.model_dump(), b.model_dump()
    return [name for name in one if one[name] != other[name]]


def conflict_error(events: Sequence[Any], first: int, later: int) -> FieldError:
    a, b = events[first], events[later]
    zh, en = conflict_text(a.type, a.ref, first, later, differing_fields(a, b))
    return FieldError(field="ref", label_zh="事件编号", value=a.ref, message_zh=zh, message_en=en, event_index=later)


def outside_text(when: date, period: Period) -> tuple[str, str]:
    return (f"事件日期 {when} 不在本轮申报期 {period.text()} 内，本轮不计入事件类补贴",
            f"event dated {when}, outside this round's period {period.text()}: earns no event benefit in this round")


def outside_reason(event: Any, period: Period) -> dict[str, str]:
    zh, en = outside_text(event.date, period)
    return {"reason_zh": zh, "reason_en": en}


def expiry_texts(window_to: date, departments: Sequence[str]) -> tuple[str, str]:
    who = "、".join(departments)
    return (f"该政策已于 {window_to} 到期；文件未规定申报截止时间，请向{who}核实是否仍可申报",
            f"this policy ended on {window_to}; the text states no claim deadline: check with {who} whether it can "
            "still be claimed")


def expiry_caveat(rule: Any, line: BenefitLine, as_of: date) -> BenefitLine:
    """``line`` with the ended-policy caveat appended when ``as_of`` is after the rule's window."""
    if rule.window_to is None or as_of <= rule.window_to:
        return line
    zh, en = expiry_texts(rule.window_to, rule.departments)
    return line.model_copy(update={"caveats_zh": [*line.caveats_zh, zh], "caveats_en": [*line.caveats_en, en]})


def paid_text(status: str, recorded_at: str, round_name: str, amount_yuan: str) -> tuple[str, str]:
    zh_status, en_status = STATUS_WORDS.get(status, (status, status))
    day = recorded_at[:10]
    return (f"已兑现：{day} 于「{round_name}」{zh_status} {amount_yuan} 元，本轮不再支付",
            f"already paid: {en_status} {amount_yuan} yuan on {day} in round '{round_name}'; not paid again")


def paid_reason(claim: PaidClaim) -> tuple[str, str]:
    return paid_text(claim.status, claim.recorded_at, claim.round_name, format_yuan(claim.amount))
