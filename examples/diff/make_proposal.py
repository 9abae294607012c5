"""Build the worked example's proposal ``examples/diff/rate80/`` from the shipped ``rules/``.

The proposal: the international-trademark registration subsidy goes from 70% to 80% of the cost and is
capped at 50,000 yuan per registration. Everything else is copied byte for byte, so the proposal never
drifts from the rule base: run this again after the rules change, and ``tests/test_diff_example.py``
fails until you do.

    python examples/diff/make_proposal.py            # writes examples/diff/rate80/

The rule is found by what it is (a rate-form benefit on ``intl_trademark_registration`` whose rate
parameter is 70%), not by its id, and the two edits are made in the TOML text so comments and layout stay.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from engine.rulebook import Rule, RuleSet, load_rules  # noqa: E402

EVENT = "intl_trademark_registration"
OLD_RATE, NEW_RATE, CAP = Decimal("0.70"), Decimal("0.80"), Decimal("50000")


def target(rules: RuleSet) -> tuple[Rule, str]:
    """The subsidy rule and the name of its rate parameter."""
    found = [r for r in rules.rules if r.kind == "benefit" and r.event == EVENT and r.amount is not None
             and r.amount.form == "rate" and isinstance(r.amount.rate, str) and r.amount.rate.startswith("params.")
             and any(s.value == OLD_RATE for s in rules.parameters[r.amount.rate[7:]].steps)]
    if len(found) != 1:
        raise SystemExit(f"expected one 70% rate rule on {EVENT}, found {[r.id for r in found]}")
    return found[0], found[0].amount.rate[7:]


def _block(text: str, start: int) -> int:
    """Where the TOML block starting at ``start`` ends (the next top-level [..] / [[rules]] header)."""
    match = re.compile(r"^\s*\[\[?(rules|parameters\.[a-z0-9_]+|document)\]\]?\s*$", re.M).search(text, start + 1)
    return match.start() if match else len(text)


def edit_parameter(text: str, name: str) -> str:
    head = text.index(f"[parameters.{name}]")
    end = head
    while True:  # the parameter's header, its steps and nothing after
        nxt = re.compile(r"^\s*\[\[?([^\]]+)\]\]?\s*$", re.M).search(text, end + 1)
        if nxt is None or not nxt.group(1).startswith(f"parameters.{name}"):
            end = nxt.start() if nxt else len(text)
            break
        end = nxt.start() + 1
    body = re.sub(r"(?m)^(\s*value\s*=\s*)0\.70?\s*$", lambda m: f"{m.group(1)}{NEW_RATE}", text[head:end])
    return text[:head] + body + text[end:]


def edit_rule(text: str, rule: Rule, name: str) -> str:
    start = text.index(f'id = "{rule.id}"')
    end = _block(text, start)
    amount = text.find("[rules.amount]", start, end)
    end = _block(text, amount) if amount >= 0 else end
    part = text[start:end]
    line = re.search(rf'(?m)^(\s*)rate\s*=\s*"params\.{name}"\s*$', part)
    if line:
        part = part[:line.end()] + f"\n{line.group(1)}cap = {CAP}" + part[line.end():]
    else:
        inline = re.search(rf'(rate\s*=\s*"params\.{name}")(\s*}})', part)
        if inline is None:
            raise SystemExit(f"cannot find the amount of {rule.id}")
        part = part[:inline.end(1)] + f", cap = {CAP}" + part[inline.end(1):]
    return text[:start] + part + text[end:]


def build(rules_dir: Path, out: Path) -> Path:
    """Write the proposal folder ``out`` from ``rules_dir``; returns ``out``."""
    rules = load_rules(rules_dir)
    rule, name = target(rules)
    rule_file = rules_dir.parent / rules.document_of(rule).path
    param_file = rules_dir.parent / rules.documents[rules.parameters[name].document_id].path
    if out.exists():
        shutil.rmtree(out)
    for file in sorted(rules_dir.rglob("*.toml")):
        copy = out / file.relative_to(rules_dir)
        copy.parent.mkdir(parents=True, exist_ok=True)
        text = file.read_text(encoding="utf-8")
        if file.resolve() == param_file.resolve():
            text = edit_parameter(text, name)
        if file.resolve() == rule_file.resolve():
            text = edit_rule(text, rule, name)
        copy.write_text(text, encoding="utf-8")
    proposal = load_rules(out)
    changed = proposal.by_id[rule.id]
    assert [s.value for s in proposal.parameters[name].steps] == [
        NEW_RATE if s.value == OLD_RATE else s.value for s in rules.parameters[name].steps]
    assert changed.amount.cap == CAP, changed.amount
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default=str(REPO / "rules"))
    parser.add_argument("--out", default=str(HERE / "rate80"))
    args = parser.parse_args(argv)
    out = build(Path(args.rules), Path(args.out))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
