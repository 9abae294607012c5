"""Fuzzing the condition language (engine.conditions.parse_condition).

Invariant: for ANY input, ``parse_condition`` returns a tree whose every name is in the schema, or raises
``ConditionError`` with a bilingual message, within a fraction of a second. Never another exception.
Example counts are in the test names (``_N`` = hypothesis max_examples) and in docs/reliability.md.
"""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import schema
from engine.conditions import MAX_DEPTH, MAX_LENGTH, MAX_NODES, ConditionError, Scope, bind, parse_condition
from engine.logic import truth
from engine.tree import All, AnyOf, AsOf, Compare, Const, Contains, Derived, Field, Not, OneOf, Param, depth, size, walk

EVENT = "intl_trademark_registration"
SCOPE = Scope(EVENT, frozenset({"sme", "hightech_sme"}), {"rate": "rate", "cap": "yuan", "start": "date", "label": "text"})
NO_EVENT = Scope(None, frozenset({"sme"}), {"cap": "yuan"})


def fuzz(n: int):
    """hypothesis settings for n examples; no per-example deadline (CI machines vary), no slow-data health check."""
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


ENTITY_NAMES = [f.name for f in schema.ENTITY_FIELDS]
EVENT_NAMES = [f"event.{f.name}" for f in schema.EVENT_BY_CODE[EVENT].fields + schema.EVENT_COMMON]


HANG_GUARD_S = 3.0  # a pathological input is refused long before this; exponential blow-ups take far longer


def check_result(text: str, scope: Scope):
    """The invariant: a well-formed tree inside the limits, or a ConditionError with both languages. The time
    bounds here are hang guards (a blow-up takes minutes), generous for shared CI machines, not speed measures."""
    started = time.perf_counter()
    try:
        node = parse_condition(text, scope)
    except ConditionError as exc:
        assert exc.message_zh and exc.message_en
        assert time.perf_counter() - started < HANG_GUARD_S
        return None
    assert time.perf_counter() - started < HANG_GUARD_S
    assert depth(node) <= MAX_DEPTH and size(node) <= MAX_NODES
    allowed_events = {f.name for f in schema.EVENT_BY_CODE[scope.event_type].fields + schema.EVENT_COMMON} \
        if scope.event_type else set()
    for n in walk(node):
        assert isinstance(n, (Compare, OneOf, Contains, Derived, Not, All, AnyOf, Const)), n
        if isinstance(n, (Compare, OneOf, Contains)):
            f = n.field
            assert isinstance(f, Field)
            assert (f.scope == "entity" and f.name in schema.ENTITY_BY_NAME) or (f.scope == "event" and f.name in allowed_events)
        if isinstance(n, Derived):
            assert n.name in scope.derived
        if isinstance(n, Compare):
            assert isinstance(n.value, (Decimal, str, bool, date, AsOf, Param)), type(n.value)
            if isinstance(n.value, Param):
                assert n.value.name in scope.params
        if isinstance(n, OneOf):
            assert all(isinstance(v, (Decimal, str, bool, date)) for v in n.values)
    return node


# -- 1. arbitrary text --------------------------------------------------------------------------------

@fuzz(1500)
@given(st.text(max_size=300))
def test_any_unicode_text_1500(text):
    check_result(text, SCOPE)


@fuzz(200)
@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1900, max_size=2100))
def test_text_around_the_length_limit_200(text):
    check_result(text, SCOPE)


# -- 2. grammar-shaped conditions: real names, operators, literals, nesting -------------------------

NUMBERS = st.one_of(
    st.integers(-10**20, 10**20).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=6).map(str),
    st.sampled_from(["1e999999999", "-1e-999999999", "0x1F", "1_000", "1.5e3", "007", "1j", "0.1234567890123456789012345678901234",
                     "9" * 1500, "nan", "inf", "-0", "1e15", "1000000000000001"]),
)
STRINGS = st.one_of(
    st.sampled_from(['"small"', '"小型"', '"沈阳"', '"Dalian"', '"2016-05-01"', '"2016-W01-1"', '"9999-12-31"', '"software"',
                     '"省外"', '""', '"\\x00"', '"\\ud800"', "'''x'''", 'b"x"', 'f"{x}"', 'r"\\d"']),
    st.text(max_size=20).map(repr),
)
ATOMS = st.one_of(
    st.sampled_from(ENTITY_NAMES + EVENT_NAMES + ["sme", "hightech_sme", "as_of", "true", "false", "True", "None",
                                                  "params.rate", "params.cap", "params.start", "params.label", "params.nope",
                                                  "event.__class__", "event", "params", "_x", "event.cost.real", "x"]),
    NUMBERS, STRINGS,
)
OPS = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not", "+", "*", "//", "**", "@", "and", "or"])


def expressions():
    def extend(inner):
        return st.one_of(
            st.tuples(inner, OPS, inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            inner.map(lambda s: f"not {s}"),
            inner.map(lambda s: f"({s})"),
            st.lists(inner, min_size=0, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.tuples(inner, st.lists(inner, max_size=3)).map(lambda t: f"{t[0]} in [{', '.join(t[1])}]"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
            inner.map(lambda s: f"-{s}"),
        )
    return st.recursive(ATOMS, extend, max_leaves=12)


@fuzz(2000)
@given(expressions(), st.booleans())
def test_grammar_shaped_conditions_2000(text, with_event):
    node = check_result(text, SCOPE if with_event else NO_EVENT)
    if node is not None:
        # A tree that loads binds and evaluates without error on an empty entity (everything unknown).
        bound = bind(node, lambda name: None, date(2019, 12, 31))
        assert truth(bound, {}, {} if with_event else None, {}) in (True, False, None)


@fuzz(300)
@given(st.lists(st.sampled_from(["employees > 5", "high_tech", 'city == "沈阳"', "not exporter", "sme",
                                 'size_class in ["small", "micro"]', '"software" in key_industries', "event.cost >= 100"]),
                min_size=1, max_size=40),
       st.lists(st.sampled_from([" and ", " or "]), min_size=40, max_size=40),
       st.integers(0, 30))
def test_long_and_or_chains_with_nesting_300(parts, joins, parens):
    text = parts[0]
    for part, join in zip(parts[1:], joins):
        text = text + join + part
    text = "(" * parens + text + ")" * parens
    node = check_result(text, SCOPE)
    if parens > MAX_DEPTH:
        assert node is None


# -- 3. deep nesting and huge inputs: rejected before ast.parse, quickly -------------------------------

@pytest.mark.parametrize("n", [300, 1_000, 100_000, 1_000_000])
@pytest.mark.parametrize("shape", [
    lambda n: "(" * n + "high_tech" + ")" * n,
    lambda n: "not " * n + "high_tech",
    lambda n: "employees > " + "-" * n + "1",
    lambda n: "[" * n + "]" * n,
    lambda n: "{" * n + "}" * n,
    lambda n: " and ".join(["high_tech"] * n),
    lambda n: "employees > " + "9" * n,
    lambda n: "a." * n + "b",
    lambda n: "x" * n,
    lambda n: "high_tech " + "== true " * n,
], ids=["parens", "not", "unary-minus", "brackets", "braces", "and-chain", "digits", "attr-chain", "name", "chained-compare"])
def test_deep_and_huge_inputs_rejected_quickly(shape, n):
    text = shape(n)
    started = time.perf_counter()
    with pytest.raises(ConditionError):
        parse_condition(text, SCOPE)
    assert time.perf_counter() - started < HANG_GUARD_S


def test_ten_megabyte_condition_and_100k_parentheses_fail_fast_with_a_clear_message():
    started = time.perf_counter()
    with pytest.raises(ConditionError, match=f"over {MAX_LENGTH} characters"):
        parse_condition("a" * 10_000_000, SCOPE)
    with pytest.raises(ConditionError, match=f"over {MAX_LENGTH} characters"):
        parse_condition("(" * 100_000 + "high_tech" + ")" * 100_000, SCOPE)
    with pytest.raises(ConditionError, match="nested too deeply"):
        parse_condition("(" * 30 + "high_tech" + ")" * 30, SCOPE)
    assert time.perf_counter() - started < HANG_GUARD_S


# -- 4. huge and odd numbers: exact or a clear error ----------------------------------------------------

@fuzz(800)
@given(st.one_of(st.integers(-10**40, 10**40), st.decimals(allow_nan=False, allow_infinity=False)))
def test_numeric_literals_are_exact_or_out_of_range_800(number):
    text = f"employees >= {number}"
    try:
        node = parse_condition(text, NO_EVENT)
    except ConditionError as exc:
        assert "number" in exc.message_en or "cannot read" in exc.message_en
        return
    assert isinstance(node, Compare) and node.value == Decimal(str(number)) and abs(node.value) <= Decimal("1e15")


def test_negative_literals_keep_every_digit():
    node = parse_condition("revenue_wan > -0.1234567890123456789012345678901234", NO_EVENT)
    assert node.value == Decimal("-0.1234567890123456789012345678901234")


@pytest.mark.parametrize("literal", ["1e999999999", "-1e999999999", "1e-999999999", "9" * 1999, "1" + "0" * 16])
def test_extreme_exponents_are_clear_errors_or_exact(literal):
    text = f"employees > {literal}"[:MAX_LENGTH]
    try:
        node = parse_condition(text, NO_EVENT)
    except ConditionError as exc:
        assert "number" in exc.message_en
    else:
        assert node.value == Decimal(text.split("> ")[1])
