"""Evaluation semantics on small, exact rule sets: amounts, windows, paid-once, three-valued logic, exclusions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rulekit import RATE_PARAMETER, document, profile, rule, write_rules

from engine import evaluate, load_rules

TRADEMARK = """
kind = "benefit"
event = "intl_trademark_registration"
conditions = ["entity_kind == 'enterprise'"]
tags = ["subsidy"]
amount = { form = "rate", base = "event.cost", rate = "params.rate" }
"""
CAPPED = TRADEMARK.replace('rate = "params.rate" }', 'rate = "params.rate", cap = 50000 }')
AWARD = """
kind = "benefit"
event = "well_known_trademark"
tags = ["award"]
amount = { form = "fixed", value = 500000 }
"""
FEES = """
kind = "benefit"
event = "invention_patent_grant"
conditions = ["sme"]
amount = { form = "actual", base = ["event.application_fee_paid", "event.examination_fee_paid"] }
"""
SME = """
kind = "derived"
conditions = ["size_class in ['medium', 'small', 'micro']"]
"""
PLEDGE = """
kind = "benefit"
conditions = ["high_tech or specialized_sme", "owns_ip"]
amount = { form = "none" }
"""
BLACKLIST = """
kind = "exclusion"
conditions = ["blacklisted", "blacklisted_on <= as_of"]
withholds = ["tag:award", "tag:subsidy"]
"""
SHARE = """
kind = "requirement"
event = "invention_transfer"
territory = "conditions"
conditions = ["entity_kind in ['university', 'research_institute']", "event.implementing_city == '阜新市'"]
floor = { base = "event.net_income", rate = 0.70, actual = "event.inventor_reward" }
"""

BACKENDS = ["durable", "python"]


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rules")
    old = document("old", start="2012-06-28", end="2015-12-31") + rule("old.award", AWARD, "驰名商标奖励（旧）")
    new = (document("new") + RATE_PARAMETER + rule("sme", SME, "中小微企业", "SME", cite=False)
           + rule("new.award", AWARD + 'supersedes = ["old.award"]', "驰名商标奖励", "Well-known trademark award")
           + rule("new.trademark", TRADEMARK, "商标国际注册补助", "International trademark registration subsidy")
           + rule("new.fees", FEES, "发明专利费用补助") + rule("new.pledge", PLEDGE, "质押融资支持")
           + rule("new.blacklist", BLACKLIST, "黑名单"))
    fuxin = document("fx", jurisdiction="阜新市", start="2017-01-01") + rule("fx.share", SHARE, "完成人奖励比例") + rule(
        "fx.fund", 'kind = "benefit"\nconditions = ["ip_advantage_level in [\'provincial\', \'national\']"]\namount = { form = "none" }',
        "优势企业资助")
    return load_rules(write_rules(folder, old, new, fuxin))


def lines(result, rule_id):
    return [b.amount for b in result.benefits if b.rule_id == rule_id]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cost, when, expected", [
    ("12345.67", "2016-05-01", "8641.97"),     # 8,641.969 → half-up
    ("0.15", "2016-05-01", "0.11"),            # 0.105 → 0.11 half-up (banker's rounding would give 0.10)
    ("10000", "2017-12-31", "7000.00"),        # last day of the 70% step
    ("10000", "2018-01-01", "8000.00"),        # first day of the 80% step
    ("0", "2016-05-01", "0.00"),
])
def test_rate_amounts(rules, backend, cost, when, expected):
    p = profile(entity_kind="enterprise", events=[{"type": "intl_trademark_registration", "date": when, "cost": cost}])
    result = evaluate(p, date(2020, 12, 31), rules, backend=backend)
    assert lines(result, "new.trademark") == [Decimal(expected)]
    assert result.total == Decimal(expected)


def test_calculation_is_shown(rules):
    p = profile(entity_kind="enterprise", events=[{"type": "商标国际注册", "date": "2016-05-01", "费用": "12,345.67元"}])
    line = evaluate(p, date(2020, 12, 31), rules).benefit("new.trademark")[0]
    assert line.calculation == "12,345.67 × 70% = 8,641.97"
    assert line.source.quote == "对企业商标国际注册给予70%补助" and line.departments == ["省知识产权局"]


def test_cap(tmp_path):
    folder = write_rules(tmp_path / "r", document() + RATE_PARAMETER + rule("t", CAPPED))
    p = profile(entity_kind="enterprise", events=[{"type": "intl_trademark_registration", "date": "2019-01-01", "cost": 100000}])
    line = evaluate(p, date(2020, 1, 1), folder).benefits[0]
    assert line.amount == Decimal("50000.00")
    assert line.calculation == "min(100,000.00 × 80% = 80,000.00, 50,000.00) = 50,000.00"


@pytest.mark.parametrize("backend", BACKENDS)
def test_actual_fees_and_fixed_award(rules, backend):
    p = profile(entity_kind="enterprise", size_class="small", events=[
        {"type": "invention_patent_grant", "date": "2017-03-01", "application_fee_paid": 135, "examination_fee_paid": 375},
        {"type": "well_known_trademark", "date": "2016-05-10"}])
    result = evaluate(p, date(2017, 12, 31), rules, backend=backend)
    assert lines(result, "new.fees") == [Decimal("510.00")]
    assert result.benefit("new.fees")[0].calculation == "135.00 + 375.00 = 510.00"
    assert lines(result, "new.award") == [Decimal("500000.00")]
    assert result.total == Decimal("500510.00")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("when, counted", [
    ("2014-12-31", False), ("2015-01-01", True), ("2020-12-31", True), ("2021-01-01", False)])
def test_event_windows_at_their_edges(rules, backend, when, counted):
    p = profile(entity_kind="enterprise", events=[{"type": "intl_trademark_registration", "date": when, "cost": 100}])
    result = evaluate(p, date(2022, 1, 1), rules, backend=backend)
    assert bool(lines(result, "new.trademark")) == counted


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("as_of, in_force", [
    (date(2014, 12, 31), False), (date(2015, 1, 1), True), (date(2020, 12, 31), True), (date(2021, 1, 1), False)])
def test_entity_rule_window_uses_as_of(rules, backend, as_of, in_force):
    p = profile(high_tech=True, owns_ip=True)
    assert bool(lines(evaluate(p, as_of, rules, backend=backend), "new.pledge")) == in_force


def test_event_after_as_of_is_ignored_and_listed(rules):
    p = profile(entity_kind="enterprise", events=[{"type": "intl_trademark_registration", "date": "2016-05-02", "cost": 100}])
    result = evaluate(p, date(2016, 5, 1), rules)
    assert result.benefits == [] and len(result.ignored_events) == 1
    assert "2016-05-02" in result.ignored_events[0].reason_zh


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_event_paid_once_in_overlap(rules, backend):
    p = profile(events=[{"type": "well_known_trademark", "date": "2015-06-01", "ref": "TM-1"}])
    result = evaluate(p, date(2019, 12, 31), rules, backend=backend)
    assert [b.rule_id for b in result.benefits] == ["new.award"]
    assert result.total == Decimal("500000.00")
    assert [(s.line.rule_id, s.by_rule_id) for s in result.superseded] == [("old.award", "new.award")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_old_document_still_pays_before_the_overlap(rules, backend):
    p = profile(events=[{"type": "well_known_trademark", "date": "2013-05-10"},
                        {"type": "well_known_trademark", "date": "2016-05-10"}])
    result = evaluate(p, date(2019, 12, 31), rules, backend=backend)
    assert sorted(b.rule_id for b in result.benefits) == ["new.award", "old.award"]
    assert result.superseded == [] and result.total == Decimal("1000000.00")


@pytest.mark.parametrize("backend", BACKENDS)
def test_missing_fact_is_undetermined_not_false(rules, backend):
    p = profile(events=[{"type": "intl_trademark_registration", "date": "2016-05-01", "cost": 100}])
    result = evaluate(p, date(2019, 12, 31), rules, backend=backend)
    assert result.benefits == []
    [u] = [u for u in result.undetermined if u.rule_id == "new.trademark"]
    assert [m.field for m in u.missing] == ["entity_kind"] and u.missing[0].label_zh == "主体类型"


def test_missing_amount_fact_is_undetermined(rules):
    p = profile(entity_kind="enterprise", events=[{"type": "intl_trademark_registration", "date": "2016-05-01"}])
    [u] = [u for u in evaluate(p, date(2019, 12, 31), rules).undetermined if u.rule_id == "new.trademark"]
    assert [m.field for m in u.missing] == ["event.cost"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_or_with_one_true_side_decides_despite_missing(rules, backend):
    p = profile(high_tech=True, owns_ip=True)   # specialized_sme missing
    assert lines(evaluate(p, date(2019, 1, 1), rules, backend=backend), "new.pledge") == [None]


@pytest.mark.parametrize("backend", BACKENDS)
def test_derived_fact_missing_makes_dependent_undetermined(rules, backend):
    p = profile(events=[{"type": "invention_patent_grant", "date": "2017-03-01", "application_fee_paid": 135,
                         "examination_fee_paid": 375}])
    result = evaluate(p, date(2019, 1, 1), rules, backend=backend)
    [u] = [u for u in result.undetermined if u.rule_id == "new.fees"]
    assert [m.field for m in u.missing] == ["size_class"] and result.derived["sme"] == "unknown"


def test_near_miss_names_the_one_failed_condition(rules):
    p = profile(high_tech=True, owns_ip=False)
    result = evaluate(p, date(2019, 1, 1), rules)
    [miss] = [m for m in result.near_misses if m.rule_id == "new.pledge"]
    assert miss.failed.expression == "owns_ip" and miss.failed.values == {"owns_ip": "否"}
    assert miss.failed.description_en == "owns IP: yes"


@pytest.mark.parametrize("backend", BACKENDS)
def test_exclusion_withholds_and_says_why(rules, backend):
    p = profile(entity_kind="enterprise", blacklisted=True, blacklisted_on="2018-03-01",
                events=[{"type": "well_known_trademark", "date": "2016-05-10"},
                        {"type": "intl_trademark_registration", "date": "2016-05-01", "cost": 100}])
    result = evaluate(p, date(2019, 12, 31), rules, backend=backend)
    assert result.benefits == [] and result.total == 0
    assert sorted((w.line.rule_id, w.exclusion.rule_id) for w in result.withheld) == [
        ("new.award", "new.blacklist"), ("new.trademark", "new.blacklist")]
    assert "列入侵权失信名单：是" in result.withheld[0].reason_zh


def test_exclusion_dated_after_as_of_does_not_apply(rules):
    p = profile(blacklisted=True, blacklisted_on="2020-03-01", events=[{"type": "well_known_trademark", "date": "2016-05-10"}])
    assert lines(evaluate(p, date(2019, 12, 31), rules), "new.award") == [Decimal("500000.00")]


def test_unknown_exclusion_keeps_the_benefit_with_a_caveat(rules):
    p = profile(events=[{"type": "well_known_trademark", "date": "2016-05-10"}])
    [line] = evaluate(p, date(2019, 12, 31), rules).benefits
    assert line.amount == Decimal("500000.00") and "new.blacklist" in line.caveats_zh[0]
    assert "on the infringement blacklist" in line.caveats_en[0]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reward, status, shortfall", [
    ("70000.00", "met", "0.00"), ("69999.99", "violated", "0.01"), ("50000", "violated", "20000.00"),
    ("69999.995", "met", "0.00"),  # the reward counts as 70,000.00 once rounded to the fen
])
def test_requirement_floor_at_exactly_70_percent(rules, backend, reward, status, shortfall):
    p = profile(city="沈阳市", entity_kind="university", events=[{
        "type": "invention_transfer", "date": "2018-01-01", "mode": "transfer", "implementing_city": "阜新",
        "net_income": "100,000", "inventor_reward": reward}])
    [r] = evaluate(p, date(2019, 12, 31), rules, backend=backend).requirements
    assert (r.status, r.floor, r.shortfall) == (status, Decimal("70000.00"), Decimal(shortfall))


@pytest.mark.parametrize("backend", BACKENDS)
def test_city_document_applies_only_in_its_city(rules, backend):
    inside = profile(city="阜新", ip_advantage_level="省级")
    outside = profile(city="铁岭市", ip_advantage_level="省级")
    assert lines(evaluate(inside, date(2019, 1, 1), rules, backend=backend), "fx.fund") == [None]
    assert lines(evaluate(outside, date(2019, 1, 1), rules, backend=backend), "fx.fund") == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_profile_that_matches_no_rule(rules, backend):
    result = evaluate(profile(city="葫芦岛市"), date(2019, 1, 1), rules, backend=backend)
    assert result.benefits == [] and result.requirements == [] and result.total == 0


def test_two_thousand_evaluations_in_one_process(rules):
    # durable_rules allows at most 1024 live sessions per rule set: each evaluation must free its own.
    p = profile(entity_kind="enterprise", events=[{"type": "intl_trademark_registration", "date": "2016-05-01", "cost": 1000}])
    totals = {evaluate(p, date(2019, 12, 31), rules).total for _ in range(2000)}
    assert totals == {Decimal("700.00")}


def test_same_input_same_bytes(rules):
    p = profile(entity_kind="enterprise", size_class="small", events=[
        {"type": "intl_trademark_registration", "date": "2016-05-01", "cost": 1000},
        {"type": "well_known_trademark", "date": "2015-06-01"}])
    first = evaluate(p, date(2019, 12, 31), rules, explain=True).to_json(traces=True)
    again = evaluate(dict(p), date(2019, 12, 31), load_rules(rules.root), explain=True).to_json(traces=True)
    assert first == again and rules.fingerprint in first


@settings(max_examples=200, deadline=None)
@given(cost=st.decimals(min_value=0, max_value=10**9, places=2), day=st.dates(date(2015, 1, 1), date(2020, 12, 31)))
def test_subsidy_never_exceeds_cost_and_is_in_fen(rules, cost, day):
    p = profile(entity_kind="enterprise", events=[{"type": "intl_trademark_registration", "date": day, "cost": cost}])
    [amount] = lines(evaluate(p, date(2021, 1, 1), rules, backend="python"), "new.trademark")
    assert 0 <= amount <= cost
    assert amount == amount.quantize(Decimal("0.01"))
    rate = Decimal("0.70") if day < date(2018, 1, 1) else Decimal("0.80")
    assert abs(amount - cost * rate) <= Decimal("0.005")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("condition", ["invention_patents_held < params.threshold",
                                       "not (invention_patents_held >= params.threshold)"])
def test_parameter_without_a_value_is_undetermined_even_negated(tmp_path, backend, condition):
    threshold = """
[parameters.threshold]
description = "门槛"
unit = "count"
  [[parameters.threshold.steps]]
  from = 2015-01-01
  value = 10
  citation = { section = "四、（三）", quote = "对企业商标国际注册给予70%补助" }
"""
    body = f'kind = "benefit"\nconditions = ["{condition}"]\namount = {{ form = "none" }}'
    folder = write_rules(tmp_path / "r", document(start="2010-01-01") + threshold + rule("t", body))
    before = evaluate(profile(invention_patents_held=3), date(2012, 1, 1), folder, backend=backend)
    assert before.benefits == [] and [m.field for m in before.undetermined[0].missing] == ["params.threshold"]
    after = evaluate(profile(invention_patents_held=3), date(2016, 1, 1), folder, backend=backend)
    assert [b.rule_id for b in after.benefits] == ["t"]
