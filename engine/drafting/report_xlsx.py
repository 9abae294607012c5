"""The diff report as an Excel workbook (xlsxwriter): summary, rules, changes and every affected entity."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from engine.drafting.diff import WORDS, DiffReport, aspect_text, detail_text, title_of
from engine.spreadsheet_text import WORKBOOK_OPTIONS, write_cell, write_cells


def _f(value: Decimal) -> float:
    return float(value)  # Excel stores doubles; the text report keeps the exact Decimal


def write_xlsx(report: DiffReport, path: str | Path, lang: str = "zh") -> Path:
    w = WORDS[lang]
    path = Path(path)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": False, **WORKBOOK_OPTIONS})  # names are text, never formulas
    book.set_properties({"title": w["title"], "created": datetime(2000, 1, 1)})  # fixed: the same report, the same bytes
    bold = book.add_format({"bold": True, "bg_color": "#F0F4F8", "border": 1, "text_wrap": True, "valign": "top"})
    money = book.add_format({"num_format": "#,##0.00"})
    signed_money = book.add_format({"num_format": "+#,##0.00;[Red]-#,##0.00;0.00"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})

    summary = book.add_worksheet("摘要" if lang == "zh" else "Summary")
    rows = [(w["title"], ""), (w["base"], f"{report.base_label} ({report.base_fingerprint})"),
            (w["proposed"], f"{report.proposed_label} ({report.proposed_fingerprint})"), (w["as_of"], str(report.as_of)),
            (w["population"], report.population_label), (w["evaluated"], report.evaluated),
            (w["not_evaluated"], report.rows_not_read.get("enterprises", 0)),
            (w["events_not_counted"], report.rows_not_read.get("events", 0)), (w["error_messages"], len(report.row_errors)), (f"{w['budget']} ({w['before']})", _f(report.before_total)),
            (f"{w['budget']} ({w['after']})", _f(report.after_total)),
            (w["change"], _f(report.after_total - report.before_total)), (w["gainers"], report.count("gain")),
            (w["losers"], report.count("loss")), (w["others"], report.count("change"))]
    for r, (key, value) in enumerate(rows):
        write_cell(summary, r, 0, key, bold)
        write_cell(summary, r, 1, value, money if isinstance(value, float) else None)
    summary.set_column(0, 0, 36)
    summary.set_column(1, 1, 60)

    sheet = book.add_worksheet("各规则" if lang == "zh" else "Rules")
    heads = ["rule_id", w["rule"], w["status"], w["ben_before"], w["ben_after"], w["ben_change"], w["yuan_before"],
             w["yuan_after"], w["yuan_change"]]
    sheet.write_row(0, 0, heads, bold)
    for r, row in enumerate(report.rules, start=1):
        write_cells(sheet, r, 0, [row.rule_id, title_of(row, lang), w[row.status], row.before_count, row.after_count,
                                  row.change_count])
        sheet.write_number(r, 6, _f(row.before_yuan), money)
        sheet.write_number(r, 7, _f(row.after_yuan), money)
        sheet.write_number(r, 8, _f(row.change_yuan), signed_money)
    total = len(report.rules) + 1
    sheet.write(total, 1, w["total"], bold)
    if report.rules:
        for col, letter in ((6, "G"), (7, "H"), (8, "I")):
            sheet.write_formula(total, col, f"=SUM({letter}2:{letter}{total})", signed_money if col == 8 else money,
                                _f([report.before_total, report.after_total, report.after_total - report.before_total][col - 6]))
    sheet.set_column(0, 0, 38)
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, 8, 15)
    sheet.freeze_panes(1, 0)
    if report.rules:
        sheet.autofilter(0, 0, len(report.rules), len(heads) - 1)

    changes = book.add_worksheet("规则改动" if lang == "zh" else "Changes")
    changes.write_row(0, 0, ["rule_id", w["rule"], w["status"], w["aspect"], w["was"], w["now"]], bold)
    r = 1
    for item in report.changes + report.parameter_changes:
        for line in item.lines or ():
            write_cells(changes, r, 0, [item.rule_id, title_of(item, lang), w[item.status], aspect_text(line.aspect, lang),
                                        line.before, line.after], wrap)
            r += 1
        if not item.lines:
            write_cells(changes, r, 0, [item.rule_id, title_of(item, lang), w[item.status]], wrap)
            r += 1
    changes.set_column(0, 0, 38)
    changes.set_column(1, 1, 30)
    changes.set_column(3, 5, 40)

    people = book.add_worksheet("受影响主体" if lang == "zh" else "Entities")
    people.write_row(0, 0, [w["entity"], "统一社会信用代码" if lang == "zh" else "credit code", w["city"], w["before"],
                            w["after"], w["change"], w["kind"], w["detail"], "source"], bold)
    for r, entity in enumerate(report.entities, start=1):
        write_cells(people, r, 0, [entity.name, entity.credit_code, entity.city])
        people.write_number(r, 3, _f(entity.before), money)
        people.write_number(r, 4, _f(entity.after), money)
        people.write_number(r, 5, _f(entity.change), signed_money)
        write_cells(people, r, 6, [w[entity.kind if entity.kind != "change" else "changed"], detail_text(entity), entity.label])
    people.set_column(0, 0, 30)
    people.set_column(1, 1, 22)
    people.set_column(3, 5, 15)
    people.set_column(7, 7, 70)
    people.freeze_panes(1, 0)
    if report.entities:
        people.autofilter(0, 0, len(report.entities), 8)

    if report.row_errors:
        errors = book.add_worksheet("无法读取的行" if lang == "zh" else "Row errors")
        errors.write(0, 0, w["row_errors"], bold)
        for r, error in enumerate(report.row_errors, start=1):
            write_cell(errors, r, 0, error)
        errors.set_column(0, 0, 120)
    book.close()
    return path
