"""``huiqi rules show``: the published catalogue in docs/ is the rule base, and reads as one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from test_diff import check_html

from engine.cli import main
from engine.drafting.catalogue import render_html, render_markdown
from engine.rulebook import load_rules

REPO = Path(__file__).resolve().parent.parent
REGENERATE = ("docs/{name} is out of step with rules/; regenerate it with\n"
              "    huiqi rules show -o docs/catalogue.md && huiqi rules show -o docs/catalogue.html")


def test_docs_catalogue_is_in_step_with_the_rules():
    rules = load_rules(REPO / "rules")
    for name, text in (("catalogue.md", render_markdown(rules)), ("catalogue.html", render_html(rules))):
        committed = (REPO / "docs" / name).read_text(encoding="utf-8")
        assert committed == text, REGENERATE.format(name=name)


def test_catalogue_covers_every_document_rule_quote_and_step():
    rules = load_rules(REPO / "rules")
    text = render_markdown(rules)
    for document in rules.documents.values():
        assert document.title in text and document.title_en in text
        if document.number:
            assert document.number in text
    for rule in rules.rules:
        assert f"`{rule.id}`" in text and rule.title in text and rule.title_en in text
        if rule.citation:
            assert rule.citation.quote in text
    for parameter in rules.parameters.values():
        assert f"params.{parameter.name}" in text
        for step in parameter.steps:
            assert str(step.start) in text and step.citation.quote in text


def test_eligibility_in_plain_words_with_implicit_conditions(tmp_path):
    rules = load_rules(REPO / "rules")
    text = render_markdown(rules)
    assert "所在城市为阜新市" in text  # the territory of a city document
    assert "的日期不早于" in text  # the window of an event rule
    english = render_markdown(rules, lang="en")
    assert "Who is eligible" in english and "city is" in english


def test_as_of_fills_parameter_values(tmp_path):
    """The amounts show each parameter's value on the as_of date: a rate that changes in 2018 reads differently."""
    import shutil

    shutil.copytree(REPO / "rules", tmp_path / "rules")
    file = tmp_path / "rules" / "liaoning" / "ln-2015-2020.toml"
    text = file.read_text(encoding="utf-8")
    step = '  citation = { section = "四、（三）", quote = "对企业商标国际注册给予70%补助" }\n'
    assert step in text
    file.write_text(text.replace(step, step + '  [[parameters.ln2015_intl_trademark_rate.steps]]\n  from = 2018-01-01\n'
                                 '  value = 0.85\n' + step, 1), encoding="utf-8")
    rules = load_rules(tmp_path / "rules")

    def amount_line(as_of: date) -> str:
        text = render_markdown(rules, as_of=as_of)
        section = text[text.index("`ln2015.trademark.intl-subsidy`"):]
        return next(line for line in section.splitlines() if line.startswith("- **金额或计算方式**"))

    before, after = amount_line(date(2017, 6, 1)), amount_line(date(2018, 6, 1))
    assert "70%" in before and "85%" not in before
    assert "85%" in after and "70%" not in after
    assert "取值日期: 2018-06-01" in render_markdown(rules, as_of=date(2018, 6, 1))


def test_html_is_well_formed_and_cli_writes_files(tmp_path, capsys):
    check_html(render_html(load_rules(REPO / "rules")))
    assert main(["rules", "show", "-o", str(tmp_path / "c.html")]) == 0
    assert (tmp_path / "c.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["rules", "show", "--lang", "en"]) == 0
    assert "Huiqi rule catalogue" in capsys.readouterr().out
