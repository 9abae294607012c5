"""The documents' examples do what they say: the README's Python example prints exactly its commented output,
and the rule-format reference names every event field in both languages."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

from engine import parse_profile, schema

ROOT = Path(__file__).resolve().parent.parent


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_python_example_prints_what_it_says():
    (block,) = [b for b in python_blocks((ROOT / "README.md").read_text(encoding="utf-8")) if "engine.evaluate" in b]
    said = [line[2:] for line in block.splitlines() if line.startswith("# ")]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, "README.md", "exec"), {})
    assert printed.getvalue().splitlines() == said


def test_rule_format_names_the_events_key_and_every_event_field_in_chinese():
    text = (ROOT / "docs" / "rule-format.md").read_text(encoding="utf-8")
    assert "**`events`**" in text and "**`事件`**" in text
    for spec in schema.EVENT_COMMON + schema.ALL_EVENT_FIELDS:
        assert f"`{spec.name}` {spec.zh}" in text, spec.name
    for event in schema.EVENT_TYPES:
        assert f"| `{event.code}` | {event.zh} |" in text
    for spec in schema.ENTITY_FIELDS:
        assert f"| `{spec.name}` | {spec.zh} |" in text, spec.name
    example = re.search(r"```json\n(\"events\".*?)\n```", text, flags=re.S).group(1)
    profile = parse_profile({"统一社会信用代码": "91350100M000100Y43", "名称": "x", "所在城市": "阜新",
                             **json.loads("{" + example + "}")})
    assert profile.events[0].cost is not None and profile.events[0].route == "madrid"


def test_batch_guide_counts_the_sample_errors_as_the_run_does(tmp_path):
    from engine.batch import read_population

    guide = (ROOT / "docs" / "batch-guide.md").read_text(encoding="utf-8")
    population = read_population(ROOT / "examples" / "batch" / "sample.xlsx")
    errors = population.errors
    by_table = {kind: errors.filter(errors["table"] == kind).select("_t", "_p").unique().height
                for kind in ("enterprises", "events")}
    refused_parent = errors.filter(errors["message_zh"].str.contains("所属企业")).height
    total = by_table["enterprises"] + by_table["events"]
    assert f"共 {total} 行有错误" in guide and f"有错误的行 = {total}" in guide and f"so {total} rows have errors" in guide
    assert f"{by_table['enterprises']} 个企业行" in guide and f"{by_table['events'] - refused_parent} 个事件行" in guide
    assert f"{refused_parent} 个事件行也列入错误表" in guide


def test_drafting_tools_does_not_speak_of_a_batch_module_to_come():
    text = (ROOT / "docs" / "drafting-tools.md").read_text(encoding="utf-8")
    assert "once that exists" not in text and "就绪后" not in text
