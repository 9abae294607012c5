"""Three readings of the texts (issue 15, items 9–11), checked through the library, the batch and both backends:
priority examination for every applicant, 软件企业 by the enterprise's own 行业, patent trusteeship only for
patent holders (undetermined where holding is unknown)."""

from __future__ import annotations

from datetime import date

import pytest
from test_batch_equivalence import _assert_same

from engine import default_rules, evaluate, parse_profile
from engine.batch import read_population

BASE = {"统一社会信用代码": "91210100MA0T5W8N42", "名称": "某公司", "所在城市": "沈阳", "主体类型": "企业", "企业规模": "小型"}
TRUSTEESHIP = "ln2012.sme.patent-trusteeship"
SOFTWARE_SUPPORT = "ln2021.ic-software.ip-application-support"
PRIORITY = "ln2021.protection.priority-examination"


def outcome(result, rule_id: str) -> str:
    if any(b.rule_id == rule_id for b in result.benefits):
        return "eligible"
    missing = [sorted(m.field for m in u.missing) for u in result.undetermined if u.rule_id == rule_id]
    return f"undetermined {missing[0]}" if missing else "not eligible"


@pytest.mark.parametrize("backend", ["durable", "python"])
@pytest.mark.parametrize("facts, expected", [
    ({"有效专利数": 2, "有效发明专利数": 0}, "eligible"),         # utility models or designs are patents too
    ({"有效发明专利数": 1}, "eligible"),
    ({"拥有自主知识产权": True, "有效专利数": 0}, "not eligible"),  # nothing to entrust
    ({"拥有自主知识产权": False}, "not eligible"),                 # no own IP, so no patent
    ({"拥有自主知识产权": True}, "undetermined ['invention_patents_held', 'patents_held']"),  # IP, maybe no patent
    ({}, "undetermined ['invention_patents_held', 'patents_held']"),
])
def test_trusteeship_needs_a_patent(facts, expected, backend):
    result = evaluate({**BASE, **facts}, date(2014, 12, 31), backend=backend)
    assert outcome(result, TRUSTEESHIP) == expected


def test_no_ip_and_no_patents_are_derivations_the_profile_states():
    profile = parse_profile({**BASE, "拥有自主知识产权": "否"})
    assert (profile.patents_held, profile.invention_patents_held) == (0, 0)
    assert [d.field for d in profile.derivations][:2] == ["patents_held", "invention_patents_held"]
    assert "有效专利数按“拥有自主知识产权：否”推定为0" in profile.derivations[0].message_zh
    given = parse_profile({**BASE, "拥有自主知识产权": "否", "有效专利数": 0, "有效发明专利数": 0})
    assert not [d for d in given.derivations if "patents" in d.field]


@pytest.mark.parametrize("backend", ["durable", "python"])
@pytest.mark.parametrize("facts, expected", [
    ({"行业": "软件和信息技术服务业"}, "eligible"),                    # its own 行业 says it
    ({"行业": "software_it", "重点产业": "电子信息"}, "eligible"),
    ({"重点产业": "软件"}, "eligible"),
    ({"行业": "工业", "重点产业": "装备制造"}, "not eligible"),
    ({"重点产业": "装备制造"}, "undetermined ['sector']"),
    ({"行业": "工业"}, "undetermined ['key_industries']"),             # an IC maker is 工业
])
def test_software_enterprise_by_sector_or_key_industry(facts, expected, backend):
    result = evaluate({**BASE, **facts}, date(2022, 12, 31), backend=backend)
    assert outcome(result, SOFTWARE_SUPPORT) == expected


@pytest.mark.parametrize("industries", [None, "化工", "农业", "装备制造"])
def test_priority_examination_for_any_applicant(industries):
    facts = {"重点产业": industries} if industries else {}
    events = [{"类型": "专利申请", "日期": "2023-02-01", "专利类型": "发明"}]
    result = evaluate({**BASE, **facts, "events": events}, date(2023, 12, 31))
    assert outcome(result, PRIORITY) == "eligible"
    in_tieling = evaluate({**BASE, "所在城市": "铁岭", **facts, "events": events}, date(2023, 12, 31))
    assert outcome(in_tieling, "tl2021.protection.priority-examination") == "eligible"
    assert [(s.line.rule_id, s.by_rule_id) for s in in_tieling.superseded] == [(PRIORITY, "tl2021.protection.priority-examination")]


def test_batch_reads_the_same(tmp_path):
    header = "统一社会信用代码,名称,所在城市,主体类型,企业规模,行业,重点产业,拥有自主知识产权,有效专利数,有效发明专利数\n"
    rows = ["91210100MA0T5W8N42,甲,沈阳,企业,小型,软件和信息技术服务业,,否,,",
            "91210100MA0T5W9N3X,乙,沈阳,企业,小型,,装备制造,是,0,",
            "91210100MA0T5WAN4J,丙,沈阳,企业,小型,工业,,是,,1",
            "91210100MA0T5WBN5K,丁,沈阳,企业,小型,,,是,,"]
    (tmp_path / "e.csv").write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    population = read_population(tmp_path / "e.csv")
    assert population.entities.height == 4, population.errors
    for as_of in (date(2014, 12, 31), date(2022, 12, 31)):
        _assert_same(population, as_of, default_rules())
    from engine.batch import run_batch

    run_batch(tmp_path / "e.csv", as_of=date(2014, 12, 31), out=tmp_path / "out", fmt="csv")
    entities = (tmp_path / "out" / "entities.csv").read_text(encoding="utf-8-sig")
    assert "有效专利数按“拥有自主知识产权：否”推定为0" in entities
    assert "有效发明专利数按“有效专利数：0”推定为0" in entities
