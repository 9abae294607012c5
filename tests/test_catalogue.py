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
    text = render_markdown(load_rules(REPO / "rules"), as_of=date(2018, 1, 1))
    assert "2018-01-01" in text and "70%" in text


def test_html_is_well_formed_and_cli_writes_files(tmp_path, capsys):
    check_html(render_html(load_rules(REPO / "rules")))
    assert main(["rules", "show", "-o", str(tmp_path / "c.html")]) == 0
    assert (tmp_path / "c.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["rules", "show", "--lang", "en"]) == 0
    assert "Huiqi rule catalogue" in capsys.readouterr().out
