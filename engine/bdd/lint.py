"""``huiqi features check``: find mistakes in feature files without running them.

Reports, with file:line: mistakes in the file itself (language header, full-width colons, 示例…),
duplicate scenario names (both run, but two scenarios with one name are hard to tell apart in reports),
unknown sentences (with the closest known ones), unknown or ambiguous rule names, rules of a kind the
sentence is not for, unknown kinds of entity and honours. The checks are the ones ``World`` makes when
it runs the step (``world.entity_fields``, ``world.honour_fields``, ``world.wrong_kind``). ``scan`` also returns every rule a Then-step names, with the step's polarity
(applies / does not apply): ``tests/test_feature_coverage.py`` uses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.bdd.feature_file import load_feature
from engine.bdd.report import Finding
from engine.bdd.sentences import closest, match
from engine.bdd.world import entity_fields, honour_fields, load_ruleset, lookup_rule, resolve_folder, wrong_kind


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


def feature_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """(the .feature files under ``paths``, the paths that are neither a .feature file nor a folder)."""
    found: list[Path] = []
    other: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.rglob("*.feature")))
        elif path.suffix == ".feature" and path.is_file():
            found.append(path)
        else:
            other.append(path)
    return found, other


def _show(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def scan(paths: Sequence[str | Path], rules: str | Path | None = None, root: Path | None = None,
         lang: str = "zh") -> Scan:
    """Check every feature file under ``paths`` against ``rules`` (default: the shipped rule base).

    Never raises for a bad file or rules folder: each becomes a problem."""
    root = root or Path.cwd()
    result = Scan()
    seen: set[tuple[str, int | None, str]] = set()

    def problem(file: str, line: int | None, zh: str, en: str) -> None:
        if (file, line, zh) not in seen:
            seen.add((file, line, zh))
            result.problems.append(Problem(file, line, zh, en))

    default_rules_path = None
    if rules is not None:
        try:
            default_rules_path = resolve_folder(str(rules), [Path.cwd(), root], lang)
        except Finding as exc:
            problem(str(rules), None, exc.problem, exc.problem)
            return result
    files, other = feature_files(paths)
    for path in other:
        problem(str(path), None, "不是 .feature 文件或文件夹" if path.exists() else "找不到这个文件或文件夹",
                "not a .feature file or a folder" if path.exists() else "no such file or folder")
    rulesets: dict[Path | None, object] = {}  # each rules folder loaded once per scan

    def ruleset_of(folder: Path | None):
        if folder not in rulesets:
            try:
                rulesets[folder] = load_ruleset(folder, "zh")
            except Finding as exc:
                rulesets[folder] = exc
        return rulesets[folder]

    mentioned: set[tuple[str, str, str, int]] = set()
    for path in files:
        result.files += 1
        shown = _show(path, root)
        loaded = load_feature(path)
        for mistake in loaded.mistakes:
            problem(shown, mistake.line, mistake.zh, mistake.en)
        for name, lines in loaded.duplicates:
            problem(shown, lines[-1], f"场景名「{name}」重复（第{'、'.join(map(str, lines))}行）：两个场景都会运行，但同名场景在报告中难以区分，请改名",
                    f"duplicate scenario name '{name}' (lines {', '.join(map(str, lines))}): both run, but scenarios "
                    "with one name are hard to tell apart in reports; rename one")
        result.scenarios += len({(c.name, c.line) for c in loaded.cases})
        matched = {id(step): match(step.name) for case in loaded.cases for step in case.steps}
        for case in loaded.cases:
            ruleset_path = default_rules_path
            for step in case.steps:
                found = matched[id(step)]
                if found is not None and found.sentence.handler == "evaluate_with_rules":
                    try:
                        ruleset_path = resolve_folder(found.args["path"], [path.parent, root], "zh")
                    except Finding as exc:
                        problem(shown, step.line_number, exc.problem, f"rules folder not found: {found.args['path']}")
                        ruleset_path = None
            ruleset = ruleset_of(ruleset_path)
            if isinstance(ruleset, Finding):
                problem(shown, case.line, ruleset.problem + "\n" + "\n".join(ruleset.details),
                        f"the rules folder cannot be loaded: {ruleset_path}\n" + "\n".join(ruleset.details))
                continue
            for step in case.steps:
                found = matched[id(step)]
                if found is None:
                    hints = closest(step.name, loaded.lang, n=2)
                    more_zh = "；最接近：" + " / ".join(hints) if hints else ""
                    more_en = "; closest: " + " / ".join(hints) if hints else ""
                    problem(shown, step.line_number, f"不认识这句话「{step.name}」{more_zh}",
                            f"unknown sentence '{step.name}'{more_en}")
                    continue
                args = found.args
                if found.sentence.key == "entity_of_kind" and entity_fields(args["kind"]) is None:
                    problem(shown, step.line_number, f"不认识的主体类型「{args['kind']}」", f"unknown kind of entity '{args['kind']}'")
                if found.sentence.key == "honour" and honour_fields(args["honour"]) is None:
                    problem(shown, step.line_number, f"不认识的荣誉或奖项「{args['honour']}」", f"unknown honour '{args['honour']}'")
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
                        continue
                    if looked.rule is None:
                        hint = "；相近：" + "、".join(looked.suggestions[:3]) if looked.suggestions else ""
                        hint_en = "; close: " + ", ".join(looked.suggestions[:3]) if looked.suggestions else ""
                        problem(shown, step.line_number, f"没有名为「{name}」的规则{hint}", f"no rule named '{name}'{hint_en}")
                        continue
                    wrong = wrong_kind(looked.rule, found.sentence.kinds.get(arg))
                    if wrong is not None:
                        problem(shown, step.line_number, *wrong)
                        continue
                    if ruleset_path is None or ruleset_path == default_rules_path:
                        entry = (looked.rule.id, polarity, shown, step.line_number)
                        if entry not in mentioned:
                            mentioned.add(entry)
                            result.mentions.append(Mention(looked.rule.id, polarity, shown, step.line_number, case.name))
    return result


def main(paths: Sequence[str], rules: str | None = None, lang: str = "zh") -> int:
    """Print the problems; 0 when there are none, 1 otherwise."""
    result = scan(paths or ["features"], rules, lang=lang)
    for p in result.problems:
        print(p.text(lang))
    if lang == "zh":
        print(f"检查了 {result.files} 个功能文件、{result.scenarios} 个场景：" +
              (f"发现 {len(result.problems)} 个问题" if result.problems else "没有发现问题"))
    else:
        print(f"checked {result.files} feature files, {result.scenarios} scenarios: " +
              (f"{len(result.problems)} problems" if result.problems else "no problems"))
    return 1 if result.problems else 0
