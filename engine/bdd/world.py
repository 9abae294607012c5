"""One scenario's world: the entity and its events as the steps build them, the evaluation, the checks.

Every method named ``do_<handler>`` performs one sentence of ``engine.bdd.sentences``. Assertion-type
failures and drafters' mistakes raise ``Finding`` (rendered without a traceback); anything else is a bug.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.bdd.report import Finding
from engine.bdd.sentences import ALL_QUOTES, Match

# -- phrases ---------------------------------------------------------------------------------------

_SIZES_ZH = {"": None, "小型": "small", "微型": "micro", "中型": "medium", "大型": "large"}
_SIZES_EN = {"": None, "small ": "small", "micro ": "micro", "medium-sized ": "medium", "medium ": "medium",
             "large ": "large"}
_OWNERSHIP_ZH = {"": None, "国有": True, "民营": False, "私营": False}
_OWNERSHIP_EN = {"": None, "state-owned ": True, "private ": False}


def _entity_phrases() -> dict[str, dict[str, Any]]:
    phrases: dict[str, dict[str, Any]] = {}
    for owner, owned in _OWNERSHIP_ZH.items():
        for size, code in _SIZES_ZH.items():
            fields: dict[str, Any] = {"entity_kind": "enterprise"}
            if code:
                fields["size_class"] = code
            if owned is not None:
                fields["state_owned"] = owned
            phrases[f"{owner}{size}企业"] = fields
    for owner, owned in _OWNERSHIP_EN.items():
        for size, code in _SIZES_EN.items():
            fields = {"entity_kind": "enterprise"}
            if code:
                fields["size_class"] = code
            if owned is not None:
                fields["state_owned"] = owned
            phrases[f"{owner}{size}enterprise"] = fields
    for zh, en, kind in (("高等学校", "university", "university"), ("高校", "", "university"), ("大学", "", "university"),
                         ("科研院所", "research institute", "research_institute"),
                         ("事业单位", "public institution", "public_institution"), ("园区", "park", "park")):
        phrases[zh] = {"entity_kind": kind}
        if en:
            phrases[en] = {"entity_kind": kind}
    return phrases


ENTITY_PHRASES = _entity_phrases()

_LEVEL_EN = {"china": "China", "provincial": "provincial"}  # the English words; vocabulary.AWARD_LEVELS has the Chinese
_LEVEL_ALIASES = {"辽宁省": "provincial", "liaoning": "provincial"}
# Spellings of the field-less honour events on top of schema.EVENT_SYNONYMS.
_HONOUR_ALIASES = {"辽宁省著名商标": "famous_trademark", "well-known trademark": "well_known_trademark",
                   "famous trademark": "famous_trademark", "Liaoning famous trademark": "famous_trademark"}


def _honour_names() -> list[str]:
    from engine.vocabulary import AWARD_GRADES, AWARD_LEVELS

    names = ["中国驰名商标", "省著名商标"]
    names += [f"{level}专利{grade}" for level in AWARD_LEVELS.values() for grade in AWARD_GRADES.values()]
    names += ["China Well-Known Trademark", "provincial famous trademark"]
    names += [f"{_LEVEL_EN[level]} Patent {grade.title()} Award" for level in AWARD_LEVELS for grade in AWARD_GRADES]
    return names


HONOURS = _honour_names()  # the names shown in the vocabulary; ``honour_fields`` accepts more spellings


def key(text: str) -> str:
    """Comparison key: ``engine.schema``'s header key (NFKC, no whitespace, lower case), without quotes."""
    from engine.schema import _header_key

    return _header_key("".join(ch for ch in str(text) if ch not in ALL_QUOTES + "'‘’"))


_PHRASE_KEYS = {key(p): v for p, v in ENTITY_PHRASES.items()}
_AWARD = re.compile(r"(.*?)(?:专利|patent)(.+?)(?:award)?")


def entity_fields(kind: str) -> dict[str, Any] | None:
    """The profile fields a kind of entity (小型企业, state-owned enterprise, 高校 …) stands for; None: unknown."""
    return _PHRASE_KEYS.get(key(kind))


def honour_fields(honour: str) -> dict[str, str] | None:
    """The event an honour or award names ({"type": …} plus award level and grade); None when it names none,
    or names an event that has fields of its own (e.g. 商标国际注册: it needs its own sentence)."""
    from engine import schema
    from engine.vocabulary import enum_code

    wanted = key(honour)
    m = _AWARD.fullmatch(wanted)
    if m:
        level = _LEVEL_ALIASES.get(m.group(1)) or enum_code("award_level", m.group(1))
        grade = enum_code("award_grade", m.group(2))
        if level and grade:
            return {"type": "patent_award", "award_level": level, "award_grade": grade}
    code = {key(k): v for k, v in _HONOUR_ALIASES.items()}.get(wanted) or schema.event_type_code(honour)
    if code is None or schema.EVENT_BY_CODE[code].fields:
        return None
    return {"type": code}


KIND_WORDS = {"benefit": ("奖补", "benefit"), "requirement": ("要求", "requirement"), "exclusion": ("排除规则", "exclusion"),
              "derived": ("推定事实", "derived fact")}


def wrong_kind(rule: Any, kinds: tuple[str, ...] | None) -> tuple[str, str] | None:
    """(zh, en) when a sentence for ``kinds`` of rule names ``rule`` of another kind; None when it fits."""
    if not kinds or rule.kind in kinds:
        return None
    zh = f"「{rule.title}」（{rule.id}）是一条{KIND_WORDS[rule.kind][0]}，这句话用于" + "、".join(KIND_WORDS[k][0] for k in kinds)
    en = f'"{rule.title_en}" ({rule.id}) is a {KIND_WORDS[rule.kind][1]}; this sentence is for ' + ", ".join(
        KIND_WORDS[k][1] for k in kinds)
    return zh, en


def involved(result: Any, rule: Any) -> bool:
    """Whether ``rule`` takes part in an evaluation: pays, is withheld or superseded, binds, excludes, waits for a
    fact, or (a derived fact) is not false."""
    return (any(line.rule_id == rule.id for line in result.benefits)
            or any(w.line.rule_id == rule.id for w in result.withheld)
            or any(s.line.rule_id == rule.id for s in result.superseded)
            or any(u.rule_id == rule.id for u in result.undetermined)
            or any(q.rule_id == rule.id for q in result.requirements)
            or any(e.rule_id == rule.id for e in result.exclusions)
            or any(t.rule_id == rule.id and t.status == "undetermined" for t in result.traces)
            or (rule.kind == "derived" and result.derived.get(rule.id) != "false"))


# -- rules by name ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleLookup:
    rule: Any | None  # engine.rulebook.Rule
    ambiguous: tuple[Any, ...] = ()
    suggestions: tuple[str, ...] = ()


def _subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return all(ch in it for ch in needle)


def lookup_rule(name: str, ruleset: Any) -> RuleLookup:
    """A rule by id or by its Chinese or English title (exact, ignoring quotes and spaces).

    A name that is not exact is accepted when it is the abbreviation of exactly one title (its
    characters — English: its words — appear in order and cover at least 60% of the title), e.g.
    "商标国际注册补助" for "企业商标国际注册70%补助". Two rules with the same title: ambiguous.
    """
    if name in ruleset.by_id:
        return RuleLookup(ruleset.by_id[name])
    wanted = key(name)
    exact = [r for r in ruleset.rules if wanted in (key(r.id), key(r.title), key(r.title_en))]
    if len(exact) == 1:
        return RuleLookup(exact[0])
    if len(exact) > 1:
        return RuleLookup(None, tuple(exact))
    loose = []
    words = re.findall(r"\w+", name.lower())
    for r in ruleset.rules:
        zh = key(r.title)
        if len(wanted) >= 4 and _subsequence(wanted, zh) and len(wanted) >= 0.6 * len(zh):
            loose.append(r)
            continue
        title_words = re.findall(r"\w+", r.title_en.lower())
        if words and not name.isascii():
            continue
        if len(words) >= 2 and _subsequence_words(words, title_words) and len(words) >= 0.6 * len(title_words):
            loose.append(r)
    if len(loose) == 1:
        return RuleLookup(loose[0])
    if len(loose) > 1:
        return RuleLookup(None, tuple(loose))
    names = {}
    for r in ruleset.rules:
        for label in (r.id, r.title, r.title_en):
            names[label] = r
    close = difflib.get_close_matches(name, list(names), n=5, cutoff=0.4)
    contains = [label for label in names if wanted and (wanted in key(label) or key(label) in wanted)]
    suggestions = list(dict.fromkeys(contains[:5] + close))[:6]
    return RuleLookup(None, (), tuple(f"{s}（{names[s].id}）" if s != names[s].id else s for s in suggestions))


def _subsequence_words(needle: list[str], hay: list[str]) -> bool:
    it = iter(hay)
    return all(word in it for word in needle)


# -- the world -------------------------------------------------------------------------------------

_RULESETS: dict[tuple[str, tuple], Any] = {}


def load_ruleset(path: Path | None, lang: str = "zh") -> Any:
    """Load (and cache while the files are unchanged) a rules folder; None: the shipped rule base."""
    from engine.evaluate import default_rules
    from engine.rulebook import LoadError, load_rules

    try:
        if path is None:
            return default_rules()
        files = sorted(path.rglob("*.toml")) if path.is_dir() else [path]
        signature = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
        cache_key = (str(path), signature)
        if cache_key not in _RULESETS:
            _RULESETS[cache_key] = load_rules(path)
        return _RULESETS[cache_key]
    except LoadError as exc:
        raise Finding(("规则目录无法加载：" if lang == "zh" else "the rules folder cannot be loaded: ") + str(path or ""),
                      details=[exc.text(lang)]) from None


def resolve_folder(text: str, bases: Sequence[Path], lang: str) -> Path:
    """A rules folder named in a step or option: absolute, or relative to each of ``bases`` in turn."""
    given = Path(text).expanduser()
    tried = [given] if given.is_absolute() else [base / given for base in bases]
    for candidate in tried:
        if candidate.exists():
            return candidate.resolve()
    shown = "、".join(str(t) for t in tried) if lang == "zh" else ", ".join(str(t) for t in tried)
    raise Finding(f"找不到规则目录「{text}」" if lang == "zh" else f"rules folder not found: {text}",
                  details=[("已查找：" if lang == "zh" else "looked in: ") + shown])


class World:
    """The state of one scenario run."""

    def __init__(self, lang: str, feature_dir: Path, rootdir: Path, rules_option: Path | None = None,
                 ruleset: Any = None):
        self.lang = lang
        self.feature_dir = feature_dir
        self.rootdir = rootdir
        self.rules_option = rules_option
        self.entity: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.as_of: date | None = None
        self.period: Any = None  # engine.results.Period of the claim round, or None
        self.paid: list[tuple[str, date, str | None]] = []  # (rule name, date paid, round) for the ledger
        self.rules_path: Path | None = rules_option
        self.result: Any = None
        self.stale = False
        self.sentence: Any = None  # the sentence being run
        self._ruleset: Any = ruleset  # the rule set of ``rules_option`` when the caller has it loaded already

    # -- language helpers ------------------------------------------------------------------------
    def t(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def title(self, rule: Any) -> str:
        return rule.title if self.lang == "zh" else rule.title_en

    def named(self, rule: Any) -> str:
        return f"「{rule.title}」（{rule.id}）" if self.lang == "zh" else f'"{rule.title_en}" ({rule.id})'

    def yuan(self, value: Decimal | None) -> str:
        from engine.money import format_yuan

        if value is None:
            return self.t("无具体金额", "no stated amount")
        return format_yuan(value) + self.t("元", " yuan")

    # -- running a step --------------------------------------------------------------------------
    def run(self, found: Match, table: list[list[str]] | None) -> None:
        handler = getattr(self, "do_" + found.sentence.handler)
        self.sentence = found.sentence
        if found.sentence.table_zh and table is None:
            raise Finding(self.t("这句话后面需要一个表格（" + found.sentence.table_zh + "）",
                                 "this sentence needs a table below it (" + (found.sentence.table_en or "") + ")"))
        if found.sentence.kind == "given" and self.result is not None:
            self.stale = True
        if found.sentence.table_zh:
            handler(table, **found.args)
        else:
            handler(**found.args)

    # -- values ----------------------------------------------------------------------------------
    def amount(self, text: str) -> Decimal:
        from engine.textnorm import ParseError, parse_amount

        cleaned = re.sub(r"\s*(yuan|rmb|cny)\s*$", "", text, flags=re.IGNORECASE)
        try:
            return parse_amount(cleaned)
        except ParseError as exc:
            raise Finding(exc.message_zh if self.lang == "zh" else exc.message_en) from None

    def date(self, text: str) -> date:
        from engine.textnorm import ParseError, parse_date

        try:
            return parse_date(text)
        except ParseError as exc:
            raise Finding(exc.message_zh if self.lang == "zh" else exc.message_en) from None

    def field_name(self, header: str) -> str:
        from engine import schema

        return schema.field_for_header(header, schema.ENTITY_HEADERS) or header

    def rows(self, table: list[list[str]], header: tuple[str, ...] = ("字段", "值", "field", "value")) -> list[tuple[str, str]]:
        pairs = []
        for index, row in enumerate(table):
            cells = [c.strip() for c in row]
            if index == 0 and len(cells) == 2 and {key(c) for c in cells} <= {key(h) for h in header}:
                continue
            if len(cells) != 2:
                raise Finding(self.t(f"表格每行应有两格（字段 | 值），第{index + 1}行有{len(cells)}格",
                                     f"each table row needs two cells (field | value); row {index + 1} has {len(cells)}"))
            pairs.append((cells[0], cells[1]))
        return pairs

    # -- the entity ------------------------------------------------------------------------------
    def do_entity_of_kind(self, city: str, kind: str) -> None:
        from engine.cities import normalise_city
        from engine.textnorm import ParseError

        fields = entity_fields(kind)
        if fields is None:
            known = [p for p in ENTITY_PHRASES if p.isascii() == (self.lang == "en")]
            close = difflib.get_close_matches(kind, known, n=3, cutoff=0.3)
            raise Finding(self.t(f"不认识的主体类型「{kind}」", f"unknown kind of entity: {kind}"),
                          details=[self.t("可用：", "known: ") + ("、" if self.lang == "zh" else ", ").join(
                              close + [k for k in known if k not in close][:12])])
        try:
            normalise_city(city)
        except ParseError as exc:
            raise Finding(exc.message_zh if self.lang == "zh" else exc.message_en) from None
        self.entity.update({"city": city, **fields})

    def do_entity_table(self, table: list[list[str]]) -> None:
        for field, value in self.rows(table):
            self.entity[self.field_name(field)] = value

    def do_attributes_table(self, table: list[list[str]]) -> None:
        self.do_entity_table(table)

    def do_field_value(self, field: str, value: str) -> None:
        self.entity[self.field_name(field)] = value

    def do_blacklisted(self, date: str | None = None) -> None:
        self.entity["blacklisted"] = True
        if date is not None:
            self.entity["blacklisted_on"] = self.date(date)

    def do_not_blacklisted(self) -> None:
        self.entity["blacklisted"] = False

    # -- events ----------------------------------------------------------------------------------
    def event(self, event_type: str, when: str, **fields: Any) -> None:
        self.events.append({"type": event_type, "date": self.date(when),
                            **{k: v for k, v in fields.items() if v is not None}})

    def do_events_table(self, table: list[list[str]]) -> None:
        if len(table) < 2:
            raise Finding(self.t("事件表格需要表头行（类型 | 日期 | …）和至少一行事件",
                                 "an events table needs a header row (type | date | …) and at least one event"))
        header = [c.strip() for c in table[0]]
        for row in table[1:]:
            self.events.append({h: c.strip() for h, c in zip(header, row) if c.strip() != ""})

    def do_event_fields(self, table: list[list[str]], type: str) -> None:
        event: dict[str, Any] = {"type": type}
        for field, value in self.rows(table):
            event[field] = value
        self.events.append(event)

    def do_intl_trademark(self, date: str, cost: str | None = None, route: str | None = None) -> None:
        self.event("intl_trademark_registration", date, cost=None if cost is None else self.amount(cost), route=route)

    def do_invention_grant(self, date: str, application_fee: str | None = None, examination_fee: str | None = None) -> None:
        self.event("invention_patent_grant", date,
                   application_fee_paid=None if application_fee is None else self.amount(application_fee),
                   examination_fee_paid=None if examination_fee is None else self.amount(examination_fee))

    def do_honour(self, date: str, honour: str) -> None:
        fields = honour_fields(honour)
        if fields is None:
            known = [h for h in HONOURS if h.isascii() == (self.lang == "en")]
            raise Finding(self.t(f"不认识的荣誉或奖项「{honour}」", f"unknown honour or award: {honour}"),
                          details=[self.t("可用：", "known: ") + ("、" if self.lang == "zh" else ", ").join(known)])
        self.event(fields["type"], date, **{k: v for k, v in fields.items() if k != "type"})

    def do_patent_application(self, date: str, patent_type: str) -> None:
        self.event("patent_application", date, patent_type=patent_type)

    def do_pct_application(self, date: str) -> None:
        self.event("pct_application", date)

    def do_pledge_loan(self, date: str, loan: str | None = None) -> None:
        self.event("ip_pledge_loan", date, loan_amount=None if loan is None else self.amount(loan))

    def do_invention_transfer(self, date: str, mode: str, place: str, net_income: str | None = None,
                              reward: str | None = None) -> None:
        self.event("invention_transfer", date, mode=mode, implementing_city=place,
                   net_income=None if net_income is None else self.amount(net_income),
                   inventor_reward=None if reward is None else self.amount(reward))

    def do_penalty(self, date: str, infringement_kind: str) -> None:
        self.event("infringement_penalty", date, infringement_kind=infringement_kind)

    # -- a claim round ---------------------------------------------------------------------------
    def do_paid_before(self, date: str, rule: str, round: str | None = None) -> None:
        self.rule(rule)  # names one rule, of the right kind
        self.paid.append((rule, self.date(date), round))

    def do_claim_period(self, period: str | None = None, start: str | None = None, end: str | None = None) -> None:
        from engine.period import PeriodError, parse_period
        from engine.results import Period

        try:
            if period is not None:
                self.period = parse_period(period)
            else:
                first, last = self.date(start), self.date(end)
                if last < first:
                    raise PeriodError("申报期的截止日早于起始日", "the period ends before it starts")
                self.period = Period(start=first, end=last)
        except PeriodError as exc:
            raise Finding(exc.message_zh if self.lang == "zh" else exc.message_en) from None

    def ledger(self, ruleset: Any) -> Any:
        """The ``paid_before`` sentences as an in-memory ledger: each names an award paid on a date, recorded under
        the once-keys of that rule's lines for the events up to that date (what it would have paid then)."""
        import engine
        from engine.claims import InMemoryClaims, PaidClaim
        from engine.once import once_scope

        if not self.paid:
            return None
        claims = InMemoryClaims()
        profile = self.profile()
        for name, when, round_name in self.paid:
            r = self.rule(name)
            scope = once_scope(r)
            whole = engine.evaluate(profile, max(when, self.as_of), ruleset, backend="python")
            lines = [b for b in [*whole.benefits, *(s.line for s in whole.superseded)]
                     if once_scope(ruleset.by_id[b.rule_id]) == scope and (b.event is None or b.event.date <= when)]
            if not lines:
                raise Finding(self.t(f"{self.named(r)}在{when}之前没有可兑现的事件，台账无从记录",
                                     f"{self.named(r)} had nothing to pay for by {when}: the ledger cannot record it"),
                              details=self.rule_details(r))
            for line in {b.once_key: b for b in lines}.values():
                claims.add(PaidClaim(profile["credit_code"], line.once_key, line.rule_id, line.amount or Decimal("0.00"),
                                     "paid", round_name or str(when), recorded_at=when.isoformat()))
        return claims

    def do_already_paid(self, rule: str) -> None:
        result = self.outcome()
        r, shared = self.benefit_rule_paid(rule)
        if r is not None and any(p.line.rule_id == r.id for p in result.already_paid):
            return
        target = r or self.rule(rule)
        raise self.finding("该项奖补不在“已兑现”中", "the benefit is not reported as already paid", target,
                           expected=self.t("已兑现 ", "already paid: ") + self.title(target))

    def benefit_rule_paid(self, name: str) -> tuple[Any | None, tuple[Any, ...]]:
        """Like ``benefit_rule``, among the lines reported as already paid."""
        found = lookup_rule(name, self.ruleset())
        if found.rule is not None or not found.ambiguous:
            return self.rule(name), ()
        paid = {p.line.rule_id for p in self.outcome().already_paid}
        taking_part = [r for r in found.ambiguous if r.id in paid]
        return (taking_part[0], found.ambiguous) if len(taking_part) == 1 else (None, found.ambiguous)

    def do_outside_period(self, date: str) -> None:
        result = self.outcome()
        when = self.date(date)
        if any(o.event.date == when for o in result.outside_period):
            return
        shown = "、".join(str(o.event.date) for o in result.outside_period) or self.t("（无）", "(none)")
        raise Finding(self.t("该日的事件不在“申报期外”之列", "no event of that date is outside the claim period"),
                      expected=str(when), actual=shown)

    # -- evaluation ------------------------------------------------------------------------------
    def ruleset(self) -> Any:
        if self._ruleset is None:
            self._ruleset = load_ruleset(self.rules_path, self.lang)
        return self._ruleset

    def profile(self) -> dict[str, Any]:
        from engine.cities import CITIES, normalise_city
        from engine.credit_code import check_character
        from engine.textnorm import ParseError

        data = dict(self.entity)
        if "credit_code" not in data:
            try:
                division = CITIES[normalise_city(data.get("city", ""))]
            except (ParseError, KeyError):
                division = "210000"
            prefix = "91" if data.get("entity_kind", "enterprise") == "enterprise" else "12"
            body = f"{prefix}{division}MA0000001"
            data["credit_code"] = body + check_character(body)
        data.setdefault("name", self.t("测试主体", "Test entity"))
        data["events"] = list(self.events)
        return data

    def do_evaluate(self, date: str) -> None:
        self.as_of = self.date(date)
        self.evaluate()

    def do_evaluate_with_rules(self, path: str, date: str) -> None:
        self.rules_path = resolve_folder(path, [self.feature_dir, self.rootdir], self.lang)
        self._ruleset = None
        self.do_evaluate(date)

    def evaluate(self) -> None:
        import engine
        from engine.period import PeriodError

        ruleset = self.ruleset()
        try:
            self.result = engine.evaluate(self.profile(), self.as_of, ruleset, explain=True, period=self.period,
                                          ledger=self.ledger(ruleset))
        except engine.ProfileError as exc:
            raise Finding(self.t("主体信息有误，无法评估", "the entity's facts are invalid; nothing was evaluated"),
                          details=["- " + e.text(self.lang) for e in exc.errors]) from None
        except PeriodError as exc:
            raise Finding(exc.message_zh if self.lang == "zh" else exc.message_en) from None
        self.stale = False

    def outcome(self) -> Any:
        if self.as_of is None:
            raise Finding(self.t('还没有评估：请在"那么"之前写一句 当 按"YYYY-MM-DD"的政策评估',
                                 'nothing evaluated yet: write When it is evaluated as of "YYYY-MM-DD" before Then'))
        if self.result is None or self.stale:
            self.evaluate()
        return self.result

    def rule(self, name: str, arg: str = "rule") -> Any:
        """The rule ``name`` names; a Finding when it names none, several, or one of a kind the sentence is not for."""
        found = lookup_rule(name, self.ruleset())
        if found.rule is None and found.ambiguous:
            lines = [f"- {r.id}：{r.title} / {r.title_en}（{self.ruleset().document_of(r).title}）" for r in found.ambiguous]
            raise Finding(self.t(f"「{name}」指向多条规则，请改用规则编号或中文标题", f'"{name}" names several rules; use the rule id'),
                          details=lines)
        if found.rule is None:
            details = [self.t("相近的规则：", "close rule names: ")] + ["- " + s for s in found.suggestions] if found.suggestions else []
            raise Finding(self.t(f"规则库中没有名为「{name}」的规则", f'no rule named "{name}" in the rule base'), details=details)
        wrong = wrong_kind(found.rule, self.sentence.kinds.get(arg) if self.sentence is not None else None)
        if wrong is not None:
            raise Finding(self.t(*wrong), details=self.rule_details(found.rule))
        return found.rule

    # -- explaining a rule -----------------------------------------------------------------------
    def rule_details(self, rule: Any, checks: bool = False) -> list[str]:
        from engine.render import check_text

        ruleset = self.ruleset()
        doc = ruleset.document_of(rule)
        colon = self.t("：", ": ")
        out = [f"{self.t('规则', 'Rule')}{colon}{rule.id} {self.t('「' + rule.title + '」', '“' + rule.title_en + '”')}"]
        if rule.citation is not None:
            title = doc.title if self.lang == "zh" else doc.title_en
            number = f"（{doc.number}）" if doc.number else ""
            out.append(f"{self.t('依据', 'Source')}{colon}{self.t('《' + title + '》', title)}{number} "
                       f"{rule.citation.section}{colon}“{rule.citation.quote}”")
        result = self.result
        if result is None:
            return out
        calcs = [line for line in result.benefits if line.rule_id == rule.id]
        calcs += [w.line for w in result.withheld if w.line.rule_id == rule.id]
        calcs += [s.line for s in result.superseded if s.line.rule_id == rule.id]
        for line in calcs:
            if line.calculation:
                event = f"（{line.event.label_zh}）" if line.event and self.lang == "zh" else (
                    f" ({line.event.label_en})" if line.event else "")
                out.append(f"{self.t('计算', 'Calculation')}{colon}{line.calculation}{event}")
        for req in result.requirements:
            if req.rule_id == rule.id and req.calculation:
                out.append(f"{self.t('计算', 'Calculation')}{colon}{req.calculation}")
        if checks:
            traces = [t for t in result.traces if t.rule_id == rule.id]
            for trace in traces[:3]:
                if trace.event is not None and len(traces) > 1:
                    out.append(f"{self.t('事件', 'Event')}{colon}{trace.event.label_zh if self.lang == 'zh' else trace.event.label_en}")
                for check in trace.checks:
                    mark = {"true": "✓", "false": "✗", "unknown": "?"}[check.result]
                    out.append(f"  {mark} {check_text(check, self.lang)}")
        return out

    def status(self, rule: Any) -> str:
        """What happened to ``rule`` in this evaluation, in one or a few lines."""
        result = self.outcome()
        parts: list[str] = []
        for line in result.benefits:
            if line.rule_id == rule.id:
                event = f"（{line.event.label_zh}）" if line.event and self.lang == "zh" else (
                    f" ({line.event.label_en})" if line.event else "")
                parts.append(self.t("可获得 ", "receives ") + self.yuan(line.amount) + event)
        for w in result.withheld:
            if w.line.rule_id == rule.id:
                parts.append(self.t(f"因「{w.exclusion.title}」（{w.exclusion.rule_id}）被取消",
                                    f"withheld because of “{w.exclusion.title_en}” ({w.exclusion.rule_id})"))
        for s in result.superseded:
            if s.line.rule_id == rule.id:
                parts.append(self.t(f"已由「{s.by_title}」（{s.by_rule_id}）支付", f"superseded by “{s.by_title_en}” ({s.by_rule_id})"))
        for u in result.undetermined:
            if u.rule_id == rule.id:
                missing = ("、" if self.lang == "zh" else ", ").join(m.label_zh if self.lang == "zh" else m.label_en for m in u.missing)
                parts.append(self.t(f"待定，缺少：{missing}", f"undetermined, missing: {missing}"))
        for q in result.requirements:
            if q.rule_id == rule.id:
                parts.append(self.t("满足要求", "requirement met") if q.status == "met" else self.t(
                    f"未达到要求，差额{self.yuan(q.shortfall)}", f"requirement violated, short by {self.yuan(q.shortfall)}"))
        for e in result.exclusions:
            if e.rule_id == rule.id:
                parts.append(self.t("适用（排除规则成立）", "applies (the exclusion holds)"))
        if rule.kind == "derived":
            state = result.derived.get(rule.id, "unknown")
            parts.append(self.t({"true": "成立", "false": "不成立", "unknown": "待定"}[state], state))
        if parts:
            return "\n".join(parts)
        traces = [t for t in result.traces if t.rule_id == rule.id]
        if not traces:
            return self.t("未适用", "did not apply")
        reasons = []
        for trace in traces:
            reason = trace.reason_zh if self.lang == "zh" else trace.reason_en
            if not reason:
                failed = [c for c in trace.checks if c.result == "false"]
                reason = self.t("不满足：", "not met: ") + ("；" if self.lang == "zh" else "; ").join(
                    (c.description_zh if self.lang == "zh" else c.description_en) for c in failed)
            reasons.append(self.t("未适用：", "does not apply: ") + reason)
        return "\n".join(dict.fromkeys(reasons))

    def finding(self, problem_zh: str, problem_en: str, rule: Any, expected: str, checks: bool = True) -> Finding:
        return Finding(self.t(problem_zh, problem_en), expected=expected, actual=self.status(rule),
                       details=self.rule_details(rule, checks=checks))

    # -- outcomes --------------------------------------------------------------------------------
    def benefit_rule(self, name: str) -> tuple[Any | None, tuple[Any, ...]]:
        """The benefit ``name`` means. A title several rules share (e.g. three plans' "IP pledge financing support")
        means the one of them this evaluation involves; (None, candidates) when none of them is involved."""
        found = lookup_rule(name, self.ruleset())
        if found.rule is not None or not found.ambiguous:
            return self.rule(name), ()
        result = self.outcome()
        taking_part = [r for r in found.ambiguous if r.kind == "benefit" and involved(result, r)]
        if len(taking_part) == 1:
            return taking_part[0], found.ambiguous
        if not taking_part:
            return None, found.ambiguous
        return self.rule(name), ()  # several involved: report the ambiguity

    def shared_details(self, candidates: tuple[Any, ...]) -> list[str]:
        if not candidates:
            return []
        return [self.t("注：以下规则同名，均未涉及：", "note: these rules share the name; none of them is involved:")] + [
            f"- {r.id}（{self.ruleset().document_of(r).title}）" for r in candidates]

    def do_receives_amount(self, rule: str, amount: str) -> None:
        from engine.money import to_fen

        result = self.outcome()
        wanted = to_fen(self.amount(amount))
        r, shared = self.benefit_rule(rule)
        if r is None:
            raise Finding(self.t("未获得该项奖补", "the benefit is not received"), expected=f"{rule} {self.yuan(wanted)}",
                          actual=self.t("未获得", "not received"), details=self.shared_details(shared))
        lines = result.benefit(r.id)
        if any(line.amount == wanted for line in lines):
            return
        problem = ("金额不符", "the amount differs") if lines else ("未获得该项奖补", "the benefit is not received")
        raise self.finding(*problem, r, expected=f"{self.title(r)} {self.yuan(wanted)}", checks=not lines)

    def do_receives_times(self, rule: str, count: str) -> None:
        result = self.outcome()
        n = int(unicodedata.normalize("NFKC", count))
        r, shared = self.benefit_rule(rule)
        if r is None:
            if n == 0:
                return
            raise Finding(self.t("未获得该项奖补", "the benefit is not received"), expected=self.t(f"{rule} 共{n}次", f"{rule} {n} times"),
                          actual="0", details=self.shared_details(shared))
        lines = result.benefit(r.id)
        if len(lines) != n:
            raise self.finding(f"支付次数不符：实际{len(lines)}次", f"paid {len(lines)} times", r,
                               expected=self.t(f"{self.title(r)} 共{n}次", f"{self.title(r)} {n} times"))

    def do_receives(self, rule: str) -> None:
        result = self.outcome()
        r, shared = self.benefit_rule(rule)
        if r is None:
            raise Finding(self.t("未获得该项奖补", "the benefit is not received"), expected=self.t("可获得 ", "receives ") + rule,
                          actual=self.t("未获得", "not received"), details=self.shared_details(shared))
        if not result.benefit(r.id):
            raise self.finding("未获得该项奖补", "the benefit is not received", r, expected=self.t("可获得 ", "receives ") + self.title(r))

    def do_not_receives(self, rule: str) -> None:
        result = self.outcome()
        r, _ = self.benefit_rule(rule)
        if r is None:
            return
        if result.benefit(r.id):
            raise self.finding("该主体获得了这项奖补", "the benefit is received", r, expected=self.t("不能获得 ", "does not receive ")
                               + self.title(r))
        if any(u.rule_id == r.id for u in result.undetermined):
            raise self.finding("无法确定：缺少信息（可写“待定”句，或补充该信息）",
                               "cannot tell: a fact is missing (use the 'undetermined' sentence or add the fact)", r,
                               expected=self.t("不能获得 ", "does not receive ") + self.title(r))

    def do_total(self, amount: str) -> None:
        from engine.money import format_yuan, to_fen

        result = self.outcome()
        wanted = to_fen(self.amount(amount))
        if result.total != wanted:
            lines = [f"- {line.rule_id} {self.title(line)}：{format_yuan(line.amount)}" for line in result.benefits
                     if line.amount is not None]
            raise Finding(self.t("奖补合计不符", "the total differs"), expected=self.yuan(wanted), actual=self.yuan(result.total),
                          details=[self.t("各项金额：", "amounts: ")] + (lines or [self.t("（无）", "(none)")]))

    def do_undetermined(self, rule: str, fact: str | None = None) -> None:
        result = self.outcome()
        r = self.rule(rule)
        missing = [m for u in result.undetermined if u.rule_id == r.id for m in u.missing]
        traces = [t for t in result.traces if t.rule_id == r.id and t.status == "undetermined"]
        missing_fields = [f for t in traces for c in t.checks for f in c.missing]
        if not missing and not traces:
            raise self.finding("该规则不是待定", "the rule is not undetermined", r, expected=self.t("待定", "undetermined"))
        if fact is None:
            return
        wanted = key(fact)
        names = [(m.field, m.label_zh, m.label_en) for m in missing] + [(f, f, f) for f in missing_fields]
        for field, zh, en in names:
            candidates = {key(field), key(field.removeprefix("event.")), key(zh), key(en)}
            if wanted in candidates or any(wanted and wanted in c for c in (key(zh), key(en))):
                return
        raise self.finding(f"待定，但缺少的不是「{fact}」", f'undetermined, but not for lack of "{fact}"', r,
                           expected=self.t(f"待定，缺少「{fact}」", f'undetermined for lack of "{fact}"'))

    def do_falls_short(self, rule: str, amount: str) -> None:
        from engine.money import to_fen

        result = self.outcome()
        r = self.rule(rule)
        wanted = to_fen(self.amount(amount))
        found = [q for q in result.requirements if q.rule_id == r.id]
        if any(q.status == "violated" and q.shortfall == wanted for q in found):
            return
        raise self.finding("差额不符" if found else "该要求不适用", "the shortfall differs" if found else "the requirement does not apply",
                           r, expected=self.t(f"未达到要求，差额{self.yuan(wanted)}", f"short by {self.yuan(wanted)}"), checks=not found)

    def do_meets(self, rule: str) -> None:
        result = self.outcome()
        r = self.rule(rule)
        found = [q for q in result.requirements if q.rule_id == r.id]
        if any(q.status == "met" for q in found):
            return
        raise self.finding("未满足该要求" if found else "该要求不适用", "the requirement is not met" if found else
                           "the requirement does not apply", r, expected=self.t("满足要求", "requirement met"), checks=not found)

    def do_withheld(self, rule: str, exclusion: str) -> None:
        result = self.outcome()
        r = self.rule(rule)
        e = self.rule(exclusion, "exclusion")
        if any(w.line.rule_id == r.id and w.exclusion.rule_id == e.id for w in result.withheld):
            return
        f = self.finding("该项奖补没有因此被取消", "the benefit is not withheld by that exclusion", r,
                         expected=self.t(f"因{self.named(e)}被取消", f"withheld because of {self.named(e)}"))
        f.details += [self.t("排除规则：", "Exclusion: ") + self.status(e)] + self.rule_details(e, checks=True)
        raise f

    def do_superseded(self, rule: str, winner: str) -> None:
        result = self.outcome()
        r = self.rule(rule)
        w = self.rule(winner, "winner")
        if any(s.line.rule_id == r.id and s.by_rule_id == w.id for s in result.superseded):
            return
        raise self.finding("没有发生“同一事件只支付一次”的替代", "not superseded by that rule", r,
                           expected=self.t(f"已由{self.named(w)}支付", f"superseded by {self.named(w)}"))

    def do_based_on(self, rule: str, document: str) -> None:
        r = self.rule(rule)
        doc = self.ruleset().document_of(r)
        wanted = key(document)
        if wanted and any(wanted in key(text) for text in (doc.title, doc.title_en, doc.id, doc.number or "")):
            return
        shown = f"{doc.title}（{doc.id}{'，' + doc.number if doc.number else ''}）" if self.lang == "zh" else \
            f"{doc.title_en} ({doc.id}{', ' + doc.number if doc.number else ''})"
        raise Finding(self.t("依据的文件不符", "the rule comes from another document"), expected=document, actual=shown,
                      details=self.rule_details(r))

    def do_counts_as(self, rule: str) -> None:
        result = self.outcome()
        r = self.rule(rule)
        if result.derived.get(r.id) != "true":
            raise self.finding("推定事实不成立", "the derived fact does not hold", r, expected=self.t("成立", "true"))

    def do_not_counts_as(self, rule: str) -> None:
        result = self.outcome()
        r = self.rule(rule)
        if result.derived.get(r.id) != "false":
            raise self.finding("推定事实并非不成立", "the derived fact is not false", r, expected=self.t("不成立", "false"))

    def do_not_applicable(self, rule: str) -> None:
        result = self.outcome()
        r = self.rule(rule)
        if involved(result, r):
            raise self.finding("该规则适用（或待定）", "the rule applies (or is undetermined)", r,
                               expected=self.t("不适用", "does not apply"))
