"""Unified Social Credit Code (统一社会信用代码, GB 32100-2015).

18 characters from a 31-character alphabet (no I, O, S, V, Z); the 18th is a check character over the
first 17 with weights 3^(i-1) mod 31. Some early pilot codes are legitimate yet fail the check, so a
bad check character is a warning, never a rejection; a wrong length or a foreign character is an error.

Positions 3–8 hold the registering office's division code at issue time and are never updated, so
nothing here infers a city from a code.
"""

from __future__ import annotations

from typing import Any

from engine.textnorm import ParseError, normalise_text

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "WEIGHTS",
    "check_character",
    "has_valid_check",
    "is_well_formed",
    "normalise_credit_code",
    "validate_credit_code",
]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CODE_LENGTH = 18
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, ...
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}


def normalise_credit_code(s: str) -> str:
    """Full-width → ASCII, upper-case, and drop all whitespace (codes contain none; copies often do)."""
    if not isinstance(s, str):
        raise ParseError(
            f"统一社会信用代码应为文本，实际为 {type(s).__name__}",
            f"a credit code must be text, got {type(s).__name__}",
            s,
        )
    return "".join(normalise_text(s).upper().split())


def is_well_formed(code: str) -> bool:
    """18 characters, all from the code alphabet. Does not normalise and does not check the 18th."""
    return isinstance(code, str) and len(code) == CODE_LENGTH and all(c in _VALUE for c in code)


def check_character(code17: str) -> str:
    """The check character for the first 17 characters (upper-case ASCII from the alphabet)."""
    if not isinstance(code17, str) or len(code17) != CODE_LENGTH - 1 or any(c not in _VALUE for c in code17):
        raise ParseError(
            f"计算校验位需要17位有效字符，收到 {code17!r}",
            f"computing a check character needs 17 valid characters, got {code17!r}",
            code17,
        )
    total = sum(_VALUE[c] * w for c, w in zip(code17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def has_valid_check(code: str) -> bool:
    """True when ``code`` is well-formed and its 18th character matches the computed check character."""
    return is_well_formed(code) and check_character(code[:17]) == code[17]


def _bad_characters(code: str) -> list[tuple[int, str]]:
    return [(i, c) for i, c in enumerate(code, start=1) if c not in _VALUE]


def validate_credit_code(s: Any) -> tuple[str, str | None]:
    """Return (normalised code, warning or None).

    Raises ``ParseError`` when the code is empty, has the wrong length or contains characters outside
    the alphabet. A failing check character only yields a bilingual warning naming the expected one.
    """
    if s is None:
        raise ParseError("统一社会信用代码为空", "credit code is empty", s)
    code = normalise_credit_code(s)
    if not code:
        raise ParseError("统一社会信用代码为空", "credit code is empty", s)
    if len(code) != CODE_LENGTH:
        raise ParseError(
            f"统一社会信用代码应为18位，实际为{len(code)}位：{code}",
            f"a credit code has 18 characters, this one has {len(code)}: {code}",
            s,
        )
    bad = _bad_characters(code)
    if bad:
        where = "、".join(f"第{i}位“{c}”" for i, c in bad)
        where_en = ", ".join(f"position {i} {c!r}" for i, c in bad)
        raise ParseError(
            f"统一社会信用代码含非法字符：{where}（只允许数字和 {ALPHABET[10:]}，不使用 I、O、S、V、Z）",
            f"credit code has invalid characters: {where_en} "
            f"(only digits and {ALPHABET[10:]} are used; never I, O, S, V or Z)",
            s,
        )
    expected = check_character(code[:17])
    if code[17] == expected:
        return code, None
    warning = (
        f"统一社会信用代码 {code} 校验位不符：应为“{expected}”，实际为“{code[17]}”"
        "（早期试点代码可能如此，请核对） / "
        f"credit code {code} fails its check: expected check character {expected!r}, found {code[17]!r} "
        "(some early pilot codes do; please verify)"
    )
    return code, warning
