"""benchmark figures as numbers: measures, series (filters, area, time identifier) and places (how a row
describes its area) in small tables of their own, keyed from a narrow benchmark_value

Every stored figure is moved across with its id, so benchmark_change keeps pointing at the same figures.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _same(dialect: str, a: str, b: str) -> str:
    """SQL for "a equals b, NULL equal to NULL" in either dialect."""
    return f"{a} IS {b}" if dialect == "sqlite" else f"{a} IS NOT DISTINCT FROM {b}"


def _change_table(name: str, values: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("old_value", sa.Float(), nullable=True),
        sa.Column("old_note", sa.String(length=40), nullable=True),
        sa.Column("new_value", sa.Float(), nullable=True),
        sa.Column("new_note", sa.String(length=40), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["benchmark_release.id"]),
        sa.ForeignKeyConstraint(["value_id"], [f"{values}.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )


_CHANGE_COLUMNS = "id, value_id, release_id, old_value, old_note, new_value, new_note, changed_at"


def _swap_in(new_values: str, new_changes: str) -> None:
    """Copy the changes across, drop the old tables and give the new ones their names (on PostgreSQL their
    constraints and sequences too, so they read as if the tables had always been called so)."""
    op.execute(f"INSERT INTO {new_changes} ({_CHANGE_COLUMNS}) SELECT {_CHANGE_COLUMNS} FROM benchmark_change")
    op.drop_table("benchmark_change")
    op.drop_table("benchmark_value")
    op.rename_table(new_values, "benchmark_value")
    op.rename_table(new_changes, "benchmark_change")
    if op.get_bind().dialect.name == "postgresql":
        for table, old in (("benchmark_value", new_values), ("benchmark_change", new_changes)):
            names = op.get_bind().execute(sa.text(
                "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"), {"t": table}).scalars()
            for name in list(names):
                if name.startswith(old):
                    op.execute(f'ALTER TABLE {table} RENAME CONSTRAINT "{name}" TO "{table}{name[len(old):]}"')
            op.execute(f'ALTER SEQUENCE IF EXISTS "{old}_id_seq" RENAME TO "{table}_id_seq"')
    with op.batch_alter_table("benchmark_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_benchmark_change_value_id"), ["value_id"], unique=False)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "benchmark_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=120), nullable=False),
        sa.Column("measure", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset", "measure", name="uq_benchmark_measure"),
    )
    op.create_table(
        "benchmark_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=120), nullable=False),
        sa.Column("filters", sa.String(length=500), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("time_identifier", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset", "filters", "area_code", "time_identifier", name="uq_benchmark_series"),
    )
    op.create_table(
        "benchmark_place",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("geographic_level", sa.String(length=40), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("area_name", sa.String(length=120), nullable=False),
        sa.Column("la_number", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("benchmark_place", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_benchmark_place_area_code"), ["area_code"], unique=False)
    op.create_table(
        "benchmark_value_0005",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("time_period", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("note", sa.String(length=40), nullable=True),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),  # its keys are not foreign keys on purpose: see etl.store.BenchmarkValue
    )
    _change_table("benchmark_change_0005", "benchmark_value_0005")

    # The figures already stored, moved across with their ids.
    op.execute("INSERT INTO benchmark_measure (dataset, measure) "
               "SELECT DISTINCT dataset, measure FROM benchmark_value ORDER BY dataset, measure")
    op.execute("INSERT INTO benchmark_series (dataset, filters, area_code, time_identifier) "
               "SELECT DISTINCT dataset, filters, area_code, time_identifier FROM benchmark_value "
               "ORDER BY dataset, filters, area_code, time_identifier")
    op.execute("INSERT INTO benchmark_place (geographic_level, area_code, area_name, la_number, region_code) "
               "SELECT DISTINCT geographic_level, area_code, area_name, la_number, region_code FROM benchmark_value "
               "ORDER BY area_code, area_name, geographic_level")
    op.execute(
        "INSERT INTO benchmark_value_0005 (id, measure_id, series_id, time_period, place_id, value, note, release_id) "
        "SELECT v.id, m.id, s.id, v.time_period, p.id, v.value, v.note, v.release_id FROM benchmark_value v "
        "JOIN benchmark_measure m ON m.dataset = v.dataset AND m.measure = v.measure "
        "JOIN benchmark_series s ON s.dataset = v.dataset AND s.filters = v.filters AND s.area_code = v.area_code "
        "AND s.time_identifier = v.time_identifier "
        "JOIN benchmark_place p ON p.area_code = v.area_code AND p.area_name = v.area_name "
        f"AND p.geographic_level = v.geographic_level AND {_same(dialect, 'p.la_number', 'v.la_number')} "
        f"AND {_same(dialect, 'p.region_code', 'v.region_code')}")
    _swap_in("benchmark_value_0005", "benchmark_change_0005")
    op.create_index("uq_benchmark_value", "benchmark_value", ["measure_id", "series_id", "time_period"], unique=True)
    if dialect == "postgresql":  # ids were copied: the sequence carries on after the largest
        op.execute("SELECT setval(pg_get_serial_sequence('benchmark_value', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM benchmark_value), 0) + 1, false)")


def downgrade() -> None:
    op.drop_index("uq_benchmark_value", table_name="benchmark_value")
    op.create_table(
        "benchmark_value_0004",
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
        sa.ForeignKeyConstraint(["release_id"], ["benchmark_release.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset", "measure", "filters", "area_code", "time_period", "time_identifier",
                            name="uq_benchmark_value"),
    )
    _change_table("benchmark_change_0004", "benchmark_value_0004")
    op.execute(
        "INSERT INTO benchmark_value_0004 (id, dataset, measure, filters, geographic_level, area_code, area_name, "
        "la_number, region_code, time_period, time_identifier, value, note, release_id) "
        "SELECT v.id, m.dataset, m.measure, s.filters, p.geographic_level, s.area_code, p.area_name, p.la_number, "
        "p.region_code, v.time_period, s.time_identifier, v.value, v.note, v.release_id FROM benchmark_value v "
        "JOIN benchmark_measure m ON m.id = v.measure_id JOIN benchmark_series s ON s.id = v.series_id "
        "JOIN benchmark_place p ON p.id = v.place_id")
    _swap_in("benchmark_value_0004", "benchmark_change_0004")
    # Plain CREATE INDEX, not a batch operation: on SQLite a batch would copy the table and drop the old one,
    # and dropping it would cascade to benchmark_change.
    op.create_index("ix_benchmark_lookup", "benchmark_value", ["dataset", "measure", "time_period"], unique=False)
    op.drop_table("benchmark_place")
    op.drop_table("benchmark_series")
    op.drop_table("benchmark_measure")
