"""Three-valued (Kleene) truth of a resolved condition tree.

``None`` means undetermined: a needed fact is missing. A missing fact is never read as 0 or false.
This is the reference semantics the durable_rules and columnar backends must agree with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.tree import All, AnyOf, AsOf, Compare, Const, Contains, Derived, Node, Not, OneOf, Param

Truth = bool | None


def compare(left: Any, op: str, right: Any) -> bool:
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "<":
        return left < right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == ">=":
        return left >= right
    raise ValueError(f"unknown operator {op!r}")


def kleene_and(values) -> Truth:
    result: Truth = True
    for v in values:
        if v is False:
            return False
        if v is None:
            result = None
    return result


def kleene_or(values) -> Truth:
    result: Truth = False
    for v in values:
        if v is True:
            return True
        if v is None:
            result = None
    return result


def kleene_not(value: Truth) -> Truth:
    return None if value is None else not value


def truth(
    node: Node,
    entity: Mapping[str, Any],
    event: Mapping[str, Any] | None = None,
    derived: Mapping[str, Truth] | None = None,
) -> Truth:
    """Truth of a *resolved* tree (no ``Param``/``AsOf`` left) for one entity and optionally one event."""

    def value_of(field) -> Any:
        source = event if field.scope == "event" else entity
        return None if source is None else source.get(field.name)

    if isinstance(node, Compare):
        if isinstance(node.value, (Param, AsOf)):
            raise ValueError(f"unresolved operand {node.value} in {node}")
        left = value_of(node.field)
        return None if left is None else compare(left, node.op, node.value)
    if isinstance(node, OneOf):
        left = value_of(node.field)
        if left is None:
            return None
        return (left in node.values) != node.negated
    if isinstance(node, Contains):
        left = value_of(node.field)
        if left is None:
            return None
        return (node.value in left) != node.negated
    if isinstance(node, Derived):
        return (derived or {}).get(node.name)
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Not):
        return kleene_not(truth(node.item, entity, event, derived))
    if isinstance(node, All):
        return kleene_and(truth(i, entity, event, derived) for i in node.items)
    if isinstance(node, AnyOf):
        return kleene_or(truth(i, entity, event, derived) for i in node.items)
    raise TypeError(f"not a condition node: {node!r}")
