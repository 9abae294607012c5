"""The diff report as one self-contained HTML page: inline CSS, an inline SVG bar chart, no scripts, no
external references (it opens from a file, a mail attachment or an intranet share alike)."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from engine.drafting.diff import WORDS, DiffReport, RuleRow, aspect_text, detail_text, signed, signed_int, title_of
from engine.money import format_yuan

CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       sans-serif; margin: 24px 32px; color: #1f2933; background: #fff; font-size: 14px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 2px solid #d9e2ec; padding-bottom: 4px; }
.meta { color: #52606d; margin: 2px 0; }
.cards { display: flex; gap: 12px; margin: 16px 0; flex-wrap: wrap; }
.card { border: 1px solid #d9e2ec; border-radius: 6px; padding: 10px 14px; min-width: 150px; }
.card .v { font-size: 20px; font-weight: 600; }
.card .k { color: #52606d; font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f0f4f8; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.id { color: #7b8794; font-size: 12px; font-family: monospace; }
.pos { color: #1d7a3a; } .neg { color: #b42318; }
.was { background: #fde8e8; } .now { background: #e3f9e5; }
svg text { font-family: inherit; font-size: 12px; fill: #1f2933; }
.note { color: #7b8794; font-size: 12px; }
td.s { white-space: nowrap; }
"""

BAR_HEIGHT, GAP, LABEL_WIDTH, CHART_WIDTH, VALUE_WIDTH = 22, 8, 330, 460, 130


def _cls(value: Decimal | int) -> str:
    return "pos" if value > 0 else "neg" if value < 0 else ""


def bar_chart(rows: list[RuleRow], lang: str) -> str:
    """Horizontal bars of the yuan change per rule, negative to the left of the axis, positive to the right."""
    rows = [r for r in rows if r.change_yuan != 0] or rows[:1]
    biggest = max((abs(r.change_yuan) for r in rows), default=Decimal(0)) or Decimal(1)
    negative = any(r.change_yuan < 0 for r in rows)
    positive = any(r.change_yuan > 0 for r in rows)
    axis = LABEL_WIDTH + (CHART_WIDTH // 2 if negative and positive else CHART_WIDTH if negative else 0)
    span = CHART_WIDTH // 2 if negative and positive else CHART_WIDTH
    height = len(rows) * (BAR_HEIGHT + GAP) + 30
    width = LABEL_WIDTH + CHART_WIDTH + VALUE_WIDTH
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{escape(WORDS[lang]["chart"])}">']
    for i, row in enumerate(rows):
        y = 10 + i * (BAR_HEIGHT + GAP)
        length = int(abs(row.change_yuan) / biggest * (span - 10))
        x = axis if row.change_yuan >= 0 else axis - length
        colour = "#2f9e44" if row.change_yuan > 0 else "#d64545"
        label = title_of(row, lang)
        shown = label if len(label) <= 24 else label[:23] + "…"
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end"><title>{escape(row.rule_id)}</title>'
                     f'{escape(shown)}</text>')
        parts.append(f'<rect class="bar" data-rule="{escape(row.rule_id)}" x="{x}" y="{y}" width="{max(length, 1)}" '
                     f'height="{BAR_HEIGHT}" fill="{colour}"><title>{escape(row.rule_id)}: {signed(row.change_yuan)}</title></rect>')
        tx = (x + length + 6) if row.change_yuan >= 0 else (x - 6)
        anchor = "start" if row.change_yuan >= 0 else "end"
        if row.change_yuan < 0 and length > 120:
            tx, anchor = x + 6, "start"
            parts.append(f'<text x="{tx}" y="{y + 15}" text-anchor="{anchor}" style="fill:#fff">{signed(row.change_yuan)}</text>')
        else:
            parts.append(f'<text x="{tx}" y="{y + 15}" text-anchor="{anchor}">{signed(row.change_yuan)}</text>')
    parts.append(f'<line x1="{axis}" y1="4" x2="{axis}" y2="{height - 20}" stroke="#52606d" stroke-width="1"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_html(report: DiffReport, lang: str = "zh", max_entities: int = 300) -> str:
    w = WORDS[lang]
    e = escape
    change = report.after_total - report.before_total
    out = [f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n<meta charset="utf-8">',
           f"<title>{e(w['title'])}</title>\n<style>{CSS}</style>\n</head>\n<body>",
           f"<h1>{e(w['title'])}</h1>",
           f'<p class="meta">{e(w["base"])}: <b>{e(report.base_label)}</b> <span class="id">{e(report.base_fingerprint)}</span>'
           f' → {e(w["proposed"])}: <b>{e(report.proposed_label)}</b> <span class="id">{e(report.proposed_fingerprint)}</span></p>',
           f'<p class="meta">{e(w["as_of"])} {report.as_of} · {e(w["population"])}: {e(report.population_label)} · '
           f'{e(w["evaluated"])} {report.evaluated} · {e(report.accounting(lang))}</p>',
           '<div class="cards">']
    for key, value, css in ((f"{w['budget']} ({w['before']})", format_yuan(report.before_total), ""),
                            (f"{w['budget']} ({w['after']})", format_yuan(report.after_total), ""),
                            (w["change"], signed(change), _cls(change)),
                            (w["gainers"], str(report.count("gain")), "pos"), (w["losers"], str(report.count("loss")), "neg"),
                            (w["others"], str(report.count("change")), "")):
        out.append(f'<div class="card"><div class="v {css}">{e(value)}</div><div class="k">{e(key)}</div></div>')
    out.append("</div>")

    out.append(f"<h2>{e(w['chart'])}</h2>")
    out.append(bar_chart(report.rules, lang))

    out.append(f"<h2>{e(w['rules'])}</h2>\n<table>\n<tr>")
    heads = [(w["rule"], ""), (w["status"], ""), (w["ben_before"], "n"), (w["ben_after"], "n"), (w["ben_change"], "n"),
             (w["yuan_before"], "n"), (w["yuan_after"], "n"), (w["yuan_change"], "n")]
    out.append("".join(f'<th class="{c}">{e(h)}</th>' for h, c in heads) + "</tr>")
    for row in report.rules:
        out.append(
            f'<tr><td>{e(title_of(row, lang))}<br><span class="id">{e(row.rule_id)}</span></td><td class="s">{e(w[row.status])}</td>'
            f'<td class="n">{row.before_count}</td><td class="n">{row.after_count}</td>'
            f'<td class="n {_cls(row.change_count)}">{signed_int(row.change_count)}</td>'
            f'<td class="n">{format_yuan(row.before_yuan)}</td><td class="n">{format_yuan(row.after_yuan)}</td>'
            f'<td class="n {_cls(row.change_yuan)}">{signed(row.change_yuan)}</td></tr>')
    out.append(f'<tr><th>{e(w["total"])}</th><th></th><th></th><th></th><th></th><th class="n">{format_yuan(report.before_total)}'
               f'</th><th class="n">{format_yuan(report.after_total)}</th><th class="n {_cls(change)}">{signed(change)}</th></tr>')
    out.append("</table>")

    out.append(f"<h2>{e(w['changes'])}</h2>")
    items = report.changes + report.parameter_changes
    if not items:
        out.append(f"<p>{e(w['none'])}</p>")
    else:
        out.append(f'<table>\n<tr><th>{e(w["rule"])}</th><th>{e(w["status"])}</th><th>{e(w["aspect"])}</th>'
                   f'<th>{e(w["was"])}</th><th>{e(w["now"])}</th></tr>')
        for item in items:
            lines = item.lines or ()
            span = max(len(lines), 1)
            head = (f'<td rowspan="{span}">{e(title_of(item, lang))}<br><span class="id">{e(item.rule_id)}</span></td>'
                    f'<td class="s" rowspan="{span}">{e(w[item.status])}</td>')
            if not lines:
                out.append(f"<tr>{head}<td></td><td></td><td></td></tr>")
            for i, line in enumerate(lines):
                out.append(f'<tr>{head if i == 0 else ""}<td>{e(aspect_text(line.aspect, lang))}</td>'
                           f'<td class="was">{e(line.before)}</td><td class="now">{e(line.after)}</td></tr>')
        out.append("</table>")

    out.append(f"<h2>{e(w['entities'])}</h2>")
    if not report.entities:
        out.append(f"<p>{e(w['none'])}</p>")
    else:
        out.append(f'<table>\n<tr><th>{e(w["entity"])}</th><th>{e(w["city"])}</th><th class="n">{e(w["before"])}</th>'
                   f'<th class="n">{e(w["after"])}</th><th class="n">{e(w["change"])}</th><th>{e(w["kind"])}</th>'
                   f'<th>{e(w["detail"])}</th></tr>')
        for entity in report.entities[:max_entities]:
            kind = w[entity.kind if entity.kind != "change" else "changed"]
            out.append(f'<tr><td>{e(entity.name)}<br><span class="id">{e(entity.credit_code)}</span></td><td>{e(entity.city)}</td>'
                       f'<td class="n">{format_yuan(entity.before)}</td><td class="n">{format_yuan(entity.after)}</td>'
                       f'<td class="n {_cls(entity.change)}">{signed(entity.change)}</td><td>{e(kind)}</td>'
                       f'<td class="id">{e(detail_text(entity))}</td></tr>')
        out.append("</table>")
        if len(report.entities) > max_entities:
            out.append(f'<p class="note">{e(w["more"].format(n=len(report.entities) - max_entities))}</p>')
    if report.row_errors:
        out.append(f"<h2>{e(w['row_errors'])}</h2>\n<ul>")
        out.extend(f"<li>{e(error)}</li>" for error in report.row_errors)
        out.append("</ul>")
    out.append("</body>\n</html>\n")
    return "\n".join(out)
