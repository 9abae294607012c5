"""Evaluations as text a person reads (Chinese by default, English with lang="en")."""

from __future__ import annotations

import io

from rich.console import Console

from engine.money import format_yuan
from engine.results import ConditionCheck, Evaluation, RuleTrace
from engine.text_width import TERMINAL_WIDTH, fill

# What each rule decision is called (engine.results.RuleTrace.status): users never read the codes.
STATUS = {
    "zh": {"eligible": "符合", "not_eligible": "不符合", "undetermined": "待定", "not_in_force": "不在有效期内",
           "withheld": "被取消", "superseded": "已由其他政策支付", "met": "已达到", "violated": "未达到", "holds": "成立",
           "true": "是", "false": "否", "unknown": "待定"},  # derived facts
    "en": {"eligible": "eligible", "not_eligible": "not eligible", "undetermined": "undetermined",
           "not_in_force": "not in force", "withheld": "withheld", "superseded": "paid by another policy", "met": "met",
           "violated": "violated", "holds": "holds", "true": "yes", "false": "no", "unknown": "undetermined"},
}

T = {
    "zh": {
        "title": "惠企评估", "as_of": "评估日", "rules": "规则集", "benefits": "可获得的奖补与支持",
        "none": "（无）", "rule": "规则", "event": "事件", "amount": "金额（元）", "calc": "计算", "basis": "依据",
        "total": "合计", "yuan": "元", "requirements": "须遵守的要求", "status": "结果", "floor": "下限",
        "actual": "实际", "shortfall": "差额", "met": "已达到", "violated": "未达到", "withheld": "被取消的奖补",
        "because": "原因", "superseded": "同一事件只支付一次（已由后续政策支付）", "by": "由",
        "undetermined": "待定（缺少信息）", "missing": "缺少", "near": "差一个条件", "failed": "未满足的条件",
        "ignored": "未计入的事件", "derived": "推定", "warnings": "提示", "no_amount": "无具体金额",
        "caveat": "注意", "dept": "责任单位", "amount_short": "金额", "period": "申报期", "new_total": "本轮新增合计",
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
        "dept": "Departments", "amount_short": "Amount", "period": "claim period", "new_total": "New in this round",
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
    """A rich console writing into a buffer (tables of the rules list and the diff report)."""
    buffer = io.StringIO()
    # markup=False: "[rule.id]" is text here, not rich markup.
    return Console(file=buffer, width=width, no_color=True, highlight=False, emoji=False, markup=False), buffer


def render_text(evaluation: Evaluation, lang: str = "zh", width: int = TERMINAL_WIDTH) -> str:
    """The evaluation as lines of at most ``width`` terminal columns (CJK characters take two): one numbered
    block per benefit or requirement, then the lists, each wrapped with a hanging indent."""
    t = T[lang]
    out: list[str] = []
    e = evaluation.entity

    def say(text: str, indent: str = "", hang: str = "  ") -> None:
        out.append(fill(text, width, indent, indent + hang))

    def heading(text: str) -> None:
        out.extend(["", text])

    period = f" · {t['period']} {evaluation.period.text()}" if evaluation.period is not None else ""
    say(f"{t['title']} · {e.name}（{e.credit_code}，{e.city}）· {t['as_of']} {evaluation.as_of}{period} · "
        f"{t['rules']} {evaluation.rule_set}")

    def block(n: int, head: str, item, lines: list[str]) -> None:
        """A numbered entry: its head, its event, then its lines under the number."""
        pad = " " * len(f"{n}. ")
        say(f"{n}. {head}", "", pad)
        if item.event is not None:
            say(f"{t['event']}: {_event(item, lang)}", pad)
        for text in lines:
            say(text, pad)

    heading(t["benefits"] + ":")
    for n, line in enumerate(evaluation.benefits, 1):
        amount = f"{format_yuan(line.amount)} {t['yuan']}" if line.amount is not None else t["no_amount"]
        caveats = line.caveats_en if lang == "en" else line.caveats_zh
        block(n, f"{_title(line, lang)} [{line.rule_id}]", line, [
            f"{t['amount_short']}: {amount}" + (f" · {t['calc']}: {line.calculation}" if line.calculation else ""),
            f"{t['basis']}: {_basis(line, lang)}", *([f"{t['caveat']}: " + "; ".join(caveats)] if caveats else [])])
    if not evaluation.benefits:
        say(t["none"], "  ")
    if evaluation.round_mode:
        say(f"{t['new_total']}: {format_yuan(evaluation.total)} {t['yuan']} · "
            f"{t['paid_total']}: {format_yuan(evaluation.already_paid_total)} {t['yuan']}")
    else:
        say(f"{t['total']}: {format_yuan(evaluation.total)} {t['yuan']}")
    if evaluation.already_paid:
        heading(f"{t['paid']}:")
        for p in evaluation.already_paid:
            amount = format_yuan(p.line.amount) if p.line.amount is not None else t["no_amount"]
            say(f"- {_about(p.line, lang)} {amount} — {p.reason_en if lang == 'en' else p.reason_zh}", "  ")
    if evaluation.requirements:
        heading(t["requirements"] + ":")
        for n, r in enumerate(evaluation.requirements, 1):
            block(n, f"{_title(r, lang)} [{r.rule_id}]: {STATUS[lang][r.status]}", r, [
                f"{t['floor']} {format_yuan(r.floor)} · {t['actual']} {format_yuan(r.actual)} · "
                f"{t['shortfall']} {format_yuan(r.shortfall)}", f"{t['basis']}: {_basis(r, lang)}"])
    if evaluation.withheld:
        heading(f"{t['withheld']}:")
        for w in evaluation.withheld:
            reason = w.reason_en if lang == "en" else w.reason_zh
            amount = format_yuan(w.line.amount) if w.line.amount is not None else t["no_amount"]
            say(f"- {_about(w.line, lang)} {amount} — "
                f"{t['because']} {_title(w.exclusion, lang)} [{w.exclusion.rule_id}]: {reason} "
                f"({_basis(w.exclusion, lang)})", "  ")
    if evaluation.superseded:
        heading(f"{t['superseded']}:")
        for s in evaluation.superseded:
            by = s.by_title_en if lang == "en" else s.by_title
            say(f"- {_about(s.line, lang)} — {t['by']} {by} [{s.by_rule_id}]", "  ")
    if evaluation.undetermined:
        heading(f"{t['undetermined']}:")
        for u in evaluation.undetermined:
            missing = ("、" if lang == "zh" else ", ").join(m.label_en if lang == "en" else m.label_zh for m in u.missing)
            say(f"- {_about(u, lang)} — {t['missing']}: {missing}", "  ")
    if evaluation.near_misses:
        heading(f"{t['near']}:")
        for m in evaluation.near_misses:
            say(f"- {_about(m, lang)} — {t['failed']}: {check_text(m.failed, lang)}", "  ")
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
        out.append("")
        for note in notes:
            say(f"* {note}")
    return "\n".join(out) + "\n"


def check_text(check: ConditionCheck, lang: str) -> str:
    values = check.values_en if lang == "en" else check.values
    description = check.description_en if lang == "en" else check.description_zh
    shown = ", ".join(f"{k} = {v}" for k, v in values.items())
    result = {"zh": {"true": "满足", "false": "不满足", "unknown": "待定"},
              "en": {"true": "yes", "false": "no", "unknown": "unknown"}}[lang][check.result]
    return f"{description} [{check.expression}; {shown}] → {result}"


def render_explanation(evaluation: Evaluation, rule_id: str, lang: str = "zh", width: int = TERMINAL_WIDTH) -> str:
    """Every decision taken on one rule: each condition with the value read and its result, in lines of at most
    ``width`` columns."""
    traces: list[RuleTrace] = [t for t in evaluation.traces if t.rule_id == rule_id]
    out = []
    zh = lang == "zh"
    for trace in traces:
        head = f"{_title(trace, lang)} [{trace.rule_id}] — {_event(trace, lang)}: {STATUS[lang][trace.status]}"
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
    wrapped = []
    for line in out:
        indent = line[: len(line) - len(line.lstrip(" "))] + ("  " if line.lstrip().startswith("- ") else "")
        wrapped.append(fill(line.strip(), width, line[: len(line) - len(line.lstrip(" "))], indent + "  "))
    return "\n".join(wrapped) + "\n"
