"""Rule files (TOML) → a checked, immutable ``RuleSet``.

Loading never executes anything: TOML is parsed as data (floats as ``Decimal``), conditions are parsed
by ``engine.conditions`` and every field, parameter, event type, rule reference and window is checked.
Every problem is reported with file, line (found by searching the file text; TOML parsers give no line
for a key), rule id and field, in Chinese and English. ``LoadError`` carries them all.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from engine import schema
from engine.cities import CITIES, PROVINCE, normalise_city
from engine.conditions import ConditionError, Scope, parse_condition
from engine.once import ONCE_PER, once_per
from engine.textnorm import ParseError
from engine.tree import All, Node, derived_of, params_of

MAX_FILE_BYTES = 2_000_000
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,119}$")
KINDS = ("benefit", "requirement", "exclusion", "derived")
UNITS = ("rate", "yuan", "count", "number", "date", "text", "bool")
AMOUNT_FORMS = ("fixed", "rate", "actual", "none")
PARAMETER_KEYS = frozenset({"description", "description_en", "unit", "steps"})
STEP_KEYS = frozenset({"from", "value", "citation"})


# -- problems ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    file: str
    message_zh: str
    message_en: str
    line: int | None = None
    rule_id: str | None = None
    field: str | None = None
    severity: str = "error"  # error | warning

    def text(self, lang: str = "zh") -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        parts = [where]
        if self.rule_id:
            parts.append(("规则 " if lang == "zh" else "rule ") + self.rule_id)
        if self.field:
            parts.append(("字段 " if lang == "zh" else "field ") + self.field)
        level = {"error": ("错误", "error"), "warning": ("警告", "warning")}[self.severity][lang == "en"]
        message = self.message_en if lang == "en" else self.message_zh
        return f"{' · '.join(parts)}: {level}: {message}"


class LoadError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.text("zh") + "\n    " + p.message_en for p in problems))

    def text(self, lang: str = "zh") -> str:
        return "\n".join(p.text(lang) for p in self.problems)


# -- the models ----------------------------------------------------------------------------------

class Citation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    section: str
    quote: str

    @field_validator("section", "quote")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty / 不能为空")
        return value


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    start: date
    value: Any
    citation: Citation


class Parameter(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    description: str
    description_en: str = ""
    unit: str
    steps: tuple[Step, ...]
    document_id: str

    def value_at(self, when: date) -> Any:
        current = None
        for step in self.steps:
            if step.start <= when:
                current = step.value
        return current

    def step_values(self) -> list[tuple[date, Any]]:
        return [(s.start, s.value) for s in self.steps]


class Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    title: str
    title_en: str
    issuer: str
    number: str | None = None
    jurisdiction: str
    source: str
    effective_from: date
    effective_to: date | None = None
    note: str | None = None
    path: str = ""

    @property
    def is_province(self) -> bool:
        return self.jurisdiction == PROVINCE


class Amount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    form: str
    value: Decimal | str | None = None
    base: str | tuple[str, ...] | None = None
    rate: Decimal | str | None = None
    cap: Decimal | str | None = None


class Floor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    base: str
    rate: Decimal | str
    actual: str


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
    id: str
    title: str
    title_en: str
    kind: str
    event: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    conditions: tuple[str, ...] = ()
    amount: Amount | None = None
    floor: Floor | None = None
    withholds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    supersedes: tuple[str, ...] = ()
    once_per: str | None = None  # "event" | "entity" (engine.once); None: the default for the rule's kind
    once_group: str | None = None  # an award several rules pay together, once
    territory: str = "entity"
    departments: tuple[str, ...] = ()
    citation: Citation | None = None
    note: str | None = None
    # Filled by the loader:
    document_id: str = ""
    line: int | None = None
    trees: tuple[Any, ...] = ()  # one Node per condition string
    window_from: date | None = None
    window_to: date | None = None

    @property
    def tree(self) -> Node:
        return All(tuple(self.trees))

    def in_window(self, when: date) -> bool:
        return (self.window_from is None or self.window_from <= when) and (
            self.window_to is None or when <= self.window_to)

    def title_in(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title


@dataclass(frozen=True)
class RuleSet:
    documents: dict[str, Document]
    parameters: dict[str, Parameter]
    rules: tuple[Rule, ...]
    fingerprint: str
    derived_order: tuple[str, ...]
    root: str
    warnings: tuple[Problem, ...] = ()
    by_id: dict[str, Rule] = field(default_factory=dict)
    cache: dict = field(default_factory=dict, compare=False, repr=False)  # worded conditions, bound trees

    def rule(self, rule_id: str) -> Rule:
        return self.by_id[rule_id]

    def document_of(self, rule: Rule) -> Document:
        return self.documents[rule.document_id]

    def param_at(self, name: str, when: date) -> Any:
        return self.parameters[name].value_at(when)


# -- loading -------------------------------------------------------------------------------------

def default_rules_dir() -> Path:
    """The shipped rule base: inside the installed package, or ``rules/`` of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_rules", here.parent / "rules"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("no rule base found (engine/_rules or rules/)")


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load every ``*.toml`` under ``path`` (default: the shipped rule base). Raises LoadError."""
    root = Path(path) if path is not None else default_rules_dir()
    if not root.exists():
        raise LoadError([Problem(str(root), "规则目录或文件不存在", "rules path does not exist")])
    files = sorted(root.rglob("*.toml")) if root.is_dir() else [root]
    if not files:
        raise LoadError([Problem(str(root), "目录中没有 .toml 规则文件", "no .toml rule files in this folder")])
    loader = _Loader(root)
    for file in files:
        loader.read(file)
    return loader.finish()


def _line_of(text: str, needle: str, start: int = 0) -> int | None:
    index = text.find(needle, start)
    return None if index < 0 else text.count("\n", 0, index) + 1


class _Loader:
    def __init__(self, root: Path):
        self.root = root
        self.problems: list[Problem] = []
        self.documents: dict[str, Document] = {}
        self.parameters: dict[str, Parameter] = {}
        self.raw_rules: list[tuple[dict, Document, str, str]] = []  # (data, document, file label, text)
        self.hasher = hashlib.sha256()

    def label(self, file: Path) -> str:
        try:
            return str(file.relative_to(self.root.parent if self.root.is_dir() else file.parent))
        except ValueError:
            return str(file)

    def problem(self, file: str, zh: str, en: str, line=None, rule_id=None, field_name=None, severity="error"):
        self.problems.append(Problem(file, zh, en, line, rule_id, field_name, severity))

    def read(self, file: Path) -> None:
        label = self.label(file)
        if file.stat().st_size > MAX_FILE_BYTES:
            self.problem(label, f"文件过大（超过{MAX_FILE_BYTES // 1_000_000} MB）", f"file too large (over {MAX_FILE_BYTES // 1_000_000} MB)")
            return
        raw = file.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.problem(label, "文件不是 UTF-8 编码", "file is not UTF-8 encoded")
            return
        try:
            data = tomllib.loads(text, parse_float=Decimal)
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"line (\d+)", str(exc))
            self.problem(label, f"TOML 格式错误：{exc}", f"not valid TOML: {exc}", int(match.group(1)) if match else None)
            return
        except (RecursionError, MemoryError):
            self.problem(label, "TOML 嵌套过深", "TOML nested too deeply")
            return
        except ValueError as exc:  # tomllib lets int() errors through, e.g. an integer of over 4300 digits
            self.problem(label, f"TOML 取值无法读取：{exc}", f"TOML value cannot be read: {exc}")
            return
        self.hasher.update(label.encode() + b"\0" + raw + b"\0")
        unknown = set(data) - {"document", "parameters", "rules"}
        for key in sorted(unknown):
            self.problem(label, f"未知的顶层表「{key}」（应为 document、parameters、rules）",
                         f"unknown top-level table '{key}' (expected document, parameters, rules)", _line_of(text, key))
        document = self.read_document(data.get("document"), label, text)
        if document is None:
            return
        self.read_parameters(data.get("parameters", {}), document, label, text)
        rules = data.get("rules", [])
        if not isinstance(rules, list):
            self.problem(label, "rules 应写成 [[rules]] 表数组", "rules must be an array of tables [[rules]]")
            return
        for item in rules:
            if not isinstance(item, dict):
                self.problem(label, "每条规则应为一个表", "each rule must be a table")
                continue
            self.raw_rules.append((item, document, label, text))

    def pydantic_problems(self, exc: ValidationError, label: str, text: str, rule_id: str | None, prefix: str = ""):
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            top = str(err["loc"][0]) if err["loc"] else ""
            line = None
            if rule_id:
                start = text.find(f'"{rule_id}"')
                line = _line_of(text, top, max(start, 0)) if top else _line_of(text, rule_id)
            else:
                line = _line_of(text, top) if top else None
            kind = err["type"]
            if kind == "missing":
                zh, en = "缺少必填项", "required but missing"
            elif kind == "extra_forbidden":
                allowed = {
                    "document": Document, "rule": Rule, "amount": Amount, "floor": Floor, "citation": Citation,
                }
                zh, en = "不认识的键（可能拼写有误）", "unknown key (a typo?)"
                hint = schema.suggest(str(err["loc"][-1]), [
                    *Rule.model_fields, *Document.model_fields, *Amount.model_fields, *Floor.model_fields,
                ] if allowed else [])
                if hint:
                    zh += f"，是否想写「{hint}」？"
                    en += f"; did you mean '{hint}'?"
            else:
                zh, en = f"取值不符合要求：{err['msg']}", f"invalid value: {err['msg']}"
            self.problem(label, zh, en, line, rule_id, prefix + loc)

    def read_document(self, raw: Any, label: str, text: str) -> Document | None:
        if not isinstance(raw, dict):
            self.problem(label, "缺少 [document] 表（文件元数据）", "missing the [document] table (file metadata)")
            return None
        try:
            document = Document.model_validate({**raw, "path": label})
        except ValidationError as exc:
            self.pydantic_problems(exc, label, text, None, "document.")
            return None
        line = _line_of(text, "[document]")
        if not ID_PATTERN.match(document.id):
            self.problem(label, "文件 id 只能使用小写字母、数字、点、横线和下划线", "document id may use only a-z 0-9 . - _",
                         line, None, "document.id")
        if document.id in self.documents:
            self.problem(label, f"文件 id「{document.id}」重复（也见于 {self.documents[document.id].path}）",
                         f"duplicate document id '{document.id}' (also in {self.documents[document.id].path})",
                         line, None, "document.id")
            return None
        try:
            jurisdiction = document.jurisdiction if document.jurisdiction == PROVINCE else normalise_city(document.jurisdiction)
            document = document.model_copy(update={"jurisdiction": jurisdiction})
        except ParseError:
            self.problem(label, f"适用地区应为「{PROVINCE}」或以下城市之一：{'、'.join(CITIES)}",
                         f"jurisdiction must be {PROVINCE} or one of the 14 cities", _line_of(text, "jurisdiction"),
                         None, "document.jurisdiction")
            return None
        if document.effective_to and document.effective_to < document.effective_from:
            self.problem(label, "失效日期早于生效日期", "effective_to is before effective_from",
                         _line_of(text, "effective_to"), None, "document.effective_to")
        self.documents[document.id] = document
        return document

    def read_parameters(self, raw: Any, document: Document, label: str, text: str) -> None:
        if not isinstance(raw, dict):
            self.problem(label, "parameters 应为表", "parameters must be a table")
            return
        for name, spec in raw.items():
            line = _line_of(text, f"[parameters.{name}]")
            where = f"parameters.{name}"
            if not re.match(r"^[a-z][a-z0-9_]*$", name):
                self.problem(label, "参数名只能使用小写字母、数字和下划线", "parameter names use a-z 0-9 _", line, None, where)
                continue
            if name in self.parameters:
                self.problem(label, f"参数「{name}」重复定义（也见于文件 {self.parameters[name].document_id}）",
                             f"parameter '{name}' is defined twice (also in document {self.parameters[name].document_id})",
                             line, None, where)
                continue
            if not isinstance(spec, dict):
                self.problem(label, "参数应为表", "a parameter must be a table", line, None, where)
                continue
            for key in sorted(set(spec) - PARAMETER_KEYS):
                hint = schema.suggest(key, PARAMETER_KEYS)
                self.problem(label, f"参数中不认识的键「{key}」" + (f"，是否想写「{hint}」？" if hint else ""),
                             f"unknown key '{key}' in a parameter" + (f"; did you mean '{hint}'?" if hint else ""),
                             _line_of(text, key, text.find(f"[parameters.{name}]")), None, f"{where}.{key}")
            unit = spec.get("unit")
            if unit not in UNITS:
                self.problem(label, f"参数单位应为 {'、'.join(UNITS)} 之一", f"unit must be one of {', '.join(UNITS)}",
                             line, None, where + ".unit")
                continue
            steps = []
            raw_steps = spec.get("steps")
            if not isinstance(raw_steps, list) or not raw_steps:
                self.problem(label, "参数至少需要一个取值步骤 [[parameters.x.steps]]", "a parameter needs at least one step",
                             line, None, where + ".steps")
                continue
            ok = True
            for index, step in enumerate(raw_steps):
                if not isinstance(step, dict):
                    ok = False
                    self.problem(label, "取值步骤应为表", "a step must be a table", line, None, f"{where}.steps[{index}]")
                    continue
                for key in sorted(set(step) - STEP_KEYS):
                    ok = False
                    hint = schema.suggest(key, STEP_KEYS)
                    self.problem(label, f"取值步骤中不认识的键「{key}」" + (f"，是否想写「{hint}」？" if hint else ""),
                                 f"unknown key '{key}' in a step" + (f"; did you mean '{hint}'?" if hint else ""),
                                 _line_of(text, key, text.find(f"[parameters.{name}]")), None, f"{where}.steps[{index}].{key}")
                try:
                    value = _parameter_value(unit, step.get("value"))
                    steps.append(Step(start=step.get("from"), value=value, citation=step.get("citation")))
                except (ValidationError, ValueError) as exc:
                    ok = False
                    message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
                    self.problem(label, f"取值步骤有误：{message}", f"invalid step: {message}", line, None,
                                 f"{where}.steps[{index}]")
            if not ok:
                continue
            steps.sort(key=lambda s: s.start)
            if len({s.start for s in steps}) != len(steps):
                self.problem(label, "两个取值步骤的起始日期相同", "two steps start on the same date", line, None, where + ".steps")
                continue
            try:
                self.parameters[name] = Parameter(
                    name=name, description=spec.get("description", ""), description_en=spec.get("description_en", ""),
                    unit=unit, steps=tuple(steps), document_id=document.id)
            except ValidationError as exc:
                self.pydantic_problems(exc, label, text, None, where + ".")

    def finish(self) -> RuleSet:
        rules: list[Rule] = []
        ids: dict[str, str] = {}
        parsed: list[tuple[Rule, dict, Document, str, str]] = []
        for raw, document, label, text in self.raw_rules:
            rule_id = raw.get("id") if isinstance(raw.get("id"), str) else None
            try:
                rule = Rule.model_validate({k: v for k, v in raw.items()
                                            if k not in ("document_id", "line", "trees", "window_from", "window_to")})
            except ValidationError as exc:
                self.pydantic_problems(exc, label, text, rule_id)
                continue
            line = _line_of(text, f'"{rule.id}"')
            if not ID_PATTERN.match(rule.id):
                self.problem(label, "规则 id 只能使用小写字母、数字、点、横线和下划线", "rule id may use only a-z 0-9 . - _",
                             line, rule.id, "id")
                continue
            if rule.id in ids:
                self.problem(label, f"规则 id 重复（也见于 {ids[rule.id]}）", f"duplicate rule id (also in {ids[rule.id]})",
                             line, rule.id, "id")
                continue
            ids[rule.id] = label
            parsed.append((rule.model_copy(update={"document_id": document.id, "line": line}), raw, document, label, text))
        derived = frozenset(r.id for r, *_ in parsed if r.kind == "derived")
        units = {name: p.unit for name, p in self.parameters.items()}
        for rule, _raw, document, label, text in parsed:
            checked = self.check_rule(rule, document, label, text, derived, units, set(ids))
            if checked is not None:
                rules.append(checked)
        by_id = {r.id: r for r in rules}
        self.check_references(rules, by_id)
        order = self.derived_order(rules)
        errors = [p for p in self.problems if p.severity == "error"]
        if errors:
            raise LoadError(self.problems)
        fingerprint = self.fingerprint(rules)
        warnings = tuple(p for p in self.problems if p.severity == "warning")
        return RuleSet(self.documents, self.parameters, tuple(rules), fingerprint, order, str(self.root), warnings, by_id)

    def check_rule(self, rule: Rule, document: Document, label: str, text: str, derived: frozenset[str],
                   units: dict[str, str], all_ids: set[str]) -> Rule | None:
        before = len(self.problems)
        line = rule.line

        def fail(zh: str, en: str, field_name: str | None = None, needle: str | None = None) -> None:
            where = _line_of(text, needle, text.find(f'"{rule.id}"')) if needle else line
            self.problem(label, zh, en, where or line, rule.id, field_name)

        if rule.kind not in KINDS:
            hint = schema.suggest(rule.kind, KINDS)
            fail(f"kind 应为 {'、'.join(KINDS)} 之一" + (f"，是否想写「{hint}」？" if hint else ""),
                 f"kind must be one of {', '.join(KINDS)}" + (f"; did you mean '{hint}'?" if hint else ""), "kind", "kind")
            return None
        if rule.event is not None and rule.event not in schema.EVENT_BY_CODE:
            hint = schema.suggest(rule.event, schema.EVENT_BY_CODE)
            fail(f"未知事件类型「{rule.event}」" + (f"，是否想写「{hint}」？" if hint else ""),
                 f"unknown event type '{rule.event}'" + (f"; did you mean '{hint}'?" if hint else ""), "event", "event")
            return None
        if rule.kind == "derived" and rule.event is not None:
            fail("派生事实只能是主体层面的（不能指定 event）", "a derived fact is entity-level (no event)", "event", "event")
        if rule.territory not in ("entity", "conditions"):
            fail("territory 应为 entity 或 conditions", "territory must be entity or conditions", "territory", "territory")
        if rule.kind != "derived":
            if rule.citation is None:
                fail("缺少出处 citation = { section = …, quote = … }", "missing citation = { section, quote }", "citation")
            if not rule.departments:
                fail("缺少责任单位 departments", "missing departments (责任单位)", "departments")
        window_from = rule.effective_from or document.effective_from
        window_to = rule.effective_to or document.effective_to
        if window_to and window_from > window_to:
            fail("规则的失效日期早于生效日期", "the rule's window ends before it starts", "effective_to", "effective_to")
        scope = Scope(rule.event, derived - {rule.id}, units)
        trees = []
        for index, condition in enumerate(rule.conditions):
            try:
                trees.append(parse_condition(condition, scope))
            except ConditionError as exc:
                needle = condition[:40] if isinstance(condition, str) else "conditions"
                fail(exc.message_zh, exc.message_en, f"conditions[{index}]", needle)
        if rule.kind == "benefit":
            self.check_amount(rule, fail, units)
        elif rule.amount is not None:
            fail("只有 benefit 规则可以有 amount", "only benefit rules have an amount", "amount", "amount")
        if rule.kind == "requirement":
            self.check_floor(rule, fail, units)
        elif rule.floor is not None:
            fail("只有 requirement 规则可以有 floor", "only requirement rules have a floor", "floor", "floor")
        if rule.kind == "exclusion" and not rule.withholds:
            fail("exclusion 规则需要 withholds（被取消的规则 id、tag:标签 或 *）",
                 "an exclusion needs withholds (rule ids, tag:<tag> or *)", "withholds")
        if rule.kind != "exclusion" and rule.withholds:
            fail("只有 exclusion 规则可以有 withholds", "only exclusions have withholds", "withholds", "withholds")
        for target in rule.supersedes:
            if target not in all_ids:
                hint = schema.suggest(target, all_ids)
                fail(f"supersedes 引用了不存在的规则「{target}」" + (f"，是否想写「{hint}」？" if hint else ""),
                     f"supersedes names unknown rule '{target}'" + (f"; did you mean '{hint}'?" if hint else ""),
                     "supersedes", "supersedes")
        for target in rule.withholds:
            if target != "*" and not target.startswith("tag:") and target not in all_ids:
                hint = schema.suggest(target, all_ids)
                fail(f"withholds 引用了不存在的规则「{target}」" + (f"，是否想写「{hint}」？" if hint else ""),
                     f"withholds names unknown rule '{target}'" + (f"; did you mean '{hint}'?" if hint else ""),
                     "withholds", "withholds")
        self.check_once(rule, fail)
        if len(self.problems) > before:
            return None
        return rule.model_copy(update={"trees": tuple(trees), "window_from": window_from, "window_to": window_to})

    def check_once(self, rule: Rule, fail) -> None:
        """``once_per`` / ``once_group``: benefits only; "event" needs an event; a group name like an id."""
        if rule.once_per is None and rule.once_group is None:
            return
        if rule.kind != "benefit":
            fail("只有 benefit 规则可以有 once_per / once_group", "only benefit rules have once_per / once_group",
                 "once_per" if rule.once_per is not None else "once_group", "once_")
            return
        if rule.once_per is not None and rule.once_per not in ONCE_PER:
            hint = schema.suggest(rule.once_per, ONCE_PER)
            fail(f"once_per 应为 {'、'.join(ONCE_PER)} 之一" + (f"，是否想写「{hint}」？" if hint else ""),
                 f"once_per must be one of {', '.join(ONCE_PER)}" + (f"; did you mean '{hint}'?" if hint else ""),
                 "once_per", "once_per")
        elif rule.once_per == "event" and rule.event is None:
            fail("once_per = \"event\" 需要规则有 event（主体层面的规则每个主体一次）",
                 "once_per = \"event\" needs an event (a rule without one pays once per entity)", "once_per", "once_per")
        if rule.once_group is not None and not ID_PATTERN.match(rule.once_group):
            fail("once_group 只能使用小写字母、数字、点、横线和下划线", "once_group may use only a-z 0-9 . - _",
                 "once_group", "once_group")

    def money_field(self, rule: Rule, ref: Any, fail, field_name: str) -> None:
        if not isinstance(ref, str) or not ref.startswith("event."):
            fail(f"{field_name} 应为事件的金额字段，例如 \"event.cost\"", f"{field_name} must be an event money field, e.g. \"event.cost\"",
                 field_name)
            return
        if rule.event is None:
            fail(f"{field_name} 引用事件字段，但规则没有 event", f"{field_name} uses an event field but the rule has no event", field_name)
            return
        spec = schema.event_field(rule.event, ref[6:])
        if spec is None or spec.kind != schema.MONEY:
            money = [f"event.{f.name}" for f in schema.EVENT_BY_CODE[rule.event].fields if f.kind == schema.MONEY]
            hint = schema.suggest(ref, money)
            fail(f"「{ref}」不是「{rule.event}」事件的金额字段" + (f"，是否想写「{hint}」？" if hint else ""),
                 f"'{ref}' is not a money field of {rule.event}" + (f"; did you mean '{hint}'?" if hint else ""), field_name)

    def number_ref(self, ref: Any, fail, field_name: str, units: dict[str, str], unit: str) -> None:
        if isinstance(ref, Decimal) or (isinstance(ref, int) and not isinstance(ref, bool)):
            try:  # the same bounds as a parameter of this unit (finite, >= 0, <= 1e13, a rate <= 10)
                _parameter_value(unit, ref)
            except ValueError as exc:
                zh, _, en = str(exc).partition(" / ")
                fail(f"{field_name}：{zh}", f"{field_name}: {en or zh}", field_name)
            return
        if isinstance(ref, str) and ref.startswith("params."):
            name = ref[7:]
            if name not in units:
                hint = schema.suggest(ref, [f"params.{p}" for p in units])
                fail(f"未知参数「{ref}」" + (f"，是否想写「{hint}」？" if hint else ""),
                     f"unknown parameter '{ref}'" + (f"; did you mean '{hint}'?" if hint else ""), field_name)
            elif units[name] != unit:
                fail(f"参数「{ref}」的单位是 {units[name]}，这里需要 {unit}", f"parameter '{ref}' has unit {units[name]}, {unit} needed",
                     field_name)
            return
        fail(f"{field_name} 应为数字或 params.参数名", f"{field_name} must be a number or params.<name>", field_name)

    def check_amount(self, rule: Rule, fail, units: dict[str, str]) -> None:
        amount = rule.amount
        if amount is None:
            fail("benefit 规则需要 [rules.amount]（无具体金额时写 form = \"none\"）",
                 "a benefit needs [rules.amount] (form = \"none\" when the text states no amount)", "amount")
            return
        if amount.form not in AMOUNT_FORMS:
            fail(f"amount.form 应为 {'、'.join(AMOUNT_FORMS)} 之一", f"amount.form must be one of {', '.join(AMOUNT_FORMS)}",
                 "amount.form", "form")
            return
        present = {k for k in ("value", "base", "rate", "cap") if getattr(amount, k) is not None}
        expected = {"fixed": ({"value"}, set()), "rate": ({"base", "rate"}, {"cap"}),
                    "actual": ({"base"}, {"cap"}), "none": (set(), set())}[amount.form]
        for key in sorted(expected[0] - present):
            fail(f"form = \"{amount.form}\" 需要 amount.{key}", f"form = \"{amount.form}\" needs amount.{key}", f"amount.{key}")
        for key in sorted(present - expected[0] - expected[1]):
            fail(f"form = \"{amount.form}\" 不使用 amount.{key}", f"form = \"{amount.form}\" does not use amount.{key}",
                 f"amount.{key}", key)
        if amount.value is not None and "value" in expected[0]:
            self.number_ref(amount.value, fail, "amount.value", units, "yuan")
        if amount.rate is not None and "rate" in expected[0]:
            self.number_ref(amount.rate, fail, "amount.rate", units, "rate")
        if amount.cap is not None:
            self.number_ref(amount.cap, fail, "amount.cap", units, "yuan")
        if amount.base is not None and "base" in expected[0]:
            bases = amount.base if isinstance(amount.base, tuple) else (amount.base,)
            if amount.form == "rate" and len(bases) != 1:
                fail("form = \"rate\" 的 base 只能是一个字段", "a rate's base is one field", "amount.base")
            for ref in bases:
                self.money_field(rule, ref, fail, "amount.base")

    def check_floor(self, rule: Rule, fail, units: dict[str, str]) -> None:
        if rule.floor is None:
            fail("requirement 规则需要 [rules.floor]（base、rate、actual）", "a requirement needs [rules.floor] (base, rate, actual)",
                 "floor")
            return
        self.money_field(rule, rule.floor.base, fail, "floor.base")
        self.money_field(rule, rule.floor.actual, fail, "floor.actual")
        self.number_ref(rule.floor.rate, fail, "floor.rate", units, "rate")

    def check_references(self, rules: list[Rule], by_id: dict[str, Rule]) -> None:
        self.check_once_groups(rules)
        for rule in rules:
            document = self.documents[rule.document_id]
            for target in rule.supersedes:
                other = by_id.get(target)
                if other is None:
                    continue
                if other.event != rule.event or other.kind != "benefit" or rule.kind != "benefit":
                    self.problem(document.path, f"supersedes 只能用于同一事件类型的 benefit 规则（「{target}」不是）",
                                 f"supersedes links benefits of the same event type ('{target}' is not)", rule.line, rule.id,
                                 "supersedes")
            for target in rule.withholds:
                other = by_id.get(target)
                if other is not None and other.kind != "benefit":
                    self.problem(document.path, f"withholds 只能取消 benefit 规则（「{target}」不是）",
                                 f"withholds can only withhold benefits ('{target}' is not one)", rule.line, rule.id, "withholds")

    def check_once_groups(self, rules: list[Rule]) -> None:
        """The rules of one once_group pay one award: the same event type and once_per, and where their windows
        overlap one must supersede the other (else one evaluation would list the award twice)."""
        groups: dict[str, list[Rule]] = {}
        for rule in rules:
            if rule.once_group is not None:
                groups.setdefault(rule.once_group, []).append(rule)
        for name, members in groups.items():
            first = members[0]
            for rule in members[1:]:
                path = self.documents[rule.document_id].path
                if rule.event != first.event or once_per(rule) != once_per(first):
                    self.problem(path, f"once_group「{name}」中的规则应有相同的 event 和 once_per（与「{first.id}」不同）",
                                 f"the rules of once_group '{name}' need the same event and once_per (unlike '{first.id}')",
                                 rule.line, rule.id, "once_group")
                    continue
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    overlap = (a.window_to is None or b.window_from is None or b.window_from <= a.window_to) and (
                        b.window_to is None or a.window_from is None or a.window_from <= b.window_to)
                    if overlap and a.id not in b.supersedes and b.id not in a.supersedes:
                        self.problem(self.documents[b.document_id].path,
                                     f"once_group「{name}」中的「{a.id}」和「{b.id}」有效期重叠，需用 supersedes 说明由哪条支付",
                                     f"'{a.id}' and '{b.id}' of once_group '{name}' overlap in time: say which pays with "
                                     "supersedes", b.line, b.id, "once_group")

    def derived_order(self, rules: list[Rule]) -> tuple[str, ...]:
        """Derived facts in dependency order; a cycle is an error naming the rules in it."""
        deps = {r.id: {d for t in r.trees for d in derived_of(t)} for r in rules if r.kind == "derived"}
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = path[path.index(name):] + [name]
                rule = next(r for r in rules if r.id == name)
                self.problem(self.documents[rule.document_id].path, "派生事实循环引用：" + " → ".join(cycle),
                             "derived facts refer to each other in a cycle: " + " → ".join(cycle), rule.line, name, "conditions")
                return
            state[name] = 1
            for dep in sorted(deps.get(name, ())):
                if dep in deps:
                    visit(dep, path + [name])
            state[name] = 2
            order.append(name)

        for name in sorted(deps):
            visit(name, [])
        return tuple(order)

    def fingerprint(self, rules: Iterable[Rule]) -> str:
        return "sha256:" + self.hasher.hexdigest()[:16]


def _parameter_value(unit: str, value: Any) -> Any:
    if value is None:
        raise ValueError("缺少 value / missing value")
    if unit in ("rate", "yuan", "count", "number"):
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                value = Decimal(value.strip()[:-1]).scaleb(-2)  # exact, unlike / 100 (rounds to 28 digits)
            except (ArithmeticError, ValueError):
                raise ValueError("百分数无法识别 / not a percentage") from None
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise ValueError("应为数字 / must be a number")
        value = Decimal(value)
        # is_finite first: ordering a NaN raises decimal.InvalidOperation
        if not value.is_finite() or value < 0 or value > Decimal("1e13"):
            raise ValueError("数值超出范围 / number out of range")
        if unit == "rate" and value > 10:
            raise ValueError("比例应写成小数（0.70）或百分数（\"70%\"）/ write a rate as 0.70 or \"70%\"")
        return value
    if unit == "date":
        if not isinstance(value, date):
            raise ValueError("应为日期 / must be a date")
        return value
    if unit == "bool":
        if not isinstance(value, bool):
            raise ValueError("应为 true/false / must be true or false")
        return value
    if not isinstance(value, str):
        raise ValueError("应为文字 / must be text")
    return value


def rule_params(rule: Rule) -> set[str]:
    names = {p for t in rule.trees for p in params_of(t)}
    for part in (rule.amount, rule.floor):
        if part is None:
            continue
        for key in ("value", "rate", "cap"):
            ref = getattr(part, key, None)
            if isinstance(ref, str) and ref.startswith("params."):
                names.add(ref[7:])
    return names
