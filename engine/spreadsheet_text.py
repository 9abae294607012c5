"""Text that a spreadsheet program could take for a formula, made harmless in every output we write.

An enterprise name or reference such as ``=HYPERLINK("http://x","点击")`` comes from a clerk's file and
must reach the reader as text (OWASP, "CSV Injection"):

* xlsx: written as a string cell, never a formula, a number or a hyperlink (``WORKBOOK_OPTIONS`` and
  ``write_cell``); the text itself is kept exactly as read;
* csv: a text cell that begins with ``= + - @``, tab or carriage return gets a single quote in front
  (``csv_text``), and every text field is enclosed in double quotes (the writers use
  ``quote_style="non_numeric"``), so a separator inside the text cannot start a new cell either.
  Numbers (amounts, counts) are not text: a negative amount stays a number.
* parquet and jsonl are data formats, not opened by spreadsheet programs as such: left exactly as read.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_STARTS_PATTERN = r"^[=+\-@\t\r]"

# xlsxwriter reads text as formulas (leading "="), URLs and numbers unless told not to.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet program could read this text as a formula."""
    return text.startswith(FORMULA_STARTS)


def csv_text(text: str | None) -> str | None:
    """A text cell for a CSV file: a single quote in front when it could be read as a formula."""
    if text is None or not looks_like_formula(text):
        return text
    return QUOTE + text


def csv_text_expr(column: Any) -> Any:
    """``csv_text`` for a polars String expression."""
    import polars as pl

    return pl.when(column.str.contains(_STARTS_PATTERN)).then(pl.lit(QUOTE) + column).otherwise(column)


def write_cell(sheet: Any, row: int, col: int, value: Any, cell_format: Any = None) -> None:
    """One xlsxwriter cell: text always as a string cell (never a formula), numbers as numbers."""
    if value is None:
        sheet.write_blank(row, col, None, cell_format)
    elif isinstance(value, str):
        sheet.write_string(row, col, value, cell_format)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, cell_format)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, cell_format)
    else:
        sheet.write_string(row, col, str(value), cell_format)


def write_cells(sheet: Any, row: int, col: int, values: list[Any], cell_format: Any = None) -> None:
    """``write_cell`` along a row."""
    for offset, value in enumerate(values):
        write_cell(sheet, row, col + offset, value, cell_format)
