"""The worked example in examples/diff/ stays in step with rules/ and its report stays true."""

from __future__ import annotations

import importlib.util
from datetime import date
from decimal import Decimal
from pathlib import Path

from test_diff import check_html

from engine.drafting.diff import render_terminal, run_diff
from engine.drafting.population import read_population
from engine.drafting.report_html import render_html
from engine.rulebook import load_rules

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "diff"
REGENERATE = "run `bash examples/diff/make_report.sh` and commit examples/diff/"


def _make_proposal():
    spec = importlib.util.spec_from_file_location("make_proposal", EXAMPLE / "make_proposal.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_proposal_is_in_step_with_rules(tmp_path):
    fresh = _make_proposal().build(REPO / "rules", tmp_path / "rate80")
    committed = EXAMPLE / "rate80"
    names = sorted(p.relative_to(fresh).as_posix() for p in fresh.rglob("*.toml"))
    assert names == sorted(p.relative_to(committed).as_posix() for p in committed.rglob("*.toml")), REGENERATE
    for name in names:
        assert (fresh / name).read_text(encoding="utf-8") == (committed / name).read_text(encoding="utf-8"), \
            f"examples/diff/rate80/{name} is out of step with rules/: {REGENERATE}"


def test_proposal_changes_only_the_rate_and_the_cap():
    base, proposed = load_rules(REPO / "rules"), load_rules(EXAMPLE / "rate80")
    rule = proposed.by_id["ln2015.trademark.intl-subsidy"]
    assert rule.amount.cap == Decimal("50000")
    assert proposed.parameters[rule.amount.rate[7:]].steps[0].value == Decimal("0.80")
    assert base.by_id[rule.id].amount.cap is None
    same = [r.id for r in base.rules if r.id != rule.id and r.model_dump(exclude={"line"}) != proposed.by_id[r.id].model_dump(exclude={"line"})]
    assert same == []


def test_committed_report_is_current_and_self_contained():
    population = read_population(EXAMPLE / "population.csv", EXAMPLE / "events.csv")
    report = run_diff(load_rules(REPO / "rules"), load_rules(EXAMPLE / "rate80"), population.profiles, date(2020, 12, 31),
                      population.labels, population.errors, "rules", "examples/diff/rate80", "population.csv",
                      rows_in=population.rows_in, rows_not_read=population.rows_not_read)
    assert report.evaluated == 239 and len(report.row_errors) == 1 and report.rows_not_read["enterprises"] == 1
    (row,) = [r for r in report.rules if r.status == "changed"]
    assert row.rule_id == "ln2015.trademark.intl-subsidy" and row.before_count == row.after_count
    assert row.change_yuan < 0  # the cap takes back more than the 10 points give
    assert report.count("gain") > 0 and report.count("loss") > 0
    assert (EXAMPLE / "report.txt").read_text(encoding="utf-8") == render_terminal(report), REGENERATE
    html = (EXAMPLE / "report.html").read_text(encoding="utf-8")
    assert html == render_html(report), REGENERATE
    assert check_html(html).bars >= 1
    assert (EXAMPLE / "report.xlsx").stat().st_size > 5000
