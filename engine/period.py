"""A claim round's period (申报期): ``2019`` (a calendar year) or ``2019-01-01..2019-06-30``.

Only events dated inside the period earn event benefits; ``as_of`` still decides what is in force, and a
period may not end after it (the round would count events the evaluation cannot have seen).
"""

from __future__ import annotations

import re
from datetime import date

from engine.results import Period

_YEAR = re.compile(r"^\d{4}$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})$")


class PeriodError(ValueError):
    """A period that cannot be used, with a plain message in both languages."""

    def __init__(self, message_zh: str, message_en: str):
        self.message_zh, self.message_en = message_zh, message_en
        super().__init__(f"{message_zh} / {message_en}")

    def text(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else f"{self.message_zh}\n{self.message_en}"


def parse_period(text: str) -> Period:
    """``"2019"`` → 2019-01-01..2019-12-31; ``"2019-01-01..2019-06-30"`` → that range (both days included)."""
    value = str(text).strip()
    if _YEAR.match(value):
        year = int(value)
        if year < 1900:
            raise PeriodError(f"申报期年份「{value}」不合理", f"period year '{value}' is not plausible")
        return Period(start=date(year, 1, 1), end=date(year, 12, 31))
    match = _RANGE.match(value)
    if not match:
        raise PeriodError(f"申报期「{value}」无法识别：应写成年份（2019）或 起始日..截止日（2019-01-01..2019-06-30）",
                          f"period '{value}' not understood: give a year (2019) or start..end (2019-01-01..2019-06-30)")
    try:
        start, end = date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2))
    except ValueError:
        raise PeriodError(f"申报期「{value}」中的日期不存在", f"period '{value}' names a date that does not exist") from None
    if end < start:
        raise PeriodError(f"申报期「{value}」的截止日早于起始日", f"period '{value}' ends before it starts")
    return Period(start=start, end=end)


def as_period(value: Period | tuple[date, date] | str | None, as_of: date) -> Period | None:
    """A ``Period`` from what a caller gave (a Period, a pair of dates, the CLI's text), checked against ``as_of``."""
    if value is None:
        return None
    if isinstance(value, str):
        period = parse_period(value)
    elif isinstance(value, Period):
        period = value
    elif isinstance(value, tuple) and len(value) == 2 and all(isinstance(d, date) for d in value):
        if value[1] < value[0]:
            raise PeriodError("申报期的截止日早于起始日", "the period ends before it starts")
        period = Period(start=value[0], end=value[1])
    else:
        raise TypeError("period must be a Period, a (start, end) pair of dates or a text such as '2019'")
    if period.end > as_of:
        raise PeriodError(f"申报期截止于 {period.end}，晚于评估日 {as_of}：评估日应不早于申报期的最后一天",
                          f"the period ends on {period.end}, after the evaluation date {as_of}: evaluate as of the "
                          "period's last day or later")
    return period
