"""Profiles: Chinese or English names, tolerant values, one clear bilingual error per bad field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from rulekit import credit_code

from engine import Profile, ProfileError, evaluate, parse_profile

VALID = "91350100M000100Y43"


def base(**extra):
    return {"统一社会信用代码": VALID, "名称": "阜新某公司", "所在城市": "阜新", **extra}


def errors(data) -> dict[str, str]:
    with pytest.raises(ProfileError) as caught:
        parse_profile(data)
    return {e.field: e.text("en") + " | " + e.text("zh") for e in caught.value.errors}


def test_chinese_and_english_names_mean_the_same():
    zh = parse_profile(base(企业规模="小型", 高新技术企业="是", 重点产业="新材料、装备制造"))
    en = parse_profile({"credit_code": VALID, "name": "阜新某公司", "city": "Fuxin", "size_class": "small",
                        "high_tech": True, "key_industries": ["new_materials", "equipment"]})
    assert zh == en
    assert zh.city == "阜新市" and zh.key_industries == ("equipment", "new_materials")


@pytest.mark.parametrize("city", ["阜新", "阜新市", " 阜新市 ", "Fuxin", "210900"])
def test_city_spellings(city):
    assert parse_profile(base(所在城市=city)).city == "阜新市"


def test_unknown_city_lists_the_valid_ones():
    message = errors(base(所在城市="北京"))["city"]
    assert "沈阳市" in message and "葫芦岛市" in message


def test_credit_code_check_failure_is_a_warning_malformed_is_an_error():
    bad_check = VALID[:-1] + ("4" if VALID[-1] != "4" else "5")
    profile = parse_profile(base(统一社会信用代码=bad_check))
    assert profile.credit_code == bad_check and profile.warnings
    assert f"“{VALID[-1]}”" in profile.warnings[0] or f"'{VALID[-1]}'" in profile.warnings[0]  # the expected check character
    result = evaluate(profile, date(2019, 1, 1))
    assert result.warnings == list(profile.warnings)
    assert "credit_code" in errors(base(统一社会信用代码="91350100M00010"))


def test_every_bad_field_is_reported_at_once():
    found = errors(base(从业人员="很多", 营业收入="-5", events=[
        {"type": "商标国际注册", "date": "2016-02-30", "费用": "-100"},
        {"type": "奖状", "date": "2016-01-01"}]))
    assert {"employees", "revenue_wan", "date", "cost", "type"} <= set(found)
    assert "event 1" in found["date"] and "事件1" in found["date"]
    assert "negative" in found["cost"] and "负数" in found["cost"]


def test_unknown_field_says_did_you_mean():
    message = errors(base(企业规么="小型"))["企业规么"]
    assert "企业规模" in message


def test_event_field_that_does_not_belong_to_its_type():
    found = errors(base(events=[{"type": "well_known_trademark", "date": "2016-01-01", "cost": 5}]))
    assert "cost" in found


def test_messy_spreadsheet_values():
    profile = parse_profile(base(从业人员="1,200人", 高新技术企业="√", events=[
        {"类型": "商标国际注册", "日期": "2016年5月1日", "费用": "１０，０００元"},
        {"type": "intl_trademark_registration", "date": 42491, "cost": "1.5万"}]))
    assert profile.employees == 1200 and profile.high_tech is True
    assert [(e.date, e.cost) for e in profile.events] == [
        (date(2016, 5, 1), Decimal("10000")), (date(2016, 5, 1), Decimal("15000"))]


def test_size_class_derived_and_said_so():
    profile = parse_profile(base(行业="工业", 从业人员=299, 营业收入="50000"))
    assert profile.size_class == "small"
    [derivation] = [d for d in profile.derivations if d.field == "size_class"]
    assert "300号" in derivation.message_zh and "small" in derivation.message_en


def test_given_size_class_wins_over_derivation():
    profile = parse_profile(base(企业规模="中型", 行业="工业", 从业人员=10, 营业收入=100))
    assert profile.size_class == "medium" and not [d for d in profile.derivations if d.field == "size_class"]


def test_enterprise_kind_derived_from_credit_code_prefix():
    assert parse_profile(base()).entity_kind == "enterprise"
    assert parse_profile(base(统一社会信用代码=credit_code(3))).entity_kind is None


def test_required_fields():
    found = errors({"名称": "x"})
    assert {"credit_code", "city"} <= set(found)


def test_profile_model_validates_directly_and_round_trips():
    profile = Profile.model_validate(base())
    assert Profile.model_validate_json(profile.model_dump_json()) == profile
