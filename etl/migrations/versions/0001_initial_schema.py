"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 23:17:06.210562
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_plan_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.String(length=60), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action_plan_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_plan_item_indicator_id"), ["indicator_id"], unique=False)

    op.create_table(
        "area",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("geographic_level", sa.String(length=40), nullable=False),
        sa.Column("la_number", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=True),
        sa.Column("region_name", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_area_la_number"), ["la_number"], unique=False)

    op.create_table(
        "benchmark_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=120), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("values_added", sa.Integer(), nullable=False),
        sa.Column("values_changed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("benchmark_release", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_benchmark_release_dataset"), ["dataset"], unique=False)
        batch_op.create_index(batch_op.f("ix_benchmark_release_sha256"), ["sha256"], unique=False)

    op.create_table(
        "curve_story",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.String(length=60), nullable=False),
        sa.Column("story", sa.Text(), nullable=False),
        sa.Column("partners", sa.Text(), nullable=True),
        sa.Column("what_works", sa.Text(), nullable=True),
        sa.Column("baseline_frozen_at", sa.String(length=16), nullable=True),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("curve_story", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_curve_story_indicator_id"), ["indicator_id"], unique=False)

    op.create_table(
        "neighbour_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "return_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_code", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.Column("loaded_by", sa.String(length=120), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("contact", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agency_code", "period", "version", name="uq_return_version"),
    )
    with op.batch_alter_table("return_version", schema=None) as batch_op:
        batch_op.create_index("ix_return_current", ["agency_code", "period", "is_current"], unique=False)

    op.create_table(
        "benchmark_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=120), nullable=False),
        sa.Column("measure", sa.String(length=120), nullable=False),
        sa.Column("filters", sa.String(length=500), nullable=False),
        sa.Column("geographic_level", sa.String(length=40), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("area_name", sa.String(length=120), nullable=False),
        sa.Column("la_number", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=True),
        sa.Column("time_period", sa.Integer(), nullable=False),
        sa.Column("time_identifier", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("note", sa.String(length=40), nullable=True),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["benchmark_release.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "dataset",
            "measure",
            "filters",
            "area_code",
            "time_period",
            "time_identifier",
            name="uq_benchmark_value",
        ),
    )
    with op.batch_alter_table("benchmark_value", schema=None) as batch_op:
        batch_op.create_index("ix_benchmark_lookup", ["dataset", "measure", "time_period"], unique=False)

    op.create_table(
        "neighbour",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("la_number", sa.Integer(), nullable=False),
        sa.Column("la_name", sa.String(length=120), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("neighbour_la_number", sa.Integer(), nullable=False),
        sa.Column("neighbour_la_name", sa.String(length=120), nullable=False),
        sa.Column("closeness", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["set_id"], ["neighbour_set.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("set_id", "la_number", "rank", name="uq_neighbour"),
    )
    with op.batch_alter_table("neighbour", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_neighbour_la_number"), ["la_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_neighbour_set_id"), ["set_id"], unique=False)

    op.create_table(
        "return_issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("sheet", sa.String(length=64), nullable=True),
        sa.Column("cell", sa.String(length=16), nullable=True),
        sa.Column("measure_code", sa.String(length=40), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["return_id"], ["return_version.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("return_issue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_issue_return_id"), ["return_id"], unique=False)

    op.create_table(
        "return_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("measure_code", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("raw", sa.String(length=255), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["return_id"], ["return_version.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("return_id", "measure_code", name="uq_return_value"),
    )
    with op.batch_alter_table("return_value", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_value_return_id"), ["return_id"], unique=False)

    op.create_table(
        "benchmark_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("old_value", sa.Float(), nullable=True),
        sa.Column("old_note", sa.String(length=40), nullable=True),
        sa.Column("new_value", sa.Float(), nullable=True),
        sa.Column("new_note", sa.String(length=40), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["benchmark_release.id"],
        ),
        sa.ForeignKeyConstraint(["value_id"], ["benchmark_value.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("benchmark_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_benchmark_change_value_id"), ["value_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("benchmark_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_benchmark_change_value_id"))

    op.drop_table("benchmark_change")
    with op.batch_alter_table("return_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_value_return_id"))

    op.drop_table("return_value")
    with op.batch_alter_table("return_issue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_issue_return_id"))

    op.drop_table("return_issue")
    with op.batch_alter_table("neighbour", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_neighbour_set_id"))
        batch_op.drop_index(batch_op.f("ix_neighbour_la_number"))

    op.drop_table("neighbour")
    with op.batch_alter_table("benchmark_value", schema=None) as batch_op:
        batch_op.drop_index("ix_benchmark_lookup")

    op.drop_table("benchmark_value")
    with op.batch_alter_table("return_version", schema=None) as batch_op:
        batch_op.drop_index("ix_return_current")

    op.drop_table("return_version")
    op.drop_table("neighbour_set")
    with op.batch_alter_table("curve_story", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_curve_story_indicator_id"))

    op.drop_table("curve_story")
    with op.batch_alter_table("benchmark_release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_benchmark_release_sha256"))
        batch_op.drop_index(batch_op.f("ix_benchmark_release_dataset"))

    op.drop_table("benchmark_release")
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_area_la_number"))

    op.drop_table("area")
    with op.batch_alter_table("action_plan_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_plan_item_indicator_id"))

    op.drop_table("action_plan_item")
