"""Vectorised cell parsing reads every cell exactly as ``engine.profile.parse_value`` does (value and message)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import polars as pl
import pytest

from engine import schema
from engine.batch.cells import SCALE, blank_mask, parse_column
from engine.credit_code import check_character
from engine.profile import _blank, parse_value
from engine.textnorm import ParseError

GOOD_CODE = "91211200MA0000000" + check_character("91211200MA0000000")
BAD_CHECK = GOOD_CODE[:17] + ("0" if GOOD_CODE[17] != "0" else "1")

# Blank to parse_profile once normalise_text has removed invisible characters and spaces, however long they are.
INVISIBLE_BLANKS = ["\u200b\u200b\u200b\u200b-", "\ufeff\u200c\u200d\u2060 N/A ", " \u3000 无数据\u3000\u3000 ", "\u00a0" * 6 + "／",
                    "n\u200b/\u200ba", "\x1c\x1d—\x1e\x1f", "\u200b" * 9]

CELLS = {
    "credit_code": [GOOD_CODE, BAD_CHECK, GOOD_CODE.lower(), f" {GOOD_CODE} ", GOOD_CODE[:17], "91211200MA000000O1", "", "-",
                    "９１２１１２００ＭＡ００００００００"],
    "name": ["阜新市测试科技有限公司", "  两个  空格 ", "ＡＢＣ（阜新）有限公司", "Acme\u200b Ltd", "x" * 501, "N/A", "—", "名称",
             *INVISIBLE_BLANKS],
    "city": ["阜新市", "阜新", " 铁岭市 ", "辽宁省阜新市", "Fuxin", "fuxin city", "210900", "北京市", "", "大连", *INVISIBLE_BLANKS],
    "employees": ["10", "１２", " 27 ", "1,200", "1200人", "12.5", "-3", "很多", "0", "999999999999999"],
    "revenue_wan": ["1234.5", "1,234.5678", "1234.56789", "70%", "1,5", "-1", "0.0001", "１２３.４"],
    "high_tech": ["是", "否", "√", "×", "Y", "n", "TRUE", "0", "1", "也许", "有"],
    "size_class": ["大型", "small", "小", "微型企业", "超大型", " 中型 "],
    "key_industries": ["装备制造、化工", "software", "软件,新材料", "农业；文化创意", "无此产业", "、"],
    "blacklisted_on": ["2016-05-01", "2016/5/1", "2016年5月1日", "20160501", "42491", "42491.5", "2016", "2019-02-30", "60",
                       "2016.5.1", "明天"],
}
EVENT_CELLS = {
    "cost": ["10000", "10,000元", "1.5万元", "¥10,000.00", "１２０００", " 500 ", "-500", "12.345", "1e5", "0.1", "RMB 20"],
    "date": ["2018-06-01", "2018-6-1", "2018/06/01 10:30", "43252", "2018-13-01"],
}
TYPED = {
    "revenue_wan": pl.Series([1234.5, 0.1, 1e-5, 2002.8, 123456789.12345, -2.0, float("nan"), 10.0]),
    "employees": pl.Series([10, 0, -1, 5], dtype=pl.Int64),
    "blacklisted_on": pl.Series([42491.0, 2016.0, 60.0, 20160501.0, 42491.75]),
    "high_tech": pl.Series([True, False, None]),
}


def _spec(name: str) -> schema.FieldSpec:
    return schema.ENTITY_BY_NAME.get(name) or next(f for f in schema.ALL_EVENT_FIELDS if f.name == name)


def _expected(spec: schema.FieldSpec, value):
    """What parse_profile does with one cell: (typed value in the columnar representation, zh message, en message)."""
    if _blank(value):
        return None, None, None
    try:
        parsed = parse_value(spec, value)
    except ParseError as exc:
        return None, exc.message_zh, exc.message_en
    if spec.kind == schema.CREDIT_CODE:
        parsed = parsed[0]
    if spec.kind in SCALE:
        scaled = Decimal(parsed).scaleb(SCALE[spec.kind])
        return (int(scaled) if scaled == int(scaled) else "inexact"), None, None
    if spec.kind == schema.ENUM_LIST:
        parsed = list(parsed)
    return parsed, None, None


def _check(spec: schema.FieldSpec, series: pl.Series) -> None:
    parsed = parse_column(spec, series)
    values = parsed.values.to_list()
    for i, value in enumerate(series.to_list()):
        want, zh, en = _expected(spec, value)
        assert parsed.error_zh[i] == zh, (spec.name, value)
        assert parsed.error_en[i] == en, (spec.name, value)
        if want == "inexact":
            assert parsed.inexact[i], (spec.name, value)
        else:
            assert values[i] == want, (spec.name, value, values[i])
            assert not parsed.inexact[i]


@pytest.mark.parametrize("name", sorted(CELLS))
def test_text_cells_match_parse_value(name):
    spec = _spec(name)
    cells = CELLS[name]
    _check(spec, pl.Series(cells, dtype=pl.String))
    # sparse columns take another path
    _check(spec, pl.Series(cells + [None] * (3 * len(cells)), dtype=pl.String))


@pytest.mark.parametrize("name", sorted(EVENT_CELLS))
def test_event_cells_match_parse_value(name):
    _check(_spec(name), pl.Series(EVENT_CELLS[name], dtype=pl.String))


@pytest.mark.parametrize("name", sorted(TYPED))
def test_typed_cells_match_parse_value(name):
    _check(_spec(name), TYPED[name])


def test_mixed_spreadsheet_columns_match_parse_value():
    spec = _spec("blacklisted_on")
    cells = [date(2016, 5, 1), datetime(2016, 5, 1, 8, 0), 42491.0, "2016年5月1日", None, "bad", True]
    _check(spec, pl.Series(cells, dtype=pl.Object))
    spec = _spec("cost")
    _check(spec, pl.Series([10000.0, "10,000元", 5, Decimal("1.005"), "x"], dtype=pl.Object))


def test_blank_mask_is_profile_blank():
    cells = [*INVISIBLE_BLANKS, "-", "", "  ", "N/A", "n/a", "无数据", "—", "/", "x", "-x", "N/A/", "\u200b-\u200bx", "无 数据", None]
    for series in (pl.Series(cells, dtype=pl.String), pl.Series(cells, dtype=pl.Object)):
        assert blank_mask(series).to_list() == [_blank(v) for v in cells]


def test_credit_code_warning_is_kept():
    parsed = parse_column(_spec("credit_code"), pl.Series([GOOD_CODE, BAD_CHECK]))
    assert parsed.warning[0] is None
    assert parsed.warning[1] == parse_value(_spec("credit_code"), BAD_CHECK)[1]


def test_polars_boolean_logic_is_kleene():
    t, f, u = True, False, None
    frame = pl.DataFrame({"a": [t, t, t, f, f, f, u, u, u], "b": [t, f, u, t, f, u, t, f, u]}, schema={"a": pl.Boolean, "b": pl.Boolean})
    got = frame.select((pl.col("a") & pl.col("b")).alias("and"), (pl.col("a") | pl.col("b")).alias("or"),
                       pl.all_horizontal("a", "b").alias("all"), pl.any_horizontal("a", "b").alias("any"), (~pl.col("a")).alias("not"))
    from engine.logic import kleene_and, kleene_not, kleene_or

    for i, (a, b) in enumerate(frame.iter_rows()):
        assert got["and"][i] == kleene_and([a, b]) == got["all"][i]
        assert got["or"][i] == kleene_or([a, b]) == got["any"][i]
        assert got["not"][i] == kleene_not(a)
