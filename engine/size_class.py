"""SME size classes under 《中小企业划型标准规定》(工信部联企业〔2011〕300号).

Indicators: staff (从业人员, persons), revenue (营业收入, 万元), assets (资产总额, 万元). The rules are
applied literally, as the standard words them:

* large (大型) unless ANY indicator is below the sector's upper bound (then it is an SME);
* medium (中型) needs ALL of the medium lower bounds; small (小型) needs ALL of the small lower bounds;
* micro (微型) when ANY indicator is below the small lower bound.

So an industrial firm with 299 staff and 50,000万 revenue is small, not medium: the revenue alone would
be large, but medium needs staff ≥ 300 too. A sector's indicators must all be known; otherwise
``derive_size_class`` returns None rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.textnorm import ParseError, normalise_text

__all__ = [
    "INDICATORS",
    "SECTORS",
    "SIZE_CLASSES",
    "THRESHOLDS",
    "SectorThresholds",
    "SizeDerivation",
    "derive_size_class",
    "normalise_sector",
    "required_indicators",
]

SIZE_CLASSES = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}

SECTORS: dict[str, str] = {
    "agriculture": "农、林、牧、渔业",
    "industry": "工业",
    "construction": "建筑业",
    "wholesale": "批发业",
    "retail": "零售业",
    "transport": "交通运输业",
    "warehousing": "仓储业",
    "postal": "邮政业",
    "hospitality": "住宿业",
    "catering": "餐饮业",
    "information_transmission": "信息传输业",
    "software_it": "软件和信息技术服务业",
    "real_estate": "房地产开发经营",
    "property_management": "物业管理",
    "leasing_business": "租赁和商务服务业",
    "other": "其他未列明行业",
}

# indicator → (Chinese label, English label, unit zh, unit en)
INDICATORS: dict[str, tuple[str, str, str, str]] = {
    "employees": ("从业人员", "staff", "人", " persons"),
    "revenue": ("营业收入", "revenue", "万元", " 万元"),
    "assets": ("资产总额", "total assets", "万元", " 万元"),
}


@dataclass(frozen=True)
class SectorThresholds:
    """Bounds per indicator. SME if any value < sme_below; medium/small need every value ≥ its bound."""

    sme_below: dict[str, int]
    medium_min: dict[str, int]
    small_min: dict[str, int]

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(self.sme_below)


def _t(sme: dict[str, int], medium: dict[str, int], small: dict[str, int]) -> SectorThresholds:
    return SectorThresholds(sme, medium, small)


_HOSPITALITY = _t({"employees": 300, "revenue": 10000}, {"employees": 100, "revenue": 2000},
                  {"employees": 10, "revenue": 100})

# Straight from the table in shared/notes/domain-facts.md (工信部联企业〔2011〕300号, article 4).
THRESHOLDS: dict[str, SectorThresholds] = {
    "agriculture": _t({"revenue": 20000}, {"revenue": 500}, {"revenue": 50}),
    "industry": _t({"employees": 1000, "revenue": 40000}, {"employees": 300, "revenue": 2000},
                   {"employees": 20, "revenue": 300}),
    "construction": _t({"revenue": 80000, "assets": 80000}, {"revenue": 6000, "assets": 5000},
                       {"revenue": 300, "assets": 300}),
    "wholesale": _t({"employees": 200, "revenue": 40000}, {"employees": 20, "revenue": 5000},
                    {"employees": 5, "revenue": 1000}),
    "retail": _t({"employees": 300, "revenue": 20000}, {"employees": 50, "revenue": 500},
                 {"employees": 10, "revenue": 100}),
    "transport": _t({"employees": 1000, "revenue": 30000}, {"employees": 300, "revenue": 3000},
                    {"employees": 20, "revenue": 200}),
    "warehousing": _t({"employees": 200, "revenue": 30000}, {"employees": 100, "revenue": 1000},
                      {"employees": 20, "revenue": 100}),
    "postal": _t({"employees": 1000, "revenue": 30000}, {"employees": 300, "revenue": 2000},
                 {"employees": 20, "revenue": 100}),
    "hospitality": _HOSPITALITY,
    "catering": _HOSPITALITY,
    "information_transmission": _t({"employees": 2000, "revenue": 100000}, {"employees": 100, "revenue": 1000},
                                   {"employees": 10, "revenue": 100}),
    "software_it": _t({"employees": 300, "revenue": 10000}, {"employees": 100, "revenue": 1000},
                      {"employees": 10, "revenue": 50}),
    "real_estate": _t({"revenue": 200000, "assets": 10000}, {"revenue": 1000, "assets": 5000},
                      {"revenue": 100, "assets": 2000}),
    "property_management": _t({"employees": 1000, "revenue": 5000}, {"employees": 300, "revenue": 1000},
                              {"employees": 100, "revenue": 500}),
    "leasing_business": _t({"employees": 300, "assets": 120000}, {"employees": 100, "assets": 8000},
                           {"employees": 10, "assets": 100}),
    "other": _t({"employees": 300}, {"employees": 100}, {"employees": 10}),
}


@dataclass(frozen=True)
class SizeDerivation:
    """A derived size class with the reasoning, in Chinese and English."""

    size_class: str  # "large" | "medium" | "small" | "micro"
    explanation_zh: str
    explanation_en: str


def _key(text: str) -> str:
    # "农林牧渔业", "农、林、牧、渔业" and "农, 林, 牧, 渔业" all name the same sector.
    return "".join(ch for ch in normalise_text(text).lower() if ch not in " 、,，/_-")


_SECTOR_LOOKUP: dict[str, str] = {}
for _code, _name in SECTORS.items():
    _SECTOR_LOOKUP[_key(_code)] = _code
    _SECTOR_LOOKUP[_key(_name)] = _code
_SECTOR_LOOKUP[_key("住宿和餐饮业")] = "hospitality"  # same thresholds; the standard lists them together
_SECTOR_LOOKUP[_key("住宿业/餐饮业")] = "hospitality"


def normalise_sector(sector: Any) -> str:
    """Sector code from a code ("software_it") or the Chinese name ("软件和信息技术服务业")."""
    code = _SECTOR_LOOKUP.get(_key(sector)) if isinstance(sector, str) else None
    if code is None:
        raise ParseError(
            f"无法识别的行业：{sector!r}；可选：" + "、".join(SECTORS.values()),
            f"unknown sector {sector!r}; choose one of: " + ", ".join(SECTORS),
            sector,
        )
    return code


def required_indicators(sector: str) -> tuple[str, ...]:
    """The indicators ("employees", "revenue", "assets") the sector's thresholds use."""
    return THRESHOLDS[normalise_sector(sector)].indicators


def _check_value(name: str, value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ParseError(
            f"{INDICATORS[name][0]}应为整数或 Decimal，收到 {value!r}",
            f"{INDICATORS[name][1]} must be an int or Decimal, got {value!r}",
            value,
        )
    number = Decimal(value)
    if not number.is_finite() or number < 0:
        raise ParseError(
            f"{INDICATORS[name][0]}必须是非负有限数，收到 {value!r}",
            f"{INDICATORS[name][1]} must be a finite non-negative number, got {value!r}",
            value,
        )
    return number


def _fmt(n: Decimal | int) -> str:
    return format(Decimal(n).normalize(), "f")  # 5E+4 → "50000", 1200.50 → "1200.5"


def _zh(name: str, value: Decimal | int) -> str:
    return f"{INDICATORS[name][0]}{_fmt(value)}{INDICATORS[name][2]}"


def _en(name: str, value: Decimal | int) -> str:
    return f"{INDICATORS[name][1]} {_fmt(value)}{INDICATORS[name][3]}"


def _bounds(bounds: dict[str, int], op: str, joiner_zh: str, joiner_en: str) -> tuple[str, str]:
    zh = joiner_zh.join(f"{INDICATORS[k][0]}{op}{v}{INDICATORS[k][2]}" for k, v in bounds.items())
    en = joiner_en.join(f"{INDICATORS[k][1]} {op} {v}{INDICATORS[k][3]}" for k, v in bounds.items())
    return zh, en


def derive_size_class(
    sector: str,
    employees: int | None,
    revenue_wan: Decimal | int | None,
    assets_wan: Decimal | int | None,
) -> SizeDerivation | None:
    """Size class from staff, revenue (万元) and assets (万元); None when a needed indicator is missing.

    Indicators the sector does not use are ignored (and the explanation says so).
    """
    code = normalise_sector(sector)
    t = THRESHOLDS[code]
    given = {
        "employees": _check_value("employees", employees),
        "revenue": _check_value("revenue", revenue_wan),
        "assets": _check_value("assets", assets_wan),
    }
    values: dict[str, Decimal] = {}
    for k in t.indicators:
        v = given[k]
        if v is None:
            return None  # nothing is guessed: a missing indicator could flip any comparison
        values[k] = v

    def below(bounds: dict[str, int]) -> list[str]:
        return [k for k, b in bounds.items() if values[k] < b]

    facts_zh = "，".join(_zh(k, v) for k, v in values.items())
    facts_en = ", ".join(_en(k, v) for k, v in values.items())
    steps_zh = [f"行业：{SECTORS[code]}；{facts_zh}"]
    money_note = " (万元 = 10,000 yuan)" if set(values) & {"revenue", "assets"} else ""
    steps_en = [f"sector {code} ({SECTORS[code]}); {facts_en}{money_note}"]
    unused = [k for k in INDICATORS if k not in t.indicators and given[k] is not None]
    if unused:
        steps_zh.append("本行业标准不采用" + "、".join(INDICATORS[k][0] for k in unused))
        steps_en.append("not used for this sector: " + ", ".join(INDICATORS[k][1] for k in unused))

    sme_zh, sme_en = _bounds(t.sme_below, "<", "或", " or ")
    low = below(t.sme_below)
    if not low:
        steps_zh.append(f"中小企业条件（任一满足）：{sme_zh}；均不满足 → 大型")
        steps_en.append(f"SME if any of: {sme_en}; none holds → large")
        return SizeDerivation("large", "；".join(steps_zh), "; ".join(steps_en))
    steps_zh.append(f"{'、'.join(_zh(k, values[k]) for k in low)}低于中小企业上限（{sme_zh}，任一满足即为中小企业）")
    steps_en.append(f"SME (any of: {sme_en}) because of {', '.join(_en(k, values[k]) for k in low)}")

    for size, bounds in (("medium", t.medium_min), ("small", t.small_min)):
        need_zh, need_en = _bounds(bounds, "≥", "且", " and ")
        short = below(bounds)
        if not short:
            steps_zh.append(f"{SIZE_CLASSES[size]}要求{need_zh}，全部满足 → {SIZE_CLASSES[size]}")
            steps_en.append(f"{size} needs {need_en}; all met → {size}")
            return SizeDerivation(size, "；".join(steps_zh), "; ".join(steps_en))
        fails_zh = "、".join(_zh(k, values[k]) for k in short)
        fails_en = ", ".join(_en(k, values[k]) for k in short)
        steps_zh.append(f"{SIZE_CLASSES[size]}要求{need_zh}，{fails_zh}未达到")
        steps_en.append(f"{size} needs {need_en}; not met ({fails_en})")
    steps_zh.append("任一指标低于小型下限 → 微型")
    steps_en.append("an indicator is below the small lower bound → micro")
    return SizeDerivation("micro", "；".join(steps_zh), "; ".join(steps_en))
