"""The dashboard's cached dataset stays right across workers and processes: a return loaded by another process
shows in every worker within seconds, the old view is served while the new one builds, and many first
requests at once build it once without an error."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dashboard.data import DataSource
from etl.db import init_store
from etl.returns.load import load_file
from etl.returns.samples import write_sample_return
from etl.store import make_engine
from indicators.periods import Quarter

ROOT = Path(__file__).resolve().parent.parent
BOARD = ROOT / "data" / "demo" / "board.yaml"


@pytest.fixture
def store(db_url, board, library, tmp_path):
    engine = make_engine(db_url)
    init_store(engine)
    for q in (Quarter(2025, 1), Quarter(2025, 2), Quarter(2025, 3)):
        for agency in ("CSC", "POL"):
            path = write_sample_return(tmp_path / f"{agency}-{q.index}.xlsx", board, library, agency, q)
            assert load_file(engine, board, library, path, "test").ok
    yield db_url
    engine.dispose()


def _wait_for(predicate, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_load_in_another_process_shows_in_every_worker(store, board, library, tmp_path):
    workers = [DataSource(store, BOARD, ttl=0.2) for _ in range(2)]
    before = [w.view() for w in workers]
    assert all(v.current == Quarter(2025, 3) for v in before)
    path = write_sample_return(tmp_path / "csc-q4.xlsx", board, library, "CSC", Quarter(2025, 4))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    oba = str(Path(sys.executable).parent / "oba")
    r = subprocess.run([oba, "--db", store, "--board", str(BOARD), "returns", "load",
                        str(path), "--received", "2026-01-20"], capture_output=True, text=True, env=env,
                       timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    for w, old in zip(workers, before, strict=True):
        first = w.view()
        assert first is old  # the view already built is served while the new one builds
        assert _wait_for(lambda w=w: w.view().current == Quarter(2025, 4)), "the load never showed"
        assert w.view().version != old.version


def test_many_first_requests_build_the_view_once(store, monkeypatch):
    src = DataSource(store, BOARD)
    built = []
    real = src._build

    def counting(version):
        built.append(version)
        return real(version)

    monkeypatch.setattr(src, "_build", counting)
    results, errors = [], []
    start = threading.Barrier(8)

    def ask():
        try:
            start.wait()
            results.append(src.view())
        except Exception as exc:  # noqa: BLE001 - the test reports any
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(built) == 1
    assert len({id(v) for v in results}) == 1


def test_a_forked_worker_opens_its_own_connections(store):
    src = DataSource(store, BOARD)
    engine = src.engine()
    src._pid = -1  # as if this process had been forked from the one that opened the engine
    assert src.engine() is not engine


def test_the_wsgi_entry_point_builds_the_dataset_before_serving(store):
    env = {**os.environ, "OBA_DATABASE_URL": store, "OBA_BOARD": str(BOARD),
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    code = ("from dashboard import data, wsgi; v = data.source()._view; "
            "print(type(wsgi.server).__name__, v is not None and str(v.current))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["Flask", "2025-26", "Q3"]
