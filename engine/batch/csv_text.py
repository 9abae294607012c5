"""CSV / tab-separated bytes → a table of text cells: encoding, line endings, separator and header checks.

Decisions (docs/batch-guide.md, "CSV files"):

* Encoding: a UTF-16 byte-order mark (Excel's "Unicode text"), else strict UTF-8 (with or without BOM), else
  GB18030 (which includes GBK and GB2312: what Chinese Excel saves), accepted only when it reads as Chinese:
  its header row holds a Chinese column name the schema knows, or else charset-normalizer, as a judge, does
  not find another East Asian encoding (Big5, Shift-JIS, EUC-KR…) a better reading. Anything else is refused,
  naming the row where UTF-8 decoding failed. The encoding used is recorded in the manifest.
* Line endings: CRLF (Windows), LF and lone CR ("CSV (Macintosh)") all end a row, also mixed in one file.
* Separator: tab for .tsv/.tab files and when the header row holds more tabs than commas; else comma.
* The header row (row 1) must look like a header: a cell holding a line break, a date, an amount or a credit
  code means the file has no header row or its rows were not split, and the file is refused (never a clean
  run over nothing). Every read error names the file and the row, in Chinese and English.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.batch.sources import BadInput
from engine.textnorm import normalise_text

TAB_SUFFIXES = (".tsv", ".tab")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")
_QUOTED = re.compile(r'"[^"]*(?:"|$)')  # a quoted cell ("" inside it reads as two adjacent quoted parts)
_QUOTED_BYTES = re.compile(rb'"[^"]*(?:"|$)')
_DATE = re.compile(r"^\d{4}\s*[-/.年]\s*\d{1,2}(\s*[-/.月]\s*\d{1,2}\s*日?)?$|^\d{4}年$")
_AMOUNT = re.compile(r"^[¥￥+\-]?\s*\d[\d,]*(\.\d+)?\s*(万元|万|元|%)?$")
_CREDIT_CODE = re.compile(r"^(?=.*\d)[0-9A-Z]{18}$")
_OTHER_EAST_ASIAN = ("big5", "cp950", "big5hkscs", "cp949", "euc_kr", "johab", "cp932", "shift_jis", "euc_jp",
                     "euc_jis_2004", "shift_jis_2004", "iso2022_jp", "iso2022_kr")
_JUDGE_BYTES = 1 << 16  # charset-normalizer looks at the start of the file only: enough text, bounded time


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file was read; ``encoding`` as recorded in the manifest."""

    encoding: str  # "utf-8", "utf-8-sig" (UTF-8 with BOM), "gb18030", "utf-16"
    delimiter: str  # "," or "\t"
    line_endings: str  # "CRLF", "LF", "CR", "mixed" or "none"

    def manifest(self) -> dict[str, str]:
        return {"encoding": self.encoding, "delimiter": "tab" if self.delimiter == "\t" else "comma",
                "line_endings": self.line_endings}


def _row_of(data: bytes, offset: int) -> int:
    """The row (1 = the header row, as a spreadsheet numbers them) holding byte ``offset``: line breaks inside
    quoted cells do not start a row. (A quote is byte 0x22 in UTF-8 and GB18030 alike, never part of a character.)"""
    outside = _QUOTED_BYTES.sub(b"", data[:offset])
    return len(_LINE_BREAK_BYTES.findall(outside)) + 1


def decode(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding) of a CSV file's bytes, or ``BadInput`` naming the row where decoding failed."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise BadInput(f"{name} 以 UTF-16 标记开头，但第{_row_of(data, exc.start)}行无法按 UTF-16 解码",
                           f"{name} starts with a UTF-16 mark but row {_row_of(data, exc.start)} is not valid UTF-16") from None
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError as exc:
        utf8_row = _row_of(data, exc.start)
    if not bom:
        text = _gb18030(data)
        if text is not None:
            return text, "gb18030"
    raise BadInput(f"{name} 的编码无法识别：第{utf8_row}行不是有效的 UTF-8" + ("" if bom else "，整个文件也不是 GB18030/GBK 中文编码")
                   + "。请在 Excel 中“另存为”→“CSV UTF-8（逗号分隔）”后重新运行",
                   f"{name}: unknown encoding: row {utf8_row} is not valid UTF-8" + ("" if bom else
                                                                                     ", nor is the file Chinese GB18030/GBK")
                   + ". In Excel use Save As → 'CSV UTF-8 (Comma delimited)' and run again")


def _gb18030(data: bytes) -> str | None:
    """The GB18030 reading of ``data`` when it decodes and reads as Chinese; None otherwise.

    The check: the header row read this way holds a Chinese column name the schema knows (bytes of another
    encoding never decode into one), or else charset-normalizer, as a judge, does not find another East Asian
    encoding (Big5, Shift-JIS, EUC-KR…) a better reading of the file's start."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    if _known_chinese_header(text):
        return text
    from charset_normalizer import from_bytes

    best = from_bytes(data[:_JUDGE_BYTES]).best()
    if best is not None and best.encoding in _OTHER_EAST_ASIAN:
        return None
    return text


def _known_chinese_header(text: str) -> bool:
    from engine import schema

    first = _first_line(text)
    cells = [c.strip().strip('"') for c in re.split("[,\t]", first)]
    return any(not c.isascii() and (schema.field_for_header(c, schema.ENTITY_HEADERS) or schema.field_for_header(c, schema.EVENT_HEADERS))
               for c in cells)


def _line_endings(raw: bytes | str) -> str:
    """How the rows end (line breaks inside quoted cells are the cells' own business). Counted on the file's
    bytes where its encoding keeps CR and LF single bytes (UTF-8, GB18030), else on the text."""
    counts = _counts(raw)
    if sum(map(bool, counts)) > 1:  # only then can a quoted cell's own line break matter (and the slower look pay)
        counts = _counts(_QUOTED_BYTES.sub(b"", raw) if isinstance(raw, bytes) else _QUOTED.sub("", raw))
    kinds = [k for k, n in zip(("CRLF", "LF", "CR"), counts) if n]
    return kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "none")


def _counts(raw: bytes | str) -> tuple[int, int, int]:
    """(CRLF, lone LF, lone CR) line endings."""
    cr, lf = ("\r", "\n") if isinstance(raw, str) else (b"\r", b"\n")
    crlf = raw.count(cr + lf)
    return crlf, raw.count(lf) - crlf, raw.count(cr) - crlf


def _delimiter(text: str, path: Path) -> str:
    if path.suffix.lower() in TAB_SUFFIXES:
        return "\t"
    first = _first_line(text)
    return "\t" if first.count("\t") > first.count(",") else ","


def _first_line(text: str) -> str:
    """The header line (without copying the rest of a large text)."""
    found = _LINE_BREAK.search(text)
    return text[:found.start()] if found else text


_FORMATS: dict[tuple[str, int, int], CsvFormat] = {}  # (real path, size, mtime) → how the reader read it
_REMEMBERED = 64


def csv_format(path: str | Path) -> CsvFormat:
    """How ``path`` is (or was) read, for the manifest: what the reader found, or worked out again."""
    real = Path(path).resolve()
    info = real.stat()
    key = (str(real), info.st_size, info.st_mtime_ns)
    if key not in _FORMATS:
        data = real.read_bytes()
        text, encoding = decode(data, real.name)
        _remember(key, CsvFormat(encoding, _delimiter(text, real), _line_endings(text if encoding == "utf-16" else data)))
    return _FORMATS[key]


def _remember(key: tuple[str, int, int], fmt: CsvFormat) -> None:
    if len(_FORMATS) >= _REMEMBERED:
        _FORMATS.clear()
    _FORMATS[key] = fmt


def read_csv_table(path: Path) -> tuple[list[str], pl.DataFrame]:
    """The header row (as written) and the data rows (text cells, columns ``column_0``…) of a CSV file."""
    data = path.read_bytes()
    text, encoding = decode(data, path.name)
    endings = _line_endings(text if encoding == "utf-16" else data)
    delimiter = _delimiter(text, path)
    real = path.resolve()
    info = real.stat()
    _remember((str(real), info.st_size, info.st_mtime_ns), CsvFormat(encoding, delimiter, endings))
    if endings in ("CR", "mixed") and "\r" in text.replace("\r\n", ""):  # a lone CR: every ending becomes "\n"
        text = _LINE_BREAK.sub("\n", text)
        payload = text.encode("utf-8")
    elif encoding in ("utf-8", "utf-8-sig"):
        payload = data[3:] if encoding == "utf-8-sig" else data  # already checked UTF-8: polars reads the bytes
    else:
        payload = text.encode("utf-8")
    if not text or text.isspace():
        raise BadInput(f"{path.name} 是空文件（没有表头行）", f"{path.name} is empty (no header row)")
    try:
        frame = pl.read_csv(io.BytesIO(payload), has_header=False, separator=delimiter,
                            infer_schema=False, truncate_ragged_lines=False)
    except Exception:  # noqa: BLE001 - polars' message names neither the row nor the language: find the row ourselves
        frame = _python_rows(text, delimiter, path.name)
    headers = ["" if v is None else str(v) for v in frame.row(0)]
    check_header(headers, path.name)
    return headers, frame.slice(1)


def _python_rows(text: str, delimiter: str, name: str) -> pl.DataFrame:
    """The rows by Python's csv module (strict quoting), when polars refused the file; or ``BadInput`` naming
    the first row that is not well-formed (1 = the header row, as the errors table numbers rows)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    width = 0
    try:
        for row in reader:
            if not rows:
                width = len(row)
            elif len(row) > width and any(cell.strip() for cell in row[width:]):
                raise _too_many_cells(name, len(rows) + 1, len(row), width)
            rows.append(row[:width] + [""] * (width - len(row)))
    except csv.Error:
        raise _unbalanced_quotes(name, len(rows) + 1) from None
    columns = {f"column_{j}": [r[j] or None for r in rows] for j in range(width)}
    return pl.DataFrame(columns, schema={c: pl.String for c in columns})


def raise_row_error(path: Path) -> None:
    """``BadInput`` naming the first malformed row of a UTF-8, comma-separated file (the chunked path's CSV),
    read as a stream; returns when every row is well-formed."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        width, row_number = 0, 0
        try:
            for row_number, row in enumerate(reader, start=1):
                if row_number == 1:
                    width = len(row)
                elif len(row) > width and any(cell.strip() for cell in row[width:]):
                    raise _too_many_cells(path.name, row_number, len(row), width)
        except csv.Error:
            raise _unbalanced_quotes(path.name, row_number + 1) from None


def _too_many_cells(name: str, row: int, cells: int, width: int) -> BadInput:
    return BadInput(f"{name} 第{row}行有{cells}个单元格，而表头只有{width}列（多了分隔符，或含逗号的单元格没有加引号）",
                    f"{name} row {row} has {cells} cells but the header has {width} columns (an extra separator, or a "
                    "cell with a comma that is not quoted)")


def _unbalanced_quotes(name: str, row: int) -> BadInput:
    return BadInput(f"{name} 第{row}行的引号不配对，无法确定单元格的边界；请检查该行的双引号",
                    f"{name} row {row}: unbalanced quotes, the cells cannot be told apart; check that row's double quotes")


def check_header(headers: list[str], name: str) -> None:
    """``BadInput`` when a header cell holds a line break or looks like data (a date, an amount, a credit code):
    the file has no header row, or its rows were not split (e.g. line endings not understood)."""
    for j, raw in enumerate(headers, start=1):
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        if "\n" in raw or "\r" in raw:
            raise BadInput(f"{name} 表头（第1行）第{j}列「{shown}」含换行；列名中不能有换行。请删除表头中的换行"
                           "（若整个文件都挤在表头里，请检查文件的换行符）",
                           f"{name}: header (row 1) column {j} '{shown}' holds a line break; column names cannot. Remove it "
                           "(if the whole file ended up in the header, check the file's line endings)")
        cell = normalise_text(raw).strip()
        if cell and (_DATE.match(cell) or _AMOUNT.match(cell) or _CREDIT_CODE.match(cell.upper())):
            raise BadInput(f"{name} 表头（第1行）第{j}列「{shown}」看起来是数据（日期、金额或信用代码）而不是列名："
                           "文件可能缺少表头行。请在第1行写上列名（如 统一社会信用代码、名称、所在城市）",
                           f"{name}: header (row 1) column {j} '{shown}' looks like data (a date, an amount or a credit code), "
                           "not a column name: the file may lack its header row. Put the column names (credit code, name, "
                           "city…) in row 1")


def streamable(path: Path) -> bool:
    """Whether polars' own CSV scanner reads ``path`` as ``read_csv_table`` would: UTF-8, comma-separated,
    no lone CR, a header that passes ``check_header`` without repeated names. Reads the file in blocks."""
    if path.suffix.lower() in TAB_SUFFIXES:
        return False
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = b""
    last = b""
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 24), b""):
                decoder.decode(block)
                if len(head) < 1 << 16:
                    head += block[: (1 << 16) - len(head)]
                joined = last + block
                if joined.count(b"\r") != joined.count(b"\r\n") + (1 if joined.endswith(b"\r") else 0):
                    return False
                last = block[-1:]
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    if last == b"\r":
        return False
    first = head.decode("utf-8-sig", errors="replace").split("\n", 1)[0].rstrip("\r")
    if '"' in first or first.count("\t") > first.count(","):
        return False  # quoted or tab-separated headers: leave them to the in-memory reader
    headers = first.split(",")
    try:
        check_header(headers, path.name)
    except BadInput:
        return False
    return len(set(headers)) == len(headers)
