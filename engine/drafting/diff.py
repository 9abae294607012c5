"""``huiqi diff``: two rule sets, one population, and what changes — a reform analysis.

``compare_rules`` says which rules were added, removed or changed (conditions, amounts, parameters per
dated step, windows, …). ``run_diff`` evaluates every profile under both rule sets with
``engine.evaluate`` and adds up, per rule, beneficiaries and yuan before / after, and per entity the
total before / after. The renderers (terminal here, ``report_xlsx``, ``report_html``) read the
``DiffReport`` only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from rich import box
from rich.table import Table

from engine.describe import rate_or_value_text
from engine.drafting.reasoning import expression
from engine.evaluate import evaluate
from engine.money import format_yuan
from engine.profile import Profile
from engine.render import _console
from engine.render_rules import amount_text, window_text
from engine.rulebook import Parameter, Rule, RuleSet
from engine.tree import Node

ZERO = Decimal("0.00")


# -- the static diff of two rule sets ------------------------------------------------------------

@dataclass(frozen=True)
class ChangeLine:
    aspect: str  # conditions | amount | window | parameter | title | …
    before: str
    after: str


@dataclass(frozen=True)
class RuleChange:
    rule_id: str
    status: str  # added | removed | changed
    title: str
    title_en: str
    lines: tuple[ChangeLine, ...] = ()


def amount_formula(rules: RuleSet, rule: Rule, lang: str = "zh") -> str:
    """The amount in symbols (parameters by name; their values are diffed step by step)."""
    return amount_text(rules, rule, None, lang, symbolic=True) or "—"


def _steps(parameter: Parameter | None, lang: str) -> dict[date, str]:
    if parameter is None:
        return {}
    return {s.start: rate_or_value_text(s.value, parameter.unit, lang) for s in parameter.steps}


def _floor(rule: Rule, lang: str) -> str:
    floor = rule.floor
    if floor is None:
        return "—"
    rate = floor.rate if isinstance(floor.rate, str) else rate_or_value_text(floor.rate, "rate", lang)
    if lang == "zh":
        return f"{floor.actual} 不低于 {floor.base} × {rate}"
    return f"{floor.actual} at least {floor.base} × {rate}"


def _conditions(rule: Rule) -> dict[str, Node]:
    """The written conditions, parsed and written back canonically (so formatting, quotes and Chinese/English
    codes do not count as changes)."""
    return {expression(tree): tree for tree in rule.trees}


def parameter_lines(name: str, before: Parameter | None, after: Parameter | None, lang: str = "zh") -> list[ChangeLine]:
    """One line per dated step that was added, removed or changed."""
    old, new = _steps(before, lang), _steps(after, lang)
    lines = []
    for start in sorted(set(old) | set(new)):
        if old.get(start) != new.get(start):
            lines.append(ChangeLine(f"params.{name} @ {start}", old.get(start, "—"), new.get(start, "—")))
    if before is not None and after is not None and before.unit != after.unit:
        lines.append(ChangeLine(f"params.{name} unit", before.unit, after.unit))
    return lines


def _rule_lines(base: RuleSet, proposed: RuleSet, a: Rule, b: Rule, lang: str = "zh") -> list[ChangeLine]:
    lines: list[ChangeLine] = []
    for aspect, get in (("title", lambda r: r.title), ("title_en", lambda r: r.title_en), ("kind", lambda r: r.kind),
                        ("event", lambda r: r.event or "—"), ("territory", lambda r: r.territory)):
        if get(a) != get(b):
            lines.append(ChangeLine(aspect, get(a), get(b)))
    if window_text(a, lang) != window_text(b, lang):
        lines.append(ChangeLine("window", window_text(a, lang), window_text(b, lang)))
    old, new = _conditions(a), _conditions(b)
    removed = [c for c in old if c not in new]
    added = [c for c in new if c not in old]
    for condition in removed:
        lines.append(ChangeLine("conditions", condition, "—"))
    for condition in added:
        lines.append(ChangeLine("conditions", "—", condition))
    if amount_formula(base, a, lang) != amount_formula(proposed, b, lang):
        lines.append(ChangeLine("amount", amount_formula(base, a, lang), amount_formula(proposed, b, lang)))
    if a.floor != b.floor:
        lines.append(ChangeLine("floor", _floor(a, lang), _floor(b, lang)))
    for aspect in ("tags", "supersedes", "withholds", "departments"):
        before, after = getattr(a, aspect), getattr(b, aspect)
        if tuple(before) != tuple(after):
            lines.append(ChangeLine(aspect, ", ".join(before) or "—", ", ".join(after) or "—"))
    if a.citation != b.citation:
        lines.append(ChangeLine("citation", _cite(a), _cite(b)))
    from engine.rulebook import rule_params

    for name in sorted(rule_params(a) | rule_params(b)):
        lines += parameter_lines(name, base.parameters.get(name), proposed.parameters.get(name), lang)
    return lines


def _cite(rule: Rule) -> str:
    return f"{rule.citation.section} 「{rule.citation.quote}」" if rule.citation else "—"


def compare_rules(base: RuleSet, proposed: RuleSet, lang: str = "zh") -> tuple[list[RuleChange], list[RuleChange]]:
    """(rule changes, parameter changes), each in rule-set order."""
    changes: list[RuleChange] = []
    for rule in base.rules:
        other = proposed.by_id.get(rule.id)
        if other is None:
            changes.append(RuleChange(rule.id, "removed", rule.title, rule.title_en))
            continue
        lines = _rule_lines(base, proposed, rule, other, lang)
        if lines:
            changes.append(RuleChange(rule.id, "changed", other.title, other.title_en, tuple(lines)))
    for rule in proposed.rules:
        if rule.id not in base.by_id:
            lines = [ChangeLine("amount", "—", amount_formula(proposed, rule, lang)),
                     ChangeLine("window", "—", window_text(rule, lang))]
            lines += [ChangeLine("conditions", "—", c) for c in _conditions(rule)]
            changes.append(RuleChange(rule.id, "added", rule.title, rule.title_en, tuple(lines)))
    params: list[RuleChange] = []
    for name in list(base.parameters) + [n for n in proposed.parameters if n not in base.parameters]:
        before, after = base.parameters.get(name), proposed.parameters.get(name)
        status = "added" if before is None else "removed" if after is None else "changed"
        lines = parameter_lines(name, before, after, lang)
        if lines:
            shown = after or before
            params.append(RuleChange(f"params.{name}", status, shown.description, shown.description_en, tuple(lines)))
    return changes, params


# -- evaluating the population -------------------------------------------------------------------

@dataclass
class RuleRow:
    rule_id: str
    title: str
    title_en: str
    status: str  # added | removed | changed | same
    before_count: int = 0
    after_count: int = 0
    before_yuan: Decimal = ZERO
    after_yuan: Decimal = ZERO

    @property
    def change_yuan(self) -> Decimal:
        return self.after_yuan - self.before_yuan

    @property
    def change_count(self) -> int:
        return self.after_count - self.before_count


@dataclass
class EntityRow:
    label: str
    credit_code: str
    name: str
    city: str
    before: Decimal
    after: Decimal
    details: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)  # (rule id, before, after)

    @property
    def change(self) -> Decimal:
        return self.after - self.before

    @property
    def kind(self) -> str:
        return "gain" if self.change > 0 else "loss" if self.change < 0 else "change"


@dataclass
class DiffReport:
    base_label: str
    proposed_label: str
    base_fingerprint: str
    proposed_fingerprint: str
    as_of: date
    population_label: str
    evaluated: int
    row_errors: list[str]
    rules: list[RuleRow]
    entities: list[EntityRow]
    changes: list[RuleChange]
    parameter_changes: list[RuleChange]
    # input rows and rows not evaluated (enterprises) / not counted (events), per table kind
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_not_read: dict[str, int] = field(default_factory=dict)

    @property
    def has_row_errors(self) -> bool:
        """Some input row could not be read: ``huiqi diff`` then exits 5, as ``huiqi batch`` does."""
        return bool(self.row_errors) or any(self.rows_not_read.values())

    def accounting(self, lang: str = "zh") -> str:
        """"未评估的企业行 108 / 451 · 未计入的事件行 12 / 900" (rows not read out of rows in)."""
        w = WORDS[lang]
        entities_in = self.rows_in.get("enterprises", self.evaluated + self.rows_not_read.get("enterprises", 0))
        text = f"{w['not_evaluated']} {self.rows_not_read.get('enterprises', 0)} / {entities_in}"
        if self.rows_in.get("events"):
            text += f" · {w['events_not_counted']} {self.rows_not_read.get('events', 0)} / {self.rows_in['events']}"
        return f"{text} · {w['error_messages']} {len(self.row_errors)}"

    @property
    def before_total(self) -> Decimal:
        return sum((r.before_yuan for r in self.rules), ZERO)

    @property
    def after_total(self) -> Decimal:
        return sum((r.after_yuan for r in self.rules), ZERO)

    def count(self, kind: str) -> int:
        return sum(1 for e in self.entities if e.kind == kind)


def _per_rule(result) -> dict[str, tuple[int, Decimal]]:
    found: dict[str, list[Decimal]] = defaultdict(list)
    for line in result.benefits:
        found[line.rule_id].append(line.amount if line.amount is not None else ZERO)
    return {k: (len(v), sum(v, ZERO)) for k, v in found.items()}


def run_diff(base: RuleSet, proposed: RuleSet, profiles: list[Profile], as_of: date, labels: list[str] | None = None,
             row_errors: list[str] | None = None, base_label: str = "base", proposed_label: str = "proposed",
             population_label: str = "", backend: str = "durable",
             progress: Callable[[int], None] | None = None, lang: str = "zh", rows_in: dict[str, int] | None = None,
             rows_not_read: dict[str, int] | None = None) -> DiffReport:
    """Evaluate every profile under both rule sets and add up the differences.

    ``rows_in`` / ``rows_not_read``: input rows and rows that could not be read, per table kind
    (``engine.drafting.population.Population``), reported beside the evaluated count."""
    changes, parameter_changes = compare_rules(base, proposed, lang)
    status = {c.rule_id: c.status for c in changes}
    rows: dict[str, RuleRow] = {}
    for rule in list(base.rules) + [r for r in proposed.rules if r.id not in base.by_id]:
        if rule.kind == "benefit":
            shown = proposed.by_id.get(rule.id, rule)
            rows[rule.id] = RuleRow(rule.id, shown.title, shown.title_en, status.get(rule.id, "same"))
    entities: list[EntityRow] = []
    labels = labels or [f"#{i + 1}" for i in range(len(profiles))]
    for index, profile in enumerate(profiles):
        before = evaluate(profile, as_of, base, backend=backend)
        after = evaluate(profile, as_of, proposed, backend=backend)
        old, new = _per_rule(before), _per_rule(after)
        details = []
        for rule_id in sorted(set(old) | set(new)):
            row = rows.get(rule_id)
            count_a, yuan_a = old.get(rule_id, (0, ZERO))
            count_b, yuan_b = new.get(rule_id, (0, ZERO))
            if row is not None:
                row.before_count += 1 if count_a else 0
                row.after_count += 1 if count_b else 0
                row.before_yuan += yuan_a
                row.after_yuan += yuan_b
            if (count_a, yuan_a) != (count_b, yuan_b):
                details.append((rule_id, yuan_a, yuan_b))
        lines_a = sorted((b.rule_id, b.event.index if b.event else -1, b.amount) for b in before.benefits)
        lines_b = sorted((b.rule_id, b.event.index if b.event else -1, b.amount) for b in after.benefits)
        if details or lines_a != lines_b or before.total != after.total:
            entities.append(EntityRow(labels[index], profile.credit_code, profile.name, profile.city,
                                      before.total, after.total, details))
        if progress is not None:
            progress(index + 1)
    entities.sort(key=lambda e: (-abs(e.change), e.label))
    rule_rows = [r for r in rows.values() if r.before_count or r.after_count or r.status != "same"]
    rule_rows.sort(key=lambda r: (-abs(r.change_yuan), -abs(r.change_count), r.rule_id))
    return DiffReport(base_label, proposed_label, base.fingerprint, proposed.fingerprint, as_of, population_label,
                      len(profiles), list(row_errors or []), rule_rows, entities, changes, parameter_changes,
                      dict(rows_in or {}), dict(rows_not_read or {}))


# -- words ---------------------------------------------------------------------------------------

WORDS = {
    "zh": {
        "title": "规则修改影响分析", "base": "现行规则", "proposed": "拟议规则", "as_of": "评估日", "population": "评估对象",
        "evaluated": "已评估主体", "row_errors": "无法读取的行", "not_evaluated": "未评估的企业行",
        "events_not_counted": "未计入的事件行", "error_messages": "错误信息", "rules": "各规则受益情况", "rule": "规则",
        "status": "变化", "ben_before": "受益主体（前）", "ben_after": "受益主体（后）", "ben_change": "受益主体变化",
        "yuan_before": "金额（前，元）", "yuan_after": "金额（后，元）", "yuan_change": "金额变化（元）",
        "entities": "受影响的主体（按变化幅度排序）", "entity": "主体", "city": "城市", "before": "修改前（元）",
        "after": "修改后（元）", "change": "变化（元）", "kind": "类型", "detail": "明细",
        "changes": "规则改动", "aspect": "项目", "was": "原", "now": "新", "params": "参数改动",
        "total": "合计", "gain": "增加", "loss": "减少", "changed": "改变", "added": "新增", "removed": "删除",
        "same": "未改", "chart": "各规则预算变化（元）", "gainers": "受益增加的主体", "losers": "受益减少的主体",
        "others": "金额不变但受益项改变的主体", "none": "无", "budget": "预算", "more": "其余 {n} 个主体见 Excel 报告",
    },
    "en": {
        "title": "Impact of the proposed rule change", "base": "Current rules", "proposed": "Proposed rules",
        "as_of": "As of", "population": "Population", "evaluated": "Entities evaluated", "row_errors": "Rows not read",
        "not_evaluated": "Enterprise rows not evaluated", "events_not_counted": "Event rows not counted",
        "error_messages": "Error messages",
        "rules": "Beneficiaries and yuan per rule", "rule": "Rule", "status": "Change", "ben_before": "Beneficiaries before",
        "ben_after": "Beneficiaries after", "ben_change": "Beneficiaries Δ", "yuan_before": "Yuan before",
        "yuan_after": "Yuan after", "yuan_change": "Yuan Δ", "entities": "Entities affected (largest change first)",
        "entity": "Entity", "city": "City", "before": "Before (yuan)", "after": "After (yuan)", "change": "Change (yuan)",
        "kind": "Kind", "detail": "Detail", "changes": "Rules added, removed or changed", "aspect": "Aspect",
        "was": "Before", "now": "After", "params": "Parameters changed", "total": "Total", "gain": "gain",
        "loss": "loss", "changed": "changed", "added": "added", "removed": "removed", "same": "unchanged",
        "chart": "Budget change per rule (yuan)", "gainers": "Entities that gain", "losers": "Entities that lose",
        "others": "Entities with the same total but different benefits", "none": "none", "budget": "Budget",
        "more": "{n} more entities in the Excel report",
    },
}


def signed(value: Decimal) -> str:
    return ("+" if value > 0 else "") + format_yuan(value)


def signed_int(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


ASPECTS = {
    "zh": {"title": "标题", "title_en": "英文标题", "kind": "类别", "event": "事件", "territory": "适用地域", "window": "有效期",
           "conditions": "条件", "amount": "金额", "floor": "要求", "tags": "标签", "supersedes": "取代",
           "withholds": "取消", "departments": "责任单位", "citation": "出处"},
    "en": {},
}


def aspect_text(aspect: str, lang: str) -> str:
    if aspect.startswith("params.") and lang == "zh":
        return "参数 " + aspect
    return ASPECTS[lang].get(aspect, aspect)


def title_of(row: RuleRow | RuleChange, lang: str) -> str:
    return row.title_en if lang == "en" else row.title


def detail_text(entity: EntityRow) -> str:
    return "; ".join(f"{rule_id}: {format_yuan(a)} → {format_yuan(b)}" for rule_id, a, b in entity.details)


def render_terminal(report: DiffReport, lang: str = "zh", width: int = 160, max_entities: int = 50) -> str:
    """The report as text with rich tables (what the command prints)."""
    w = WORDS[lang]
    console, buffer = _console(width)
    console.print(f"{w['title']}")
    console.print(f"{w['base']}: {report.base_label} ({report.base_fingerprint}) → {w['proposed']}: "
                  f"{report.proposed_label} ({report.proposed_fingerprint})")
    console.print(f"{w['as_of']} {report.as_of} · {w['population']}: {report.population_label} · {w['evaluated']} "
                  f"{report.evaluated} · {report.accounting(lang)}")
    console.print(f"{w['budget']}: {format_yuan(report.before_total)} → {format_yuan(report.after_total)} "
                  f"({signed(report.after_total - report.before_total)}) · {w['gainers']} {report.count('gain')} · "
                  f"{w['losers']} {report.count('loss')} · {w['others']} {report.count('change')}")

    table = Table(title=w["rules"], box=box.SIMPLE_HEAVY, title_justify="left")
    for name, justify in ((w["rule"], "left"), (w["status"], "left"), (w["ben_before"], "right"), (w["ben_after"], "right"),
                          (w["ben_change"], "right"), (w["yuan_before"], "right"), (w["yuan_after"], "right"),
                          (w["yuan_change"], "right")):
        table.add_column(name, justify=justify, overflow="fold")
    for row in report.rules:
        table.add_row(f"{title_of(row, lang)}\n[{row.rule_id}]", w[row.status], str(row.before_count), str(row.after_count),
                      signed_int(row.change_count), format_yuan(row.before_yuan), format_yuan(row.after_yuan),
                      signed(row.change_yuan))
    table.add_row(w["total"], "", "", "", "", format_yuan(report.before_total), format_yuan(report.after_total),
                  signed(report.after_total - report.before_total))
    console.print(table)

    changes = Table(title=w["changes"], box=box.SIMPLE_HEAVY, title_justify="left")
    for name in (w["rule"], w["status"], w["aspect"], w["was"], w["now"]):
        changes.add_column(name, overflow="fold")
    for change in report.changes + report.parameter_changes:
        lines = change.lines or (ChangeLine("—", "", ""),)
        for i, line in enumerate(lines):
            head = f"{title_of(change, lang)}\n[{change.rule_id}]" if i == 0 else ""
            changes.add_row(head, w[change.status] if i == 0 else "", aspect_text(line.aspect, lang), line.before, line.after)
    if not report.changes and not report.parameter_changes:
        changes.add_row(w["none"], "", "", "", "")
    console.print(changes)

    people = Table(title=w["entities"], box=box.SIMPLE_HEAVY, title_justify="left")
    for name, justify in ((w["entity"], "left"), (w["city"], "left"), (w["before"], "right"), (w["after"], "right"),
                          (w["change"], "right"), (w["kind"], "left"), (w["detail"], "left")):
        people.add_column(name, justify=justify, overflow="fold")
    for entity in report.entities[:max_entities]:
        people.add_row(f"{entity.name}\n{entity.credit_code}", entity.city, format_yuan(entity.before), format_yuan(entity.after),
                       signed(entity.change), w[entity.kind if entity.kind != "change" else "changed"], detail_text(entity))
    console.print(people)
    if len(report.entities) > max_entities:
        console.print(w["more"].format(n=len(report.entities) - max_entities))
    for error in report.row_errors:
        console.print(f"{w['row_errors']}: {error}")
    return buffer.getvalue()


def label_of(path: str | Path) -> str:
    return Path(path).as_posix()
