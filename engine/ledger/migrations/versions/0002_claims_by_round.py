"""Index claim lines by round: ``ledger export`` and ``ledger show --round`` read a round's lines.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ledger_claims_round", "ledger_claims", ["round_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_claims_round", table_name="ledger_claims")
