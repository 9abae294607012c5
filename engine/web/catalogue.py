"""The rule base as JSON: rules with their window and status on a date, one rule in full, the documents."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.render_rules import KIND_LABEL, amount_text
from engine.rulebook import Rule, RuleSet, rule_params


def status_on(rule: Rule, as_of: date) -> str:
    """in_force | not_yet_in_force | expired (an expired event rule still pays for events inside its window)."""
    if rule.in_window(as_of):
        return "in_force"
    if rule.window_from and as_of < rule.window_from:
        return "not_yet_in_force"
    return "expired"


def rule_summary(rules: RuleSet, rule: Rule, as_of: date | None) -> dict[str, Any]:
    document = rules.document_of(rule)
    found: dict[str, Any] = {
        "id": rule.id, "title": rule.title, "title_en": rule.title_en, "kind": rule.kind,
        "kind_zh": KIND_LABEL["zh"][rule.kind], "event": rule.event,
        "window": {"from": _iso(rule.window_from), "to": _iso(rule.window_to)},
        "document_id": document.id, "section": rule.citation.section if rule.citation else None,
        "departments": list(rule.departments), "tags": list(rule.tags),
        "amount_zh": amount_text(rules, rule, as_of, "zh") or None, "amount_en": amount_text(rules, rule, as_of, "en") or None,
    }
    if as_of is not None and rule.kind != "derived":
        found["status"] = status_on(rule, as_of)
    return found


def rule_detail(rules: RuleSet, rule: Rule) -> dict[str, Any]:
    """Everything about one rule: window, conditions, amount, each parameter with its dated steps, quote, departments."""
    document = rules.document_of(rule)
    found = rule_summary(rules, rule, None)
    found.update({
        "conditions": list(rule.conditions), "territory": rule.territory,
        "amount": rule.amount.model_dump(mode="json") if rule.amount else None,
        "floor": rule.floor.model_dump(mode="json") if rule.floor else None,
        "withholds": list(rule.withholds), "supersedes": list(rule.supersedes), "note": rule.note,
        "citation": rule.citation.model_dump(mode="json") if rule.citation else None,
        "document": document_json(rules, document.id),
        "parameters": [rules.parameters[name].model_dump(mode="json") for name in sorted(rule_params(rule))],
    })
    return found


def document_json(rules: RuleSet, document_id: str) -> dict[str, Any]:
    document = rules.documents[document_id]
    found = document.model_dump(mode="json", exclude={"path"})
    found["rules"] = [r.id for r in rules.rules if r.document_id == document_id]
    return found


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
