"""``huiqi diff``: per-rule and per-entity changes, the static rule diff, and the three outputs."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

from engine.cli import main
from engine.drafting.diff import compare_rules, run_diff
from engine.drafting.population import read_population
from engine.drafting.report_html import render_html
from engine.profile import parse_profile
from engine.rulebook import load_rules

QUOTE = "对企业商标国际注册给予70%补助"


def rules_dir(tmp_path: Path, name: str, rate: str = "0.70", cap: str = "", extra: str = "", conditions: str = "") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "d.toml").write_text(textwrap.dedent(f"""
        [document]
        id = "d"
        title = "测试文件"
        title_en = "Test"
        issuer = "测试机关"
        jurisdiction = "辽宁省"
        source = "000_e009afe222c9a545.txt"
        effective_from = 2015-01-01
        effective_to = 2020-12-31

        [parameters.rate]
        description = "补助比例"
        unit = "rate"
          [[parameters.rate.steps]]
          from = 2015-01-01
          value = {rate}
          citation = {{ section = "四", quote = "{QUOTE}" }}

        [[rules]]
        id = "tm.subsidy"
        title = "商标国际注册补助"
        title_en = "Trademark subsidy"
        kind = "benefit"
        event = "intl_trademark_registration"
        conditions = ['entity_kind == "enterprise"'{conditions}]
        departments = ["省财政"]
        citation = {{ section = "四", quote = "{QUOTE}" }}
        amount = {{ form = "rate", base = "event.cost", rate = "params.rate"{cap} }}
        """) + textwrap.dedent(extra), encoding="utf-8")
    return folder


EXTRA = """
[[rules]]
id = "fee.refund"
title = "发明专利费用补助"
title_en = "Fee refund"
kind = "benefit"
event = "invention_patent_grant"
departments = ["省财政"]
citation = { section = "四", quote = "对企业商标国际注册给予70%补助" }
amount = { form = "actual", base = ["event.application_fee_paid", "event.examination_fee_paid"] }
"""


def entity(seed: int, cost: str, kind: str = "enterprise", **more) -> dict:
    from engine.credit_code import check_character

    body = f"91210100{seed:09d}"
    return {"credit_code": body + check_character(body), "name": f"企业{seed}", "city": "沈阳市", "entity_kind": kind,
            "events": [{"type": "intl_trademark_registration", "date": "2018-05-01", "cost": cost}], **more}


def test_rate_up_with_cap(tmp_path):
    base = load_rules(rules_dir(tmp_path, "base"))
    proposed = load_rules(rules_dir(tmp_path, "proposed", rate="0.80", cap=", cap = 50000"))
    profiles = [parse_profile(p) for p in (entity(1, "10000"), entity(2, "100000"), entity(3, "5000", "university"))]
    report = run_diff(base, proposed, profiles, date(2020, 12, 31))
    (row,) = report.rules
    assert (row.before_count, row.after_count) == (2, 2)
    assert row.before_yuan == Decimal("77000.00") and row.after_yuan == Decimal("58000.00")
    assert row.change_yuan == Decimal("-19000.00") and row.status == "changed"
    # largest change first: the capped one loses 20,000, the small one gains 1,000
    assert [(e.name, e.change, e.kind) for e in report.entities] == [
        ("企业2", Decimal("-20000.00"), "loss"), ("企业1", Decimal("1000.00"), "gain")]
    assert report.entities[0].details == [("tm.subsidy", Decimal("70000.00"), Decimal("50000.00"))]
    assert (report.count("gain"), report.count("loss")) == (1, 1)


def test_static_diff_names_conditions_parameters_and_windows(tmp_path):
    base = load_rules(rules_dir(tmp_path, "base", extra=EXTRA))
    proposed = load_rules(rules_dir(tmp_path, "proposed", rate="0.80", cap=", cap = 50000", conditions=", 'high_tech'"))
    changes, params = compare_rules(base, proposed, "en")
    by_id = {c.rule_id: c for c in changes}
    assert by_id["fee.refund"].status == "removed"
    lines = {(line.aspect, line.before, line.after) for line in by_id["tm.subsidy"].lines}
    assert ("conditions", "—", "high_tech") in lines
    assert ("params.rate @ 2015-01-01", "70%", "80%") in lines
    assert any(a == "amount" and "capped at 50,000.00" in after for a, _, after in lines)
    assert [(p.rule_id, p.lines[0].before, p.lines[0].after) for p in params] == [("params.rate", "70%", "80%")]
    changes, _ = compare_rules(proposed, base)
    assert {c.rule_id: c.status for c in changes}["fee.refund"] == "added"


def test_unchanged_rules_give_an_empty_diff(tmp_path):
    base = load_rules(rules_dir(tmp_path, "base"))
    report = run_diff(base, base, [parse_profile(entity(1, "10000"))], date(2020, 12, 31))
    assert report.entities == [] and report.changes == [] and report.rules[0].change_yuan == 0


def test_population_formats(tmp_path):
    profiles = [entity(1, "10000"), entity(2, "20000")]
    (tmp_path / "p.jsonl").write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in profiles) + "\n", encoding="utf-8")
    population = read_population(tmp_path / "p.jsonl")
    assert [p.name for p in population.profiles] == ["企业1", "企业2"] and not population.errors
    # a bad profile in a .json list is a row error; the others are read
    (tmp_path / "list.json").write_text(json.dumps([profiles[0], {"name": 1}], ensure_ascii=False), encoding="utf-8")
    population = read_population(tmp_path / "list.json")
    assert len(population.profiles) == 1 and len(population.errors) == 1
    folder = tmp_path / "json"
    folder.mkdir()
    for p in profiles:
        (folder / f"{p['name']}.json").write_text(json.dumps(p, ensure_ascii=False), encoding="utf-8")
    assert len(read_population(folder).profiles) == 2
    (tmp_path / "e.csv").write_text("统一社会信用代码,名称,所在城市,主体类型\n" + "\n".join(
        f"{p['credit_code']},{p['name']},沈阳,企业" for p in profiles) + "\n", encoding="utf-8")
    (tmp_path / "ev.csv").write_text("统一社会信用代码,类型,日期,费用\n" + f"{profiles[1]['credit_code']},商标国际注册,2018-05-01,20000\n",
                                     encoding="utf-8")
    population = read_population(tmp_path / "e.csv", tmp_path / "ev.csv")
    assert [len(p.events) for p in population.profiles] == [0, 1]


class _Checker(HTMLParser):
    VOID = {"meta", "br", "img", "hr", "link", "input", "line", "rect"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.bars = 0
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "rect" and "bar" in (dict(attrs).get("class") or ""):
            self.bars += 1
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag == "rect" and "bar" in (dict(attrs).get("class") or ""):
            self.bars += 1

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def check_html(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
    # self-contained: no external references, no scripts (the SVG namespace URI is not a reference)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text)
    assert "<script" not in text and "<link" not in text
    return checker


def test_html_report_is_well_formed_and_self_contained(tmp_path):
    base = load_rules(rules_dir(tmp_path, "base", extra=EXTRA))
    proposed = load_rules(rules_dir(tmp_path, "proposed", rate="0.80", cap=", cap = 50000"))
    profiles = [parse_profile(p) for p in (entity(1, "10000"), entity(2, "100000"))]
    for lang in ("zh", "en"):
        report = run_diff(base, proposed, profiles, date(2020, 12, 31), lang=lang)
        checker = check_html(render_html(report, lang))
        assert checker.bars == 1


def test_cli_writes_all_three_outputs(tmp_path, capsys):
    base = rules_dir(tmp_path, "base")
    proposed = rules_dir(tmp_path, "proposed", rate="0.80", cap=", cap = 50000")
    (tmp_path / "p.jsonl").write_text("\n".join(json.dumps(entity(i, str(20000 * i)), ensure_ascii=False) for i in (1, 2, 3, 4)),
                                      encoding="utf-8")
    outputs = [tmp_path / "r.xlsx", tmp_path / "r.html", tmp_path / "r.txt"]
    args = ["diff", str(base), str(proposed), "--population", str(tmp_path / "p.jsonl"), "--as-of", "2020-12-31"]
    assert main(args + [a for o in outputs for a in ("-o", str(o))]) == 0
    out = capsys.readouterr().out
    assert "规则修改影响分析" in out and "tm.subsidy" in out and "-6,000.00" in out and "+6,000.00" in out
    assert all(o.stat().st_size > 0 for o in outputs)
    from openpyxl import load_workbook

    book = load_workbook(outputs[0])
    assert book.sheetnames[:4] == ["摘要", "各规则", "规则改动", "受影响主体"]
    assert book["各规则"]["A2"].value == "tm.subsidy"
    assert main(args + ["-o", str(tmp_path / "r.pdf")]) == 2


def test_reformatted_conditions_are_not_changes(tmp_path):
    """Spacing, quote style and Chinese labels for codes parse to the same tree: no change is reported."""
    base = load_rules(rules_dir(tmp_path, "base", conditions=', \'size_class == "small"\', "employees > 5"'))
    same = load_rules(rules_dir(tmp_path, "same", conditions=", \"size_class=='小型'\", 'employees>5'"))
    changes, _ = compare_rules(base, same)
    assert changes == []
    other = load_rules(rules_dir(tmp_path, "other", conditions=', \'size_class == "small"\', "employees > 6"'))
    changes, _ = compare_rules(base, other)
    lines = [(line.before, line.after) for line in changes[0].lines if line.aspect == "conditions"]
    assert lines == [("employees > 5", "—"), ("—", "employees > 6")]
