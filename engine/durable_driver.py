"""Drive the compiled durable_rules engine (``durable_rules_engine``) directly for resolved condition trees.

This is the only module that imports durable_rules. It compiles ``RuleSpec`` trees into one durable ruleset
and evaluates one entity (with its events) per ``fire`` call in a fresh session id (sid), which is always
deleted afterwards. The stock ``durable.lang``/``Host`` is not used: ``Host`` starts timer threads that run
actions concurrently with our calls (see /work/shared/notes/durable-rules.md).

Guarantee: a rule fires exactly when ``engine.logic.truth(tree, entity, event, derived) is True``, for values
whose type matches the literals they are compared with. How:

* Trees are put in negation normal form (``to_nnf``). In durable an alpha condition is only evaluated for
  properties the fact has, so a missing field never matches; with NNF that is exactly Kleene "true".
* Every value is sent as a small integer *code*: its rank among the literals its field is compared with
  (literal i gets 2i+2, a value strictly between literals gets the odd number in between). Comparisons
  with the literals keep their outcome, exactly, whatever the magnitude or precision (no floats, no int64
  overflow, no loose coercion: ``"1" == 1`` and ``true == 1`` cannot happen because a string, a number, a
  bool and a date each go to a separate property).
* ``Contains`` is evaluated in Python into a 0/1 property per (field, value): list-valued fields never
  reach durable.
* Derived facts are asserted from actions as facts ``{t: "D", n: <index>, v: 1|0}``; each derived rule is
  compiled twice (tree -> v=1, not tree -> v=0), so "neither" is undetermined (``None``). Rules that refer
  to derived facts are split into a DNF over derived literals, each term a join with those facts.
* Event rules run on one fact per event that also carries the entity properties event rules need.
* Facts, never events: ``post`` consumes an event at the first matching rule.
* Durable's matcher overflows (error 303) when more than 64 sibling conditions match one fact, and hangs
  when 512 conditions sit under one node. Compiled patterns are therefore packed into *groups*: each fact
  is asserted once per group of its kind (property ``g``), each pattern starts with ``g == group``, and a
  model of durable's alpha network checks every group against the limits. A single rule too wide to fit
  raises ``EngineLimitError``; so do other shapes past durable's limits (see the MAX_* constants).

A value whose type does not fit the literal (e.g. a str compared with a Decimal, or ``True`` with
``Decimal(1)``) makes that leaf undetermined, so neither ``==`` nor ``!=`` fires; Python would say
``True == 1``. Floats are rejected with ``TypeError``.
"""

from __future__ import annotations

import itertools
import json
import threading
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import durable_rules_engine as _dr

from engine.tree import (
    All,
    AnyOf,
    Compare,
    Const,
    Contains,
    Derived,
    Node,
    Not,
    OneOf,
    derived_of,
    to_nnf,
    walk,
)

# --- limits of durable_rules 2.0.28 (src/rules/*.h); we stay below them with a margin ---------------------
# An alpha node's children live in a 512-slot open-addressing table whose probe loop never terminates when
# it is full: 512 children hang the first assert, 513 hang create_ruleset.
MAX_ALPHA_CHILDREN = 480
# Alpha evaluation is a depth-first walk with a fixed stack of 64 pending nodes (error 303, found by
# reading events.c and confirmed: 65 sibling conditions matching one fact raise).
MAX_ALPHA_STACK = 60
# At most 256 patterns (betas) end on one alpha node (error 108), 128 "not exists" links (error 107).
MAX_BETAS_PER_NODE = 240
MAX_NEXT_LIST = 120
# 32 entries per expression sequence; every $and / $or takes two (error 113).
MAX_CONNECTIVES = 15
# A match frame holds at most 16 facts.
MAX_PATTERNS = 15
# 255 properties per fact including sid and id (error 302).
MAX_PROPERTIES = 240
# At most 4096 actions (rules) per ruleset.
MAX_DURABLE_RULES = 3000
# A top-level "or" wider than this is compiled as separate patterns (which are then packed into groups).
MAX_OR_WIDTH = 16
# DNF terms a single rule may expand into.
MAX_TERMS_PER_RULE = 64


class EngineLimitError(Exception):
    """The rule set has a shape durable_rules cannot run (it would crash, hang or refuse it)."""


@dataclass(frozen=True)
class RuleSpec:
    key: str
    tree: Node
    event_type: str | None
    derives: str | None = None


@dataclass
class Firing:
    entity_rules: set[str] = field(default_factory=set)
    event_rules: set[tuple[str, int]] = field(default_factory=set)
    derived: dict[str, bool | None] = field(default_factory=dict)


# --- tree preparation ------------------------------------------------------------------------------------


def _simplify(node: Node) -> Node:
    """Fold constants and flatten nested All/AnyOf (NNF input). Kleene-safe: only ``true`` matters."""
    if isinstance(node, Const) and node.value is None:
        return Const(False)  # undetermined never fires; NNF has already moved every negation past it
    if isinstance(node, (All, AnyOf)):
        is_all = isinstance(node, All)
        items: list[Node] = []
        for child in node.items:
            s = _simplify(child)
            if isinstance(s, Const):
                if s.value != is_all:  # False in All / True in AnyOf decides the node
                    return s
                continue
            if type(s) is type(node):
                items.extend(s.items)  # type: ignore[union-attr]
            else:
                items.append(s)
        if not items:
            return Const(is_all)
        if len(items) == 1:
            return items[0]
        return All(tuple(items)) if is_all else AnyOf(tuple(items))
    return node


def _kind(value: Any) -> str | None:
    """Type class of a scalar: values of different classes never compare in the engine."""
    if isinstance(value, bool):
        return "b"
    if isinstance(value, (int, Decimal)):
        return "n"
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return "d"
    if isinstance(value, str):
        return "s"
    return None


def _literal_kind(value: Any, where: str) -> str:
    k = _kind(value)
    if k is None or (isinstance(value, Decimal) and not value.is_finite()):
        raise ValueError(f"unsupported literal {value!r} in rule {where}")
    return k


_OPS = {"==": None, "!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


class _Schema:
    """Property names and value codes for every (scope, field) the rules read."""

    def __init__(self) -> None:
        self.literals: dict[tuple[str, str, str], set[Any]] = {}
        self.scalar_prop: dict[tuple[str, str, str], str] = {}
        self.contains_prop: dict[tuple[str, str, Any], str] = {}
        self.sorted: dict[tuple[str, str, str], list[Any]] = {}
        self._n = itertools.count()

    def _new(self, prefix: str) -> str:
        return f"{prefix}{next(self._n)}"

    def add_literal(self, scope: str, name: str, value: Any, where: str) -> None:
        key = (scope, name, _literal_kind(value, where))
        self.literals.setdefault(key, set()).add(value)
        if key not in self.scalar_prop:
            self.scalar_prop[key] = self._new("p")

    def add_contains(self, scope: str, name: str, value: Any) -> None:
        key = (scope, name, value)
        if key not in self.contains_prop:
            self.contains_prop[key] = self._new("c")

    def freeze(self) -> None:
        self.sorted = {k: sorted(v) for k, v in self.literals.items()}
        # Field-major lookup tables used by fire(): (scope, name) -> [(kind, prop, sorted literals)], ...
        self.scalars_by_field: dict[tuple[str, str], list[tuple[str, str, list[Any]]]] = {}
        for (scope, name, kind), prop in self.scalar_prop.items():
            self.scalars_by_field.setdefault((scope, name), []).append((kind, prop, self.sorted[(scope, name, kind)]))
        self.contains_by_field: dict[tuple[str, str], list[tuple[Any, str]]] = {}
        for (scope, name, value), prop in self.contains_prop.items():
            self.contains_by_field.setdefault((scope, name), []).append((value, prop))

    def literal_code(self, scope: str, name: str, value: Any) -> tuple[str, int]:
        key = (scope, name, _kind(value))
        lits = self.sorted[key]  # type: ignore[index]
        return self.scalar_prop[key], 2 * bisect_left(lits, value) + 2  # type: ignore[index]


def _value_code(lits: list[Any], value: Any) -> int:
    i = bisect_left(lits, value)
    return 2 * i + 2 if i < len(lits) and lits[i] == value else 2 * i + 1


# --- compiling field-only NNF trees to durable expressions -----------------------------------------------


def _leaf_expr(node: Node, schema: _Schema) -> dict[str, Any]:
    if isinstance(node, Compare):
        prop, code = schema.literal_code(node.field.scope, node.field.name, node.value)
        op = _OPS[node.op]
        return {prop: code} if op is None else {op: {prop: code}}
    if isinstance(node, OneOf):
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for v in dict.fromkeys(node.values):
            prop, code = schema.literal_code(node.field.scope, node.field.name, v)
            by_kind.setdefault(_kind(v), []).append({"$neq": {prop: code}} if node.negated else {prop: code})  # type: ignore[arg-type]
        if not node.negated:  # x in (a, b): any equality
            eqs = [e for group in by_kind.values() for e in group]
            return eqs[0] if len(eqs) == 1 else {"$or": eqs}
        # x not in (a, b): x (of some literal kind) differs from every literal of its kind
        alts = [g[0] if len(g) == 1 else {"$and": g} for g in by_kind.values()]
        return alts[0] if len(alts) == 1 else {"$or": alts}
    if isinstance(node, Contains):
        return {schema.contains_prop[(node.field.scope, node.field.name, node.value)]: 0 if node.negated else 1}
    raise TypeError(f"not a field leaf: {node!r}")


def _expr(node: Node, schema: _Schema) -> dict[str, Any]:
    if isinstance(node, All):
        return {"$and": [_expr(i, schema) for i in node.items]}
    if isinstance(node, AnyOf):
        return {"$or": [_expr(i, schema) for i in node.items]}
    return _leaf_expr(node, schema)


def _connectives(expr: Any) -> int:
    if isinstance(expr, dict):
        own = 1 if ("$and" in expr or "$or" in expr) else 0
        return own + sum(_connectives(v) for v in expr.values())
    if isinstance(expr, list):
        return sum(_connectives(v) for v in expr)
    return 0


# A DNF term: (field-only condition or None for "true", frozenset of (derived name, wanted truth)).
_Term = tuple[Node | None, frozenset[tuple[str, bool]]]


def _terms(node: Node, key: str) -> list[_Term]:
    """Split an NNF tree into an OR of (field condition AND derived literals); field-only subtrees stay whole."""
    if not derived_of(node):
        return [(node, frozenset())]
    if isinstance(node, Derived):
        return [(None, frozenset({(node.name, True)}))]
    if isinstance(node, Not) and isinstance(node.item, Derived):
        return [(None, frozenset({(node.item.name, False)}))]
    if isinstance(node, AnyOf):
        out = [t for i in node.items for t in _terms(i, key)]
    elif isinstance(node, All):
        out = [(None, frozenset())]
        for item in node.items:
            nxt: list[_Term] = []
            for f1, d1 in out:
                for f2, d2 in _terms(item, key):
                    d = d1 | d2
                    if any((n, not v) in d for n, v in d):
                        continue  # d and not d: never both asserted
                    parts = tuple(x for x in (f1, f2) if x is not None)
                    nxt.append((None if not parts else parts[0] if len(parts) == 1 else _simplify(All(parts)), d))
            out = nxt
            if len(out) > MAX_TERMS_PER_RULE:
                break
    else:
        raise TypeError(f"unexpected node in NNF tree of rule {key}: {node!r}")
    if len(out) > MAX_TERMS_PER_RULE:
        raise EngineLimitError(
            f"rule {key} expands into more than {MAX_TERMS_PER_RULE} alternatives over derived facts; simplify its condition"
        )
    return out


def _split_wide(term: _Term, schema: _Schema, key: str) -> list[_Term]:
    """Split top-level ORs of a term that is too wide or too deeply connected for one durable pattern."""
    cond, ders = term
    if isinstance(cond, AnyOf) and len(cond.items) > MAX_OR_WIDTH:
        # many alternatives side by side could all match at once and overflow durable's matcher stack
        return [t for i in cond.items for t in _split_wide((i, ders), schema, key)]
    if cond is None or _connectives(_expr(cond, schema)) + 1 <= MAX_CONNECTIVES:
        return [term]
    if isinstance(cond, AnyOf):
        return [t for i in cond.items for t in _split_wide((i, ders), schema, key)]
    raise EngineLimitError(
        f"the condition of rule {key} has too many nested and/or groups for durable_rules "
        f"(at most {MAX_CONNECTIVES} per condition); split it into smaller rules"
    )


# --- a model of durable's alpha network, to refuse shapes that would hang or crash -----------------------


class _Alpha:
    __slots__ = ("children", "eq_props", "other", "forward", "betas")

    def __init__(self) -> None:
        self.children: dict[tuple[str, str, str], _Alpha] = {}
        self.eq_props: set[str] = set()
        self.other = 0
        self.forward: list[_Alpha] = []
        self.betas = 0


def _model_alpha(expr: dict[str, Any], parent: _Alpha) -> _Alpha:
    """Mirror rete.c createAlpha: $and chains, $or joins its branches in a fresh forward node."""
    ((op, arg),) = expr.items()
    if op == "$and":
        cur = parent
        for item in arg:
            cur = _model_alpha(item, cur)
        return cur
    if op == "$or":
        fwd = _Alpha()
        for item in arg:
            _model_alpha(item, parent).forward.append(fwd)
        return fwd
    if op.startswith("$"):
        ((prop, value),) = arg.items()
    else:
        op, prop, value = "$eq", op, arg
    key = (prop, op, json.dumps(value))
    node = parent.children.get(key)
    if node is None:
        node = parent.children[key] = _Alpha()
        if op == "$eq":
            parent.eq_props.add(prop)
        else:
            parent.other += 1
    return node


def _and(items: list[dict[str, Any]]) -> dict[str, Any]:
    return items[0] if len(items) == 1 else {"$and": items}


def _network_problem(root: _Alpha, stack_budget: int) -> str | None:
    """Why durable would hang or fail on this (modelled) alpha network, or None if it is fine."""
    peaks: dict[int, int] = {}

    def peak(node: _Alpha) -> int:
        # Stack high-water mark from this node down: all children that can match at once are pushed,
        # then walked one by one (equalities on one property exclude each other).
        got = peaks.get(id(node))
        if got is not None:
            return got
        if len(node.children) > MAX_ALPHA_CHILDREN:
            raise _Problem(
                f"{len(node.children)} different conditions follow the same condition prefix; durable_rules "
                f"hangs at 512 (limit here {MAX_ALPHA_CHILDREN}): split the condition or the rule"
            )
        if len(node.forward) > MAX_NEXT_LIST:
            raise _Problem("too many 'or' alternatives end on the same condition")
        if node.betas > MAX_BETAS_PER_NODE:
            raise _Problem(
                f"{node.betas} rule patterns share an identical condition chain; durable_rules allows 256 "
                f"(limit here {MAX_BETAS_PER_NODE})"
            )
        kids = list(node.children.values()) + node.forward
        width = len(node.eq_props) + node.other + len(node.forward)
        result = max([width] + [width - 1 + peak(k) for k in kids])
        peaks[id(node)] = result
        return result

    try:
        high = peak(root)
    except _Problem as p:
        return str(p)
    if high > stack_budget:
        return (
            f"up to {high} conditions can match one fact at the same time; durable_rules' matcher "
            f"overflows at 64 (limit here {stack_budget}): make the condition narrower or split it"
        )
    return None


class _Problem(Exception):
    pass


# --- the engine ------------------------------------------------------------------------------------------

_ruleset_ids = itertools.count(1)
_NEVER = "zz_never"  # property no fact has: makes the silent catch-all pattern never complete
# Facts are serialised compactly; durable echoes them verbatim in action messages, which _run slices.
_dumps = json.JSONEncoder(separators=(",", ":")).encode
_EVENT_ID_MARK = '"id":"v'


def _order_derived(specs: Sequence[RuleSpec]) -> list[str]:
    """Topological order of derived names; raises ValueError on a cycle."""
    deps = {s.derives: derived_of(s.tree) for s in specs if s.derives is not None}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name not in deps:
            raise ValueError(f"derived fact {name!r} is referred to ({' -> '.join(path)}) but no rule derives it")
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise ValueError("derived facts depend on each other in a cycle: " + " -> ".join(path + (name,)))
        state[name] = 1
        for d in sorted(deps[name]):
            visit(d, path + (name,))
        state[name] = 2
        order.append(name)

    for name in sorted(deps):  # type: ignore[type-var]
        visit(name, ())  # type: ignore[arg-type]
    return order


class DurableEngine:
    """One compiled durable ruleset; ``fire`` evaluates one entity and its events.

    Not for concurrent use from several threads at once (calls are serialised with a lock; the C code
    never releases the GIL anyway). Build one engine per process for parallelism.
    """

    def __init__(self, specs: Sequence[RuleSpec]) -> None:
        self._handle: int | None = None
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._validate(specs)
        self.derived_names = _order_derived(specs)
        self._derived_index = {name: i for i, name in enumerate(self.derived_names)}
        event_types = sorted({s.event_type for s in specs if s.event_type is not None})
        self._event_tag = {et: f"V{i}" for i, et in enumerate(event_types)}

        # 1. NNF, constants folded; derived rules twice (true branch and false branch).
        prepared: list[tuple[tuple[str, Any], str, Node, str]] = []  # (target, fact tag, tree, rule key)
        for s in specs:
            if s.derives is not None:
                idx = self._derived_index[s.derives]
                prepared.append((("derive", (idx, 1)), "E", _simplify(to_nnf(s.tree)), s.key))
                prepared.append((("derive", (idx, 0)), "E", _simplify(to_nnf(Not(s.tree))), s.key))
            elif s.event_type is None:
                prepared.append((("entity", s.key), "E", _simplify(to_nnf(s.tree)), s.key))
            else:
                prepared.append((("event", s.key), self._event_tag[s.event_type], _simplify(to_nnf(s.tree)), s.key))

        # 2. Literal sets per field decide the value codes.
        schema = _Schema()
        for _, _, tree, key in prepared:
            for n in walk(tree):
                if isinstance(n, Compare):
                    schema.add_literal(n.field.scope, n.field.name, n.value, str(key))
                elif isinstance(n, OneOf):
                    for v in n.values:
                        schema.add_literal(n.field.scope, n.field.name, v, str(key))
                elif isinstance(n, Contains):
                    schema.add_contains(n.field.scope, n.field.name, n.value)
        schema.freeze()
        self._schema = schema

        # 3. Durable rules: one per distinct (fact tag, condition, derived joins); an action may serve several
        #    targets. Patterns are then packed into groups: a fact is asserted once per group of its tag, with
        #    property g = group, and every pattern starts with g == its group. Each group's alpha subtree must
        #    stay under durable's limits (64-entry matcher stack, 512 children per node).
        unique: dict[str, tuple[str, list[dict[str, Any]], list[dict[str, Any]]]] = {}  # durable rule name -> parts
        names: dict[str, str] = {}  # canonical JSON -> durable rule name
        self._targets: dict[str, list[tuple[str, Any]]] = {}
        event_entity_fields: set[str] = set()
        labels: dict[str, str] = {}  # durable rule name -> first rule key, for error messages
        for target, tag, tree, label in prepared:
            if isinstance(tree, Const):
                if not tree.value:
                    continue  # never true
                tree_terms: list[_Term] = [(None, frozenset())]
            else:
                tree_terms = [t for term in _terms(tree, label) for t in _split_wide(term, schema, label)]
            if tag != "E":
                event_entity_fields |= {
                    f.name
                    for n in walk(tree)
                    if isinstance(n, (Compare, OneOf, Contains))
                    for f in [n.field]
                    if f.scope == "entity"
                }
            for cond, ders in tree_terms:
                items: list[dict[str, Any]] = []
                if cond is not None:
                    e = _expr(cond, schema)
                    items.extend(e["$and"] if "$and" in e else [e])
                joins = []
                for j, (name, want) in enumerate(sorted(ders)):
                    if name not in self._derived_index:
                        raise ValueError(f"rule {label} refers to derived fact {name!r}, which no rule derives")
                    dcond = {"$and": [{"t": "D"}, {"n": self._derived_index[name]}, {"v": int(want)}]}
                    joins.append({f"d{j}": dcond})
                if len(joins) + 1 > MAX_PATTERNS:
                    raise EngineLimitError(
                        f"rule {label} joins {len(joins)} derived facts in one alternative; durable_rules allows {MAX_PATTERNS - 1}"
                    )
                body = json.dumps([tag, items, joins], sort_keys=True)
                name = names.get(body)
                if name is None:
                    name = names[body] = f"r{len(unique)}"
                    unique[name] = (tag, items, joins)
                    self._targets[name] = []
                    labels[name] = label
                if target not in self._targets[name]:
                    self._targets[name].append(target)

        root = _Alpha()
        rules: dict[str, dict[str, Any]] = {}
        self._groups: dict[str, list[int]] = {}  # fact tag -> group numbers
        groups: list[tuple[str, _Alpha, list[dict[str, Any]]]] = []  # (tag, model of the g node, patterns)
        tags = ["E"] + sorted({t for t, _, _ in unique.values()} - {"E"})  # "E" always: "ca" fires on it
        budget = MAX_ALPHA_STACK - 4  # the root keeps up to 4 siblings pending (g, t, $ex t, never)
        for tag in tags:
            for name, (t, items, joins) in unique.items():
                if t != tag:
                    continue
                if not self._groups.get(tag):
                    self._groups.setdefault(tag, []).append(len(groups))
                    groups.append((tag, _Alpha(), []))
                gi = self._groups[tag][-1]
                _, model, members = groups[gi]
                members.append(items)
                _model_alpha(_and(items), model).betas += 1
                problem = _network_problem(model, budget)
                if problem and len(members) > 1:
                    # Start a new group with this pattern; rebuild the old group's model without it.
                    members.pop()
                    rebuilt = _Alpha()
                    for m in members:
                        _model_alpha(_and(m), rebuilt).betas += 1
                    groups[gi] = (tag, rebuilt, members)
                    gi = len(groups)
                    self._groups[tag].append(gi)
                    model = _Alpha()
                    groups.append((tag, model, [items]))
                    _model_alpha(_and(items), model).betas += 1
                    problem = _network_problem(model, budget)
                if problem:
                    raise EngineLimitError(f"rule {labels[name]}: {problem}")
                patterns = [{"m": _and([{"g": gi}, *items])}, *joins]
                rules[name] = {"all": patterns}
                for p in patterns:
                    ((_, pexpr),) = p.items()
                    _model_alpha(pexpr, root).betas += 1
            if tag == "E" and not self._groups.get("E"):
                self._groups["E"] = [len(groups)]
                groups.append(("E", _Alpha(), []))

        # Catch-alls: every fact must reach some pattern or assert_facts rejects the whole batch, and a sid
        # in which no action ran can segfault delete_state. "ca" fires once per fire() on the first entity
        # copy; "ck" accepts every fact but never completes (no action cost).
        ca = {"$and": [{"t": "E"}, {"g": self._groups["E"][0]}]}  # t first: keeps it out of the group subtrees
        rules["ca"] = {"all": [{"m": ca}]}
        rules["ck"] = {"all": [{"m": {"$ex": {"t": 1}}}, {"z": {_NEVER: 1}}]}
        for expr in (ca, {"$ex": {"t": 1}}, {_NEVER: 1}):
            _model_alpha(expr, root).betas += 1
        if len(rules) > MAX_DURABLE_RULES:
            raise EngineLimitError(f"{len(rules)} compiled rules; durable_rules allows 4096 (limit here {MAX_DURABLE_RULES})")
        problem = _network_problem(root, MAX_ALPHA_STACK)
        if problem:
            raise EngineLimitError(problem)

        # Which (scope, field)s go into which fact.
        self._entity_fields = sorted(
            {name for (scope, name) in schema.scalars_by_field if scope == "entity"}
            | {name for (scope, name) in schema.contains_by_field if scope == "entity"}
        )
        self._event_entity_fields = sorted(event_entity_fields)
        self._event_fields = sorted(
            {name for (scope, name) in schema.scalars_by_field if scope == "event"}
            | {name for (scope, name) in schema.contains_by_field if scope == "event"}
        )
        props = lambda scope, names: sum(  # noqa: E731
            len(schema.scalars_by_field.get((scope, n), ())) + len(schema.contains_by_field.get((scope, n), ())) for n in names
        )
        widest = max(
            props("entity", self._entity_fields), props("event", self._event_fields) + props("entity", self._event_entity_fields)
        )
        if widest + 4 > MAX_PROPERTIES:
            raise EngineLimitError(
                f"a fact would carry {widest + 4} properties; durable_rules allows 252 (limit here {MAX_PROPERTIES})"
            )

        self.rule_count = len(rules)
        self._name = f"huiqi_{next(_ruleset_ids)}"
        self._handle = _dr.create_ruleset(self._name, json.dumps(rules))

    @staticmethod
    def _validate(specs: Sequence[RuleSpec]) -> None:
        keys: set[str] = set()
        derives: set[str] = set()
        for s in specs:
            if s.key in keys:
                raise ValueError(f"duplicate rule key {s.key!r}")
            keys.add(s.key)
            if s.derives is not None:
                if s.event_type is not None:
                    raise ValueError(f"derived rule {s.key} must be entity-level (event_type None)")
                if s.derives in derives:
                    raise ValueError(f"derived fact {s.derives!r} is defined by more than one rule")
                derives.add(s.derives)

    # -- facts --------------------------------------------------------------------------------------------

    def _encode(self, scope: str, names: Sequence[str], source: Mapping[str, Any], out: dict[str, Any]) -> None:
        schema = self._schema
        for name in names:
            value = source.get(name)
            if value is None:  # missing: durable would treat a null key as present
                continue
            if isinstance(value, float):
                raise TypeError(f"{scope} field {name!r} is a float ({value!r}); pass Decimal or int")
            kind = _kind(value)
            if kind is not None:
                if isinstance(value, Decimal) and not value.is_finite():
                    raise ValueError(f"{scope} field {name!r} is not a finite number: {value!r}")
                for k, prop, lits in schema.scalars_by_field.get((scope, name), ()):
                    if k == kind:
                        out[prop] = _value_code(lits, value)
            elif isinstance(value, (list, tuple, set, frozenset)):
                for lit, prop in schema.contains_by_field.get((scope, name), ()):
                    out[prop] = 1 if lit in value else 0
            elif isinstance(value, datetime):
                raise TypeError(f"{scope} field {name!r} is a datetime; pass a date")
            else:
                raise TypeError(f"{scope} field {name!r} has unsupported type {type(value).__name__}")

    def fire(self, entity: Mapping[str, Any], events: Sequence[tuple[str, Mapping[str, Any]]] = ()) -> Firing:
        """Evaluate every rule for one entity and its events, in a fresh sid that is deleted afterwards."""
        if self._handle is None:
            raise RuntimeError("engine is closed")
        with self._lock:
            sid = str(next(self._sids))  # digits only: quotes/backslashes make a sid undeletable
            facts: list[dict[str, Any]] = []
            ent: dict[str, Any] = {"sid": sid, "t": "E"}
            self._encode("entity", self._entity_fields, entity, ent)
            for g in self._groups["E"]:  # one copy per group of entity patterns
                facts.append({**ent, "id": f"E{g}", "g": g})
            if self._event_tag:
                shared: dict[str, Any] = {}
                self._encode("entity", self._event_entity_fields, entity, shared)
                for i, (etype, ev) in enumerate(events):
                    tag = self._event_tag.get(etype)
                    if tag is None or tag not in self._groups:
                        continue  # no rule for this type
                    fact: dict[str, Any] = {"sid": sid, "t": tag}
                    fact.update(shared)
                    self._encode("event", self._event_fields, ev, fact)
                    for g in self._groups[tag]:
                        facts.append({**fact, "id": f"v{i}_{g}", "g": g})
            return self._run(sid, facts)

    def _run(self, sid: str, facts: list[dict[str, Any]]) -> Firing:
        handle = self._handle
        firing = Firing()
        derived_vals: dict[int, int] = {}
        code, state = _dr.assert_facts(handle, _dumps(facts))
        if code != 0:
            # No action ran in this sid: deleting it could segfault, so it is leaked (cannot happen with the
            # catch-all rules; kept as a guard).
            raise RuntimeError(f"durable_rules refused the facts (code {code})")
        # From here on an action has been queued (the entity always matches "ca"), so delete_state is safe.
        in_action = False
        try:
            result = _dr.start_action_for_state(handle, state)
            message = result[1] if result else None
            while message:
                in_action = True
                # The message is '{"<rule>":{"<alias>":{fact}, ...}}' with facts echoed as we serialised them;
                # slicing beats json.loads (the hot spot). Event facts are the only ids starting with "v".
                rule = message[2 : message.index('"', 2)]
                for kind, what in self._targets.get(rule, ()):
                    if kind == "entity":
                        firing.entity_rules.add(what)
                    elif kind == "event":
                        start = message.index(_EVENT_ID_MARK) + len(_EVENT_ID_MARK)
                        firing.event_rules.add((what, int(message[start : message.index("_", start)])))
                    else:
                        idx, v = what
                        if idx not in derived_vals:
                            derived_vals[idx] = v
                            # Forward chaining: dependants are queued and come out of the loop below.
                            _dr.assert_fact(handle, _dumps({"sid": sid, "id": f"d{idx}", "t": "D", "n": idx, "v": v}))
                        elif derived_vals[idx] != v:
                            raise RuntimeError(f"derived fact {self.derived_names[idx]} came out both true and false")
                message = _dr.complete_and_start_action(handle, state)
                in_action = False
        finally:
            if in_action:
                try:
                    _dr.abandon_action(handle, state)
                except Exception:  # noqa: BLE001 - best effort before deleting the sid
                    pass
            _dr.delete_state(handle, sid)
        firing.derived = {
            name: (None if i not in derived_vals else bool(derived_vals[i])) for i, name in enumerate(self.derived_names)
        }
        return firing

    def close(self) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            _dr.delete_ruleset(handle)

    def __enter__(self) -> DurableEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
