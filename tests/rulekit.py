"""Small rule sets written to a temporary folder, for tests that need precise control over rules."""

from __future__ import annotations

import textwrap
from pathlib import Path

from engine.credit_code import check_character

DOCUMENT = """
[document]
id = "{doc_id}"
title = "测试文件"
title_en = "Test document"
issuer = "测试机关"
jurisdiction = "{jurisdiction}"
source = "000_e009afe222c9a545.txt"
effective_from = {start}
{end_line}
"""

RATE_PARAMETER = """
[parameters.rate]
description = "补助比例"
description_en = "subsidy rate"
unit = "rate"
  [[parameters.rate.steps]]
  from = 2015-01-01
  value = 0.70
  citation = { section = "四、（三）", quote = "对企业商标国际注册给予70%补助" }
  [[parameters.rate.steps]]
  from = 2018-01-01
  value = 0.80
  citation = { section = "四、（三）", quote = "对企业商标国际注册给予70%补助" }
"""

CITE = 'citation = { section = "四、（三）", quote = "对企业商标国际注册给予70%补助" }\ndepartments = ["省知识产权局"]'


def document(doc_id: str = "doc-a", jurisdiction: str = "辽宁省", start: str = "2015-01-01", end: str | None = "2020-12-31") -> str:
    end_line = f"effective_to = {end}" if end else ""
    return DOCUMENT.format(doc_id=doc_id, jurisdiction=jurisdiction, start=start, end_line=end_line)


def rule(rule_id: str, body: str, title: str | None = None, title_en: str | None = None, cite: bool = True) -> str:
    return textwrap.dedent(f"""
    [[rules]]
    id = "{rule_id}"
    title = "{title or rule_id}"
    title_en = "{title_en or rule_id}"
    """) + textwrap.dedent(body).strip() + "\n" + (CITE + "\n" if cite else "")


def write_rules(folder: Path, *files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, text in enumerate(files):
        (folder / f"f{index}.toml").write_text(text, encoding="utf-8")
    return folder


def credit_code(seed: int) -> str:
    """A well-formed unified social credit code with a valid check character."""
    body = f"Y13501{seed:011d}"[:17]  # "Y1": not a registered enterprise, so nothing is derived from it
    return body + check_character(body)


def profile(city: str = "沈阳市", seed: int = 1, events: list | None = None, **fields) -> dict:
    data = {"credit_code": credit_code(seed), "name": f"测试企业{seed}", "city": city, **fields}
    data["events"] = events or []
    return data
