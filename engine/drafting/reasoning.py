"""Interval and domain reasoning over condition trees: can a condition hold? must it hold?

A condition tree (``engine.tree``) is evaluated in three-valued logic, and a leaf is *true* only when its
field is present and the comparison holds. After ``to_nnf`` negations sit only on leaves (or derived
facts), so "the rule can apply" means: some assignment of values to the fields makes the NNF tree true,
a purely classical question over the leaves. ``satisfiable`` answers it by a small case split over
``or`` branches, keeping per field

* numbers and dates: an interval with open/closed ends, plus excluded points (integers and dates are
  discrete, so ``x > 5 and x < 6`` is empty for an integer field);
* enums, cities, yes/no: the set of values still allowed from the field's finite domain;
* free text: the allowed and the excluded values;
* list fields (``"x" in key_industries``): the values required in and required out.

Derived facts are replaced by their definitions. A comparison with a parameter or ``as_of`` is kept as an
opaque atom: it only conflicts with its exact complement (``x >= params.p`` and ``x < params.p``), which
keeps every answer sound: "unsatisfiable" is only said when it is certain.

The search has a budget; when it runs out the answer is ``None`` (unknown) and callers report nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from engine import schema
from engine.cities import CITIES
from engine.describe import field_spec
from engine.profile import OUTSIDE_LIAONING
from engine.tree import (
    All,
    AnyOf,
    AsOf,
    Compare,
    Const,
    Contains,
    Derived,
    Field,
    Node,
    Not,
    OneOf,
    Param,
    to_nnf,
)
from engine.vocabulary import ENUMS

DEFAULT_BUDGET = 20_000


class _OutOfBudget(Exception):
    pass


# -- field kinds and domains -----------------------------------------------------------------------

@dataclass(frozen=True)
class FieldKind:
    ordered: bool  # numbers and dates
    discrete: bool  # integers and dates
    domain: frozenset | None  # finite domain (enums, cities, bool); None: unbounded
    is_list: bool = False


_TEXT = FieldKind(False, False, None)


def field_kind(f: Field, event_type: str | None) -> FieldKind:
    """What values a field can take, from the profile schema."""
    spec = field_spec(f, event_type)
    if spec is None:
        return _TEXT
    kind = spec.kind
    if kind == schema.BOOL:
        return FieldKind(False, False, frozenset({True, False}))
    if kind in (schema.INT, schema.DATE):
        return FieldKind(True, True, None)
    if kind in schema.NUMERIC_KINDS:
        return FieldKind(True, False, None)
    if kind == schema.ENUM:
        return FieldKind(False, False, frozenset(ENUMS[spec.enum]))
    if kind == schema.ENUM_LIST:
        return FieldKind(False, False, frozenset(ENUMS[spec.enum]), is_list=True)
    if kind == schema.CITY:
        return FieldKind(False, False, frozenset(CITIES))
    if kind == schema.PLACE:
        return FieldKind(False, False, frozenset(CITIES) | {OUTSIDE_LIAONING})
    return _TEXT


def _number(value: Any) -> Any:
    """Dates become day numbers so that numbers and dates share the interval logic."""
    if isinstance(value, date):
        return Decimal(value.toordinal())
    return value


# -- the per-field constraint store ----------------------------------------------------------------

@dataclass(frozen=True)
class _State:
    kind: FieldKind
    allowed: frozenset | None = None  # None: any value of the domain
    excluded: frozenset = frozenset()
    low: Decimal | None = None
    low_open: bool = False
    high: Decimal | None = None
    high_open: bool = False
    inside: frozenset = frozenset()  # list fields: values that must be in the list
    outside: frozenset = frozenset()  # … and values that must not

    def add(self, leaf: Node) -> _State | None:
        """The state with ``leaf`` added, or None when that makes it empty."""
        if isinstance(leaf, Contains):
            state = replace(self, outside=self.outside | {leaf.value}) if leaf.negated else replace(
                self, inside=self.inside | {leaf.value})
            return state if state.consistent() else None
        if isinstance(leaf, OneOf):
            values = frozenset(_number(v) for v in leaf.values)
            if leaf.negated:
                state = replace(self, excluded=self.excluded | values)
            else:
                state = replace(self, allowed=values if self.allowed is None else self.allowed & values)
            return state if state.consistent() else None
        assert isinstance(leaf, Compare)
        value = _number(leaf.value)
        op = leaf.op
        if op == "==":
            state = replace(self, allowed=frozenset({value}) if self.allowed is None else self.allowed & {value})
        elif op == "!=":
            state = replace(self, excluded=self.excluded | {value})
        elif op in (">", ">="):
            opened = op == ">"
            if self.low is None or value > self.low or (value == self.low and opened):
                state = replace(self, low=value, low_open=opened)
            else:
                state = self
        else:
            opened = op == "<"
            if self.high is None or value < self.high or (value == self.high and opened):
                state = replace(self, high=value, high_open=opened)
            else:
                state = self
        return state if state.consistent() else None

    def fits(self, value: Any) -> bool:
        if value in self.excluded:
            return False
        if self.kind.domain is not None and value not in self.kind.domain:
            return False
        if self.kind.ordered:
            if not isinstance(value, Decimal):
                return False
            if self.kind.discrete and value != value.to_integral_value():
                return False
            if self.low is not None and (value < self.low or (value == self.low and self.low_open)):
                return False
            if self.high is not None and (value > self.high or (value == self.high and self.high_open)):
                return False
        return True

    def consistent(self) -> bool:
        if self.kind.is_list:
            return not (self.inside & self.outside)
        if self.allowed is not None:
            return any(self.fits(v) for v in self.allowed)
        if self.kind.domain is not None:
            return any(self.fits(v) for v in self.kind.domain)
        if not self.kind.ordered:
            return True  # free text: infinitely many values remain
        return self._interval_nonempty()

    def _interval_nonempty(self) -> bool:
        low, high = self.low, self.high
        if self.kind.discrete:
            if low is not None:
                whole = low.to_integral_value(rounding="ROUND_CEILING")
                low = whole + 1 if (self.low_open and whole == low) else whole
            if high is not None:
                whole = high.to_integral_value(rounding="ROUND_FLOOR")
                high = whole - 1 if (self.high_open and whole == high) else whole
            if low is None or high is None:
                return True
            if low > high:
                return False
            holes = sum(1 for v in self.excluded if isinstance(v, Decimal) and v == v.to_integral_value() and low <= v <= high)
            return high - low + 1 > holes
        if low is None or high is None:
            return True
        if low < high:
            return True
        if low > high or self.low_open or self.high_open:
            return False
        return low not in self.excluded  # a single point


# -- satisfiability ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Opaque:
    """A leaf compared with a parameter or ``as_of``: only its exact complement conflicts with it."""

    key: tuple
    positive: bool


def _opaque(leaf: Node) -> _Opaque | None:
    if isinstance(leaf, Compare) and isinstance(leaf.value, (Param, AsOf)):
        op = leaf.op
        base = {"==": ("==", True), "!=": ("==", False), "<": ("<", True), ">=": ("<", False),
                ">": (">", True), "<=": (">", False)}[op]
        return _Opaque((leaf.field, base[0], leaf.value), base[1])
    if isinstance(leaf, Not) and isinstance(leaf.item, Derived):
        return _Opaque(("derived", leaf.item.name), False)
    if isinstance(leaf, Derived):
        return _Opaque(("derived", leaf.name), True)
    return None


class Reasoner:
    """Satisfiability and implication for the conditions of one rule set.

    ``definitions`` maps a derived fact's name to its tree (the definition is substituted wherever the
    fact is used); ``event_type`` tells the field kinds of ``event.*`` fields.
    """

    def __init__(self, definitions: Mapping[str, Node] | None = None, budget: int = DEFAULT_BUDGET):
        self.definitions = dict(definitions or {})
        self.budget = budget

    # -- preparing trees -------------------------------------------------------------------------
    def expand(self, node: Node, seen: frozenset[str] = frozenset()) -> Node:
        if isinstance(node, Derived):
            if node.name in self.definitions and node.name not in seen:
                return self.expand(self.definitions[node.name], seen | {node.name})
            return node
        if isinstance(node, Not):
            return Not(self.expand(node.item, seen))
        if isinstance(node, All):
            return All(tuple(self.expand(i, seen) for i in node.items))
        if isinstance(node, AnyOf):
            return AnyOf(tuple(self.expand(i, seen) for i in node.items))
        return node

    # -- the questions ---------------------------------------------------------------------------
    def satisfiable(self, node: Node, event_type: str | None) -> bool | None:
        """Can ``node`` be *true* for some entity (and event)? None: the search ran out of budget."""
        tree = to_nnf(self.expand(node))
        counter = [self.budget]
        try:
            return self._search([tree], {}, frozenset(), event_type, counter)
        except _OutOfBudget:
            return None

    def can_be_false(self, node: Node, event_type: str | None) -> bool | None:
        """Can ``node`` be *false* (with every field it reads present)?"""
        return self.satisfiable(Not(node), event_type)

    def implies(self, premise: Node, conclusion: Node, event_type: str | None) -> bool | None:
        """Whenever ``premise`` is true, is ``conclusion`` true as well (for the same entity and event)?"""
        answer = self.satisfiable(All((premise, Not(conclusion))), event_type)
        return None if answer is None else not answer

    # -- the search ------------------------------------------------------------------------------
    def _search(self, pending: list[Node], fields: dict[Field, _State], atoms: frozenset[_Opaque],
                event_type: str | None, counter: list[int]) -> bool:
        counter[0] -= 1
        if counter[0] < 0:
            raise _OutOfBudget
        pending = list(pending)
        fields = dict(fields)
        while pending:
            node = pending.pop()
            if isinstance(node, All):
                pending.extend(node.items)
                continue
            if isinstance(node, Const):
                if not node.value:
                    return False
                continue
            if isinstance(node, AnyOf):
                return any(self._search(pending + [item], fields, atoms, event_type, counter) for item in node.items)
            atom = _opaque(node)
            if atom is not None:
                if _Opaque(atom.key, not atom.positive) in atoms:
                    return False
                atoms = atoms | {atom}
                continue
            if isinstance(node, (Compare, OneOf, Contains)):
                state = fields.get(node.field) or _State(field_kind(node.field, event_type))
                added = state.add(node)
                if added is None:
                    return False
                fields[node.field] = added
                continue
            raise TypeError(f"not a condition node in NNF: {node!r}")
        return True


def definitions_of(rules: Any) -> dict[str, Node]:
    """Derived facts of a RuleSet → their trees."""
    return {r.id: All(tuple(r.trees)) for r in rules.rules if r.kind == "derived"}


def flatten(node: Node) -> list[Node]:
    """The top-level conjuncts of a tree (``a and (b and c)`` → ``[a, b, c]``)."""
    if isinstance(node, All):
        return [leaf for item in node.items for leaf in flatten(item)]
    return [node]


# -- back to the condition language (for messages and diffs) -------------------------------------

def expression(node: Node) -> str:
    """A tree written back in the condition language (normalised: English codes, ISO dates)."""

    def literal(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, date):
            return f'"{value.isoformat()}"'
        if isinstance(value, (Param, AsOf)):
            return str(value)
        return f'"{value}"'

    def go(n: Node, top: bool = False) -> str:
        if isinstance(n, Compare):
            if isinstance(n.value, bool) and n.op == "==":
                return str(n.field) if n.value else f"not {n.field}"
            return f"{n.field} {n.op} {literal(n.value)}"
        if isinstance(n, OneOf):
            return f"{n.field} {'not in' if n.negated else 'in'} [{', '.join(literal(v) for v in n.values)}]"
        if isinstance(n, Contains):
            return f"{literal(n.value)} {'not in' if n.negated else 'in'} {n.field}"
        if isinstance(n, Derived):
            return n.name
        if isinstance(n, Const):
            return "true" if n.value else "false"
        if isinstance(n, Not):
            return f"not {go(n.item)}"
        if isinstance(n, (All, AnyOf)):
            text = (" and " if isinstance(n, All) else " or ").join(go(i) for i in n.items)
            return text if top else f"({text})"
        return str(n)

    return go(node, top=True)


__all__ = ["FieldKind", "Reasoner", "definitions_of", "expression", "field_kind", "flatten"]
