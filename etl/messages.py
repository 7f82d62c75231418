"""The critical message log (seed 000, appendix 3).

A sub-group raises a critical message for the business management group (BMG) — from a report card, from an
exception PQA escalated, or directly. The BMG decides at a meeting whether it goes **to the board**, **not to
the board**, or is **noted**; each message has an action, by whom, why, by when, the date completed and a status.
A message not done by its due date is **overdue**, whatever its status said. Messages decided "to the board"
are the ones the board view, the slides and the board pack show (``critical_messages(engine, to_board=True)``).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from etl.audit import _cell
from etl.errors import OBAError
from etl.governance import InvalidField, _date, _text
from etl.records import save, versions
from etl.store import CriticalMessage
from indicators.board import Board
from indicators.definitions import Library

DECISIONS = {"to_board": "To the board", "not_to_board": "Not to the board", "noted": "Noted"}
STATUSES = {"open": "Open", "in_progress": "In progress", "done": "Done", "overdue": "Overdue"}
SOURCES = ("direct", "exception", "report_card")
FIELDS = ("group_id", "message", "raised_on", "source", "source_ref", "bmg_meeting", "decision", "action", "owner",
          "why", "due", "completed_on", "status", "indicators")
COLUMNS = ["Group", "Critical message", "Date raised", "BMG meeting", "CM to Board", "Action", "By who", "Why",
           "By when", "Date completed", "Status", "Linked indicators"]


def _clean(board: Board, library: Library, values: dict) -> dict:
    groups = {g.id for g in board.subgroups}
    group = (values.get("group_id") or "").strip()
    if group not in groups:
        raise InvalidField("group_id", f"'{group}' is not a sub-group in the board file; choose one of "
                                       f"{', '.join(sorted(groups)) or '(none: add sub-groups to the board file)'}")
    out = {"group_id": group, "message": _text("message", values.get("message"), "the critical message")}
    out["raised_on"] = _date("raised_on", values.get("raised_on"), "the date raised") or dt.date.today()
    source = values.get("source") or "direct"
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    out["source"], out["source_ref"] = source, (values.get("source_ref") or None)
    out["bmg_meeting"] = _date("bmg_meeting", values.get("bmg_meeting"), "the BMG meeting date")
    decision = values.get("decision") or None
    if decision is not None and decision not in DECISIONS:
        raise InvalidField("decision", f"the decision '{decision}' is not one of {', '.join(DECISIONS)}")
    if decision is not None and out["bmg_meeting"] is None:
        raise InvalidField("bmg_meeting", "a BMG decision needs the date of the meeting that made it")
    out["decision"] = decision
    out["action"] = _text("action", values.get("action"), "the action", required=False)
    out["owner"] = _text("owner", values.get("owner"), "by whom", required=False, limit=120)
    out["why"] = _text("why", values.get("why"), "why", required=False)
    out["due"] = _date("due", values.get("due"), "the date it is due by")
    out["completed_on"] = _date("completed_on", values.get("completed_on"), "the date completed")
    status = values.get("status") or ("done" if out["completed_on"] else "open")
    if status not in ("open", "in_progress", "done"):
        raise InvalidField("status", f"the status '{status}' is not one of open, in_progress, done")
    if out["completed_on"] is not None and status != "done":
        raise InvalidField("completed_on", "only a done message has a completion date: set the status to done, "
                                           "or clear the date")
    if out["completed_on"] is not None and out["completed_on"] > dt.date.today():
        raise InvalidField("completed_on", f"the date completed ({out['completed_on']:%d %B %Y}) is in the future")
    if out["completed_on"] is not None and out["completed_on"] < out["raised_on"]:
        raise InvalidField("completed_on", "the date completed is before the date the message was raised")
    if out["due"] is not None and out["due"] < out["raised_on"]:
        raise InvalidField("due", "the date it is due by is before the date the message was raised")
    if status == "done" and out["completed_on"] is None:
        out["completed_on"] = dt.date.today()
    out["status"] = status
    inds = values.get("indicators") or []
    if isinstance(inds, str):
        inds = [i.strip() for i in inds.split(",") if i.strip()]
    unknown = [i for i in inds if i not in library.indicators]
    if unknown:
        raise InvalidField("indicators", f"no indicator {', '.join(repr(i) for i in unknown)} in the definitions")
    out["indicators"] = ",".join(dict.fromkeys(inds))
    return out


def raise_message(engine: Engine, board: Board, library: Library, by: str | None = None,
                  at: dt.datetime | None = None, **values) -> CriticalMessage:
    """Raise a critical message (fields as in ``FIELDS``; ``group_id`` and ``message`` required)."""
    return save(engine, CriticalMessage, "critical_message", FIELDS, _clean(board, library, values), by=by, at=at,
                audit_action="message.add", target="critical message")


def update_message(engine: Engine, board: Board, library: Library, message_id: int, expected: int | None,
                   by: str | None = None, at: dt.datetime | None = None, **changes) -> CriticalMessage:
    """Change a critical message (the BMG's decision, the action, its progress); the earlier version is kept."""
    with Session(engine) as s:
        row = s.get(CriticalMessage, message_id)
        if row is None:
            raise OBAError(f"there is no critical message number {message_id}; nothing was changed")
        current = {f: getattr(row, f) for f in FIELDS}
    current["indicators"] = [i for i in current["indicators"].split(",") if i]
    values = _clean(board, library, {**current, **changes})
    return save(engine, CriticalMessage, "critical_message", FIELDS, values, record_id=message_id, expected=expected,
                by=by, at=at, audit_action="message.update", target="critical message")


def standing(status: str, due: dt.date | None, today: dt.date | None = None) -> str:
    """The status to show: overdue when past its due date and not done."""
    today = today or dt.date.today()
    return "overdue" if status != "done" and due is not None and due < today else status


def critical_messages(engine: Engine, to_board: bool | None = None, group: str | None = None,
                      today: dt.date | None = None, source_ref: str | None = None) -> list[dict]:
    """The log, newest raised first: id, group, message, raised_on, bmg_meeting, decision, action, owner, why,
    due, completed_on, status (``standing``: overdue when past due and not done), indicators (a list), source,
    source_ref, version, created_by, created_at, updated_by, updated_at. ``to_board`` True: only those the BMG
    sent to the board; False: only the others."""
    stmt = select(CriticalMessage).order_by(CriticalMessage.raised_on.desc(), CriticalMessage.id.desc())
    if to_board is True:
        stmt = stmt.where(CriticalMessage.decision == "to_board")
    elif to_board is False:
        stmt = stmt.where((CriticalMessage.decision.is_(None)) | (CriticalMessage.decision != "to_board"))
    if group:
        stmt = stmt.where(CriticalMessage.group_id == group)
    if source_ref:
        stmt = stmt.where(CriticalMessage.source_ref == source_ref)
    with Session(engine) as s:
        rows = s.scalars(stmt).all()
        out = []
        for r in rows:
            d = {f: getattr(r, f) for f in FIELDS}
            d["group"] = d.pop("group_id")
            d["indicators"] = [i for i in r.indicators.split(",") if i]
            d.update(id=r.id, standing=standing(r.status, r.due, today), version=r.version, created_by=r.created_by,
                     created_at=r.created_at, updated_by=r.updated_by, updated_at=r.updated_at)
            out.append(d)
    return out


def message_versions(engine: Engine, message_id: int) -> list[dict]:
    return versions(engine, "critical_message", message_id)


# --- export in the template's layout ----------------------------------------------------------------------

def _row(m: dict, groups: dict[str, str], labels: dict[str, str]) -> list:
    return [groups.get(m["group"], m["group"]), m["message"], m["raised_on"], m["bmg_meeting"],
            DECISIONS.get(m["decision"] or "", "Not yet decided"), m["action"] or "", m["owner"] or "",
            m["why"] or "", m["due"], m["completed_on"], STATUSES.get(m["standing"], m["standing"]),
            ", ".join(labels.get(i, i) for i in m["indicators"])]


def export_messages(engine: Engine, board: Board, library: Library, path: Path, fmt: str,
                    to_board: bool | None = None, today: dt.date | None = None) -> int:
    """Write the log to ``path`` as xlsx or csv in the template's columns; return the number of messages.

    The workbook has the template's title ("Critical Messages for the Business Management Group to consider at
    the meeting on …", the next BMG meeting in the log), one row per message with overdue ones filled red and
    their status "Overdue", and the columns sized to read; the CSV is the header and the rows."""
    msgs = critical_messages(engine, to_board=to_board, today=today)
    groups = {g.id: g.name for g in board.subgroups}
    labels = {i: ind.label for i, ind in library.indicators.items()}
    rows = [_row(m, groups, labels) for m in msgs]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    if fmt == "csv":
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            for r in rows:
                w.writerow([_cell(x.isoformat() if isinstance(x, dt.date) else ("" if x is None else x)) for x in r])
    elif fmt == "xlsx":
        _write_xlsx(tmp, board, msgs, rows, today)
    else:
        raise OBAError(f"unknown format '{fmt}': use xlsx or csv")
    tmp.replace(path)
    return len(rows)


def _write_xlsx(path: Path, board: Board, msgs: list[dict], rows: list[list], today: dt.date | None) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    today = today or dt.date.today()
    upcoming = sorted({m["bmg_meeting"] for m in msgs if m["bmg_meeting"] and m["bmg_meeting"] >= today})
    meeting = f"{upcoming[0]:%-d %B %Y}" if upcoming else "(date to be set)"
    wb = Workbook()
    ws = wb.active
    ws.title = "Critical message log"
    ws["A1"] = f"{board.name}: Critical Message Action Log {today.year}"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = f"Critical Messages for the Business Management Group to consider at the meeting on {meeting}"
    ws["A2"].font = Font(bold=True)
    ws["A3"] = ("Populated from the sub-groups' report cards, escalated exceptions and messages raised directly; "
                "the BMG decides whether each critical message (CM) goes to the board.")
    ws.append([])
    ws.append(COLUMNS)
    header = ws.max_row
    for c in ws[header]:
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="D9D9D9")
        c.alignment = Alignment(wrap_text=True, vertical="top")
    red = PatternFill("solid", fgColor="F4CCCC")
    for m, r in zip(msgs, rows, strict=True):
        ws.append([_cell(x) if isinstance(x, str) else x for x in r])
        for c in ws[ws.max_row]:
            c.alignment = Alignment(wrap_text=True, vertical="top")
            if isinstance(c.value, dt.date):
                c.number_format = "dd/mm/yyyy"
            if m["standing"] == "overdue":
                c.fill = red
    for col, width in zip("ABCDEFGHIJKL", (18, 48, 12, 12, 16, 36, 20, 30, 12, 12, 12, 24), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    wb.save(path)
