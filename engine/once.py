"""Once-keys: what a benefit pays once for, as one string that both engines and the ledger agree on.

A benefit rule pays once per *event* (the default for a rule with an ``event``) or once per *entity* (the
default, and the only choice, for a rule without one). ``once_group`` names an award that several rules pay
together, across documents: the 2012–2015 well-known-trademark award and its 2015–2020 continuation are one
award, so a recognition paid under the first is never paid again under the second.

The key never holds the credit code (the ledger stores it beside the key). Its forms, with ``<scope>`` the
rule's ``once_group`` or else its id::

    <scope>/<event type>/ref:<ref>        the event's own reference (registration number…)   basis "ref"
    <scope>/<event type>/date:<date>      no reference: type + date                         basis "type_date"
    <scope>/<event type>/date:<date>#<n>  the n-th (n ≥ 2) distinct ref-less event of that type and date
    <scope>/entity                        once per entity                                     basis "entity"

Events are told apart by ``distinct_events``: an event identical in every field to an earlier one of the
same entity is a duplicate (merged, counted once); two events with the same type and reference that differ
in any other field are a conflict (the entity cannot be evaluated until the clerk says which is right).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

ONCE_PER = ("event", "entity")
# basis → (zh, en): how the key was formed, as a result says it
BASIS = {
    "ref": ("按事件编号", "by the event's reference"),
    "type_date": ("事件无编号，按事件类型和日期", "the event has no reference: by event type and date"),
    "entity": ("按主体（每个主体一次）", "once per entity"),
}
SEP = "/"


def once_scope(rule: Any) -> str:
    """The rule's ``once_group``, or its own id."""
    return rule.once_group or rule.id


def once_per(rule: Any) -> str:
    """``"event"`` or ``"entity"``: the rule's own setting, else the default for its kind."""
    return rule.once_per or ("event" if rule.event is not None else "entity")


def event_part(event_type: str, ref: str | None, when: date, ordinal: int = 1) -> tuple[str, str]:
    """(key part, basis) of one event: by its reference, else by type + date (``#n`` for the n-th such event)."""
    if ref:
        return f"{event_type}{SEP}ref:{ref}", "ref"
    suffix = f"#{ordinal}" if ordinal > 1 else ""
    return f"{event_type}{SEP}date:{when.isoformat()}{suffix}", "type_date"


def once_key(rule: Any, event_type: str | None = None, ref: str | None = None, when: date | None = None,
             ordinal: int = 1) -> tuple[str, str]:
    """(once-key, basis) of a benefit line of ``rule`` for the given event (none for entity rules)."""
    scope = once_scope(rule)
    if once_per(rule) == "entity" or event_type is None or when is None:
        return f"{scope}{SEP}entity", "entity"
    part, basis = event_part(event_type, ref, when, ordinal)
    return f"{scope}{SEP}{part}", basis


@dataclass(frozen=True)
class EventSorting:
    """What ``distinct_events`` found among one entity's events (indices into the given list)."""

    ordinals: dict[int, int]  # index → n-th distinct ref-less event of its type and date (1 for all others)
    duplicates: dict[int, int]  # index of a merged duplicate → index of the first identical event
    conflicts: list[tuple[int, int]]  # (earlier, later): same type and reference, other fields differ


def distinct_events(events: Sequence[Any]) -> EventSorting:
    """Sort one entity's events (pydantic ``Event`` models, compared field by field) into distinct events,
    duplicates of an earlier one, and conflicting pairs; and number ref-less events of one type and date."""
    first_of: dict[Any, int] = {}
    by_ref: dict[tuple[str, str], int] = {}
    seen_dates: dict[tuple[str, date], int] = {}
    ordinals: dict[int, int] = {}
    duplicates: dict[int, int] = {}
    conflicts: list[tuple[int, int]] = []
    for index, event in enumerate(events):
        identity = tuple(sorted(event.model_dump().items()))
        if identity in first_of:
            duplicates[index] = first_of[identity]
            continue
        first_of[identity] = index
        if event.ref:
            earlier = by_ref.setdefault((event.type, event.ref), index)
            if earlier != index:
                conflicts.append((earlier, index))
            ordinals[index] = 1
        else:
            n = seen_dates.get((event.type, event.date), 0) + 1
            seen_dates[(event.type, event.date)] = n
            ordinals[index] = n
    return EventSorting(ordinals, duplicates, conflicts)
