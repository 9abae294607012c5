import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.size_class import (
    SECTORS,
    THRESHOLDS,
    SizeDerivation,
    derive_size_class,
    normalise_sector,
    required_indicators,
)
from engine.textnorm import ParseError

# The table from shared/notes/domain-facts.md (工信部联企业〔2011〕300号), copied verbatim and parsed here so
# a typo in THRESHOLDS cannot hide behind tests written from the same numbers.
TABLE = """
| 农、林、牧、渔业 | rev<20000 | rev≥500 | rev≥50 | rev<50 |
| 工业 | staff<1000 or rev<40000 | staff≥300 and rev≥2000 | staff≥20 and rev≥300 | staff<20 or rev<300 |
| 建筑业 | rev<80000 or assets<80000 | rev≥6000 and assets≥5000 | rev≥300 and assets≥300 | rev<300 or assets<300 |
| 批发业 | staff<200 or rev<40000 | staff≥20 and rev≥5000 | staff≥5 and rev≥1000 | staff<5 or rev<1000 |
| 零售业 | staff<300 or rev<20000 | staff≥50 and rev≥500 | staff≥10 and rev≥100 | staff<10 or rev<100 |
| 交通运输业 | staff<1000 or rev<30000 | staff≥300 and rev≥3000 | staff≥20 and rev≥200 | staff<20 or rev<200 |
| 仓储业 | staff<200 or rev<30000 | staff≥100 and rev≥1000 | staff≥20 and rev≥100 | staff<20 or rev<100 |
| 邮政业 | staff<1000 or rev<30000 | staff≥300 and rev≥2000 | staff≥20 and rev≥100 | staff<20 or rev<100 |
| 住宿业 / 餐饮业 | staff<300 or rev<10000 | staff≥100 and rev≥2000 | staff≥10 and rev≥100 | staff<10 or rev<100 |
| 信息传输业 | staff<2000 or rev<100000 | staff≥100 and rev≥1000 | staff≥10 and rev≥100 | staff<10 or rev<100 |
| 软件和信息技术服务业 | staff<300 or rev<10000 | staff≥100 and rev≥1000 | staff≥10 and rev≥50 | staff<10 or rev<50 |
| 房地产开发经营 | rev<200000 or assets<10000 | rev≥1000 and assets≥5000 | rev≥100 and assets≥2000 | rev<100 or assets<2000 |
| 物业管理 | staff<1000 or rev<5000 | staff≥300 and rev≥1000 | staff≥100 and rev≥500 | staff<100 or rev<500 |
| 租赁和商务服务业 | staff<300 or assets<120000 | staff≥100 and assets≥8000 | staff≥10 and assets≥100 | staff<10 or assets<100 |
| 其他未列明行业 | staff<300 | staff≥100 | staff≥10 | staff<10 |
"""
KEY = {"staff": "employees", "rev": "revenue", "assets": "assets"}


def _bounds(cell: str) -> dict[str, int]:
    return {KEY[k]: int(v) for k, v in re.findall(r"(staff|rev|assets)[<≥](\d+)", cell)}


def _parse_table() -> dict[str, tuple[dict[str, int], ...]]:
    rows: dict[str, tuple[dict[str, int], ...]] = {}
    for line in TABLE.strip().splitlines():
        name, sme, medium, small, micro = (c.strip() for c in line.strip("|").split("|"))
        for part in name.split(" / "):
            rows[part] = (_bounds(sme), _bounds(medium), _bounds(small), _bounds(micro))
    return rows


EXPECTED = _parse_table()
RANK = {"micro": 0, "small": 1, "medium": 2, "large": 3}
ALL_SECTORS = sorted(SECTORS)


def derive(sector: str, values: dict[str, int | Decimal]) -> SizeDerivation | None:
    return derive_size_class(sector, values.get("employees"), values.get("revenue"), values.get("assets"))  # type: ignore[arg-type]


def size(sector: str, values: dict[str, int | Decimal]) -> str:
    result = derive(sector, values)
    assert result is not None
    return result.size_class


def just_below(indicator: str, bound: int) -> int | Decimal:
    # Staff are whole persons; money can be a fraction of 万元 (one yuan = 0.0001 万元).
    return bound - 1 if indicator == "employees" else Decimal(bound) - Decimal("0.0001")


def test_sectors_listed() -> None:
    assert len(SECTORS) == 16
    assert SECTORS["industry"] == "工业"
    assert SECTORS["agriculture"] == "农、林、牧、渔业"
    assert SECTORS["hospitality"] == "住宿业" and SECTORS["catering"] == "餐饮业"
    assert set(THRESHOLDS) == set(SECTORS)


@pytest.mark.parametrize("code", ALL_SECTORS)
def test_thresholds_match_the_notes(code: str) -> None:
    sme, medium, small, micro = EXPECTED[SECTORS[code]]
    t = THRESHOLDS[code]
    assert t.sme_below == sme
    assert t.medium_min == medium
    assert t.small_min == small
    assert micro == small  # 微型 is exactly "any indicator below the 小型 lower bound"
    assert set(required_indicators(code)) == set(sme) == set(medium) == set(small)


def test_literal_consequence_from_the_notes() -> None:
    # 299 staff and 50,000万 revenue: revenue alone is large-firm scale, but 中型 needs staff ≥ 300 too.
    result = derive_size_class("industry", 299, Decimal(50000), None)
    assert result is not None and result.size_class == "small"
    assert derive_size_class("工业", 300, Decimal(50000), None).size_class == "medium"  # type: ignore[union-attr]


def test_any_indicator_below_small_bound_is_micro_even_if_other_is_large() -> None:
    assert derive_size_class("industry", 5000, Decimal(299), None).size_class == "micro"  # type: ignore[union-attr]
    assert derive_size_class("industry", 19, Decimal(10**6), None).size_class == "micro"  # type: ignore[union-attr]
    assert derive_size_class("industry", 1000, Decimal(1999), None).size_class == "small"  # type: ignore[union-attr]


@pytest.mark.parametrize("code", ALL_SECTORS)
def test_boundaries_exactly_at_each_threshold(code: str) -> None:
    sme, medium, small, _ = EXPECTED[SECTORS[code]]
    # Large: every indicator exactly at the SME upper bound (the bound itself is not "below").
    assert size(code, dict(sme)) == "large"
    for k in sme:
        assert size(code, {**sme, k: just_below(k, sme[k])}) == "medium"
    # Medium: every indicator exactly at the 中型 lower bound; one just below drops to small.
    assert size(code, dict(medium)) == "medium"
    for k in medium:
        assert size(code, {**medium, k: just_below(k, medium[k])}) == "small"
    # Small: every indicator exactly at the 小型 lower bound; one just below is micro.
    assert size(code, dict(small)) == "small"
    for k in small:
        assert size(code, {**small, k: just_below(k, small[k])}) == "micro"
    assert size(code, dict.fromkeys(sme, 0)) == "micro"


@pytest.mark.parametrize("code", ALL_SECTORS)
def test_missing_needed_indicator_gives_none(code: str) -> None:
    sme = EXPECTED[SECTORS[code]][0]
    for k in sme:
        values = {**sme}
        del values[k]
        assert derive(code, values) is None
    assert derive_size_class(code, None, None, None) is None


def test_unused_indicator_may_be_missing_and_is_ignored() -> None:
    assert derive_size_class("agriculture", None, Decimal(50), None).size_class == "small"  # type: ignore[union-attr]
    result = derive_size_class("agriculture", 100000, Decimal(49), Decimal(10**9))
    assert result is not None and result.size_class == "micro"
    assert "资产总额" in result.explanation_zh and "not used" in result.explanation_en
    assert derive_size_class("other", 10, None, None).size_class == "small"  # type: ignore[union-attr]


def test_hospitality_and_catering_share_thresholds() -> None:
    assert THRESHOLDS["hospitality"] == THRESHOLDS["catering"]
    for code in ("hospitality", "catering", "住宿业", "餐饮业"):
        assert derive_size_class(code, 100, Decimal(2000), None).size_class == "medium"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("industry", "industry"),
        (" Industry ", "industry"),
        ("工业", "industry"),
        ("农、林、牧、渔业", "agriculture"),
        ("农林牧渔业", "agriculture"),
        ("软件和信息技术服务业", "software_it"),
        ("software_it", "software_it"),
        ("住宿和餐饮业", "hospitality"),
        ("其他未列明行业", "other"),
        ("\u3000房地产开发经营 ", "real_estate"),
    ],
)
def test_normalise_sector(raw: str, code: str) -> None:
    assert normalise_sector(raw) == code


@pytest.mark.parametrize("raw", ["", "制造业", "software", None, 1])
def test_unknown_sector(raw: object) -> None:
    with pytest.raises(ParseError) as info:
        normalise_sector(raw)
    assert "工业" in info.value.message_zh and "industry" in info.value.message_en
    with pytest.raises(ParseError):
        derive_size_class(raw, 1, Decimal(1), Decimal(1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("employees", "revenue"),
    [(-1, Decimal(1)), (1, Decimal(-1)), (True, Decimal(1)), (1.5, Decimal(1)), (1, Decimal("NaN")), (1, "100")],
)
def test_invalid_indicator_values(employees: object, revenue: object) -> None:
    with pytest.raises(ParseError):
        derive_size_class("industry", employees, revenue, None)  # type: ignore[arg-type]


def test_explanation_names_sector_indicators_and_thresholds() -> None:
    result = derive_size_class("industry", 299, Decimal(50000), None)
    assert result is not None
    zh, en = result.explanation_zh, result.explanation_en
    for part in ("工业", "从业人员299人", "营业收入50000万元", "从业人员≥300人", "营业收入≥2000万元", "小型"):
        assert part in zh
    for part in ("industry", "staff 299", "revenue 50000", "staff ≥ 300", "revenue ≥ 2000", "→ small"):
        assert part in en


def test_explanation_for_large() -> None:
    result = derive_size_class("construction", None, Decimal(80000), Decimal("80000.00"))
    assert result is not None and result.size_class == "large"
    assert "建筑业" in result.explanation_zh and "资产总额80000万元" in result.explanation_zh
    assert "→ large" in result.explanation_en


def test_derivation_is_frozen() -> None:
    result = derive_size_class("other", 5, None, None)
    assert result is not None
    with pytest.raises(AttributeError):
        result.size_class = "large"  # type: ignore[misc]


def _reference(code: str, values: dict[str, Decimal]) -> str:
    sme, medium, small, micro = EXPECTED[SECTORS[code]]
    if not any(values[k] < b for k, b in sme.items()):
        return "large"
    if all(values[k] >= b for k, b in medium.items()):
        return "medium"
    if any(values[k] < b for k, b in micro.items()):
        return "micro"
    assert all(values[k] >= b for k, b in small.items())
    return "small"


staff = st.integers(min_value=0, max_value=5000)
money = st.decimals(min_value=0, max_value=300000, places=2, allow_nan=False, allow_infinity=False)


@given(st.sampled_from(ALL_SECTORS), staff, money, money)
def test_matches_reference_reading_of_the_table(code: str, e: int, r: Decimal, a: Decimal) -> None:
    values = {"employees": Decimal(e), "revenue": r, "assets": a}
    result = derive_size_class(code, e, r, a)
    assert result is not None
    assert result.size_class == _reference(code, values)


@given(st.sampled_from(ALL_SECTORS), staff, money, money, st.sampled_from(["employees", "revenue", "assets"]),
       st.integers(min_value=1, max_value=100000))
def test_more_of_any_indicator_never_makes_a_firm_smaller(
    code: str, e: int, r: Decimal, a: Decimal, grow: str, by: int
) -> None:
    before = derive_size_class(code, e, r, a)
    after = derive_size_class(
        code,
        e + by if grow == "employees" else e,
        r + by if grow == "revenue" else r,
        a + by if grow == "assets" else a,
    )
    assert before is not None and after is not None
    assert RANK[after.size_class] >= RANK[before.size_class]
