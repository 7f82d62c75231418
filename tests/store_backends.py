"""Which store backends the tests run on: SQLite always, PostgreSQL when OBA_TEST_POSTGRES_URL is set.

A module of its own (not conftest) so that test modules can import it unambiguously.
"""

import os

POSTGRES_URL = os.environ.get("OBA_TEST_POSTGRES_URL")
STORE_BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
