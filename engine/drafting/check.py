"""``huiqi rules check``: static checks of a rule base, each reported with file, line, rule id and a message.

The loader (``engine.rulebook.load_rules``) already reports schema and type errors; this module runs it,
keeps its problems, and — when the rules loaded — adds the semantic checks below. Every finding is an
``engine.rulebook.Problem`` so everything prints in one format. Errors make the command fail; warnings
do not.

| check | severity | criterion |
|---|---|---|
| loader problems | as the loader says | schema, types, unknown fields/parameters/keys, duplicate ids, … |
| parameter gap | error | a rule reads ``params.x`` but ``x``'s first step starts after the rule's window starts |
| window outside document | error | a rule's own ``effective_from``/``effective_to`` lies outside its document's window |
| quote not found | error | a rule's or a parameter step's quote is not in the cited source (all whitespace removed) |
| missing source file | error | the document's ``source`` is not in the sources folder |
| sources not found | error | no sources folder (``--sources``, the rule base's ``sources/``, or the shipped texts) |
| contradiction | error | the rule's conditions, with the document's territory and window, can never all be true |
| always true | warning | a condition can never be false once its fields are known |
| implied / duplicate | warning | a condition follows from another condition of the same rule (or from the territory/window) |
| possible double payment | warning | see ``overlaps`` |
| expired | warning | with ``--as-of``: a document, or a rule of a live document, whose window ended before that date |
| unused parameter | warning | a parameter no rule reads |
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from engine import schema
from engine.drafting.reasoning import Reasoner, definitions_of, expression, flatten
from engine.evaluate import compiled_tree, conditions_of
from engine.rulebook import LoadError, Problem, Rule, RuleSet, default_rules_dir, load_rules, rule_params
from engine.tree import All, Node

MONEY_FORMS = ("fixed", "rate", "actual")


@dataclass(frozen=True)
class CheckResult:
    problems: tuple[Problem, ...]
    rules: RuleSet | None  # None when the rules did not load
    sources: Path | None  # the folder the quotes were checked against

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


# -- finding things ------------------------------------------------------------------------------

SOURCES_FOLDER = "sources"  # the source texts ship beside the rule files: rules/sources/<file>.txt


def shipped_sources_dir() -> Path:
    """The source texts of the shipped rule base (``engine/_rules/sources`` installed, ``rules/sources`` in a checkout)."""
    return default_rules_dir() / SOURCES_FOLDER


def find_sources(rules_path: Path, given: str | Path | None = None) -> Path | None:
    """The folder of source texts: ``given``; else the ``sources`` folder of the rule base at ``rules_path``
    (beside its files, or one level up for a single file); else the shipped texts. None when there is none,
    which the checker reports as an error: quotes are always checked."""
    if given is not None:
        path = Path(given)
        return path if path.is_dir() else None
    base = rules_path if rules_path.is_dir() else rules_path.parent
    for candidate in (base / SOURCES_FOLDER, base.parent / SOURCES_FOLDER, shipped_sources_dir()):
        if candidate.is_dir():
            return candidate
    return None


def squeeze(text: str) -> str:
    """Text with every whitespace character removed (how quotes are compared with the sources)."""
    return "".join(text.split())


class _Files:
    """The text of each rule file, by the label the loader uses for it."""

    def __init__(self, root: Path):
        self.base = root.parent
        self.cache: dict[str, str] = {}

    def text(self, label: str) -> str:
        if label not in self.cache:
            path = self.base / label
            try:
                self.cache[label] = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                self.cache[label] = ""
        return self.cache[label]

    def line(self, label: str, needles: Iterable[str], after: int | None = None) -> int | None:
        text = self.text(label)
        start = 0
        if after:
            lines = text.split("\n")
            start = sum(len(x) + 1 for x in lines[: after - 1])
        for needle in needles:
            if not needle:
                continue
            index = text.find(needle, start)
            if index >= 0:
                return text.count("\n", 0, index) + 1
        return after


def _condition_needles(condition: str) -> list[str]:
    return [condition, json.dumps(condition, ensure_ascii=False)[1:-1], condition[:40]]


# -- the checker ---------------------------------------------------------------------------------

def check_rules(path: str | Path | None = None, as_of: date | None = None,
                sources: str | Path | None = None) -> CheckResult:
    """Run the loader and every semantic check on the rules at ``path`` (default: the shipped rules)."""
    root = Path(path) if path is not None else default_rules_dir()
    problems: list[Problem] = []
    ruleset: RuleSet | None = None
    try:
        ruleset = load_rules(root)
        problems.extend(ruleset.warnings)
    except LoadError as exc:
        problems.extend(exc.problems)
    source_dir = find_sources(root, sources)
    if ruleset is not None:
        checker = _Checker(ruleset, root, as_of, source_dir)
        if source_dir is None:
            shown = str(sources) if sources is not None else str(shipped_sources_dir())
            problems.append(Problem(str(root), f"找不到原文目录（{shown}），无法核对引文；可用 --sources 指定",
                                    f"source folder not found ({shown}): quotes cannot be checked; use --sources"))
        problems.extend(checker.run())
    return CheckResult(tuple(_dedupe(problems)), ruleset, source_dir)


def _dedupe(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    unique = []
    for p in problems:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    return sorted(unique, key=lambda p: (p.file, p.line or 0, p.severity != "error", p.rule_id or "", p.message_en))


class _Checker:
    def __init__(self, rules: RuleSet, root: Path, as_of: date | None, sources: Path | None):
        self.rules = rules
        self.files = _Files(root)
        self.as_of = as_of
        self.sources = sources
        self.reasoner = Reasoner(definitions_of(rules))
        self.problems: list[Problem] = []

    def run(self) -> list[Problem]:
        self.check_quotes()
        self.check_parameters()
        for rule in self.rules.rules:
            self.check_window(rule)
            self.check_logic(rule)
        self.check_overlaps()
        self.check_expiry()
        return self.problems

    def add(self, rule: Rule | None, zh: str, en: str, field: str | None = None, severity: str = "error",
            file: str | None = None, line: int | None = None) -> None:
        if rule is not None:
            file = file or self.rules.document_of(rule).path
            line = line or rule.line
        self.problems.append(Problem(file or "", zh, en, line, rule.id if rule else None, field, severity))

    def doc_path(self, rule: Rule) -> str:
        return self.rules.document_of(rule).path

    # -- quotes ----------------------------------------------------------------------------------
    def check_quotes(self) -> None:
        if self.sources is None:
            return
        texts: dict[str, str | None] = {}
        for document in self.rules.documents.values():
            file = self.sources / document.source
            if document.source not in texts:
                try:
                    texts[document.source] = squeeze(file.read_text(encoding="utf-8-sig"))
                except (OSError, UnicodeDecodeError):
                    texts[document.source] = None
            if texts[document.source] is None:
                self.add(None, f"原文文件「{document.source}」不在 {self.sources} 中",
                         f"source file '{document.source}' is not in {self.sources}", "document.source",
                         file=document.path, line=self.files.line(document.path, ["source ="]))
        for rule in self.rules.rules:
            source = texts.get(self.rules.document_of(rule).source)
            if rule.citation is None or source is None:
                continue
            if squeeze(rule.citation.quote) not in source:
                line = self.files.line(self.doc_path(rule), ["quote = " + json.dumps(rule.citation.quote, ensure_ascii=False),
                                                             rule.citation.quote[:20]], rule.line)
                self.add(rule, f"引文在原文 {self.rules.document_of(rule).source} 中找不到（已去除空白比较）：「{rule.citation.quote}」",
                         f"quote not found verbatim in {self.rules.document_of(rule).source} (whitespace ignored): "
                         f"\"{rule.citation.quote}\"", "citation.quote", line=line)
        for parameter in self.rules.parameters.values():
            document = self.rules.documents[parameter.document_id]
            source = texts.get(document.source)
            if source is None:
                continue
            start = self.files.line(document.path, [f"[parameters.{parameter.name}]"])
            for index, step in enumerate(parameter.steps):
                if squeeze(step.citation.quote) not in source:
                    line = self.files.line(document.path, [step.citation.quote[:20]], start)
                    self.add(None, f"参数 {parameter.name} 第 {index + 1} 个取值步骤的引文在原文中找不到：「{step.citation.quote}」",
                             f"parameter {parameter.name}, step {index + 1}: quote not found in the source: "
                             f"\"{step.citation.quote}\"", f"parameters.{parameter.name}.steps[{index}].citation.quote",
                             file=document.path, line=line)

    # -- parameters ------------------------------------------------------------------------------
    def check_parameters(self) -> None:
        used: set[str] = set()
        for rule in self.rules.rules:
            names = rule_params(rule)
            used |= names
            if rule.kind == "derived" or rule.window_from is None:
                continue
            for name in sorted(names):
                parameter = self.rules.parameters.get(name)
                if parameter is None or not parameter.steps:
                    continue
                first = parameter.steps[0].start
                if first > rule.window_from:
                    gap_end = min(first - timedelta(days=1), rule.window_to or first)
                    self.add(rule, f"参数 params.{name} 在规则有效期的 {rule.window_from} ~ {gap_end} 没有取值（第一个取值自 {first} 起）",
                             f"parameter params.{name} has no value for {rule.window_from} to {gap_end} of the rule's window "
                             f"(its first step starts {first})", f"params.{name}")
        for name, parameter in self.rules.parameters.items():
            if name not in used:
                document = self.rules.documents[parameter.document_id]
                self.add(None, f"参数 {name} 没有任何规则使用", f"parameter {name} is not used by any rule",
                         f"parameters.{name}", "warning", document.path,
                         self.files.line(document.path, [f"[parameters.{name}]"]))

    # -- windows ---------------------------------------------------------------------------------
    def check_window(self, rule: Rule) -> None:
        if rule.kind == "derived":
            return
        document = self.rules.document_of(rule)
        if rule.effective_from is not None and rule.effective_from < document.effective_from:
            self.add(rule, f"规则生效日期 {rule.effective_from} 早于文件生效日期 {document.effective_from}",
                     f"the rule starts {rule.effective_from}, before its document ({document.effective_from})",
                     "effective_from", line=self.files.line(document.path, ["effective_from"], rule.line))
        if rule.effective_to is not None and document.effective_to is not None and rule.effective_to > document.effective_to:
            self.add(rule, f"规则失效日期 {rule.effective_to} 晚于文件失效日期 {document.effective_to}",
                     f"the rule ends {rule.effective_to}, after its document ({document.effective_to})",
                     "effective_to", line=self.files.line(document.path, ["effective_to"], rule.line))

    def check_expiry(self) -> None:
        if self.as_of is None:
            return
        expired_docs = set()
        for document in self.rules.documents.values():
            if document.effective_to is not None and document.effective_to < self.as_of:
                expired_docs.add(document.id)
                self.add(None, f"文件已于 {document.effective_to} 失效（评估日 {self.as_of}）；其规则只适用于有效期内的事件",
                         f"the document expired on {document.effective_to} (as of {self.as_of}); its rules only apply to "
                         "events within its window", "document.effective_to", "warning", document.path,
                         self.files.line(document.path, ["effective_to"]))
        for rule in self.rules.rules:
            if rule.kind == "derived" or rule.document_id in expired_docs:
                continue
            if rule.window_to is not None and rule.window_to < self.as_of:
                self.add(rule, f"规则已于 {rule.window_to} 失效（评估日 {self.as_of}）",
                         f"the rule expired on {rule.window_to} (as of {self.as_of})", "effective_to", "warning")

    # -- logic -----------------------------------------------------------------------------------
    def conjuncts(self, rule: Rule) -> list[tuple[Node, str, int | None, bool]]:
        """(tree, text, index of the condition string, implicit) for each top-level conjunct."""
        found = []
        for condition in conditions_of(self.rules, rule):
            if condition.implicit:
                found.append((condition.tree, condition.expression, None, True))
        for index, (text, tree) in enumerate(zip(rule.written, rule.trees)):
            parts = flatten(tree)
            for part in parts:
                found.append((part, text if len(parts) == 1 else expression(part), index, False))
        return found

    def condition_line(self, rule: Rule, index: int | None) -> int | None:
        if index is None:
            return rule.line
        return self.files.line(self.doc_path(rule), _condition_needles(rule.written[index]), rule.line)

    def implicit_words(self, text: str) -> tuple[str, str]:
        if text.startswith("city"):
            return "文件适用地区（" + text + "）", "the document's territory (" + text + ")"
        return "规则有效期（" + text + "）", "the rule's window (" + text + ")"

    def check_logic(self, rule: Rule) -> None:
        event = rule.event
        parts = self.conjuncts(rule)
        whole = All(tuple(p[0] for p in parts))
        possible = self.reasoner.satisfiable(whole, event)
        if possible is None:
            return
        if not possible:
            self.report_contradiction(rule, parts)
            return
        written = [(i, p) for i, p in enumerate(parts) if not p[3]]
        reported: set[int] = set()
        for i, (tree, text, index, _) in written:
            if self.reasoner.can_be_false(tree, event) is False:
                reported.add(i)
                self.add(rule, f"条件「{text}」在字段已知时恒为真，不影响结果（字段缺失时反而使结果待定），可删除",
                         f"condition '{text}' is always true once its fields are known: it cannot change the outcome "
                         "(it only makes the result undetermined when a field is missing)",
                         f"conditions[{index}]", "warning", line=self.condition_line(rule, index))
        for i, (tree, text, index, _) in written:
            if i in reported:
                continue
            for j, (other, other_text, _other_index, implicit) in enumerate(parts):
                if j == i or j in reported or not self.reasoner.implies(other, tree, event):
                    continue
                both = not implicit and self.reasoner.implies(tree, other, event)
                if both and j > i:
                    continue  # equivalent pair: reported once, on the later one
                if implicit:
                    zh, en = self.implicit_words(other_text)
                else:
                    zh, en = f"条件「{other_text}」", f"condition '{other_text}'"
                if both:
                    message = (f"条件「{text}」与{zh}重复（两者等价）", f"condition '{text}' duplicates {en} (they are equivalent)")
                else:
                    message = (f"条件「{text}」已被{zh}蕴含，不影响结果，可删除",
                               f"condition '{text}' is implied by {en}: it cannot change the outcome")
                self.add(rule, *message, f"conditions[{index}]", "warning", line=self.condition_line(rule, index))
                reported.add(i)
                break

    def report_contradiction(self, rule: Rule, parts: list[tuple[Node, str, int | None, bool]]) -> None:
        event = rule.event
        culprits: list[tuple[Node, str, int | None, bool]] = []
        for part in parts:
            if self.reasoner.satisfiable(part[0], event) is False:
                culprits = [part]
                break
        if not culprits:
            for i, a in enumerate(parts):
                for b in parts[i + 1:]:
                    if self.reasoner.satisfiable(All((a[0], b[0])), event) is False:
                        culprits = [a, b]
                        break
                if culprits:
                    break
        index = next((c[2] for c in culprits if c[2] is not None), None)
        if not culprits:
            zh, en = "全部条件合起来无法同时成立", "the conditions taken together cannot all hold"
        elif len(culprits) == 1:
            zh, en = f"条件「{culprits[0][1]}」本身不可能成立", f"condition '{culprits[0][1]}' can never hold"
        else:
            names = []
            for _tree, text, _, implicit in culprits:
                names.append(self.implicit_words(text) if implicit else (f"条件「{text}」", f"condition '{text}'"))
            zh = f"{names[0][0]}与{names[1][0]}不可能同时成立"
            en = f"{names[0][1]} and {names[1][1]} cannot both hold"
        self.add(rule, f"条件互相矛盾，此规则永远不会适用：{zh}", f"contradictory conditions, the rule can never apply: {en}",
                 f"conditions[{index}]" if index is not None else "conditions", line=self.condition_line(rule, index))

    # -- overlaps --------------------------------------------------------------------------------
    def check_overlaps(self) -> None:
        """Possible double payment: see ``overlap_reason``."""
        benefits = [r for r in self.rules.rules if r.kind == "benefit" and r.event is not None]
        for i, a in enumerate(benefits):
            for b in benefits[i + 1:]:
                reason = overlap_reason(self.rules, self.reasoner, a, b)
                if reason is None:
                    continue
                start, end, money, why_zh, why_en = reason
                window = f"{start} ~ {end or '长期'}"
                window_en = f"{start} to {end or 'open'}"
                kind = schema.EVENT_BY_CODE[b.event]
                what_zh = f"可能为同一「{kind.zh}」事件重复支付" if money else f"可能为同一「{kind.zh}」支持措施重复列出"
                what_en = f"may pay twice for the same {kind.en} event" if money else (
                    f"may be the same {kind.en} support measure listed twice")
                self.add(b, f"与规则 {a.id}（{self.doc_path(a)}）{what_zh}：有效期重叠（{window}），条件可同时满足，且{why_zh}；"
                            "若一条取代另一条，请用 supersedes 写明",
                         f"{what_en} with {a.id} ({self.doc_path(a)}): windows overlap ({window_en}), both sets of "
                         f"conditions can hold, and {why_en}; if one replaces the other, say so with supersedes",
                         "supersedes", "warning")


def overlap_reason(rules: RuleSet, reasoner: Reasoner, a: Rule, b: Rule) -> tuple[date, date | None, bool, str, str] | None:
    """Why benefits ``a`` and ``b`` look like one benefit paid twice: (overlap start, end, money?, why zh, why en).

    Flagged when all hold: the same event type; overlapping windows; neither ``supersedes`` the other;
    their whole conditions (territory, window, written conditions, derived facts expanded) can be true
    for one entity and one event; and they look like the same benefit: both state money (form fixed,
    rate or actual: a double payment), or both state no money and carry the same tags (the same support
    measure listed twice). A province fee reimbursement and a city support measure without an amount, or
    with other tags, are not flagged.
    """
    if a.event is None or a.event != b.event or a.id in b.supersedes or b.id in a.supersedes:
        return None
    start = max(a.window_from, b.window_from)
    ends = [w for w in (a.window_to, b.window_to) if w is not None]
    end = min(ends) if ends else None
    if end is not None and end < start:
        return None
    money_a = a.amount is not None and a.amount.form in MONEY_FORMS
    money_b = b.amount is not None and b.amount.form in MONEY_FORMS
    if money_a and money_b:
        why = ("两条都给付金额", "both pay money")
    elif not money_a and not money_b and a.tags and set(a.tags) == set(b.tags):
        tags = "、".join(sorted(a.tags))
        why = (f"两条都无具体金额且标签相同（{tags}）", f"neither states an amount and they carry the same tags ({', '.join(sorted(a.tags))})")
    else:
        return None
    both = All((compiled_tree(rules, a), compiled_tree(rules, b)))
    if reasoner.satisfiable(both, a.event) is not True:
        return None
    return start, end, money_a and money_b, why[0], why[1]


# -- output --------------------------------------------------------------------------------------

def render(result: CheckResult, lang: str = "zh") -> str:
    """Every problem on one line (file:line · rule · field: severity: message), then a summary."""
    lines = [p.text(lang) for p in result.problems]
    errors, warnings = len(result.errors), len(result.warnings)
    if lang == "en":
        rules = f"{len(result.rules.rules)} rules in {len(result.rules.documents)} documents, " if result.rules else ""
        summary = f"{rules}{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
        if result.rules is None:
            summary += " (the rules did not load, so the semantic checks did not run)"
    else:
        rules = f"{len(result.rules.documents)} 个文件、{len(result.rules.rules)} 条规则；" if result.rules else ""
        summary = f"{rules}{errors} 个错误，{warnings} 个警告"
        if result.rules is None:
            summary += "（规则未能加载，未进行语义检查）"
    if not lines:
        lines.append("未发现问题" if lang == "zh" else "no problems found")
    return "\n".join(lines + [summary]) + "\n"


def problem_dict(problem: Problem) -> dict[str, Any]:
    return {"file": problem.file, "line": problem.line, "rule_id": problem.rule_id, "field": problem.field,
            "severity": problem.severity, "message_zh": problem.message_zh, "message_en": problem.message_en}
