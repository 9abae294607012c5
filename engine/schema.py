"""The profile schema: every entity field and event type, with English name, Chinese alias and type.

This table is the single source of truth: the pydantic models (``engine.profile``), the condition
type-checker (``engine.conditions``), spreadsheet headers (batch) and Gherkin tables all read it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from engine.textnorm import normalise_text

# Kinds of value a field holds. ``enum`` fields name their vocabulary in ``engine.vocabulary``.
TEXT, BOOL, INT, NUMBER, MONEY, DATE, ENUM, ENUM_LIST, CITY, PLACE, CREDIT_CODE = (
    "text", "bool", "int", "number", "money", "date", "enum", "enum_list", "city", "place", "credit_code",
)
NUMERIC_KINDS = (INT, NUMBER, MONEY)
KIND_LABELS = {
    TEXT: ("文本", "text"), BOOL: ("是/否", "yes/no"), INT: ("整数", "integer"), NUMBER: ("数值", "number"),
    MONEY: ("金额（元）", "amount (yuan)"), DATE: ("日期", "date"), ENUM: ("选项", "choice"),
    ENUM_LIST: ("选项列表", "list of choices"), CITY: ("城市", "city"), PLACE: ("城市或省外", "city or outside Liaoning"),
    CREDIT_CODE: ("统一社会信用代码", "credit code"),
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    zh: str
    en: str
    kind: str
    enum: str | None = None
    aliases: tuple[str, ...] = ()  # further headers seen in real spreadsheets
    required: bool = False
    unit: str | None = None  # a number kept in this unit of money (万元): unit words in a cell convert to it


@dataclass(frozen=True)
class EventType:
    code: str
    zh: str
    en: str
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)


ENTITY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("credit_code", "统一社会信用代码", "unified social credit code", CREDIT_CODE,
              aliases=("信用代码", "社会信用代码"), required=True),
    FieldSpec("name", "名称", "name", TEXT, aliases=("企业名称", "单位名称", "主体名称"), required=True),
    FieldSpec("city", "所在城市", "city", CITY, aliases=("城市", "所在市", "地市"), required=True),
    FieldSpec("district", "区县", "district", TEXT, aliases=("所在区县", "县区")),
    FieldSpec("entity_kind", "主体类型", "kind of entity", ENUM, "entity_kind", aliases=("单位类型", "类型")),
    FieldSpec("state_owned", "国有", "state-owned", BOOL, aliases=("是否国有", "国有企事业单位")),
    FieldSpec("size_class", "企业规模", "size class", ENUM, "size_class", aliases=("规模", "企业规模类型")),
    FieldSpec("sector", "行业", "sector", ENUM, "sector", aliases=("所属行业", "行业门类")),
    FieldSpec("employees", "从业人员", "employees", INT, aliases=("从业人员数", "员工人数", "职工人数")),
    FieldSpec("revenue_wan", "营业收入（万元）", "revenue (10k yuan)", NUMBER, aliases=("营业收入", "营业收入(万元)"),
              unit="万元"),
    FieldSpec("assets_wan", "资产总额（万元）", "total assets (10k yuan)", NUMBER, aliases=("资产总额", "资产总额(万元)"),
              unit="万元"),
    FieldSpec("high_tech", "高新技术企业", "high-tech enterprise", BOOL, aliases=("是否高新技术企业", "高企")),
    FieldSpec("specialized_sme", "专精特新", "specialised SME (专精特新)", BOOL, aliases=("专精特新企业", "是否专精特新")),
    FieldSpec("owns_ip", "拥有自主知识产权", "owns IP", BOOL, aliases=("自主知识产权",)),
    FieldSpec("ip_advantage_level", "知识产权优势企业级别", "IP advantage enterprise level", ENUM, "level",
              aliases=("知识产权优势企业",)),
    FieldSpec("ip_demonstration_level", "知识产权示范企业级别", "IP demonstration enterprise level", ENUM, "level",
              aliases=("知识产权示范企业",)),
    FieldSpec("gbt29490_certified", "通过GB/T 29490认证", "GB/T 29490 certified", BOOL,
              aliases=("贯标认证", "知识产权管理体系认证", "GB/T29490认证")),
    FieldSpec("key_industries", "重点产业", "key industries", ENUM_LIST, "industry", aliases=("所属重点产业", "产业领域")),
    FieldSpec("exporter", "出口企业", "exporter", BOOL, aliases=("是否出口企业",)),
    FieldSpec("blacklisted", "列入侵权失信名单", "on the infringement blacklist", BOOL,
              aliases=("黑名单", "列入黑名单", "侵权黑名单")),
    FieldSpec("blacklisted_on", "列入名单日期", "blacklisted on", DATE, aliases=("列入黑名单日期",)),
    FieldSpec("invention_patents_held", "有效发明专利数", "invention patents held", INT, aliases=("有效发明专利",)),
    # All three kinds (invention, utility model, design): 拥有专利 in the texts means any patent.
    FieldSpec("patents_held", "有效专利数", "patents held (invention, utility model, design)", INT,
              aliases=("有效专利", "有效专利数量", "专利拥有量")),
)

_MONEY = MONEY
EVENT_TYPES: tuple[EventType, ...] = (
    EventType("well_known_trademark", "中国驰名商标认定", "China well-known trademark recognition"),
    EventType("famous_trademark", "省著名商标认定", "provincial famous trademark recognition"),
    EventType("patent_award", "专利奖", "patent award", (
        FieldSpec("award_level", "奖项级别", "award level", ENUM, "award_level", aliases=("级别",)),
        FieldSpec("award_grade", "奖项等级", "award grade", ENUM, "award_grade", aliases=("等级", "奖项")),
    )),
    EventType("intl_trademark_registration", "商标国际注册", "international trademark registration", (
        FieldSpec("route", "注册途径", "route", ENUM, "route", aliases=("途径",)),
        FieldSpec("cost", "费用", "cost", _MONEY, aliases=("注册费用", "费用（元）", "实际费用")),
    )),
    EventType("invention_patent_grant", "发明专利授权", "granted invention patent", (
        FieldSpec("application_fee_paid", "实缴申请费", "application fee paid", _MONEY, aliases=("申请费",)),
        FieldSpec("examination_fee_paid", "实缴实质审查费", "examination fee paid", _MONEY,
                  aliases=("实质审查费", "实审费")),
    )),
    EventType("patent_application", "专利申请", "patent application", (
        FieldSpec("patent_type", "专利类型", "patent type", ENUM, "patent_type"),
    )),
    EventType("pct_application", "PCT国际专利申请", "PCT application"),
    EventType("invention_transfer", "职务成果转化", "service invention transfer", (
        FieldSpec("mode", "转化方式", "mode", ENUM, "transfer_mode", aliases=("方式",)),
        FieldSpec("implementing_city", "实施地", "implementing city", PLACE, aliases=("实施城市", "转化地")),
        FieldSpec("net_income", "净收益", "net income", _MONEY, aliases=("净收入", "转化净收益")),
        FieldSpec("inventor_reward", "奖励完成人金额", "reward to inventors", _MONEY,
                  aliases=("发明人奖励", "完成人所得", "团队所得")),
    )),
    EventType("ip_pledge_loan", "知识产权质押贷款", "IP pledge loan", (
        FieldSpec("loan_amount", "贷款金额", "loan amount", _MONEY),
    )),
    EventType("infringement_penalty", "侵权行政处罚", "infringement penalty", (
        FieldSpec("infringement_kind", "侵权类型", "kind of infringement", ENUM, "infringement_kind"),
    )),
)

EVENT_COMMON: tuple[FieldSpec, ...] = (
    FieldSpec("type", "类型", "type", TEXT, aliases=("事件类型", "事件"), required=True),
    FieldSpec("date", "日期", "date", DATE, aliases=("事件日期", "发生日期", "认定日期", "授权日期"), required=True),
    FieldSpec("ref", "编号", "reference", TEXT, aliases=("登记号", "专利号", "注册号", "证书编号")),
)

ENTITY_BY_NAME = {f.name: f for f in ENTITY_FIELDS}
EVENT_BY_CODE = {e.code: e for e in EVENT_TYPES}


def event_field(event_type: str, name: str) -> FieldSpec | None:
    for spec in EVENT_BY_CODE[event_type].fields + EVENT_COMMON:
        if spec.name == name:
            return spec
    return None


@lru_cache(maxsize=4096)
def _header_key(text: str) -> str:
    return normalise_text(text).lower().replace(" ", "").replace("（", "(").replace("）", ")")


def header_map(specs) -> dict[str, str]:
    """Normalised header (English name, Chinese alias, other spellings) → field name."""
    mapping: dict[str, str] = {}
    for spec in specs:
        for text in (spec.name, spec.zh, spec.en, *spec.aliases):
            mapping.setdefault(_header_key(text), spec.name)
    return mapping


ENTITY_HEADERS = header_map(ENTITY_FIELDS)
ALL_EVENT_FIELDS: tuple[FieldSpec, ...] = EVENT_COMMON + tuple(
    {f.name: f for e in EVENT_TYPES for f in e.fields}.values()
)
EVENT_HEADERS = header_map(ALL_EVENT_FIELDS)


def field_for_header(header: str, headers: dict[str, str]) -> str | None:
    return headers.get(_header_key(header))


def event_type_code(value: str) -> str | None:
    """``"商标国际注册"``, ``"intl_trademark_registration"`` or the English name → the code."""
    key = _header_key(value)
    for e in EVENT_TYPES:
        if key in (_header_key(e.code), _header_key(e.zh), _header_key(e.en)):
            return e.code
    # Common short forms used by clerks and in Gherkin.
    return EVENT_SYNONYMS.get(key)


EVENT_SYNONYMS = {
    _header_key(k): v for k, v in {
        "中国驰名商标": "well_known_trademark", "驰名商标": "well_known_trademark",
        "china well-known trademark": "well_known_trademark",
        "省著名商标": "famous_trademark", "著名商标": "famous_trademark",
        "provincial famous trademark": "famous_trademark",
        "发明专利": "invention_patent_grant", "商标国际注册": "intl_trademark_registration",
        "马德里商标注册": "intl_trademark_registration", "PCT申请": "pct_application", "PCT": "pct_application",
        "质押贷款": "ip_pledge_loan", "知识产权质押融资": "ip_pledge_loan", "成果转化": "invention_transfer",
        "侵权处罚": "infringement_penalty", "行政处罚": "infringement_penalty",
    }.items()
}


def same_field_message(first: str, second: str, name: str, what: str = "columns") -> tuple[str, str]:
    """zh/en wording when two spellings of one field are given (headers ``what="columns"``, profile keys
    ``what="keys"``): refused everywhere, as silently keeping one would change the entity."""
    if first == second:
        noun_zh, noun_en = ("列", "column") if what == "columns" else ("键", "key")
        return (f"{noun_zh}「{first}」出现了两次，请只保留一个", f"{noun_en} '{first}' is given twice; keep one")
    if what == "columns":
        return (f"列「{first}」和「{second}」都对应字段 {name}，请只保留一列",
                f"columns '{first}' and '{second}' both mean field {name}; keep one")
    return (f"键「{first}」和「{second}」都对应字段 {name}，请只保留一个",
            f"keys '{first}' and '{second}' both mean field {name}; keep one")


_UNIT = re.compile(r"[(（]([^()（）]*)[)）]$")


def _core_and_unit(text: str) -> tuple[str, str | None]:
    """``"注册资本（万元）"`` → ``("注册资本", "万元")``: the unit in brackets is compared on its own."""
    key = _header_key(text)
    match = _UNIT.search(key)
    return (key[: match.start()], match.group(1)) if match else (key, None)


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def _allowed_edits(length: int) -> int:
    # A typo, not another word: two-character Chinese names differ in one character at most.
    return 1 if length <= 4 else 2 if length <= 12 else 3


def suggest(name: str, candidates) -> str | None:
    """The candidate that is a close spelling of ``name`` (a typo or a missing character), for "did you
    mean" messages; None when none is. Units in brackets must agree, and the word before them may differ by
    a character or two only, so 注册资本（万元） never suggests 资产总额（万元） and 金额 never suggests 贷款金额
    (another word, another meaning)."""
    core, unit = _core_and_unit(name)
    best: tuple[int, float, int] | None = None
    found = None
    for order, candidate in enumerate(dict.fromkeys(candidates)):
        other, other_unit = _core_and_unit(str(candidate))
        if unit is not None and other_unit is not None and unit != other_unit:
            continue
        longest = max(len(core), len(other))
        if not core or abs(len(core) - len(other)) > _allowed_edits(longest):
            continue  # cheap test first: a huge name costs nothing
        edits = _edits(core, other)
        if edits > _allowed_edits(longest) or edits >= longest:
            continue
        rank = (edits, -difflib.SequenceMatcher(None, core, other).ratio(), order)
        if best is None or rank < best:
            best, found = rank, str(candidate)
    return found
