"""Conditions and values in plain words, Chinese or English."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from engine import schema
from engine.money import format_number, format_rate, format_yuan
from engine.tree import All, AnyOf, AsOf, Compare, Const, Contains, Derived, Field, Node, Not, OneOf, Param
from engine.vocabulary import enum_label

_OP_ZH = {"==": "为", "!=": "不为", "<": "低于", "<=": "不高于", ">": "高于", ">=": "不低于"}
_OP_EN = {"==": "is", "!=": "is not", "<": "is below", "<=": "is at most", ">": "is above", ">=": "is at least"}
_DATE_OP_ZH = {"<": "早于", "<=": "不晚于", ">": "晚于", ">=": "不早于"}
_DATE_OP_EN = {"<": "is before", "<=": "is on or before", ">": "is after", ">=": "is on or after"}


def field_spec(f: Field, event_type: str | None) -> schema.FieldSpec | None:
    if f.scope == "entity":
        return schema.ENTITY_BY_NAME.get(f.name)
    return schema.event_field(event_type, f.name) if event_type else None


def field_label(f: Field, event_type: str | None, lang: str) -> str:
    spec = field_spec(f, event_type)
    if spec is None:
        return str(f)
    if f.scope == "event" and event_type:
        kind = schema.EVENT_BY_CODE[event_type]
        return f"{kind.en} {spec.en}" if lang == "en" else f"{kind.zh}的{spec.zh}"
    return spec.en if lang == "en" else spec.zh


def value_text(value: Any, spec: schema.FieldSpec | None, lang: str) -> str:
    """A value as a person reads it: enum labels, yuan with thousands separators, yes/no, ISO dates."""
    if value is None:
        return "（缺失）" if lang == "zh" else "(missing)"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        sep = "、" if lang == "zh" else ", "
        return sep.join(value_text(v, spec, lang) for v in value) or ("（无）" if lang == "zh" else "(none)")
    if spec is not None and spec.kind in (schema.ENUM, schema.ENUM_LIST) and isinstance(value, str):
        return enum_label(spec.enum, value, lang)
    if isinstance(value, Decimal):
        if spec is not None and spec.kind == schema.MONEY:
            return format_yuan(value) + ("元" if lang == "zh" else " yuan")
        return format_number(value)
    return str(value)


def describe(node: Node, event_type: str | None, lang: str = "zh",
             derived_title: Callable[[str], str] | None = None,
             param_text: Callable[[str], str] | None = None) -> str:
    """One condition in plain words."""

    def operand(value: Any, spec: schema.FieldSpec | None) -> str:
        if isinstance(value, AsOf):
            return "评估日" if lang == "zh" else "the evaluation date"
        if isinstance(value, Param):
            return param_text(value.name) if param_text else str(value)
        return value_text(value, spec, lang)

    def go(n: Node, top: bool = False) -> str:
        if isinstance(n, Compare):
            spec = field_spec(n.field, event_type)
            label = field_label(n.field, event_type, lang)
            if spec is not None and spec.kind == schema.BOOL and isinstance(n.value, bool) and n.op in ("==", "!="):
                positive = n.value == (n.op == "==")
                if lang == "zh":
                    return f"{label}：{'是' if positive else '否'}"
                return f"{label}: {'yes' if positive else 'no'}"
            if spec is not None and spec.kind == schema.DATE and n.op in _DATE_OP_ZH:
                word = _DATE_OP_EN[n.op] if lang == "en" else _DATE_OP_ZH[n.op]
            else:
                word = _OP_EN[n.op] if lang == "en" else _OP_ZH[n.op]
            return f"{label} {word} {operand(n.value, spec)}" if lang == "en" else f"{label}{word}{operand(n.value, spec)}"
        if isinstance(n, OneOf):
            spec = field_spec(n.field, event_type)
            label = field_label(n.field, event_type, lang)
            items = [value_text(v, spec, lang) for v in n.values]
            if lang == "en":
                return f"{label} is {'not ' if n.negated else ''}one of {', '.join(items)}"
            return f"{label}{'不' if n.negated else ''}为{'、'.join(items)}{'之一' if len(items) > 1 else ''}"
        if isinstance(n, Contains):
            spec = field_spec(n.field, event_type)
            label = field_label(n.field, event_type, lang)
            item = value_text(n.value, spec, lang)
            if lang == "en":
                return f"{label} {'do not include' if n.negated else 'include'} {item}"
            return f"{label}{'不' if n.negated else ''}包括{item}"
        if isinstance(n, Derived):
            return derived_title(n.name) if derived_title else n.name
        if isinstance(n, Const):
            return ("恒真" if n.value else "恒假") if lang == "zh" else ("always" if n.value else "never")
        if isinstance(n, Not):
            inner = go(n.item)
            return f"并非（{inner}）" if lang == "zh" else f"not ({inner})"
        if isinstance(n, (All, AnyOf)):
            joiner = (" 且 " if isinstance(n, All) else " 或 ") if lang == "zh" else (
                " and " if isinstance(n, All) else " or ")
            text = joiner.join(go(i) for i in n.items)
            return text if top else (f"（{text}）" if lang == "zh" else f"({text})")
        return str(n)

    return go(node, top=True)


def rate_or_value_text(value: Any, unit: str, lang: str) -> str:
    if value is None:
        return "（无取值）" if lang == "zh" else "(no value)"
    if unit == "rate" and isinstance(value, Decimal):
        return format_rate(value)
    if unit == "yuan" and isinstance(value, Decimal):
        return format_yuan(value) + ("元" if lang == "zh" else " yuan")
    return value_text(value, None, lang)
