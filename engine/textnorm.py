"""Text normalisation and tolerant parsers for spreadsheet cell values.

Bureau staff type values by hand: full-width digits, ideographic spaces, "1.5万元", "2016年5月1日",
Excel serial numbers. Every parser here accepts those spellings and returns one clean typed value, or
raises ``ParseError`` with a bilingual message. Nothing is guessed: an ambiguous value is an error.

Parsers never treat an empty cell as 0/False; they raise, and the caller decides what "missing" means
(see ``is_blank``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any

__all__ = [
    "EXCEL_SERIAL_MAX",
    "EXCEL_SERIAL_MIN",
    "MAX_AMOUNT_YUAN",
    "MAX_NUMBER",
    "YEAR_LIKE",
    "ParseError",
    "date_to_excel_serial",
    "excel_serial_to_date",
    "is_blank",
    "normalise_text",
    "parse_amount",
    "parse_bool",
    "parse_date",
    "parse_decimal",
    "parse_in_unit",
    "parse_int",
]


class ParseError(ValueError):
    """A cell value that cannot be read. ``str(e)`` is "中文 / English"."""

    def __init__(self, message_zh: str, message_en: str, value: Any = None) -> None:
        self.message_zh = message_zh
        self.message_en = message_en
        self.value = value
        super().__init__(f"{message_zh} / {message_en}")


# Zero-width characters survive NFKC and str.split(); copy-paste from web pages brings them in.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def normalise_text(s: str) -> str:
    """NFKC (full-width → ASCII, U+3000/NBSP → space), drop zero-width chars, strip, collapse spaces."""
    if not isinstance(s, str):
        raise TypeError(f"normalise_text expects str, got {type(s).__name__}")
    s = unicodedata.normalize("NFKC", s).translate(_INVISIBLE)
    return " ".join(s.split())


def is_blank(value: Any) -> bool:
    """True for None, NaN and strings that are empty after normalisation (an empty cell)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, Decimal) and value.is_nan():
        return True
    return isinstance(value, str) and normalise_text(value) == ""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _empty_error(value: Any, what_zh: str, what_en: str) -> ParseError:
    return ParseError(f"{what_zh}为空", f"{what_en} is empty", value)


# ---------------------------------------------------------------- dates

# Excel's 1900 date system: serial 1 = 1900-01-01; serial 60 is the non-existent 1900-02-29 (the Lotus
# 1-2-3 leap-year bug Excel kept), so from serial 61 (1900-03-01) on, day 0 is effectively 1899-12-30.
EXCEL_SERIAL_MIN = 1
EXCEL_SERIAL_MAX = 2958465  # 9999-12-31, Excel's last date
_EXCEL_EPOCH_EARLY = date(1899, 12, 31)
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_BUG_SERIAL = 60
YEAR_LIKE = (1900, 2100)  # bare numbers in this range are read as years, i.e. rejected


def excel_serial_to_date(serial: int) -> date:
    """Excel (1900 system) serial day number → date. Serial 60 (1900-02-29) does not exist."""
    if isinstance(serial, bool) or not isinstance(serial, int):
        raise TypeError("serial must be an int")
    if serial == _EXCEL_BUG_SERIAL:
        raise ParseError(
            "Excel 序列号 60 对应不存在的 1900-02-29",
            "Excel serial 60 is the non-existent 1900-02-29 (Lotus leap-year bug)",
            serial,
        )
    if not EXCEL_SERIAL_MIN <= serial <= EXCEL_SERIAL_MAX:
        raise ParseError(
            f"Excel 日期序列号 {serial} 超出范围 {EXCEL_SERIAL_MIN}–{EXCEL_SERIAL_MAX}",
            f"Excel date serial {serial} is outside {EXCEL_SERIAL_MIN}–{EXCEL_SERIAL_MAX}",
            serial,
        )
    epoch = _EXCEL_EPOCH_EARLY if serial < _EXCEL_BUG_SERIAL else _EXCEL_EPOCH
    return epoch + timedelta(days=serial)


def date_to_excel_serial(d: date) -> int:
    """Inverse of ``excel_serial_to_date`` for dates from 1900-01-01 on."""
    if isinstance(d, datetime):
        d = d.date()
    if d < date(1900, 1, 1):
        raise ValueError("Excel's 1900 date system starts at 1900-01-01")
    if d < date(1900, 3, 1):
        return (d - _EXCEL_EPOCH_EARLY).days
    return (d - _EXCEL_EPOCH).days


_TIME_SUFFIX = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?"
_DATE_SEPARATED = re.compile(r"(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})" + _TIME_SUFFIX)
_DATE_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL_TEXT = re.compile(r"\d{1,7}(?:\.\d+)?")


def _make_date(y: int, m: int, d: int, value: Any) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise ParseError(
            f"日期不存在：{y:04d}-{m:02d}-{d:02d}",
            f"no such date: {y:04d}-{m:02d}-{d:02d}",
            value,
        ) from None


def _date_from_number(num: Decimal, value: Any) -> date:
    if not num.is_finite():
        raise ParseError("日期不能为 NaN 或无穷大", "a date cannot be NaN or infinite", value)
    # An integral 8-digit number is a typed-in YYYYMMDD (well above the last Excel serial, so no clash).
    if num == num.to_integral_value() and 10_000_000 <= num <= 99_991_231:
        text = str(int(num))
        return _make_date(int(text[:4]), int(text[4:6]), int(text[6:]), value)
    # "2016" in a date column is a year someone typed, not serial 2016 (1905-07-08): refuse to guess.
    # This gives up serials 1900–2100 (1905-03-14 to 1905-09-30), which no enterprise record needs.
    if num == num.to_integral_value() and YEAR_LIKE[0] <= num <= YEAR_LIKE[1]:
        raise ParseError(
            f"{_show(value)} 像是只有年份，请填写完整日期（如 2016-05-01）",
            f"{_show(value)} looks like a bare year; give a full date (e.g. 2016-05-01)",
            value,
        )
    if num < EXCEL_SERIAL_MIN or num >= EXCEL_SERIAL_MAX + 1:
        raise ParseError(
            f"无法识别的日期数值 {_show(value)}（Excel 序列号应在 {EXCEL_SERIAL_MIN}–{EXCEL_SERIAL_MAX}）",
            f"unrecognised date number {_show(value)} "
            f"(Excel serials run {EXCEL_SERIAL_MIN}–{EXCEL_SERIAL_MAX})",
            value,
        )
    # A fractional serial is a date-time cell; the fraction is the time of day, which a date drops.
    return excel_serial_to_date(int(num))


def parse_date(value: Any) -> date:
    """Read a date from a date/datetime, an ISO/slashed/dotted/Chinese/compact string or an Excel serial."""
    if value is None:
        raise _empty_error(value, "日期", "date")
    if isinstance(value, bool):
        raise ParseError("布尔值不是日期", "a boolean is not a date", value)
    if isinstance(value, datetime):  # before date: datetime is a subclass of date
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int):
        return _date_from_number(Decimal(value), value)
    if isinstance(value, float):
        return _date_from_number(Decimal(str(value)), value)
    if isinstance(value, Decimal):
        return _date_from_number(value, value)
    if not isinstance(value, str):
        raise ParseError(
            f"不支持的日期类型 {type(value).__name__}",
            f"unsupported type for a date: {type(value).__name__}",
            value,
        )
    text = normalise_text(value)
    if not text:
        raise _empty_error(value, "日期", "date")
    m = _DATE_SEPARATED.fullmatch(text)
    if m:
        return _make_date(int(m[1]), int(m[3]), int(m[4]), value)
    m = _DATE_CHINESE.fullmatch(text) or _DATE_COMPACT.fullmatch(text)
    if m:
        return _make_date(int(m[1]), int(m[2]), int(m[3]), value)
    if _SERIAL_TEXT.fullmatch(text):
        return _date_from_number(Decimal(text), value)
    raise ParseError(
        f"无法识别的日期：{_show(value)}（可用格式：2016-05-01、2016/5/1、2016.5.1、2016年5月1日、"
        "20160501 或 Excel 序列号）",
        f"unrecognised date: {_show(value)} (accepted: 2016-05-01, 2016/5/1, 2016.5.1, 2016年5月1日, "
        "20160501 or an Excel serial number)",
        value,
    )


# ---------------------------------------------------------------- numbers

MAX_AMOUNT_YUAN = Decimal(10) ** 12  # anything above 1万亿 yuan is a unit or typing mistake
# Counts and other numbers: far above anything real, and it keeps Decimal("1e999999999") from reaching
# int() (a billion-digit integer: minutes of CPU and gigabytes) or any later arithmetic.
MAX_NUMBER = Decimal(10) ** 20

# Either plain digits or correctly grouped thousands: "1,5" (a European decimal comma) must not become 15.
_NUMBER = r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)"
_SIGN = r"(?P<sign>[-+\u2212])?"
# Optional RMB/CNY/人民币 prefix, sign before or after "¥" ("-¥5", "¥-5"), optional 元/万/万元/亿/亿元.
_AMOUNT = re.compile(
    r"(?:RMB|CNY|人民币)?\s*" + _SIGN + r"\s*¥?\s*(?P<sign2>[-+\u2212])?\s*" + _NUMBER
    + r"\s*(?P<unit>万元|亿元|元|万|亿|圆)?",
    re.IGNORECASE,
)
_UNIT_SCALE = {None: 0, "元": 0, "圆": 0, "万": 4, "万元": 4, "亿": 8, "亿元": 8}
_PLAIN = re.compile(_SIGN + r"\s*" + _NUMBER + r"\s*(?P<pct>%)?")
_COUNT = re.compile(_SIGN + r"\s*" + _NUMBER + r"\s*(?:人|名|个|件|项|家|户|次|篇|位)?")


def _to_decimal(value: Any, what_zh: str, what_en: str) -> Decimal:
    """Decimal from a non-bool number; floats go through str() so 0.1 stays 0.1."""
    if isinstance(value, bool):
        raise ParseError(f"布尔值不是{what_zh}", f"a boolean is not {what_en}", value)
    if isinstance(value, Decimal):
        num = value
    elif isinstance(value, int):
        num = Decimal(value)
    elif isinstance(value, float):
        num = Decimal(str(value))
    else:
        raise ParseError(
            f"不支持的{what_zh}类型 {type(value).__name__}",
            f"unsupported type for {what_en}: {type(value).__name__}",
            value,
        )
    if not num.is_finite():
        raise ParseError(f"{what_zh}不能为 NaN 或无穷大", f"{what_en} cannot be NaN or infinite", value)
    return num


def _match_number(m: re.Match[str]) -> tuple[bool, Decimal]:
    """(negative, magnitude) of a regex match built from _SIGN/_NUMBER."""
    groups = m.groupdict()
    signs = [groups.get("sign"), groups.get("sign2")]
    negative = any(s in ("-", "\u2212") for s in signs)
    return negative, Decimal(groups["num"].replace(",", ""))


def _scale(num: Decimal, power: int) -> Decimal:
    """num × 10^power, exactly (no context rounding however many digits were typed)."""
    if power == 0:
        return num
    with localcontext() as ctx:
        ctx.prec = max(28, len(num.as_tuple().digits) + abs(power) + 2)
        return num * (Decimal(10) ** power)


def _negative_error(value: Any, what_zh: str, what_en: str) -> ParseError:
    return ParseError(f"{what_zh}不能为负数", f"{what_en} cannot be negative", value)


def _check_size(num: Decimal, value: Any, what_zh: str, what_en: str) -> Decimal:
    if num.copy_abs() > MAX_NUMBER:
        raise ParseError(f"{what_zh} {_show(value)} 超过 10^20，疑似录入错误",
                         f"{what_en} {_show(value)} exceeds 10^20; probably a typing error", value)
    return num


def parse_amount(value: Any) -> Decimal:
    """Money in yuan: 10000, "10,000元", "1.5万元", "¥10,000.00", full-width forms. Exact Decimal."""
    if value is None:
        raise _empty_error(value, "金额", "amount")
    if isinstance(value, str):
        text = normalise_text(value)
        if not text:
            raise _empty_error(value, "金额", "amount")
        m = _AMOUNT.fullmatch(text)
        if not m:
            raise ParseError(
                f"无法识别的金额：{_show(value)}（示例：10000、10,000元、1.5万元、¥10,000.00）",
                f"unrecognised amount: {_show(value)} (e.g. 10000, 10,000元, 1.5万元, ¥10,000.00)",
                value,
            )
        negative, num = _match_number(m)
        num = _scale(num, _UNIT_SCALE[m["unit"]])
        if negative and num != 0:
            raise _negative_error(value, "金额", "amount")
        num = num.copy_abs()  # "-0" is zero
    else:
        num = _to_decimal(value, "金额", "an amount")
        if num < 0:
            raise _negative_error(value, "金额", "amount")
        num = num.copy_abs()
    if num > MAX_AMOUNT_YUAN:
        raise ParseError(
            f"金额 {_show(value)} 超过 10^12 元，疑似单位或录入错误",
            f"amount {_show(value)} exceeds 10^12 yuan; probably a unit or typing error",
            value,
        )
    return num


def parse_decimal(value: Any) -> Decimal:
    """A non-negative number (count, ratio); "70%" → Decimal("0.70")."""
    if value is None:
        raise _empty_error(value, "数值", "number")
    if isinstance(value, str):
        text = normalise_text(value)
        if not text:
            raise _empty_error(value, "数值", "number")
        m = _PLAIN.fullmatch(text)
        if not m:
            raise ParseError(
                f"无法识别的数值：{_show(value)}", f"unrecognised number: {_show(value)}", value
            )
        negative, num = _match_number(m)
        if m["pct"]:
            num = _scale(num, -2)
        if negative and num != 0:
            raise _negative_error(value, "数值", "number")
        return _check_size(num.copy_abs(), value, "数值", "number")
    num = _to_decimal(value, "数值", "a number")
    if num < 0:
        raise _negative_error(value, "数值", "number")
    return _check_size(num.copy_abs(), value, "数值", "number")


UNIT_POWERS = {"元": 0, "万元": 4, "亿元": 8}  # column units a number may be given in (10^power yuan)


def _unit_example(unit: str) -> tuple[str, str]:
    """The hint shown when a value cannot be read in a column kept in ``unit`` (both languages)."""
    in_yuan = _plain_digits(_scale(Decimal("1.5"), UNIT_POWERS[unit]))
    zh = f"本列单位为{unit}：可写数值（如 1.5，即 1.5{unit}），或写明单位（如 1.5{unit}、{in_yuan:f}元）"
    en = f"this column is in {unit}: give a number (1.5 means 1.5 {unit}) or a unit word (1.5{unit}, {in_yuan:f}元)"
    return zh, en


def parse_in_unit(value: Any, unit: str) -> Decimal:
    """A non-negative amount of money in a column kept in ``unit`` (元, 万元 or 亿元), exact.

    A bare number is in the column's unit; a unit word converts: in a 万元 column "1.5万元" and "1.5万" are
    1.5, "15000元" is 1.5, "1.5亿元" is 15000. Anything else is an error that says how to write the value.
    """
    power = UNIT_POWERS[unit]
    hint_zh, hint_en = _unit_example(unit)
    if not isinstance(value, str):
        return parse_decimal(value)
    text = normalise_text(value)
    if not text:
        raise _empty_error(value, "数值", "number")
    m = _AMOUNT.fullmatch(text)
    if m is None or (m["unit"] is None and not _PLAIN_NUMBER.fullmatch(text)):
        # "¥1.5" without a unit word could be yuan or the column's unit: refuse to guess
        raise ParseError(f"无法识别的数值：{_show(value)}（{hint_zh}）", f"unrecognised number: {_show(value)} ({hint_en})", value)
    negative, num = _match_number(m)
    if m["unit"] is not None:
        num = _plain_digits(_scale(num, _UNIT_SCALE[m["unit"]] - power))
    if negative and num != 0:
        raise _negative_error(value, "数值", "number")
    return _check_size(num.copy_abs(), value, "数值", "number")


def _plain_digits(num: Decimal) -> Decimal:
    """A converted value without the trailing zeros the scaling left ("15000元" in 万元 is 1.5, not 1.5000)."""
    return num.quantize(Decimal(1)) if num == num.to_integral_value() else num.normalize()


_PLAIN_NUMBER = re.compile(_SIGN + r"\s*" + _NUMBER)


def parse_int(value: Any) -> int:
    """A non-negative whole number: 1200, "1,200", "1200人", 1200.0; 12.5 is an error."""
    if value is None:
        raise _empty_error(value, "整数", "integer")
    if isinstance(value, str):
        text = normalise_text(value)
        if not text:
            raise _empty_error(value, "整数", "integer")
        m = _COUNT.fullmatch(text)
        if not m:
            raise ParseError(
                f"无法识别的整数：{_show(value)}", f"unrecognised integer: {_show(value)}", value
            )
        negative, num = _match_number(m)
        if negative and num != 0:
            raise _negative_error(value, "整数", "integer")
    else:
        num = _to_decimal(value, "整数", "an integer")
        if num < 0:
            raise _negative_error(value, "整数", "integer")
    _check_size(num, value, "整数", "integer")
    if num != num.to_integral_value():
        raise ParseError(
            f"{_show(value)} 不是整数", f"{_show(value)} is not a whole number", value
        )
    return int(num)


_TRUE = {"true", "t", "1", "是", "有", "y", "yes", "√", "✓", "✔", "对"}
_FALSE = {"false", "f", "0", "否", "无", "没有", "n", "no", "×", "✗", "✘", "不是", "错"}


def parse_bool(value: Any) -> bool:
    """true/false, 1/0, 是/否, 有/无, Y/N, yes/no, √/× (case-insensitive); anything else is an error."""
    if value is None:
        raise _empty_error(value, "是/否值", "yes/no value")
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        if isinstance(value, Decimal) and value.is_nan():
            pass  # comparing a signalling NaN raises decimal.InvalidOperation; NaN is neither 1 nor 0
        elif value == 1:
            return True
        elif value == 0:
            return False
    elif isinstance(value, str):
        text = normalise_text(value).lower()
        if not text:
            raise _empty_error(value, "是/否值", "yes/no value")
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ParseError(
        f"无法识别的是/否值：{_show(value)}（可用：是/否、有/无、true/false、1/0、Y/N、yes/no、√/×）",
        f"unrecognised yes/no value: {_show(value)} "
        "(accepted: 是/否, 有/无, true/false, 1/0, Y/N, yes/no, √/×)",
        value,
    )
