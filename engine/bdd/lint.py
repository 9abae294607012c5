"""``huiqi features check``: find mistakes in feature files without running them.

Reports, with file:line: mistakes in the file itself (language header, full-width colons, 示例…),
duplicate scenario names (pytest-bdd keeps only one scenario per name and silently drops the others),
unknown sentences (with the closest known ones), unknown or ambiguous rule names, unknown kinds of
entity and honours. ``scan`` also returns every rule a Then-step names, with the step's polarity
(applies / does not apply): ``tests/test_feature_coverage.py`` uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.bdd.feature_file import load_feature
from engine.bdd.report import Finding
from engine.bdd.sentences import closest, match
from engine.bdd.world import _HONOUR_KEYS, _PHRASE_KEYS, key, load_ruleset, lookup_rule, resolve_folder


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.zh if lang == 'zh' else self.en}"


@dataclass(frozen=True)
class Mention:
    """A Then-step naming a rule."""

    rule_id: str
    polarity: str  # "+" the rule applies, "-" it does not, "" neither (based on, undetermined)
    file: str
    line: int
    scenario: str


@dataclass
class Scan:
    files: int = 0
    scenarios: int = 0
    problems: list[Problem] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)


def feature_files(paths: Iterable[str | Path]) -> list[Path]:
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.rglob("*.feature")))
        elif path.suffix == ".feature":
            found.append(path)
    return found


def _show(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def scan(paths: Sequence[str | Path], rules: str | Path | None = None, root: Path | None = None) -> Scan:
    """Check every feature file under ``paths`` against ``rules`` (default: the shipped rule base)."""
    root = root or Path.cwd()
    result = Scan()
    default_rules_path = resolve_folder(str(rules), [Path.cwd(), root], "zh") if rules is not None else None
    seen: set[tuple[str, int | None, str]] = set()

    def problem(file: str, line: int | None, zh: str, en: str) -> None:
        if (file, line, zh) not in seen:
            seen.add((file, line, zh))
            result.problems.append(Problem(file, line, zh, en))

    mentioned: set[tuple[str, str, str, int]] = set()
    for path in feature_files(paths):
        result.files += 1
        shown = _show(path, root)
        loaded = load_feature(path)
        for mistake in loaded.mistakes:
            problem(shown, mistake.line, mistake.zh, mistake.en)
        for name, lines in loaded.duplicates:
            at = "、".join(map(str, lines))
            problem(shown, lines[-1], f"场景名「{name}」重复（第{at}行）：pytest-bdd 只保留一个同名场景，请改名",
                    f"duplicate scenario name '{name}' (lines {', '.join(map(str, lines))}): pytest-bdd keeps only one; rename it")
        result.scenarios += len({(c.name, c.line) for c in loaded.cases})
        for case in loaded.cases:
            ruleset_path = default_rules_path
            for step in case.steps:
                found = match(step.name)
                if found is not None and found.sentence.handler == "evaluate_with_rules":
                    try:
                        ruleset_path = resolve_folder(found.args["path"], [path.parent, root], loaded.lang)
                    except Finding as exc:
                        problem(shown, step.line_number, exc.problem, exc.problem)
                        ruleset_path = None
            try:
                ruleset = load_ruleset(ruleset_path, loaded.lang)
            except Finding as exc:
                problem(shown, case.line, exc.problem + "\n" + "\n".join(exc.details), exc.problem)
                continue
            for step in case.steps:
                found = match(step.name)
                if found is None:
                    hints = closest(step.name, loaded.lang, n=2)
                    more_zh = "；最接近：" + " / ".join(hints) if hints else ""
                    more_en = "; closest: " + " / ".join(hints) if hints else ""
                    problem(shown, step.line_number, f"不认识这句话「{step.name}」{more_zh}",
                            f"unknown sentence '{step.name}'{more_en}")
                    continue
                args = found.args
                if "kind" in args and found.sentence.key == "entity_of_kind" and key(args["kind"]) not in _PHRASE_KEYS:
                    problem(shown, step.line_number, f"不认识的主体类型「{args['kind']}」", f"unknown kind of entity '{args['kind']}'")
                if found.sentence.key == "honour" and key(args["honour"]) not in _HONOUR_KEYS:
                    from engine import schema

                    if schema.event_type_code(args["honour"]) is None:
                        problem(shown, step.line_number, f"不认识的荣誉或奖项「{args['honour']}」",
                                f"unknown honour '{args['honour']}'")
                for arg, polarity in found.sentence.rules.items():
                    name = args.get(arg)
                    if name is None or "<" in name:
                        continue
                    looked = lookup_rule(name, ruleset)
                    if looked.rule is None and looked.ambiguous and found.sentence.shared_title_ok:
                        continue  # read as "any of them" when run; names no one rule for coverage
                    if looked.rule is None and looked.ambiguous:
                        ids = ", ".join(r.id for r in looked.ambiguous)
                        problem(shown, step.line_number, f"「{name}」指向多条规则：{ids}；请改用规则编号或中文标题",
                                f"'{name}' names several rules: {ids}; use the rule id")
                    elif looked.rule is None:
                        hint = "；相近：" + "、".join(looked.suggestions[:3]) if looked.suggestions else ""
                        hint_en = "; close: " + ", ".join(looked.suggestions[:3]) if looked.suggestions else ""
                        problem(shown, step.line_number, f"没有名为「{name}」的规则{hint}", f"no rule named '{name}'{hint_en}")
                    elif ruleset_path is None or ruleset_path == default_rules_path:
                        entry = (looked.rule.id, polarity, shown, step.line_number)
                        if entry not in mentioned:
                            mentioned.add(entry)
                            result.mentions.append(Mention(looked.rule.id, polarity, shown, step.line_number, case.name))
    return result


def main(paths: Sequence[str], rules: str | None = None, lang: str = "zh") -> int:
    """Print the problems; 0 when there are none, 1 otherwise."""
    if not paths:
        paths = ["features"]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        for p in missing:
            print(("找不到：" if lang == "zh" else "not found: ") + p)
        return 1
    try:
        result = scan(paths, rules)
    except Finding as exc:
        print(exc.problem)
        print("\n".join(exc.details))
        return 1
    for p in result.problems:
        print(p.text(lang))
    if lang == "zh":
        print(f"检查了 {result.files} 个功能文件、{result.scenarios} 个场景：" +
              (f"发现 {len(result.problems)} 个问题" if result.problems else "没有发现问题"))
    else:
        print(f"checked {result.files} feature files, {result.scenarios} scenarios: " +
              (f"{len(result.problems)} problems" if result.problems else "no problems"))
    return 1 if result.problems else 0
