"""Load checked returns into the store: one transaction per file, versioned, idempotent.

A file with errors loads nothing. A file identical to the current version (same SHA-256, or the same figures,
statuses and notes) changes nothing. A different file for the same agency and quarter becomes a new version;
the earlier one is kept, marked superseded, and the load reports each changed figure. Warnings are stored
with the version. On SQLite the transaction takes the write lock at BEGIN (``etl.store.writer``) so loads
queue rather than deadlock; on PostgreSQL an advisory lock per agency and quarter serialises resubmissions.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from etl import audit
from etl.errors import OBAError
from etl.returns import layout as L
from etl.returns.issues import WARNING, Issue, make_issue
from etl.returns.reader import CheckResult, check_file
from etl.store import ReturnIssue, ReturnValue, ReturnVersion, lock_for, utcnow, writer
from indicators.board import Board
from indicators.definitions import Library
from indicators.periods import Quarter

__all__ = ["Change", "LoadResult", "StoreWriteError", "load_file", "load_files"]

# Test hook: when set to a path, a load creates "<path>.ready" inside its transaction (after writing, before
# committing) and then sleeps, so a test can kill the process mid-load. Never set in normal use.
PAUSE_ENV = "OBA_RETURNS_TEST_PAUSE"


class StoreWriteError(OBAError):
    """The store could not be written; nothing from the file was stored."""


@dataclass(frozen=True)
class Change:
    """One figure that a resubmission changed. ``old``/``new`` are numbers, a suppression marker as typed
    (e.g. "c"), or None for not supplied."""

    measure: str
    old: float | str | None
    new: float | str | None

    def __iter__(self):  # unpacks as (measure, old, new)
        return iter((self.measure, self.old, self.new))

    def __str__(self) -> str:
        return f"{self.measure} from {_show(self.old)} to {_show(self.new)}"


@dataclass
class LoadResult:
    """What loading one file did. ``outcome``: loaded | unchanged | revised | rejected."""

    file: str
    outcome: str
    agency: str | None = None
    period: Quarter | None = None
    version: int | None = None
    previous_version: int | None = None
    changes: list[Change] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    sha256: str | None = None
    same_file: bool = False  # for "unchanged": the very same bytes (else the same figures in another file)

    @property
    def ok(self) -> bool:
        return self.outcome != "rejected"

    @property
    def message(self) -> str:
        what = f"{self.agency} {self.period.label}" if self.agency and self.period else "the return"
        warnings = sum(i.level == WARNING for i in self.issues)
        warn = f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""
        if self.outcome == "rejected":
            errors = sum(i.is_error for i in self.issues)
            return (f"rejected: {errors} error{'s' * (errors != 1)}, nothing loaded; fix the errors above and "
                    "load it again")
        if self.outcome == "loaded":
            return f"loaded {what} as version {self.version}{warn}"
        if self.outcome == "unchanged":
            how = "the same file" if self.same_file else "the same figures"
            return f"unchanged: {what} version {self.version} already holds {how}; nothing was changed"
        n = len(self.changes)
        figures = f"{n} figure{'s' * (n != 1)} changed" if n else "only notes, the commentary or the contact changed"
        return f"revised {what}: version {self.version} replaces version {self.previous_version} ({figures}{warn})"


def load_file(engine: Engine, board: Board, library: Library, path: Path | str, user: str,
              received_on: dt.date | None = None, *, expected_agency: str | None = None,
              expected_period: Quarter | str | None = None, today: dt.date | None = None) -> LoadResult:
    """Check one file and, if it has no errors, store it as a new version (or recognise it as unchanged)."""
    path = Path(path)
    today = today or dt.date.today()
    check = check_file(path, board, library, expected_agency, expected_period, today=today)
    result = LoadResult(path.name, "rejected", check.agency, check.period, issues=list(check.issues),
                        sha256=check.sha256)
    if not check.ok or check.agency is None or check.period is None:
        return result
    received_on = received_on or today
    try:
        _store(engine, check, result, user, received_on)
    except SQLAlchemyError as exc:
        raise StoreWriteError(f"could not write {path.name} to the store ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:200]}); nothing from this file was stored. "
                              "Try again; if it persists, check the database is reachable and not full") from None
    return result


def load_files(engine: Engine, board: Board, library: Library, paths: Iterable[Path | str], user: str,
               received_on: dt.date | None = None, **kwargs) -> list[LoadResult]:
    """Load many files, each in its own transaction: one file's errors do not stop the others."""
    return [load_file(engine, board, library, p, user, received_on, **kwargs) for p in paths]


def _entry(pv) -> tuple:
    """What makes two returns 'the same': figure, status and note of every measure."""
    return (pv.value, pv.status, pv.note or None)


def _store(engine: Engine, check: CheckResult, result: LoadResult, user: str, received_on: dt.date) -> None:
    agency, period = check.agency, check.period
    with writer(engine).begin() as conn:
        _lock(conn, agency, period)
        current = conn.execute(
            select(ReturnVersion.id, ReturnVersion.version, ReturnVersion.sha256, ReturnVersion.contact,
                   ReturnVersion.commentary)
            .where(ReturnVersion.agency_code == agency, ReturnVersion.period == period.label,
                   ReturnVersion.is_current.is_(True))
        ).first()
        new_values = {code: _entry(pv) for code, pv in check.values.items()}
        changes: list[Change] = []
        if current is not None:
            old_rows = conn.execute(
                select(ReturnValue.measure_code, ReturnValue.value, ReturnValue.status, ReturnValue.raw,
                       ReturnValue.note).where(ReturnValue.return_id == current.id)
            ).all()
            old_values = {r.measure_code: (r.value, r.status, r.note or None) for r in old_rows}
            old_raw = {r.measure_code: r.raw for r in old_rows}
            if current.sha256 == check.sha256 or (old_values == new_values
                                                  and (check.contact or None) == (current.contact or None)
                                                  and (check.commentary or None) == (current.commentary or None)):
                result.outcome, result.version = "unchanged", current.version
                result.same_file = current.sha256 == check.sha256
                return
            for code in dict.fromkeys([*check.values, *old_values]):
                old = old_values.get(code, (None, "blank", None))
                new = new_values.get(code, (None, "blank", None))
                if old[:2] != new[:2]:
                    pv = check.values.get(code)
                    changes.append(Change(code, _display(old[0], old[1], old_raw.get(code)),
                                          _display(new[0], new[1], pv.raw if pv else None)))
        issues = list(check.issues)
        same = _same_as_last_quarter(conn, agency, period, new_values)
        if same:
            issues.append(make_issue("same-as-last-quarter", check.file, same, sheet=check.sheet))

        number = (conn.execute(select(func.max(ReturnVersion.version)).where(
            ReturnVersion.agency_code == agency, ReturnVersion.period == period.label)).scalar() or 0) + 1
        now = utcnow()
        if current is not None:
            conn.execute(update(ReturnVersion).where(ReturnVersion.id == current.id)
                         .values(is_current=False, superseded_at=now))
        new_id = conn.execute(insert(ReturnVersion).values(
            agency_code=agency, period=period.label, period_index=period.index, version=number, is_current=True,
            file_name=check.file[:255], sha256=check.sha256, received_on=received_on, loaded_at=now,
            loaded_by=user[:120], superseded_at=None, contact=check.contact, commentary=check.commentary,
        ).returning(ReturnVersion.id)).scalar_one()
        conn.execute(insert(ReturnValue), [
            {"return_id": new_id, "measure_code": code, "value": pv.value, "status": pv.status,
             "raw": pv.raw[:255] if pv.raw else None, "note": pv.note}
            for code, pv in check.values.items()
        ])
        warnings = [i for i in issues if i.level == WARNING]
        if warnings:
            conn.execute(insert(ReturnIssue), [
                {"return_id": new_id, "level": i.level, "code": i.code, "sheet": (i.sheet or None) and i.sheet[:64],
                 "cell": (i.cell or None) and i.cell[:16], "measure_code": i.measure, "message": i.message}
                for i in warnings
            ])
        audit.record(conn, "returns.revise" if current is not None else "returns.load", f"{agency} {period.label}",
                     before=None if current is None else {"version": current.version, "sha256": current.sha256},
                     after={"version": number, "file": check.file[:255], "sha256": check.sha256,
                            "received_on": received_on, "warnings": len(warnings),
                            "changes": [str(c) for c in changes]})
        _pause_for_tests()
        result.outcome = "revised" if current is not None else "loaded"
        result.version = number
        result.previous_version = current.version if current is not None else None
        result.changes = changes
        result.issues = issues


def _lock(conn: Connection, agency: str, period: Quarter) -> None:
    """Serialise loads of the same agency and quarter (SQLite: BEGIN IMMEDIATE already serialises writers)."""
    lock_for(conn, f"return:{agency}:{period.label}")


def _same_as_last_quarter(conn: Connection, agency: str, period: Quarter, new_values: dict) -> str | None:
    """A message when every figure equals the previous quarter's (last quarter's file relabelled and resent)."""
    figures = {c: v[:2] for c, v in new_values.items()}
    if sum(1 for v, s in figures.values() if s == "ok" and v) < 2:
        return None
    prev = (period - 1).label
    rows = conn.execute(
        select(ReturnValue.measure_code, ReturnValue.value, ReturnValue.status)
        .join(ReturnVersion, ReturnValue.return_id == ReturnVersion.id)
        .where(ReturnVersion.agency_code == agency, ReturnVersion.period == prev, ReturnVersion.is_current.is_(True))
    ).all()
    if rows and {r.measure_code: (r.value, r.status) for r in rows} == figures:
        return (f"every figure is identical to {prev}'s return: check these are {period.label}'s figures and "
                "not last quarter's sent again")
    return None


def _display(value: float | None, status: str, raw: str | None) -> float | str | None:
    if status == "suppressed":
        return raw or "c"
    return value


def _show(v: float | str | None) -> str:
    if v is None:
        return "not supplied"
    if isinstance(v, str):
        return f"'{v}' (suppressed)"
    return L.fmt_number(v)


def _pause_for_tests() -> None:
    marker = os.environ.get(PAUSE_ENV)
    if marker:
        Path(marker + ".ready").write_text(str(os.getpid()))
        time.sleep(float(os.environ.get(PAUSE_ENV + "_SECONDS", "60")))
