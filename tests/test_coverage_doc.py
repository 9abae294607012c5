"""docs/coverage.md accounts for the clauses it was found to miss, and its counts are the rule base's."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from engine import load_rules

ROOT = Path(__file__).resolve().parent.parent
COVERAGE = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
RULES = load_rules(ROOT / "rules")


def section(document_number: str) -> str:
    """The part of coverage.md about one source text (``## 000 · …`` up to the next ``## ``)."""
    start = COVERAGE.index(f"## {document_number} · ")
    end = COVERAGE.find("\n## ", start + 1)
    return COVERAGE[start:end]


@pytest.mark.parametrize("document_number, clause, words", [
    ("000", "四、（三）", "向促进科技成果产权化、知识产权产业化方向倾斜"),
    ("003", "三、（四）5", "向知识产权类人才倾斜"),
    ("002", "二、（五）", "鼓励本地企业承接高校院所的知识产权"),
])
def test_each_found_clause_has_a_line_with_a_reason(document_number, clause, words):
    lines = [line for line in section(document_number).splitlines() if words in line]
    assert len(lines) == 1 and lines[0].startswith(f"| {clause}")
    reason = lines[0].rstrip(" |").rsplit("|", 1)[-1]
    assert "**" in reason and len(reason) > 60  # a named reason, explained


def test_counts_are_the_rule_base():
    kinds = Counter(r.kind for r in RULES.rules)
    head = " ".join(COVERAGE.split("\n\n")[1].split())
    assert f"{len(RULES.rules)} rules — {kinds['benefit']} benefits, {kinds['requirement']} requirements, " \
           f"{kinds['exclusion']} exclusions and {kinds['derived']} derived facts" in head
    for rule_id in (r.id for r in RULES.rules):
        assert f"`{rule_id}`" in COVERAGE, rule_id
    per_document = Counter(RULES.document_of(r).source[:3] for r in RULES.rules)
    for number, count in per_document.items():
        assert re.search(rf"\b{number} → {count}\b", head), (number, count)
