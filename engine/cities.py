"""Liaoning's 14 prefecture-level cities (地级市) and their administrative division codes.

Districts and counties are listed for 阜新 and 铁岭 only (the cities the policy texts concern).
"""

from __future__ import annotations

import re
from typing import Any

from engine.textnorm import ParseError, normalise_text

__all__ = ["CITIES", "CITY_EN", "DISTRICTS", "PROVINCE", "PROVINCE_CODE", "normalise_city"]

PROVINCE = "辽宁省"
PROVINCE_CODE = "210000"

CITIES: dict[str, str] = {
    "沈阳市": "210100",
    "大连市": "210200",
    "鞍山市": "210300",
    "抚顺市": "210400",
    "本溪市": "210500",
    "丹东市": "210600",
    "锦州市": "210700",
    "营口市": "210800",
    "阜新市": "210900",
    "辽阳市": "211000",
    "盘锦市": "211100",
    "铁岭市": "211200",
    "朝阳市": "211300",
    "葫芦岛市": "211400",
}

CITY_EN: dict[str, str] = {
    "沈阳市": "Shenyang",
    "大连市": "Dalian",
    "鞍山市": "Anshan",
    "抚顺市": "Fushun",
    "本溪市": "Benxi",
    "丹东市": "Dandong",
    "锦州市": "Jinzhou",
    "营口市": "Yingkou",
    "阜新市": "Fuxin",
    "辽阳市": "Liaoyang",
    "盘锦市": "Panjin",
    "铁岭市": "Tieling",
    "朝阳市": "Chaoyang",
    "葫芦岛市": "Huludao",
}

# city → {district/county name: division code}
DISTRICTS: dict[str, dict[str, str]] = {
    "阜新市": {
        "海州区": "210902",
        "新邱区": "210903",
        "太平区": "210904",
        "清河门区": "210905",
        "细河区": "210911",
        "阜新蒙古族自治县": "210921",
        "彰武县": "210922",
    },
    "铁岭市": {
        "银州区": "211202",
        "清河区": "211204",
        "铁岭县": "211221",
        "西丰县": "211223",
        "昌图县": "211224",
        "调兵山市": "211281",
        "开原市": "211282",
    },
}

_BY_CODE = {code: name for name, code in CITIES.items()}
_BY_SHORT = {name.removesuffix("市"): name for name in CITIES}
_BY_EN = {en.lower(): name for name, en in CITY_EN.items()}
_EN_SUFFIX = re.compile(r"\s*(?:city|shi)$")


def normalise_city(s: Any) -> str:
    """Canonical city name ("阜新市") from "阜新", "辽宁省阜新市", "Fuxin", "fuxin city", "210900" or 210900."""
    if isinstance(s, int) and not isinstance(s, bool):
        s_text = str(s)  # a division code typed into a numeric cell
    else:
        s_text = s if isinstance(s, str) else ""
    text = normalise_text(s_text)
    # Spreadsheet addresses often carry the province first; it adds nothing for a Liaoning-only list.
    compact = "".join(text.split())
    for prefix in (PROVINCE, "辽宁"):
        if compact.startswith(prefix) and len(compact) > len(prefix):
            compact = compact[len(prefix):]
            break
    if compact in CITIES:
        return compact
    if compact in _BY_SHORT:
        return _BY_SHORT[compact]
    if compact in _BY_CODE:
        return _BY_CODE[compact]
    english = _EN_SUFFIX.sub("", text.lower()).strip()
    if english in _BY_EN:
        return _BY_EN[english]
    names = "、".join(CITIES)
    raise ParseError(
        f"无法识别的辽宁省地级市：{s!r}；应为以下14个之一：{names}",
        f"not a prefecture-level city of Liaoning: {s!r}; expected one of the 14: "
        + ", ".join(f"{name} ({en})" for name, en in CITY_EN.items()),
        s,
    )
