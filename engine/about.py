"""What ``huiqi --version`` says: the program's version and the fingerprint of the shipped rule set.

The version has one home, ``engine.__version__`` (pyproject reads it from there); the fingerprint is the
rule book's own (``engine.rulebook``), so a report, a manifest and ``--version`` name the same rules.
"""

from __future__ import annotations

import engine
from engine.rulebook import RuleSet, load_rules


def version_text(rules: RuleSet | None = None) -> str:
    """Two lines: ``huiqi 0.1.0`` and the shipped rule set's fingerprint with its size."""
    rules = rules if rules is not None else load_rules()
    return (f"huiqi {engine.__version__}\n"
            f"规则集 rule set {rules.fingerprint}（{len(rules.documents)} 个文件、{len(rules.rules)} 条规则 / "
            f"{len(rules.documents)} documents, {len(rules.rules)} rules）\n")
