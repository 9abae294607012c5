"""``huiqi rules check``: every check has a small bad rule file that trips it."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from engine.cli import main
from engine.drafting.check import check_rules, find_sources, render, shipped_sources_dir

QUOTE = "对企业商标国际注册给予70%补助"  # in 000_e009afe222c9a545.txt
SHIPPED_SOURCES = shipped_sources_dir()


def doc(doc_id: str = "d", jurisdiction: str = "辽宁省", start: str = "2015-01-01", end: str | None = "2020-12-31",
        params: str = "") -> str:
    end_line = f"effective_to = {end}" if end else ""
    return textwrap.dedent(f"""
        [document]
        id = "{doc_id}"
        title = "测试文件"
        title_en = "Test"
        issuer = "测试机关"
        jurisdiction = "{jurisdiction}"
        source = "000_e009afe222c9a545.txt"
        effective_from = {start}
        {end_line}
        """) + textwrap.dedent(params)


def rule(rule_id: str, body: str = "", event: str | None = "intl_trademark_registration", amount: str = 'form = "none"',
         conditions: list[str] | None = None, quote: str = QUOTE, kind: str = "benefit", tags: str = '["subsidy"]') -> str:
    lines = ['[[rules]]', f'id = "{rule_id}"', f'title = "{rule_id}"', f'title_en = "{rule_id}"', f'kind = "{kind}"']
    if event:
        lines.append(f'event = "{event}"')
    if conditions is not None:
        lines.append("conditions = [" + ", ".join(repr_toml(c) for c in conditions) + "]")
    lines += [f"tags = {tags}", 'departments = ["省知识产权局"]', f'citation = {{ section = "四", quote = "{quote}" }}']
    lines += [textwrap.dedent(body).strip()] if body.strip() else []
    if kind == "benefit":
        lines.append(f"amount = {{ {amount} }}")
    return "\n" + "\n".join(lines) + "\n"


def repr_toml(text: str) -> str:
    return "'" + text + "'"


RATE = """
[parameters.rate]
description = "补助比例"
unit = "rate"
  [[parameters.rate.steps]]
  from = {start}
  value = 0.70
  citation = {{ section = "四", quote = "对企业商标国际注册给予70%补助" }}
"""


def run(tmp_path: Path, *files: str, as_of: date | None = None, sources=None):
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    for index, text in enumerate(files):
        (folder / f"f{index}.toml").write_text(text, encoding="utf-8")
    return check_rules(folder, as_of, sources)


def find(result, words: str, severity: str | None = None):
    hits = [p for p in result.problems if words in p.message_en and (severity is None or p.severity == severity)]
    assert hits, render(result, "en")
    return hits[0]


def test_clean_file_has_no_problems(tmp_path):
    result = run(tmp_path, doc() + rule("a.b", conditions=['entity_kind == "enterprise"']))
    assert result.problems == () or not result.errors, render(result, "en")
    assert not [p for p in result.problems if p.rule_id == "a.b"]


def test_shipped_rules_have_no_errors():
    result = check_rules()
    assert not result.errors, render(result, "en")


# -- loader problems, reported in the same format ------------------------------------------------

def test_schema_error_is_reported_with_file_and_line(tmp_path):
    result = run(tmp_path, doc() + rule("a.b", kind="benefitt"))
    problem = find(result, "kind must be one of", "error")
    assert problem.file.endswith("f0.toml") and problem.line and problem.rule_id == "a.b"
    assert result.rules is None and "did not load" in render(result, "en")


def test_type_error_in_condition(tmp_path):
    problem = find(run(tmp_path, doc() + rule("a.b", conditions=['employees == "many"'])), "compare with a number", "error")
    assert problem.field == "conditions[0]"


def test_unknown_field_suggests(tmp_path):
    problem = find(run(tmp_path, doc() + rule("a.b", conditions=['size_clas == "small"'])), "unknown field")
    assert "size_class" in problem.message_en and "size_class" in problem.message_zh


def test_unknown_parameter_suggests(tmp_path):
    body = doc(params=RATE.format(start="2015-01-01")) + rule(
        "a.b", amount='form = "rate", base = "event.cost", rate = "params.rat"')
    assert "params.rate" in find(run(tmp_path, body), "unknown parameter").message_en


def test_unknown_parameter_key_suggests(tmp_path):
    params = RATE.format(start="2015-01-01").replace('description = "补助比例"', 'descripton = "补助比例"')
    body = doc(params=params) + rule("a.b", amount='form = "rate", base = "event.cost", rate = "params.rate"')
    problem = find(run(tmp_path, body), "unknown key", "error")
    assert "description" in problem.message_en and problem.field == "parameters.rate.descripton" and problem.line


def test_duplicate_ids(tmp_path):
    result = run(tmp_path, doc() + rule("a.b"), doc("e") + rule("a.b"))
    assert find(result, "duplicate rule id", "error").rule_id == "a.b"
    result = run(tmp_path, doc() + rule("a.b"), doc() + rule("a.c"))
    find(result, "duplicate document id", "error")


# -- parameters and windows -----------------------------------------------------------------------

def test_parameter_gap_in_window(tmp_path):
    body = doc(params=RATE.format(start="2016-07-01")) + rule(
        "a.b", amount='form = "rate", base = "event.cost", rate = "params.rate"')
    problem = find(run(tmp_path, body), "has no value", "error")
    assert "2015-01-01" in problem.message_en and "2016-06-30" in problem.message_en and problem.rule_id == "a.b"


def test_unused_parameter_warns(tmp_path):
    find(run(tmp_path, doc(params=RATE.format(start="2015-01-01")) + rule("a.b")), "not used by any rule", "warning")


def test_window_outside_document(tmp_path):
    result = run(tmp_path, doc() + rule("a.b", "effective_from = 2014-01-01\neffective_to = 2021-06-30"))
    assert find(result, "before its document", "error").field == "effective_from"
    assert find(result, "after its document", "error").field == "effective_to"


def test_expired_as_of(tmp_path):
    result = run(tmp_path, doc(end=None) + rule("a.b", "effective_to = 2016-12-31"), doc("e", end="2017-12-31") + rule("c.d"),
                 as_of=date(2019, 1, 1))
    assert find(result, "the rule expired on 2016-12-31", "warning").rule_id == "a.b"
    find(result, "the document expired on 2017-12-31", "warning")
    assert not result.errors
    assert not [p for p in run(tmp_path, doc() + rule("a.b")).problems if "expired" in p.message_en]


# -- quotes -----------------------------------------------------------------------------------------

def test_quote_not_in_source(tmp_path):
    problem = find(run(tmp_path, doc() + rule("a.b", quote="对企业商标国际注册给予80%补助")), "quote not found", "error")
    assert problem.field == "citation.quote" and problem.line


def test_quote_whitespace_is_ignored(tmp_path):
    result = run(tmp_path, doc() + rule("a.b", quote="对企业商标 国际注册\\n给予70%补助"))
    assert not [p for p in result.problems if "quote" in p.message_en]


def test_parameter_step_quote_checked(tmp_path):
    params = RATE.format(start="2015-01-01").replace('quote = "对企业商标国际注册给予70%补助"', 'quote = "给予九成补助"')
    body = doc(params=params) + rule("a.b", amount='form = "rate", base = "event.cost", rate = "params.rate"')
    assert find(run(tmp_path, body), "quote not found", "error").field == "parameters.rate.steps[0].citation.quote"


def test_missing_source_folder_is_an_error(tmp_path):
    result = run(tmp_path, doc() + rule("a.b", quote="不在原文中的话"), sources=tmp_path / "nowhere")
    find(result, "quotes cannot be checked", "error")


def test_rules_outside_the_repo_are_checked_against_the_shipped_texts(tmp_path):
    # No sources/ beside these rules: the texts shipped with the engine are used, so the bad quote is found.
    assert find_sources(tmp_path / "rules") == SHIPPED_SOURCES
    find(run(tmp_path, doc() + rule("a.b", quote="不在原文中的话")), "quote not found", "error")


def test_a_missing_text_is_an_error(tmp_path):
    texts = tmp_path / "texts"
    texts.mkdir()  # a sources folder without 000_….txt
    result = run(tmp_path, doc() + rule("a.b"), sources=texts)
    problem = find(result, "source file '000_e009afe222c9a545.txt' is not in", "error")
    assert problem.field == "document.source"


# -- overlaps ---------------------------------------------------------------------------------------

def test_two_money_rules_on_one_event_warn(tmp_path):
    money = 'form = "fixed", value = 1000'
    result = run(tmp_path, doc() + rule("a.one", amount=money) + rule("a.two", amount=money, tags='["award"]'))
    problem = find(result, "may pay twice", "warning")
    assert problem.rule_id == "a.two" and "a.one" in problem.message_en
    assert not result.errors


def test_supersedes_silences_overlap(tmp_path):
    money = 'form = "fixed", value = 1000'
    result = run(tmp_path, doc() + rule("a.one", amount=money) + rule("a.two", 'supersedes = ["a.one"]', amount=money))
    assert not [p for p in result.problems if "twice" in p.message_en]


def test_same_tagged_support_measures_warn_but_different_benefits_do_not(tmp_path):
    result = run(tmp_path, doc() + rule("a.one") + rule("a.two"))
    find(result, "listed twice", "warning")
    # a province fee reimbursement and a city fund with no stated amount: legitimate
    city = doc("fx", "阜新市") + rule("fx.fund", tags='["support"]')
    result = run(tmp_path, doc() + rule("a.one", amount='form = "actual", base = "event.cost"'), city)
    assert not [p for p in result.problems if "twice" in p.message_en]


def test_overlap_needs_conditions_that_can_hold_together(tmp_path):
    money = 'form = "fixed", value = 1000'
    result = run(tmp_path, doc() + rule("a.one", amount=money, conditions=['event.route == "madrid"'])
                 + rule("a.two", amount=money, conditions=['event.route == "other"']))
    assert not [p for p in result.problems if "twice" in p.message_en]


def test_overlap_needs_overlapping_windows(tmp_path):
    money = 'form = "fixed", value = 1000'
    result = run(tmp_path, doc() + rule("a.one", "effective_to = 2016-12-31", amount=money)
                 + rule("a.two", "effective_from = 2017-01-01", amount=money))
    assert not [p for p in result.problems if "twice" in p.message_en]


# -- logic --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("conditions", [
    ["employees > 5 and employees < 3"],
    ["employees > 5", "employees < 3"],
    ['size_class == "small"', 'size_class == "large"'],
    ["employees > 5 and employees < 6"],  # an integer field
    ['"software" in key_industries', '"software" not in key_industries'],
    ["high_tech", "not high_tech"],
    ['event.cost >= 100 and event.cost != 100 and event.cost <= 100'],
    ['event.date < "2014-01-01"'],  # before the document's window
])
def test_contradictions(tmp_path, conditions):
    problem = find(run(tmp_path, doc() + rule("a.b", conditions=conditions)), "can never apply", "error")
    assert problem.rule_id == "a.b" and problem.field.startswith("conditions")


def test_city_document_requiring_another_city(tmp_path):
    problem = find(run(tmp_path, doc("fx", "阜新市") + rule("fx.a", conditions=['city == "铁岭市"'])), "can never apply", "error")
    assert "territory" in problem.message_en


def test_city_document_with_territory_conditions_may_name_another_place(tmp_path):
    result = run(tmp_path, doc("fx", "阜新市") + rule("fx.a", 'territory = "conditions"', conditions=['city == "铁岭市"']))
    assert not [p for p in result.problems if "never" in p.message_en]


def test_derived_fact_contradiction(tmp_path):
    derived = ('\n[[rules]]\nid = "sme"\ntitle = "中小企业"\ntitle_en = "SME"\nkind = "derived"\n'
               "conditions = ['entity_kind == \"enterprise\"', 'size_class in [\"medium\", \"small\", \"micro\"]']\n")
    result = run(tmp_path, doc() + derived + rule("a.b", conditions=["sme", 'size_class == "large"']))
    find(result, "can never apply", "error")


@pytest.mark.parametrize("conditions", [["employees > 5 or employees <= 5"], ["high_tech or not high_tech"],
                                        ['size_class in ["large", "medium", "small", "micro"]']])
def test_tautologies(tmp_path, conditions):
    problem = find(run(tmp_path, doc() + rule("a.b", conditions=conditions)), "always true", "warning")
    assert problem.field == "conditions[0]"


def test_implied_condition(tmp_path):
    problem = find(run(tmp_path, doc() + rule("a.b", conditions=["employees > 10", "employees >= 5"])), "implied by", "warning")
    assert problem.field == "conditions[1]" and "employees > 10" in problem.message_en


def test_condition_implied_by_territory_or_window(tmp_path):
    result = run(tmp_path, doc("fx", "阜新市") + rule("fx.a", conditions=['city == "阜新市"', 'event.date >= "2014-06-01"']))
    messages = [p.message_en for p in result.problems if "implied by" in p.message_en]
    assert any("territory" in m for m in messages) and any("window" in m for m in messages), messages


def test_duplicate_condition(tmp_path):
    result = run(tmp_path, doc() + rule("a.b", conditions=['size_class in ["small", "micro"]', 'size_class in ["micro", "small"]']))
    problem = find(result, "duplicates", "warning")
    assert problem.field == "conditions[1]"
    assert len([p for p in result.problems if "duplicates" in p.message_en]) == 1


def test_independent_conditions_are_quiet(tmp_path):
    result = run(tmp_path, doc() + rule("a.b", conditions=["employees > 10", "high_tech", 'size_class != "large"']))
    assert not [p for p in result.problems if p.rule_id == "a.b"], render(result, "en")


# -- the command ----------------------------------------------------------------------------------------

def test_cli_exit_codes_and_chinese_default(tmp_path, capsys):
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "a.toml").write_text(doc() + rule("a.b", conditions=["employees > 5", "employees < 3"]), encoding="utf-8")
    assert main(["rules", "check", str(folder)]) == 4
    out = capsys.readouterr().out
    assert "错误" in out and "a.toml:" in out and "规则 a.b" in out and "永远不会适用" in out
    (folder / "a.toml").write_text(doc() + rule("a.b", conditions=["employees > 5", "employees > 3"]), encoding="utf-8")
    assert main(["rules", "check", str(folder), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "warning" in out and "0 errors, 1 warning" in out
