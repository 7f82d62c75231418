"""Alembic environment: runs migrations on the connection ``etl.db.init_store`` hands over."""

from alembic import context

from etl.store import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # run from the alembic command line
        from etl.store import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
        with engine.connect() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
