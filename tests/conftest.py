"""Shared fixtures: a store on SQLite and (when OBA_TEST_POSTGRES_URL is set) on PostgreSQL, each test alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from store_backends import POSTGRES_URL, STORE_BACKENDS, backend_url

from etl.db import init_store
from etl.store import make_engine
from indicators.board import load_board
from indicators.definitions import load_library

ROOT = Path(__file__).resolve().parent.parent
SHARED_DFE = ROOT.parent / "shared" / "data" / "dfe"
DEMO_BOARD = ROOT / "data" / "demo" / "board.yaml"


@pytest.fixture(autouse=True)
def _quick_password_hashing(monkeypatch):
    """Argon2 with the smallest cost in tests (tests/test_accounts.py checks the real one's parameters).

    The real cost is the point in use, and takes up to a second on a busy 2-core machine: hundreds of sign-ins
    in the tests would take minutes.
    """
    from argon2 import PasswordHasher

    import etl.users

    quick = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(etl.users, "_hasher", lambda: quick)


@pytest.fixture(scope="session")
def library():
    return load_library()


@pytest.fixture(scope="session")
def board(library):
    return load_board(DEMO_BOARD, library)


@pytest.fixture(scope="session")
def demo_sqlite(tmp_path_factory, board, library) -> Path:
    """The synthetic demo store, built once per test process (each pytest-xdist worker): tests that write to it
    take a copy with ``copy_demo`` instead of building their own (a build is about 11 s of CPU)."""
    from etl.demo import build_demo

    work = tmp_path_factory.mktemp("demo-once")
    build_demo(f"sqlite:///{work / 'demo.sqlite'}", board, library, workdir=work / "files")
    return work / "demo.sqlite"


def copy_demo(demo_sqlite: Path, into: Path) -> str:
    """A private copy of the demo store in folder ``into``; returns its URL."""
    path = into / "demo.sqlite"
    shutil.copy(demo_sqlite, path)
    return f"sqlite:///{path}"


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'oba.sqlite'}"


@pytest.fixture
def postgres_url(tmp_path):
    """A fresh schema on the test server, dropped afterwards; the URL carries it as the search path."""
    if not POSTGRES_URL:
        pytest.skip("OBA_TEST_POSTGRES_URL is not set")
    with backend_url("postgresql", tmp_path) as url:
        yield url


@pytest.fixture(params=STORE_BACKENDS)
def db_url(request) -> str:
    """A URL for an empty store on each backend under test."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def engine(db_url):
    """An initialised, empty store (migrations applied) on each backend."""
    eng = make_engine(db_url)
    init_store(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def shared_dfe() -> Path:
    if not SHARED_DFE.exists():
        pytest.skip(f"{SHARED_DFE} is not there")
    return SHARED_DFE


def after_where(output: str) -> str:
    """A command's output without its first line, "Store …; board …" (etl.context.AppContext.describe)."""
    first, sep, rest = output.partition("\n")
    return rest if sep and first.startswith("Store ") and "; board " in first else output
