"""What an evaluation returns. Every line explains itself: rule, document, clause, quote, calculation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from engine.profile import Derivation


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Source(_Frozen):
    """Where a rule comes from."""

    document_id: str
    document_title: str
    document_title_en: str
    document_number: str | None = None
    jurisdiction: str
    source_file: str
    section: str
    quote: str


class EventRef(_Frozen):
    index: int
    type: str
    date: date
    ref: str | None = None
    label_zh: str
    label_en: str


class ConditionCheck(_Frozen):
    """One condition of a rule, with the actual values it read and its outcome."""

    expression: str
    description_zh: str
    description_en: str
    result: str  # "true" | "false" | "unknown"
    values: dict[str, str] = Field(default_factory=dict, description="field → actual value as read (Chinese labels)")
    values_en: dict[str, str] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)
    implicit: bool = Field(default=False, description="added by the engine: window or territory of the document")


class MissingFact(_Frozen):
    field: str
    label_zh: str
    label_en: str


class RuleHeader(_Frozen):
    rule_id: str
    title: str
    title_en: str
    kind: str
    departments: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    source: Source | None = None
    note: str | None = None
    event: EventRef | None = None


class BenefitLine(RuleHeader):
    amount: Decimal | None = Field(description="yuan, half-up to the fen; None: a support measure with no stated amount")
    calculation: str | None = None
    once_key: str = Field(description="what the line pays once for (engine.once): the key a ledger records")
    once_basis: str = Field(description="how the key was formed: ref | type_date | entity")
    checks: list[ConditionCheck] = Field(default_factory=list)
    caveats_zh: list[str] = Field(default_factory=list, description="exclusions that could not be checked")
    caveats_en: list[str] = Field(default_factory=list)


class RequirementResult(RuleHeader):
    status: str  # "met" | "violated" | "undetermined"
    floor: Decimal | None = None
    actual: Decimal | None = None
    shortfall: Decimal | None = None
    calculation: str | None = None
    missing: list[MissingFact] = Field(default_factory=list)
    checks: list[ConditionCheck] = Field(default_factory=list)


class Withheld(_Frozen):
    line: BenefitLine
    exclusion: RuleHeader
    reason_zh: str
    reason_en: str


class Superseded(_Frozen):
    line: BenefitLine
    by_rule_id: str
    by_title: str
    by_title_en: str


class AlreadyPaid(_Frozen):
    """A line whose once-key a ledger already holds as approved or paid: listed, not added to the total."""

    line: BenefitLine
    status: str  # approved | paid
    round_name: str
    recorded_at: str
    paid_amount: Decimal
    paid_rule_id: str
    reason_zh: str
    reason_en: str


class Period(_Frozen):
    """A claim round's period (申报期): only events dated inside it earn event benefits."""

    start: date
    end: date

    def __contains__(self, when: date) -> bool:
        return self.start <= when <= self.end

    def text(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


class Undetermined(RuleHeader):
    missing: list[MissingFact]
    checks: list[ConditionCheck] = Field(default_factory=list)
    reason_zh: str = ""
    reason_en: str = ""


class NearMiss(RuleHeader):
    failed: ConditionCheck


class RuleTrace(RuleHeader):
    """How one rule was decided (for one event, for event rules)."""

    status: str  # eligible | not_eligible | undetermined | not_in_force | withheld | superseded | met | violated | holds
    checks: list[ConditionCheck] = Field(default_factory=list)
    reason_zh: str = ""
    reason_en: str = ""


class IgnoredEvent(_Frozen):
    event: EventRef
    reason_zh: str
    reason_en: str


class EntitySummary(_Frozen):
    credit_code: str
    name: str
    city: str


class Evaluation(_Frozen):
    entity: EntitySummary
    as_of: date
    rule_set: str = Field(description="fingerprint of the rule set used")
    benefits: list[BenefitLine] = Field(default_factory=list)
    requirements: list[RequirementResult] = Field(default_factory=list)
    withheld: list[Withheld] = Field(default_factory=list)
    superseded: list[Superseded] = Field(default_factory=list)
    undetermined: list[Undetermined] = Field(default_factory=list)
    near_misses: list[NearMiss] = Field(default_factory=list)
    exclusions: list[RuleTrace] = Field(default_factory=list, description="exclusions that hold")
    derived: dict[str, str] = Field(default_factory=dict, description="derived facts: true / false / unknown")
    total: Decimal = Decimal("0.00")
    ignored_events: list[IgnoredEvent] = Field(default_factory=list)
    merged_events: list[IgnoredEvent] = Field(default_factory=list, description="events identical to an earlier one: counted once")
    period: Period | None = Field(default=None, description="the claim round's period, when one was given")
    outside_period: list[IgnoredEvent] = Field(default_factory=list, description="events outside the round's period")
    already_paid: list[AlreadyPaid] = Field(default_factory=list, description="lines a ledger already holds")
    already_paid_total: Decimal = Decimal("0.00")
    round_mode: bool = Field(default=False, exclude=True, description="a period or a ledger was given")
    derivations: list[Derivation] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    traces: list[RuleTrace] = Field(default_factory=list)

    def benefit(self, rule_id: str) -> list[BenefitLine]:
        return [b for b in self.benefits if b.rule_id == rule_id]

    def to_json(self, traces: bool = False) -> str:
        exclude = set() if traces else {"traces"}
        # a round's fields appear only when a period or a ledger was given: otherwise today's output, unchanged
        if self.period is None:
            exclude |= {"period", "outside_period"}
        if not self.merged_events:
            exclude |= {"merged_events"}
        if self.period is None and not self.already_paid and not self.round_mode:
            exclude |= {"already_paid", "already_paid_total"}
        return self.model_dump_json(indent=2, exclude=exclude)
