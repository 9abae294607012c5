"""durable_rules and the Python evaluator agree on which rules fire, for any profile (hypothesis).

``evaluate(backend="durable", explain=True)`` raises EngineDisagreement the moment the two disagree on a rule or a
derived fact; the property also checks the whole result equals the Python-only evaluation.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rulekit import credit_code

from engine import evaluate, load_rules
from engine.cities import CITIES
from engine.vocabulary import ENTITY_KINDS, INDUSTRIES, LEVELS, SIZE_CLASSES

RULES = load_rules()
AS_OF = [date(2013, 12, 31), date(2015, 6, 30), date(2017, 12, 31), date(2019, 12, 31), date(2022, 6, 30), date(2026, 1, 1)]
DAYS = st.dates(date(2011, 1, 1), date(2026, 12, 31))
MONEY = st.decimals(min_value=0, max_value=2_000_000, places=2)


def maybe(strategy):
    return st.one_of(st.none(), strategy)


EVENT = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["well_known_trademark", "famous_trademark", "pct_application"]),
                           "date": DAYS}),
    st.fixed_dictionaries({"type": st.just("patent_award"), "date": DAYS,
                           "award_level": maybe(st.sampled_from(["china", "provincial"])),
                           "award_grade": maybe(st.sampled_from(["gold", "silver", "excellence"]))}),
    st.fixed_dictionaries({"type": st.just("intl_trademark_registration"), "date": DAYS, "cost": maybe(MONEY),
                           "route": maybe(st.sampled_from(["madrid", "other"]))}),
    st.fixed_dictionaries({"type": st.just("invention_patent_grant"), "date": DAYS,
                           "application_fee_paid": maybe(MONEY), "examination_fee_paid": maybe(MONEY)}),
    st.fixed_dictionaries({"type": st.just("patent_application"), "date": DAYS,
                           "patent_type": maybe(st.sampled_from(["invention", "utility", "design"]))}),
    st.fixed_dictionaries({"type": st.just("invention_transfer"), "date": DAYS,
                           "mode": maybe(st.sampled_from(["transfer", "licence", "equity", "self_implementation"])),
                           "implementing_city": maybe(st.sampled_from(["阜新市", "沈阳市", "铁岭市", "省外"])),
                           "net_income": maybe(MONEY), "inventor_reward": maybe(MONEY)}),
    st.fixed_dictionaries({"type": st.just("ip_pledge_loan"), "date": DAYS, "loan_amount": maybe(MONEY)}),
    st.fixed_dictionaries({"type": st.just("infringement_penalty"), "date": DAYS,
                           "infringement_kind": maybe(st.sampled_from(["repeated", "intentional", "other"]))}),
)

ENTITY = st.fixed_dictionaries({
    "city": st.sampled_from(sorted(CITIES)),
    "entity_kind": maybe(st.sampled_from(sorted(ENTITY_KINDS))),
    "state_owned": maybe(st.booleans()),
    "size_class": maybe(st.sampled_from(sorted(SIZE_CLASSES))),
    "high_tech": maybe(st.booleans()),
    "specialized_sme": maybe(st.booleans()),
    "owns_ip": maybe(st.booleans()),
    "ip_advantage_level": maybe(st.sampled_from(sorted(LEVELS))),
    "ip_demonstration_level": maybe(st.sampled_from(sorted(LEVELS))),
    "gbt29490_certified": maybe(st.booleans()),
    "key_industries": maybe(st.lists(st.sampled_from(sorted(INDUSTRIES)), max_size=3)),
    "exporter": maybe(st.booleans()),
    "blacklisted": maybe(st.booleans()),
    "blacklisted_on": maybe(DAYS),
    "invention_patents_held": maybe(st.integers(0, 500)),
    "patents_held": maybe(st.integers(0, 600)),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entity=ENTITY, events=st.lists(EVENT, max_size=6), as_of=st.sampled_from(AS_OF), seed=st.integers(1, 10**6))
def test_durable_rules_and_evaluator_agree(entity, events, as_of, seed):
    profile = {k: v for k, v in entity.items() if v is not None}
    profile.update(credit_code=credit_code(seed), name="企业", events=[
        {k: v for k, v in e.items() if v is not None} for e in events])
    by_durable = evaluate(profile, as_of, RULES, backend="durable", explain=True)
    by_python = evaluate(profile, as_of, RULES, backend="python", explain=True)
    assert by_durable.to_json(traces=True) == by_python.to_json(traces=True)
