"""Terminal text that fits: display width with East-Asian wide characters counted as two columns, and
wrapping by that width (``textwrap`` counts characters, so a Chinese line it calls 80 wide fills 160)."""

from __future__ import annotations

import re
import unicodedata

TERMINAL_WIDTH = 80

# A run of non-space characters that are not wide (a word, a number, an id), a single wide character, or spaces.
_TOKENS = re.compile(r"[ \t]+|[^\s]")


def char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal."""
    return sum(char_width(ch) for ch in text)


def _tokens(text: str) -> list[str]:
    """Breakable pieces: spaces, words of narrow characters, and each wide character on its own."""
    out: list[str] = []
    for piece in _TOKENS.findall(text):
        narrow = not piece.isspace() and char_width(piece) == 1
        if narrow and out and not out[-1].isspace() and char_width(out[-1][-1]) == 1:
            out[-1] += piece
        else:
            out.append(piece)
    return out


def wrap(text: str, width: int = TERMINAL_WIDTH, indent: str = "", subsequent_indent: str | None = None) -> list[str]:
    """``text`` in lines of at most ``width`` columns (like ``textwrap.wrap``, by display width): breaks at
    spaces or between wide characters; a word longer than a line is cut."""
    later = indent if subsequent_indent is None else subsequent_indent
    lines: list[str] = []
    current, used = indent, display_width(indent)
    for token in _tokens(text):
        size = display_width(token)
        if token.isspace():
            if used > display_width(later if lines else indent):
                current, used = current + token, used + size
            continue
        if used + size > width and current.strip():
            lines.append(current.rstrip())
            current, used = later, display_width(later)
        while used + size > width:  # one word wider than the line: cut it
            room, cut = width - used, 0
            while cut < len(token) and display_width(token[: cut + 1]) <= room:
                cut += 1
            cut = max(cut, 1)
            lines.append(current + token[:cut])
            token, size = token[cut:], display_width(token[cut:])
            current, used = later, display_width(later)
        current, used = current + token, used + size
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


def fill(text: str, width: int = TERMINAL_WIDTH, indent: str = "", subsequent_indent: str | None = None) -> str:
    return "\n".join(wrap(text, width, indent, subsequent_indent))
