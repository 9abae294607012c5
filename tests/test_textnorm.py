from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.textnorm import (
    EXCEL_SERIAL_MAX,
    MAX_AMOUNT_YUAN,
    YEAR_LIKE,
    ParseError,
    date_to_excel_serial,
    excel_serial_to_date,
    is_blank,
    normalise_text,
    parse_amount,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_int,
)

# ASCII → full-width (U+FF01..U+FF5E), the way Chinese IMEs type digits and punctuation.
FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def fullwidth(s: str) -> str:
    return s.translate(FULLWIDTH)


# ---------------------------------------------------------------- ParseError / normalise_text


def test_parse_error_is_value_error_and_bilingual() -> None:
    e = ParseError("中文", "English", 5)
    assert isinstance(e, ValueError)
    assert (e.message_zh, e.message_en, e.value) == ("中文", "English", 5)
    assert str(e) == "中文 / English"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("１２３", "123"),
        ("，", ","),
        ("\u3000阜新\u3000", "阜新"),
        ("\xa0abc\xa0", "abc"),
        ("a  \t b\n\nc", "a b c"),
        ("ＡＢＣ ｘｙｚ", "ABC xyz"),
        ("\u200b10\ufeff", "10"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalise_text(raw: str, clean: str) -> None:
    assert normalise_text(raw) == clean


def test_normalise_text_rejects_non_str() -> None:
    with pytest.raises(TypeError):
        normalise_text(5)  # type: ignore[arg-type]


@given(st.text())
def test_normalise_text_idempotent_and_trimmed(s: str) -> None:
    once = normalise_text(s)
    assert normalise_text(once) == once
    assert once == once.strip()
    assert "  " not in once


@pytest.mark.parametrize("v", [None, "", " \u3000 ", float("nan"), Decimal("NaN")])
def test_is_blank(v: object) -> None:
    assert is_blank(v)


@pytest.mark.parametrize("v", [0, "0", "否", False, " a "])
def test_is_not_blank(v: object) -> None:
    assert not is_blank(v)


# ---------------------------------------------------------------- dates

MAY_1 = date(2016, 5, 1)


@pytest.mark.parametrize(
    "v",
    [
        MAY_1,
        datetime(2016, 5, 1, 13, 45),
        "2016-05-01",
        "2016-5-1",
        "2016/5/1",
        "2016/05/01",
        "2016.5.1",
        "2016年5月1日",
        "2016 年 5 月 1 日",
        "2016年05月01号",
        "20160501",
        20160501,
        " 2016-05-01 ",
        "\u30002016/5/1\u3000",
        "２０１６－０５－０１",
        "２０１６年５月１日",
        "2016-05-01 00:00:00",
        "2016-05-01T08:30",
        42491,
        42491.0,
        42491.75,  # a date-time cell: the time of day is dropped
        Decimal(42491),
        "42491",
        "４２４９１",
        " 42491 ",
    ],
)
def test_parse_date_accepts(v: object) -> None:
    assert parse_date(v) == MAY_1


def test_parse_date_returns_plain_date_for_datetime() -> None:
    d = parse_date(datetime(2016, 5, 1, 1, 2))
    assert type(d) is date


@pytest.mark.parametrize(
    "v",
    [
        "2016-02-30",
        "2015-02-29",
        "2016-13-01",
        "2016年2月30日",
        "20160230",
        "2016-05/01",  # mixed separators
        "16/5/1",  # two-digit year: ambiguous
        "5/1/2016",
        "May 1, 2016",
        "2016-05",
        "abc",
        "",
        "  ",
        None,
        True,
        False,
        0,
        -1,
        60,  # the Lotus 1900-02-29
        "60",
        EXCEL_SERIAL_MAX + 1,
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        [2016, 5, 1],
    ],
)
def test_parse_date_rejects(v: object) -> None:
    with pytest.raises(ParseError) as info:
        parse_date(v)
    assert " / " in str(info.value)


def test_parse_date_impossible_date_message() -> None:
    with pytest.raises(ParseError) as info:
        parse_date("2016-02-30")
    assert "2016-02-30" in info.value.message_zh and "no such date" in info.value.message_en


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, date(1900, 1, 1)),
        (31, date(1900, 1, 31)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),
        (25569, date(1970, 1, 1)),
        (36526, date(2000, 1, 1)),
        (42491, date(2016, 5, 1)),
        (EXCEL_SERIAL_MAX, date(9999, 12, 31)),
    ],
)
def test_excel_serial_known_values(serial: int, expected: date) -> None:
    assert excel_serial_to_date(serial) == expected
    assert date_to_excel_serial(expected) == serial
    assert parse_date(serial) == expected
    assert parse_date(str(serial)) == expected


@pytest.mark.parametrize("v", [2016, "2016", "２０１６", 2016.0, 1900, 2100, Decimal(2024)])
def test_parse_date_refuses_a_bare_year(v: object) -> None:
    with pytest.raises(ParseError) as info:
        parse_date(v)
    assert "bare year" in info.value.message_en
    # The explicit converter still maps the serial; only the ambiguous cell value is refused.
    assert excel_serial_to_date(2016) == date(1905, 7, 8)


def test_parse_date_serials_around_the_year_window() -> None:
    assert parse_date(YEAR_LIKE[0] - 1) == excel_serial_to_date(YEAR_LIKE[0] - 1)
    assert parse_date(YEAR_LIKE[1] + 1) == excel_serial_to_date(YEAR_LIKE[1] + 1)
    assert parse_date(2016.5) == date(1905, 7, 8)  # fractional: a date-time cell, not a year


def test_excel_serial_60_is_invalid() -> None:
    with pytest.raises(ParseError):
        excel_serial_to_date(60)


dates = st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31))


@given(dates)
def test_parse_date_round_trips_iso(d: date) -> None:
    assert parse_date(d.isoformat()) == d


@given(dates)
def test_parse_date_round_trips_chinese(d: date) -> None:
    text = f"{d.year}年{d.month}月{d.day}日"
    assert parse_date(text) == d
    assert parse_date(fullwidth(text)) == d


@given(dates)
def test_parse_date_full_width_identical(d: date) -> None:
    for text in (d.isoformat(), f"{d.year}/{d.month}/{d.day}", f"{d.year}.{d.month}.{d.day}", d.strftime("%Y%m%d")):
        assert parse_date(fullwidth(text)) == parse_date(text) == d


@given(dates)
def test_excel_serial_round_trip_from_date(d: date) -> None:
    serial = date_to_excel_serial(d)
    assert serial != 60
    assert excel_serial_to_date(serial) == d
    if not YEAR_LIKE[0] <= serial <= YEAR_LIKE[1]:
        assert parse_date(serial) == d
        assert parse_date(float(serial)) == d
        assert parse_date(str(serial)) == d


@given(st.integers(min_value=1, max_value=EXCEL_SERIAL_MAX).filter(lambda n: n != 60))
def test_excel_serial_round_trip_from_serial(serial: int) -> None:
    assert date_to_excel_serial(excel_serial_to_date(serial)) == serial


@given(st.integers(min_value=61, max_value=EXCEL_SERIAL_MAX - 1))
def test_excel_serials_are_consecutive_days(serial: int) -> None:
    assert excel_serial_to_date(serial + 1) - excel_serial_to_date(serial) == timedelta(days=1)


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("v", "expected"),
    [
        (10000, "10000"),
        (Decimal("7000.00"), "7000.00"),
        (0.1, "0.1"),
        (7000.5, "7000.5"),
        ("10000", "10000"),
        ("10,000", "10000"),
        ("10,000元", "10000"),
        ("10,000 元", "10000"),
        ("1.5万元", "15000"),
        ("1.5万", "15000"),
        ("0.35万元", "3500"),
        ("2亿元", "200000000"),
        ("¥10,000.00", "10000.00"),
        ("￥10,000.00", "10000.00"),
        ("¥ 10,000", "10000"),
        ("RMB 500", "500"),
        ("人民币500元", "500"),
        ("１０，０００元", "10000"),
        ("１．５万元", "15000"),
        ("７０００．００", "7000.00"),
        ("7000.00", "7000.00"),
        ("\u3000 135 ", "135"),
        ("1,234,567.89", "1234567.89"),
        (".5", "0.5"),
        ("0", "0"),
        ("-0", "0"),
        ("+100", "100"),
        ("1000000000000", "1000000000000"),
    ],
)
def test_parse_amount_accepts(v: object, expected: str) -> None:
    result = parse_amount(v)
    assert isinstance(result, Decimal)
    assert result == Decimal(expected)


def test_parse_amount_float_goes_through_str() -> None:
    # Binary float arithmetic would give 0.1000000000000000055511151231257827...
    assert parse_amount(0.1).as_tuple() == Decimal("0.1").as_tuple()


def test_parse_amount_keeps_exact_digits() -> None:
    assert parse_amount("0.123456789012345678901234567890123万") == Decimal("1234.56789012345678901234567890123")
    assert parse_amount("1.005") == Decimal("1.005")  # rounding happens elsewhere


@pytest.mark.parametrize("v", ["-5", "-¥5", "¥-5", "－５", "\u22125元", "-1.5万", -1, Decimal("-0.01"), -0.5])
def test_parse_amount_rejects_negative(v: object) -> None:
    with pytest.raises(ParseError) as info:
        parse_amount(v)
    assert "金额不能为负数" in str(info.value)
    assert "amount cannot be negative" in str(info.value)


@pytest.mark.parametrize(
    "v",
    [
        None,
        "",
        "  ",
        True,
        False,
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        Decimal("Infinity"),
        "1,5",  # European decimal comma, not a thousands separator
        "1,0000",
        "10 000",
        "1.2.3",
        "abc",
        "10 dollars",
        "$10",
        "1e3",
        "万元",
        "¥",
        "10元元",
        "1亿万",
        [10],
        "1000000000001",
        "10000.01亿",
        Decimal("1E+13"),
        1e13,
    ],
)
def test_parse_amount_rejects(v: object) -> None:
    with pytest.raises(ParseError):
        parse_amount(v)


def test_parse_amount_magnitude_boundary() -> None:
    assert parse_amount(MAX_AMOUNT_YUAN) == MAX_AMOUNT_YUAN
    with pytest.raises(ParseError) as info:
        parse_amount(MAX_AMOUNT_YUAN + Decimal("0.01"))
    assert "10^12" in info.value.message_en


amounts = st.decimals(min_value=0, max_value=MAX_AMOUNT_YUAN, places=2, allow_nan=False, allow_infinity=False)


@given(amounts)
def test_parse_amount_round_trips_formatted(x: Decimal) -> None:
    text = f"{x:,}元"
    assert parse_amount(text) == x
    assert parse_amount(fullwidth(text)) == x
    assert parse_amount(f"¥{x:,}") == x
    assert parse_amount(str(x)) == x


@given(st.decimals(min_value=0, max_value=10**8, places=4, allow_nan=False, allow_infinity=False))
def test_parse_amount_wan_is_times_ten_thousand(x: Decimal) -> None:
    assert parse_amount(f"{x}万元") == x * 10000
    assert parse_amount(f"{x}万") == x * 10000


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_parse_amount_float_equals_its_repr(x: float) -> None:
    assert parse_amount(x) == Decimal(str(x))


# ---------------------------------------------------------------- decimals, ints, bools


@pytest.mark.parametrize(
    ("v", "expected"),
    [
        ("70%", "0.70"),
        ("７０％", "0.70"),
        ("70 %", "0.70"),
        ("12.5%", "0.125"),
        ("0.7", "0.7"),
        ("1,200.5", "1200.5"),
        (3, "3"),
        (0.85, "0.85"),
        (Decimal("2.50"), "2.50"),
        ("０.８５", "0.85"),
    ],
)
def test_parse_decimal(v: object, expected: str) -> None:
    assert parse_decimal(v) == Decimal(expected)


def test_parse_decimal_percent_keeps_two_places() -> None:
    assert str(parse_decimal("70%")) == "0.70"


@pytest.mark.parametrize("v", ["-1", -0.5, "abc", "", None, True, "70%%", "%", float("nan"), "1,5"])
def test_parse_decimal_rejects(v: object) -> None:
    with pytest.raises(ParseError):
        parse_decimal(v)


@pytest.mark.parametrize(
    ("v", "expected"),
    [
        (1200, 1200),
        (1200.0, 1200),
        (Decimal("1200.00"), 1200),
        ("1200", 1200),
        ("1,200", 1200),
        ("1200人", 1200),
        ("1,200 人", 1200),
        ("１２００人", 1200),
        ("5项", 5),
        ("1200.0", 1200),
        ("0", 0),
    ],
)
def test_parse_int(v: object, expected: int) -> None:
    result = parse_int(v)
    assert type(result) is int
    assert result == expected


@pytest.mark.parametrize("v", [12.5, "12.5", Decimal("0.1"), "-3", -3, True, None, "", "abc", "12元", float("inf")])
def test_parse_int_rejects(v: object) -> None:
    with pytest.raises(ParseError):
        parse_int(v)


@given(st.integers(min_value=0, max_value=10**12))
def test_parse_int_round_trips_grouped(n: int) -> None:
    assert parse_int(f"{n:,}") == n
    assert parse_int(fullwidth(f"{n:,}") + "人") == n


@pytest.mark.parametrize(
    "v", [True, "true", "TRUE", "True", "t", 1, 1.0, Decimal(1), "1", "是", "有", "Y", "y", "yes", "YES", "√", " 是 "]
)
def test_parse_bool_true(v: object) -> None:
    assert parse_bool(v) is True


@pytest.mark.parametrize(
    "v", [False, "false", "FALSE", "f", 0, 0.0, Decimal(0), "0", "否", "无", "N", "n", "no", "No", "×", "\u3000否"]
)
def test_parse_bool_false(v: object) -> None:
    assert parse_bool(v) is False


@pytest.mark.parametrize("v", [None, "", "maybe", "2", 2, 0.5, "x", "是否", "对的", "-", [True]])
def test_parse_bool_rejects(v: object) -> None:
    with pytest.raises(ParseError) as info:
        parse_bool(v)
    assert "是/否" in info.value.message_zh
