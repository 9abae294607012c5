"""Evaluations as text a person reads (Chinese by default, English with lang="en")."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table

from engine.money import format_yuan
from engine.results import ConditionCheck, Evaluation, RuleTrace

T = {
    "zh": {
        "title": "惠企评估", "as_of": "评估日", "rules": "规则集", "benefits": "可获得的奖补与支持",
        "none": "（无）", "rule": "规则", "event": "事件", "amount": "金额（元）", "calc": "计算", "basis": "依据",
        "total": "合计", "yuan": "元", "requirements": "须遵守的要求", "status": "结果", "floor": "下限",
        "actual": "实际", "shortfall": "差额", "met": "已达到", "violated": "未达到", "withheld": "被取消的奖补",
        "because": "原因", "superseded": "同一事件只支付一次（已由后续政策支付）", "by": "由",
        "undetermined": "待定（缺少信息）", "missing": "缺少", "near": "差一个条件", "failed": "未满足的条件",
        "ignored": "未计入的事件", "derived": "推定", "warnings": "提示", "no_amount": "无具体金额",
        "caveat": "注意", "dept": "责任单位", "period": "申报期", "new_total": "本轮新增合计",
        "paid": "已兑现（不再支付）", "paid_total": "已兑现合计", "outside": "不在本轮申报期的事件",
    },
    "en": {
        "title": "Huiqi evaluation", "as_of": "as of", "rules": "rule set", "benefits": "Benefits and support",
        "none": "(none)", "rule": "Rule", "event": "Event", "amount": "Amount (yuan)", "calc": "Calculation",
        "basis": "Source", "total": "Total", "yuan": "yuan", "requirements": "Requirements", "status": "Status",
        "floor": "Floor", "actual": "Actual", "shortfall": "Shortfall", "met": "met", "violated": "violated",
        "withheld": "Withheld benefits", "because": "Because of", "superseded": "Paid once (paid by a later policy)",
        "by": "paid by", "undetermined": "Undetermined (missing facts)", "missing": "Missing",
        "near": "Near misses (one condition short)", "failed": "Condition not met", "ignored": "Events not counted",
        "derived": "Derived", "warnings": "Warnings", "no_amount": "no stated amount", "caveat": "Note",
        "dept": "Departments", "period": "claim period", "new_total": "New in this round",
        "paid": "Already paid (not paid again)", "paid_total": "Already paid", "outside": "Events outside this round",
    },
}


def _title(item, lang: str) -> str:
    return item.title_en if lang == "en" else item.title


def _basis(item, lang: str) -> str:
    if item.source is None:
        return ""
    doc = item.source.document_title_en if lang == "en" else item.source.document_title
    return f"{doc} {item.source.section}"


def _event(item, lang: str, empty: str = "—") -> str:
    if item.event is None:
        return empty
    return item.event.label_en if lang == "en" else item.event.label_zh


def _about(item, lang: str) -> str:
    """"Title [id] event" for list lines."""
    event = _event(item, lang, "")
    return f"{_title(item, lang)} [{item.rule_id}]" + (f" {event}" if event else "")


def _console(width: int) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    # markup=False: "[rule.id]" is text here, not rich markup.
    return Console(file=buffer, width=width, no_color=True, highlight=False, emoji=False, markup=False), buffer


def render_text(evaluation: Evaluation, lang: str = "zh", width: int = 140) -> str:
    t = T[lang]
    console, buffer = _console(width)
    e = evaluation.entity
    period = f" · {t['period']} {evaluation.period.text()}" if evaluation.period is not None else ""
    console.print(f"{t['title']} · {e.name}（{e.credit_code}，{e.city}）· {t['as_of']} {evaluation.as_of}{period} · "
                  f"{t['rules']} {evaluation.rule_set}")
    table = Table(title=t["benefits"], box=box.SIMPLE_HEAVY, title_justify="left", show_lines=False)
    for name, justify in ((" #", "right"), (t["rule"], "left"), (t["event"], "left"), (t["amount"], "right"),
                          (t["calc"], "left"), (t["basis"], "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for n, line in enumerate(evaluation.benefits, 1):
        amount = format_yuan(line.amount) if line.amount is not None else t["no_amount"]
        title = f"{_title(line, lang)}\n[{line.rule_id}]"
        caveats = line.caveats_en if lang == "en" else line.caveats_zh
        if caveats:
            title += "\n" + t["caveat"] + ": " + "; ".join(caveats)
        table.add_row(*((str(n), title, _event(line, lang), amount, line.calculation or "", _basis(line, lang))))
    if not evaluation.benefits:
        table.add_row("", t["none"], "", "", "", "")
    console.print(table)
    if evaluation.round_mode:
        console.print(f"{t['new_total']}: {format_yuan(evaluation.total)} {t['yuan']} · "
                      f"{t['paid_total']}: {format_yuan(evaluation.already_paid_total)} {t['yuan']}")
    else:
        console.print(f"{t['total']}: {format_yuan(evaluation.total)} {t['yuan']}")
    if evaluation.already_paid:
        console.print(f"\n{t['paid']}:")
        for p in evaluation.already_paid:
            amount = format_yuan(p.line.amount) if p.line.amount is not None else t["no_amount"]
            console.print(f"  - {_about(p.line, lang)} {amount} — {p.reason_en if lang == 'en' else p.reason_zh}")
    if evaluation.requirements:
        req = Table(title=t["requirements"], box=box.SIMPLE_HEAVY, title_justify="left")
        for name in (t["rule"], t["event"], t["status"], t["floor"], t["actual"], t["shortfall"], t["basis"]):
            req.add_column(name, overflow="fold")
        for r in evaluation.requirements:
            req.add_row(*((f"{_title(r, lang)}\n[{r.rule_id}]", _event(r, lang), t[r.status],
                                               format_yuan(r.floor), format_yuan(r.actual), format_yuan(r.shortfall),
                                               _basis(r, lang))))
        console.print(req)
    if evaluation.withheld:
        console.print(f"\n{t['withheld']}:")
        for w in evaluation.withheld:
            reason = w.reason_en if lang == "en" else w.reason_zh
            amount = format_yuan(w.line.amount) if w.line.amount is not None else t["no_amount"]
            console.print(f"  - {_about(w.line, lang)} {amount} — "
                          f"{t['because']} {_title(w.exclusion, lang)} [{w.exclusion.rule_id}]: {reason} "
                          f"({_basis(w.exclusion, lang)})")
    if evaluation.superseded:
        console.print(f"\n{t['superseded']}:")
        for s in evaluation.superseded:
            by = s.by_title_en if lang == "en" else s.by_title
            console.print(f"  - {_about(s.line, lang)} — {t['by']} {by} [{s.by_rule_id}]")
    if evaluation.undetermined:
        console.print(f"\n{t['undetermined']}:")
        for u in evaluation.undetermined:
            missing = ("、" if lang == "zh" else ", ").join(m.label_en if lang == "en" else m.label_zh for m in u.missing)
            console.print(f"  - {_about(u, lang)} — {t['missing']}: {missing}")
    if evaluation.near_misses:
        console.print(f"\n{t['near']}:")
        for m in evaluation.near_misses:
            console.print(f"  - {_about(m, lang)} — {t['failed']}: "
                          f"{check_text(m.failed, lang)}")
    notes = []
    for ignored in evaluation.ignored_events:
        notes.append(f"{t['ignored']}: " + (ignored.reason_en if lang == "en" else ignored.reason_zh))
    for outside in evaluation.outside_period:
        notes.append(f"{t['outside']}: {_event(outside, lang)} — " + (outside.reason_en if lang == "en" else outside.reason_zh))
    for d in evaluation.derivations:
        notes.append(f"{t['derived']}: " + (d.message_en if lang == "en" else d.message_zh))
    for w in evaluation.warnings:
        notes.append(f"{t['warnings']}: {w}")
    if notes:
        console.print()
        for note in notes:
            console.print(f"* {note}")
    return buffer.getvalue()


def check_text(check: ConditionCheck, lang: str) -> str:
    values = check.values_en if lang == "en" else check.values
    description = check.description_en if lang == "en" else check.description_zh
    shown = ", ".join(f"{k} = {v}" for k, v in values.items())
    result = {"zh": {"true": "满足", "false": "不满足", "unknown": "待定"},
              "en": {"true": "yes", "false": "no", "unknown": "unknown"}}[lang][check.result]
    return f"{description} [{check.expression}; {shown}] → {result}"


def render_explanation(evaluation: Evaluation, rule_id: str, lang: str = "zh") -> str:
    """Every decision taken on one rule: each condition with the value read and its result."""
    traces: list[RuleTrace] = [t for t in evaluation.traces if t.rule_id == rule_id]
    out = []
    zh = lang == "zh"
    for trace in traces:
        head = f"{_title(trace, lang)} [{trace.rule_id}] — {_event(trace, lang)}: {trace.status}"
        out.append(head)
        reason = trace.reason_en if lang == "en" else trace.reason_zh
        if reason:
            out.append(f"  {reason}")
        for check in trace.checks:
            marker = "（引擎添加）" if check.implicit and zh else (" (added by the engine)" if check.implicit else "")
            out.append(f"  - {check_text(check, lang)}{marker}")
        if trace.source:
            doc = trace.source.document_title_en if lang == "en" else trace.source.document_title
            out.append(f"  {'依据' if zh else 'Source'}: {doc} {trace.source.section}: “{trace.source.quote}”")
    for line in evaluation.benefits:
        if line.rule_id == rule_id and line.calculation:
            out.append(f"  {'金额' if zh else 'Amount'}: {line.calculation}")
    return "\n".join(out) + "\n"
