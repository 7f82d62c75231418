"""Which store backends the tests run on, and an empty store on each.

SQLite always; PostgreSQL when OBA_TEST_POSTGRES_URL is set, each store in a schema of its own that is dropped
afterwards. A module of its own (not conftest) so that test modules can import it unambiguously.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

POSTGRES_URL = os.environ.get("OBA_TEST_POSTGRES_URL")
STORE_BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@contextmanager
def backend_url(backend: str, directory: Path) -> Iterator[str]:
    """The URL of an empty store: a SQLite file in ``directory``, or a new PostgreSQL schema (dropped after)."""
    if backend == "sqlite":
        yield f"sqlite:///{Path(directory) / 'oba.sqlite'}"
        return
    if not POSTGRES_URL:
        raise RuntimeError("OBA_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
