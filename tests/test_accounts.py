"""Accounts on the command line and in the store: add, list, disable, enable, reset; password rules; the audit
trail of every change and its export; backup and restore."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3

import pytest
from click.testing import CliRunner
from conftest import after_where
from sqlalchemy import inspect, select

from etl import audit
from etl.cli import main
from etl.db import head_revision
from etl.store import UserAccount, make_engine
from etl.users import AccountError, add_user, authenticate, disable_user, get_user, list_users, reset_password

PASSWORD = "correct horse battery staple"


def _oba(db, *args, input=None):
    return CliRunner().invoke(main, ["--db", db, *args], input=input)


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "oba.sqlite")
    assert _oba(path, "init").exit_code == 0
    return path


def test_the_real_hasher_is_argon2id_at_owasps_cost():
    import etl.users

    h = etl.users.make_hasher()  # the real one (tests use a quick one)
    digest = h.hash("a password of some length")
    assert digest.startswith("$argon2id$")
    assert h.time_cost >= 2 and h.memory_cost >= 19 * 1024  # OWASP's recommended minimum for Argon2id
    assert digest.split("$")[3] == "m=19456,t=2,p=1"


def test_cli_users_lifecycle(db):
    r = _oba(db, "users", "add", "Jo.Bloggs@Harrowdale.gov.uk", "--role", "admin", "--password-stdin",
             input=PASSWORD + "\n")
    assert r.exit_code == 0 and after_where(r.output) == "Added jo.bloggs@harrowdale.gov.uk as admin.\n"
    r = _oba(db, "users", "add", "sam", "--role", "submitter", "--agency", "pol", "--password-stdin",
             input=PASSWORD + "\n")
    assert r.exit_code == 0 and "as submitter for POL" in r.output
    r = _oba(db, "users", "add", "pat", "--role", "viewer", "--no-password")
    assert r.exit_code == 0 and "single sign-on only" in r.output
    r = _oba(db, "users", "list")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert [ln.split()[0] for ln in lines] == ["jo.bloggs@harrowdale.gov.uk", "pat", "sam"]
    assert "submitter" in lines[2] and "POL" in lines[2] and "enabled" in lines[2]
    assert after_where(_oba(db, "users", "disable", "sam").output) == "Disabled sam; their sessions have ended.\n"
    assert "disabled" in _oba(db, "users", "list").stdout.splitlines()[2]
    assert _oba(db, "users", "enable", "sam").exit_code == 0
    r = _oba(db, "users", "reset-password", "sam", "--password-stdin", input="another long passphrase\n")
    assert r.exit_code == 0 and "Reset the password of sam" in r.output


@pytest.mark.parametrize("args,stdin,message", [
    (["users", "add", "x y", "--role", "viewer", "--no-password"], None, "cannot be an account name"),
    (["users", "add", "kim", "--role", "viewer", "--password-stdin"], "short\n", "use at least 12"),
    (["users", "add", "kim", "--role", "viewer", "--password-stdin"], "kim-is-my-password\n", "contains the account"),
    (["users", "add", "kim", "--role", "viewer", "--password-stdin"], "aaaaaaaaaaaaaaaa\n", "too few characters"),
    (["users", "add", "kim", "--role", "submitter", "--no-password"], None, "give --agency"),
    (["users", "add", "kim", "--role", "submitter", "--agency", "NOPE", "--no-password"], None, "no agency 'NOPE'"),
    (["users", "add", "kim", "--role", "viewer", "--agency", "POL", "--no-password"], None, "only submitters"),
    (["users", "disable", "nobody"], None, "there is no account 'nobody'"),
    (["users", "reset-password", "nobody", "--password-stdin"], PASSWORD + "\n", "there is no account"),
])
def test_cli_users_refusals(db, args, stdin, message):
    r = _oba(db, *args, input=stdin)
    assert r.exit_code == 1 and message in r.output, r.output
    assert "Traceback" not in r.output


def test_a_name_can_be_added_once(db):
    assert _oba(db, "users", "add", "kim", "--role", "viewer", "--no-password").exit_code == 0
    r = _oba(db, "users", "add", "KIM", "--role", "admin", "--no-password")
    assert r.exit_code == 1 and "already an account 'kim'" in r.output


def test_users_list_on_an_empty_store_says_what_to_do(db):
    r = _oba(db, "users", "list")
    assert r.exit_code == 0 and "oba users add NAME --role admin" in r.output


def test_passwords_are_never_stored_in_clear(db):
    engine = make_engine(db)
    add_user(engine, "kim", "viewer", PASSWORD)
    raw = open(db, "rb").read() + (open(db + "-wal", "rb").read() if __import__("os").path.exists(db + "-wal")
                                   else b"")
    assert PASSWORD.encode() not in raw
    with engine.connect() as conn:
        digest = conn.execute(select(UserAccount.password_hash)).scalar_one()
    assert digest.startswith("$argon2id$")


def test_authenticate(db):
    engine = make_engine(db)
    add_user(engine, "kim", "viewer", PASSWORD)
    add_user(engine, "sso", "viewer", None)
    assert authenticate(engine, " KIM ", PASSWORD, "127.0.0.1").user.name == "kim"
    assert authenticate(engine, "kim", PASSWORD + "x").user is None
    assert authenticate(engine, "nobody", PASSWORD).user is None
    assert authenticate(engine, "sso", "").user is None  # single sign-on only
    disable_user(engine, "kim")
    assert authenticate(engine, "kim", PASSWORD).user is None
    details = [e["detail"] for e in audit.read_events(engine, action="signin.failed")]
    assert sorted(details) == sorted(["wrong password", "unknown name", "no password (single sign-on only)",
                                      "account disabled"])


def test_every_account_change_is_audited_with_before_and_after(db):
    engine = make_engine(db)
    with audit.acting_as(audit.Actor("ada", "admin", "web", "10.1.2.3")):
        add_user(engine, "kim", "submitter", PASSWORD, "POL")
        disable_user(engine, "kim")
        reset_password(engine, "kim", "a brand new passphrase")
    events = list(reversed(audit.read_events(engine, action="user.")))
    assert [e["action"] for e in events] == ["user.add", "user.disable", "user.password"]
    assert all(e["actor"] == "ada" and e["role"] == "admin" and e["source"] == "web" and e["address"] == "10.1.2.3"
               for e in events)
    assert json.loads(events[1]["before"])["disabled"] is False and json.loads(events[1]["after"])["disabled"] is True
    assert "passphrase" not in json.dumps(events, default=str) and "$argon2" not in json.dumps(events, default=str)


def test_loads_and_imports_are_audited_in_their_transaction(engine, board, library, tmp_path):
    from etl.returns.load import load_file
    from etl.returns.samples import write_sample_return
    from indicators.periods import Quarter

    q = Quarter(2025, 1)
    path = write_sample_return(tmp_path / "a.xlsx", board, library, "CSC", q)
    with audit.acting_as(audit.Actor("sam", "submitter", "web", "10.0.0.9")):
        assert load_file(engine, board, library, path, "sam").outcome == "loaded"
        assert load_file(engine, board, library, path, "sam").outcome == "unchanged"  # nothing changed, no event
    events = audit.read_events(engine, action="returns.")
    assert len(events) == 1 and events[0]["target"] == "CSC 2025-26 Q1" and events[0]["actor"] == "sam"
    after = json.loads(events[0]["after"])
    assert after["version"] == 1 and after["file"] == "a.xlsx" and len(after["sha256"]) == 64


def test_a_failed_change_leaves_no_audit_event(db, monkeypatch):
    engine = make_engine(db)
    add_user(engine, "kim", "viewer", PASSWORD)
    before = len(audit.read_events(engine))
    with pytest.raises(AccountError):
        add_user(engine, "kim", "viewer", PASSWORD)
    assert len(audit.read_events(engine)) == before


def test_audit_export_cli_filters_and_defuses_formulas(db):
    engine = make_engine(db)
    with audit.acting_as(audit.Actor("=HYPERLINK(\"http://x\")", None, "cli")):
        add_user(engine, "kim", "viewer", PASSWORD)
    with audit.acting_as(audit.Actor("pat", None, "cli")):
        add_user(engine, "lee", "viewer", PASSWORD)
    out = db + ".csv"
    r = _oba(db, "audit", "export", "-o", out, "--actor", "pat")
    assert r.exit_code == 0 and after_where(r.output).startswith("Wrote 1 audit event to")
    r = _oba(db, "audit", "export", "-o", out, "--action", "user.", "--since", dt.date.today().isoformat())
    assert "Wrote 2 audit events" in r.output
    rows = list(csv.DictReader(open(out)))
    assert [r["target"] for r in rows] == ["kim", "lee"]  # oldest first
    assert rows[0]["actor"].startswith("'=")
    r = _oba(db, "audit", "export", "-o", out, "--until", "2000-01-01")
    assert "Wrote 0 audit events" in r.output


def test_injection_strings_are_stored_as_text(db):
    engine = make_engine(db)
    nasty = "x'); DROP TABLE user_account; --"
    with audit.acting_as(audit.Actor(nasty, None, "cli")):
        add_user(engine, "kim", "viewer", PASSWORD)
    assert authenticate(engine, nasty, PASSWORD).user is None
    assert "user_account" in inspect(engine).get_table_names()
    assert audit.read_events(engine, actor=nasty.lower()[:80]) or audit.read_events(engine, text="DROP")
    assert [u.name for u in list_users(engine)] == ["kim"]


def test_migrations_match_the_models(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from etl.store import Base

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


# --- backup and restore ----------------------------------------------------------------------------------

def _tables(path) -> dict:
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY 1').fetchall() for n in names}
    finally:
        conn.close()


def test_backup_and_restore_round_trip(db, tmp_path):
    engine = make_engine(db)
    add_user(engine, "kim", "viewer", PASSWORD)
    engine.dispose()
    backup = tmp_path / "backups" / "b.sqlite"
    r = _oba(db, "backup", "-o", str(backup))
    assert r.exit_code == 0 and "Backed up" in r.output and f"schema {head_revision()}" in r.output
    assert _tables(backup) == _tables(db)
    assert not (tmp_path / "backups" / "b.sqlite-wal").exists()  # one self-contained file
    # change the store, then restore the backup over it
    engine = make_engine(db)
    add_user(engine, "lee", "admin", PASSWORD)
    engine.dispose()
    changed = _tables(db)
    r = _oba(db, "restore", str(backup), "--yes")
    assert r.exit_code == 0 and "Restored" in r.output
    restored = _tables(db)
    original = _tables(backup)
    assert {k: v for k, v in restored.items() if k != "audit_event"} == \
        {k: v for k, v in original.items() if k != "audit_event"}
    assert restored["audit_event"][:len(original["audit_event"])] == original["audit_event"]
    assert [e["action"] for e in audit.read_events(make_engine(db))][0] == "store.restore"
    kept = list(tmp_path.glob("oba.before-restore-*.sqlite"))
    assert len(kept) == 1 and _tables(kept[0]) == changed  # nothing stored is lost


def test_backup_refuses_to_overwrite(db, tmp_path):
    out = tmp_path / "b.sqlite"
    assert _oba(db, "backup", "-o", str(out)).exit_code == 0
    r = _oba(db, "backup", "-o", str(out))
    assert r.exit_code == 1 and "already exists" in r.output
    assert _oba(db, "backup", "-o", str(out), "--force").exit_code == 0


@pytest.mark.parametrize("content", [b"", b"id,name\n1,x\n", b"SQLite format 3\x00" + b"\x00" * 200])
def test_restore_refuses_what_is_not_a_sound_store(db, tmp_path, content):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(content)
    before = _tables(db)
    r = _oba(db, "restore", str(bad), "--yes")
    assert r.exit_code == 1 and "nothing was changed" in r.output.lower(), r.output
    assert _tables(db) == before and not list(tmp_path.glob("*.before-restore-*"))


def test_restore_refuses_another_sqlite_database(db, tmp_path):
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    r = _oba(db, "restore", str(other), "--yes")
    assert r.exit_code == 1 and "not an OBA store" in r.output


def test_restore_asks_first(db, tmp_path):
    out = tmp_path / "b.sqlite"
    _oba(db, "backup", "-o", str(out))
    r = _oba(db, "restore", str(out), input="n\n")
    assert r.exit_code == 1 and "Nothing was changed" in r.output


def test_backup_on_postgresql_points_to_pg_dump():
    r = CliRunner().invoke(main, ["--db", "postgresql+psycopg://u@127.0.0.1:1/x", "backup", "-o", "x.dump"])
    assert r.exit_code == 1 and "pg_dump" in r.output


def test_backup_while_a_load_is_writing(db, tmp_path, board, library):
    """The online backup is consistent while another connection writes."""
    import threading

    engine = make_engine(db)
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            add_user(engine, f"user{i}", "viewer", None)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        for k in range(3):
            out = tmp_path / f"b{k}.sqlite"
            assert _oba(db, "backup", "-o", str(out)).exit_code == 0
            conn = sqlite3.connect(out)
            n_users = conn.execute("SELECT count(*) FROM user_account").fetchone()[0]
            n_events = conn.execute("SELECT count(*) FROM audit_event WHERE action='user.add'").fetchone()[0]
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()
            assert n_users == n_events  # each account and its audit event, together or not at all
    finally:
        stop.set()
        t.join()
    assert get_user(engine, "user0") is not None
