"""Near misses are rules the entity would get if one of its own facts were different.

Conditions written under ``select`` only say which event a rule pays for (award level and grade, patent
type, transfer mode): a rule whose selector fails is not about that event, so it is never a near miss.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from rulekit import document, profile, rule, write_rules

from engine import evaluate, load_rules
from engine.rulebook import LoadError, default_rules_dir

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2019, 12, 31)
DALIAN = json.loads((ROOT / "examples/profiles/02_dalian_patent_awards.json").read_text(encoding="utf-8"))
GRADE_AWARD = """
kind = "benefit"
event = "patent_award"
select = ['event.award_level == "china"', 'event.award_grade == "gold"']
conditions = ['entity_kind == "enterprise"']
amount = { form = "fixed", value = 500000 }
"""


def near(result) -> list[tuple[str, str | None, str]]:
    return [(m.rule_id, m.event.ref if m.event else None, m.failed.expression) for m in result.near_misses]


def test_award_grades_are_not_listed_against_each_other():
    result = evaluate(DALIAN, AS_OF)
    assert not [m for m in near(result) if m[0].startswith("ln2012.award.")]
    # The near misses a user can act on stay: one of the entity's own facts (size class → sme, a flag).
    assert ("ln2015.sme.entrustment-management", None, "sme") in near(result)
    assert ("ln2015.intl.exporter-overseas-filing", None, "exporter") in near(result)


def test_cli_output_no_longer_lists_award_grades(capsys):
    from engine.cli import main

    main(["evaluate", str(ROOT / "examples/profiles/02_dalian_patent_awards.json"), "--as-of", "2019-12-31",
          "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    [result] = data if isinstance(data, list) else [data]
    ids = [m["rule_id"] for m in result["near_misses"]]
    assert ids and not [i for i in ids if i.startswith("ln2012.award.")]


def test_failed_selector_is_not_a_near_miss_but_an_entity_fact_is(tmp_path):
    rules = load_rules(write_rules(tmp_path / "rules", document() + rule("t.gold", GRADE_AWARD)))
    silver = {"type": "patent_award", "date": "2016-01-01", "award_level": "china", "award_grade": "silver"}
    gold = dict(silver, award_grade="gold")
    assert near(evaluate(profile(entity_kind="enterprise", events=[silver]), AS_OF, rules)) == []
    assert near(evaluate(profile(entity_kind="university", events=[gold]), AS_OF, rules)) == [
        ("t.gold", None, 'entity_kind == "enterprise"')]
    # Written as ordinary conditions, the same selectors produced near misses: the marking is what changes it.
    plain = GRADE_AWARD.replace("select = ['event.award_level == \"china\"', 'event.award_grade == \"gold\"']\n"
                                "conditions = ['entity_kind == \"enterprise\"']",
                                "conditions = ['event.award_level == \"china\"', 'event.award_grade == \"gold\"', "
                                "'entity_kind == \"enterprise\"']")
    assert plain != GRADE_AWARD
    unmarked = load_rules(write_rules(tmp_path / "plain", document() + rule("t.gold", plain)))
    assert [m[2] for m in near(evaluate(profile(entity_kind="enterprise", events=[silver]), AS_OF, unmarked))] == [
        'event.award_grade == "gold"']


def test_select_is_enforced_like_a_condition(tmp_path):
    rules = load_rules(write_rules(tmp_path / "rules", document() + rule("t.gold", GRADE_AWARD)))
    events = [{"type": "patent_award", "date": "2016-01-01", "award_level": "china", "award_grade": grade}
              for grade in ("gold", "silver")] + [{"type": "patent_award", "date": "2016-02-01", "award_level": "china"}]
    for backend in ("durable", "python"):
        result = evaluate(profile(entity_kind="enterprise", events=events), AS_OF, rules, backend=backend)
        assert [b.event.index for b in result.benefits] == [0]
        [undetermined] = result.undetermined  # a missing selector fact is still a missing fact
        assert [m.field for m in undetermined.missing] == ["event.award_grade"]


def _unmarked_copy(tmp_path: Path) -> Path:
    """The shipped rule base with every ``select`` written back into ``conditions``."""
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    for file in target.rglob("*.toml"):
        text = file.read_text(encoding="utf-8")
        text = re.sub(r"^select = \[(.*)\]\nconditions = \[", r"conditions = [\1, ", text, flags=re.M)
        text = re.sub(r"^select = ", "conditions = ", text, flags=re.M)
        file.write_text(text, encoding="utf-8")
    return target


def test_shipped_selectors_change_near_misses_only(tmp_path):
    shipped = load_rules()
    assert any(r.select for r in shipped.rules)
    unmarked = load_rules(_unmarked_copy(tmp_path))
    assert not any(r.select for r in unmarked.rules)
    for path in sorted((ROOT / "examples/profiles").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for as_of in (AS_OF, date(2022, 12, 31)):
            a, b = evaluate(data, as_of, shipped), evaluate(data, as_of, unmarked)
            assert a.model_dump(exclude={"near_misses", "rule_set"}) == b.model_dump(exclude={"near_misses", "rule_set"})
            assert set(near(a)) <= set(near(b))
            selectors = {r.id: set(r.select) for r in shipped.rules}
            assert not [m for m in near(a) if m[2] in selectors[m[0]]]


@pytest.mark.parametrize("body, field, words", [
    ('kind = "benefit"\nselect = ["high_tech"]\namount = { form = "none" }', "select", "event rules only"),
    (GRADE_AWARD.replace("'event.award_level == \"china\"'", "'size_class == \"small\"'"), "select[0]", "only event fields"),
    (GRADE_AWARD.replace("'event.award_level == \"china\"'", "'event.award_levl == \"china\"'"), "select[0]",
     "award_level"),
    (GRADE_AWARD.replace("select =", "selects ="), "selects", "did you mean 'select'"),
    (GRADE_AWARD.replace("select = [", "select = 'x' #"), "select", "invalid value"),
])
def test_select_is_checked_with_file_rule_and_field(tmp_path, body, field, words):
    with pytest.raises(LoadError) as caught:
        load_rules(write_rules(tmp_path / "rules", document() + rule("t.gold", body)))
    [problem] = [p for p in caught.value.problems if p.severity == "error"]
    assert problem.file.endswith("f0.toml") and problem.rule_id == "t.gold" and problem.field == field
    assert problem.line is not None
    assert words in problem.message_en and problem.message_zh != problem.message_en
