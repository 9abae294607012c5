""""Did you mean" names only a close spelling of the same field, and ``explain --rule`` finds a rule by title."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine import schema
from engine.cli import EXIT_USAGE, main
from engine.profile import ProfileError

BASE = {"统一社会信用代码": "91350100M000100Y43", "名称": "某公司", "所在城市": "沈阳"}
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "profiles" / "01_shenyang_trademarks.json"
ENTITY_NAMES = [f.name for f in schema.ENTITY_FIELDS] + [f.zh for f in schema.ENTITY_FIELDS]


def messages(data) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        engine.parse_profile(data)
    return [e.text("en") for e in caught.value.errors]


def test_another_quantity_in_the_same_unit_is_not_suggested():
    assert messages({**BASE, "注册资本（万元）": "100"}) == ["field 注册资本（万元）: unknown field"]


def test_amount_on_a_trademark_event_does_not_suggest_the_loan_amount():
    found = messages({**BASE, "events": [{"type": "商标国际注册", "date": "2016-05-01", "金额": "100"}]})
    assert found == ["event 1, field 金额: unknown event field"]


def test_a_typo_still_gets_its_field():
    assert schema.suggest("营业收人（万元）", ENTITY_NAMES) == "营业收入（万元）"
    assert schema.suggest("size_clas", ENTITY_NAMES) == "size_class"
    found = messages({**BASE, "events": [{"type": "商标国际注册", "date": "2016-05-01", "费永": "100"}]})
    assert found == ["event 1, field 费永: unknown event field; did you mean '费用'?"]
    loan = messages({**BASE, "events": [{"type": "知识产权质押贷款", "date": "2016-05-01", "贷款金颔": "1"}]})
    assert loan == ["event 1, field 贷款金颔: unknown event field; did you mean '贷款金额'?"]


@pytest.mark.parametrize("name, candidates", [
    ("注册资本（万元）", ENTITY_NAMES),       # same unit, another word
    ("金额", ["费用", "贷款金额", "净收益"]),   # a word inside a longer one is another meaning
    ("资产（元）", ["资产总额（万元）"]),       # another unit
])
def test_no_suggestion_for_another_meaning(name, candidates):
    assert schema.suggest(name, candidates) is None


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("name", ["商标国际注册补助", "International trademark registration subsidy"])
def test_explain_finds_a_rule_by_its_title(capsys, name):
    code, out, _ = run(capsys, "explain", str(EXAMPLE), "--rule", name, "--as-of", "2019-12-31")
    assert code == 0 and "[ln2015.trademark.intl-subsidy]" in out


def test_explain_refuses_an_ambiguous_title_naming_the_rules(capsys):
    code, _, err = run(capsys, "explain", str(EXAMPLE), "--rule", "知识产权质押融资支持", "--as-of", "2019-12-31")
    assert code == EXIT_USAGE and "is ambiguous, use the rule id" in err
    assert "ln2015.finance.pledge" in err and "ln2021.finance.pledge" in err
