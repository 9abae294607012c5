"""Enumerations with English codes and Chinese labels.

Profiles, spreadsheets and rule conditions may use either the code or the label; everything inside
the engine uses the code. Labels are what users read.
"""

from __future__ import annotations

from engine.size_class import SECTORS, normalise_sector
from engine.textnorm import ParseError, normalise_text

ENTITY_KINDS = {
    "enterprise": "企业",
    "university": "高等学校",
    "research_institute": "科研院所",
    "public_institution": "事业单位",
    "park": "园区",
    "other": "其他",
}
ENTITY_KINDS_EN = {
    "enterprise": "enterprise",
    "university": "university",
    "research_institute": "research institute",
    "public_institution": "public institution",
    "park": "industrial park",
    "other": "other",
}
SIZE_CLASSES = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}
LEVELS = {"none": "无", "provincial": "省级", "national": "国家级"}
INDUSTRIES = {
    "equipment": "装备制造",
    "chemical": "化工",
    "electronics": "电子信息",
    "new_materials": "新材料",
    "biomedicine": "生物医药",
    "integrated_circuit": "集成电路",
    "software": "软件",
    "next_gen_it": "新一代信息技术",
    "new_energy": "新能源",
    "energy_saving": "节能环保",
    "agriculture": "农业",
    "culture": "文化创意",
}
AWARD_LEVELS = {"china": "中国", "provincial": "省"}
AWARD_GRADES = {"gold": "金奖", "silver": "银奖", "excellence": "优秀奖"}
TRADEMARK_ROUTES = {"madrid": "马德里", "other": "其他"}
PATENT_TYPES = {"invention": "发明", "utility": "实用新型", "design": "外观设计"}
TRANSFER_MODES = {
    "transfer": "转让",
    "licence": "许可",
    "equity": "作价入股",
    "self_implementation": "自行实施",
}
INFRINGEMENT_KINDS = {"repeated": "重复侵权", "intentional": "故意侵权", "other": "其他"}

# Extra spellings people write in spreadsheets; mapped to codes.
SYNONYMS = {
    "大": "large", "中": "medium", "小": "small", "微": "micro",
    "大型企业": "large", "中型企业": "medium", "小型企业": "small", "微型企业": "micro",
    "高校": "university", "大学": "university", "高等院校": "university", "科研机构": "research_institute",
    "研究院所": "research_institute", "公司": "enterprise", "国有企业": "enterprise",
    "省": "provincial", "国家": "national", "国家级知识产权优势企业": "national",
    "中国专利": "china", "省专利": "provincial", "金": "gold", "银": "silver", "优秀": "excellence",
    "马德里体系": "madrid", "license": "licence", "入股": "equity", "股权": "equity",
    "无": "none", "否": "none",
    "重复": "repeated", "故意": "intentional", "其他侵权": "other",
}

ENUMS: dict[str, dict[str, str]] = {
    "entity_kind": ENTITY_KINDS,
    "size_class": SIZE_CLASSES,
    "level": LEVELS,
    "industry": INDUSTRIES,
    "award_level": AWARD_LEVELS,
    "award_grade": AWARD_GRADES,
    "route": TRADEMARK_ROUTES,
    "patent_type": PATENT_TYPES,
    "transfer_mode": TRANSFER_MODES,
    "infringement_kind": INFRINGEMENT_KINDS,
    "sector": SECTORS,
}


def enum_code(enum: str, value: str) -> str | None:
    """Code for a code, label or synonym of ``enum``; None when it is none of them."""
    table = ENUMS[enum]
    text = normalise_text(str(value))
    if enum == "sector":
        try:
            return normalise_sector(text)
        except ParseError:
            return None
    lowered = text.lower().replace(" ", "_").replace("-", "_")
    if lowered in table:
        return lowered
    for code, label in table.items():
        if text == label:
            return code
    code = SYNONYMS.get(text)
    if code in table:
        return code
    if enum == "entity_kind":
        for code, label in ENTITY_KINDS_EN.items():
            if lowered == label.replace(" ", "_"):
                return code
    return None


def enum_label(enum: str, code: str, lang: str = "zh") -> str:
    if lang == "en":
        if enum == "entity_kind":
            return ENTITY_KINDS_EN.get(code, code)
        return code.replace("_", " ")
    return ENUMS[enum].get(code, code)
