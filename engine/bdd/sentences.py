"""The drafters' vocabulary: every sentence a feature file may use, in Chinese and English.

A sentence is written as a template: ``{q:name}`` is a quoted value (straight quotes, “”, 「」 or 『』),
``{amount:name}`` an amount of money (7000, 7,000, 7000.00, 7000元, 1.5万元, 7000 yuan), ``{n:name}``
a whole number. Whitespace is optional in Chinese templates; Chinese and ASCII punctuation (，/,
：/: 、 （/( ) are interchangeable; a trailing 。/. is ignored.

Each sentence names the ``World`` method that performs it (``engine.bdd.world``). ``rules`` says which
arguments name rules and whether the step shows the rule applying (``+``) or not applying (``-``): the
feature-coverage test and the lint read it. ``kinds`` says which kinds of rule (benefit, requirement,
exclusion, derived) an argument may name: ``World`` and the lint both check it (``world.wrong_kind``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

GIVEN, WHEN, THEN = "given", "when", "then"
QUOTE_OPEN = "\"“”「『"
QUOTE_CLOSE = "\"”“」』"
ALL_QUOTES = "\"“”「」『』"
_AMOUNT_RE = r"[¥￥]?\s*[0-9０-９][0-9０-９,，]*(?:[.．][0-9０-９]+)?\s*(?:万元|万|元|yuan|RMB|CNY)?"
_PUNCT = {"，": "[，,]", ",": "[，,]", "：": "[：:]", ":": "[：:]", "、": "[、，,]", "（": "[（(]", "(": "[（(]",
          "）": "[）)]", ")": "[）)]", "；": "[；;]", "。": "[。.]"}


@dataclass(frozen=True)
class Sentence:
    key: str
    kind: str
    zh: tuple[str, ...]
    en: tuple[str, ...]
    handler: str
    help_zh: str
    help_en: str
    example_zh: str
    example_en: str
    table_zh: str | None = None
    table_en: str | None = None
    rules: dict[str, str] = field(default_factory=dict)  # argument → "+" | "-" | "" (names a rule)
    shared_title_ok: bool = False  # a title several rules share is read as "any of them" (see World.benefit_rule)
    kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)  # argument → the kinds of rule it may name (any if absent)

    def patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        return [("zh", compile_template(t, "zh")) for t in self.zh] + [("en", compile_template(t, "en")) for t in self.en]


def compile_template(template: str, lang: str) -> re.Pattern[str]:
    parts = re.split(r"(\{(?:q|amount|n):\w+\})", template)
    out: list[str] = []
    for part in parts:
        if not part:
            continue
        m = re.fullmatch(r"\{(q|amount|n):(\w+)\}", part)
        if m:
            kind, name = m.groups()
            if kind == "q":
                out.append(rf"\s*[{QUOTE_OPEN}](?P<{name}>.+?)[{QUOTE_CLOSE}]\s*")
            elif kind == "amount":
                out.append(rf"\s*(?P<{name}>{_AMOUNT_RE})\s*")
            else:
                out.append(rf"\s*(?P<{name}>[0-9０-９]+)\s*")
            continue
        literal = []
        for ch in part:
            if ch.isspace():
                literal.append(r"\s*" if lang == "zh" else r"\s+")
            elif ch in _PUNCT:
                literal.append(r"\s*" + _PUNCT[ch] + r"\s*")
            elif ch == "?":  # "an?" in English templates: the previous letter is optional
                literal.append("?")
            else:
                literal.append(re.escape(ch))
        out.append("".join(literal))
    body = "".join(out)
    body = re.sub(r"(\\s\*|\\s\+)+", lambda m: r"\s+" if r"\s+" in m.group(0) else r"\s*", body)
    flags = re.IGNORECASE if lang == "en" else 0
    return re.compile(r"\s*" + body + r"\s*[。.；;：:]?\s*", flags)


S = Sentence
SENTENCES: tuple[Sentence, ...] = (
    # -- the entity ------------------------------------------------------------------------------
    S("entity_of_kind", GIVEN,
      ("一家注册在{q:city}的{q:kind}", "一家{q:kind}，注册在{q:city}"),
      ("an? {q:kind} registered in {q:city}",),
      "entity_of_kind", "一个主体：所在城市和类型（小型企业、微型企业、中型企业、大型企业、企业、国有企业、民营企业、高等学校、科研院所、事业单位、园区）",
      "an entity: its city and kind (small/micro/medium-sized/large enterprise, enterprise, state-owned enterprise, "
      "private enterprise, university, research institute, public institution, park)",
      '假如 一家注册在"阜新市"的"小型企业"', 'Given a "small enterprise" registered in "Fuxin"'),
    S("entity_table", GIVEN, ("一家主体，信息如下：", "一家主体，信息如下"), ("an entity with:", "an entity with"),
      "entity_table", "一个主体，逐项给出字段（中文或英文字段名）", "an entity given field by field (Chinese or English field names)",
      "假如 一家主体，信息如下：", "Given an entity with:", "| 字段 | 值 |", "| field | value |"),
    S("attributes_table", GIVEN, ("该主体具有以下属性：", "该主体具有以下属性"), ("it has these attributes:", "it has these attributes"),
      "attributes_table", "补充或修改主体的字段", "add or change fields of the entity",
      "并且 该主体具有以下属性：", "And it has these attributes:", "| 字段 | 值 |", "| field | value |"),
    S("field_value", GIVEN, ("该主体的{q:field}为{q:value}", "该主体的{q:field}是{q:value}"), ("its {q:field} is {q:value}",),
      "field_value", "设置一个字段", "set one field",
      '并且 该主体的"高新技术企业"为"是"', 'And its "high-tech enterprise" is "yes"'),
    S("blacklisted", GIVEN,
      ("该主体于{q:date}被列入侵权失信名单", "该主体于{q:date}被列入黑名单", "该主体于{q:date}列入黑名单",
       "该主体已被列入黑名单", "该主体已列入黑名单", "该主体被列入黑名单"),
      ("it was blacklisted on {q:date}", "it is blacklisted"),
      "blacklisted", "主体列入侵权失信名单（黑名单）", "the entity is on the infringement blacklist",
      '并且 该主体于"2021-06-01"被列入黑名单', 'And it was blacklisted on "2021-06-01"'),
    S("not_blacklisted", GIVEN, ("该主体未被列入黑名单", "该主体未列入黑名单"), ("it is not blacklisted",),
      "not_blacklisted", "主体不在黑名单上", "the entity is not on the blacklist",
      "并且 该主体未列入黑名单", "And it is not blacklisted"),
    # -- events ----------------------------------------------------------------------------------
    S("events_table", GIVEN, ("该主体有以下事件：", "该主体有以下事件"), ("it has these events:", "it has these events"),
      "events_table", "多个事件，一行一个；各行类型可以不同，用不到的格子留空", "several events, one per row; rows may be of "
      "different types, leave cells a type does not use empty",
      "并且 该主体有以下事件：", "And it has these events:", "| 类型 | 日期 | 其他字段… |", "| type | date | other fields… |"),
    S("event_fields", GIVEN, ("该主体有一项{q:type}事件，信息如下：", "该主体有一项{q:type}事件，信息如下", "该主体有一项{q:type}事件："),
      ("it has an? {q:type} event with:", "it has an? {q:type} event with"),
      "event_fields", "一个事件，逐项给出字段", "one event given field by field",
      '并且 该主体有一项"职务成果转化"事件，信息如下：', 'And it has a "service invention transfer" event with:',
      "| 字段 | 值 |", "| field | value |"),
    S("intl_trademark", GIVEN,
      ("该主体于{q:date}通过{q:route}办理商标国际注册，费用{amount:cost}", "该主体于{q:date}办理商标国际注册，费用{amount:cost}",
       "该主体于{q:date}办理商标国际注册"),
      ("it registered a trademark internationally on {q:date} at a cost of {amount:cost}",
       "it registered a trademark internationally on {q:date} via {q:route} at a cost of {amount:cost}",
       "it registered a trademark internationally on {q:date}"),
      "intl_trademark", "商标国际注册（费用可省略，途径：马德里/其他）", "an international trademark registration (cost optional)",
      '并且 该主体于"2016-05-01"办理商标国际注册，费用10000元',
      'And it registered a trademark internationally on "2016-05-01" at a cost of 10000 yuan'),
    S("invention_grant", GIVEN,
      ("该主体于{q:date}获得发明专利授权，实缴申请费{amount:application_fee}、实质审查费{amount:examination_fee}",
       "该主体于{q:date}获得发明专利授权"),
      ("it was granted an invention patent on {q:date}, having paid an application fee of {amount:application_fee} "
       "and an examination fee of {amount:examination_fee}", "it was granted an invention patent on {q:date}"),
      "invention_grant", "发明专利授权，及实缴（减缴后）的申请费和实质审查费", "a granted invention patent and the fees actually paid",
      '并且 该主体于"2017-03-01"获得发明专利授权，实缴申请费135元、实质审查费375元',
      'And it was granted an invention patent on "2017-03-01", having paid an application fee of 135 yuan and an '
      'examination fee of 375 yuan'),
    S("honour", GIVEN, ("该主体于{q:date}获得{q:honour}", "该主体于{q:date}被认定为{q:honour}"),
      ("it received {q:honour} on {q:date}", "it received an? {q:honour} on {q:date}"),
      "honour", "获得荣誉或奖项：中国驰名商标、省著名商标、中国专利金奖/银奖/优秀奖、省专利金奖/银奖/优秀奖",
      "an honour or award: China Well-Known Trademark, provincial famous trademark, China/provincial Patent Gold/Silver/"
      "Excellence Award",
      '并且 该主体于"2013-05-10"获得"中国驰名商标"', 'And it received "China Well-Known Trademark" on "2013-05-10"'),
    S("patent_application", GIVEN, ("该主体于{q:date}提交{q:patent_type}专利申请",),
      ("it filed an? {q:patent_type} patent application on {q:date}",),
      "patent_application", "专利申请（发明/实用新型/外观设计）", "a patent application (invention/utility/design)",
      '并且 该主体于"2018-03-01"提交"发明"专利申请', 'And it filed an "invention" patent application on "2018-03-01"'),
    S("pct_application", GIVEN, ("该主体于{q:date}提交PCT国际专利申请", "该主体于{q:date}提交PCT申请"),
      ("it filed a PCT application on {q:date}",),
      "pct_application", "PCT国际专利申请", "a PCT application",
      '并且 该主体于"2014-04-01"提交PCT国际专利申请', 'And it filed a PCT application on "2014-04-01"'),
    S("pledge_loan", GIVEN, ("该主体于{q:date}获得知识产权质押贷款{amount:loan}", "该主体于{q:date}获得知识产权质押贷款"),
      ("it took out an IP pledge loan of {amount:loan} on {q:date}", "it took out an IP pledge loan on {q:date}"),
      "pledge_loan", "知识产权质押贷款（金额可省略）", "an IP pledge loan (amount optional)",
      '并且 该主体于"2016-06-01"获得知识产权质押贷款5000000元', 'And it took out an IP pledge loan of 5000000 yuan on "2016-06-01"'),
    S("invention_transfer", GIVEN,
      ("该主体于{q:date}以{q:mode}方式在{q:place}转化职务成果，净收益{amount:net_income}，奖励完成人{amount:reward}",
       "该主体于{q:date}以{q:mode}方式在{q:place}转化职务成果，净收益{amount:net_income}，团队所得{amount:reward}",
       "该主体于{q:date}以{q:mode}方式在{q:place}转化职务成果，净收益{amount:net_income}",
       "该主体于{q:date}以{q:mode}方式在{q:place}转化职务成果"),
      ("it implemented a service invention by {q:mode} in {q:place} on {q:date}, with a net income of {amount:net_income} "
       "and a reward to the inventors of {amount:reward}",
       "it implemented a service invention by {q:mode} in {q:place} on {q:date}, with a net income of {amount:net_income}",
       "it implemented a service invention by {q:mode} in {q:place} on {q:date}"),
      "invention_transfer", "职务成果转化：方式（转让/许可/作价入股/自行实施）、实施地（城市或“省外”）、净收益、奖励完成人（或团队所得）",
      "a service invention put to use: mode (transfer/licence/equity/self-implementation), place (a city or "
      "\"outside\"), net income, reward to the inventors (or the team's share)",
      '并且 该主体于"2018-05-15"以"转让"方式在"阜新市"转化职务成果，净收益100000元，奖励完成人70000元',
      'And it implemented a service invention by "transfer" in "Fuxin" on "2018-05-15", with a net income of 100000 yuan '
      'and a reward to the inventors of 70000 yuan'),
    S("penalty", GIVEN, ("该主体于{q:date}因{q:infringement_kind}受到侵权行政处罚",),
      ("it was penalised for {q:infringement_kind} infringement on {q:date}",),
      "penalty", "侵权行政处罚（重复侵权/故意侵权/其他）", "an infringement penalty (repeated/intentional/other)",
      '并且 该主体于"2021-03-01"因"故意侵权"受到侵权行政处罚', 'And it was penalised for "intentional" infringement on "2021-03-01"'),
    # -- a claim round ---------------------------------------------------------------------------
    S("paid_before", GIVEN,
      ("该主体已于{q:date}在{q:round}中获得{q:rule}", "该主体已于{q:date}获得{q:rule}"),
      ("it was already paid {q:rule} on {q:date} in round {q:round}", "it was already paid {q:rule} on {q:date}"),
      "paid_before", "台账记录：某项奖补已于某日兑现（按其一次性键：事件在该日之前的那一项）",
      "the ledger holds this award as paid on that date (by its once-key: for the events up to that date)",
      '假如 该主体已于"2015-03-01"获得"中国驰名商标一次性奖励"',
      'Given it was already paid "ln2012.award.well-known-trademark" on "2015-03-01"',
      rules={"rule": ""}, shared_title_ok=True, kinds={"rule": ("benefit",)}),
    S("claim_period", GIVEN, ("本轮申报期为{q:start}至{q:end}", "本轮申报期为{q:period}"),
      ("the claim period is {q:start} to {q:end}", "the claim period is {q:period}"),
      "claim_period", "本轮申报期：一个年份（\"2019\"）或起止日期；只有期内的事件计入事件类奖补",
      "the round's claim period: a year (\"2019\") or two dates; only events inside it earn event benefits",
      '并且 本轮申报期为"2015"', 'And the claim period is "2015"'),
    # -- evaluation ------------------------------------------------------------------------------
    S("evaluate_with_rules", WHEN, ("使用规则目录{q:path}按{q:date}的政策评估",),
      ("it is evaluated as of {q:date} with the rules in {q:path}",),
      "evaluate_with_rules", "用另一个规则目录（如修改稿）评估；相对路径先相对本功能文件所在目录，再相对项目根目录",
      "evaluate with another rules folder (e.g. a proposal); relative to this feature file's folder, then the project root",
      '当 使用规则目录"proposals/rate80"按"2016-12-31"的政策评估',
      'When it is evaluated as of "2016-12-31" with the rules in "proposals/rate80"'),
    S("evaluate", WHEN, ("按{q:date}的政策评估",), ("it is evaluated as of {q:date}",),
      "evaluate", "按某一日期的政策评估", "evaluate as of a date",
      '当 按"2016-12-31"的政策评估', 'When it is evaluated as of "2016-12-31"'),
    # -- outcomes --------------------------------------------------------------------------------
    S("receives_amount", THEN, ("该主体可获得{q:rule}{amount:amount}",), ("it receives {q:rule} of {amount:amount}",),
      "receives_amount", "可获得某项奖补，金额为…", "receives a benefit of an amount",
      '那么 该主体可获得"商标国际注册补助"7000元', 'Then it receives "International trademark registration subsidy" of 7000 yuan',
      rules={"rule": "+"}, shared_title_ok=True, kinds={"rule": ("benefit",)}),
    S("receives_times", THEN, ("该主体可获得{q:rule}共{n:count}次",),
      ("it receives {q:rule} {n:count} times",),
      "receives_times", "同一规则支付了几次（每个事件一次）", "how many times a rule pays (once per event)",
      '那么 该主体可获得"ln2012.finance.pledge"共2次', 'Then it receives "ln2012.finance.pledge" 2 times', rules={"rule": "+"}, shared_title_ok=True,
      kinds={"rule": ("benefit",)}),
    S("receives", THEN, ("该主体可获得{q:rule}",), ("it receives {q:rule}",),
      "receives", "可获得某项奖补或支持（不论金额）", "receives a benefit or support (any amount)",
      '那么 该主体可获得"知识产权质押融资支持"', 'Then it receives "IP pledge financing support"', rules={"rule": "+"}, shared_title_ok=True,
      kinds={"rule": ("benefit",)}),
    S("not_receives", THEN, ("该主体不能获得{q:rule}",), ("it does not receive {q:rule}",),
      "not_receives", "不能获得某项奖补", "does not receive a benefit",
      '那么 该主体不能获得"商标国际注册补助"', 'Then it does not receive "International trademark registration subsidy"',
      rules={"rule": "-"}, shared_title_ok=True, kinds={"rule": ("benefit",)}),
    S("total", THEN, ("奖补合计{amount:amount}", "该主体奖补合计{amount:amount}"), ("the total is {amount:amount}",),
      "total", "全部奖补金额合计", "the total of all amounts",
      "那么 奖补合计507000元", "Then the total is 507000 yuan"),
    S("already_paid", THEN, ("{q:rule}已兑现，本轮不再支付", "{q:rule}已兑现"),
      ("{q:rule} is already paid and not paid again", "{q:rule} is already paid"),
      "already_paid", "台账中已兑现：列出但不计入本轮合计", "already paid in the ledger: listed, not in this round's total",
      '那么 "中国驰名商标一次性奖励（继续落实）"已兑现，本轮不再支付',
      'Then "ln2015.award.well-known-trademark" is already paid and not paid again',
      rules={"rule": "-"}, shared_title_ok=True, kinds={"rule": ("benefit",)}),
    S("outside_period", THEN, ("{q:date}的事件不在本轮申报期内",), ("the event of {q:date} is outside the claim period",),
      "outside_period", "某日的事件不在本轮申报期内（列出，不计入事件类奖补）",
      "an event of that date is outside the round (listed, earns no event benefit)",
      '那么 "2014-09-15"的事件不在本轮申报期内', 'Then the event of "2014-09-15" is outside the claim period'),
    S("undetermined", THEN, ("{q:rule}待定，缺少{q:fact}", "{q:rule}待定"),
      ("{q:rule} is undetermined for lack of {q:fact}", "{q:rule} is undetermined"),
      "undetermined", "因缺少信息无法判断", "cannot be decided for lack of a fact",
      '那么 "商标国际注册补助"待定，缺少"费用"',
      'Then "International trademark registration subsidy" is undetermined for lack of "cost"', rules={"rule": ""}),
    S("falls_short", THEN, ("该主体未达到{q:rule}的要求，差额{amount:amount}",), ("it falls short of {q:rule} by {amount:amount}",),
      "falls_short", "未达到一项要求（如不低于70%），差额…", "a requirement is violated by an amount",
      '那么 该主体未达到"职务成果在阜新转化：奖励完成人不低于净收益的70%"的要求，差额50000元',
      'Then it falls short of "fx2017.transfer.inventor-share" by 50000 yuan', rules={"rule": "+"},
      kinds={"rule": ("requirement",)}),
    S("meets", THEN, ("该主体满足{q:rule}的要求",), ("it meets {q:rule}",),
      "meets", "满足一项要求", "a requirement is met",
      '那么 该主体满足"职务成果在阜新转化：奖励完成人不低于净收益的70%"的要求', 'Then it meets "fx2017.transfer.inventor-share"',
      rules={"rule": "+"}, kinds={"rule": ("requirement",)}),
    S("withheld", THEN, ("{q:rule}因{q:exclusion}被取消",), ("{q:rule} is withheld because of {q:exclusion}",),
      "withheld", "某项奖补因排除规则（如黑名单）被取消", "a benefit is withheld by an exclusion (e.g. the blacklist)",
      '那么 "ln2021.finance.pledge"因"知识产权领域严重失信联合惩戒"被取消',
      'Then "ln2021.finance.pledge" is withheld because of "Joint punishment for serious IP dishonesty"',
      rules={"rule": "-", "exclusion": "+"}, kinds={"rule": ("benefit",), "exclusion": ("exclusion",)}),
    S("superseded", THEN, ("{q:rule}已由{q:winner}支付（同一事件只支付一次）", "{q:rule}已由{q:winner}支付"),
      ("{q:rule} is superseded by {q:winner}",),
      "superseded", "同一事件只支付一次：已由另一规则支付", "paid once: another rule pays for the same event",
      '那么 "中国驰名商标一次性奖励"已由"中国驰名商标一次性奖励（继续落实）"支付（同一事件只支付一次）',
      'Then "ln2012.award.well-known-trademark" is superseded by "ln2015.award.well-known-trademark"',
      rules={"rule": "-", "winner": "+"}, kinds={"rule": ("benefit",), "winner": ("benefit",)}),
    S("based_on", THEN, ("{q:rule}的依据是{q:document}",), ("{q:rule} is based on {q:document}",),
      "based_on", "规则出自哪份文件（文件标题、编号或文号的一部分）", "which document a rule comes from (part of its title, id or number)",
      '那么 "商标国际注册补助"的依据是"辽宁省深入实施知识产权战略行动计划"',
      'Then "International trademark registration subsidy" is based on "Liaoning Action Plan"', rules={"rule": ""}),
    S("counts_as", THEN, ("该主体属于{q:rule}",), ("it counts as {q:rule}",),
      "counts_as", "推定事实成立（如中小微企业）", "a derived fact holds (e.g. SME)",
      '那么 该主体属于"中小微企业"', 'Then it counts as "Small or medium-sized enterprise"', rules={"rule": "+"},
      kinds={"rule": ("derived",)}),
    S("not_counts_as", THEN, ("该主体不属于{q:rule}",), ("it does not count as {q:rule}",),
      "not_counts_as", "推定事实不成立", "a derived fact does not hold",
      '那么 该主体不属于"中小微企业"', 'Then it does not count as "sme"', rules={"rule": "-"}, kinds={"rule": ("derived",)}),
    S("not_applicable", THEN, ("{q:rule}不适用",), ("{q:rule} does not apply",),
      "not_applicable", "规则不适用：既不支付、也不约束、也不待定（要求和排除规则的反例用这一句）",
      "the rule does not apply: it neither pays, binds nor waits for facts (use it for requirements and exclusions)",
      '那么 "职务成果在阜新转化：奖励完成人不低于净收益的70%"不适用', 'Then "Joint punishment for serious IP dishonesty" does not apply',
      rules={"rule": "-"}),
)
BY_KEY = {s.key: s for s in SENTENCES}
_COMPILED: list[tuple[Sentence, str, re.Pattern[str]]] = [(s, lang, p) for s in SENTENCES for lang, p in s.patterns()]


@dataclass(frozen=True)
class Match:
    sentence: Sentence
    lang: str
    args: dict[str, str]


def match(text: str) -> Match | None:
    """The sentence ``text`` is an instance of, with its arguments; None when it is none of them."""
    for sentence, lang, pattern in _COMPILED:
        m = pattern.fullmatch(text)
        if m:
            return Match(sentence, lang, {k: v.strip() for k, v in m.groupdict().items() if v is not None})
    return None


def _shape(text: str) -> str:
    """A sentence with its values blanked, for "closest sentence" suggestions."""
    text = re.sub(rf"[{QUOTE_OPEN}][^{ALL_QUOTES}]*[{QUOTE_CLOSE}]", '"…"', text)
    return re.sub(r"[0-9][0-9,，.]*", "0", text).lower()


def closest(text: str, lang: str, n: int = 3) -> list[str]:
    """Example sentences closest to an unknown ``text`` (in ``lang`` first)."""
    examples: dict[str, str] = {}
    for s in SENTENCES:
        example = s.example_zh if lang == "zh" else s.example_en
        # Drop the keyword of the example.
        body = example.split(" ", 1)[1] if " " in example else example
        examples[_shape(body)] = body
    found = difflib.get_close_matches(_shape(text), list(examples), n=n, cutoff=0.3)
    return [examples[f] for f in found]


def vocabulary_text() -> str:
    """The whole vocabulary, both languages, as printed by ``pytest --huiqi-steps``."""
    lines = ["惠企场景用语 / Huiqi scenario vocabulary", "=" * 40, "",
             "中文文件第一行写 `# language: zh-CN`；关键字：功能 / 背景 / 场景 / 场景大纲 / 例子 / 假如 / 当 / 那么 / 并且 / 但是。",
             "English files use Feature / Background / Scenario / Scenario Outline / Examples / Given / When / Then / And / But.",
             "引号可用 \"…\"、“…”、「…」；金额可写 7000、7,000、7000.00、7000元。",
             "Quotes: \"…\", “…”, 「…」; amounts: 7000, 7,000, 7000.00, 7000元, 7000 yuan.",
             "规则可用编号或中英文标题称呼。 A rule is named by its id or its Chinese or English title.", ""]
    titles = {GIVEN: ("假如 / Given — 主体与事件 / the entity and its events"),
              WHEN: ("当 / When — 评估 / evaluation"), THEN: ("那么 / Then — 结果 / outcomes")}
    for kind in (GIVEN, WHEN, THEN):
        lines += [titles[kind], "-" * len(titles[kind])]
        for s in SENTENCES:
            if s.kind != kind:
                continue
            lines.append(f"  {s.example_zh}")
            if s.table_zh:
                lines.append(f"      {s.table_zh}")
            lines.append(f"  {s.example_en}")
            if s.table_en:
                lines.append(f"      {s.table_en}")
            lines.append(f"      — {s.help_zh} / {s.help_en}")
            lines.append("")
    from engine.bdd.world import ENTITY_PHRASES, HONOURS

    lines += ["主体类型短语 / kinds of entity: " + "、".join(p for p in ENTITY_PHRASES if not p.isascii()),
              "  " + ", ".join(p for p in ENTITY_PHRASES if p.isascii()),
              "荣誉与奖项 / honours: " + "、".join(h for h in HONOURS if not h.isascii()),
              "  " + ", ".join(h for h in HONOURS if h.isascii()), ""]
    return "\n".join(lines)
