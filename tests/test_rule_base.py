"""The shipped rule base: every example evaluates to what the texts imply, every quote is verbatim,
every source document is cited, and every rule is exercised by an example or a scenario."""

from __future__ import annotations

import json
import re
import tomllib
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from engine import evaluate, load_rules
from engine.bdd.lint import scan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "profiles"
EXPECTED = tomllib.loads((ROOT / "examples" / "expected.toml").read_text(encoding="utf-8"))["profiles"]
SEEDS = ROOT / "rules" / "sources"  # shipped with the rules (byte-identical copies: tests/test_source_texts.py)
RULES = load_rules(ROOT / "rules")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def amounts(lines) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        found[line.rule_id].append("none" if line.amount is None else str(line.amount))
    return {k: sorted(v) for k, v in found.items()}


def test_every_example_has_an_expectation():
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 12


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_evaluates_as_expected(name):
    want = EXPECTED[name]
    profile = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    result = evaluate(profile, want["as_of"], RULES)
    assert amounts(result.benefits) == {k: sorted(v) for k, v in want["benefits"].items()}
    assert result.total == Decimal(want["total"])
    paid = {b.rule_id for b in result.benefits}
    assert not paid & set(want.get("not_benefits", []))
    assert {w.line.rule_id: w.exclusion.rule_id for w in result.withheld} == want.get("withheld", {})
    assert {s.line.rule_id: s.by_rule_id for s in result.superseded} == want.get("superseded", {})
    undetermined = {u.rule_id: sorted(m.field for m in u.missing) for u in result.undetermined}
    assert undetermined == {k: sorted(v) for k, v in want.get("undetermined", {}).items()}
    got_requirements = {r.rule_id: r for r in result.requirements}
    assert set(got_requirements) == set(want.get("requirements", {}))
    for rule_id, expectation in want.get("requirements", {}).items():
        assert got_requirements[rule_id].status == expectation["status"]
        if "shortfall" in expectation:
            assert got_requirements[rule_id].shortfall == Decimal(expectation["shortfall"])


def test_every_quote_is_verbatim_in_its_source():
    texts = {p.name: squash(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt")}
    for rule in RULES.rules:
        if rule.citation is None:
            continue
        source = RULES.document_of(rule).source
        assert source in texts, f"{rule.id}: unknown source file {source}"
        assert squash(rule.citation.quote) in texts[source], f"{rule.id}: quote not found verbatim in {source}"
    for parameter in RULES.parameters.values():
        source = RULES.documents[parameter.document_id].source
        for step in parameter.steps:
            assert squash(step.citation.quote) in texts[source], f"params.{parameter.name}: quote not in {source}"


def test_every_source_document_is_cited():
    cited = {d.source for d in RULES.documents.values()}
    assert cited == {p.name for p in SEEDS.glob("*.txt")}


def test_every_rule_has_a_window_and_departments():
    for rule in RULES.rules:
        if rule.kind == "derived":
            continue
        assert rule.window_from is not None, rule.id
        assert rule.departments, rule.id


def test_every_rule_is_exercised_by_an_example_or_a_scenario():
    exercised: set[str] = set()
    for name, want in EXPECTED.items():
        profile = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
        result = evaluate(profile, want["as_of"], RULES)
        exercised |= {b.rule_id for b in result.benefits} | {r.rule_id for r in result.requirements}
        exercised |= {w.line.rule_id for w in result.withheld} | {w.exclusion.rule_id for w in result.withheld}
        exercised |= {s.line.rule_id for s in result.superseded} | {u.rule_id for u in result.undetermined}
        exercised |= set(result.derived)
    # Scenarios: the rules their steps really name (resolved as the plugin resolves them, ids or titles).
    exercised |= {m.rule_id for m in scan([ROOT / "features"], rules=ROOT / "rules", root=ROOT).mentions}
    missing = sorted(r.id for r in RULES.rules if r.id not in exercised)
    assert not missing, f"rules exercised by no example or scenario: {missing}"
