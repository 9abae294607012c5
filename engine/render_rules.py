"""The rule base as a table (``huiqi rules list``)."""

from __future__ import annotations

from datetime import date

from rich import box
from rich.table import Table

from engine.money import format_rate, format_yuan
from engine.render import _console
from engine.rulebook import Rule, RuleSet

KIND_LABEL = {
    "zh": {"benefit": "奖补/支持", "requirement": "要求", "exclusion": "排除", "derived": "派生事实"},
    "en": {"benefit": "benefit", "requirement": "requirement", "exclusion": "exclusion", "derived": "derived fact"},
}


def window_text(rule: Rule, lang: str) -> str:
    start = rule.window_from.isoformat() if rule.window_from else "…"
    end = rule.window_to.isoformat() if rule.window_to else ("长期" if lang == "zh" else "open")
    return f"{start} ~ {end}"


def amount_text(rules: RuleSet, rule: Rule, when: date | None, lang: str, symbolic: bool = False) -> str:
    """The amount or formula, with parameter values at ``when`` (or their latest step); ``symbolic``: with the
    parameters by name (``params.x``) instead of their values."""
    spec = rule.amount
    if spec is None:
        return ""
    if spec.form == "none":
        return "无具体金额" if lang == "zh" else "no stated amount"

    def value(ref, unit: str) -> str:
        if ref is None:
            return ""
        if isinstance(ref, str):
            if symbolic:
                return ref
            parameter = rules.parameters[ref[7:]]
            raw = parameter.value_at(when) if when else parameter.steps[-1].value
            if raw is None:
                return ref
            ref = raw
        return format_rate(ref) if unit == "rate" else format_yuan(ref)

    cap = f"，封顶 {value(spec.cap, 'yuan')}" if spec.cap is not None and lang == "zh" else (
        f", capped at {value(spec.cap, 'yuan')}" if spec.cap is not None else "")
    if spec.form == "fixed":
        return value(spec.value, "yuan") + ("元" if lang == "zh" else " yuan")
    bases = spec.base if isinstance(spec.base, tuple) else (spec.base,)
    names = " + ".join(b.removeprefix("event.") for b in bases)
    if spec.form == "rate":
        return f"{names} × {value(spec.rate, 'rate')}{cap}"
    return (f"按实际发生额（{names}）{cap}" if lang == "zh" else f"actual cost ({names}){cap}")


def rules_table(rules: RuleSet, as_of: date | None, lang: str = "zh") -> str:
    console, buffer = _console(180)
    zh = lang == "zh"
    title = ("规则库" if zh else "Rule base") + f" · {rules.fingerprint}" + (
        f" · {'评估日' if zh else 'as of'} {as_of}" if as_of else "")
    table = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left")
    for name in (("规则" if zh else "Rule"), ("类别" if zh else "Kind"), ("有效期" if zh else "Window"),
                 ("金额" if zh else "Amount"), ("依据" if zh else "Source"), ("状态" if zh else "Status")):
        table.add_column(name, overflow="fold")
    for rule in rules.rules:
        document = rules.document_of(rule)
        source = f"{document.title if zh else document.title_en} {rule.citation.section if rule.citation else ''}\n" \
                 f"[{document.source}]"
        if as_of is None or rule.kind == "derived":
            status = ""
        elif rule.in_window(as_of):
            status = "有效" if zh else "in force"
        elif rule.window_from and as_of < rule.window_from:
            status = "尚未生效" if zh else "not yet in force"
        else:
            status = "已失效（仍适用于有效期内的事件）" if zh and rule.event else ("已失效" if zh else "expired")
        table.add_row(f"{rule.title if zh else rule.title_en}\n[{rule.id}]", KIND_LABEL[lang][rule.kind],
                      window_text(rule, lang) if rule.kind != "derived" else "—",
                      amount_text(rules, rule, as_of, lang), source, status)
    console.print(table)
    console.print(("共 " if zh else "") + f"{len(rules.rules)}" + (" 条规则" if zh else " rules"))
    return buffer.getvalue()
