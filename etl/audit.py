"""The audit trail: every change to what the store keeps, and every sign-in, with who, what, when, before, after.

A change and its audit event are written in the same transaction (``record(conn, ...)`` takes the connection
the change is being written on), so there is never a change without its record, nor a record of a change that
was rolled back. Who is acting comes from ``acting_as``: the command line acts as the login name (``OBA_USER``
overrides it), the dashboard as the signed-in user of the request.

Actions (``ACTIONS``) are stable codes; ``before`` and ``after`` are JSON objects of what changed.
"""

from __future__ import annotations

import contextvars
import csv
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from etl.safe_cells import escape_cell
from etl.store import AuditEvent, utcnow

ACTIONS = {
    "returns.load": "a return loaded (a first version)",
    "returns.revise": "a resubmitted return loaded as a new version",
    "benchmarks.import": "a published DfE/ONS file imported",
    "neighbours.import": "a statistical neighbour list imported",
    "curve.story": "the story behind an indicator's baseline recorded",
    "curve.action": "an action added to an indicator's action plan",
    "curve.rebase": "a decision to start new SPC limits recorded",
    "curve.action.update": "an action of an action plan changed (status, owner, due date, wording)",
    "curve.freeze": "an indicator's baseline frozen when its action plan started",
    "curve.unfreeze": "a decision to undo a baseline freeze recorded",
    "curve.target": "a change of target or tolerance recorded, from a quarter on",
    "exception.decision": "PQA's decision on an exception recorded (agreed, challenged, escalated)",
    "quarter.close": "a quarter closed: the dataset as the board saw it kept as a snapshot",
    "message.add": "a critical message raised for the business management group",
    "message.update": "a critical message changed (the BMG's decision, its action, progress)",
    "report_card.add": "a sub-group's report card for a meeting created",
    "report_card.update": "a report card changed",
    "evidence.add": "a finding from an audit, self-assessment, review, inspection or feedback recorded",
    "evidence.update": "a recorded finding changed",
    "source.add": "an information source added to the table",
    "source.update": "an information source changed (last received, next due)",
    "user.add": "an account created",
    "user.disable": "an account disabled (its sessions ended)",
    "user.enable": "a disabled account enabled again",
    "user.password": "an account's password reset",
    "user.role": "an account's role or agency changed",
    "signin": "a successful sign-in",
    "signin.failed": "a failed sign-in (wrong name or password, disabled account)",
    "signin.refused": "a sign-in refused because of too many failures",
    "signout": "a sign-out",
    "store.restore": "the store replaced from a backup",
}

COLUMNS = ["id", "at", "actor", "role", "source", "address", "action", "target", "before", "after", "detail"]


@dataclass(frozen=True)
class Actor:
    """Who is acting: a name, their role (None on the command line and the open demo), where from."""

    name: str
    role: str | None = None
    source: str = "cli"  # cli | web
    address: str | None = None


_ACTOR: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("oba_actor", default=None)


def current_actor() -> Actor:
    """The actor set by ``acting_as``, else the command line's user."""
    actor = _ACTOR.get()
    if actor is not None:
        return actor
    from etl.context import current_user

    return Actor(current_user())


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Attribute every change made inside the block to ``actor``."""
    token = _ACTOR.set(actor)
    try:
        yield actor
    finally:
        _ACTOR.reset(token)


def set_actor(actor: Actor | None) -> contextvars.Token:
    """Set the actor until ``reset_actor(token)`` (for a web request's lifetime)."""
    return _ACTOR.set(actor)


def reset_actor(token: contextvars.Token) -> None:
    _ACTOR.reset(token)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str, sort_keys=True, ensure_ascii=False)


def record(conn: Connection, action: str, target: str | None = None, before: Any = None, after: Any = None,
           detail: str | None = None, actor: Actor | None = None) -> None:
    """Add one event, on ``conn`` (inside the transaction that makes the change)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    who = actor or current_actor()
    conn.execute(insert(AuditEvent).values(
        at=utcnow(), actor=who.name[:120], role=who.role, source=who.source[:8],
        address=(who.address or None) and who.address[:64], action=action,
        target=(target or None) and target[:200], before=_json(before), after=_json(after), detail=detail))


def record_now(engine: Engine, action: str, target: str | None = None, before: Any = None, after: Any = None,
               detail: str | None = None, actor: Actor | None = None) -> None:
    """Add one event in a transaction of its own (sign-ins, which change nothing else)."""
    from etl.store import writer

    with writer(engine).begin() as conn:
        record(conn, action, target, before, after, detail, actor)


def read_events(engine: Engine, *, action: str | None = None, actor: str | None = None,
                since: dt.datetime | dt.date | None = None, until: dt.datetime | dt.date | None = None,
                text: str | None = None, limit: int | None = None) -> list[dict]:
    """Events newest first, filtered: ``action`` is a code or a prefix ending in '.' ("user."), ``actor`` an
    exact name, ``since``/``until`` inclusive bounds (a date means the whole day), ``text`` a substring of the
    target or detail."""
    stmt = select(*[getattr(AuditEvent, c) for c in COLUMNS])
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action) if action.endswith(".")
                          else AuditEvent.action == action)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if since is not None:
        start = since if isinstance(since, dt.datetime) else dt.datetime.combine(since, dt.time.min)
        stmt = stmt.where(AuditEvent.at >= start)
    if until is not None:
        end = until if isinstance(until, dt.datetime) else dt.datetime.combine(until, dt.time.max)
        stmt = stmt.where(AuditEvent.at <= end)
    if text:
        like = f"%{text}%"
        stmt = stmt.where(AuditEvent.target.like(like) | AuditEvent.detail.like(like))
    stmt = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run (``etl.safe_cells``): text starting =, +, -, @, tab or CR gets a
    leading apostrophe; a signed number stays a number."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return escape_cell(value)


def write_csv(events: list[dict], out) -> int:
    """Write events as CSV to a text stream; return how many."""
    w = csv.writer(out)
    w.writerow(COLUMNS)
    for e in events:
        w.writerow([_cell(e.get(c)) for c in COLUMNS])
    return len(events)


def export_csv(engine: Engine, path: Path, **filters) -> int:
    """Write the (filtered) audit trail to ``path`` as CSV, oldest first; return the number of events."""
    events = list(reversed(read_events(engine, **filters)))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        n = write_csv(events, fh)
    tmp.replace(path)
    return n
