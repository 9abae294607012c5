"""Evaluate one profile against a rule set as of a date.

Which rules fire is decided by durable_rules (``engine.durable_driver``) and, independently, by the
Python evaluator of the same condition tree (``engine.logic``); they must agree, or evaluation stops
with ``EngineDisagreement``. The Python side supplies what durable_rules cannot: the per-condition
explanation, undetermined facts, near misses, amounts and requirement floors.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine import schema
from engine.claims import ClaimLookup, PaidClaim, first_claims
from engine.conditions import bind
from engine.describe import describe, field_label, field_spec, rate_or_value_text, value_text
from engine.logic import Truth, truth
from engine.money import format_rate, format_yuan, to_fen
from engine.once import distinct_events, once_key
from engine.period import as_period
from engine.profile import Event, Profile, ProfileError, parse_profile
from engine.results import (
    AlreadyPaid,
    BenefitLine,
    ConditionCheck,
    EntitySummary,
    Evaluation,
    EventRef,
    IgnoredEvent,
    MissingFact,
    NearMiss,
    Period,
    RequirementResult,
    RuleHeader,
    RuleTrace,
    Source,
    Superseded,
    Undetermined,
    Withheld,
)
from engine.round_words import conflict_error, expiry_caveat, merged_text, outside_reason, paid_reason
from engine.rulebook import Rule, RuleSet, load_rules
from engine.tree import All, AsOf, Compare, Field, Node, derived_of, fields_of, params_of, walk

RESULT_WORD = {True: "true", False: "false", None: "unknown"}

# Why a rule is undetermined, in both languages; the batch engine reports the same words.
REASONS = {
    "conditions": ("缺少所需信息，无法判断", "a needed fact is missing"),
    "amount": ("条件满足，但计算金额所需的信息缺失", "eligible, but a fact needed for the amount is missing"),
    "floor": ("要求适用，但判断是否达标所需的信息缺失", "the requirement applies, but a fact needed to check it is missing"),
}


def missing_fact(name: str, event_type: str | None) -> MissingFact:
    """A missing fact (``size_class``, ``event.cost``, ``params.x``) as people read it."""
    if name.startswith("params."):
        return MissingFact(field=name, label_zh=f"参数{name[7:]}在该日期无取值",
                           label_en=f"parameter {name[7:]} has no value at that date")
    f = Field("event", name[6:]) if name.startswith("event.") else Field("entity", name)
    return MissingFact(field=name, label_zh=field_label(f, event_type, "zh"), label_en=field_label(f, event_type, "en"))


def caveat(exclusion: Rule, missing: list[MissingFact]) -> tuple[str, str]:
    """What a benefit line says when an exclusion could not be checked."""
    return (f"未能核查「{exclusion.title}」（{exclusion.id}）：缺少" + "、".join(m.label_zh for m in missing),
            f"{exclusion.title_en} ({exclusion.id}) could not be checked: missing "
            + ", ".join(m.label_en for m in missing))


def param_text(rules: RuleSet, name: str, when: date, lang: str) -> str:
    """``params.x`` in words with its value at ``when``: 补助比例（70%）."""
    parameter = rules.parameters[name]
    value = rate_or_value_text(parameter.value_at(when), parameter.unit, lang)
    label = parameter.description_en if lang == "en" and parameter.description_en else parameter.description
    return f"{label}（{value}）" if lang == "zh" else f"{label} ({value})"


def derived_title(rules: RuleSet, name: str, lang: str) -> str:
    rule = rules.by_id.get(name)
    return rule.title_in(lang) if rule else name


class EngineDisagreement(RuntimeError):
    """durable_rules and the Python evaluator disagreed about a rule: a bug, never a user error."""


# -- rule sets -----------------------------------------------------------------------------------

_DEFAULT: dict[str, RuleSet] = {}


def default_rules() -> RuleSet:
    if "rules" not in _DEFAULT:
        _DEFAULT["rules"] = load_rules()
    return _DEFAULT["rules"]


def resolve_rules(rules: RuleSet | str | Path | None) -> RuleSet:
    if rules is None:
        return default_rules()
    if isinstance(rules, RuleSet):
        return rules
    return load_rules(rules)


# -- conditions of a rule, with the engine's implicit ones -----------------------------------------

@dataclass(frozen=True)
class Condition:
    expression: str
    tree: Node
    implicit: bool
    selects: bool = False  # an event selector (``select``): says which event the rule is about
    fields: tuple[Field, ...] = ()
    derived: tuple[str, ...] = ()
    params: tuple[str, ...] = ()
    uses_as_of: bool = False

    @property
    def dynamic(self) -> bool:
        """Mentions a parameter or as_of, so it is bound per date."""
        return bool(self.params) or self.uses_as_of

    @classmethod
    def of(cls, expression: str, tree: Node, implicit: bool, selects: bool = False) -> Condition:
        uses_as_of = any(isinstance(n, Compare) and isinstance(n.value, AsOf) for n in walk(tree))
        return cls(expression, tree, implicit, selects, tuple(sorted(fields_of(tree), key=str)), tuple(sorted(derived_of(tree))),
                   tuple(sorted(params_of(tree))), uses_as_of)


@dataclass
class Decision:
    """How one rule came out for one occasion (the entity, or one event); worded checks are built on demand."""

    rule: Rule
    event: Event | None
    when: date
    result: Truth
    truths: list[Truth]
    missing: list[str]
    checks: list[ConditionCheck] | None = None
    ref: EventRef | None = None
    position: int | None = None  # index among the counted events (what durable_rules numbers)


def _conditions(rule: Rule, jurisdiction: str, province: bool) -> tuple[Condition, ...]:
    found: list[Condition] = []
    if rule.kind != "derived":
        if not province and rule.territory == "entity":
            found.append(Condition.of(f'city == "{jurisdiction}"', Compare(Field("entity", "city"), "==", jurisdiction), True))
        if rule.event is not None:
            when = Field("event", "date")
            if rule.window_from is not None:
                found.append(Condition.of(f'event.date >= "{rule.window_from}"', Compare(when, ">=", rule.window_from), True))
            if rule.window_to is not None:
                found.append(Condition.of(f'event.date <= "{rule.window_to}"', Compare(when, "<=", rule.window_to), True))
    selectors = len(rule.select)
    found.extend(Condition.of(text, tree, False, index < selectors)
                 for index, (text, tree) in enumerate(zip(rule.written, rule.trees)))
    return tuple(found)


def conditions_of(rules: RuleSet, rule: Rule) -> tuple[Condition, ...]:
    """The rule's conditions: the engine's implicit ones (territory, event window) then the written ones."""
    key = ("conditions", rule.id)
    found = rules.cache.get(key)
    if found is None:
        document = rules.document_of(rule)
        found = rules.cache[key] = _conditions(rule, document.jurisdiction, document.is_province)
    return found


def compiled_tree(rules: RuleSet, rule: Rule) -> Node:
    """The rule's whole condition (implicit + written) as one tree, parameters unbound."""
    return All(tuple(c.tree for c in conditions_of(rules, rule)))


# -- the durable_rules side ----------------------------------------------------------------------

_ENGINES: OrderedDict[tuple[str, date], Any] = OrderedDict()
_MAX_ENGINES = 16


def durable_engine(rules: RuleSet, as_of: date):
    """One compiled durable_rules engine per (rule set, as_of): parameters and ``as_of`` are bound at compile time."""
    from engine.conditions import bind_by_event_date
    from engine.durable_driver import DurableEngine, RuleSpec

    key = (rules.fingerprint + "@" + rules.root, as_of)
    engine = _ENGINES.get(key)
    if engine is not None:
        _ENGINES.move_to_end(key)
        return engine
    specs = []
    for rule in rules.rules:
        tree = compiled_tree(rules, rule)
        if rule.kind == "derived":
            specs.append(RuleSpec(rule.id, bind(tree, lambda n: rules.param_at(n, as_of), as_of), None, rule.id))
        elif rule.event is None:
            if rule.in_window(as_of):
                specs.append(RuleSpec(rule.id, bind(tree, lambda n: rules.param_at(n, as_of), as_of), None))
        else:
            steps = lambda n: rules.parameters[n].step_values()  # noqa: E731
            specs.append(RuleSpec(rule.id, bind_by_event_date(tree, steps, as_of), rule.event))
    engine = DurableEngine(specs)
    _ENGINES[key] = engine
    while len(_ENGINES) > _MAX_ENGINES:
        _, old = _ENGINES.popitem(last=False)
        old.close()
    return engine


# -- evaluation ----------------------------------------------------------------------------------

def evaluate(profile: Profile | dict, as_of: date, rules: RuleSet | str | Path | None = None,
             backend: str = "durable", explain: bool = False, *, period: Period | tuple[date, date] | str | None = None,
             ledger: ClaimLookup | None = None) -> Evaluation:
    """Evaluate ``profile`` as of ``as_of`` (never the system clock).

    ``rules``: a loaded RuleSet, a path to a rules folder, or None for the shipped rule base.
    ``backend``: ``"durable"`` (durable_rules decides which rules fire, cross-checked by the Python
    evaluator) or ``"python"`` (the Python evaluator alone).
    ``explain``: also record how every rule was decided (``Evaluation.traces``); every reported line
    carries its own per-condition checks either way.
    ``period``: a claim round (``engine.period``): only events inside it earn event benefits; the others are
    listed in ``Evaluation.outside_period``. ``ledger``: a ``engine.claims.ClaimLookup``; a line whose
    once-key it holds as approved or paid goes to ``Evaluation.already_paid`` and leaves the total.
    Identical events are merged (a warning); two events with one type and reference that differ otherwise
    raise ``ProfileError``.
    """
    if not isinstance(as_of, date) or isinstance(as_of, datetime):
        raise TypeError("as_of must be a datetime.date (not a datetime)")
    profile = parse_profile(profile)
    ruleset = resolve_rules(rules)
    chosen = as_period(period, as_of)
    claims = first_claims(ledger.claims_for([profile.credit_code]).get(profile.credit_code, [])) if ledger is not None \
        else None
    return _Evaluator(profile, as_of, ruleset, backend, explain, chosen, claims).run()


class _Evaluator:
    def __init__(self, profile: Profile, as_of: date, rules: RuleSet, backend: str, explain: bool = False,
                 period: Period | None = None, claims: dict[str, PaidClaim] | None = None):
        self.explain = explain
        self.period = period
        self.claims = claims
        self.round_mode = period is not None or claims is not None
        sorting = distinct_events(profile.events)
        if sorting.conflicts:
            raise ProfileError([conflict_error(profile.events, a, b) for a, b in sorting.conflicts])
        self.ordinals = sorting.ordinals
        self.warnings = list(profile.warnings)
        self.merged: list[IgnoredEvent] = []
        for later, first in sorting.duplicates.items():
            zh, en = merged_text(later, first)
            self.warnings.append(f"{zh} / {en}")
            self.merged.append(IgnoredEvent(event=self.event_ref(later, profile.events[later]), reason_zh=zh, reason_en=en))
        self.cache = rules.cache
        self.shown: dict[tuple[str, str, str], str] = {}
        self.profile = profile
        self.as_of = as_of
        self.rules = rules
        self.backend = backend
        self.entity = profile.entity_values()
        self.events: list[tuple[int, Event]] = []
        self.ignored: list[IgnoredEvent] = []
        self.outside: list[IgnoredEvent] = []
        for index, event in enumerate(profile.events):
            if index in sorting.duplicates:
                continue
            if event.date > as_of:
                self.ignored.append(IgnoredEvent(
                    event=self.event_ref(index, event),
                    reason_zh=f"事件日期 {event.date} 晚于评估日 {as_of}，未计入",
                    reason_en=f"event dated {event.date}, after the evaluation date {as_of}: not counted"))
            else:
                self.events.append((index, event))
                if period is not None and event.date not in period:
                    self.outside.append(IgnoredEvent(event=self.event_ref(index, event), **outside_reason(event, period)))
        self.derived: dict[str, Truth] = {}
        self.derived_missing: dict[str, list[str]] = {}
        self.traces: list[RuleTrace] = []

    # -- helpers ---------------------------------------------------------------------------------
    def event_ref(self, index: int, event: Event) -> EventRef:
        return EventRef(index=index, type=event.type, date=event.date, ref=event.ref,
                        label_zh=event.label("zh"), label_en=event.label("en"))

    def source(self, rule: Rule) -> Source | None:
        if rule.citation is None:
            return None
        doc = self.rules.document_of(rule)
        return Source(document_id=doc.id, document_title=doc.title, document_title_en=doc.title_en,
                      document_number=doc.number, jurisdiction=doc.jurisdiction, source_file=doc.source,
                      section=rule.citation.section, quote=rule.citation.quote)

    def header(self, rule: Rule, event: EventRef | None = None) -> dict[str, Any]:
        return dict(rule_id=rule.id, title=rule.title, title_en=rule.title_en, kind=rule.kind,
                    departments=list(rule.departments), tags=list(rule.tags), source=self.source(rule),
                    note=rule.note, event=event)

    def param_at(self, when: date):
        return lambda name: self.rules.param_at(name, when)

    def param_text(self, when: date, lang: str):
        return lambda name: param_text(self.rules, name, when, lang)

    def derived_title(self, lang: str):
        return lambda name: derived_title(self.rules, name, lang)

    def bound(self, condition: Condition, when: date) -> Node:
        if not condition.dynamic:
            return condition.tree
        # Keyed by the parameter values in force, not the date: a few steps, however many event dates.
        # Conditions live as long as the rule set's cache, so their id is a stable key.
        key = ("bound", id(condition), self.param_values(condition, when), self.as_of if condition.uses_as_of else None)
        tree = self.cache.get(key)
        if tree is None:
            tree = self.cache[key] = bind(condition.tree, self.param_at(when), self.as_of)
        return tree

    def param_values(self, condition: Condition, when: date) -> tuple:
        return tuple(self.rules.param_at(name, when) for name in condition.params)

    def decide(self, rule: Rule, event: Event | None, when: date) -> Decision:
        """Truth of each condition and of the whole rule; nothing worded yet (that is the slow part)."""
        event_values = event.values() if event is not None else None
        truths: list[Truth] = []
        missing: list[str] = []
        overall: Truth = True
        for condition in conditions_of(self.rules, rule):
            result = truth(self.bound(condition, when), self.entity, event_values, self.derived)
            truths.append(result)
            if result is False:
                overall = False
            elif result is None:
                if overall is True:
                    overall = None
                missing.extend(m for m in self.missing_in(condition, event_values, when) if m not in missing)
        return Decision(rule, event, when, overall, truths, missing)

    def missing_in(self, condition: Condition, event_values: dict | None, when: date) -> list[str]:
        """Facts an undetermined condition lacks: its empty fields, what its undetermined derived facts
        lack, and parameters with no value at ``when``."""
        missing = [str(f) for f in condition.fields
                   if ((event_values if f.scope == "event" else self.entity) or {}).get(f.name) is None]
        for name in condition.derived:
            if self.derived.get(name) is None:
                missing.extend(m for m in self.derived_missing.get(name, []) if m not in missing)
        missing.extend(f"params.{p}" for p in condition.params if self.rules.param_at(p, when) is None)
        return missing

    def worded(self, decision: Decision) -> list[ConditionCheck]:
        """Each condition in plain words with the values it read (built once, on demand)."""
        if decision.checks is not None:
            return decision.checks
        rule, event, when = decision.rule, decision.event, decision.when
        event_values = event.values() if event is not None else None
        checks = []
        for condition, result in zip(conditions_of(self.rules, rule), decision.truths):
            values: dict[str, str] = {}
            values_en: dict[str, str] = {}
            for f in condition.fields:
                source = event_values if f.scope == "event" else self.entity
                actual = None if source is None else source.get(f.name)
                values[str(f)] = self.show(f, actual, rule.event, "zh", event is not None)
                values_en[str(f)] = self.show(f, actual, rule.event, "en", event is not None)
            for name in condition.derived:
                state = self.derived.get(name)
                values[name] = {True: "是", False: "否", None: "待定"}[state]
                values_en[name] = RESULT_WORD[state]
            zh, en = self.describe(rule, condition, when)
            missing = self.missing_in(condition, event_values, when) if result is None else []
            checks.append(ConditionCheck(expression=condition.expression, description_zh=zh, description_en=en,
                                         result=RESULT_WORD[result], values=values, values_en=values_en,
                                         missing=missing, implicit=condition.implicit))
        decision.checks = checks
        return checks

    def show(self, f: Field, actual: Any, event_type: str | None, lang: str, per_event: bool) -> str:
        if per_event and f.scope == "event":
            return value_text(actual, field_spec(f, event_type), lang)
        key = (str(f), lang, event_type or "")
        text = self.shown.get(key)
        if text is None:
            text = self.shown[key] = value_text(actual, field_spec(f, event_type), lang)
        return text

    def describe(self, rule: Rule, condition: Condition, when: date) -> tuple[str, str]:
        key = ("words", rule.id, condition.expression, self.param_values(condition, when))
        words = self.cache.get(key)
        if words is None:
            words = self.cache[key] = tuple(
                describe(condition.tree, rule.event, lang, self.derived_title(lang), self.param_text(when, lang))
                for lang in ("zh", "en"))
        return words

    def trace(self, decision: Decision | None, rule: Rule, ref: EventRef | None, status: str, **extra) -> None:
        if self.explain:
            checks = self.worded(decision) if decision is not None else []
            self.traces.append(RuleTrace(**self.header(rule, ref), status=status, checks=checks, **extra))

    def missing_facts(self, names: list[str], event_type: str | None) -> list[MissingFact]:
        return [missing_fact(name, event_type) for name in dict.fromkeys(names)]

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> Evaluation:
        firing = self.fire_durable()
        self.compute_derived(firing)
        lines: list[tuple[Rule, BenefitLine, int | None]] = []
        requirements: list[RequirementResult] = []
        undetermined: list[Undetermined] = []
        near: list[NearMiss] = []
        exclusions: dict[str, tuple[Truth, list[str], Decision | None]] = {}

        for rule in self.rules.rules:
            if rule.kind == "derived":
                continue
            if rule.event is None:
                if not rule.in_window(self.as_of):
                    self.trace(None, rule, None, "not_in_force", reason_zh=f"评估日 {self.as_of} 不在规则有效期内",
                               reason_en=f"not in force on {self.as_of}")
                    continue
                occasions: list[tuple[int | None, int | None, Event | None]] = [(None, None, None)]
            else:
                occasions = [(p, i, e) for p, (i, e) in enumerate(self.events) if e.type == rule.event]
                if not occasions:
                    kind = schema.EVENT_BY_CODE[rule.event]
                    self.trace(None, rule, None, "not_eligible", reason_zh=f"没有「{kind.zh}」事件",
                               reason_en=f"no {kind.en} event")
                    continue
            ex_state: Truth = False
            ex_missing: list[str] = []
            ex_decision: Decision | None = None
            for position, index, event in occasions:
                when = event.date if event is not None else self.as_of
                ref = self.event_ref(index, event) if event is not None else None
                decision = self.decide(rule, event, when)
                decision.ref, decision.position = ref, position
                result = decision.result
                self.verify(rule, position, result, firing)
                if rule.kind == "exclusion":
                    self.trace(decision, rule, ref, {True: "holds", False: "not_eligible", None: "undetermined"}[result])
                    if result is True and ex_state is not True:
                        ex_state, ex_decision = True, decision
                    elif result is None and ex_state is False:
                        ex_state, ex_missing = None, decision.missing
                    continue
                if result is None:
                    undetermined.append(Undetermined(**self.header(rule, ref),
                                                     missing=self.missing_facts(decision.missing, rule.event),
                                                     checks=self.worded(decision), reason_zh=REASONS["conditions"][0],
                                                     reason_en=REASONS["conditions"][1]))
                    self.trace(decision, rule, ref, "undetermined")
                    continue
                if result is False:
                    self.trace(decision, rule, ref, "not_eligible")
                    miss = self.near_miss(decision)
                    if miss is not None:
                        near.append(NearMiss(**self.header(rule, ref), failed=miss))
                    continue
                if rule.kind == "benefit":
                    amount, calculation, lacking = self.amount(rule, event, when)
                    if lacking:
                        undetermined.append(Undetermined(**self.header(rule, ref),
                                                         missing=self.missing_facts(lacking, rule.event),
                                                         checks=self.worded(decision),
                                                         reason_zh=REASONS["amount"][0], reason_en=REASONS["amount"][1]))
                        self.trace(decision, rule, ref, "undetermined")
                        continue
                    key, basis = once_key(rule, event.type, event.ref, event.date, self.ordinals[index]) \
                        if event is not None else once_key(rule)
                    line = BenefitLine(**self.header(rule, ref), amount=amount, calculation=calculation, once_key=key,
                                       once_basis=basis, checks=self.worded(decision))
                    lines.append((rule, line, index))
                    self.trace(decision, rule, ref, "eligible")
                else:
                    outcome = self.requirement(rule, event, when, ref, self.worded(decision))
                    if isinstance(outcome, Undetermined):
                        undetermined.append(outcome)
                        self.trace(decision, rule, ref, "undetermined")
                    else:
                        requirements.append(outcome)
                        self.trace(decision, rule, ref, outcome.status)
            if rule.kind == "exclusion":
                exclusions[rule.id] = (ex_state, ex_missing, ex_decision)

        kept, withheld = self.apply_exclusions(lines, exclusions)
        kept, superseded = self.apply_supersedes(kept)
        kept, superseded = self.apply_once(kept, superseded)
        # a benefit earned inside an ended rule's window is still listed, with the claim-deadline caveat
        kept = [(rule, expiry_caveat(rule, line, self.as_of), index) for rule, line, index in kept]
        kept, already_paid = self.apply_claims(kept)
        if self.outside:
            # events outside the round earn nothing in it; an award of theirs already paid is still shown as paid
            away = {o.event.index for o in self.outside}
            kept = [item for item in kept if in_round(item[1], away)]
            withheld = [w for w in withheld if in_round(w.line, away)]
            superseded = [s for s in superseded if in_round(s.line, away)]
            undetermined = [u for u in undetermined if in_round(u, away)]
            near = [n for n in near if in_round(n, away)]
        benefits = [line for _, line, _ in kept]
        total = sum((b.amount for b in benefits if b.amount is not None), Decimal("0.00"))
        paid_total = sum((p.line.amount for p in already_paid if p.line.amount is not None), Decimal("0.00"))
        holding = [self.holding(d) for (state, _, d) in exclusions.values() if state is True and d is not None]
        return Evaluation(
            entity=EntitySummary(credit_code=self.profile.credit_code, name=self.profile.name, city=self.profile.city),
            as_of=self.as_of, rule_set=self.rules.fingerprint, benefits=benefits, requirements=requirements,
            withheld=withheld, superseded=superseded, undetermined=undetermined, near_misses=near,
            exclusions=holding, derived={k: RESULT_WORD[v] for k, v in self.derived.items()}, total=to_fen(total),
            ignored_events=self.ignored, merged_events=self.merged, period=self.period, outside_period=self.outside,
            already_paid=already_paid, already_paid_total=to_fen(paid_total), round_mode=self.round_mode,
            derivations=list(self.profile.derivations), warnings=self.warnings, traces=self.traces)

    def holding(self, decision: Decision) -> RuleTrace:
        return RuleTrace(**self.header(decision.rule, decision.ref), status="holds", checks=self.worded(decision))

    def fire_durable(self):
        if self.backend == "python":
            return None
        if self.backend != "durable":
            raise ValueError("backend must be 'durable' or 'python'")
        engine = durable_engine(self.rules, self.as_of)
        return engine.fire(self.entity, [(e.type, e.values()) for _, e in self.events])

    def verify(self, rule: Rule, position: int | None, result: Truth, firing) -> None:
        if firing is None:
            return
        fired = rule.id in firing.entity_rules if rule.event is None else (rule.id, position) in firing.event_rules
        if fired != (result is True):
            raise EngineDisagreement(
                f"durable_rules {'fired' if fired else 'did not fire'} rule {rule.id} but the evaluator says "
                f"{RESULT_WORD[result]} (event {position})")

    def compute_derived(self, firing) -> None:
        for name in self.rules.derived_order:
            rule = self.rules.by_id[name]
            decision = self.decide(rule, None, self.as_of)
            self.derived[name] = decision.result
            self.derived_missing[name] = decision.missing
            if firing is not None and firing.derived.get(name) != decision.result:
                raise EngineDisagreement(f"derived fact {name}: durable_rules says {firing.derived.get(name)}, "
                                         f"the evaluator says {decision.result}")
            self.trace(decision, rule, None, RESULT_WORD[decision.result])

    def near_miss(self, decision: Decision) -> ConditionCheck | None:
        """The one eligibility condition that failed while everything else held. A rule whose territory,
        window or event selector (``select``) fails is not about this entity or event: never a near miss."""
        conditions = conditions_of(self.rules, decision.rule)
        if any(t is not True for c, t in zip(conditions, decision.truths) if c.implicit or c.selects):
            return None
        failed = [i for i, t in enumerate(decision.truths) if t is False]
        if len(failed) != 1 or None in decision.truths:
            return None
        return self.worded(decision)[failed[0]]

    # -- money -----------------------------------------------------------------------------------
    def number(self, ref: Decimal | str | None, when: date) -> tuple[Decimal | None, str | None]:
        """A literal or ``params.x`` at ``when``; the second item names a parameter without a value."""
        if ref is None:
            return None, None
        if isinstance(ref, str):
            value = self.rules.param_at(ref[7:], when)
            return (value, None) if value is not None else (None, ref)
        return Decimal(ref), None

    def amount(self, rule: Rule, event: Event | None, when: date) -> tuple[Decimal | None, str | None, list[str]]:
        spec = rule.amount
        values = event.values() if event is not None else {}
        if spec.form == "none":
            return None, None, []
        cap, cap_gap = self.number(spec.cap, when)
        lacking = [cap_gap] if cap_gap else []
        if spec.form == "fixed":
            value, gap = self.number(spec.value, when)
            if gap:
                return None, None, [gap]
            raw, formula = value, format_yuan(value)
        else:
            bases = spec.base if isinstance(spec.base, tuple) else (spec.base,)
            parts = [values.get(b[6:]) for b in bases]
            lacking += [b for b, v in zip(bases, parts) if v is None]
            rate, gap = self.number(spec.rate, when) if spec.form == "rate" else (None, None)
            if gap:
                lacking.append(gap)
            if lacking:
                return None, None, lacking
            if spec.form == "rate":
                raw = parts[0] * rate
                formula = f"{format_yuan(parts[0])} × {format_rate(rate)}"
            else:
                raw = sum(parts, Decimal(0))
                formula = " + ".join(format_yuan(p) for p in parts)
        if lacking:
            return None, None, lacking
        amount = to_fen(raw)
        if cap is not None and amount > cap:
            return to_fen(cap), f"min({formula} = {format_yuan(amount)}, {format_yuan(cap)}) = {format_yuan(cap)}", []
        if spec.form == "fixed" or (spec.form == "actual" and len(parts) == 1):
            return amount, format_yuan(amount), []
        return amount, f"{formula} = {format_yuan(amount)}", []

    def requirement(self, rule: Rule, event: Event | None, when: date, ref: EventRef | None,
                    checks: list[ConditionCheck]) -> RequirementResult | Undetermined:
        floor_spec = rule.floor
        values = event.values() if event is not None else {}
        base = values.get(floor_spec.base[6:])
        actual = values.get(floor_spec.actual[6:])
        rate, gap = self.number(floor_spec.rate, when)
        lacking = [n for n, v in ((floor_spec.base, base), (floor_spec.actual, actual)) if v is None]
        if gap:
            lacking.append(gap)
        if lacking:
            return Undetermined(**self.header(rule, ref), missing=self.missing_facts(lacking, rule.event), checks=checks,
                                reason_zh=REASONS["floor"][0], reason_en=REASONS["floor"][1])
        floor = to_fen(base * rate)
        actual = to_fen(actual)  # compare fen with fen: 69,999.995 is 70,000.00 and meets a 70,000.00 floor
        shortfall = floor - actual if actual < floor else Decimal("0.00")
        status = "violated" if actual < floor else "met"
        calc = f"{format_yuan(base)} × {format_rate(rate)} = {format_yuan(floor)}; " + (
            f"{format_yuan(actual)} < {format_yuan(floor)}, shortfall {format_yuan(shortfall)}" if status == "violated"
            else f"{format_yuan(actual)} ≥ {format_yuan(floor)}")
        return RequirementResult(**self.header(rule, ref), status=status, floor=floor, actual=actual,
                                 shortfall=shortfall, calculation=calc, checks=checks)

    # -- overrides -------------------------------------------------------------------------------
    def apply_exclusions(self, lines, exclusions):
        kept, withheld = [], []
        for rule, line, index in lines:
            verdict = None
            when = line.event.date if line.event is not None else self.as_of
            for ex_id, (state, missing, trace) in self.exclusion_order(rule, exclusions):
                exclusion = self.rules.by_id[ex_id]
                # An exclusion reaches only what falls inside its own window: a 2021 blacklist does not
                # claw back a 2019 award.
                if not withholds(exclusion, rule) or state is False or not exclusion.in_window(when):
                    continue
                if state is True:
                    verdict = ("withheld", exclusion, trace)
                    break
                if verdict is None:
                    verdict = ("undetermined", exclusion, missing)
            if verdict is None:
                kept.append((rule, line, index))
            elif verdict[0] == "withheld":
                exclusion, holding = verdict[1], self.holding(verdict[2])
                reason_zh = "；".join(c.description_zh for c in holding.checks if c.result == "true" and not c.implicit)
                reason_en = "; ".join(c.description_en for c in holding.checks if c.result == "true" and not c.implicit)
                withheld.append(Withheld(line=line, exclusion=RuleHeader(**self.header(exclusion, holding.event)),
                                         reason_zh=reason_zh, reason_en=reason_en))
                self.line_trace(rule, line, "withheld", f"因「{exclusion.title}」被取消", f"withheld by {exclusion.title_en}")
            else:
                # An exclusion overrides only when established (as Catala's exceptions do): a blacklist lists
                # the blacklisted, so an unknown status keeps the benefit but says what was not checked.
                exclusion, missing = verdict[1], verdict[2]
                zh, en = caveat(exclusion, self.missing_facts(missing, exclusion.event))
                line = line.model_copy(update={"caveats_zh": [zh], "caveats_en": [en]})
                kept.append((rule, line, index))
        return kept, withheld

    def line_trace(self, rule: Rule, line: BenefitLine, status: str, reason_zh: str, reason_en: str) -> None:
        if self.explain:
            self.traces.append(RuleTrace(**self.header(rule, line.event), status=status, checks=line.checks,
                                         reason_zh=reason_zh, reason_en=reason_en))

    def exclusion_order(self, rule: Rule, exclusions):
        """The benefit's own document's exclusions first, then the rest in rule-base order."""
        items = list(exclusions.items())
        return sorted(items, key=lambda item: self.rules.by_id[item[0]].document_id != rule.document_id)

    def apply_supersedes(self, kept):
        paying = {(rule.id, index) for rule, _, index in kept}
        result, superseded = [], []
        for rule, line, index in kept:
            winner = next((other for other in self.rules.rules
                           if rule.id in other.supersedes and (other.id, index) in paying and index is not None), None)
            if winner is None:
                result.append((rule, line, index))
            else:
                superseded.append(Superseded(line=line, by_rule_id=winner.id, by_title=winner.title,
                                             by_title_en=winner.title_en))
                self.line_trace(rule, line, "superseded", f"同一事件已由「{winner.title}」（{winner.id}）支付",
                                f"the same event is paid by {winner.title_en} ({winner.id})")
        return result, superseded

    def apply_once(self, kept, superseded):
        """Each once-key pays once in one evaluation: a later line with a key already paid here goes to
        superseded, paid by the rule of the first (e.g. once_per = "entity" with several events)."""
        taken: dict[str, Rule] = {}
        result, extra = [], []
        for rule, line, index in kept:
            first = taken.get(line.once_key)
            if first is None:
                taken[line.once_key] = rule
                result.append((rule, line, index))
                continue
            extra.append(Superseded(line=line, by_rule_id=first.id, by_title=first.title, by_title_en=first.title_en))
            self.line_trace(rule, line, "superseded", f"一次性键 {line.once_key} 已由「{first.title}」支付",
                            f"once-key {line.once_key} is paid by {first.title_en}")
        if not extra:
            return result, superseded
        position = {r.id: i for i, r in enumerate(self.rules.rules)}
        ordered = sorted([*superseded, *extra], key=lambda s: (position[s.line.rule_id],
                                                               s.line.event.index if s.line.event else -1))
        return result, ordered

    def apply_claims(self, kept):
        """Lines whose once-key the ledger holds as approved or paid: listed as already paid, not in the total."""
        if not self.claims:
            return kept, []
        result, paid = [], []
        for rule, line, index in kept:
            claim = self.claims.get(line.once_key)
            if claim is None:
                result.append((rule, line, index))
                continue
            zh, en = paid_reason(claim)
            paid.append(AlreadyPaid(line=line, status=claim.status, round_name=claim.round_name,
                                    recorded_at=claim.recorded_at, paid_amount=to_fen(claim.amount),
                                    paid_rule_id=claim.rule_id, reason_zh=zh, reason_en=en))
            self.line_trace(rule, line, "already_paid", zh, en)
        return result, paid


def in_round(header: RuleHeader, away: set[int]) -> bool:
    """False for a benefit's line on an event outside the round's period (``away``: their indices)."""
    return header.kind != "benefit" or header.event is None or header.event.index not in away


def withholds(exclusion: Rule, rule: Rule) -> bool:
    for target in exclusion.withholds:
        if target == "*" or target == rule.id or (target.startswith("tag:") and target[4:] in rule.tags):
            return True
    return False
