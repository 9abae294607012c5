"""Bounds checked on an .xlsx before any spreadsheet library opens it.

An .xlsx is a zip of XML. Two kinds of small file can exhaust memory in the reader (python-calamine):

* a zip bomb: a few kilobytes that inflate to gigabytes of XML;
* a sparse sheet: two cells, at A1 and XFD1048576, make calamine allocate the dense 1,048,576 × 16,384
  grid between them (about 550 GB); the Rust allocator then aborts the whole process, uncatchably.

``check_xlsx`` streams every XML member once (never holding more than one chunk), counts the bytes that
really come out (the sizes a zip header declares can be forged), and follows the ``<row>``/``<c>`` tags
to find each sheet's bounding box of cells, exactly as a reader places them (explicit ``r="B7"``
references, or the next position when a tag has none). Anything over a bound raises ``XlsxTooLarge``
with a plain bilingual message. Formulas are never evaluated anywhere: calamine reads the value Excel
stored with the formula (nothing when none was stored).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

MAX_FILE_BYTES = 200_000_000  # the .xlsx itself
MAX_UNCOMPRESSED_BYTES = 2_000_000_000  # all XML inside it, as really inflated
MAX_CELLS = 30_000_000  # rows × columns of one sheet's cell area (what the reader allocates)
_CHUNK = 1 << 20

_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c)([\s/][^>]*)?>")
_R = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]*)(\d*)["']""")
# Every row/cell opening tag, with its r="B7" (cell) or r="7" (row) reference when it has one; ("", "") when not.
_REF = re.compile(rb"""<(?:[\w.-]+:)?(?:c|row)(?=[\s/>])(?:[^>]*?\sr\s*=\s*["']([A-Za-z]{0,3})(\d{1,7})|)""")


class XlsxTooLarge(Exception):
    def __init__(self, message_zh: str, message_en: str):
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} / {message_en}")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ch - 64)
    return n


class _Box:
    """Bounding box of cell positions in one sheet, following reader placement rules."""

    def __init__(self) -> None:
        self.row = 0
        self.col = 0
        self.min_row = self.min_col = None
        self.max_row = self.max_col = 0

    def tag(self, name: bytes, attrs: bytes | None) -> None:
        ref = _R.search(attrs) if attrs else None
        if name == b"row":
            self.row = int(ref.group(2)) if ref and ref.group(2) else self.row + 1
            self.col = 0
            return
        if ref and ref.group(1):
            self.col = _column_number(ref.group(1))
            if ref.group(2):
                self.row = int(ref.group(2))
        else:
            self.col += 1
        row = max(self.row, 1)
        self.min_row = row if self.min_row is None else min(self.min_row, row)
        self.min_col = self.col if self.min_col is None else min(self.min_col, self.col)
        self.max_row = max(self.max_row, row)
        self.max_col = max(self.max_col, self.col)

    @property
    def cells(self) -> int:
        if self.min_row is None:
            return 0
        return (self.max_row - self.min_row + 1) * (self.max_col - self.min_col + 1)


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, counter: list[int], limit: int, name: str):
    """The member's bytes in chunks that end on a tag boundary, counting what really inflates."""
    tail = b""
    with archive.open(info) as member:
        while True:
            chunk = member.read(_CHUNK)
            if not chunk:
                break
            counter[0] += len(chunk)
            if counter[0] > limit:
                raise XlsxTooLarge(f"{name}：解压后超过 {limit // 1_000_000} MB（可能是压缩炸弹或超大表格）",
                                   f"{name}: over {limit // 1_000_000} MB once unzipped (a zip bomb or an oversized workbook)")
            data = tail + chunk
            cut = data.rfind(b"<")
            if cut >= 0 and data.find(b">", cut) < 0 and len(data) - cut <= _CHUNK:
                data, tail = data[:cut], data[cut:]  # an unfinished tag waits for the next chunk
            else:
                tail = b""
            yield data
    if tail:
        yield tail


def check_xlsx(path: str | Path, *, max_file_bytes: int = MAX_FILE_BYTES,
               max_uncompressed: int = MAX_UNCOMPRESSED_BYTES, max_cells: int = MAX_CELLS) -> None:
    """Raise ``XlsxTooLarge`` when ``path`` is over a bound; return quietly otherwise.

    Not-a-zip and corrupt members are left for the reader to report in its own words.
    """
    file = Path(path)
    size = file.stat().st_size
    if size > max_file_bytes:
        raise XlsxTooLarge(f"{file.name}：文件过大（{size // 1_000_000} MB，上限 {max_file_bytes // 1_000_000} MB）",
                           f"{file.name}: file too large ({size // 1_000_000} MB; the limit is {max_file_bytes // 1_000_000} MB)")
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError):
        return
    counter = [0]  # bytes inflated so far, over all members

    def too_many(member: str, rows: tuple[int, int], cols: tuple[int, int]) -> None:
        cells = (rows[1] - rows[0] + 1) * (cols[1] - cols[0] + 1)
        if cells > max_cells:
            raise XlsxTooLarge(
                f"{file.name}：工作表 {member} 的单元格区域过大（超过 {max_cells:,} 个单元格，"
                f"如第 {rows[1]} 行、第 {cols[1]} 列有内容）",
                f"{file.name}: sheet {member} spans too many cells (over {max_cells:,}; "
                f"something is in row {rows[1]}, column {cols[1]})")

    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            xml = info.filename.lower().endswith(".xml")
            try:
                # Fast pass: every explicit reference; the exact pass only when a tag has none.
                rows = cols = None  # (min, max) so far
                implicit = False
                for data in _chunks(archive, info, counter, max_uncompressed, file.name):
                    if not xml:
                        continue
                    found = _REF.findall(data)
                    if not found:
                        continue
                    digits = {r for _, r in found}
                    if b"" in digits:  # a tag placed by position: the exact pass below follows the positions
                        implicit = True
                        digits.discard(b"")
                    new_rows = [int(r) for r in digits] or [1]
                    new_cols = [_column_number(c) for c in {c for c, _ in found} if c] or [1]
                    rows = (min(new_rows), max(new_rows)) if rows is None else (min(rows[0], *new_rows), max(rows[1], *new_rows))
                    cols = (min(new_cols), max(new_cols)) if cols is None else (min(cols[0], *new_cols), max(cols[1], *new_cols))
                    too_many(info.filename, rows, cols)
                if implicit:
                    box = _Box()
                    counter_again = [0]
                    for data in _chunks(archive, info, counter_again, max_uncompressed, file.name):
                        for match in _TAG.finditer(data):
                            box.tag(match.group(1), match.group(2))
                        if box.min_row is not None:
                            too_many(info.filename, (box.min_row, box.max_row), (box.min_col, box.max_col))
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError):
                return  # corrupt or encrypted: the reader reports it
