"""the PQA cycle: versions of stories and actions, curve decisions, exception decisions, closed quarters,
critical messages, report cards, evidence, information sources and their versions

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("curve_story", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("replaces_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("action_plan_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("how_we_know", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("completed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("updated_by", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("rebase_decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=True))
    with op.batch_alter_table("return_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commentary", sa.Text(), nullable=True))
    op.create_table(
        "action_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("how_we_know", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["action_plan_item.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_update", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_update_action_id"), ["action_id"], unique=False)
    op.create_table(
        "curve_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("tolerance", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("curve_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_curve_decision_indicator_id"), ["indicator_id"], unique=False)
    op.create_table(
        "exception_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.String(length=60), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("settle_with", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("exception_decision", schema=None) as batch_op:
        batch_op.create_index("ix_exception_decision_period", ["period", "indicator_id"], unique=False)
    op.create_table(
        "quarter_close",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("closed_by", sa.String(length=120), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period"),
    )


    def who() -> list:
        return [sa.Column("version", sa.Integer(), nullable=False),
                sa.Column("created_by", sa.String(length=120), nullable=False),
                sa.Column("created_at", sa.DateTime(), nullable=False),
                sa.Column("updated_by", sa.String(length=120), nullable=True),
                sa.Column("updated_at", sa.DateTime(), nullable=True)]

    op.create_table(
        "critical_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=60), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=120), nullable=True),
        sa.Column("bmg_meeting", sa.Date(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("action", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=120), nullable=True),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("indicators", sa.String(length=500), nullable=False),
        *who(),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("critical_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_critical_message_group_id"), ["group_id"], unique=False)
    op.create_table(
        "report_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=60), nullable=False),
        sa.Column("meeting_on", sa.Date(), nullable=False),
        sa.Column("activity", sa.Text(), nullable=True),
        sa.Column("data_story", sa.Text(), nullable=True),
        sa.Column("data_challenges", sa.Text(), nullable=True),
        sa.Column("priority_activity", sa.Text(), nullable=False),
        sa.Column("difference", sa.Text(), nullable=True),
        sa.Column("how_we_know", sa.Text(), nullable=True),
        *who(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("group_id", "meeting_on", name="uq_report_card"),
    )
    with op.batch_alter_table("report_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_card_group_id"), ["group_id"], unique=False)
    op.create_table(
        "evidence_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("found_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("priorities", sa.String(length=500), nullable=False),
        sa.Column("indicators", sa.String(length=500), nullable=False),
        *who(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "information_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=False),
        sa.Column("frequency", sa.String(length=60), nullable=False),
        sa.Column("last_received", sa.Date(), nullable=True),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "record_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("record_version", schema=None) as batch_op:
        batch_op.create_index("ix_record_version_record", ["kind", "record_id"], unique=False)


def downgrade() -> None:
    for table in ("record_version", "information_source", "evidence_item", "report_card", "critical_message"):
        op.drop_table(table)
    op.drop_table("quarter_close")
    with op.batch_alter_table("exception_decision", schema=None) as batch_op:
        batch_op.drop_index("ix_exception_decision_period")
    op.drop_table("exception_decision")
    with op.batch_alter_table("curve_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_curve_decision_indicator_id"))
    op.drop_table("curve_decision")
    with op.batch_alter_table("action_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_update_action_id"))
    op.drop_table("action_update")
    with op.batch_alter_table("return_version", schema=None) as batch_op:
        batch_op.drop_column("commentary")
    with op.batch_alter_table("rebase_decision", schema=None) as batch_op:
        batch_op.drop_column("source")
    with op.batch_alter_table("action_plan_item", schema=None) as batch_op:
        for c in ("updated_at", "updated_by", "version", "completed_on", "how_we_know"):
            batch_op.drop_column(c)
    with op.batch_alter_table("curve_story", schema=None) as batch_op:
        batch_op.drop_column("replaces_id")
        batch_op.drop_column("period")
