"""Control characters in cells: refused, never passed on, never silently dropped.

A cell of a recognised column that holds a C0 control character other than tab, line feed and carriage return
(U+0000–U+0008, U+000B, U+000C, U+000E–U+001F), DEL (U+007F) or a C1 control character (U+0080–U+009F) is an
error on that cell, in every input format. Why refuse rather than strip: such characters are never typed by a
clerk; they come from a broken export (a UTF-16 file read as bytes, a truncated field, a binary column), so the
cell's true value is unknown, and stripping would silently change a name, a reference or a code (which could
then match another entity or event). The row is reported, not evaluated, and the clerk fixes the source; the
errors table shows the character as ``[U+0000]`` so that no output file ever holds it.
"""

from __future__ import annotations

import re

import polars as pl

CONTROL_CODES = (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))
_CHARS = [chr(c) for c in CONTROL_CODES]
_PATTERN = re.compile("[" + "".join(re.escape(c) for c in _CHARS) + "]")


def control_cells(raw: pl.Series) -> pl.Series | None:
    """Mask of the text cells holding a control character; None when there is none (the common case)."""
    if raw.dtype == pl.String:
        mask = raw.str.contains_any(_CHARS).fill_null(False)
    elif raw.dtype == pl.Object:
        mask = pl.Series([isinstance(v, str) and _PATTERN.search(v) is not None for v in raw.to_list()], dtype=pl.Boolean)
    else:
        return None
    return mask if mask.any() else None


def visible(text: str) -> str:
    """``text`` with every control character shown as ``[U+XXXX]`` (for the errors table and messages)."""
    return _PATTERN.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def messages(raw: pl.Series, mask: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Chinese and English error messages for the masked cells, naming the first control character of each."""
    zh, en = [], []
    for value in raw.filter(mask).to_list():
        match = _PATTERN.search(str(value))
        code = f"U+{ord(match.group()):04X}" if match else "?"
        position = match.start() + 1 if match else 0
        zh.append(f"单元格含不可见的控制字符 {code}（第{position}个字符），多为导出错误；该值未使用，请删除该字符后重新运行")
        en.append(f"the cell holds the invisible control character {code} (character {position}), usually an export "
                  "fault; the value was not used: remove the character and run again")
    return pl.Series(zh, dtype=pl.String), pl.Series(en, dtype=pl.String)
