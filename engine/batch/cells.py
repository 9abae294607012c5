"""Whole columns of raw cells → typed polars columns, read exactly as ``engine.profile.parse_value`` reads a cell.

The vectorised fast paths only accept spellings that leave no doubt ("2016-05-01", "10000.50", an
18-character code with a correct check character, text that Unicode normalisation leaves unchanged).
Every other cell goes through ``parse_value`` itself, once per distinct value, so accepted formats and
error messages are the core engine's. Blank cells follow ``engine.profile._blank``.

Typed representation (what ``engine.batch.columnar`` evaluates):
text/city/enum/credit code → String; bool → Boolean; int → Int64; date → Date; enum list → List(String);
money → Int64 fen (``SCALE[MONEY]`` = 2 decimals); number → Int64 at 4 decimals. A money/number value
that has more decimals than that scale holds is flagged ``inexact``: its entity is evaluated by the
per-profile engine instead, so no value is ever rounded on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from engine import schema
from engine.batch.control_chars import control_error
from engine.credit_code import ALPHABET, WEIGHTS
from engine.profile import _blank, parse_value
from engine.textnorm import MAX_AMOUNT_YUAN, ParseError

SCALE = {schema.MONEY: 2, schema.NUMBER: 4, schema.INT: 0}
MAX_AMOUNT_FEN = int(MAX_AMOUNT_YUAN) * 100  # parse_amount's limit, in fen

# Text that NFKC normalisation, invisible-character removal and space collapsing leave unchanged.
_SAFE = r"[\x21-\x7E\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{3001}\x{3002}\x{300A}-\x{300F}\x{2018}\x{2019}\x{201C}\x{201D}\x{00B7}\x{2014}]"
_TEXT_OK = rf"^{_SAFE}+(?: {_SAFE}+)*$"
_CODE_OK = rf"^[{ALPHABET}]{{18}}$"  # GB 32100-2015 characters (ALPHABET holds no regex metacharacter)
# ASCII digits only: the regex engine's \d also matches full-width digits, which only parse_value reads.
_DECIMAL = {2: r"^[0-9]{1,13}(?:\.[0-9]{1,2})?$", 4: r"^[0-9]{1,11}(?:\.[0-9]{1,4})?$"}
_INT_OK = r"^[0-9]{1,15}$"
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# Characters that may vanish (or merge into a neighbour) in normalise_text: whitespace incl. Python's
# \x1c-\x1f, separators, format characters (zero-width space, BOM…) and combining marks.
_IGNORABLE = r"[\s\x1c-\x1f\p{Z}\p{Cf}\p{M}]"


@dataclass
class Parsed:
    """A parsed column: ``values`` null where blank or bad; ``error_zh``/``error_en`` set where bad."""

    values: pl.Series
    blank: pl.Series
    error_zh: pl.Series
    error_en: pl.Series
    inexact: pl.Series
    warning: pl.Series


def dtype_for(spec: schema.FieldSpec) -> pl.DataType:
    kind = spec.kind
    if kind == schema.BOOL:
        return pl.Boolean()
    if kind in (schema.INT, schema.NUMBER, schema.MONEY):
        return pl.Int64()
    if kind == schema.DATE:
        return pl.Date()
    if kind == schema.ENUM_LIST:
        return pl.List(pl.String)
    return pl.String()


def constant(value, n: int, dtype: pl.DataType) -> pl.Series:
    """``n`` copies of ``value`` (built natively: a Python list of a million Nones is slow)."""
    return pl.repeat(value, n, dtype=dtype, eager=True)


def blank_mask(raw: pl.Series) -> pl.Series:
    """Cells ``parse_profile`` skips as empty: null, or text such as "", "-", "—", "/", "N/A", "无数据"."""
    if raw.dtype == pl.Object:
        return pl.Series([_blank(v) for v in raw.to_list()], dtype=pl.Boolean)
    if raw.dtype != pl.String:
        return raw.is_null()
    # A superset of the cells whose ``normalise_text`` is one of _blank's spellings (at most 3 characters):
    # drop every character NFKC or ``normalise_text`` may remove (spaces, format/invisible characters,
    # combining marks) and keep what is still short; ``_blank`` itself then decides, once per distinct value.
    short = raw.str.replace_all(_IGNORABLE, "").str.len_chars() <= 4
    candidates = raw.filter(short.fill_null(False)).unique()
    blanks = [v for v in candidates.to_list() if v is not None and _blank(v)]
    return (raw.is_null() | raw.is_in(blanks)).fill_null(True) if blanks else raw.is_null()


def parse_column(spec: schema.FieldSpec, raw: pl.Series, check: bool = True) -> Parsed:
    """Parse every cell of ``raw`` for ``spec``. ``check=False``: skip credit-code check characters (a
    bad one is only a warning; event rows use the code just to find their enterprise)."""
    n = len(raw)
    if raw.dtype != pl.Object and n and raw.null_count() > n // 4:
        # A sparse column (an event field most event types lack): parse the filled cells, then spread back.
        present = raw.is_not_null()
        part = parse_column(spec, raw.filter(present), check)
        at = present.arg_true()
        return Parsed(_spread(part.values, at, n, None), _spread(part.blank, at, n, True), _spread(part.error_zh, at, n, None),
                      _spread(part.error_en, at, n, None), _spread(part.inexact, at, n, False), _spread(part.warning, at, n, None))
    fast_values, fast_ok = _fast(spec, raw, check)
    if fast_ok is None and raw.dtype != pl.Object:
        return _by_value(spec, raw)
    blank = blank_mask(raw)
    if fast_ok is None:
        fast_ok = constant(False, n, pl.Boolean())
        fast_values = constant(None, n, dtype_for(spec))
    fast_ok = (fast_ok.fill_null(False) & ~blank & fast_values.is_not_null()).alias("ok")
    need = ~blank & ~fast_ok
    values = fast_values.cast(dtype_for(spec)).set(~fast_ok, None) if n else fast_values.cast(dtype_for(spec))
    error_zh = constant(None, n, pl.String())
    error_en = constant(None, n, pl.String())
    inexact = constant(False, n, pl.Boolean())
    warning = constant(None, n, pl.String())
    if need.any():
        py = _python(spec, raw.filter(need))
        index = (need.cast(pl.Int64).cum_sum() - 1).set(~need, None).cast(pl.UInt32)
        full = [s.gather(index) for s in py]
        values = values.zip_with(fast_ok, full[0])
        error_zh, error_en, warning = full[1], full[2], full[4]
        inexact = full[3].fill_null(False)
    return Parsed(values, blank, error_zh, error_en, inexact, warning)


def _spread(part: pl.Series, at: pl.Series, n: int, fill: bool | None) -> pl.Series:
    """An ``n``-long column of ``fill`` with ``part`` scattered to positions ``at`` (a sparse column's parsed cells)."""
    if fill is None and part.null_count() == len(part):
        return constant(None, n, part.dtype)  # nothing to place: the common case for errors and warnings
    if fill is not None and part.null_count() == 0 and bool((part == fill).all()):
        return constant(fill, n, part.dtype)
    if isinstance(part.dtype, pl.List):  # scatter takes scalars only
        index = constant(None, n, pl.UInt32()).scatter(at, pl.int_range(0, len(part), eager=True, dtype=pl.UInt32))
        return part.gather(index)
    return constant(fill, n, part.dtype).scatter(at, part)


def _by_value(spec: schema.FieldSpec, raw: pl.Series) -> Parsed:
    """Blank test and parse_value once per distinct value (enums, cities, yes/no: few distinct values)."""
    uniques = raw.unique(maintain_order=True)
    results = [(None, None, None, False, None, True) if v is None or _blank(v) else (*_one(spec, v), False)
               for v in uniques.to_list()]
    columns = list(zip(*results)) if results else [[]] * 6
    typed = (*_series_of(spec, columns[:5]), pl.Series(list(columns[5]), dtype=pl.Boolean))
    index = raw.replace_strict(uniques, pl.int_range(0, len(uniques), eager=True, dtype=pl.UInt32),
                               default=None, return_dtype=pl.UInt32)
    if index.null_count() > raw.null_count():  # e.g. NaN keys
        return parse_column(spec, pl.Series(raw.to_list(), dtype=pl.Object))
    if raw.null_count():
        index = index.fill_null(_null_position(uniques))
    values, zh, en, inexact, warning, blank = (s.gather(index) for s in typed)
    return Parsed(values, blank, zh, en, inexact, warning)


def _null_position(uniques: pl.Series) -> int:
    return int(uniques.is_null().arg_true()[0])


# -- the per-value path (parse_value itself) --------------------------------------------------------

def _python(spec: schema.FieldSpec, raw: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series, pl.Series, pl.Series]:
    """parse_value once per distinct value; results mapped back to every cell."""
    if raw.dtype == pl.Object:
        cells = raw.to_list()
        cache: dict[Any, tuple] = {}
        out = []
        for value in cells:
            key = (type(value).__name__, repr(value))
            if key not in cache:
                cache[key] = _one(spec, value)
            out.append(cache[key])
        columns = list(zip(*out)) if out else [[], [], [], [], []]
        return _series_of(spec, columns)
    uniques = raw.unique(maintain_order=True)
    results = [_one(spec, v) for v in uniques.to_list()]
    columns = list(zip(*results)) if results else [[], [], [], [], []]
    typed = _series_of(spec, columns)
    index = raw.replace_strict(uniques, pl.int_range(0, len(uniques), eager=True, dtype=pl.UInt32),
                               default=None, return_dtype=pl.UInt32)
    if index.null_count() > raw.null_count():  # e.g. NaN keys: map cell by cell instead
        return _python(spec, pl.Series(raw.to_list(), dtype=pl.Object))
    return tuple(s.gather(index) for s in typed)  # type: ignore[return-value]


def _series_of(spec: schema.FieldSpec, columns) -> tuple[pl.Series, ...]:
    values, zh, en, inexact, warning = columns
    return (pl.Series(list(values), dtype=dtype_for(spec)), pl.Series(list(zh), dtype=pl.String),
            pl.Series(list(en), dtype=pl.String), pl.Series(list(inexact), dtype=pl.Boolean),
            pl.Series(list(warning), dtype=pl.String))


def _one(spec: schema.FieldSpec, value: Any) -> tuple[Any, str | None, str | None, bool, str | None]:
    """(typed value, error zh, error en, inexact, warning) for one cell, via parse_value.

    A cell holding a control character is an error whatever the field (``engine.batch.control_chars``). It is
    checked here, on the per-value path, because no vectorised fast path accepts such a cell: clean columns
    pay nothing. (A cell that is blank apart from characters Python counts as spaces, e.g. U+001C, stays blank,
    as ``parse_profile`` reads it.)"""
    if isinstance(value, str):
        refused = control_error(value)
        if refused is not None:
            return None, refused[0], refused[1], False, None
    try:
        parsed = parse_value(spec, value)
    except ParseError as exc:
        return None, exc.message_zh, exc.message_en, False, None
    warning = None
    if spec.kind == schema.CREDIT_CODE:
        parsed, warning = parsed
    if spec.kind in SCALE:
        scaled, exact = to_scaled(Decimal(parsed), SCALE[spec.kind])
        if abs(scaled) >= 2 ** 62:  # beyond Int64: the per-profile engine takes this entity
            return None, None, None, True, warning
        return scaled, None, None, not exact, warning
    if spec.kind == schema.ENUM_LIST:
        parsed = list(parsed)
    return parsed, None, None, False, warning


def to_scaled(value: Decimal, scale: int) -> tuple[int, bool]:
    """``value`` × 10^scale as an int, and whether that is exact."""
    shifted = value.scaleb(scale)
    whole = int(shifted)
    return whole, shifted == whole


# -- vectorised fast paths -------------------------------------------------------------------------

def _fast(spec: schema.FieldSpec, raw: pl.Series, check: bool = True) -> tuple[pl.Series | None, pl.Series | None]:
    kind, dtype = spec.kind, raw.dtype
    if dtype == pl.Object:
        return None, None
    if kind == schema.TEXT and dtype == pl.String:
        ok = raw.str.contains(_TEXT_OK) & (raw.str.len_chars() <= 500)
        return raw, ok
    if kind == schema.CREDIT_CODE and dtype == pl.String:
        well_formed = raw.str.contains(_CODE_OK)
        return raw, _check_ok(raw, well_formed) if check else well_formed
    if kind in (schema.MONEY, schema.NUMBER):
        return _fast_decimal(raw, SCALE[kind])
    if kind == schema.INT:
        if dtype == pl.String:
            ok = raw.str.contains(_INT_OK)
            return raw.str.to_integer(strict=False).cast(pl.Int64), ok
        if dtype.is_integer():
            return raw.cast(pl.Int64, strict=False), raw >= 0
        if dtype.is_float():
            ok = raw.is_finite() & (raw >= 0) & (raw <= 1e15) & (raw == raw.round(0))
            return raw.round(0).cast(pl.Int64, strict=False), ok
        return None, None
    if kind == schema.DATE:
        if dtype == pl.Date:
            return raw, raw.is_not_null()
        if isinstance(dtype, pl.Datetime):
            return raw.dt.date(), raw.is_not_null()
        if dtype == pl.String:
            parsed = raw.str.to_date("%Y-%m-%d", strict=False)
            return parsed, raw.str.contains(_ISO_DATE) & parsed.is_not_null()
        return None, None
    if kind == schema.BOOL and dtype == pl.Boolean:
        return raw, raw.is_not_null()
    return None, None


def _fast_decimal(raw: pl.Series, scale: int) -> tuple[pl.Series | None, pl.Series | None]:
    factor = 10 ** scale
    limit = MAX_AMOUNT_FEN // 100 * factor
    dtype = raw.dtype
    if dtype == pl.String:
        ok = raw.str.contains(_DECIMAL[scale])
        parts = raw.str.split_exact(".", 1)
        whole = parts.struct.field("field_0").str.to_integer(strict=False)
        frac = parts.struct.field("field_1").fill_null("").str.pad_end(scale, "0").str.to_integer(strict=False)
        value = whole * factor + frac.fill_null(0)
        return value.cast(pl.Int64), ok & (value <= limit)
    if dtype.is_integer():
        value = raw.cast(pl.Int64, strict=False)
        ok = (value >= 0) & (value <= limit // factor)
        return (value * factor).cast(pl.Int64), ok
    if dtype.is_float():
        return _fast_float(raw.cast(pl.Float64), factor, limit)
    return None, None


_EXACT_DIGITS = 10 ** 15  # DBL_DIG: every decimal of at most 15 significant digits has its own double


def _fast_float(raw: pl.Series, factor: int, limit: int) -> tuple[pl.Series, pl.Series]:
    """Floats whose shortest repr (what parse_value reads: Decimal(str(f))) has at most log10(factor) decimals.

    k = round(x × factor) is accepted only when k / factor, correctly rounded, is x itself. For k < 10^15
    that decimal has at most 15 significant digits, so no other decimal of as few digits maps to x: it *is*
    the shortest repr, and k is exact. Every other cell (more decimals, negative or -0.0, NaN, larger
    values) fails here and takes the exact per-value path.
    """
    n = len(raw)
    scaled = (raw * factor).round(0)
    k = scaled.cast(pl.Int64, strict=False)
    # Series ÷ Series divides per element (correctly rounded); ÷ a scalar multiplies by its rounded reciprocal.
    back = k.cast(pl.Float64) / constant(float(factor), n, pl.Float64())
    not_negative = (raw > 0) | ((raw == 0) & (constant(1.0, n, pl.Float64()) / raw > 0))  # 1 / -0.0 = -inf
    ok = raw.is_finite() & not_negative & (scaled < _EXACT_DIGITS) & (k <= limit) & (back == raw)
    return k, ok


# Alphabet index per ASCII byte (-1: not a code character), from engine.credit_code.ALPHABET itself.
_VALUE_OF_BYTE = pl.Series([ALPHABET.find(chr(b)) for b in range(256)], dtype=pl.Int32)


def _byte_value(byte: pl.Expr) -> pl.Expr:
    """Alphabet index of a byte of a well-formed code (``ALPHABET.index``), by table lookup."""
    return pl.lit(_VALUE_OF_BYTE).gather(byte)


def _check_ok(raw: pl.Series, well_formed: pl.Series) -> pl.Series:
    """Whether the 18th character is the GB 32100-2015 check character (false where not well formed).

    One pass over the codes' bytes (18 ASCII bytes each, viewed as a fixed-size array), not 18 string slices.
    """
    well_formed = well_formed.fill_null(False)
    codes = raw.filter(well_formed).cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, 18))
    byte = pl.col("b").arr.get
    total = pl.sum_horizontal([_byte_value(byte(i)) * w for i, w in enumerate(WEIGHTS)])
    match = pl.DataFrame({"b": codes}).select(((31 - total % 31) % 31 == _byte_value(byte(17))).alias("ok")).to_series()
    if len(match) == len(raw):
        return match
    return constant(False, len(raw), pl.Boolean()).scatter(well_formed.arg_true(), match)
