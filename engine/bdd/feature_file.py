"""Reading a ``.feature`` file: the drafters' usual mistakes first, then pytest-bdd's Gherkin parser.

``load_feature`` never raises for a bad file: it returns the mistakes found (with line numbers and a
plain explanation) and, when the file can still be understood once those mistakes are set right, its
scenarios, so each scenario of a broken file fails with the message and other files are unaffected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ZH_KEYWORDS = ("功能", "背景", "场景大纲", "剧本大纲", "场景", "剧本", "例子", "规则")
EN_KEYWORDS = ("Feature", "Background", "Scenario Outline", "Scenario Template", "Scenario", "Examples", "Example",
               "Scenarios", "Rule")
ZH_STEPS = ("假如", "假设", "假定", "当", "那么", "并且", "而且", "同时", "但是")
_HEADER = re.compile(r"^\s*#\s*language\s*([:：])\s*(\S*)\s*$", re.IGNORECASE)
_TITLE_COLON = re.compile(r"^\s*(" + "|".join(map(re.escape, ZH_KEYWORDS + EN_KEYWORDS)) + r")(\s*：|\s+:)")
_WRONG_EXAMPLES = re.compile(r"^\s*(示例|样例|实例|举例|例如|范例)\s*[:：]")
_WRONG_FEATURE = re.compile(r"^\s*(特性|需求|功能点)\s*[:：]")
_WRONG_OUTLINE = re.compile(r"^\s*(场景概要|场景模板|场景模版|情景大纲|情景)\s*[:：]")
_CHINESE_KEYWORD_LINE = re.compile(r"^\s*(" + "|".join(ZH_KEYWORDS + ZH_STEPS) + r")")
_STEP_HINTS = {"如果": "假如", "给定": "假如", "已知": "假如", "然后": "那么 或 并且", "则": "那么", "而": "并且", "且": "并且",
               "并": "并且", "和": "并且", "但": "但是"}


@dataclass(frozen=True)
class Mistake:
    line: int | None
    zh: str
    en: str

    def text(self, lang: str) -> str:
        where = (f"第{self.line}行：" if lang == "zh" else f"line {self.line}: ") if self.line else ""
        return where + (self.zh if lang == "zh" else self.en)


@dataclass
class Case:
    """One test: a scenario, or one example row of a scenario outline."""

    name: str
    keyword: str
    line: int
    steps: list[Any]  # pytest_bdd.parser.Step
    example: dict[str, str] | None = None
    example_line: int | None = None
    template_name: str = ""


@dataclass
class LoadedFeature:
    path: Path
    lang: str = "zh"
    name: str = ""
    cases: list[Case] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)
    duplicates: list[tuple[str, list[int]]] = field(default_factory=list)
    line_offset: int = 0


def preflight(text: str) -> tuple[list[Mistake], str, int]:
    """Mistakes Gherkin would report obscurely (or not at all), and the text with them set right."""
    from gherkin.dialect import Dialect

    mistakes: list[Mistake] = []
    lines = text.splitlines()
    fixed = list(lines)
    header_line = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        m = _HEADER.match(line)
        if m:
            header_line = index
            colon, language = m.groups()
            if colon == "：":
                mistakes.append(Mistake(index + 1, "语言声明要用半角冒号：`# language: zh-CN`，不是全角「：」",
                                        "the language header needs an ASCII colon: `# language: zh-CN`, not a full-width '：'"))
            if Dialect.for_name(language) is None:
                suggestion = "zh-CN" if language.lower().startswith("zh") or not language else "en"
                mistakes.append(Mistake(index + 1, f"不认识的语言「{language}」，中文请写 `# language: zh-CN`",
                                        f"unknown language '{language}'; write `# language: {suggestion}`"))
                language = suggestion
            fixed[index] = f"# language: {language}"
            break
        if not stripped.startswith("#"):
            break
    has_chinese = any(_CHINESE_KEYWORD_LINE.match(line) for line in lines)
    offset = 0
    if header_line is None and has_chinese:
        mistakes.append(Mistake(1, "文件第一行缺少语言声明 `# language: zh-CN`：没有它，功能/场景/假如 等中文关键字不会被识别",
                                "the first line must be `# language: zh-CN`: without it the Chinese keywords "
                                "(功能/场景/假如…) are not recognised"))
        fixed.insert(0, "# language: zh-CN")
        offset = 1
    for index, line in enumerate(lines):
        n = index + 1
        target = index + offset
        m = _TITLE_COLON.match(line)
        if m:
            keyword = m.group(1)
            if "：" in m.group(2):
                mistakes.append(Mistake(n, f"「{keyword}」后面要用半角冒号「{keyword}:」，不是全角「{keyword}：」",
                                        f"'{keyword}' must be followed by an ASCII colon '{keyword}:', not a full-width '：'"))
            else:
                mistakes.append(Mistake(n, f"「{keyword}」和冒号之间不能有空格，应写「{keyword}:」",
                                        f"no space between '{keyword}' and its colon: write '{keyword}:'"))
            fixed[target] = line[:m.start(2)] + ":" + line[m.end(2):]
            continue
        m = _WRONG_EXAMPLES.match(line)
        if m:
            mistakes.append(Mistake(n, f"例子表的关键字是「例子:」，不是「{m.group(1)}」（Gherkin 中文关键字）",
                                    f"the Chinese keyword for an examples table is '例子:', not '{m.group(1)}'"))
            fixed[target] = line[:m.start(1)] + "例子:" + line[m.end():]
            continue
        m = _WRONG_FEATURE.match(line)
        if m:
            mistakes.append(Mistake(n, f"功能的关键字是「功能:」，不是「{m.group(1)}」", f"the feature keyword is '功能:', not '{m.group(1)}'"))
            fixed[target] = line[:m.start(1)] + "功能:" + line[m.end():]
            continue
        m = _WRONG_OUTLINE.match(line)
        if m:
            mistakes.append(Mistake(n, f"场景大纲的关键字是「场景大纲:」，不是「{m.group(1)}」",
                                    f"the outline keyword is '场景大纲:', not '{m.group(1)}'"))
            fixed[target] = line[:m.start(1)] + "场景大纲:" + line[m.end():]
    return mistakes, "\n".join(fixed) + "\n", offset


def _gherkin_mistakes(exc: Exception, lines: list[str], offset: int) -> list[Mistake]:
    errors = getattr(exc, "errors", None) or [exc]
    found = []
    for error in errors:
        location = getattr(error, "location", None) or {}
        line_no = location.get("line") if isinstance(location, dict) else None
        line_no = line_no - offset if line_no else None
        content = lines[line_no - 1].strip() if line_no and 0 < line_no <= len(lines) else ""
        hint_zh = hint_en = ""
        for wrong, right in _STEP_HINTS.items():
            if content.startswith(wrong):
                hint_zh = f"；步骤关键字应为「{right}」，不是「{wrong}」"
                hint_en = f"; the step keyword is '{right}', not '{wrong}'"
                break
        message = str(error).split("\n")[0]
        message = re.sub(r"^\(\d+:\d+\):\s*", "", message)
        found.append(Mistake(line_no, f"无法解析这一行「{content}」{hint_zh}（Gherkin：{message}）",
                             f"cannot read this line '{content}'{hint_en} (Gherkin: {message})"))
    return found


def _templates(path: Path, text: str) -> tuple[Any, list[Any]]:
    """pytest-bdd's Feature and every scenario template, duplicates included (pytest-bdd keeps one per name)."""
    from gherkin.parser import Parser
    from pytest_bdd.gherkin_parser import GherkinDocument
    from pytest_bdd.parser import FeatureParser, Rule, get_tag_names

    class _TextParser(FeatureParser):
        def _parse_feature_file(self) -> GherkinDocument:
            return GherkinDocument.from_dict(Parser().parse(text))

    parser = _TextParser(str(path.parent), path.name)
    feature = parser.parse()
    templates = []
    for child in parser._parse_feature_file().feature.children:
        if child.scenario:
            templates.append(parser.parse_scenario(child.scenario, feature))
        elif child.rule:
            rule_data = child.rule
            background = next((parser.parse_background(c.background) for c in rule_data.children if c.background), None)
            rule = Rule(keyword=rule_data.keyword, name=rule_data.name, description=rule_data.description,
                        tags=get_tag_names(rule_data.tags), background=background)
            templates.extend(parser.parse_scenario(c.scenario, feature, rule) for c in rule_data.children if c.scenario)
    return feature, templates


def example_label(context: dict[str, str], lang: str) -> str:
    sep, eq = ("，", "=") if lang == "zh" else (", ", "=")
    return sep.join(f"{k}{eq}{v}" for k, v in context.items())


def load_feature(path: Path) -> LoadedFeature:
    loaded = LoadedFeature(path=path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        loaded.mistakes.append(Mistake(None, "文件不是 UTF-8 编码：请用 UTF-8 保存", "the file is not UTF-8: save it as UTF-8"))
        return loaded
    mistakes, fixed, offset = preflight(text)
    loaded.mistakes.extend(mistakes)
    loaded.line_offset = offset
    loaded.lang = "zh" if re.search(r"#\s*language\s*:\s*zh", fixed[:400], re.IGNORECASE) else "en"
    from pytest_bdd.exceptions import GherkinParseError

    try:
        feature, templates = _templates(path, fixed)
    except GherkinParseError as exc:
        line = (exc.line - offset) if getattr(exc, "line", None) else None
        loaded.mistakes.append(_bdd_mistake(exc, line))
        return loaded
    except Exception as exc:  # noqa: BLE001 - gherkin's CompositeParserException and friends
        loaded.mistakes.extend(_gherkin_mistakes(exc, text.splitlines(), offset))
        return loaded
    loaded.lang = "zh" if feature.language.lower().startswith("zh") else "en"
    loaded.name = feature.name
    seen: dict[str, list[int]] = {}
    for template in templates:
        seen.setdefault(template.name, []).append(template.line_number - offset)
        if template.templated:
            for examples in template.examples:
                for row_index, context in enumerate(examples.as_contexts()):
                    scenario = template.render(context)
                    loaded.cases.append(Case(name=template.name, keyword=template.keyword, line=template.line_number - offset,
                                             steps=_shift(scenario.steps, offset), example=context,
                                             example_line=(examples.line_number or 0) + 2 + row_index - offset,
                                             template_name=template.name))
        else:
            scenario = template.render({})
            loaded.cases.append(Case(name=template.name, keyword=template.keyword, line=template.line_number - offset,
                                     steps=_shift(scenario.steps, offset), template_name=template.name))
    loaded.duplicates = [(name, lines) for name, lines in seen.items() if len(lines) > 1]
    return loaded


def _shift(steps: list[Any], offset: int) -> list[Any]:
    if offset:
        for step in steps:
            step.line_number -= offset
    return steps


def _bdd_mistake(exc: Exception, line: int | None) -> Mistake:
    message = str(getattr(exc, "args", [""])[0])
    zh = message
    if "First step" in message:
        zh = "场景的第一步要以「假如」「当」或「那么」开头，不能以「并且」「但是」开头"
    return Mistake(line, zh, message)


def table_of(step: Any) -> list[list[str]] | None:
    """A step's data table as rows of cell text (None when it has none)."""
    table = getattr(step, "datatable", None)
    if table is None:
        return None
    return [[cell.value for cell in row.cells] for row in table.rows]
