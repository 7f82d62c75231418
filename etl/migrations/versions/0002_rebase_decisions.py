"""rebase decisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:40:48.225160
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rebase_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.String(length=60), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("indicator_id", "period", name="uq_rebase_decision"),
    )
    with op.batch_alter_table("rebase_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rebase_decision_indicator_id"), ["indicator_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("rebase_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rebase_decision_indicator_id"))

    op.drop_table("rebase_decision")
