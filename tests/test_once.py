"""Once-keys in the rule language: their forms, the loader's checks and the claims-lookup contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from rulekit import document, rule, write_rules

from engine import default_rules, evaluate, load_rules
from engine.claims import ClaimLookup, InMemoryClaims, PaidClaim, claim_columns
from engine.once import once_key
from engine.rulebook import LoadError

CODE = "91210100MA0QFLJ27N"
TRADEMARK = {"credit_code": CODE, "name": "沈阳甲公司", "city": "沈阳市", "entity_kind": "enterprise",
             "events": [{"type": "well_known_trademark", "date": "2014-09-15", "ref": "TM-1"}]}


def _rules(tmp_path, body: str, name: str = "r1"):
    return load_rules(write_rules(tmp_path / "rules", document() + rule(name, body)))


def test_key_forms_ref_date_and_entity():
    rules = default_rules()
    award = rules.by_id["ln2012.award.well-known-trademark"]
    gold = rules.by_id["ln2012.award.china-patent-gold"]
    assert once_key(award, "well_known_trademark", "TM-1", date(2014, 9, 15)) == (
        "ln.award.well-known-trademark/well_known_trademark/ref:TM-1", "ref")
    assert once_key(gold, "patent_award", None, date(2014, 9, 15)) == (
        "ln2012.award.china-patent-gold/patent_award/date:2014-09-15", "type_date")
    assert once_key(gold, "patent_award", None, date(2014, 9, 15), 2)[0].endswith("date:2014-09-15#2")
    measure = rules.by_id["ln2015.sme.new-tech-support"]
    assert once_key(measure) == ("ln2015.sme.new-tech-support/entity", "entity")


def test_continuation_shares_the_key_of_the_earlier_award():
    rules = default_rules()
    first, continued = rules.by_id["ln2012.award.well-known-trademark"], rules.by_id["ln2015.award.well-known-trademark"]
    args = ("well_known_trademark", "TM-1", date(2015, 3, 1))
    assert once_key(first, *args) == once_key(continued, *args)
    assert "一次性" in first.note and "一次性" in continued.note


def test_every_benefit_line_says_its_key_and_how_it_was_formed():
    result = evaluate(TRADEMARK, date(2014, 12, 31))
    line = result.benefit("ln2012.award.well-known-trademark")[0]
    assert (line.once_key, line.once_basis) == ("ln.award.well-known-trademark/well_known_trademark/ref:TM-1", "ref")
    no_ref = {**TRADEMARK, "events": [{"type": "well_known_trademark", "date": "2014-09-15"}]}
    line = evaluate(no_ref, date(2014, 12, 31)).benefit("ln2012.award.well-known-trademark")[0]
    assert line.once_basis == "type_date" and line.once_key.endswith("date:2014-09-15")


@pytest.mark.parametrize(("body", "field", "words"), [
    ('kind = "benefit"\nevent = "patent_award"\nonce_per = "evnt"\namount = { form = "none" }', "once_per", "event"),
    ('kind = "benefit"\nonce_per = "event"\namount = { form = "none" }', "once_per", "needs an event"),
    ('kind = "benefit"\nevent = "patent_award"\nonce_group = "Bad Name"\namount = { form = "none" }', "once_group",
     "a-z"),
    ('kind = "requirement"\nevent = "invention_transfer"\nonce_per = "event"\n'
     'floor = { base = "event.net_income", rate = 0.7, actual = "event.inventor_reward" }', "once_per", "only benefit"),
])
def test_loader_refuses_bad_once_settings_with_file_rule_and_field(tmp_path, body, field, words):
    with pytest.raises(LoadError) as caught:
        _rules(tmp_path, body)
    problem = next(p for p in caught.value.problems if p.field == field)
    assert problem.rule_id == "r1" and problem.file.endswith(".toml") and words in problem.message_en
    assert problem.message_zh


def test_group_members_must_agree_and_overlap_only_with_supersedes(tmp_path):
    a = rule("a", 'kind = "benefit"\nevent = "patent_award"\nonce_group = "g"\namount = { form = "none" }')
    b = rule("b", 'kind = "benefit"\nevent = "famous_trademark"\nonce_group = "g"\namount = { form = "none" }')
    with pytest.raises(LoadError) as caught:
        load_rules(write_rules(tmp_path / "x", document() + a + b))
    assert any(p.rule_id == "b" and "same event" in p.message_en for p in caught.value.problems)
    c = rule("c", 'kind = "benefit"\nevent = "patent_award"\nonce_group = "g"\namount = { form = "none" }')
    with pytest.raises(LoadError) as caught:
        load_rules(write_rules(tmp_path / "y", document() + a + c))
    assert any("overlap" in p.message_en and p.field == "once_group" for p in caught.value.problems)
    d = rule("d", 'kind = "benefit"\nevent = "patent_award"\nonce_group = "g"\nsupersedes = ["a"]\n'
                  'amount = { form = "none" }')
    assert load_rules(write_rules(tmp_path / "z", document() + a + d)).by_id["d"].once_group == "g"


def test_in_memory_claims_implement_the_lookup_contract():
    paid = PaidClaim(CODE, "k/1", "r", Decimal("500000.00"), "paid", "2014 round", date(2014, 1, 1), date(2014, 12, 31),
                     "2015-03-01T00:00:00Z")
    revoked = PaidClaim(CODE, "k/2", "r", Decimal("1.00"), "revoked", "2014 round", recorded_at="2015-03-02T00:00:00Z")
    lookup = InMemoryClaims([paid, revoked])
    assert isinstance(lookup, ClaimLookup)
    assert lookup.claims_for([CODE, "other"]) == {CODE: [paid]}
    frame = lookup.claims_frame()
    assert frame.schema == pl.Schema(claim_columns())
    assert frame.row(0, named=True)["amount_fen"] == 50_000_000 and frame.height == 1
