"""Findings: what a drafter reads when a scenario does not hold (no Python traceback)."""

from __future__ import annotations

from dataclasses import dataclass, field

LABELS = {
    "zh": {"head": "✗ 场景不成立", "file": "文件", "scenario": "场景", "example": "例子", "step": "步骤",
           "problem": "问题", "expected": "预期", "actual": "实际", "rules": "规则目录", "mistake": "✗ 功能文件有误",
           "default_rules": "（默认规则库）", "line": "第{n}行"},
    "en": {"head": "✗ Scenario does not hold", "file": "File", "scenario": "Scenario", "example": "Example",
           "step": "Step", "problem": "Problem", "expected": "Expected", "actual": "Actual", "rules": "Rules folder",
           "mistake": "✗ Mistake in the feature file", "default_rules": "(the shipped rule base)", "line": "line {n}"},
}


class Finding(AssertionError):
    """A scenario step that does not hold, or a drafter's mistake, told as a finding.

    ``problem`` is one sentence; ``expected``/``actual`` are shown when given; ``details`` are further
    lines (the rule, its citation, its calculation, the conditions as checked).
    """

    def __init__(self, problem: str, *, expected: str | None = None, actual: str | None = None,
                 details: list[str] | None = None):
        super().__init__(problem)
        self.problem = problem
        self.expected = expected
        self.actual = actual
        self.details = list(details or [])


@dataclass
class Where:
    """Where a finding happened: shown above the finding."""

    lang: str
    file: str
    line: int | None = None
    scenario: str | None = None
    example: str | None = None
    step: str | None = None
    step_line: int | None = None
    rules: str | None = None
    extra: list[str] = field(default_factory=list)


def _indent(text: str, width: int) -> str:
    pad = " " * width
    return ("\n" + pad).join(text.splitlines()) if text else text


def render(finding: Finding, where: Where, mistake: bool = False) -> str:
    """The finding as plain text in the feature file's language."""
    t = LABELS.get(where.lang, LABELS["zh"])
    colon = "：" if where.lang == "zh" else ": "
    line = where.step_line or where.line
    first, *rest = finding.problem.splitlines() or [""]
    out = [(t["mistake"] if mistake else t["head"]) + colon + first]
    out.append(f"  {t['file']}{colon}{where.file}" + (f":{line}" if line else ""))
    if where.scenario:
        out.append(f"  {t['scenario']}{colon}{where.scenario}")
    if where.example:
        out.append(f"  {t['example']}{colon}{where.example}")
    if where.step:
        out.append(f"  {t['step']}{colon}{where.step}" + (f"  ({t['line'].format(n=where.step_line)})" if where.step_line else ""))
    if rest:
        out.append(f"  {t['problem']}{colon}")
        out.extend("    " + line for line in [first, *rest])
    if finding.expected is not None:
        out.append(f"  {t['expected']}{colon}{_indent(finding.expected, 4)}")
    if finding.actual is not None:
        out.append(f"  {t['actual']}{colon}{_indent(finding.actual, 4)}")
    for detail in finding.details:
        out.append("  " + _indent(detail, 4))
    if where.rules is not None and not mistake:
        out.append(f"  {t['rules']}{colon}{where.rules or t['default_rules']}")
    out.extend("  " + e for e in where.extra)
    return "\n".join(out)
