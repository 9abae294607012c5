"""durable_rules hazards not covered one by one in tests/test_durable_driver.py (see docs/reliability.md)."""

from __future__ import annotations

import ast
import json
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

from engine import durable_driver
from engine.cli import EXIT_BAD_RULES, main
from engine.durable_driver import DurableEngine, EngineLimitError, RuleSpec
from engine.tree import Compare, Field

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rulekit import document, profile, rule, write_rules  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_more_properties_than_a_fact_holds_is_refused_not_crashed():
    # durable allows 252 user properties per fact (error 302); the driver counts them at compile time.
    specs = [RuleSpec(f"r{i}", Compare(Field("entity", f"f{i}"), "==", D(1)), None) for i in range(300)]
    with pytest.raises(EngineLimitError, match="properties"):
        DurableEngine(specs)


def test_driver_never_uses_host_post_or_python_actions():
    # Host() starts timer threads that race with delete_state; post() consumes events at the first rule;
    # exceptions inside Python actions are swallowed. The driver uses none of them.
    tree = ast.parse(Path(durable_driver.__file__).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "durable_rules_engine" in imported and not {m for m in imported if m.startswith("durable.")} and "durable" not in imported
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} | {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not names & {"Host", "post", "post_batch", "assert_event", "assert_events"}


def test_facts_never_accumulate_in_one_sid():
    # Message identity uses 32-bit hashes (~10^5 facts in one sid gave spurious rejections): one sid per fire().
    specs = [RuleSpec("e", Compare(Field("event", "n"), ">=", D(0)), "t")]
    with DurableEngine(specs) as engine:
        for i in range(2_500):
            events = [("t", {"n": D(j)}) for j in range(40)]
            assert len(engine.fire({}, events).event_rules) == 40, i


def test_a_rule_file_durable_cannot_run_is_a_rules_error_exit_4(tmp_path, capsys):
    # 16 "x in [a, b]" groups in one condition exceed durable's 31-entry expression sequence (error 113).
    fields = ["size_class", "sector", "entity_kind", "ip_advantage_level", "ip_demonstration_level", "employees", "revenue_wan",
              "assets_wan", "invention_patents_held", "name", "district", "city", "credit_code", "blacklisted_on"]
    values = {"size_class": '"small", "micro"', "sector": '"industry", "software_it"', "entity_kind": '"enterprise", "university"',
              "ip_advantage_level": '"provincial", "national"', "ip_demonstration_level": '"provincial", "national"',
              "city": '"沈阳", "大连"', "blacklisted_on": '"2016-01-01", "2017-01-01"',
              "credit_code": '"91350100M000100Y43", "91350100M000100Y44"'}
    parts = [f"{f} in [{values.get(f, '1, 2')}]" if f not in ("name", "district") else f'{f} in ["a", "b"]' for f in fields]
    condition = " and ".join(parts)
    body = f"kind = \"benefit\"\nconditions = [{json.dumps(condition, ensure_ascii=False)}]\namount = {{ form = \"none\" }}"
    folder = write_rules(tmp_path / "rules", document() + rule("wide", body))
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile(), ensure_ascii=False), encoding="utf-8")
    code = main(["evaluate", str(path), "--as-of", "2019-12-31", "--rules", str(folder)])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_RULES, err
    assert "durable_rules" in err and "Traceback" not in err
