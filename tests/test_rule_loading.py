"""Malformed rule files fail with file, line, rule id, field and a plain message — never a traceback."""

from __future__ import annotations

import pytest
from rulekit import RATE_PARAMETER, document, rule, write_rules

from engine.cli import main
from engine.rulebook import LoadError, load_rules

GOOD_BENEFIT = """
kind = "benefit"
event = "intl_trademark_registration"
conditions = ["entity_kind == 'enterprise'"]
amount = { form = "rate", base = "event.cost", rate = "params.rate" }
"""


def problems_for(tmp_path, *files):
    with pytest.raises(LoadError) as caught:
        load_rules(write_rules(tmp_path / "rules", *files))
    return caught.value.problems


def only(problems):
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1, [p.text("en") for p in errors]
    return errors[0]


def test_good_file_loads(tmp_path):
    rules = load_rules(write_rules(tmp_path / "rules", document() + RATE_PARAMETER + rule("a.b", GOOD_BENEFIT)))
    assert [r.id for r in rules.rules] == ["a.b"]
    assert rules.fingerprint.startswith("sha256:")


def test_toml_syntax_error_names_file_and_line(tmp_path):
    text = document() + "\n[[rules]]\nid = \"x\n"
    problem = only(problems_for(tmp_path, text))
    assert problem.file.endswith("f0.toml") and problem.line == text.splitlines().index('id = "x') + 1
    assert "TOML" in problem.message_en


def test_unknown_field_suggests_the_right_one(tmp_path):
    body = GOOD_BENEFIT.replace("entity_kind == 'enterprise'", "size_clas == 'small'")
    problem = only(problems_for(tmp_path, document() + RATE_PARAMETER + rule("a.b", body)))
    assert problem.rule_id == "a.b" and problem.field == "conditions[0]"
    assert "did you mean 'size_class'" in problem.message_en and "size_class" in problem.message_zh
    assert problem.line is not None


def test_unknown_parameter_suggests(tmp_path):
    body = GOOD_BENEFIT.replace("params.rate", "params.rat")
    problem = only(problems_for(tmp_path, document() + RATE_PARAMETER + rule("a.b", body)))
    assert problem.field == "amount.rate" and "params.rate" in problem.message_en


def test_unknown_event_type(tmp_path):
    body = GOOD_BENEFIT.replace('event = "intl_trademark_registration"', 'event = "intl_trademark_registraton"')
    problem = only(problems_for(tmp_path, document() + RATE_PARAMETER + rule("a.b", body)))
    assert problem.field == "event" and "intl_trademark_registration" in problem.message_en


@pytest.mark.parametrize("condition, words", [
    ("high_tech == 5", "yes/no"),
    ("size_class == 'gigantic'", "not a value of 'size_class'"),
    ("employees > 'many'", "is a number"),
    ("city == '北京市'", "Liaoning"),
    ("name > 'a'", "cannot be ordered"),
    ("employees", "not a yes/no field"),
    ("event.cost > 5", "no `event`"),
    ("employees == revenue_wan", "two fields"),
])
def test_type_errors_in_conditions(tmp_path, condition, words):
    body = f'kind = "benefit"\nconditions = ["{condition}"]\namount = {{ form = "none" }}'
    problem = only(problems_for(tmp_path, document() + rule("a.b", body)))
    assert words in problem.message_en or words in problem.message_zh
    assert problem.rule_id == "a.b"


@pytest.mark.parametrize("condition", [
    "__import__('os').system('echo hacked')",
    "().__class__.__bases__[0].__subclasses__()",
    "(lambda: 1)()",
    "[x for x in range(10)]",
    "event.__class__",
    "open('/etc/passwd')",
    "employees.real > 1",
    "1 + 1 == 2",
])
def test_code_payloads_are_rejected_naming_the_place(tmp_path, condition):
    # That nothing is ever executed is checked with sentinels in test_security.py; here: the error says where.
    body = f'kind = "benefit"\nconditions = ["{condition}"]\namount = {{ form = "none" }}'
    problem = only(problems_for(tmp_path, document() + rule("a.b", body)))
    assert problem.rule_id == "a.b" and problem.field == "conditions[0]"


def test_misspelt_key_is_named(tmp_path):
    body = GOOD_BENEFIT + 'notes = "x"\n'
    problem = only(problems_for(tmp_path, document() + RATE_PARAMETER + rule("a.b", body)))
    assert problem.field == "notes" and "did you mean 'note'" in problem.message_en


@pytest.mark.parametrize("body, field", [
    ('kind = "bonus"\namount = { form = "none" }', "kind"),
    ('kind = "benefit"', "amount"),
    ('kind = "benefit"\nevent = "intl_trademark_registration"\namount = { form = "rate", base = "event.cost" }', "amount.rate"),
    ('kind = "benefit"\nevent = "intl_trademark_registration"\namount = { form = "rate", base = "event.costs", rate = 0.7 }',
     "amount.base"),
    ('kind = "benefit"\namount = { form = "fixed", value = -5 }', "amount.value"),
    ('kind = "exclusion"\nconditions = ["blacklisted"]', "withholds"),
    ('kind = "benefit"\namount = { form = "none" }\nsupersedes = ["nope"]', "supersedes"),
    ('kind = "requirement"\nevent = "invention_transfer"', "floor"),
    ('kind = "benefit"\namount = { form = "none" }\neffective_from = 2019-01-01\neffective_to = 2018-01-01', "effective_to"),
    ('kind = "benefit"\namount = { form = "none" }\nterritory = "city"', "territory"),
])
def test_rule_shape_errors(tmp_path, body, field):
    problem = only(problems_for(tmp_path, document() + rule("a.b", body)))
    assert problem.field == field and problem.rule_id == "a.b"


def test_missing_citation_and_departments(tmp_path):
    problems = problems_for(tmp_path, document() + rule("a.b", 'kind = "benefit"\namount = { form = "none" }', cite=False))
    assert {p.field for p in problems} == {"citation", "departments"}


def test_duplicate_rule_id_across_files(tmp_path):
    body = 'kind = "benefit"\namount = { form = "none" }'
    problem = only(problems_for(tmp_path, document("d1") + rule("a.b", body), document("d2") + rule("a.b", body)))
    assert problem.field == "id" and "duplicate" in problem.message_en and "f0.toml" in problem.message_en


def test_derived_cycle(tmp_path):
    cyc = document() + rule("p", 'kind = "derived"\nconditions = ["q"]', cite=False) + rule(
        "q", 'kind = "derived"\nconditions = ["p"]', cite=False)
    problem = only(problems_for(tmp_path, cyc))
    assert "cycle" in problem.message_en and "p → q → p" in problem.message_en


def test_missing_document_table(tmp_path):
    problem = only(problems_for(tmp_path, rule("a.b", 'kind = "benefit"\namount = { form = "none" }')))
    assert "[document]" in problem.message_en


def test_bad_parameter_value(tmp_path):
    bad = RATE_PARAMETER.replace("value = 0.70", "value = 70")
    problem = only(problems_for(tmp_path, document() + bad))
    assert problem.field.startswith("parameters.rate.steps") and "0.70" in problem.message_en


def test_every_problem_reported_at_once(tmp_path):
    body = 'kind = "benefit"\nconditions = ["size_clas == 1", "hightech"]\namount = { form = "none" }'
    problems = problems_for(tmp_path, document() + rule("a.b", body) + rule("c.d", 'kind = "bonus"'))
    assert len([p for p in problems if p.severity == "error"]) >= 3


def test_cli_reports_broken_rules_without_traceback(tmp_path, capsys):
    folder = write_rules(tmp_path / "rules", document() + rule("a.b", 'kind = "benefit"\nconditions = ["size_clas == 1"]\n'
                                                                         'amount = { form = "none" }'))
    code = main(["rules", "list", "--rules", str(folder)])
    err = capsys.readouterr().err
    assert code == 4
    assert "a.b" in err and "size_class" in err and "Traceback" not in err


def test_unknown_keys_in_parameters_and_steps(tmp_path):
    bad = RATE_PARAMETER.replace('unit = "rate"', 'unit = "rate"\nunits = "rate"').replace(
        "value = 0.80", "value = 0.80\n  frm = 2019-01-01", 1)
    problems = [p for p in problems_for(tmp_path, document() + bad) if p.severity == "error"]
    fields = {p.field for p in problems}
    assert {"parameters.rate.units", "parameters.rate.steps[1].frm"} <= fields
    assert any("did you mean 'unit'" in p.message_en for p in problems)
    assert all(p.line for p in problems)


# -- fingerprint: content, not place ------------------------------------------------------------------

def test_fingerprint_is_the_same_wherever_the_rules_lie(tmp_path):
    import shutil
    from pathlib import Path

    repo_rules = Path(__file__).resolve().parent.parent / "rules"
    installed = tmp_path / "site-packages" / "engine" / "_rules"  # where the wheel puts them
    shutil.copytree(repo_rules, installed)
    elsewhere = tmp_path / "drafts" / "proposal"
    shutil.copytree(repo_rules, elsewhere)
    expected = load_rules(repo_rules).fingerprint
    assert load_rules(installed).fingerprint == expected
    assert load_rules(elsewhere).fingerprint == expected


def test_fingerprint_follows_the_content(tmp_path):
    text = document() + RATE_PARAMETER + rule("a.b", GOOD_BENEFIT)
    first = load_rules(write_rules(tmp_path / "one", text)).fingerprint
    assert load_rules(write_rules(tmp_path / "two", text)).fingerprint == first
    changed = load_rules(write_rules(tmp_path / "three", text.replace("0.70", "0.80"))).fingerprint
    assert changed != first
