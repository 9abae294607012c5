"""Condition trees (``engine.tree``) → polars expressions with three-valued (Kleene) truth.

A polars Boolean column holds true / false / null, and polars' ``&``, ``|``, ``~``, ``all_horizontal``
and ``any_horizontal`` follow Kleene logic on nulls (tested), so null is "undetermined" exactly as in
``engine.logic.truth``. Trees must be bound first (``engine.conditions.bind`` / ``bind_by_event_date``):
no ``Param`` or ``AsOf`` is left. Columns: an entity field by its name, an event field as
``event.<name>``, a derived fact as ``@<name>``. Numbers are compared exactly on the scaled integers of
``engine.batch.cells`` (a literal that falls between two representable values is rounded the way that
keeps the comparison exact).
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import polars as pl

from engine import schema
from engine.batch.cells import SCALE, dtype_for
from engine.describe import field_spec
from engine.tree import All, AnyOf, AsOf, Compare, Const, Contains, Derived, Field, Node, Not, OneOf, Param


def column(f: Field) -> str:
    return str(f)


def derived_column(name: str) -> str:
    return f"@{name}"


def truth(node: Node, event_type: str | None) -> pl.Expr:
    """Kleene truth of a bound tree as a Boolean expression (null = undetermined)."""
    if isinstance(node, Compare):
        return _compare(node, event_type)
    if isinstance(node, OneOf):
        col = pl.col(column(node.field))
        values = [v for v in (_literal(node.field, x, event_type) for x in node.values) if v is not _NO_MATCH]
        hit = col.is_in(pl.lit(pl.Series(values, dtype=_dtype(node.field, event_type))).implode()) if values else pl.lit(False)
        if node.negated:
            hit = ~hit
        return pl.when(col.is_null()).then(pl.lit(None, dtype=pl.Boolean)).otherwise(hit)
    if isinstance(node, Contains):
        col = pl.col(column(node.field))
        hit = col.list.contains(pl.lit(node.value))
        if node.negated:
            hit = ~hit
        return pl.when(col.is_null()).then(pl.lit(None, dtype=pl.Boolean)).otherwise(hit)
    if isinstance(node, Derived):
        return pl.col(derived_column(node.name))
    if isinstance(node, Const):
        return pl.lit(node.value, dtype=pl.Boolean)
    if isinstance(node, Not):
        return ~truth(node.item, event_type)
    if isinstance(node, All):
        if not node.items:
            return pl.lit(True, dtype=pl.Boolean)
        return pl.all_horizontal([truth(i, event_type) for i in node.items]) if len(node.items) > 1 else truth(node.items[0], event_type)
    if isinstance(node, AnyOf):
        if not node.items:
            return pl.lit(False, dtype=pl.Boolean)
        return pl.any_horizontal([truth(i, event_type) for i in node.items]) if len(node.items) > 1 else truth(node.items[0], event_type)
    raise TypeError(f"not a bound condition node: {node!r}")


_NO_MATCH = object()


def _kind(f: Field, event_type: str | None) -> str:
    spec = field_spec(f, event_type)
    if spec is None:
        raise ValueError(f"unknown field {f}")
    return spec.kind


def _dtype(f: Field, event_type: str | None) -> pl.DataType:
    """The column's dtype, as ``engine.batch.cells`` stores the field."""
    spec = field_spec(f, event_type)
    if spec is None:
        raise ValueError(f"unknown field {f}")
    return dtype_for(spec)


def _literal(f: Field, value, event_type: str | None):
    """A literal in the column's representation; ``_NO_MATCH`` when no stored value can equal it."""
    kind = _kind(f, event_type)
    if kind in SCALE:
        scaled = Decimal(value).scaleb(SCALE[kind])
        return int(scaled) if scaled == scaled.to_integral_value() else _NO_MATCH
    return value


def _compare(node: Compare, event_type: str | None) -> pl.Expr:
    if isinstance(node.value, (Param, AsOf)):
        raise ValueError(f"unbound operand {node.value}; bind the tree first")
    col = pl.col(column(node.field))
    kind = _kind(node.field, event_type)
    op, value = node.op, node.value
    if kind in SCALE:
        scaled = Decimal(value).scaleb(SCALE[kind])
        if scaled != scaled.to_integral_value():
            # x (an integer) against a non-integer: == never, != always, and orderings against the floor.
            low = math.floor(scaled)
            if op == "==":
                return pl.when(col.is_null()).then(pl.lit(None, dtype=pl.Boolean)).otherwise(pl.lit(False))
            if op == "!=":
                return pl.when(col.is_null()).then(pl.lit(None, dtype=pl.Boolean)).otherwise(pl.lit(True))
            op = {"<": "<=", "<=": "<=", ">": ">", ">=": ">"}[op]
            value = low
        else:
            value = int(scaled)
        rhs = pl.lit(value, dtype=pl.Int64)
    elif kind == schema.DATE:
        rhs = pl.lit(value, dtype=pl.Date) if isinstance(value, date) else pl.lit(value)
    elif kind == schema.BOOL:
        rhs = pl.lit(bool(value), dtype=pl.Boolean)
    else:
        rhs = pl.lit(value, dtype=pl.String)
    return {"==": col == rhs, "!=": col != rhs, "<": col < rhs, "<=": col <= rhs, ">": col > rhs, ">=": col >= rhs}[op]
