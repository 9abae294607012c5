"""``engine.claims.ClaimLookup`` over the ledger database: what evaluation asks a ledger.

``claims_frame`` is one query over every active claim, read column by column into polars (the batch joins
it on credit code and once-key); ``claims_for`` is one query for a handful of enterprises (``huiqi evaluate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import polars as pl
from sqlalchemy import Engine

from engine.claims import PaidClaim, claim_columns
from engine.ledger.db import connect
from engine.ledger.read import claims_frame

RECORDED_AT = "%Y-%m-%dT%H:%M:%S%.6fZ"  # ISO 8601, UTC, sortable as text


class DatabaseClaims:
    """The approved and paid claims of a ledger database."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def claims_frame(self) -> pl.DataFrame:
        frame = claims_frame(self.engine, active_only=True)
        return frame.select(
            "credit_code", "once_key", "rule_id", pl.col("amount_fen").fill_null(0), "status",
            pl.col("round").alias("round_name"), pl.col("recorded_at").dt.strftime(RECORDED_AT)).cast(claim_columns())

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


def open_lookup(url: str) -> DatabaseClaims:
    """The lookup for ``--ledger URL``; refuses a ledger that is not initialised or not at this schema."""
    from engine.ledger.migrate import require_current

    engine = connect(url)
    require_current(engine)
    return DatabaseClaims(engine)
