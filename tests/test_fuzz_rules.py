"""Fuzzing rule files (engine.rulebook.load_rules) the way drafters break them.

Invariant: ``load_rules`` returns a RuleSet or raises ``LoadError`` whose every problem names the file
(and, where there is one, the line, rule id and field) in Chinese and English; and a rule set that loads
evaluates the shipped example profiles with both backends, or refuses with ``EngineLimitError``.
Never another exception, never a hang. Example counts are in the test names (``_N`` = max_examples).
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
import tomllib
from contextlib import contextmanager
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.durable_driver import EngineLimitError
from engine.evaluate import evaluate
from engine.rulebook import MAX_FILE_BYTES, LoadError, RuleSet, load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
FILES = sorted(RULES.rglob("*.toml"))
PROFILES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples" / "profiles").glob("*.json"))]


def fuzz(n: int):
    return settings(max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])


# -- a small TOML writer (inline tables and arrays only: any data, any nesting) -----------------------

HUGE_INT = "<an integer of 5000 digits>"  # stands in for itself: Python will not even repr such an int


def toml_value(value) -> str:
    if value == HUGE_INT:
        return "9" * 5000
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        text = str(value)
        return {"NaN": "nan", "-NaN": "-nan", "Infinity": "inf", "-Infinity": "-inf", "sNaN": "nan"}.get(text, text)
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, (datetime, date, dtime)):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")  # TOML wants DEL escaped
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def toml_document(data: dict) -> str:
    return "".join(f"{json.dumps(str(k), ensure_ascii=False)} = {toml_value(v)}\n" for k, v in data.items())


# -- the invariant ------------------------------------------------------------------------------------

@contextmanager
def rules_copy():
    folder = Path(tempfile.mkdtemp(prefix="huiqi-fuzz-"))
    try:
        target = folder / "rules"
        shutil.copytree(RULES, target)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_load(path: Path) -> RuleSet | None:
    started = time.perf_counter()
    try:
        ruleset = load_rules(path)
    except LoadError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file and problem.message_zh and problem.message_en
            assert problem.text("zh") and problem.text("en")
        return None
    finally:
        assert time.perf_counter() - started < 5
    return ruleset


def check_evaluates(ruleset: RuleSet, profiles=PROFILES[:4]) -> None:
    for profile in profiles:
        for backend in ("python", "durable"):
            try:
                result = evaluate(profile, date(2019, 12, 31), ruleset, backend=backend)
            except EngineLimitError:
                return
            assert result.to_json()


# -- 1. arbitrary TOML data ---------------------------------------------------------------------------

SCALARS = st.one_of(
    st.booleans(), st.integers(-10**30, 10**30), st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("1e400"), Decimal("1e-400"), HUGE_INT]),
    st.text(max_size=40), st.dates(), st.datetimes(), st.times(),
    st.sampled_from(["params.rate", "event.cost", "tag:x", "*", "辽宁省", "沈阳市", "benefit", "fixed", "rate", "yuan"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=12), inner, max_size=4)), max_leaves=12)
KEYS = st.one_of(st.sampled_from(["document", "parameters", "rules", "id", "title", "title_en", "kind", "event", "conditions",
                                  "amount", "citation", "steps", "unit", "value", "from", "jurisdiction", "effective_from"]),
                 st.text(min_size=1, max_size=15))


@fuzz(200)
@given(st.dictionaries(KEYS, VALUES, max_size=6))
def test_random_toml_documents_200(data):
    with rules_copy() as rules:
        (rules / "zz-fuzz.toml").write_text(toml_document(data), encoding="utf-8")
        check_load(rules)


# -- 2. structured mutations of the shipped rule files --------------------------------------------------

def paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from paths(v, prefix + (i,))


def mutate(data, path, action, value):
    if not path:
        return
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if action == "delete":
        del parent[key]
    elif action == "replace":
        parent[key] = value
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(parent[key])
    elif action == "wrap":
        parent[key] = [parent[key]]


@fuzz(300)
@given(st.sampled_from(FILES), st.randoms(use_true_random=False), st.lists(
    st.tuples(st.sampled_from(["delete", "replace", "replace", "duplicate", "wrap"]), VALUES), min_size=1, max_size=3))
def test_structured_mutations_of_shipped_rules_300(file, rnd, actions):
    data = tomllib.loads(file.read_text(encoding="utf-8"), parse_float=Decimal)
    for action, value in actions:
        candidates = list(paths(data))[1:]
        if not candidates:
            break
        mutate(data, rnd.choice(candidates), action, value)
    with rules_copy() as rules:
        (rules / file.relative_to(RULES)).write_text(toml_document(data), encoding="utf-8")
        ruleset = check_load(rules)
        if ruleset is not None:
            check_evaluates(ruleset, PROFILES[:1])


# -- 3. condition strings dropped into a real rule, then evaluated ----------------------------------------

CONDITIONS = st.one_of(
    st.text(max_size=80),
    st.sampled_from([
        "employees > 1e999999999", "employees >= 0", "not high_tech", 'city == "阜新"', "exporter or not exporter",
        'size_class in ["small", "micro", "medium"]', "blacklisted_on < as_of", "__import__('os')", "event.__class__",
        "(" * 30 + "high_tech" + ")" * 30, "employees > " + "9" * 1900, "high_tech and " * 150 + "high_tech",
        '"software" in key_industries', "employees > -0.0000000000000000000000000000000001",
    ]),
)


@fuzz(150)
@given(st.lists(CONDITIONS, min_size=1, max_size=3))
def test_condition_strings_in_a_real_rule_file_150(conditions):
    file = RULES / "liaoning" / "ln-2015-2020.toml"
    data = tomllib.loads(file.read_text(encoding="utf-8"), parse_float=Decimal)
    rule = next(r for r in data["rules"] if r.get("kind") == "benefit")
    rule["conditions"] = list(conditions)
    with rules_copy() as rules:
        (rules / "liaoning" / "ln-2015-2020.toml").write_text(toml_document(data), encoding="utf-8")
        ruleset = check_load(rules)
        if ruleset is None:
            try:
                load_rules(rules)
            except LoadError as exc:
                mine = [p for p in exc.problems if p.rule_id == rule["id"]]
                assert mine and all(p.field and p.field.startswith("conditions[") for p in mine)
                assert all(p.line for p in mine)
        else:
            check_evaluates(ruleset, PROFILES[:1])


# -- 4. text-level damage: what an editor, a bad merge or a wrong encoding does ------------------------

def damage(text: str, rnd: random.Random, kind: str, junk: str) -> str:
    if not text:
        return junk
    lines = text.split("\n")
    i = rnd.randrange(len(lines))
    if kind == "drop-line":
        del lines[i]
    elif kind == "duplicate-line":
        lines.insert(i, lines[i])
    elif kind == "swap-lines":
        j = rnd.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "insert":
        pos = rnd.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:pos] + junk + lines[i][pos:]
    elif kind == "truncate":
        return text[: rnd.randrange(len(text))]
    elif kind == "delete-chars":
        pos = rnd.randrange(len(text))
        return text[:pos] + text[pos + rnd.randrange(1, 20):]
    return "\n".join(lines)


@fuzz(300)
@given(st.sampled_from(FILES), st.randoms(use_true_random=False),
       st.lists(st.tuples(st.sampled_from(["drop-line", "duplicate-line", "swap-lines", "insert", "truncate", "delete-chars"]),
                          st.text(max_size=10)), min_size=1, max_size=4),
       st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
def test_text_damage_to_shipped_rule_files_300(file, rnd, damages, encoding):
    text = file.read_text(encoding="utf-8")
    for kind, junk in damages:
        text = damage(text, rnd, kind, junk)
    with rules_copy() as rules:
        (rules / file.relative_to(RULES)).write_bytes(text.encode(encoding, "surrogatepass"))
        check_load(rules)


# -- 5. size and nesting limits -------------------------------------------------------------------------

def test_oversized_and_deeply_nested_rule_files_are_clear_errors(tmp_path):
    cases = {
        "big.toml": "# " + "x" * (MAX_FILE_BYTES + 1),
        "deep-array.toml": "x = " + "[" * 100_000 + "]" * 100_000,
        "deep-table.toml": "x = " + "{a = " * 5_000 + "1" + "}" * 5_000,
        "huge-int.toml": "x = " + "9" * 5_000,
        "nul.toml": "[document]\x00",
    }
    for name, text in cases.items():
        folder = tmp_path / name.removesuffix(".toml")
        folder.mkdir()
        (folder / name).write_text(text, encoding="utf-8")
        started = time.perf_counter()
        try:
            load_rules(folder)
        except LoadError as exc:
            assert exc.problems[0].file.endswith(name), exc.problems
        else:
            raise AssertionError(f"{name} loaded")
        assert time.perf_counter() - started < 2, name


def test_nan_inf_and_huge_amounts_are_refused_at_load_time(tmp_path):
    base = (RULES / "liaoning" / "ln-2015-2020.toml").read_text(encoding="utf-8")
    data = tomllib.loads(base, parse_float=Decimal)
    bad_values = [Decimal("NaN"), Decimal("Infinity"), Decimal("1e400"), Decimal("1e14"), -1, "abc%", "nan%", "1e999999999%"]
    for value in bad_values:
        trial = tomllib.loads(toml_document(data), parse_float=Decimal)
        parameter = next(iter(trial["parameters"].values()))
        parameter["steps"][0]["value"] = value
        rules = tmp_path / f"r{bad_values.index(value)}"
        shutil.copytree(RULES, rules)
        (rules / "liaoning" / "ln-2015-2020.toml").write_text(toml_document(trial), encoding="utf-8")
        assert check_load(rules) is None, value
