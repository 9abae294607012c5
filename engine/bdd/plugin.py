"""pytest plugin (entry point ``pytest11: huiqi``): run drafters' ``.feature`` files directly.

* collection is opt-in, so that installing Huiqi does not make pytest collect other projects' ``.feature``
  files: ``huiqi_features = true`` in the pytest configuration (this repository sets it in
  ``pyproject.toml``), or ``--huiqi-rules`` on the command line. Then every ``*.feature`` file pytest
  meets is collected: one test per scenario, one per example row of a scenario outline; no Python
  module per folder is needed;
* a file with a mistake fails on its own (each of its scenarios fails with the mistake explained);
* a failing step is reported as a finding (file:line, scenario, step, expected / actual, the rule,
  its citation and calculation), never as a Python traceback;
* ``--huiqi-steps`` prints the vocabulary; ``--huiqi-rules PATH`` evaluates with another rules folder.

This module imports only pytest and the standard library at import time: a plugin that fails to
import would break every pytest run in the environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("huiqi", "惠企 Huiqi policy scenarios (.feature files)")
    group.addoption("--huiqi-steps", action="store_true", default=False,
                    help="print the scenario vocabulary (Chinese and English) and exit / 列出场景用语")
    group.addoption("--huiqi-rules", default=None, metavar="PATH",
                    help="rules folder for every scenario that names none (e.g. a proposal); also turns on collecting "
                         ".feature files / 用另一个规则目录评估（同时启用功能文件收集）")
    parser.addini("huiqi_features", "collect .feature files as Huiqi policy scenarios / 收集惠企功能文件",
                  type="bool", default=False)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    if config.getoption("huiqi_steps", False):
        from engine.bdd.sentences import vocabulary_text

        print(vocabulary_text())
        return 0
    return None


def pytest_report_header(config: pytest.Config) -> str | None:
    rules = config.getoption("huiqi_rules", None)
    return f"huiqi rules: {rules}" if rules else None


def collecting(config: pytest.Config) -> bool:
    """Whether ``.feature`` files are collected: the ini option ``huiqi_features``, or ``--huiqi-rules``."""
    return bool(config.getini("huiqi_features") or config.getoption("huiqi_rules", None))


_SESSION_RULES = pytest.StashKey[dict]()


def session_rules(config: pytest.Config, lang: str) -> tuple[Path | None, Any]:
    """``--huiqi-rules`` resolved and loaded once per session: (folder, rule set); (None, None) without it.
    Raises ``Finding`` (a missing or broken folder) for every scenario that uses it."""
    from engine.bdd.report import Finding
    from engine.bdd.world import load_ruleset, resolve_folder

    option = config.getoption("huiqi_rules", None)
    if not option:
        return None, None
    cache = config.stash.setdefault(_SESSION_RULES, {})
    if lang not in cache:
        try:
            path = resolve_folder(option, [config.invocation_params.dir, config.rootpath], lang)
            cache[lang] = (path, load_ruleset(path, lang))
        except Finding as exc:
            cache[lang] = exc
    found = cache[lang]
    if isinstance(found, Finding):
        raise found
    return found


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".feature" and collecting(parent.config):
        return FeatureFile.from_parent(parent, path=file_path)
    return None


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


class FeatureFile(pytest.File):
    """A ``.feature`` file."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            from engine.bdd.feature_file import load_feature

            loaded = load_feature(self.path)
        except Exception as exc:  # noqa: BLE001 - one broken file must not stop the run
            yield BrokenFeature.from_parent(self, name=self.path.name, error=f"{type(exc).__name__}: {exc}")
            return
        if not loaded.cases:
            if loaded.mistakes:
                yield BrokenFeature.from_parent(self, name=self.path.name, loaded=loaded)
            return
        used: dict[str, int] = {}
        for case in loaded.cases:
            name = case.name.replace("::", ":") or f"line {case.line}"
            if case.example is not None:
                name += "[" + "-".join(v for v in case.example.values()) + "]"
            if name in used:
                used[name] += 1
                name = f"{name}@{case.example_line or case.line}"
            used.setdefault(name, 1)
            yield ScenarioItem.from_parent(self, name=name, case=case, loaded=loaded)


class FeatureMistake(Exception):
    """The feature file itself is wrong (language header, full-width colon, 示例, unparsable line…)."""


class _HuiqiItem(pytest.Item):
    loaded: Any = None

    def where(self, **kwargs: Any) -> Any:
        from engine.bdd.report import Where

        lang = self.loaded.lang if self.loaded is not None else "zh"
        return Where(lang=lang, file=_display(self.path, self.config.rootpath), **kwargs)


class BrokenFeature(_HuiqiItem):
    """Stands for a feature file that cannot be read at all."""

    def __init__(self, *, loaded: Any = None, error: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.loaded = loaded
        self.error = error

    def runtest(self) -> None:
        raise FeatureMistake(self.error or "")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from engine.bdd.report import Finding, render

        if self.loaded is None:
            return render(Finding(f"功能文件无法读取 / the feature file cannot be read: {self.error}"), self.where(), mistake=True)
        lang = self.loaded.lang
        problems = "\n".join(m.text(lang) for m in self.loaded.mistakes)
        first = self.loaded.mistakes[0].line if self.loaded.mistakes else None
        return render(Finding(problems), self.where(line=first), mistake=True)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"{self.path.name}"


class ScenarioItem(_HuiqiItem):
    """One scenario, or one example row of a scenario outline."""

    def __init__(self, *, case: Any, loaded: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.case = case
        self.loaded = loaded
        self.current_step: Any = None
        self.rules_label: str | None = ""

    def runtest(self) -> None:
        from engine.bdd.feature_file import table_of
        from engine.bdd.report import Finding
        from engine.bdd.sentences import closest, match
        from engine.bdd.world import World

        if self.loaded.mistakes:
            raise FeatureMistake()
        lang = self.loaded.lang
        matched = []
        for step in self.case.steps:
            found = match(step.name)
            if found is None:
                self.current_step = step
                self.rules_label = None
                suggestions = closest(step.name, lang)
                details = ([("最接近的已知句子：" if lang == "zh" else "closest known sentences:")]
                           + [f"  {s}" for s in suggestions] if suggestions else [])
                details.append("全部句子：pytest --huiqi-steps" if lang == "zh" else "all sentences: pytest --huiqi-steps")
                raise Finding("不认识这句话" if lang == "zh" else "unknown sentence", details=details)
            matched.append((step, found))
        rootdir = self.config.rootpath
        rules_option, ruleset = session_rules(self.config, lang)
        world = World(lang, self.path.parent, rootdir, rules_option, ruleset)
        try:
            for step, found in matched:
                self.current_step = step
                world.run(found, table_of(step))
        finally:
            self.rules_label = _display(world.rules_path, rootdir) if world.rules_path is not None else ""

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | Any:
        from engine.bdd.report import Finding, render

        case = self.case
        lang = self.loaded.lang
        scenario = f"{case.name}"
        example = None
        if case.example is not None:
            from engine.bdd.feature_file import example_label

            example = example_label(case.example, lang) + (f"（第{case.example_line}行）" if lang == "zh" else
                                                          f" (line {case.example_line})")
        if excinfo.errisinstance(FeatureMistake):
            problems = "\n".join(m.text(lang) for m in self.loaded.mistakes)
            first = self.loaded.mistakes[0].line if self.loaded.mistakes else None
            return render(Finding(problems), self.where(line=first, scenario=scenario), mistake=True)
        if excinfo.errisinstance(Finding):
            step = self.current_step
            shown = f"{step.keyword.strip()} {step.name}" if step is not None else None
            where = self.where(line=case.line, scenario=scenario, example=example, step=shown,
                               step_line=step.line_number if step is not None else None, rules=self.rules_label)
            return render(excinfo.value, where)  # type: ignore[arg-type]
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, self.case.line - 1, f"{self.case.keyword}: {self.name}"
