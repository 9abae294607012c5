"""The self-check form, derived from the profile schema (engine.schema), and the way back: form → profile.

Every input is named after the schema field (``city``, ``size_class``…); event inputs are ``ev-<row>-<field>``.
The library's FieldErrors are placed next to the input they name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine import schema
from engine.cities import CITIES, CITY_EN
from engine.profile import OUTSIDE_LIAONING
from engine.vocabulary import ENUMS, enum_label

_EVENT_KEY = re.compile(r"^ev-(\d{1,4})-([a-z_]{1,40})$")
BOOL_OPTIONS = ("true", "false")


@dataclass(frozen=True)
class Input:
    """One form input: the schema field, its label in the page language, and its choices when it has any."""

    name: str
    label: str
    kind: str  # text | select | multi | date | bool
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""


def _label(spec: schema.FieldSpec, lang: str) -> str:
    return spec.en if lang == "en" else spec.zh


def _city_options(lang: str, outside: bool = False) -> tuple[tuple[str, str], ...]:
    found = tuple((name, CITY_EN[name] if lang == "en" else name) for name in CITIES)
    if outside:
        found += ((OUTSIDE_LIAONING, "outside Liaoning" if lang == "en" else OUTSIDE_LIAONING),)
    return found


def input_for(spec: schema.FieldSpec, lang: str) -> Input:
    label = _label(spec, lang)
    if spec.kind == schema.CITY:
        return Input(spec.name, label, "select", spec.required, _city_options(lang))
    if spec.kind == schema.PLACE:
        return Input(spec.name, label, "select", spec.required, _city_options(lang, outside=True))
    if spec.kind in (schema.ENUM, schema.ENUM_LIST):
        options = tuple((code, enum_label(spec.enum, code, lang)) for code in ENUMS[spec.enum])
        return Input(spec.name, label, "multi" if spec.kind == schema.ENUM_LIST else "select", spec.required, options)
    if spec.kind == schema.BOOL:
        return Input(spec.name, label, "bool", spec.required)
    if spec.kind == schema.DATE:
        return Input(spec.name, label, "date", spec.required)
    unit = {"zh": "元", "en": "yuan"}[lang] if spec.kind == schema.MONEY else ""
    return Input(spec.name, label, "text", spec.required, hint=unit)


def entity_inputs(lang: str) -> list[Input]:
    return [input_for(spec, lang) for spec in schema.ENTITY_FIELDS]


def event_types(lang: str) -> list[tuple[str, str]]:
    return [(e.code, e.en if lang == "en" else e.zh) for e in schema.EVENT_TYPES]


def event_inputs(code: str, lang: str) -> list[Input]:
    """The fields of one event type: its date, its own fields, then its reference number."""
    common = {spec.name: spec for spec in schema.EVENT_COMMON}
    specs = [common["date"], *schema.EVENT_BY_CODE[code].fields, common["ref"]]
    return [input_for(spec, lang) for spec in specs]


@dataclass
class Submitted:
    """What the form sent: the profile for the engine, and the raw values to show again with the errors."""

    profile: dict[str, Any]
    as_of: str
    entity: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, str]] = field(default_factory=list)


def read_form(form) -> Submitted:
    """Form data (a starlette FormData) → profile with schema names; blank inputs are left out (unknown)."""
    entity: dict[str, Any] = {}
    for spec in schema.ENTITY_FIELDS:
        if spec.kind == schema.ENUM_LIST:
            chosen = [v for v in form.getlist(spec.name) if isinstance(v, str) and v]
            if chosen:
                entity[spec.name] = chosen
        else:
            value = form.get(spec.name)
            if isinstance(value, str) and value.strip():
                entity[spec.name] = value.strip()
    rows: dict[int, dict[str, str]] = {}
    for key, value in form.multi_items():
        match = _EVENT_KEY.match(key)
        if match and isinstance(value, str) and value.strip():
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value.strip()
    events = [rows[i] for i in sorted(rows)]  # rows renumbered in order: errors name these positions
    as_of = form.get("as_of")
    return Submitted(profile={**entity, "events": [dict(e) for e in events]},
                     as_of=as_of.strip() if isinstance(as_of, str) else "", entity=entity, events=events)


def place_errors(errors: list[dict], lang: str) -> tuple[dict[str, str], dict[tuple[int, str], str], list[str]]:
    """FieldErrors → (entity field → message, (event row, field) → message, messages with no input of their own)."""
    entity: dict[str, str] = {}
    events: dict[tuple[int, str], str] = {}
    loose: list[str] = []
    for error in errors:
        message = error["message_en"] if lang == "en" else error["message_zh"]
        name, index = error["field"], error.get("event_index")
        if index is not None:
            events[(index, name)] = message
        elif name in schema.ENTITY_BY_NAME or name == "as_of":
            entity[name] = message
        else:
            label = error.get("label_zh") if lang == "zh" else name
            loose.append(f"{label}: {message}" if label and not label.startswith("(") else message)
    return entity, events, loose
