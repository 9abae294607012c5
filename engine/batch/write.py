"""Output tables → files, atomically and byte-reproducibly.

* ``xlsx``: one workbook, one sheet per table (a table longer than Excel's 1,048,576 rows continues on
  "<sheet> (2)", …), written by xlsxwriter in constant_memory mode with fixed document properties, so
  the same input gives the same bytes. Money in yuan with two decimals (number cells), dates as dates.
* ``csv`` (UTF-8 with BOM, so Excel opens it; money as exact decimal numbers), ``parquet`` (money as
  decimal(20,2)), ``jsonl`` (money as exact decimal strings): one file per table in an output folder.

Text that a spreadsheet could read as a formula (``=HYPERLINK(…)``) is a string cell in xlsx and is
neutralised in csv (``engine.spreadsheet_text``); parquet and jsonl carry it as read.

Atomic (``engine.output_safety``): a file is written to a temporary file beside its target and moved into
place with ``os.replace``; a folder is built as a temporary sibling and swapped in, so an interrupted run
leaves the previous output or none; a symbolic link is written through to its target. The manifest is
written last (see ``engine.batch.manifest``); an .xlsx and its manifest are both complete before either
is moved into place. Whether ``out`` may be replaced at all is checked before the
run by ``engine.batch.output_guard``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from engine.batch.money import fen_to_decimal_text
from engine.batch.tables import OutputTable
from engine.output_safety import atomic_file as _atomic_file
from engine.output_safety import real_target, swap_in_folder, temporary_folder
from engine.output_safety import remove_temporary as _remove
from engine.spreadsheet_text import WORKBOOK_OPTIONS, csv_text_expr

EXCEL_MAX_ROWS = 1_048_576
FIXED_TIME = datetime(2000, 1, 1, 0, 0, 0)  # workbook creation date: fixed, so re-runs are byte-identical
EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's 1900 date system for dates from 1900-03-01
WORKBOOK_TITLE = "惠企 Huiqi batch evaluation"  # with FIXED_TIME, how engine.batch.output_guard knows an untouched output
SUFFIX = {"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_path(out: Path, fmt: str) -> Path:
    """Where the manifest goes: ``OUT/manifest.json`` for folders, ``<stem>.manifest.json`` next to an .xlsx."""
    return out / "manifest.json" if fmt != "xlsx" else out.with_name(out.stem + ".manifest.json")


def write_output(tables: list[OutputTable], out: Path, fmt: str, manifest: Callable[[list[dict]], dict],
                 progress: Callable[[str, int, int], None] | None = None) -> list[Path]:
    """Write every table to ``out`` (file for xlsx, folder otherwise) and then the manifest.

    ``manifest(outputs)`` receives ``[{"file", "sha256", "rows"}]`` and returns the manifest dict.
    Returns the paths written.
    """
    out = Path(out)
    target = real_target(out)  # a symbolic link is written through to its target (engine.output_safety)
    if fmt == "xlsx":
        if target.is_dir():
            raise IsADirectoryError(f"{out} is a folder; give an .xlsx file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        manifest_file = publish_workbook(target, lambda tmp: _write_xlsx(tables, tmp, progress),
                                         {t.key: t.frame.height for t in tables}, manifest)
        return [out, manifest_file]
    if target.exists() and not target.is_dir():
        raise NotADirectoryError(f"{out} is a file; --format {fmt} writes a folder")
    work = temporary_folder(target)
    try:
        outputs = []
        for n, table in enumerate(tables, start=1):
            path = work / (table.key + SUFFIX[fmt])
            _write_table(table, path, fmt)
            outputs.append({"file": path.name, "sha256": sha256_of(path), "rows": table.frame.height})
            if progress is not None:
                progress("write", n, len(tables))
        (work / "manifest.json").write_text(_json(manifest(outputs)), encoding="utf-8")
        swap_in_folder(work, target)
    except BaseException:
        while True:  # the loop must be here, around the call: see engine.output_safety.remove_temporary
            try:
                _remove(work)
                break
            except KeyboardInterrupt:
                continue
        raise
    return [out / o["file"] for o in outputs] + [out / "manifest.json"]


def publish_workbook(target: Path, write: Callable[[Path], None], rows: dict[str, int],
                     manifest: Callable[[list[dict]], dict]) -> Path:
    """Write the workbook and its manifest to temporary files and move both into place only when both are
    complete, so a failure anywhere leaves the previous pair untouched. Returns the manifest's path."""
    manifest_file = manifest_path(target, "xlsx")
    with _atomic_file(target) as tmp:
        write(tmp)
        outputs = [{"file": target.name, "sha256": sha256_of(tmp), "rows": rows}]
        with _atomic_file(manifest_file) as manifest_tmp:
            manifest_tmp.write_text(_json(manifest(outputs)), encoding="utf-8")
    return manifest_file


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# -- csv / parquet / jsonl -------------------------------------------------------------------------

def _write_table(table: OutputTable, path: Path, fmt: str) -> None:
    frame = table.frame
    if fmt == "parquet":
        frame = frame.with_columns([yuan_decimal(pl.col(c)).alias(c) for c in table.money])
        frame.write_parquet(path, compression="zstd", compression_level=1, statistics=True)  # level 1: faster, ~2 % larger
        return
    if fmt == "csv":
        with path.open("wb") as handle:
            write_csv(csv_ready(frame, table.money), handle, first=True)
        return
    frame.with_columns([fen_to_decimal_text(pl.col(c)).alias(c) for c in table.money]).write_ndjson(path)


def yuan_decimal(fen: pl.Expr) -> pl.Expr:
    """Integer fen → exact yuan as decimal(20,2) (fen × 0.01 in decimal arithmetic, never through float)."""
    return (fen.cast(pl.Decimal(20, 0)) * pl.lit(Decimal("0.01"), dtype=pl.Decimal(3, 2))).cast(pl.Decimal(20, 2))


def csv_ready(frame: pl.DataFrame, money: tuple[str, ...]) -> pl.DataFrame:
    """A table as its CSV carries it: money as exact decimal numbers, every text column neutralised so that
    no cell can be read as a formula (numbers, dates and yes/no are not text and stay as they are)."""
    text_types = (pl.String, pl.Categorical, pl.Enum)
    return frame.with_columns(
        [yuan_decimal(pl.col(c)).alias(c) for c in money]
        + [csv_text_expr(pl.col(c).cast(pl.String)).alias(c) for c, dtype in frame.schema.items()
           if c not in money and isinstance(dtype, text_types)])


def write_csv(frame: pl.DataFrame, handle, first: bool) -> None:
    """Append ``frame`` to an open CSV file (the BOM and header with the first part). Every text field is
    quoted (OWASP): a separator inside a name cannot open a new cell."""
    frame.write_csv(handle, include_bom=first, include_header=first, date_format="%Y-%m-%d", quote_style="non_numeric")


# -- xlsx ------------------------------------------------------------------------------------------

def new_workbook(path: Path):
    """A constant-memory workbook with fixed properties (byte-stable) and the header/money/date formats."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, **WORKBOOK_OPTIONS,
                                               "default_date_format": "yyyy-mm-dd"})
    workbook.set_properties({"title": WORKBOOK_TITLE, "author": "huiqi", "created": FIXED_TIME})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    money = workbook.add_format({"num_format": "#,##0.00"})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    return workbook, header, money, day


def _write_xlsx(tables: list[OutputTable], path: Path, progress) -> None:
    workbook, header, money, day = new_workbook(path)
    total = sum(t.frame.height for t in tables)
    done = 0
    for table in tables:
        frame = table.frame
        pieces = max(1, -(-frame.height // (EXCEL_MAX_ROWS - 1)))
        for piece in range(pieces):
            name = table.title if piece == 0 else f"{table.title} ({piece + 1})"
            part = frame.slice(piece * (EXCEL_MAX_ROWS - 1), EXCEL_MAX_ROWS - 1)
            _write_sheet(workbook.add_worksheet(name[:31]), part, table, header, money, day)
            done += part.height
            if progress is not None:
                progress("write", done, total)
    workbook.close()


def _write_sheet(sheet, frame: pl.DataFrame, table: OutputTable, header, money, day) -> None:
    columns = frame.columns
    sheet.freeze_panes(1, 0)
    for j, name in enumerate(columns):
        width = min(60, max(8, len(name) * 2 + 2))
        dtype = frame.schema[name]
        fmt = money if name in table.money else (day if dtype == pl.Date else None)
        sheet.set_column(j, j, width, fmt)
    sheet.write_row(0, 0, columns, header)
    if not frame.height:
        return
    sheet.autofilter(0, 0, frame.height, len(columns) - 1)
    if not _fast_path_available(sheet, (money, day)):
        _write_rows_public(sheet, frame, table, money, day)
        return
    # The data rows are rendered as sheet XML by polars, column at a time (xlsxwriter's per-cell path
    # costs ~5 µs a cell), and appended to the worksheet's constant_memory row file after the header row.
    if sheet._check_dimensions(frame.height, len(columns) - 1):
        raise ValueError("table too large for one sheet")
    sheet._write_single_row(1)  # flush the header row
    styles = {name: (money if name in table.money else day if frame.schema[name] == pl.Date else None) for name in columns}
    cells = [_cell_xml(name, j, frame.schema[name], styles[name], name in table.money) for j, name in enumerate(columns)]
    for start in range(0, frame.height, ROWS_PER_BLOCK):
        block = frame.slice(start, ROWS_PER_BLOCK).with_row_index("_r", offset=start + 2)
        xml = block.select(pl.concat_str([pl.lit('<row r="'), pl.col("_r").cast(pl.String), pl.lit('">'), *cells, pl.lit("</row>")])
                           .str.join("")).item()
        sheet.fh.write(xml)
    sheet.previous_row = frame.height  # xlsxwriter has nothing left to write for these rows


# xlsxwriter internals the fast path relies on (pyproject pins xlsxwriter>=3.1,<4); checked at run time so that
# a release that renames them falls back to the public, slower row-by-row path instead of writing a broken file.
_SHEET_INTERNALS = ("_check_dimensions", "_write_single_row", "fh", "previous_row", "constant_memory")


def _fast_path_available(sheet, styles) -> bool:
    return (all(hasattr(sheet, name) for name in _SHEET_INTERNALS) and bool(getattr(sheet, "constant_memory", False))
            and hasattr(sheet.fh, "write") and all(hasattr(style, "_get_xf_index") for style in styles))


def _write_rows_public(sheet, frame: pl.DataFrame, table: OutputTable, money, day) -> None:
    """The same cells through xlsxwriter's public API, one row at a time (slow; the fallback)."""
    if frame.height > EXCEL_MAX_ROWS - 1:
        raise ValueError("table too large for one sheet")
    is_money = [name in table.money for name in frame.columns]
    for i, row in enumerate(frame.iter_rows(), start=1):
        for j, value in enumerate(row):
            if value is None:
                continue
            if is_money[j]:
                sheet.write_number(i, j, value / 100, money)
            elif isinstance(value, date):
                sheet.write_datetime(i, j, datetime(value.year, value.month, value.day), day)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                sheet.write_number(i, j, value)
            else:  # text as polars casts it, as the fast path writes it ("true", not "True")
                sheet.write_string(i, j, ("true" if value else "false") if isinstance(value, bool) else str(value))


ROWS_PER_BLOCK = 50_000
_CONTROL = [chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32))]


def _column_letters(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, rest = divmod(j - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell_xml(name: str, j: int, dtype: pl.DataType, style, is_money: bool) -> pl.Expr:
    """One cell of every row as XML ("" for an empty cell), as xlsxwriter writes it in constant_memory mode."""
    col = pl.col(name)
    ref = pl.concat_str([pl.lit(f'<c r="{_column_letters(j)}'), pl.col("_r").cast(pl.String), pl.lit('"')])
    s_attr = f' s="{style._get_xf_index()}"' if style is not None else ""
    if is_money:
        value = fen_to_decimal_text(col)
    elif dtype == pl.Date:
        value = (col - pl.lit(EXCEL_EPOCH, dtype=pl.Date)).dt.total_days().cast(pl.String)
    elif dtype.is_numeric():
        value = col.cast(pl.String)
    else:
        text = col.cast(pl.String).str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True) \
            .str.replace_all(">", "&gt;", literal=True)
        for char in _CONTROL:
            text = text.str.replace_all(char, f"_x{ord(char):04X}_", literal=True)
        preserve = text.str.contains(r"^\s|\s$")
        opening = pl.when(preserve).then(pl.lit('<t xml:space="preserve">')).otherwise(pl.lit("<t>"))
        xml = pl.concat_str([ref, pl.lit(f'{s_attr} t="inlineStr"><is>'), opening, text, pl.lit("</t></is></c>")])
        return pl.when(col.is_null()).then(pl.lit("")).otherwise(xml)
    xml = pl.concat_str([ref, pl.lit(f"{s_attr}><v>"), value, pl.lit("</v></c>")])
    return pl.when(col.is_null()).then(pl.lit("")).otherwise(xml)
