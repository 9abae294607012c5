"""Money is Decimal yuan, rounded half-up to the fen. Never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


def to_fen(value: Decimal) -> Decimal:
    """Round to the fen, half-up (12,345.67 × 70% = 8,641.969 → 8,641.97)."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def format_yuan(value: Decimal | None) -> str:
    """``12345.6`` → ``12,345.60``; ``None`` → ``—``."""
    if value is None:
        return "—"
    return f"{to_fen(value):,.2f}"


def format_rate(value: Decimal) -> str:
    """``0.7`` → ``70%``; ``0.125`` → ``12.5%``."""
    pct = (value * 100).normalize()
    text = format(pct, "f")
    return f"{text}%"


def format_number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
