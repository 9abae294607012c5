"""Input files → raw tables: the cells exactly as the file holds them, with sheet and row numbers.

One job: find the enterprise and event tables in an .xlsx (any number of sheets), .csv, .parquet or
.jsonl file and keep each cell's original Python value (text, number, date, bool), so that cell parsing
(``engine.batch.cells``) reads it exactly as ``engine.profile.parse_value`` would. Nothing is parsed here.

Row numbers are the ones a clerk sees: the spreadsheet row (header row included) for .xlsx and .csv,
the line number for .jsonl, the record number (1 = first record) for .parquet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from engine import json_keys, schema
from engine.textnorm import normalise_text

ENTERPRISES, EVENTS = "enterprises", "events"
SKIPPED = "sheets"  # a sheet that looks like data but is neither table: reported in the errors table, never dropped silently
FORMATS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".tab": "csv", ".parquet": "parquet", ".pq": "parquet",
           ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
ENTERPRISE_SHEET_NAMES = ("企业", "主体", "企业名单", "enterprises", "entities", "enterprise")
EVENT_SHEET_NAMES = ("事件", "events", "event")
HEADER_SCAN_ROWS = 20


class BadInput(Exception):
    """The input cannot be used at all (missing file, unreadable, no credit-code/name/city header)."""

    def __init__(self, message_zh: str, message_en: str):
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} / {message_en}")


@dataclass
class RawTable:
    """One table of an input file: headers and one raw column per header.

    ``columns[i]`` is a polars Series of the file's own type (String, Float64, Int64, Boolean, Date…), or
    of dtype Object when a spreadsheet column mixes types. ``rows`` holds the row number shown to clerks.
    ``parent`` (nested JSONL events only) is the position of the enterprise row the event belongs to.
    ``kind`` SKIPPED: a sheet that looks like data but could not be read; ``reason_zh``/``reason_en`` say why,
    ``header_row`` is its header row (0 when none was found) and ``rows`` its non-empty rows.
    ``fields`` (derived event tables only, ``engine.batch.event_columns``): the field each column holds, when the
    headers say it together with the event type (商标国际注册费用（元）); ``parent_table`` is then the index of
    the enterprise table ``parent`` points into (None: the first enterprise table).
    """

    kind: str
    source: str  # file name
    sheet: str  # sheet name, or the file name for single-table formats
    headers: list[str]
    columns: list[pl.Series]
    rows: pl.Series
    parent: pl.Series | None = None
    reason_zh: str = ""
    reason_en: str = ""
    header_row: int = 0
    fields: list[str] | None = None
    parent_table: int | None = None

    @property
    def height(self) -> int:
        return len(self.rows)


def input_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise BadInput(f"不支持的文件类型：{path.name}（可用 .xlsx、.csv、.parquet、.jsonl）",
                       f"unsupported file type: {path.name} (use .xlsx, .csv, .parquet or .jsonl)")
    return fmt


def read_tables(path: str | Path, default_kind: str = ENTERPRISES) -> list[RawTable]:
    """Every enterprise/event table in ``path``. ``default_kind`` names a single-table file's kind."""
    file = Path(path)
    if not file.is_file():
        raise BadInput(f"找不到文件：{path}", f"file not found: {path}")
    fmt = input_format(file)
    try:
        if fmt == "xlsx":
            return _read_xlsx(file)
        if fmt == "csv":
            from engine.batch.csv_text import read_csv_table

            headers, frame = read_csv_table(file)
            return [_from_frame(frame, file.name, file.name, default_kind, first_row=2, headers=headers)]
        if fmt == "parquet":
            return [_from_frame(pl.read_parquet(file), file.name, file.name, default_kind, first_row=1)]
        return _read_jsonl(file, default_kind)
    except BadInput:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure means the file is unusable
        raise BadInput(f"无法读取文件 {file.name}：{type(exc).__name__}: {exc}",
                       f"cannot read {file.name}: {type(exc).__name__}: {exc}") from None


# -- classification --------------------------------------------------------------------------------

def classify(headers: list[str]) -> str | None:
    """ENTERPRISES, EVENTS or None, from the headers alone (through ``engine.schema``)."""
    event_fields = {schema.field_for_header(h, schema.EVENT_HEADERS) for h in headers}
    entity_fields = {schema.field_for_header(h, schema.ENTITY_HEADERS) for h in headers}
    if {"type", "date"} <= event_fields:
        return EVENTS
    if "credit_code" in entity_fields and entity_fields & {"name", "city"}:
        return ENTERPRISES
    return None


def _known(header: Any) -> bool:
    text = str(header) if header is not None else ""
    return bool(text.strip()) and (schema.field_for_header(text, schema.ENTITY_HEADERS) is not None
                                   or schema.field_for_header(text, schema.EVENT_HEADERS) is not None)


# -- xlsx ----------------------------------------------------------------------------------------

def _read_xlsx(file: Path) -> list[RawTable]:
    from python_calamine import load_workbook

    from engine.batch.xlsx_guard import XlsxTooLarge, check_xlsx

    try:  # before calamine: a zip bomb or a sparse 1M x 16k sheet would abort the process in its allocator
        check_xlsx(file)
    except XlsxTooLarge as exc:
        raise BadInput(exc.message_zh, exc.message_en) from None
    workbook = load_workbook(str(file))
    tables: list[RawTable] = []
    for name in workbook.sheet_names:
        cells = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        header_at = next((i for i, row in enumerate(cells[:HEADER_SCAN_ROWS]) if sum(map(_known, row)) >= 2), None)
        lowered = normalise_text(name).lower()
        named = lowered in ENTERPRISE_SHEET_NAMES or lowered in EVENT_SHEET_NAMES
        if header_at is None:
            filled = [i for i, row in enumerate(cells) if any(_cell(v) is not None for v in row)]
            if named and filled:  # named as data, but no header row: say so rather than skip its rows
                tables.append(RawTable(SKIPPED, file.name, name, [], [], pl.Series("row", [i + 1 for i in filled], dtype=pl.Int64),
                                       reason_zh=f"前{HEADER_SCAN_ROWS}行中没有找到表头行（至少两个可识别的列名）",
                                       reason_en=f"no header row (two or more known column names) in the first {HEADER_SCAN_ROWS} rows"))
            continue
        headers = [_header_text(h) for h in cells[header_at]]
        kind = classify(headers)
        if kind is None and lowered in ENTERPRISE_SHEET_NAMES:
            kind = ENTERPRISES
        if kind is None and lowered in EVENT_SHEET_NAMES:
            kind = EVENTS
        body = cells[header_at + 1:]
        keep = [i for i, h in enumerate(headers) if h]
        row_numbers: list[int] = []
        data: list[list[Any]] = [[] for _ in keep]
        for offset, row in enumerate(body):
            values = [_cell(row[i]) if i < len(row) else None for i in keep]
            if all(v is None for v in values):
                continue
            row_numbers.append(header_at + 2 + offset)
            for column, value in zip(data, values):
                column.append(value)
        rows = pl.Series("row", row_numbers, dtype=pl.Int64)
        if kind is None:  # known column names, but neither an enterprise nor an event table
            tables.append(RawTable(SKIPPED, file.name, name, [headers[i] for i in keep], [], rows, header_row=header_at + 1,
                                   reason_zh="表头既不是企业表（需统一社会信用代码，以及名称或所在城市）也不是事件表（需类型和日期）",
                                   reason_en="the headers are neither an enterprise table (credit code plus name or city) "
                                             "nor an event table (type and date)"))
            continue
        tables.append(RawTable(kind, file.name, name, [headers[i] for i in keep], [_series(c) for c in data], rows))
    if not any(t.kind != SKIPPED for t in tables):
        raise BadInput(f"{file.name}：没有找到带表头的企业表（需要统一社会信用代码、名称、所在城市等列）",
                       f"{file.name}: no enterprise sheet with headers found (credit code, name, city…)")
    return tables


def _header_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        value = int(value)
    return " ".join(str(value).split())  # as the clerk wrote it; field_for_header normalises for matching


def _cell(value: Any) -> Any:
    """calamine gives "" for an empty cell; everything else is kept as the file holds it."""
    if isinstance(value, str) and value == "":
        return None
    return value


def _series(values: list[Any]) -> pl.Series:
    """A raw column in the cells' own type; Object when the column mixes types."""
    kinds = {_kind(v) for v in values if v is not None}
    if not kinds:
        return pl.Series(values, dtype=pl.String)
    if len(kinds) == 1:
        only = kinds.pop()
        dtype = {"str": pl.String, "float": pl.Float64, "int": pl.Int64, "bool": pl.Boolean, "date": pl.Date,
                 "datetime": pl.Datetime("us")}.get(only)
        if dtype is not None:
            try:
                return pl.Series(values, dtype=dtype, strict=True)
            except Exception:  # noqa: BLE001 - fall back to keeping the Python values
                pass
    return pl.Series(values, dtype=pl.Object)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


# -- csv / parquet -------------------------------------------------------------------------------

def _from_frame(frame: pl.DataFrame, source: str, sheet: str, default_kind: str, first_row: int,
                headers: list[str] | None = None) -> RawTable:
    """``headers``: the header row as written (a CSV's, repeated names kept); default: the frame's column names."""
    headers = [" ".join(str(c).split()) for c in (frame.columns if headers is None else headers)]
    kind = classify(headers) or default_kind
    columns = []
    for name in frame.columns:
        column = frame.get_column(name)
        if column.dtype == pl.String:
            # "" is an empty cell in CSV; keep other spellings for the parser to judge.
            column = column.replace("", None)
        columns.append(column)
    non_blank = pl.any_horizontal([c.is_not_null() for c in columns]) if columns else pl.lit(False)
    mask = pl.select(non_blank).to_series() if columns else pl.Series([], dtype=pl.Boolean)
    rows = pl.int_range(first_row, first_row + frame.height, eager=True, dtype=pl.Int64)
    if len(mask) and not mask.all():
        columns = [c.filter(mask) for c in columns]
        rows = rows.filter(mask)
    return RawTable(kind, source, sheet, headers, columns, rows.alias("row"))


# -- jsonl ---------------------------------------------------------------------------------------

def _read_jsonl(file: Path, default_kind: str) -> list[RawTable]:
    """One JSON object per line; an enterprise line may nest its events under "events" / "事件"."""
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    events: list[dict[str, Any]] = []
    event_rows: list[int] = []
    parents: list[int] = []
    with file.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json_keys.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInput(f"{file.name} 第{number}行不是有效的 JSON：{exc.msg}",
                               f"{file.name} line {number} is not valid JSON: {exc.msg}") from None
            if not isinstance(record, dict):
                raise BadInput(f"{file.name} 第{number}行应为一个 JSON 对象", f"{file.name} line {number} must be a JSON object")
            _refuse_repeated_keys(record, file.name, number)
            nested = None
            if "events" in record and "事件" in record:
                zh, en = schema.same_field_message("events", "事件", "events", what="keys")
                raise BadInput(f"{file.name} 第{number}行：{zh}", f"{file.name} line {number}: {en}")
            for key in ("events", "事件"):
                if key in record:
                    nested = record.pop(key)
            if nested is not None:
                if not isinstance(nested, list):
                    raise BadInput(f"{file.name} 第{number}行的 events 应为列表", f"{file.name} line {number}: events must be a list")
                for item in nested:
                    _refuse_repeated_keys(item, file.name, number)
                    events.append(item if isinstance(item, dict) else {"事件": item})
                    event_rows.append(number)
                    parents.append(len(records))
            records.append(record)
            rows.append(number)
    tables = [_from_records(records, rows, file.name, default_kind)]
    if tables[0].kind == EVENTS:
        return tables
    if events:
        nested_table = _from_records(events, event_rows, file.name, EVENTS)
        nested_table.kind = EVENTS
        nested_table.sheet = f"{file.name} (events)"
        nested_table.parent = pl.Series("parent", parents, dtype=pl.Int64)
        tables.append(nested_table)
    return tables


def _refuse_repeated_keys(record: Any, source: str, number: int) -> None:
    for key in json_keys.repeated_keys(record):
        zh, en = schema.same_field_message(key, key, "", what="keys")
        raise BadInput(f"{source} 第{number}行：{zh}", f"{source} line {number}: {en}")


def _from_records(records: list[dict[str, Any]], rows: list[int], source: str, default_kind: str) -> RawTable:
    """Records → one raw column per field. Keys are merged by the field they name (records may spell the
    same field differently: "name" in one, "名称" in another); unknown keys stay as they are."""
    kind = classify([normalise_text(str(k)) for r in records[:1000] for k in r]) or default_kind
    mapping = schema.EVENT_HEADERS if kind == EVENTS else schema.ENTITY_HEADERS

    def canonical(key: Any) -> str:
        text = normalise_text(str(key))
        name = schema.field_for_header(text, mapping)
        if name is None and kind == EVENTS and schema.field_for_header(text, schema.ENTITY_HEADERS) == "credit_code":
            name = "credit_code"
        return name or text

    headers: list[str] = []
    canon: list[dict[str, Any]] = []
    for record, number in zip(records, rows):
        row = {}
        given: dict[str, str] = {}  # field → the key it came under, to refuse a second spelling
        for key, value in record.items():
            name = canonical(key)
            if name in given:
                zh, en = schema.same_field_message(given[name], str(key), name, what="keys")
                raise BadInput(f"{source} 第{number}行：{zh}", f"{source} line {number}: {en}")
            given[name] = str(key)
            row[name] = value
            if name not in headers:
                headers.append(name)
        canon.append(row)
    columns = [_series([r.get(h) for r in canon]) for h in headers]
    return RawTable(kind, source, source, headers, columns, pl.Series("row", rows, dtype=pl.Int64))
