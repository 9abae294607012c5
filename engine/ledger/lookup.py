"""``engine.claims.ClaimLookup`` over the ledger database: what evaluation asks a ledger.

``claims_frame`` is one query over every active claim, read column by column into polars (the batch joins
it on credit code and once-key); ``claims_for`` is one query for a handful of enterprises (``huiqi evaluate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import polars as pl
from sqlalchemy import Engine, String, cast, select

from engine.claims import PaidClaim, claim_columns
from engine.ledger.db import connect
from engine.ledger.read import claims_frame
from engine.ledger.schema import ACTIVE, claims, rounds

RECORDED_AT = "%Y-%m-%dT%H:%M:%S%.6fZ"  # ISO 8601, UTC, sortable as text


class DatabaseClaims:
    """The approved and paid claims of a ledger database."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def claims_frame(self) -> pl.DataFrame:
        """Every active claim: one query, timestamps read as text (parsing 500,000 datetimes in Python would
        cost more than the batch's join), rows straight into polars."""
        query = (select(claims.c.credit_code, claims.c.once_key, claims.c.rule_id, claims.c.amount_fen, claims.c.status,
                        rounds.c.name, cast(claims.c.recorded_at, String))
                 .join(rounds, rounds.c.id == claims.c.round_id).where(claims.c.status.in_(ACTIVE)))
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        columns = claim_columns()
        frame = pl.DataFrame(rows, schema=list(columns), orient="row") if rows else pl.DataFrame(schema=columns)
        return frame.with_columns(pl.col("amount_fen").fill_null(0), _iso_utc(pl.col("recorded_at"))).cast(columns)

    def claims_for(self, credit_codes: Iterable[str]) -> dict[str, list[PaidClaim]]:
        codes = sorted(set(credit_codes))
        if not codes:
            return {}
        frame = claims_frame(self.engine, codes, active_only=True)
        found: dict[str, list[PaidClaim]] = {}
        for row in frame.with_columns(pl.col("recorded_at").dt.strftime(RECORDED_AT)).iter_rows(named=True):
            found.setdefault(row["credit_code"], []).append(PaidClaim(
                credit_code=row["credit_code"], once_key=row["once_key"], rule_id=row["rule_id"],
                amount=Decimal(row["amount_fen"] or 0).scaleb(-2), status=row["status"], round_name=row["round"],
                period_start=row["period_start"], period_end=row["period_end"], recorded_at=row["recorded_at"]))
        return found


def _iso_utc(text: pl.Expr) -> pl.Expr:
    """A database timestamp as text ("2026-03-01 09:30:00.5", PostgreSQL adds "+00") → RECORDED_AT's form."""
    bare = text.str.replace(r"\+00(:00)?$", "").str.replace(" ", "T", literal=True)
    whole = pl.when(bare.str.contains(".", literal=True)).then(bare).otherwise(pl.concat_str([bare, pl.lit(".")]))
    return pl.concat_str([whole.str.split(".").list.get(0), pl.lit("."),
                          whole.str.split(".").list.get(1).str.pad_end(6, "0"), pl.lit("Z")])


def open_lookup(url: str) -> DatabaseClaims:
    """The lookup for ``--ledger URL``; refuses a ledger that is not initialised or not at this schema."""
    from engine.ledger.migrate import require_current

    engine = connect(url)
    require_current(engine)
    return DatabaseClaims(engine)
