"""Fuzzing profiles and the cell parsers with values of every type a JSON file, CSV or spreadsheet can hold.

Invariant: ``parse_profile`` returns a Profile or raises ``ProfileError`` whose every entry names a field
(and the event, for event fields); each cell parser returns a value of its type inside its bounds or raises
``ParseError`` (bilingual). ``huiqi evaluate`` on any JSON file exits 0 or 3. Never another exception.
Example counts are in the test names (``_N`` = max_examples).
"""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import schema
from engine.cli import main
from engine.evaluate import evaluate
from engine.profile import MAX_CELL_CHARS, Profile, ProfileError, parse_profile, parse_value
from engine.textnorm import (
    MAX_AMOUNT_YUAN,
    MAX_NUMBER,
    ParseError,
    parse_amount,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rulekit import credit_code  # noqa: E402


def fuzz(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# Every type a cell can arrive as: JSON (str, int, float, bool, None, list, dict), CSV (str), xlsx via calamine
# (str, int, float, bool, date, datetime, time, timedelta), parquet/Python callers (Decimal, bytes, sets).
CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-10**30, 10**30), st.floats(), st.decimals(),
    st.sampled_from([Decimal("sNaN"), Decimal("-NaN"), Decimal("1e999999999"), Decimal("-1e-999999999"), 10**300, 2**63, -(2**63),
                     float("nan"), float("inf"), 1e308, 5e-324, "", " ", "\u3000", "-", "—", "N/A", "无数据", "\ufeff", "\x00",
                     "9" * 5000, "１２３", "1,000", "1,0", "1.5万元", "¥-5", "70%", "2016年5月1日", "2016/2/30", "60", "2016",
                     "20160501", "是", "否", "√", "×", "沈阳", "Dalian city", "210100", "省外", "小型", "small", "软件、化工",
                     "\ufdfa" * 100, "a" * (MAX_CELL_CHARS + 1)]),
    st.text(), st.text(alphabet="0123456789,.-+¥元万亿% 年月日/：:T", max_size=25),
    st.dates(), st.datetimes(), st.datetimes(timezones=st.just(UTC)), st.times(), st.timedeltas(),
    st.binary(max_size=10), st.lists(st.one_of(st.text(max_size=10), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2), st.frozensets(st.text(max_size=3), max_size=2),
)
ENTITY_KEYS = st.one_of(
    st.sampled_from([f.name for f in schema.ENTITY_FIELDS] + [f.zh for f in schema.ENTITY_FIELDS]
                    + [a for f in schema.ENTITY_FIELDS for a in f.aliases]),
    st.text(max_size=10), st.sampled_from(["warnings", "derivations", "__normalised__", "__class__"]),
)
EVENT_KEYS = st.one_of(
    st.sampled_from(["type", "类型", "date", "日期"] + [f.name for f in schema.ALL_EVENT_FIELDS]
                    + [f.zh for f in schema.ALL_EVENT_FIELDS]),
    st.text(max_size=8),
)
EVENT_TYPES = st.one_of(st.sampled_from([e.code for e in schema.EVENT_TYPES] + [e.zh for e in schema.EVENT_TYPES]), CELLS)


@st.composite
def events(draw):
    event = {"type": draw(EVENT_TYPES), "date": draw(st.one_of(st.dates().map(str), CELLS))}
    event.update(draw(st.dictionaries(EVENT_KEYS, CELLS, max_size=5)))
    return event


@st.composite
def profiles(draw):
    data = {}
    if draw(st.booleans()):  # usually valid required fields, so the other fields are reached too
        data = {"credit_code": credit_code(draw(st.integers(0, 10**6))), "name": "企业", "city": draw(st.sampled_from(["沈阳", "阜新市"]))}
    data.update(draw(st.dictionaries(ENTITY_KEYS, CELLS, max_size=8)))
    if draw(st.booleans()):
        data["events"] = draw(st.one_of(st.lists(events(), max_size=4), CELLS))
    return data


def check_profile(data) -> Profile | None:
    try:
        profile = parse_profile(data)
    except ProfileError as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.field and error.message_zh and error.message_en
            assert error.text("zh") and error.text("en")
        return None
    assert isinstance(profile, Profile)
    return profile


@fuzz(1500)
@given(profiles())
def test_profiles_with_cells_of_every_type_1500(data):
    check_profile(data)


@fuzz(150)
@given(profiles())
def test_profiles_that_parse_also_evaluate_on_both_backends_150(data):
    profile = check_profile(data)
    if profile is not None:
        python = evaluate(profile, date(2019, 12, 31), backend="python")
        durable = evaluate(profile, date(2019, 12, 31), backend="durable")
        assert python.to_json() == durable.to_json()


@fuzz(400)
@given(st.one_of(st.lists(CELLS, max_size=3), CELLS, st.dictionaries(st.text(max_size=4), CELLS, max_size=3)))
def test_anything_that_is_not_a_profile_400(data):
    check_profile(data)


# -- the cell parsers, one by one -----------------------------------------------------------------------

def parsed(parser, value):
    try:
        return parser(value)
    except ParseError as exc:
        assert exc.message_zh and exc.message_en
        return None


@fuzz(2000)
@given(CELLS)
def test_cell_parsers_return_bounded_values_or_parse_errors_2000(value):
    amount = parsed(parse_amount, value)
    assert amount is None or (isinstance(amount, Decimal) and amount.is_finite() and 0 <= amount <= MAX_AMOUNT_YUAN)
    number = parsed(parse_decimal, value)
    assert number is None or (isinstance(number, Decimal) and number.is_finite() and 0 <= number <= MAX_NUMBER)
    whole = parsed(parse_int, value)
    assert whole is None or (type(whole) is int and 0 <= whole <= MAX_NUMBER)
    day = parsed(parse_date, value)
    assert day is None or (type(day) is date)
    flag = parsed(parse_bool, value)
    assert flag is None or type(flag) is bool
    for spec in schema.ENTITY_FIELDS + schema.ALL_EVENT_FIELDS:
        parsed(lambda v, s=spec: parse_value(s, v), value)


FULL_WIDTH = str.maketrans("0123456789-/.,", "０１２３４５６７８９－／．，")


def date_spellings(d: date) -> list:
    from engine.textnorm import date_to_excel_serial

    texts = [d.isoformat(), f"{d.year}/{d.month}/{d.day}", f"{d.year}.{d.month}.{d.day}", f"{d.year}年{d.month}月{d.day}日",
             f"{d.year}年{d.month:02d}月{d.day:02d}号", d.strftime("%Y%m%d"), f" {d.year} - {d.month:02d} - {d.day:02d} ",
             f"{d.isoformat()} 10:30", f"{d.isoformat()}T10:30:15.5", f"\u200b{d.isoformat()}\u3000"]
    texts += [t.translate(FULL_WIDTH) for t in texts[:3]]
    values: list = texts + [d, datetime(d.year, d.month, d.day, 23, 59)]
    serial = date_to_excel_serial(d) if d >= date(1900, 3, 1) else None
    if serial is not None and not (1900 <= serial <= 2100):
        values += [serial, float(serial) + 0.75, Decimal(serial), str(serial)]
    return values


@fuzz(1500)
@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)))
def test_dates_in_every_accepted_format_round_trip_1500(d):
    for value in date_spellings(d):
        assert parse_date(value) == d, value


@fuzz(1500)
@given(st.decimals(min_value=0, max_value=MAX_AMOUNT_YUAN, places=2, allow_nan=False))
def test_amounts_in_every_accepted_format_round_trip_1500(amount):
    amount = Decimal(amount)
    grouped = f"{amount:,.2f}"
    spellings = [str(amount), f"{amount}元", grouped, f"{grouped}元", f"¥{grouped}", f"¥ {grouped}", f"RMB {grouped}", f"人民币{amount}元",
                 grouped.translate(FULL_WIDTH), f"  {amount} 元 ", f"+{amount}"]
    for text in spellings:
        assert parse_amount(text) == amount, text
    wan = format(amount.scaleb(-4), "f")
    assert parse_amount(f"{wan}万元") == amount and parse_amount(f"{wan}万") == amount
    assert parse_amount(format(amount.scaleb(-8), "f") + "亿元") == amount
    if amount == amount.to_integral_value() and amount < 2**53:
        assert parse_amount(int(amount)) == amount and parse_amount(float(amount)) == amount


@fuzz(600)
@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_amount_decimals_of_any_magnitude_600(value):
    result = parsed(parse_amount, value)
    if result is not None:
        assert value.is_finite() and 0 <= result <= MAX_AMOUNT_YUAN and result == value.copy_abs()
    elif value.is_finite() and 0 <= value <= MAX_AMOUNT_YUAN:
        raise AssertionError(f"{value} should be read")


def test_pathological_cells_are_quick():
    import time as clock

    for value in ["1,000" * 20_000 + "x", "RMB " + "- " * 10_000 + "1", "9" * 100_000, "2016-" * 10_000, "\ufdfa" * MAX_CELL_CHARS,
                  "a" * 10_000_000, Decimal("1e999999999"), "1." + "9" * 30_000]:
        calls = [lambda v, p=p: p(v) for p in (parse_amount, parse_decimal, parse_int, parse_date, parse_bool)]
        calls += [lambda v, s=s: parse_value(s, v) for s in schema.ENTITY_FIELDS]
        for call in calls:
            started = clock.perf_counter()
            parsed(call, value)
            assert clock.perf_counter() - started < 3, repr(value)[:40]  # a hang guard, not a speed measure


# -- JSON profile files through the command line ------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20), CELLS.filter(
        lambda v: isinstance(v, (str, int, float, bool, type(None))) and not (isinstance(v, float) and not math.isfinite(v)))),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=10)


@fuzz(150)
@given(st.one_of(profiles().map(lambda p: json.dumps(p, default=str, ensure_ascii=False)),
                 JSON_VALUES.map(lambda v: json.dumps(v, ensure_ascii=False)),
                 st.text(max_size=50), st.binary(max_size=50).map(lambda b: b.decode("latin-1"))))
def test_huiqi_evaluate_on_any_json_file_exits_0_or_3_150(text):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        code = main(["evaluate", str(path), "--as-of", "2019-12-31", "--format", "json"])
        assert code in (0, 3)


def test_huge_and_deep_json_profiles_are_clear_errors(tmp_path, capsys):
    from engine.cli import MAX_PROFILE_BYTES

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    big = tmp_path / "big.json"
    big.write_text('{"name": "' + "x" * MAX_PROFILE_BYTES + '"}', encoding="utf-8")
    for path, message in ((deep, "nested too deeply"), (big, "file too large")):
        assert main(["evaluate", str(path), "--as-of", "2019-12-31"]) == 3
        assert message in capsys.readouterr().err


def test_time_and_timedelta_cells_are_errors_not_crashes():
    for value in (time(10, 30), timedelta(days=3)):
        assert parsed(parse_date, value) is None and parsed(parse_amount, value) is None
