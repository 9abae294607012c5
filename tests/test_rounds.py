"""Claim rounds: a period, a ledger of what was paid, duplicate events, the expiry caveat (issues 10 and 15.8)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import ProfileError, evaluate
from engine.batch import read_population, run_batch
from engine.claims import InMemoryClaims, PaidClaim
from engine.cli import main
from engine.period import PeriodError, parse_period
from engine.results import Period

CODE = "91210100MA0QFLJ27X"
TRADEMARK = {"credit_code": CODE, "name": "沈阳甲公司", "city": "沈阳市", "entity_kind": "enterprise", "size_class": "large",
             "events": [{"type": "well_known_trademark", "date": "2014-09-15", "ref": "TM-2014-001"}]}
WELL_KNOWN_2012 = "ln2012.award.well-known-trademark"
WELL_KNOWN_2015 = "ln2015.award.well-known-trademark"
GOLD = {"type": "patent_award", "date": "2014-06-20", "award_level": "provincial", "award_grade": "gold", "ref": "ZL-G-1"}
MADRID = {"type": "intl_trademark_registration", "date": "2019-05-01", "route": "madrid", "cost": "10000", "ref": "M-1"}


def _paid(line, recorded_at: str = "2015-03-01T08:00:00Z", round_name: str = "2014年度") -> PaidClaim:
    return PaidClaim(CODE, line.once_key, line.rule_id, line.amount, "paid", round_name, date(2014, 1, 1), date(2014, 12, 31),
                     recorded_at)


# -- the multi-year case -----------------------------------------------------------------------------

def test_a_2014_recognition_is_new_in_2014_and_already_paid_in_2015_and_2016():
    first = evaluate(TRADEMARK, date(2014, 12, 31), period="2014")
    assert [b.rule_id for b in first.benefits] == [WELL_KNOWN_2012] and first.total == Decimal("500000.00")
    ledger = InMemoryClaims([_paid(first.benefits[0])])
    for year in (2015, 2016):
        later = evaluate(TRADEMARK, date(year, 12, 31), period=str(year), ledger=ledger)
        assert later.total == Decimal("0.00") and later.benefits == []
        assert later.already_paid_total == Decimal("500000.00")
        paid = later.already_paid[0]
        assert (paid.line.rule_id, paid.round_name, paid.paid_amount) == (WELL_KNOWN_2012, "2014年度", Decimal("500000.00"))
        assert "2015-03-01" in paid.reason_zh and "2014年度" in paid.reason_zh and "500,000.00" in paid.reason_zh
        assert [o.event.ref for o in later.outside_period] == ["TM-2014-001"]
    # without a period the whole history counts, and the award is still not paid twice
    whole = evaluate(TRADEMARK, date(2022, 12, 31), ledger=ledger)
    assert whole.total == Decimal("0.00") and len(whole.already_paid) == 1


def test_without_the_ledger_every_year_lists_the_award_again():
    """Today's behaviour, kept when no ledger is given (the problem issue 10 describes)."""
    for year in (2014, 2016, 2019):
        assert evaluate(TRADEMARK, date(year, 12, 31)).total == Decimal("500000.00")


def test_paid_under_the_2012_rule_is_not_paid_again_under_its_continuation():
    recognition = {**TRADEMARK, "events": [{"type": "well_known_trademark", "date": "2015-06-01", "ref": "TM-2015-7"}]}
    # the 2015 round paid it under the 2012-2015 rule (recorded by the earlier plan's department)
    claim = PaidClaim(CODE, "ln.award.well-known-trademark/well_known_trademark/ref:TM-2015-7", WELL_KNOWN_2012,
                      Decimal("500000.00"), "approved", "2015年度", recorded_at="2015-09-01T00:00:00Z")
    result = evaluate(recognition, date(2016, 12, 31), ledger=InMemoryClaims([claim]))
    assert result.benefits == [] and result.total == Decimal("0.00")
    assert [p.line.rule_id for p in result.already_paid] == [WELL_KNOWN_2015]
    assert result.already_paid[0].status == "approved" and result.already_paid[0].paid_rule_id == WELL_KNOWN_2012


def test_a_revoked_claim_does_not_count_as_paid():
    first = evaluate(TRADEMARK, date(2014, 12, 31))
    revoked = PaidClaim(CODE, first.benefits[0].once_key, WELL_KNOWN_2012, Decimal("500000.00"), "revoked", "2014年度")
    again = evaluate(TRADEMARK, date(2015, 12, 31), ledger=InMemoryClaims([revoked]))
    assert again.total == Decimal("500000.00") and again.already_paid == []


# -- the period ----------------------------------------------------------------------------------------

def test_a_period_outside_the_rule_windows_pays_nothing_and_lists_the_events():
    result = evaluate(TRADEMARK, date(2022, 6, 30), period=(date(2022, 1, 1), date(2022, 6, 30)))
    assert result.benefit(WELL_KNOWN_2012) == [] and result.total == Decimal("0.00")
    assert result.period == Period(start=date(2022, 1, 1), end=date(2022, 6, 30))
    assert [o.event.date for o in result.outside_period] == [date(2014, 9, 15)]
    assert "2022-01-01..2022-06-30" in result.outside_period[0].reason_zh
    assert not [u for u in result.undetermined if u.event is not None]


def test_a_period_keeps_entity_measures_and_counts_only_its_own_events():
    profile = {**TRADEMARK, "size_class": "small", "events": [*TRADEMARK["events"], MADRID]}
    result = evaluate(profile, date(2019, 12, 31), period="2019")
    assert [b.rule_id for b in result.benefits if b.event is not None] == ["ln2015.trademark.intl-subsidy"]
    entity = [b.rule_id for b in evaluate(profile, date(2019, 12, 31)).benefits if b.event is None]
    assert [b.rule_id for b in result.benefits if b.event is None] == entity and entity


@pytest.mark.parametrize(("text", "start", "end"), [("2019", date(2019, 1, 1), date(2019, 12, 31)),
                                                    ("2019-01-01..2019-06-30", date(2019, 1, 1), date(2019, 6, 30))])
def test_period_texts(text, start, end):
    assert parse_period(text) == Period(start=start, end=end)


@pytest.mark.parametrize("text", ["19", "2019-13-01..2019-12-31", "2019-06-30..2019-01-01", "last year"])
def test_bad_period_texts_are_refused_in_both_languages(text):
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    assert caught.value.message_zh and caught.value.message_en


def test_a_period_ending_after_as_of_is_an_error():
    with pytest.raises(PeriodError) as caught:
        evaluate(TRADEMARK, date(2019, 6, 30), period="2019")
    assert "2019-12-31" in caught.value.message_zh and "after the evaluation date" in caught.value.message_en


def test_cli_period_and_its_error(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(TRADEMARK, ensure_ascii=False), encoding="utf-8")
    assert main(["evaluate", str(path), "--as-of", "2016-12-31", "--period", "2016", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == {"start": "2016-01-01", "end": "2016-12-31"} and data["benefits"] == []
    assert main(["evaluate", str(path), "--as-of", "2016-06-30", "--period", "2016"]) == 2
    assert "晚于评估日" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # argparse refuses a date that does not exist
        main(["evaluate", str(path), "--as-of", "2016-06-30", "--period", "2016-02-30..2016-03-01"])
    assert usage.value.code == 2 and "不存在" in capsys.readouterr().err


def test_without_period_or_ledger_the_json_has_no_round_fields():
    data = json.loads(evaluate(TRADEMARK, date(2019, 12, 31)).to_json())
    assert not {"period", "outside_period", "already_paid", "already_paid_total", "merged_events", "round_mode"} & set(data)
    assert data["benefits"][0]["once_key"].startswith("ln.award.well-known-trademark/")


# -- the expiry caveat -----------------------------------------------------------------------------------

def test_an_ended_policy_keeps_its_line_with_a_caveat_naming_the_department():
    result = evaluate(TRADEMARK, date(2016, 12, 31), period=(date(2014, 1, 1), date(2016, 12, 31)))
    line = result.benefit(WELL_KNOWN_2012)[0]
    assert line.amount == Decimal("500000.00")
    assert any("2015-12-31" in c and "省工商局" in c and "截止" in c for c in line.caveats_zh)
    assert any("states no claim deadline" in c for c in line.caveats_en)
    inside = evaluate(TRADEMARK, date(2014, 12, 31), period="2014").benefit(WELL_KNOWN_2012)[0]
    assert inside.caveats_zh == []
    # with no round too: the caveat is about the date, not about the round
    later = evaluate(TRADEMARK, date(2016, 12, 31)).benefit(WELL_KNOWN_2012)[0]
    assert later.caveats_zh == line.caveats_zh


# -- 15.8: duplicated events -------------------------------------------------------------------------------

def test_the_same_event_listed_twice_is_paid_once_with_a_warning():
    twice = {**TRADEMARK, "size_class": "small", "events": [GOLD, MADRID, dict(GOLD), dict(MADRID)]}
    result = evaluate(twice, date(2019, 12, 31))
    assert len(result.benefit("ln2012.award.provincial-patent-gold")) == 1
    assert len(result.benefit("ln2015.trademark.intl-subsidy")) == 1
    assert result.total == Decimal("50000.00") + Decimal("7000.00")
    assert [m.event.index for m in result.merged_events] == [2, 3]
    assert any("事件3与事件1完全相同" in w for w in result.warnings)


def test_the_same_reference_with_other_details_is_an_error_on_the_entity():
    clash = {**TRADEMARK, "events": [GOLD, {**GOLD, "date": "2014-07-01"}]}
    with pytest.raises(ProfileError) as caught:
        evaluate(clash, date(2019, 12, 31))
    error = caught.value.errors[0]
    assert error.event_index == 1 and "ZL-G-1" in error.message_zh and "date" in error.message_en


def test_refless_events_of_one_type_and_date_are_told_apart():
    one = {k: v for k, v in GOLD.items() if k != "ref"}
    other = {**one, "award_grade": "excellence"}
    result = evaluate({**TRADEMARK, "events": [one, other]}, date(2019, 12, 31))
    keys = [b.once_key for b in result.benefits if b.event is not None]
    assert len(keys) == 2 and len(set(keys)) == 2 and all(b.once_basis == "type_date" for b in result.benefits
                                                           if b.event is not None)


def test_batch_merges_duplicates_into_notes_and_refuses_conflicts(tmp_path):
    rows = [{"统一社会信用代码": CODE, "名称": "沈阳甲公司", "所在城市": "沈阳市", "主体类型": "企业", "企业规模": "小型"},
            {"统一社会信用代码": "91210100MA0QFLJ35Q", "名称": "沈阳乙公司", "所在城市": "沈阳市", "主体类型": "企业"}]
    events = [{"统一社会信用代码": CODE, "类型": "专利奖", "日期": "2014-06-20", "奖项级别": "省", "奖项等级": "金奖", "编号": "ZL-G-1"},
              {"统一社会信用代码": CODE, "类型": "专利奖", "日期": "2014-06-20", "奖项级别": "省", "奖项等级": "金奖", "编号": "ZL-G-1"},
              {"统一社会信用代码": "91210100MA0QFLJ35Q", "类型": "专利奖", "日期": "2014-06-20", "奖项级别": "省", "奖项等级": "金奖",
               "编号": "ZL-G-2"},
              {"统一社会信用代码": "91210100MA0QFLJ35Q", "类型": "专利奖", "日期": "2014-07-20", "奖项级别": "省", "奖项等级": "金奖",
               "编号": "ZL-G-2"}]
    pl.DataFrame(rows).write_csv(tmp_path / "e.csv")
    pl.DataFrame(events).write_csv(tmp_path / "v.csv")
    population = read_population(tmp_path / "e.csv", tmp_path / "v.csv")
    assert population.entities.get_column("credit_code").to_list() == [CODE]
    notes = population.errors.filter(pl.col("table") == "merged")
    assert notes.height == 1 and "第2行" in notes.get_column("message_zh")[0]
    assert population.errors.filter(pl.col("message_en").str.contains("differ in date")).height == 1
    result = run_batch(tmp_path / "e.csv", tmp_path / "v.csv", as_of=date(2019, 12, 31), out=tmp_path / "o", fmt="csv")
    lines = pl.read_csv(tmp_path / "o" / "lines.csv")
    assert lines.filter(pl.col("规则编号") == "ln2012.award.provincial-patent-gold").height == 1
    assert "一次性键" in lines.columns
    assert result.error_rows == 3  # the refused enterprise and its two events; the merged copy is a note
    entities = pl.read_csv(tmp_path / "o" / "entities.csv")
    evaluated = entities.filter(pl.col("评估状态") == "已评估")  # the refused enterprise is listed too, not evaluated
    assert evaluated.get_column("计入事件数").to_list() == [1] and entities.height == 2


# -- a batch round: its tables --------------------------------------------------------------------------------

def test_batch_round_tables(tmp_path):
    rows = [{"统一社会信用代码": CODE, "名称": "沈阳甲公司", "所在城市": "沈阳市", "主体类型": "企业", "企业规模": "大型"},
            {"统一社会信用代码": "91210100MA0QFLJ35Q", "名称": "沈阳乙公司", "所在城市": "沈阳市", "主体类型": "企业"}]
    events = [{"统一社会信用代码": CODE, "类型": "驰名商标", "日期": "2014-09-15", "编号": "TM-1"},
              {"统一社会信用代码": CODE, "类型": "商标国际注册", "日期": "2016-05-01", "编号": "M-9", "费用": "10000",
               "途径": "马德里"},
              {"统一社会信用代码": "91210100MA0QFLJ35Q", "类型": "商标国际注册", "日期": "2016-03-01", "编号": "M-1", "费用": "20000"}]
    pl.DataFrame(rows).write_csv(tmp_path / "e.csv")
    pl.DataFrame(events).write_csv(tmp_path / "v.csv")
    ledger = InMemoryClaims([PaidClaim(CODE, "ln.award.well-known-trademark/well_known_trademark/ref:TM-1", WELL_KNOWN_2012,
                                       Decimal("500000.00"), "paid", "2014年度", recorded_at="2015-03-01T00:00:00Z")])
    result = run_batch(tmp_path / "e.csv", tmp_path / "v.csv", as_of=date(2016, 12, 31), out=tmp_path / "o", fmt="csv",
                       period="2016", ledger=ledger)
    out = tmp_path / "o"
    to_pay = pl.read_csv(out / "to_pay.csv")
    assert to_pay.get_column("规则编号").to_list() == ["ln2015.trademark.intl-subsidy"] * 2
    assert to_pay.get_column("金额（元）").to_list() == [7000.0, 14000.0] and to_pay.get_column("责任单位")[0]
    paid = pl.read_csv(out / "paid.csv")
    assert paid.get_column("兑现批次").to_list() == ["2014年度"]
    outside = pl.read_csv(out / "outside.csv")
    assert outside.get_column("事件编号").to_list() == ["TM-1"]
    requests = pl.read_csv(out / "to_complete.csv")
    letter = requests.filter(pl.col("名称") == "沈阳乙公司").get_column("补充材料通知").to_list()
    assert letter and all(text.startswith("沈阳乙公司：为核定「") and "请补充提供：" in text for text in letter)
    assert "沈阳乙公司：为核定「引导国有企业拓展知识产权质押融资」（辽宁省深入实施知识产权战略行动计划（2014-2020年） 二、（一）4），" \
           "请补充提供：国有。" in letter
    cities = pl.read_csv(out / "summary_cities.csv").filter(pl.col("所在城市") == "沈阳市")
    assert cities.get_column("已兑现金额合计（元）").to_list() == [500000.0]
    round_ = result.manifest["stable"]["round"]
    assert round_["already_paid_yuan"] == "500000.00" and round_["new_yuan"] == "21000.00"
    assert round_["events_outside_period"] == 1


# -- the property ------------------------------------------------------------------------------------------

EVENTS = st.lists(st.sampled_from([GOLD, MADRID, TRADEMARK["events"][0],
                                   {"type": "famous_trademark", "date": "2015-04-01", "ref": "FT-1"},
                                   {"type": "patent_award", "date": "2013-12-10", "award_level": "china", "award_grade": "gold"},
                                   {"type": "well_known_trademark", "date": "2015-02-01"}]), max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EVENTS, st.data())
def test_with_any_claims_the_total_never_grows_and_each_key_pays_once(events, data):
    profile = {**TRADEMARK, "size_class": "small", "events": events}
    as_of = date(2019, 12, 31)
    base = evaluate(profile, as_of, backend="python")
    keys = [b.once_key for b in base.benefits]
    assert len(keys) == len(set(keys))
    chosen = data.draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([]))
    extra = data.draw(st.lists(st.text(min_size=1, max_size=8), max_size=2))  # keys the entity never earned
    claims = InMemoryClaims([PaidClaim(CODE, key, "r", Decimal("1.00"), data.draw(st.sampled_from(["paid", "approved"])),
                                       "前一批次", recorded_at="2019-01-01") for key in [*chosen, *extra]])
    after = evaluate(profile, as_of, backend="python", ledger=claims)
    assert after.total <= base.total
    assert after.total + after.already_paid_total == base.total
    paid_now = [b.once_key for b in after.benefits]
    assert not set(paid_now) & set(chosen) and len(paid_now) == len(set(paid_now))
    assert sorted(p.line.once_key for p in after.already_paid) == sorted(chosen)


def test_cli_batch_period_after_as_of_is_a_usage_error(tmp_path, capsys):
    assert main(["batch", "examples/batch/sample.xlsx", "--as-of", "2019-06-30", "--period", "2019",
                 "-o", str(tmp_path / "o.xlsx")]) == 2
    assert "晚于评估日" in capsys.readouterr().err and not (tmp_path / "o.xlsx").exists()
    assert main(["batch", "examples/batch/sample.xlsx", "--as-of", "2019-12-31", "--period", "2019",
                 "-o", str(tmp_path / "o.xlsx")]) == 5  # the sample's deliberate error rows
    assert "本轮新增" in capsys.readouterr().err


def test_text_output_splits_new_and_already_paid():
    from engine.render import render_text

    first = evaluate(TRADEMARK, date(2014, 12, 31), period="2014")
    later = evaluate(TRADEMARK, date(2015, 12, 31), period="2015", ledger=InMemoryClaims([_paid(first.benefits[0])]))
    text = render_text(later)
    assert "本轮新增合计: 0.00 元" in text and "已兑现合计: 500,000.00 元" in text and "申报期 2015-01-01..2015-12-31" in text
    assert "不在本轮申报期的事件" in text
    assert "Total:" in render_text(evaluate(TRADEMARK, date(2015, 12, 31)), "en")


@pytest.mark.parametrize("period", ["2014", "2015", (date(2012, 1, 1), date(2019, 12, 31))])
def test_both_backends_agree_in_a_round(period):
    from pathlib import Path

    profiles = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path("examples/profiles").glob("*.json"))]
    as_of = date(2019, 12, 31)
    for profile in profiles:
        base = evaluate(profile, as_of, backend="python")
        code = base.entity.credit_code
        ledger = InMemoryClaims(PaidClaim(code, b.once_key, b.rule_id, b.amount or Decimal("0.00"), "paid", "前一批次",
                                          recorded_at="2016-01-01") for b in base.benefits[::2])
        durable = evaluate(profile, as_of, period=period, ledger=ledger)
        python = evaluate(profile, as_of, backend="python", period=period, ledger=ledger)
        assert durable.to_json() == python.to_json()
        assert durable.total + durable.already_paid_total <= base.total
