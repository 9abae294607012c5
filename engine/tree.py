"""The condition tree: the one representation every backend evaluates.

Rule conditions are parsed (``engine.conditions``) into these frozen nodes. Three consumers read them:
the Python evaluator (explanations, three-valued logic), the durable_rules compiler and the columnar
batch compiler. Before the two compiled backends see a tree, ``resolve`` replaces parameter references
and ``as_of`` with literals, so a compiled backend only ever meets fields, literals and logic.

Values are normalised: numbers are ``Decimal``, dates are ``datetime.date``, enum values are their
English codes, strings are ``str``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

Literal = Decimal | str | bool | date

NEGATED_OP = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
FLIPPED_OP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True)
class Field:
    """A profile field (``scope='entity'``) or a field of the event a rule pays for (``scope='event'``)."""

    scope: str
    name: str

    def __str__(self) -> str:
        return f"event.{self.name}" if self.scope == "event" else self.name


@dataclass(frozen=True)
class Param:
    """A named parameter; its value depends on the date (event date, or ``as_of`` for entity rules)."""

    name: str

    def __str__(self) -> str:
        return f"params.{self.name}"


@dataclass(frozen=True)
class AsOf:
    """The evaluation date the caller gave."""

    def __str__(self) -> str:
        return "as_of"


Operand = Literal | Param | AsOf


@dataclass(frozen=True)
class Compare:
    """``field <op> value``. The field is always on the left (the parser flips ``5 < x``)."""

    field: Field
    op: str
    value: Operand


@dataclass(frozen=True)
class OneOf:
    """``field in [a, b, ...]`` (``negated``: ``not in``)."""

    field: Field
    values: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True)
class Contains:
    """``"x" in list_field`` (``negated``: ``not in``) for list-valued fields such as key_industries."""

    field: Field
    value: Literal
    negated: bool = False


@dataclass(frozen=True)
class Derived:
    """A reference to a derived fact (a rule of kind ``derived``), e.g. ``sme``."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Const:
    """A constant truth value produced when binding parameters: ``None`` when a parameter has no value at
    the date in question (the condition is then undetermined, never simply false)."""

    value: bool | None


Node = Compare | OneOf | Contains | Derived | Not | All | AnyOf | Const


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (All, AnyOf)):
        return node.items
    if isinstance(node, Not):
        return (node.item,)
    return ()


def walk(node: Node):
    """Yield every node of the tree, depth first."""
    yield node
    for child in children(node):
        yield from walk(child)


def fields_of(node: Node) -> set[Field]:
    return {n.field for n in walk(node) if isinstance(n, (Compare, OneOf, Contains))}


def derived_of(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Derived)}


def params_of(node: Node) -> set[str]:
    return {n.value.name for n in walk(node) if isinstance(n, Compare) and isinstance(n.value, Param)}


def to_nnf(node: Node, negate: bool = False) -> Node:
    """Negation normal form: ``Not`` only directly above ``Derived``.

    Under three-valued (Kleene) logic a leaf is *true* only when its field is present and the comparison
    holds, and pushing a negation into a leaf keeps that: ``not (x == 1)`` is true exactly when ``x`` is
    present and ``x != 1``. So a backend that treats a missing field as "no match" fires on an NNF tree
    exactly when the Python evaluator says *true*.
    """
    if isinstance(node, Not):
        return to_nnf(node.item, not negate)
    if isinstance(node, All):
        items = tuple(to_nnf(i, negate) for i in node.items)
        return AnyOf(items) if negate else All(items)
    if isinstance(node, AnyOf):
        items = tuple(to_nnf(i, negate) for i in node.items)
        return All(items) if negate else AnyOf(items)
    if not negate:
        return node
    if isinstance(node, Compare):
        return Compare(node.field, NEGATED_OP[node.op], node.value)
    if isinstance(node, OneOf):
        return OneOf(node.field, node.values, not node.negated)
    if isinstance(node, Contains):
        return Contains(node.field, node.value, not node.negated)
    if isinstance(node, Const):
        return Const(None if node.value is None else not node.value)
    return Not(node)  # Derived: a derived fact is itself three-valued


def depth(node: Node) -> int:
    kids = children(node)
    return 1 + (max(depth(k) for k in kids) if kids else 0)


def size(node: Node) -> int:
    return sum(1 for _ in walk(node))
