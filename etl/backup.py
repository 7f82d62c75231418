"""Back up and restore the store.

SQLite: ``backup`` uses SQLite's online backup API, so a consistent copy is taken while the dashboard keeps
serving and loads keep arriving; ``restore`` first checks the file is a sound OBA store, keeps a copy of the
store it replaces beside it, then copies the backup in (again with the backup API, so open connections see
the restored data, not a half-written file). PostgreSQL: use ``pg_dump`` and ``pg_restore`` (see
docs/deployment.md); ``oba backup`` says so rather than doing half a job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from etl.errors import OBAError
from etl.store import database_url, redact

SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(OBAError):
    """A backup or restore cannot be done; nothing was changed."""


def _sqlite_path(db: str | None) -> Path:
    url = database_url(db)
    if not url.startswith("sqlite:///"):
        raise BackupError(
            f"the store at {redact(url)} is on PostgreSQL: back it up with the server's own tools, e.g. "
            "`pg_dump --format=custom --file oba.dump DBNAME`, and restore with `pg_restore --clean --dbname "
            "DBNAME oba.dump` (docs/deployment.md)")
    return Path(url.removeprefix("sqlite:///"))


def _copy(src: Path, dst: Path, standalone: bool = False) -> None:
    """Copy database ``src`` into ``dst`` page by page with SQLite's backup API (consistent while in use).

    ``standalone``: make ``dst`` a single self-contained file (rollback journal, not WAL), as a backup should be.
    """
    s = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    d = sqlite3.connect(dst, timeout=30)
    try:
        s.backup(d, pages=1024)
        if standalone:
            d.execute("PRAGMA journal_mode=DELETE")
    finally:
        s.close()
        d.close()


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    sha256: str
    revision: str | None


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _inspect(path: Path) -> str | None:
    """Check ``path`` is a sound SQLite OBA store; return its schema revision."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise BackupError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if head != SQLITE_MAGIC:
        raise BackupError(f"{path}: this is not a SQLite database (an `oba backup` file is one); nothing was changed")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            rev = conn.execute("SELECT version_num FROM alembic_version").fetchone() \
                if "alembic_version" in tables else None
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: the database is damaged ({exc}); nothing was changed") from None
    if ok != "ok":
        raise BackupError(f"{path}: the database fails SQLite's integrity check ({ok}); nothing was changed")
    if "return_version" not in tables or rev is None:
        raise BackupError(f"{path}: this SQLite database is not an OBA store (no returns table or schema version); "
                          "nothing was changed")
    return rev[0]


def backup(db: str | None, out: Path, force: bool = False) -> BackupResult:
    """Copy the store (SQLite) to ``out``, consistently, while it is in use."""
    src = _sqlite_path(db)
    if not src.exists():
        raise BackupError(f"there is no store at {src} to back up")
    out = Path(out)
    if out.exists() and not force:
        raise BackupError(f"{out} already exists; give another name or --force to overwrite it")
    if out.resolve() == src.resolve():
        raise BackupError("the backup cannot be the store itself; give another file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.unlink(missing_ok=True)
    try:
        _copy(src, tmp, standalone=True)
        rev = _inspect(tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupResult(out, out.stat().st_size, _sha(out), rev)


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    revision: str | None
    kept: Path | None  # the copy of the store as it was before
    needs_upgrade: bool


def restore(db: str | None, backup_file: Path, now: dt.datetime | None = None) -> RestoreResult:
    """Replace the store (SQLite) with ``backup_file``, keeping the current store as ``<name>.before-restore-*``."""
    from etl.db import MIGRATIONS, head_revision

    dst = _sqlite_path(db)
    backup_file = Path(backup_file)
    if not backup_file.exists():
        raise BackupError(f"there is no file {backup_file}")
    if dst.exists() and backup_file.resolve() == dst.resolve():
        raise BackupError("that file is the store itself; nothing to restore")
    rev = _inspect(backup_file)
    known = {p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("*.py")}
    if rev not in known:
        raise BackupError(f"{backup_file}: its schema ({rev}) is newer than this version of oba knows; upgrade oba "
                          "first. Nothing was changed")
    kept = None
    stamp = (now or dt.datetime.now()).strftime("%Y%m%dT%H%M%S")
    if dst.exists():
        kept = dst.with_name(f"{dst.stem}.before-restore-{stamp}{dst.suffix or '.sqlite'}")
        _copy(dst, kept, standalone=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup_file, dst)
    needs_upgrade = rev != head_revision()
    if not needs_upgrade:
        from etl import audit
        from etl.store import make_engine, writer

        engine = make_engine(str(dst))
        try:
            with writer(engine).begin() as conn:
                audit.record(conn, "store.restore", str(dst.name), detail=f"restored from {backup_file.name} "
                             f"(sha256 {_sha(backup_file)[:16]}); the store before is kept as "
                             f"{kept.name if kept else 'nothing (there was none)'}")
        finally:
            engine.dispose()
    return RestoreResult(backup_file, rev, kept, needs_upgrade)
