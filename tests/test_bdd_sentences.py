"""The scenario vocabulary: matching, values, rule names."""

from __future__ import annotations

import pytest

import engine
from engine.bdd.sentences import SENTENCES, closest, match
from engine.bdd.world import lookup_rule


@pytest.mark.parametrize("sentence", SENTENCES, ids=lambda s: s.key)
def test_every_example_matches_its_own_sentence(sentence) -> None:
    for example in (sentence.example_zh, sentence.example_en):
        body = example.split(" ", 1)[1]
        found = match(body)
        assert found is not None and found.sentence.key == sentence.key, example


@pytest.mark.parametrize("sentence", [s for s in SENTENCES if s.rules], ids=lambda s: s.key)
def test_rule_names_in_examples_exist(sentence) -> None:
    rules = engine.load_rules()
    for example in (sentence.example_zh, sentence.example_en):
        found = match(example.split(" ", 1)[1])
        for arg in sentence.rules:
            looked = lookup_rule(found.args[arg], rules)
            assert looked.rule is not None or (looked.ambiguous and sentence.shared_title_ok), (example, arg)


@pytest.mark.parametrize("text", [
    '该主体可获得"商标国际注册补助"7000元', "该主体可获得“商标国际注册补助”7,000元", "该主体可获得「商标国际注册补助」7000.00",
    '该主体可获得 "商标国际注册补助" 7000 元。', '该主体可获得"商标国际注册补助"¥7,000.00',
])
def test_quotes_and_amounts(text: str) -> None:
    found = match(text)
    assert found is not None and found.sentence.key == "receives_amount"
    assert found.args["rule"] == "商标国际注册补助"


def test_title_with_inner_chinese_quotes() -> None:
    found = match('该主体可获得"拥有自主知识产权的“专精特新”中小企业专项资金扶持"')
    assert found is not None and found.args["rule"] == "拥有自主知识产权的“专精特新”中小企业专项资金扶持"


def test_two_quoted_values_and_punctuation() -> None:
    found = match('"商标国际注册补助"待定,缺少"费用"')
    assert found is not None and found.sentence.key == "undetermined" and found.args == {"rule": "商标国际注册补助", "fact": "费用"}
    found = match("it was granted an invention patent on \"2017-03-01\", having paid an application fee of 135 yuan and an "
                  "examination fee of 375 yuan")
    assert found is not None and found.args["application_fee"] == "135 yuan"


def test_english_is_case_insensitive() -> None:
    found = match('then it receives "X" of 7000 yuan'.split(" ", 1)[1].replace("it", "It", 1))
    assert found is not None and found.sentence.key == "receives_amount"


def test_unknown_sentence_and_suggestions() -> None:
    assert match('按照"2016-12-31"的政策进行评估') is None
    assert closest('按照"2016-12-31"的政策进行评估', "zh")[0] == '按"2016-12-31"的政策评估'
    assert 'it is evaluated as of "2016-12-31"' in closest('it is evaluated on "2016-12-31"', "en")


def test_rule_lookup() -> None:
    rules = engine.load_rules()
    assert lookup_rule("ln2015.trademark.intl-subsidy", rules).rule.id == "ln2015.trademark.intl-subsidy"
    rule = rules.by_id["fx2017.transfer.inventor-share"]
    assert lookup_rule(rule.title, rules).rule is rule
    assert lookup_rule(rule.title_en.upper(), rules).rule is rule
    shared = lookup_rule("IP pledge financing support", rules)
    assert shared.rule is None and {r.id for r in shared.ambiguous} >= {"ln2012.finance.pledge", "ln2021.finance.pledge"}
    unknown = lookup_rule("商标国际注册补贴", rules)
    assert unknown.rule is None and any("ln2015.trademark.intl-subsidy" in s for s in unknown.suggestions)
