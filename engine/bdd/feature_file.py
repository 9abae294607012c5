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
_FEATURE_LINE = re.compile(r"^\s*(功能|Feature)\s*:")
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


def _significant(lines: list[str], start: int, step: int) -> int | None:
    """The index of the next (step=1) or previous (step=-1) line that is neither blank nor a comment."""
    index = start
    while 0 <= index < len(lines):
        stripped = lines[index].strip()
        if stripped and not stripped.startswith("#"):
            return index
        index += step
    return None


def _is_chinese(lines: list[str]) -> bool:
    """A file without a language header is Chinese when its first keyword line (the feature line) is."""
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("@"):
            continue
        return bool(_CHINESE_KEYWORD_LINE.match(line) or _WRONG_FEATURE.match(line) or _WRONG_OUTLINE.match(line))
    return False


def _guess(lines: list[str], index: int) -> tuple[str, str, str] | None:
    """(fixed line, zh, en) when line ``index`` is a keyword look-alike in a place Gherkin expects a keyword."""
    line = lines[index]
    m = _TITLE_COLON.match(line)
    if m:
        keyword = m.group(1)
        fixed = line[:m.start(2)] + ":" + line[m.end(2):]
        if "：" in m.group(2):
            return (fixed, f"「{keyword}」后面要用半角冒号「{keyword}:」，不是全角「{keyword}：」",
                    f"'{keyword}' must be followed by an ASCII colon '{keyword}:', not a full-width '：'")
        return (fixed, f"「{keyword}」和冒号之间不能有空格，应写「{keyword}:」", f"no space between '{keyword}' and its colon: write '{keyword}:'")
    m = _WRONG_EXAMPLES.match(line)
    following = _significant(lines, index + 1, 1)
    if m and following is not None and lines[following].lstrip().startswith("|"):
        return (line[:m.start(1)] + "例子:" + line[m.end():],
                f"例子表的关键字是「例子:」，不是「{m.group(1)}」（Gherkin 中文关键字）",
                f"the Chinese keyword for an examples table is '例子:', not '{m.group(1)}'")
    m = _WRONG_FEATURE.match(line)
    if m and not any(_FEATURE_LINE.match(other) for other in lines):
        return (line[:m.start(1)] + "功能:" + line[m.end():], f"功能的关键字是「功能:」，不是「{m.group(1)}」",
                f"the feature keyword is '功能:', not '{m.group(1)}'")
    m = _WRONG_OUTLINE.match(line)
    if m:
        return (line[:m.start(1)] + "场景大纲:" + line[m.end():], f"场景大纲的关键字是「场景大纲:」，不是「{m.group(1)}」",
                f"the outline keyword is '场景大纲:', not '{m.group(1)}'")
    return None


def _error_lines(exc: Exception) -> list[int | None]:
    errors = getattr(exc, "errors", None) or [exc]
    found = []
    for error in errors:
        location = getattr(error, "location", None) or {}
        found.append(location.get("line") if isinstance(location, dict) else None)
    return found


def _swallowed(lines: list[str], document: dict[str, Any], guessed: set[int]) -> int | None:
    """A scenario-keyword look-alike that Gherkin read as description text of the feature (or of a Rule)
    although steps follow it (``场景：…`` then ``假如 …``): Gherkin then reads the steps as description too.
    A look-alike in a scenario's own description, or one not followed by a step, is left alone."""
    from gherkin.dialect import Dialect

    feature = document.get("feature")
    if not feature:
        return None
    dialect = Dialect.for_name(feature.get("language") or "en") or Dialect.for_name("en")
    step_words = tuple(k.strip() for k in dialect.given_keywords + dialect.when_keywords + dialect.then_keywords
                       + dialect.and_keywords + dialect.but_keywords if k.strip() != "*")
    headers: list[tuple[int, bool]] = [(feature["location"]["line"], True)]  # (line, a feature or rule header)

    def walk(children: list[dict[str, Any]]) -> None:
        for child in children:
            if "rule" in child:
                headers.append((child["rule"]["location"]["line"], True))
                walk(child["rule"].get("children", []))
            for kind in ("background", "scenario"):
                if kind in child:
                    headers.append((child[kind]["location"]["line"], False))

    walk(feature.get("children", []))
    headers.sort()
    for index, line in enumerate(lines):
        if index in guessed or _guess(lines, index) is None or _WRONG_FEATURE.match(line):
            continue
        above = [outer for at, outer in headers if at <= index]
        following = _significant(lines, index + 1, 1)
        if above and above[-1] and following is not None and lines[following].strip().startswith(step_words):
            return index
    return None


@dataclass
class Prepared:
    """A feature file's text with the drafters' usual mistakes set right, and Gherkin's reading of it."""

    mistakes: list[Mistake]
    text: str
    offset: int  # lines inserted at the top (a missing language header)
    document: dict[str, Any] | None = None  # gherkin's parse of ``text``; None when it still fails
    error: Exception | None = None  # Gherkin's error when it still fails


def preflight(text: str) -> Prepared:
    """Mistakes Gherkin would report obscurely (or not at all), and the text with them set right.

    The language header is checked first. Keyword look-alikes (全角冒号 after a keyword, 示例/例如 for
    例子, 需求 for 功能, 情景 for 场景大纲 …) are only guessed at on lines where Gherkin fails, or on the
    keyword line just before the line it fails on: the same words in a description are left alone.
    """
    from gherkin.dialect import Dialect
    from gherkin.parser import Parser

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
    offset = 0
    if header_line is None and _is_chinese(lines):
        mistakes.append(Mistake(1, "文件第一行缺少语言声明 `# language: zh-CN`：没有它，功能/场景/假如 等中文关键字不会被识别",
                                "the first line must be `# language: zh-CN`: without it the Chinese keywords "
                                "(功能/场景/假如…) are not recognised"))
        fixed.insert(0, "# language: zh-CN")
        offset = 1
    guessed: set[int] = set()
    while True:
        try:
            document = Parser().parse("\n".join(fixed) + "\n")
        except Exception as exc:  # noqa: BLE001 - gherkin's CompositeParserException and friends
            # Only Gherkin's first error: after it the parser is out of step, and later errors may be description lines.
            line_no = _error_lines(exc)[0]
            index = (line_no - 1) if line_no else len(fixed)
            found = False
            for candidate in (index, _significant(fixed, min(index, len(fixed)) - 1, -1)):
                if candidate is None or candidate in guessed or not 0 <= candidate < len(fixed):
                    continue
                guess = _guess(fixed, candidate)
                if guess is None:
                    continue
                guessed.add(candidate)
                fixed[candidate] = guess[0]
                mistakes.append(Mistake(candidate + 1 - offset, guess[1], guess[2]))
                found = True
                break
            if not found:
                mistakes.sort(key=lambda m: m.line or 0)
                return Prepared(mistakes, "\n".join(fixed) + "\n", offset, None, exc)
            continue
        candidate = _swallowed(fixed, document, guessed)
        if candidate is not None:
            guess = _guess(fixed, candidate)
            assert guess is not None
            guessed.add(candidate)
            fixed[candidate] = guess[0]
            mistakes.append(Mistake(candidate + 1 - offset, guess[1], guess[2]))
            continue
        mistakes.sort(key=lambda m: m.line or 0)
        return Prepared(mistakes, "\n".join(fixed) + "\n", offset, document)


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


def _templates(path: Path, document: dict[str, Any]) -> tuple[Any, list[tuple[Any, list[list[int]]]]]:
    """pytest-bdd's Feature and every scenario template, duplicates included (pytest-bdd keeps one per name),
    each with the line numbers of its examples tables' rows. Uses pytest-bdd 8/9's ``FeatureParser``."""
    from pytest_bdd.gherkin_parser import GherkinDocument
    from pytest_bdd.parser import FeatureParser, Rule, get_tag_names

    parsed = GherkinDocument.from_dict(document)

    class _Parsed(FeatureParser):
        def _parse_feature_file(self) -> GherkinDocument:
            return parsed

    parser = _Parsed(str(path.parent), path.name)
    feature = parser.parse()

    def rows(scenario: Any) -> list[list[int]]:
        return [[row.location.line for row in (examples.table_body or [])]
                for examples in scenario.examples if examples.table_header is not None]

    templates = []
    for child in parsed.feature.children:
        if child.scenario:
            templates.append((parser.parse_scenario(child.scenario, feature), rows(child.scenario)))
        elif child.rule:
            rule_data = child.rule
            background = next((parser.parse_background(c.background) for c in rule_data.children if c.background), None)
            rule = Rule(keyword=rule_data.keyword, name=rule_data.name, description=rule_data.description,
                        tags=get_tag_names(rule_data.tags), background=background)
            templates.extend((parser.parse_scenario(c.scenario, feature, rule), rows(c.scenario))
                             for c in rule_data.children if c.scenario)
    return feature, templates


def example_label(context: dict[str, str], lang: str) -> str:
    sep, eq = ("，", "=") if lang == "zh" else (", ", "=")
    return sep.join(f"{k}{eq}{v}" for k, v in context.items())


def load_feature(path: Path) -> LoadedFeature:
    """The file's scenarios and mistakes; never raises (an unexpected failure is reported as a mistake)."""
    loaded = LoadedFeature(path=path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        loaded.mistakes.append(Mistake(None, "文件不是 UTF-8 编码：请用 UTF-8 保存", "the file is not UTF-8: save it as UTF-8"))
        return loaded
    except OSError as exc:
        loaded.mistakes.append(Mistake(None, f"文件无法读取：{exc}", f"the file cannot be read: {exc}"))
        return loaded
    try:
        _load(loaded, text)
    except Exception as exc:  # noqa: BLE001 - a file pytest-bdd cannot take is a mistake in the file, not a crash
        loaded.cases = []
        line = getattr(exc, "line", None)
        loaded.mistakes.append(_bdd_mistake(exc, (line - loaded.line_offset) if isinstance(line, int) else None))
    return loaded


def _load(loaded: LoadedFeature, text: str) -> None:
    prepared = preflight(text)
    offset = prepared.offset
    loaded.mistakes.extend(prepared.mistakes)
    loaded.line_offset = offset
    loaded.lang = "zh" if re.search(r"#\s*language\s*:\s*zh", prepared.text[:400], re.IGNORECASE) else "en"
    if prepared.document is None:
        loaded.mistakes.extend(_gherkin_mistakes(prepared.error or ValueError("?"), text.splitlines(), offset))
        return
    if prepared.document.get("feature") is None:
        if any(line.strip() and not line.strip().startswith("#") for line in text.splitlines()):
            loaded.mistakes.append(Mistake(None, "文件里没有「功能:」", "the file has no 'Feature:'"))
        return
    feature, templates = _templates(loaded.path, prepared.document)
    loaded.lang = "zh" if feature.language.lower().startswith("zh") else "en"
    loaded.name = feature.name
    seen: dict[str, list[int]] = {}
    for template, row_lines in templates:
        line = template.line_number - offset
        seen.setdefault(template.name, []).append(line)
        if template.templated:
            for examples, lines in zip(template.examples, row_lines):
                for context, row_line in zip(examples.as_contexts(), lines):
                    scenario = template.render(context)
                    loaded.cases.append(Case(name=template.name, keyword=template.keyword, line=line,
                                             steps=_shift(scenario.steps, offset), example=context,
                                             example_line=row_line - offset, template_name=template.name))
        else:
            scenario = template.render({})
            loaded.cases.append(Case(name=template.name, keyword=template.keyword, line=line,
                                     steps=_shift(scenario.steps, offset), template_name=template.name))
    loaded.duplicates = [(name, lines) for name, lines in seen.items() if len(lines) > 1]


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
