"""Faults never lose data or show a traceback: full disk, read-only store, not a database, locked, PostgreSQL
down or silent, and the last-resort log for the unforeseen. Each asserts the message, exit code 1, the time
taken and what the store holds afterwards.
"""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import after_where
from sqlalchemy import text
from store_backends import POSTGRES_URL

from etl.benchmarks.ees import import_ees
from etl.cli import main
from etl.db import init_store
from etl.faults import describe_frames, log_unexpected
from etl.store import make_engine, redact

ROOT = Path(__file__).resolve().parent.parent
SHARED_DFE = ROOT.parent / "shared" / "data" / "dfe"
POP = "ons_population_0_17_2012_2024.csv"
B1 = "ees_cin_b1_children_in_need_2013_2025.csv"
D3 = "ees_cin_d3_cpp_second_or_subsequent_2013_2025.csv"
AGAIN = "Nothing was half-written: each write is one transaction."


def _oba(*args, env=None):
    start = time.monotonic()
    res = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return res, time.monotonic() - start


def _store(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    init_store(engine)
    engine.dispose()
    return url


def _datasets(url: str) -> list[str]:
    res, _ = _oba("--db", url, "benchmarks", "list")
    lines = after_where(res.output).splitlines()
    return [line.split(":")[0] for line in lines
            if re.match(r"\S+: \d+ measures?, ", line) or line.startswith("No benchmarks are stored yet")]


# --- a full disk (a small tmpfs) ----------------------------------------------------------------------------

@pytest.fixture
def full_disk(tmp_path):
    """A 2 MB tmpfs holding a new store; skipped where mounting is not allowed (not root)."""
    mount = tmp_path / "full"
    mount.mkdir()
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if ok.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(mount: Path, leave_kb: int) -> None:
    """Fill the disk, leaving about ``leave_kb`` free."""
    import shutil

    free = shutil.disk_usage(mount).free // 1024
    with open(mount / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave_kb) * 1024)


@pytest.mark.skipif(not SHARED_DFE.exists(), reason="needs ../shared/data/dfe")
def test_disk_full_during_a_multi_file_import_commits_whole_files_and_says_which(full_disk):
    url = _store(full_disk / "oba.sqlite")
    _fill(full_disk, 700)
    res, took = _oba("--db", url, "benchmarks", "import", str(SHARED_DFE / POP), str(SHARED_DFE / B1),
                     str(SHARED_DFE / D3))
    assert res.exit_code == 1
    assert after_where(res.output) == (
        f"{POP}: imported ons_population_0_17: 2,132 rows, 1 measure, 2012–2024, 2,132 values.\n"
        f"Error: {B1}: the disk holding the store at {url} is full. {AGAIN} Free some space on it and run the "
        "command again\n"
        f"Committed before the fault: {POP}.\n"
        f"Not committed: {B1}, {D3} (rolled back whole: import them again once the fault is fixed; files already "
        "committed will say unchanged).\n")
    assert "Traceback" not in after_where(res.output) and "632830" not in after_where(res.output)
    assert took < 15
    assert _datasets(url) == ["ons_population_0_17"]
    # Space freed: the committed file is there whole (importing it again is unchanged) and the store works.
    (full_disk / "filler").unlink()
    res, _ = _oba("--db", url, "benchmarks", "import", str(SHARED_DFE / POP))
    assert (res.exit_code, after_where(res.output).split(":")[:2]) == (0, [POP, " unchanged"])


def test_export_and_curve_story_on_a_full_disk(full_disk, tmp_path, monkeypatch):
    monkeypatch.setenv("OBA_USER", "analyst")
    url = _store(full_disk / "oba.sqlite")
    elsewhere = _store(tmp_path / "ok.sqlite")
    _fill(full_disk, 0)
    out = full_disk / "benchmarks.csv"
    res, took = _oba("--db", elsewhere, "benchmarks", "export", "-o", str(out))
    assert (res.exit_code, after_where(res.output)) == (1, (
        f"Error: the disk is full ({out}): nothing was written there; free some space (or write to another "
        "disk) and run the command again\n"))
    assert sorted(p.name for p in full_disk.iterdir() if p.name.endswith(".csv") or ".benchmarks" in p.name) == []
    res, took = _oba("--db", url, "curve", "story", "cin_rate", "--story", "Referrals rose after the campaign")
    assert (res.exit_code, after_where(res.output)) == (1, (
        f"Error: the disk holding the store at {url} is full. {AGAIN} Free some space on it and run the command "
        "again\n"))
    assert took < 15
    (full_disk / "filler").unlink()
    res, _ = _oba("--db", url, "curve", "show", "cin_rate")
    assert res.exit_code == 0 and "Referrals rose" not in after_where(res.output)


# --- the store itself ---------------------------------------------------------------------------------------

def test_a_file_that_is_not_a_database(tmp_path):
    bad = tmp_path / "oba.sqlite"
    bad.write_text("name,count\nMilton Keynes,12\n")
    res, took = _oba("--db", str(bad), "benchmarks", "list")
    assert (res.exit_code, after_where(res.output)) == (1, (
        f"Error: the store at sqlite:///{bad} is not an OBA database (the file is not SQLite, or is damaged). "
        "Nothing was written. Check --db (or OBA_DATABASE_URL) names the right file; restore a damaged store "
        "with `oba restore`\n"))
    assert bad.read_text() == "name,count\nMilton Keynes,12\n"


@pytest.mark.skipif(not SHARED_DFE.exists(), reason="needs ../shared/data/dfe")
def test_a_read_only_store(tmp_path):
    path = tmp_path / "oba.sqlite"
    _store(path)
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    res, _ = _oba("--db", url, "benchmarks", "import", str(SHARED_DFE / POP))
    assert (res.exit_code, after_where(res.output)) == (1, (
        f"Error: the store at {redact(url)} is read-only: this account or this disk may not write to it. {AGAIN} Ask "
        "whoever manages the machine to make it writable, or point --db at a store you may change\n"))
    assert _datasets(f"sqlite:///{path}") == ["No benchmarks are stored yet"]


@pytest.mark.skipif(not SHARED_DFE.exists(), reason="needs ../shared/data/dfe")
def test_a_locked_store_says_busy_within_the_wait(tmp_path):
    path = tmp_path / "oba.sqlite"
    url = _store(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        res, took = _oba("--db", url, "benchmarks", "import", str(SHARED_DFE / POP), env={"OBA_BUSY_TIMEOUT": "1"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (res.exit_code, after_where(res.output)) == (1, (
        f"Error: the store at {url} is busy: another command or the dashboard held it for longer than the wait "
        f"allowed. {AGAIN} Wait until the other import or upload has finished and run the command again\n"))
    assert 1 <= took < 15
    assert _datasets(url) == ["No benchmarks are stored yet"]


def test_the_default_waits_are_under_fifteen_seconds(monkeypatch):
    from etl import store

    for env in ("OBA_BUSY_TIMEOUT", "OBA_CONNECT_TIMEOUT", "OBA_STATEMENT_TIMEOUT"):
        monkeypatch.delenv(env, raising=False)
    assert store.BUSY_TIMEOUT + 3 < 15 and store.CONNECT_TIMEOUT + 3 < 15
    monkeypatch.setenv("OBA_BUSY_TIMEOUT", "soon")
    assert store._seconds("OBA_BUSY_TIMEOUT", 10.0) == 10.0


# --- PostgreSQL down or silent ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_postgresql_unreachable(tmp_path):
    url = f"postgresql+psycopg://oba@127.0.0.1:{_free_port()}/oba"
    res, took = _oba("--db", url, "benchmarks", "list")
    assert (res.exit_code, after_where(res.output)) == (1, (
        f"Error: the PostgreSQL server for the store at {url} is unreachable or did not answer in time "
        f"(OBA_CONNECT_TIMEOUT). {AGAIN} Check the server is running and the host and port in --db (or "
        "OBA_DATABASE_URL) are right\n"))
    assert took < 15


def test_postgresql_that_accepts_and_never_answers(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])  # and never a byte back
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"postgresql+psycopg://oba:secret@127.0.0.1:{server.getsockname()[1]}/oba"
    try:
        res, took = _oba("--db", url, "benchmarks", "import", "nothing.csv", env={"OBA_CONNECT_TIMEOUT": "2"})
    finally:
        stop.set()
        thread.join()
        for c in accepted:
            c.close()
        server.close()
    safe = url.replace(":secret@", ":***@")
    assert (res.exit_code, after_where(res.output)) == (1, (
        f"Error: the PostgreSQL server for the store at {safe} is unreachable or did not answer in time "
        f"(OBA_CONNECT_TIMEOUT). {AGAIN} Check the server is running and the host and port in --db (or "
        "OBA_DATABASE_URL) are right\n"))
    assert accepted and 2 <= took < 15


@pytest.mark.skipif(not POSTGRES_URL, reason="OBA_TEST_POSTGRES_URL is not set")
def test_postgresql_sessions_get_a_statement_timeout_and_keep_their_options(monkeypatch):
    from store_backends import backend_url

    monkeypatch.setenv("OBA_STATEMENT_TIMEOUT", "1.5")
    with backend_url("postgresql", Path(".")) as url:
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "1500ms"
            assert conn.execute(text("SHOW search_path")).scalar().startswith("t_")
            with pytest.raises(Exception) as info:
                conn.execute(text("SELECT pg_sleep(5)"))
        from etl.faults import store_fault

        fault = store_fault(info.value, "the store")
        assert fault is not None and "did not finish a statement in the time allowed" in str(fault)
        engine.dispose()


# --- the unforeseen ---------------------------------------------------------------------------------------------

def test_an_unforeseen_error_is_logged_without_values_and_told_in_one_line(tmp_path, monkeypatch):
    url = _store(tmp_path / "oba.sqlite")
    logs = tmp_path / "logs"
    monkeypatch.setenv("OBA_LOG_DIR", str(logs))

    def broken(engine):
        figures = {"Milton Keynes": 2713}
        raise ValueError(f"cannot summarise {figures}")

    monkeypatch.setattr("etl.benchmarks.export.benchmark_summary", broken)
    res, _ = _oba("--db", url, "benchmarks", "list")
    [log] = list(logs.iterdir())
    assert (res.exit_code, after_where(res.output)) == (1, (
        f"Error: an unexpected ValueError stopped the command; nothing was half-written; the details are in {log} "
        "(they hold no data values: send the file to whoever supports this installation).\n"))
    body = log.read_text()
    assert body.startswith("oba benchmarks\n")
    assert 'in broken\n    raise ValueError(f"cannot summarise {figures}")' in body
    assert "builtins.ValueError (message left out: it may hold data values)" in body
    assert "2713" not in body and "Milton" not in body.replace('raise ValueError(f"cannot summarise {figures}")', "")


def test_an_unforeseen_error_during_a_multi_file_import_still_says_what_was_committed(tmp_path, monkeypatch):
    if not SHARED_DFE.exists():
        pytest.skip("needs ../shared/data/dfe")
    url = _store(tmp_path / "oba.sqlite")
    monkeypatch.setenv("OBA_LOG_DIR", str(tmp_path / "logs"))
    from etl.benchmarks import ees

    real = ees._store

    def second_fails(conn, parsed, user, dry_run):
        if parsed.dataset != "ons_population_0_17":
            raise KeyError(sorted(parsed.areas)[-1])  # a data value in the message
        return real(conn, parsed, user, dry_run)

    monkeypatch.setattr(ees, "_store", second_fails)
    res, _ = _oba("--db", url, "benchmarks", "import", str(SHARED_DFE / POP), str(SHARED_DFE / D3))
    [log] = list((tmp_path / "logs").iterdir())
    assert res.exit_code == 1
    assert after_where(res.output) == (
        f"{POP}: imported ons_population_0_17: 2,132 rows, 1 measure, 2012–2024, 2,132 values.\n"
        f"Error: {D3}: an unexpected KeyError stopped the import; the details are in {log} (no data values).\n"
        f"Committed before the fault: {POP}.\n"
        f"Not committed: {D3} (rolled back whole: import them again once the fault is fixed; files already "
        "committed will say unchanged).\n")
    assert "E10000034" not in log.read_text() and "KeyError" in log.read_text()
    assert _datasets(url) == ["ons_population_0_17"]


def test_the_log_falls_back_when_its_folder_cannot_be_written(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    monkeypatch.setenv("OBA_LOG_DIR", str(blocker / "logs"))
    value = 6 * 7
    try:
        raise RuntimeError(f"value {value}")
    except RuntimeError as exc:
        path = log_unexpected(exc, "demo")
        frames = describe_frames(exc)
    assert path is not None and path.exists() and path.parent != blocker
    assert "value 42" not in frames and 'raise RuntimeError(f"value {value}")' in frames
    assert path.read_text().endswith(frames)
    path.unlink()


def test_import_ees_from_python_raises_the_fault_itself_for_one_file(tmp_path):
    url = f"sqlite:///file:{tmp_path / 'oba.sqlite'}?mode=ro&uri=true"
    _store(tmp_path / "oba.sqlite")
    engine = make_engine(url)
    if not SHARED_DFE.exists():
        pytest.skip("needs ../shared/data/dfe")
    from sqlalchemy.exc import OperationalError

    with pytest.raises(OperationalError):
        import_ees(engine, [SHARED_DFE / POP], "analyst")
    engine.dispose()
