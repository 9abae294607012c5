"""The ledger's tables (the head revision; ``migrations/versions`` builds them step by step).

Money is exact: ``amount_fen`` holds whole fen (BIGINT), never a float. One active claim per once-key and
enterprise is a database constraint: a unique index on (credit code, once-key) restricted to the statuses
approved and paid, so a rejected or revoked claim never blocks a new one, and two clerks recording at once
can never pay twice.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

STATUSES = ("approved", "paid", "rejected", "revoked")
ACTIVE = ("approved", "paid")  # a claim in one of these holds its once-key
ACTIVE_SQL = "status IN ('approved', 'paid')"

metadata = MetaData()

rounds = Table(
    "ledger_rounds", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("period_start", Date, nullable=True),
    Column("period_end", Date, nullable=True),
    Column("as_of", Date, nullable=False),
    Column("rules_fingerprint", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

claims = Table(
    "ledger_claims", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("credit_code", String(18), nullable=False),
    Column("rule_id", String(200), nullable=False),
    Column("once_key", String(400), nullable=False),
    Column("event_type", String(100), nullable=True),
    Column("event_date", Date, nullable=True),
    Column("event_ref", String(200), nullable=True),
    Column("amount_fen", BigInteger, nullable=True),  # null: a support measure with no stated amount
    Column("status", String(16), nullable=False),
    Column("round_id", Integer, ForeignKey("ledger_rounds.id"), nullable=False),
    Column("operator", Text, nullable=True),
    Column("note", Text, nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('approved', 'paid', 'rejected', 'revoked')", name="ck_ledger_claims_status"),
    CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="ck_ledger_claims_amount"),
)

Index("uq_ledger_claims_active_once_key", claims.c.credit_code, claims.c.once_key, unique=True,
      sqlite_where=claims.c.status.in_(ACTIVE), postgresql_where=claims.c.status.in_(ACTIVE))
Index("ix_ledger_claims_round", claims.c.round_id)
