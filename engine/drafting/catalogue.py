"""``huiqi rules show``: the rule base as a catalogue a policy office could publish (Markdown or HTML).

Per document: title, 文号, issuer, jurisdiction, window. Per rule: Chinese and English titles, who is
eligible in plain words (the written conditions and the implicit territory/window ones, through
``engine.describe``), the amount or formula, the window, the departments, the verbatim quote, and the
values of every parameter it reads, step by step, each with its citation. Output is deterministic (no
dates or fingerprints that change on their own), so the published copies in ``docs/`` can be checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from html import escape

from engine.describe import describe, rate_or_value_text
from engine.evaluate import conditions_of
from engine.render_rules import KIND_LABEL, amount_text, window_text
from engine.rulebook import Document, Rule, RuleSet, rule_params

WORDS = {
    "zh": {"title": "惠企规则目录", "intro": "本目录由 `huiqi rules show` 根据规则库自动生成，请勿手工修改。",
           "number": "文号", "issuer": "发文机关", "jurisdiction": "适用地区", "window": "有效期", "source": "原文文件",
           "kind": "类别", "eligible": "适用条件", "always": "无其他条件", "amount": "金额或计算方式", "departments": "责任单位",
           "quote": "原文依据", "params": "参数取值", "from": "起始日期", "value": "取值", "citation": "依据",
           "definitions": "定义（派生事实）", "none": "无", "open": "长期", "as_of": "取值日期", "rules": "条规则",
           "contents": "目录", "id": "规则编号", "event": "针对事件", "entity": "主体层面（无具体事件）"},
    "en": {"title": "Huiqi rule catalogue", "intro": "Generated from the rule base by `huiqi rules show`; do not edit by hand.",
           "number": "Document number", "issuer": "Issuer", "jurisdiction": "Jurisdiction", "window": "In force",
           "source": "Source file", "kind": "Kind", "eligible": "Who is eligible", "always": "no further conditions",
           "amount": "Amount or formula", "departments": "Departments", "quote": "Text", "params": "Parameter values",
           "from": "From", "value": "Value", "citation": "Citation", "definitions": "Definitions (derived facts)",
           "none": "none", "open": "open-ended", "as_of": "values as of", "rules": "rules", "contents": "Contents",
           "id": "Rule id", "event": "Event", "entity": "entity-level (no particular event)"},
}


@dataclass
class ParamBlock:
    name: str
    description: str
    steps: list[tuple[str, str, str]]  # (from, value, citation)


@dataclass
class RuleBlock:
    rule: Rule
    title: str
    other_title: str
    kind: str
    event: str
    eligible: list[str]
    amount: str
    window: str
    departments: str
    section: str
    quote: str
    params: list[ParamBlock] = field(default_factory=list)


@dataclass
class DocBlock:
    document: Document
    title: str
    other_title: str
    facts: list[tuple[str, str]]
    rules: list[RuleBlock]


def _doc_window(document: Document, lang: str) -> str:
    return f"{document.effective_from} ~ {document.effective_to or WORDS[lang]['open']}"


def gather(rules: RuleSet, as_of: date | None = None, lang: str = "zh") -> tuple[list[DocBlock], list[RuleBlock]]:
    """(documents with their rules, derived facts), in rule-base order."""
    from engine import schema

    w = WORDS[lang]

    def derived_title(name: str) -> str:
        rule = rules.by_id.get(name)
        return f"{rule.title_in(lang)}" if rule else name

    def param_text(name: str) -> str:
        parameter = rules.parameters[name]
        label = parameter.description_en if lang == "en" and parameter.description_en else parameter.description
        if as_of is not None:
            return f"{label}（{rate_or_value_text(parameter.value_at(as_of), parameter.unit, lang)}）" if lang == "zh" else (
                f"{label} ({rate_or_value_text(parameter.value_at(as_of), parameter.unit, lang)})")
        return label

    def block(rule: Rule) -> RuleBlock:
        eligible = [describe(c.tree, rule.event, lang, derived_title, param_text) for c in conditions_of(rules, rule)]
        params = []
        for name in sorted(rule_params(rule)):
            parameter = rules.parameters[name]
            label = parameter.description_en if lang == "en" and parameter.description_en else parameter.description
            params.append(ParamBlock(name, label, [
                (str(s.start), rate_or_value_text(s.value, parameter.unit, lang), f"{s.citation.section} 「{s.citation.quote}」")
                for s in parameter.steps]))
        event = schema.EVENT_BY_CODE[rule.event] if rule.event else None
        return RuleBlock(
            rule=rule, title=rule.title_in(lang), other_title=rule.title_en if lang == "zh" else rule.title,
            kind=KIND_LABEL[lang][rule.kind],
            event=(event.en if lang == "en" else event.zh) if event else w["entity"],
            eligible=eligible, amount=amount_text(rules, rule, as_of, lang) if rule.amount else "",
            window=window_text(rule, lang) if rule.kind != "derived" else "",
            departments="、".join(rule.departments) if lang == "zh" else ", ".join(rule.departments),
            section=rule.citation.section if rule.citation else "", quote=rule.citation.quote if rule.citation else "",
            params=params)

    docs = []
    for document in rules.documents.values():
        members = [block(r) for r in rules.rules if r.document_id == document.id and r.kind != "derived"]
        facts = [(w["number"], document.number or "—"), (w["issuer"], document.issuer),
                 (w["jurisdiction"], document.jurisdiction), (w["window"], _doc_window(document, lang)),
                 (w["source"], document.source)]
        docs.append(DocBlock(document, document.title if lang == "zh" else document.title_en,
                             document.title_en if lang == "zh" else document.title, facts, members))
    docs.sort(key=lambda d: (d.document.jurisdiction != "辽宁省", d.document.effective_from, d.document.id))
    derived = [block(r) for r in rules.rules if r.kind == "derived"]
    return docs, derived


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(rules: RuleSet, as_of: date | None = None, lang: str = "zh") -> str:
    w = WORDS[lang]
    docs, derived = gather(rules, as_of, lang)
    out = [f"# {w['title']}", "", w["intro"], ""]
    if as_of is not None:
        out += [f"{w['as_of']}: {as_of}", ""]
    out += [f"## {w['contents']}", ""]
    for d in docs:
        out.append(f"- [{d.title}](#{d.document.id}) — {len(d.rules)} {w['rules']}")
    out.append("")
    for d in docs:
        out += [f'<a id="{d.document.id}"></a>', "", f"## {d.title}", "", f"*{d.other_title}*", ""]
        out += [f"- **{k}**: {v}" for k, v in d.facts]
        out.append("")
        for b in d.rules:
            out += _md_rule(b, w)
    if derived:
        out += [f"## {w['definitions']}", ""]
        for b in derived:
            out += [f"### {b.title}", "", f"*{b.other_title}* · `{b.rule.id}`", ""]
            out += [f"- {c}" for c in b.eligible]
            if b.quote:
                out.append(f"- **{w['quote']}**: {b.section} 「{b.quote}」")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _md_rule(b: RuleBlock, w: dict[str, str]) -> list[str]:
    out = [f"### {b.title}", "", f"*{b.other_title}* · `{b.rule.id}`", "",
           f"- **{w['kind']}**: {b.kind}", f"- **{w['event']}**: {b.event}", f"- **{w['eligible']}**:"]
    out += [f"  - {c}" for c in b.eligible] or [f"  - {w['always']}"]
    if b.amount:
        out.append(f"- **{w['amount']}**: {b.amount}")
    out += [f"- **{w['window']}**: {b.window}", f"- **{w['departments']}**: {b.departments or w['none']}",
            f"- **{w['quote']}**: {b.section} 「{b.quote}」", ""]
    for p in b.params:
        out += [f"**{w['params']}** · {p.description} (`params.{p.name}`)", "",
                f"| {w['from']} | {w['value']} | {w['citation']} |", "|---|---|---|"]
        out += [f"| {s} | {v} | {_md_escape(c)} |" for s, v, c in p.steps]
        out.append("")
    return out


CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif;
       max-width: 980px; margin: 24px auto; padding: 0 20px; color: #1f2933; line-height: 1.55; }
h1 { font-size: 24px; } h2 { font-size: 19px; border-bottom: 2px solid #d9e2ec; padding-bottom: 4px; margin-top: 36px; }
h3 { font-size: 16px; margin: 22px 0 4px; }
.en { color: #52606d; font-style: italic; margin: 0 0 6px; }
.id { font-family: monospace; color: #7b8794; font-size: 12px; }
dl { display: grid; grid-template-columns: 9em 1fr; gap: 2px 12px; margin: 6px 0; }
dt { color: #52606d; } dd { margin: 0; }
blockquote { margin: 4px 0; padding: 4px 10px; border-left: 3px solid #9fb3c8; background: #f0f4f8; }
table { border-collapse: collapse; margin: 4px 0 10px; } th, td { border: 1px solid #d9e2ec; padding: 3px 8px; text-align: left; }
th { background: #f0f4f8; }
"""


def render_html(rules: RuleSet, as_of: date | None = None, lang: str = "zh") -> str:
    w = WORDS[lang]
    e = escape
    docs, derived = gather(rules, as_of, lang)
    out = [f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">',
           f"<title>{e(w['title'])}</title>\n<style>{CSS}</style>\n</head>\n<body>", f"<h1>{e(w['title'])}</h1>",
           f"<p>{e(w['intro'].replace('`', ''))}</p>"]
    if as_of is not None:
        out.append(f"<p>{e(w['as_of'])}: {as_of}</p>")
    out.append(f"<h2>{e(w['contents'])}</h2>\n<ul>")
    out += [f'<li><a href="#{e(d.document.id)}">{e(d.title)}</a> — {len(d.rules)} {e(w["rules"])}</li>' for d in docs]
    out.append("</ul>")
    for d in docs:
        out.append(f'<h2 id="{e(d.document.id)}">{e(d.title)}</h2>\n<p class="en">{e(d.other_title)}</p>\n<dl>')
        out += [f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in d.facts]
        out.append("</dl>")
        for b in d.rules:
            out.append(f'<h3>{e(b.title)}</h3>\n<p class="en">{e(b.other_title)} · <span class="id">{e(b.rule.id)}</span></p>\n<dl>')
            out.append(f"<dt>{e(w['kind'])}</dt><dd>{e(b.kind)}</dd><dt>{e(w['event'])}</dt><dd>{e(b.event)}</dd>")
            items = "".join(f"<li>{e(c)}</li>" for c in b.eligible) or f"<li>{e(w['always'])}</li>"
            out.append(f"<dt>{e(w['eligible'])}</dt><dd><ul>{items}</ul></dd>")
            if b.amount:
                out.append(f"<dt>{e(w['amount'])}</dt><dd>{e(b.amount)}</dd>")
            out.append(f"<dt>{e(w['window'])}</dt><dd>{e(b.window)}</dd>"
                       f"<dt>{e(w['departments'])}</dt><dd>{e(b.departments or w['none'])}</dd>"
                       f"<dt>{e(w['quote'])}</dt><dd>{e(b.section)}<blockquote>{e(b.quote)}</blockquote></dd>\n</dl>")
            for p in b.params:
                out.append(f'<p><b>{e(w["params"])}</b> · {e(p.description)} <span class="id">params.{e(p.name)}</span></p>')
                out.append(f"<table><tr><th>{e(w['from'])}</th><th>{e(w['value'])}</th><th>{e(w['citation'])}</th></tr>")
                out += [f"<tr><td>{e(s)}</td><td>{e(v)}</td><td>{e(c)}</td></tr>" for s, v, c in p.steps]
                out.append("</table>")
    if derived:
        out.append(f"<h2>{e(w['definitions'])}</h2>")
        for b in derived:
            out.append(f'<h3>{e(b.title)}</h3>\n<p class="en">{e(b.other_title)} · <span class="id">{e(b.rule.id)}</span></p>')
            out.append("<ul>" + "".join(f"<li>{e(c)}</li>" for c in b.eligible) + "</ul>")
            if b.quote:
                out.append(f"<p>{e(w['quote'])}: {e(b.section)}</p><blockquote>{e(b.quote)}</blockquote>")
    out.append("</body>\n</html>\n")
    return "\n".join(out)
