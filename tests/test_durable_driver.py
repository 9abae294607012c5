"""Tests for engine.durable_driver: one per durable_rules hazard, plus agreement with engine.logic.truth."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.durable_driver import DurableEngine, EngineLimitError, RuleSpec
from engine.logic import truth
from engine.tree import All, AnyOf, Compare, Const, Contains, Derived, Field, Not, OneOf


def ent(name: str) -> Field:
    return Field("entity", name)


def evf(name: str) -> Field:
    return Field("event", name)


def test_facts_not_events_every_matching_rule_fires():
    # post() would hand an event to the first matching rule only; facts reach every rule.
    specs = [
        RuleSpec("r1", Compare(evf("amount"), ">", D(10)), "grant"),
        RuleSpec("r2", Compare(evf("amount"), ">", D(5)), "grant"),
        RuleSpec("r3", Compare(ent("size"), "==", "small"), None),
        RuleSpec("r4", OneOf(ent("size"), ("small", "micro")), None),
    ]
    with DurableEngine(specs) as eng:
        f = eng.fire({"size": "small"}, [("grant", {"amount": D(11)})])
    assert f.event_rules == {("r1", 0), ("r2", 0)}
    assert f.entity_rules == {"r3", "r4"}


def test_missing_field_not_fired_and_not_of_missing_not_fired():
    specs = [
        RuleSpec("pos", Compare(ent("x"), "==", D(1)), None),
        RuleSpec("neg", Not(Compare(ent("x"), "==", D(1))), None),
        RuleSpec("neq", Compare(ent("x"), "!=", D(1)), None),
        RuleSpec("notin", OneOf(ent("x"), (D(1), D(2)), negated=True), None),
        RuleSpec("notcontains", Contains(ent("tags"), "a", negated=True), None),
        RuleSpec("ev_neg", Not(Compare(evf("y"), "<", D(3))), "e"),
    ]
    with DurableEngine(specs) as eng:
        f = eng.fire({}, [("e", {})])
        assert f.entity_rules == set() and f.event_rules == set()
        f = eng.fire({"x": D(2), "tags": ["b"]}, [("e", {"y": D(3)})])
        assert f.entity_rules == {"neg", "neq", "notcontains"}
        assert f.event_rules == {("ev_neg", 0)}


def test_none_values_dropped():
    # durable treats a key whose value is null as present; None must mean "missing".
    specs = [
        RuleSpec("ne", Compare(ent("x"), "!=", D(1)), None),
        RuleSpec("ev_ne", Compare(evf("y"), "!=", "a"), "e"),
    ]
    with DurableEngine(specs) as eng:
        f = eng.fire({"x": None}, [("e", {"y": None})])
    assert f.entity_rules == set() and f.event_rules == set()


def test_loose_coercion_cannot_match():
    # durable says "1" == 1 and true == 1; types go to separate properties here.
    specs = [
        RuleSpec("num_eq_1", Compare(ent("x"), "==", D(1)), None),
        RuleSpec("str_eq_1", Compare(ent("s"), "==", "1"), None),
        RuleSpec("bool_true", Compare(ent("b"), "==", True), None),
        RuleSpec("str_gt_5", Compare(ent("x"), ">", D(5)), None),
    ]
    with DurableEngine(specs) as eng:
        assert eng.fire({"x": "1", "s": 1, "b": 1}).entity_rules == set()
        assert eng.fire({"x": True}).entity_rules == set()
        assert eng.fire({"x": "abc"}).entity_rules == set()
        assert eng.fire({"x": D(1), "s": "1", "b": True}).entity_rules == {"num_eq_1", "str_eq_1", "bool_true"}


def test_numbers_exact():
    specs = [
        RuleSpec("sum_eq", Compare(ent("x"), "==", D("0.3")), None),
        RuleSpec("big_ge", Compare(ent("money"), ">=", D("100000000000")), None),  # 10^11 yuan
        RuleSpec("big_lt", Compare(ent("money"), "<", D("100000000000.01")), None),
        RuleSpec("tiny_gt", Compare(ent("rate"), ">", D("0.00001")), None),
        RuleSpec("tiny_le", Compare(ent("rate"), "<=", D("0.000010000001")), None),
    ]
    with DurableEngine(specs) as eng:
        f = eng.fire({"x": D("0.1") + D("0.1") + D("0.1"), "money": 10**11, "rate": D("0.0000100000001")})
        assert f.entity_rules == {"sum_eq", "big_ge", "big_lt", "tiny_gt", "tiny_le"}
        f = eng.fire({"x": D("0.30000001"), "money": D("99999999999.999"), "rate": D("0.00001")})
        assert f.entity_rules == {"big_lt", "tiny_le"}
        f = eng.fire({"money": D("100000000000.01"), "rate": D("0.0000100000011")})
        assert f.entity_rules == {"big_ge", "tiny_gt"}
        f = eng.fire({"money": D(10) ** 40})  # far beyond int64: codes are ranks, never raw magnitudes
        assert f.entity_rules == {"big_ge"}
        with pytest.raises(TypeError, match="money"):
            eng.fire({"money": 1e11})


def test_profile_matching_no_rule_does_not_crash():
    # delete_state on a sid where no action ran can segfault: the catch-all rule runs one per fire().
    specs = [RuleSpec("r", Compare(ent("x"), ">", D(100)), None), RuleSpec("e", Const(False), "grant")]
    with DurableEngine(specs) as eng:
        for _ in range(50):
            f = eng.fire({"unrelated": 1}, [("grant", {}), ("other", {"z": 1})])
            assert f.entity_rules == set() and f.event_rules == set() and f.derived == {}
    with DurableEngine([]) as eng:
        assert eng.fire({}).entity_rules == set()


def test_sid_limit_2000_fires_in_a_row():
    # At most 1024 live sids per ruleset: each fire() deletes its sid.
    specs = [RuleSpec("r", Compare(ent("x"), ">", D(0)), None), RuleSpec("e", Compare(evf("y"), "==", "a"), "t")]
    with DurableEngine(specs) as eng:
        for i in range(2000):
            f = eng.fire({"x": D(i % 2)}, [("t", {"y": "a"})])
            assert f.entity_rules == ({"r"} if i % 2 else set())
            assert f.event_rules == {("e", 0)}


def test_identical_events_both_fire():
    specs = [RuleSpec("e", Compare(evf("amount"), ">=", D(1)), "grant")]
    with DurableEngine(specs) as eng:
        ev = {"amount": D(5)}
        f = eng.fire({}, [("grant", ev), ("grant", dict(ev)), ("grant", ev)])
    assert f.event_rules == {("e", 0), ("e", 1), ("e", 2)}


def test_derived_forward_chaining():
    specs = [
        # given in reverse dependency order on purpose
        RuleSpec("needs_sme_hightech", All((Derived("sme_hightech"), Compare(evf("amount"), ">", D(0)))), "grant"),
        RuleSpec("not_sme", Not(Derived("sme")), None),
        RuleSpec("rule.sme-hightech", All((Derived("sme"), Compare(ent("hightech"), "==", True))), None, derives="sme_hightech"),
        RuleSpec("rule.sme", Compare(ent("employees"), "<", D(300)), None, derives="sme"),
    ]
    with DurableEngine(specs) as eng:
        f = eng.fire({"employees": D(10), "hightech": True}, [("grant", {"amount": D(1)})])
        assert f.derived == {"sme": True, "sme_hightech": True}
        assert f.event_rules == {("needs_sme_hightech", 0)} and f.entity_rules == set()
        f = eng.fire({"employees": D(500), "hightech": True}, [("grant", {"amount": D(1)})])
        assert f.derived == {"sme": False, "sme_hightech": False}
        assert f.entity_rules == {"not_sme"} and f.event_rules == set()


def test_derived_undetermined_is_none():
    specs = [
        RuleSpec("d.sme", Compare(ent("employees"), "<", D(300)), None, derives="sme"),
        RuleSpec("d.both", AnyOf((Derived("sme"), Compare(ent("x"), "==", D(1)))), None, derives="both"),
        RuleSpec("is", Derived("sme"), None),
        RuleSpec("isnt", Not(Derived("sme")), None),
    ]
    with DurableEngine(specs) as eng:
        f = eng.fire({})
        assert f.derived == {"sme": None, "both": None} and f.entity_rules == set()
        f = eng.fire({"x": D(1)})  # unknown OR true = true
        assert f.derived == {"sme": None, "both": True}


def test_derived_cycle_and_unknown_raise():
    with pytest.raises(ValueError, match="cycle"):
        DurableEngine([RuleSpec("a", Derived("b"), None, derives="a"), RuleSpec("b", Derived("a"), None, derives="b")])
    with pytest.raises(ValueError, match="no rule derives"):
        DurableEngine([RuleSpec("a", Derived("nope"), None)])


def test_contains_on_list_fields():
    specs = [
        RuleSpec("sw", Contains(ent("key_industries"), "software"), None),
        RuleSpec("not_bio", Contains(ent("key_industries"), "biotech", negated=True), None),
        RuleSpec("ev_tag", Contains(evf("tags"), "export"), "grant"),
    ]
    with DurableEngine(specs) as eng:
        f = eng.fire({"key_industries": ["software", "ai"]}, [("grant", {"tags": ["export"]}), ("grant", {"tags": []})])
        assert f.entity_rules == {"sw", "not_bio"} and f.event_rules == {("ev_tag", 0)}
        assert eng.fire({"key_industries": ["biotech"]}).entity_rules == set()
        assert eng.fire({"key_industries": []}).entity_rules == {"not_bio"}


def test_engine_limit_600_rules_first_condition_differs():
    # 512 distinct conditions under one alpha node hang durable forever holding the GIL. Separate rules are
    # packed into groups (one fact copy per group) so each node stays below the limit ...
    specs = [RuleSpec(f"r{i}", Compare(ent("x"), "==", D(i)), None) for i in range(600)]
    start = time.monotonic()
    with DurableEngine(specs) as eng:
        assert len(eng._groups["E"]) == 2
        assert eng.fire({"x": D(599)}).entity_rules == {"r599"}
        assert eng.fire({"x": D(3)}).entity_rules == {"r3"}
    # ... but 600 alternatives under one condition prefix inside one rule cannot be split: refuse, quickly.
    one = All((Compare(ent("y"), ">", D(0)), OneOf(ent("x"), tuple(D(i) for i in range(600)))))
    with pytest.raises(EngineLimitError, match="hangs at 512"):
        DurableEngine([RuleSpec("wide", one, None)])
    assert time.monotonic() - start < 5


def test_engine_limit_too_many_simultaneous_matches():
    # 65 sibling conditions that can all match one fact overflow durable's matcher stack (error 303,
    # found in events.c: MAX_STACK_SIZE 64). Separate rules are grouped; a too-wide nested "or" is refused.
    specs = [RuleSpec(f"r{i}", Compare(ent("x"), ">", D(i)), None) for i in range(70)]
    specs.append(RuleSpec("or70", AnyOf(tuple(Compare(ent("z"), ">", D(i)) for i in range(70))), None))
    with DurableEngine(specs) as eng:
        assert eng.fire({"x": D(1000), "z": D(1000)}).entity_rules == {f"r{i}" for i in range(70)} | {"or70"}
    nested = All((Compare(ent("y"), "==", D(1)), AnyOf(tuple(Compare(ent("x"), ">", D(i)) for i in range(70)))))
    with pytest.raises(EngineLimitError, match="at the same time"):
        DurableEngine([RuleSpec("nested", nested, None)])


def test_engine_limit_identical_condition_chains():
    # >256 patterns ending on one identical condition chain: error 108.
    specs = [RuleSpec(f"r{i}", Compare(evf("x"), ">", D(i % 2)), f"t{i}") for i in range(2)]
    specs += [RuleSpec(f"d{i}", Derived("sme"), None) for i in range(300)]
    specs += [RuleSpec("sme", Compare(ent("x"), "==", D(1)), None, derives="sme")]
    # identical trees compile to one durable rule, so this is fine ...
    with DurableEngine(specs) as eng:
        assert len(eng.fire({"x": D(1)}).entity_rules) == 300
    # ... but 300 different rules all joining the same derived fact are refused
    specs = [RuleSpec(f"d{i}", All((Derived("sme"), Compare(ent("y"), "==", D(i)))), None) for i in range(300)]
    specs += [RuleSpec("sme", Compare(ent("x"), "==", D(1)), None, derives="sme")]
    with pytest.raises(EngineLimitError, match="identical condition chain"):
        DurableEngine(specs)


def test_engine_limit_deep_condition_is_split_or_refused():
    # durable allows 31 entries per expression sequence; each and/or group takes two.
    wide_or = AnyOf(tuple(All((Compare(ent("a"), ">", D(i)), OneOf(ent("b"), ("x", "y")))) for i in range(20)))
    with DurableEngine([RuleSpec("w", wide_or, None)]) as eng:  # top-level OR: split into several rules
        assert eng.fire({"a": D(5), "b": "y"}).entity_rules == {"w"}
        assert eng.fire({"a": D(0), "b": "y"}).entity_rules == set()
    deep = All(tuple(OneOf(ent(f"f{i}"), ("x", "y")) for i in range(20)))
    with pytest.raises(EngineLimitError, match="nested and/or"):
        DurableEngine([RuleSpec("deep", deep, None)])


def test_rule_keys_and_event_types_with_punctuation():
    specs = [
        RuleSpec("ln2015.trademark.intl-subsidy", Compare(evf("n"), ">=", D(1)), "trademark.intl-reg"),
        RuleSpec('q"uote\\key', Compare(ent("v"), "==", 'a"b\\c'), None),
    ]
    with DurableEngine(specs) as eng:
        f = eng.fire({"v": 'a"b\\c'}, [("trademark.intl-reg", {"n": D(2)})])
    assert f.event_rules == {("ln2015.trademark.intl-subsidy", 0)} and f.entity_rules == {'q"uote\\key'}


def test_close_and_context_manager():
    eng = DurableEngine([RuleSpec("r", Const(True), None)])
    assert eng.fire({}).entity_rules == {"r"}
    eng.close()
    eng.close()
    with pytest.raises(RuntimeError):
        eng.fire({})


# --- property test: agreement with engine.logic.truth -----------------------------------------------------

ENTITY_SCHEMA = {
    "flag": st.booleans(),
    "amount": st.sampled_from([D(0), D("0.5"), D(1), D("1.00001"), D(2), D(-3), D(10) ** 12]),
    "size": st.sampled_from(["small", "micro", "large", "", 'q"x']),
    "founded": st.sampled_from([date(2010, 1, 1), date(2015, 6, 30), date(2020, 2, 29)]),
    "inds": st.lists(st.sampled_from(["sw", "bio", "ai"]), max_size=3),
}
EVENT_SCHEMA = {
    "amount": st.sampled_from([D(0), D("0.25"), D(1), D(100), D("99.999")]),
    "kind": st.sampled_from(["a", "b", "c"]),
    "day": st.sampled_from([date(2019, 1, 1), date(2021, 1, 1)]),
}
LITERALS = {
    "flag": st.booleans(),
    "amount": st.sampled_from([D(0), D("0.5"), D(1), D(2), D("1.000005"), D(100)]),
    "size": st.sampled_from(["small", "micro", "large", "a"]),
    "founded": st.sampled_from([date(2010, 1, 1), date(2015, 1, 1), date(2020, 2, 29)]),
    "kind": st.sampled_from(["a", "b", "z"]),
    "day": st.sampled_from([date(2019, 1, 1), date(2020, 1, 1)]),
}
OPS = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])


def leaves(event_ok: bool, derived: list[str]):
    scalar = [("entity", n) for n in ("flag", "amount", "size", "founded")]
    if event_ok:
        scalar += [("event", n) for n in ("amount", "kind", "day")]

    @st.composite
    def compare(draw):
        scope, name = draw(st.sampled_from(scalar))
        return Compare(Field(scope, name), draw(OPS), draw(LITERALS[name]))

    @st.composite
    def one_of(draw):
        scope, name = draw(st.sampled_from(scalar))
        values = tuple(draw(st.lists(LITERALS[name], min_size=1, max_size=3)))
        return OneOf(Field(scope, name), values, draw(st.booleans()))

    options = [
        compare(),
        one_of(),
        st.builds(Contains, st.just(ent("inds")), st.sampled_from(["sw", "bio", "ai"]), st.booleans()),
        st.builds(Const, st.booleans()),
    ]
    if derived:
        options.append(st.builds(Derived, st.sampled_from(derived)))
    return st.one_of(*options)


def trees(event_ok: bool, derived: list[str]):
    return st.recursive(
        leaves(event_ok, derived),
        lambda kids: st.one_of(
            st.builds(Not, kids),
            st.builds(All, st.lists(kids, min_size=1, max_size=3).map(tuple)),
            st.builds(AnyOf, st.lists(kids, min_size=1, max_size=3).map(tuple)),
        ),
        max_leaves=5,
    )


@st.composite
def rule_sets(draw):
    specs = []
    names: list[str] = []
    for i in range(draw(st.integers(0, 3))):
        specs.append(RuleSpec(f"d.{i}", draw(trees(False, list(names))), None, derives=f"d{i}"))
        names.append(f"d{i}")
    for i in range(draw(st.integers(1, 4))):
        specs.append(RuleSpec(f"ent.{i}", draw(trees(False, names)), None))
    for i in range(draw(st.integers(0, 3))):
        specs.append(RuleSpec(f"ev.{i}", draw(trees(True, names)), draw(st.sampled_from(["A", "B"]))))
    draw(st.randoms()).shuffle(specs)  # derived rules in any order
    return specs


def records(schema):
    return st.fixed_dictionaries({}, optional={k: st.one_of(st.none(), v) for k, v in schema.items()})


def reference(specs, entity, events):
    derived: dict[str, bool | None] = {}
    pending = [s for s in specs if s.derives]
    while pending:  # the generator only lets d_i refer to d_j, j < i
        pending.sort(key=lambda s: s.derives)
        s = pending.pop(0)
        derived[s.derives] = truth(s.tree, entity, None, derived)
    ents = {s.key for s in specs if not s.derives and s.event_type is None and truth(s.tree, entity, None, derived) is True}
    evs = {
        (s.key, i)
        for s in specs
        if s.event_type is not None
        for i, (etype, ev) in enumerate(events)
        if etype == s.event_type and truth(s.tree, entity, ev, derived) is True
    }
    return ents, evs, derived


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=rule_sets(),
    entities=st.lists(records(ENTITY_SCHEMA), min_size=1, max_size=3),
    events=st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), records(EVENT_SCHEMA)), max_size=4),
)
def test_agrees_with_reference_truth(specs, entities, events):
    with DurableEngine(specs) as eng:
        for entity in entities:
            got = eng.fire(entity, events)
            ents, evs, derived = reference(specs, entity, events)
            assert got.entity_rules == ents
            assert got.event_rules == evs
            assert got.derived == derived
