"""Enterprise profiles: an entity plus dated events (pydantic v2).

Input may use English field names or the Chinese aliases bureau staff use as spreadsheet headers, and
the values real spreadsheets contain ("是", "10,000元", "2016年5月1日"). ``parse_profile`` collects every
problem at once and raises ``ProfileError`` with one bilingual, field-level message each.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine import schema
from engine.cities import normalise_city
from engine.credit_code import validate_credit_code
from engine.json_keys import repeated_keys
from engine.size_class import derive_size_class
from engine.textnorm import (
    ParseError,
    normalise_text,
    parse_amount,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_in_unit,
    parse_int,
)
from engine.vocabulary import ENUMS, enum_code, enum_label

OUTSIDE_LIAONING = "省外"


class FieldError(BaseModel):
    """One problem with one input value."""

    model_config = ConfigDict(frozen=True)
    field: str
    label_zh: str
    value: str | None = None
    message_zh: str
    message_en: str
    event_index: int | None = None

    def text(self, lang: str = "zh") -> str:
        where = f"事件{self.event_index + 1}的" if self.event_index is not None and lang == "zh" else (
            f"event {self.event_index + 1}, " if self.event_index is not None else "")
        shown = "" if self.value is None else f" \"{self.value}\""
        if lang == "en":
            return f"{where}field {self.field}{shown}: {self.message_en}"
        return f"{where}字段「{self.label_zh}」{shown}：{self.message_zh}"


class ProfileError(ValueError):
    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(e.text("zh") + " / " + e.text("en") for e in errors))


class Derivation(BaseModel):
    """A value the engine worked out rather than read (size class from staff and revenue…)."""

    model_config = ConfigDict(frozen=True)
    field: str
    value: str
    message_zh: str
    message_en: str


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    type: str
    date: date
    ref: str | None = None
    award_level: str | None = None
    award_grade: str | None = None
    route: str | None = None
    cost: Decimal | None = None
    application_fee_paid: Decimal | None = None
    examination_fee_paid: Decimal | None = None
    patent_type: str | None = None
    mode: str | None = None
    implementing_city: str | None = None
    net_income: Decimal | None = None
    inventor_reward: Decimal | None = None
    loan_amount: Decimal | None = None
    infringement_kind: str | None = None

    def values(self) -> dict[str, Any]:
        """Field values that are present (``None`` means missing and is left out)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}

    def label(self, lang: str = "zh") -> str:
        spec = schema.EVENT_BY_CODE[self.type]
        name = spec.en if lang == "en" else spec.zh
        ref = f" {self.ref}" if self.ref else ""
        return f"{name}{ref} ({self.date.isoformat()})"


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    credit_code: str
    name: str
    city: str
    district: str | None = None
    entity_kind: str | None = None
    state_owned: bool | None = None
    size_class: str | None = None
    sector: str | None = None
    employees: int | None = None
    revenue_wan: Decimal | None = None
    assets_wan: Decimal | None = None
    high_tech: bool | None = None
    specialized_sme: bool | None = None
    owns_ip: bool | None = None
    ip_advantage_level: str | None = None
    ip_demonstration_level: str | None = None
    gbt29490_certified: bool | None = None
    key_industries: tuple[str, ...] | None = None
    exporter: bool | None = None
    blacklisted: bool | None = None
    blacklisted_on: date | None = None
    invention_patents_held: int | None = None
    patents_held: int | None = None
    events: tuple[Event, ...] = ()
    derivations: tuple[Derivation, ...] = Field(default=(), description="values worked out by the engine")
    warnings: tuple[str, ...] = Field(default=(), description="problems that do not stop evaluation")

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and not data.get("__normalised__"):
            return _normalise_profile(data)
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if k != "__normalised__"}
        return data

    def entity_values(self) -> dict[str, Any]:
        """Entity field values that are present, as conditions see them (lists as tuples)."""
        skip = {"events", "derivations", "warnings"}
        return {k: v for k, v in self.model_dump().items() if k not in skip and v is not None}


def parse_profile(data: Mapping[str, Any]) -> Profile:
    """Validate a raw mapping (English or Chinese keys) into a Profile; raise ProfileError listing every problem."""
    if isinstance(data, Profile):
        return data
    if not isinstance(data, Mapping):
        raise ProfileError([FieldError(field="(profile)", label_zh="（主体）", message_zh="应为一个对象（字段: 值）",
                                       message_en="a profile must be an object of field: value")])
    clean = _normalise_profile(data)
    return Profile.model_validate({**clean, "__normalised__": True})


def _err(spec_name: str, zh: str, value: Any, message_zh: str, message_en: str, index: int | None = None) -> FieldError:
    shown = None if value is None else str(value)[:200]
    return FieldError(field=spec_name, label_zh=zh, value=shown, message_zh=message_zh, message_en=message_en,
                      event_index=index)


def _key_text(key: Any) -> str:
    """A field name as shown in an error; a blank or invisible name is quoted so the message still names it."""
    text = str(key)
    return text if text.strip() and text.isprintable() else repr(text)


class _Spellings:
    """The key each field was given under, to refuse a second spelling of the same field (``city`` and
    ``所在城市``): keeping either silently would move the entity or change its facts."""

    def __init__(self, index: int | None = None):
        self.index = index
        self.keys: dict[str, str] = {}

    def add(self, key: Any, name: str, label_zh: str) -> list[FieldError]:
        first = self.keys.setdefault(name, _key_text(key))
        if first == _key_text(key):
            return []
        zh, en = schema.same_field_message(first, _key_text(key), name, what="keys")
        return [_err(name, label_zh, None, zh, en, self.index)]


def _repeated_key_errors(data: Any, index: int | None = None) -> list[FieldError]:
    """One error per key the JSON source gave twice (``engine.json_keys``)."""
    errors = []
    for key in repeated_keys(data):
        zh, en = schema.same_field_message(_key_text(key), _key_text(key), "", what="keys")
        errors.append(_err(_key_text(key), _key_text(key), None, zh, en, index))
    return errors


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and normalise_text(value) in ("", "-", "—", "/", "无数据", "N/A", "n/a"))


MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell; longer text is not a cell value


def parse_value(spec: schema.FieldSpec, value: Any) -> Any:
    """Parse one cell for ``spec``; raise ParseError with a bilingual message."""
    kind = spec.kind
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        raise ParseError(f"单元格内容过长（超过{MAX_CELL_CHARS}个字符）", f"cell too long (over {MAX_CELL_CHARS} characters)",
                         value[:60] + "…")
    if kind == schema.TEXT:
        text = normalise_text(str(value))
        if len(text) > 500:
            raise ParseError("文本过长（超过500字）", "text too long (over 500 characters)", value)
        return text
    if kind == schema.BOOL:
        return parse_bool(value)
    if kind == schema.INT:
        number = parse_int(value)
        if number < 0:
            raise ParseError("不能为负数", "cannot be negative", value)
        return number
    if kind == schema.NUMBER:
        return parse_in_unit(value, spec.unit) if spec.unit else parse_decimal(value)
    if kind == schema.MONEY:
        return parse_amount(value)
    if kind == schema.DATE:
        return parse_date(value)
    if kind == schema.CITY:
        return normalise_city(value)
    if kind == schema.PLACE:
        text = normalise_text(str(value))
        if text in (OUTSIDE_LIAONING, "辽宁省外", "outside", "outside liaoning"):
            return OUTSIDE_LIAONING
        return normalise_city(text)
    if kind == schema.CREDIT_CODE:
        return validate_credit_code(value)
    if kind == schema.ENUM:
        return _enum(spec, value)
    if kind == schema.ENUM_LIST:
        items = value if isinstance(value, (list, tuple)) else [
            p for p in normalise_text(str(value)).replace("，", ",").replace("、", ",").replace(";", ",").split(",")
        ]
        codes = [_enum(spec, item) for item in items if not _blank(item)]
        return tuple(sorted(set(codes)))
    raise ValueError(f"unknown field kind {kind}")


def _enum(spec: schema.FieldSpec, value: Any) -> str:
    code = enum_code(spec.enum, value) if isinstance(value, str) else None
    if code is None:
        options = ENUMS[spec.enum]
        zh = "、".join(options.values())
        en = ", ".join(options)
        raise ParseError(f"不是有效选项，可选：{zh}", f"not a valid choice; choose one of: {en}", value)
    return code


def _normalise_profile(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    # "warnings" and "derivations" are carried over from a dumped profile; anything else there is an input error.
    warnings: list[str] = []
    raw_warnings = data.get("warnings", ()) or ()
    if isinstance(raw_warnings, (list, tuple)) and all(isinstance(w, str) for w in raw_warnings):
        warnings = list(raw_warnings)
    else:
        errors.append(_err("warnings", "警告", raw_warnings, "应为文字列表", "must be a list of texts"))
    given: tuple[Derivation, ...] = ()
    try:
        raw_given = data.get("derivations", ()) or ()
        if not isinstance(raw_given, (list, tuple)):
            raise ValueError("not a list")
        given = tuple(Derivation.model_validate(d) for d in raw_given)
    except ValueError:  # pydantic's ValidationError is a ValueError
        errors.append(_err("derivations", "推定值", data.get("derivations"), "格式有误", "not in the dumped-profile format"))
    clean: dict[str, Any] = {}
    raw_events: Any = ()
    errors.extend(_repeated_key_errors(data))
    spellings = _Spellings()
    for key, value in data.items():
        if key in ("events", "事件"):
            errors.extend(spellings.add(key, "events", "事件"))
            raw_events = value
            continue
        if key in ("derivations", "warnings"):
            continue  # carried over below: a dumped profile validates back to itself
        name = schema.field_for_header(str(key), schema.ENTITY_HEADERS)
        if name is not None:
            conflict = spellings.add(key, name, schema.ENTITY_BY_NAME[name].zh)
            if conflict:
                errors.extend(conflict)
                continue
        if name is None:
            hint = schema.suggest(str(key), [f.name for f in schema.ENTITY_FIELDS] + [f.zh for f in schema.ENTITY_FIELDS])
            more_zh = f"，是否想写「{hint}」？" if hint else ""
            more_en = f"; did you mean '{hint}'?" if hint else ""
            errors.append(_err(_key_text(key), _key_text(key), None, f"未知字段{more_zh}", f"unknown field{more_en}"))
            continue
        spec = schema.ENTITY_BY_NAME[name]
        if _blank(value):
            continue
        try:
            parsed = parse_value(spec, value)
        except ParseError as exc:
            errors.append(_err(spec.name, spec.zh, value, exc.message_zh, exc.message_en))
            continue
        if spec.kind == schema.CREDIT_CODE:
            parsed, warning = parsed
            if warning:
                warnings.append(warning)
        clean[name] = parsed
    for spec in schema.ENTITY_FIELDS:
        if spec.required and spec.name not in clean and not any(e.field == spec.name for e in errors):
            errors.append(_err(spec.name, spec.zh, None, "必填字段缺失", "required field is missing"))
    events, event_errors = _normalise_events(raw_events)
    errors.extend(event_errors)
    if errors:
        raise ProfileError(errors)
    clean["events"] = events
    clean["warnings"] = tuple(dict.fromkeys(warnings))
    derived = _derive(clean)
    for derivation in derived:
        clean[derivation.field] = derivation.value
    clean["derivations"] = given + tuple(d for d in derived if d not in given)
    return clean


def _normalise_events(raw: Any) -> tuple[tuple[Event, ...], list[FieldError]]:
    errors: list[FieldError] = []
    events: list[Event] = []
    if raw is None:
        return (), errors
    if not isinstance(raw, (list, tuple)):
        return (), [_err("events", "事件", raw, "应为事件列表", "events must be a list")]
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            errors.append(_err("events", "事件", item, "每个事件应为一个对象", "each event must be an object", index))
            continue
        event, problems = _normalise_event(item, index)
        errors.extend(problems)
        if event is not None:
            events.append(event)
    return tuple(events), errors


def _normalise_event(item: Mapping[str, Any], index: int) -> tuple[Event | None, list[FieldError]]:
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    raw_type = None
    unknown: list[tuple[int, Any]] = []  # (position in errors, key): worded once the event type is known
    errors.extend(_repeated_key_errors(item, index))
    spellings = _Spellings(index)
    for key, value in item.items():
        name = schema.field_for_header(str(key), schema.EVENT_HEADERS)
        if name is not None:
            conflict = spellings.add(key, name, _event_label(name))
            if conflict:
                errors.extend(conflict)
                continue
        if name == "type":
            raw_type = value
        elif name is None:
            unknown.append((len(errors), key))
        elif not _blank(value):
            values[name] = value
    code = schema.event_type_code(str(raw_type)) if raw_type is not None and not _blank(raw_type) else None
    # Suggest only fields this type of event has (金额 on a trademark registration is not a loan amount).
    own = schema.EVENT_BY_CODE[code].fields + schema.EVENT_COMMON if code is not None else schema.ALL_EVENT_FIELDS
    for position, key in reversed(unknown):
        hint = schema.suggest(str(key), [f.name for f in own] + [f.zh for f in own])
        more_zh = f"，是否想写「{hint}」？" if hint else ""
        more_en = f"; did you mean '{hint}'?" if hint else ""
        errors.insert(position, _err(_key_text(key), _key_text(key), None, f"未知的事件字段{more_zh}",
                                     f"unknown event field{more_en}", index))
    if code is None:
        names_zh = "、".join(e.zh for e in schema.EVENT_TYPES)
        message_zh = "事件类型缺失" if _blank(raw_type) else f"未知的事件类型，可选：{names_zh}"
        message_en = "event type is missing" if _blank(raw_type) else (
            "unknown event type; choose one of: " + ", ".join(e.code for e in schema.EVENT_TYPES))
        errors.append(_err("type", "类型", raw_type, message_zh, message_en, index))
        return None, errors
    allowed = {f.name: f for f in schema.EVENT_BY_CODE[code].fields + schema.EVENT_COMMON}
    clean: dict[str, Any] = {"type": code}
    for name, value in values.items():
        spec = allowed.get(name)
        if spec is None:
            errors.append(_err(name, name, value, f"「{schema.EVENT_BY_CODE[code].zh}」事件没有此字段",
                               f"a {code} event has no field {name}", index))
            continue
        try:
            clean[name] = parse_value(spec, value)
        except ParseError as exc:
            errors.append(_err(spec.name, spec.zh, value, exc.message_zh, exc.message_en, index))
    if "date" not in clean and not any(e.field == "date" for e in errors):
        errors.append(_err("date", "日期", None, "事件日期缺失", "event date is missing", index))
    if errors:
        return None, errors
    return Event.model_validate(clean), errors


# What a "no" implies about patent counts (the batch reader derives the same: engine.batch.read._derive).
NO_IP_MEANS_NO_PATENTS = ("有效专利数按“拥有自主知识产权：否”推定为0", "patents held derived as 0 from owns IP: no")
NO_PATENTS_MEANS_NO_INVENTIONS = ("有效发明专利数按“有效专利数：0”推定为0", "invention patents held derived as 0 from patents held: 0")


def _derive_patents(clean: dict[str, Any]) -> list[Derivation]:
    """An entity without IP holds no patent, and one without patents no invention patent: say so, rather than
    leave "holds a patent?" undetermined when the answer is given."""
    found = []
    patents = clean.get("patents_held")
    if patents is None and clean.get("owns_ip") is False:
        patents = 0
        found.append(Derivation(field="patents_held", value="0", message_zh=NO_IP_MEANS_NO_PATENTS[0],
                                message_en=NO_IP_MEANS_NO_PATENTS[1]))
    if patents == 0 and "invention_patents_held" not in clean:
        found.append(Derivation(field="invention_patents_held", value="0", message_zh=NO_PATENTS_MEANS_NO_INVENTIONS[0],
                                message_en=NO_PATENTS_MEANS_NO_INVENTIONS[1]))
    return found


def _event_label(name: str) -> str:
    return next(f.zh for f in schema.ALL_EVENT_FIELDS if f.name == name)


def _derive(clean: dict[str, Any]) -> tuple[Derivation, ...]:
    """Work out what the text needs but the input left out, and say so."""
    found: list[Derivation] = []
    if "size_class" not in clean and "sector" in clean:
        result = derive_size_class(clean["sector"], clean.get("employees"), clean.get("revenue_wan"),
                                   clean.get("assets_wan"))
        if result is not None:
            found.append(Derivation(field="size_class", value=result.size_class,
                                    message_zh=f"企业规模按工信部联企业〔2011〕300号推定为{enum_label('size_class', result.size_class)}："
                                               f"{result.explanation_zh}",
                                    message_en=f"size class derived as {result.size_class} under 工信部联企业〔2011〕300号: "
                                               f"{result.explanation_en}"))
    found.extend(_derive_patents(clean))
    code = clean.get("credit_code", "")
    if "entity_kind" not in clean and code.startswith("91"):
        # Registration authority 9 (market regulation) + type 1 (enterprise), per GB 32100-2015.
        found.append(Derivation(field="entity_kind", value="enterprise",
                                message_zh="主体类型按统一社会信用代码前两位“91”（工商登记的企业）推定为企业",
                                message_en="kind of entity derived as enterprise from credit code prefix 91 "
                                           "(registered enterprise)"))
    return tuple(found)
