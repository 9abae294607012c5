"""Rounds and claim lines; one active claim per (credit code, once-key).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ACTIVE = ("approved", "paid")


def upgrade() -> None:
    op.create_table(
        "ledger_rounds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("period_start", sa.Date, nullable=True),
        sa.Column("period_end", sa.Date, nullable=True),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("rules_fingerprint", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ledger_claims",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("once_key", sa.String(400), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=True),
        sa.Column("event_date", sa.Date, nullable=True),
        sa.Column("event_ref", sa.String(200), nullable=True),
        sa.Column("amount_fen", sa.BigInteger, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("round_id", sa.Integer, sa.ForeignKey("ledger_rounds.id"), nullable=False),
        sa.Column("operator", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('approved', 'paid', 'rejected', 'revoked')", name="ck_ledger_claims_status"),
        sa.CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="ck_ledger_claims_amount"),
    )
    active = sa.column("status").in_(ACTIVE)
    op.create_index("uq_ledger_claims_active_once_key", "ledger_claims", ["credit_code", "once_key"], unique=True,
                    sqlite_where=active, postgresql_where=active)


def downgrade() -> None:
    op.drop_index("uq_ledger_claims_active_once_key", table_name="ledger_claims")
    op.drop_table("ledger_claims")
    op.drop_table("ledger_rounds")
