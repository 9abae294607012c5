"""Text output fits an 80-column terminal (CJK characters take two columns) and never shows a status code."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import evaluate
from engine.render import STATUS, render_explanation, render_text
from engine.text_width import display_width, wrap

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = tomllib.loads((ROOT / "examples" / "expected.toml").read_text(encoding="utf-8"))["profiles"]
CODES = re.compile(r"\b(not_eligible|not_in_force|eligible|undetermined|superseded|withheld|violated|holds)\b")


def results(name: str):
    profile = json.loads((ROOT / "examples" / "profiles" / name).read_text(encoding="utf-8"))
    return evaluate(profile, EXPECTED[name]["as_of"], explain=True)


def too_wide(text: str, width: int = 80) -> list[str]:
    return [line for line in text.splitlines() if display_width(line) > width]


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_example_fits_80_columns(name, lang):
    result = results(name)
    assert too_wide(render_text(result, lang)) == []
    for rule_id in sorted({t.rule_id for t in result.traces}):
        assert too_wide(render_explanation(result, rule_id, lang)) == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_chinese_output_translates_every_status(name):
    result = results(name)
    for rule_id in sorted({t.rule_id for t in result.traces}):
        text = render_explanation(result, rule_id, "zh")
        head = text.splitlines()[0] if text.strip() else ""
        assert not CODES.search(text.replace(rule_id, "")), head
    assert not CODES.search(render_text(result, "zh"))


def test_every_trace_status_has_words():
    assert set(STATUS["zh"]) == set(STATUS["en"])
    assert {"eligible", "not_eligible", "undetermined", "not_in_force", "withheld", "superseded", "met", "violated",
            "holds", "true", "false", "unknown"} <= set(STATUS["zh"])


def test_wide_characters_count_two_columns():
    assert display_width("补助ab") == 6
    assert wrap("一二三四五六", 6) == ["一二三", "四五六"]
    assert wrap("an English sentence", 10, "", "  ") == ["an English", "  sentence"]
    assert wrap("an English sentence", 9, "", "  ") == ["an", "  English", "  sentenc", "  e"]  # cut, never wider


@given(st.text(alphabet=st.sampled_from("补助商标 abc-[]（）。0"), max_size=300), st.integers(4, 100))
def test_wrapped_lines_fit_and_keep_every_character(text, width):
    lines = wrap(text, width)
    assert all(display_width(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
