"""Exact money arithmetic on Int64 fen columns, and the yuan/rate texts of ``engine.money``, vectorised.

No float anywhere: a rate is an integer numerator over 10^k, and ``base × rate`` is rounded half-up to
the fen with integer arithmetic split so that nothing overflows Int64.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import polars as pl

from engine.money import to_fen


def rate_parts(rate: Decimal, k: int) -> int:
    """The numerator of ``rate`` over 10^k (k chosen so that it is whole)."""
    scaled = Decimal(rate).scaleb(k)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"rate {rate} needs more than {k} decimals")
    return int(scaled)


def decimals_of(values: list[Decimal]) -> int:
    """Decimal places needed to hold every value exactly."""
    return max((max(0, -Decimal(v).normalize().as_tuple().exponent) for v in values), default=0)


def times_rate(base_fen: pl.Expr, numerator: pl.Expr, k: int) -> pl.Expr:
    """round_half_up(base_fen × numerator / 10^k) for non-negative values, exactly, without overflow."""
    unit = 10 ** k
    high = base_fen // unit
    low = base_fen % unit
    return high * numerator + (2 * low * numerator + unit) // (2 * unit)


def fen_of(value: Decimal) -> int:
    """``to_fen(value)`` in fen."""
    return int(to_fen(Decimal(value)).scaleb(2))


def fen_or_none(value: Decimal | None) -> int | None:
    """``fen_of`` that passes None through (an engine amount that is not stated)."""
    return None if value is None else fen_of(value)


def plain_yuan(fen: int | None) -> str:
    """A whole number of fen as exact yuan text without separators (None counts as 0): 1234567 → "12345.67"."""
    fen = int(fen or 0)
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def floor_fen(value: Decimal) -> int:
    """floor(value × 100): ``amount_fen > floor_fen(cap)`` ⟺ ``amount > cap`` for whole-fen amounts."""
    return int(Decimal(value).scaleb(2).to_integral_value(rounding=ROUND_FLOOR))


_PLAIN = pl.Series([str(i) for i in range(1000)], dtype=pl.String)
_PADDED = pl.Series([f"{i:03d}" for i in range(1000)], dtype=pl.String)
_CENTS = pl.Series([f"{i:02d}" for i in range(100)], dtype=pl.String)


def yuan_text(fen: pl.Expr) -> pl.Expr:
    """``format_yuan``: 1234567 fen → "12,345.67" (non-negative amounts).

    Thousands groups by integer arithmetic and lookups of "0"…"999" / "000"…"999" (3× faster than a
    regex over the reversed digits); Int64 fen has at most 17 yuan digits, so six groups.
    """
    whole = fen // 100
    groups = [pl.when(whole >= 10 ** 15).then((whole // 10 ** 15).cast(pl.String))]
    for k in range(4, -1, -1):
        group = (whole // 10 ** (3 * k)) % 1000
        leading = whole >= 10 ** (3 * k) if k else pl.lit(True)
        groups.append(pl.when(whole >= 10 ** (3 * k + 3)).then(pl.lit(_PADDED).gather(group))
                      .when(leading).then(pl.lit(_PLAIN).gather(group)))
    grouped = pl.concat_str(groups, separator=",", ignore_nulls=True)
    return pl.concat_str([grouped, pl.lit("."), pl.lit(_CENTS).gather(fen % 100)])


def fen_to_decimal_text(fen: pl.Expr) -> pl.Expr:
    """1234567 fen → "12345.67" (exact, no thousands separators), for CSV/JSON/Parquet."""
    return pl.concat_str([(fen // 100).cast(pl.String), pl.lit("."), (fen % 100).cast(pl.String).str.zfill(2)])
