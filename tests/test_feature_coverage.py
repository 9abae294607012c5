"""Every rule has a scenario where it applies and one where it does not (derived facts may be covered indirectly)."""

from __future__ import annotations

from pathlib import Path

import engine
from engine.bdd.lint import scan

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ROOT / "features"


def test_features_are_clean() -> None:
    result = scan([FEATURES], root=ROOT)
    assert result.problems == [], "\n".join(p.text("en") for p in result.problems)


def test_every_rule_is_named_in_a_positive_and_a_negative_step() -> None:
    result = scan([FEATURES], root=ROOT)
    rules = engine.load_rules()
    positive = {m.rule_id for m in result.mentions if m.polarity == "+"}
    negative = {m.rule_id for m in result.mentions if m.polarity == "-"}
    gaps = []
    for rule in rules.rules:
        if rule.kind == "derived":
            continue
        missing = [word for word, seen in (("applies", positive), ("does not apply", negative)) if rule.id not in seen]
        if missing:
            gaps.append(f"{rule.id} ({rule.title}): no scenario where it {' / '.join(missing)}")
    assert not gaps, "rules without scenarios:\n" + "\n".join(gaps)


def test_every_document_has_a_chinese_feature() -> None:
    result = scan([FEATURES], root=ROOT)
    rules = engine.load_rules()
    chinese = {m.rule_id for m in result.mentions if not m.file.startswith("features/en")}
    for doc in rules.documents.values():
        ids = {r.id for r in rules.rules if r.document_id == doc.id and r.kind != "derived"}
        assert ids <= chinese, f"{doc.id}: not named in a Chinese feature: {sorted(ids - chinese)}"
