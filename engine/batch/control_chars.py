"""Control characters in cells: refused, never passed on, never silently dropped.

A cell of a recognised column that holds a C0 control character other than tab, line feed and carriage return
(U+0000–U+0008, U+000B, U+000C, U+000E–U+001F), DEL (U+007F) or a C1 control character (U+0080–U+009F) is an
error on that cell, in every input format. Why refuse rather than strip: such characters are never typed by a
clerk; they come from a broken export (a UTF-16 file read as bytes, a truncated field, a binary column), so the
cell's true value is unknown, and stripping would silently change a name, a reference or a code (which could
then match another entity or event). The row is reported, not evaluated, and the clerk fixes the source; the
errors table shows the character as ``[U+0000]`` so that no output file ever holds it. A cell that is blank
apart from characters Python counts as spaces (U+001C–U+001F, U+0085…) is blank, as ``parse_profile`` reads it.
"""

from __future__ import annotations

import re

CONTROL_CODES = (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))
_CHARS = [chr(c) for c in CONTROL_CODES]
_PATTERN = re.compile("[" + "".join(re.escape(c) for c in _CHARS) + "]")


def visible(text: str) -> str:
    """``text`` with every control character shown as ``[U+XXXX]`` (for the errors table and messages)."""
    return _PATTERN.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def control_error(text: str) -> tuple[str, str] | None:
    """(zh, en) error for a cell holding a control character, naming the first one; None for a clean cell."""
    match = _PATTERN.search(text)
    if match is None:
        return None
    code, position = f"U+{ord(match.group()):04X}", match.start() + 1
    return (f"单元格含不可见的控制字符 {code}（第{position}个字符），多为导出错误；该值未使用，请删除该字符后重新运行",
            f"the cell holds the invisible control character {code} (character {position}), usually an export fault; "
            "the value was not used: remove the character and run again")
