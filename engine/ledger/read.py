"""Reading the ledger: one query per call, into polars for the batch, into rows for ``ledger show``/``export``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Engine, select

from engine.ledger.migrate import require_current
from engine.ledger.schema import ACTIVE, claims, rounds

CLAIM_SCHEMA = {
    "credit_code": pl.String, "once_key": pl.String, "rule_id": pl.String, "event_type": pl.String, "event_date": pl.Date,
    "event_ref": pl.String, "amount_fen": pl.Int64, "status": pl.String, "round": pl.String, "period_start": pl.Date,
    "period_end": pl.Date, "operator": pl.String, "note": pl.String, "recorded_at": pl.Datetime("us", "UTC"),
    "updated_at": pl.Datetime("us", "UTC"),
}
ROUND_SCHEMA = {"name": pl.String, "period_start": pl.Date, "period_end": pl.Date, "as_of": pl.Date,
                "rules_fingerprint": pl.String, "created_at": pl.Datetime("us", "UTC")}


def claims_query(credit_codes: Iterable[str] | None = None, active_only: bool = False):
    query = (select(claims.c.credit_code, claims.c.once_key, claims.c.rule_id, claims.c.event_type, claims.c.event_date,
                    claims.c.event_ref, claims.c.amount_fen, claims.c.status, rounds.c.name.label("round"),
                    rounds.c.period_start, rounds.c.period_end, claims.c.operator, claims.c.note, claims.c.recorded_at,
                    claims.c.updated_at)
             .join(rounds, rounds.c.id == claims.c.round_id)
             .order_by(claims.c.credit_code, claims.c.recorded_at, claims.c.id))
    if active_only:
        query = query.where(claims.c.status.in_(ACTIVE))
    if credit_codes is not None:
        query = query.where(claims.c.credit_code.in_(sorted(set(credit_codes))))
    return query


def claims_frame(engine: Engine, credit_codes: Iterable[str] | None = None, active_only: bool = False) -> pl.DataFrame:
    """Claim lines with their round's name and period, as one query read column by column into polars."""
    require_current(engine)
    with engine.connect() as connection:
        rows = connection.execute(claims_query(credit_codes, active_only)).all()
    return _frame(rows, CLAIM_SCHEMA)


def rounds_frame(engine: Engine) -> pl.DataFrame:
    require_current(engine)
    with engine.connect() as connection:
        rows = connection.execute(select(*(rounds.c[name] for name in ROUND_SCHEMA)).order_by(rounds.c.id)).all()
    return _frame(rows, ROUND_SCHEMA)


def _frame(rows, schema: dict) -> pl.DataFrame:
    times = [i for i, dtype in enumerate(schema.values()) if isinstance(dtype, pl.Datetime)]
    if times:  # PostgreSQL hands back aware datetimes, SQLite naive UTC ones
        rows = [tuple(_naive_utc(v) if i in times else v for i, v in enumerate(row)) for row in rows]
    naive = {name: (pl.Datetime("us") if isinstance(dtype, pl.Datetime) else dtype) for name, dtype in schema.items()}
    frame = pl.DataFrame(rows, schema=naive, orient="row") if rows else pl.DataFrame(schema=naive)
    return frame.with_columns([pl.col(name).dt.replace_time_zone("UTC") for i, name in enumerate(schema) if i in times])


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)
