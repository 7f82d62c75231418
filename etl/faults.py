"""Faults of the machine and the store, told as one message that says what happened and what to do.

A full disk, a read-only store, a file that is not a database, a locked database, a PostgreSQL server that
is down or does not answer: each is an environment problem, not a bug, and gets one line (exit 1), never a
traceback. ``store_fault`` recognises them from the driver's exception; anything it does not recognise is
unforeseen, and ``log_unexpected`` writes its traceback to a log file (frames only: no exception messages,
no local values, since those can hold data) so the user can send it to whoever supports the installation.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import tempfile
import traceback
from pathlib import Path

from etl.errors import OBAError

LOG_DIR_ENV = "OBA_LOG_DIR"


class StoreFault(OBAError):
    """The store or the disk failed under a command: disk full, read only, not a database, locked, unreachable."""


class FileFault(OBAError):
    """A file could not be written or read because of the machine: disk full, read only, no permission."""


def _messages(exc: BaseException) -> str:
    """The exception and its causes as lower-case text, for recognising the fault (never shown)."""
    parts = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        orig = getattr(exc, "orig", None)
        parts.append(str(orig if orig is not None else exc))
        exc = exc.__cause__ or exc.__context__
    return " ".join(parts).lower()


def _os_error(exc: BaseException) -> OSError | None:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno is not None:
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def file_fault(exc: BaseException, path: Path | str | None = None) -> FileFault | None:
    """A ``FileFault`` for an OS error writing or reading a file (disk full, read-only, permission), or None.

    ``path`` names the file in the message when the error itself does not (a failed write names none).
    """
    err = _os_error(exc)
    if err is None:
        return None
    name = err.filename or path
    where = f" ({name})" if name else ""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return FileFault(f"the disk is full{where}: nothing was written there; free some space (or write to "
                         "another disk) and run the command again")
    if err.errno == errno.EROFS:
        return FileFault(f"the disk is read-only{where}: nothing was written there; write to another place or "
                         "ask whoever manages the machine to make it writable")
    if err.errno in (errno.EACCES, errno.EPERM):
        return FileFault(f"permission denied{where}: this account may not write there; choose another place or "
                         "ask whoever manages the machine for access")
    if err.errno == errno.EIO:
        return FileFault(f"the disk reported an input/output error{where}: check the disk, then run the command "
                         "again")
    return None


def _sqlite_disk_full(url: str | None) -> bool:
    """Whether the disk holding a SQLite store has (almost) no space left: SQLite then often says "I/O error"."""
    if not url or not url.startswith("sqlite") or ":///" not in url:
        return False
    path = Path(url.split(":///", 1)[1].split("?", 1)[0].removeprefix("file:"))
    try:
        return shutil.disk_usage(path.parent).free < 1024 * 1024
    except OSError:
        return False


def store_fault(exc: BaseException, where: str = "the store", url: str | None = None) -> StoreFault | None:
    """A ``StoreFault`` saying what happened to the store and what to do, or None if ``exc`` is not one.

    ``where`` names the store in the message (a redacted URL); ``url``, when given, lets a SQLite I/O error
    on a full disk be told as a full disk.
    """
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    if not isinstance(exc, SQLAlchemyError) and not type(exc).__module__.startswith(("sqlite3", "psycopg")):
        return None  # a plain OSError is about a file, not the store: see file_fault
    text = _messages(exc)
    again = "Nothing was half-written: each write is one transaction."
    if "disk i/o error" in text and _sqlite_disk_full(url):
        text += " disk full"
    checks = [
        (("database or disk is full", "no space left", "could not extend file", "disk full"),
         f"the disk holding {where} is full. {again} Free some space on it and run the command again"),
        (("readonly database", "read-only file system", "read-only transaction"),
         f"{where} is read-only: this account or this disk may not write to it. {again} Ask whoever manages "
         "the machine to make it writable, or point --db at a store you may change"),
        (("file is not a database", "database disk image is malformed"),
         f"{where} is not an OBA database (the file is not SQLite, or is damaged). Nothing was written. Check "
         "--db (or OBA_DATABASE_URL) names the right file; restore a damaged store with `oba restore`"),
        (("database is locked", "database table is locked"),
         f"{where} is busy: another command or the dashboard held it for longer than the wait allowed. "
         f"{again} Wait until the other import or upload has finished and run the command again"),
        (("unable to open database file",),
         f"{where} cannot be opened (its folder is missing or may not be written). Nothing was written. "
         "Check --db (or OBA_DATABASE_URL)"),
        (("disk i/o error",),
         f"the disk holding {where} reported an input/output error. {again} Check the disk, then run the "
         "command again"),
        (("statement timeout", "canceling statement", "lock timeout"),
         f"{where} did not finish a statement in the time allowed (OBA_STATEMENT_TIMEOUT). {again} Check "
         "the server is not overloaded or held by another session, then run the command again"),
        (("connection refused", "could not translate host", "name or service not known", "no route to host",
          "network is unreachable", "could not connect", "connection timeout expired", "timeout expired",
          "connection is bad", "server closed the connection", "connection to server", "terminating connection",
          "consuming input failed", "the connection is lost", "connection timed out"),
         f"the PostgreSQL server for {where} is unreachable or did not answer in time (OBA_CONNECT_TIMEOUT). "
         f"{again} Check the server is running and the host and port in --db (or OBA_DATABASE_URL) are right"),
        (("password authentication failed", "no password supplied", "fatal:"),
         f"{where} refused the connection: {_first_line(exc)}. Nothing was written. Check the user, password "
         "and database name in --db (or OBA_DATABASE_URL)"),
    ]
    for needles, message in checks:
        if any(n in text for n in needles):
            return StoreFault(message)
    if isinstance(exc, DBAPIError) and getattr(exc, "connection_invalidated", False):
        return StoreFault(f"the connection to {where} was lost. {again} Check the server and run the command "
                          "again")
    fault = file_fault(exc)
    if fault is not None:
        return StoreFault(str(fault))
    return None


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    line = str(orig if orig is not None else exc).strip().splitlines()
    return line[0][:200] if line else type(exc).__name__


def log_dir() -> Path:
    """Where unforeseen errors are logged: OBA_LOG_DIR, else ``data/logs`` in the project."""
    from etl.store import PROJECT_ROOT

    return Path(os.environ.get(LOG_DIR_ENV) or PROJECT_ROOT / "data" / "logs")


def describe_frames(exc: BaseException) -> str:
    """The traceback of ``exc`` and its causes: exception types, files, lines and code, no messages or values."""
    out = []
    seen = set()
    chain = []
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    for i, e in enumerate(reversed(chain)):
        if i:
            out.append("\nwhich led to:\n")
        out.append("Traceback (most recent call last):\n")
        for frame in traceback.extract_tb(e.__traceback__):
            out.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n')
            if frame.line:
                out.append(f"    {frame.line.strip()}\n")
        out.append(f"{type(e).__module__}.{type(e).__qualname__} (message left out: it may hold data values)\n")
    return "".join(out)


def log_unexpected(exc: BaseException, command: str = "") -> Path | None:
    """Write the traceback of an unforeseen error to a new log file; its path, or None if nothing could be written."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    body = (f"oba {command}".rstrip() + f"\n{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}\n\n"
            + describe_frames(exc))
    for folder in (log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f"oba-error-{stamp}-", suffix=".log", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            return Path(name)
        except OSError:
            continue
    return None
