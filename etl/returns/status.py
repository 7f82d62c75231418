"""Which returns have come in: per agency and quarter, received, late, missing, revised or not yet due.

Rules (also in docs/returns.md):
- A quarter's return is due on the agency's due date (board configuration, e.g. 20 working days after the
  quarter ends). With no return stored it is ``missing`` once today is past the due date, else ``not_yet_due``.
- ``late`` is True when the *first* version was received after the due date; a correction sent later does
  not make an on-time return late. ``revised`` is True when more than one version was loaded.
- The primary ``status`` is one word for the grid: ``late`` wins over ``revised`` (timeliness is the
  agreement the board monitors; a revision is normal good practice), then ``received``. Both flags are kept
  as boolean columns so a reader can show "late, revised".
- ``received_on`` is when the first version arrived (what lateness is judged on); ``current_received_on``
  when the version in use arrived. ``warnings``, ``issues`` and ``missing_measures`` describe the version in
  use (``issue_codes`` gives the code of each message); for a missing return every measure the agency
  returns is missing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from etl.store import ReturnIssue, ReturnValue, ReturnVersion
from indicators.board import Board
from indicators.periods import Quarter, quarter_range

__all__ = ["STATUS_COLUMNS", "default_periods", "return_status", "stored_periods"]

STATUS_COLUMNS = [
    "agency_code", "agency_name", "period", "period_index", "status", "late", "revised", "due_date",
    "received_on", "current_received_on", "days_late", "version", "versions", "file_name", "loaded_at",
    "loaded_by", "warnings", "missing_measures", "issues", "issue_codes",
]


def stored_periods(engine: Engine) -> list[Quarter]:
    """Every quarter with at least one return stored, oldest first."""
    with engine.connect() as conn:
        idx = conn.execute(select(ReturnVersion.period_index).distinct()).scalars().all()
    return sorted(Quarter.from_index(i) for i in idx)


def default_periods(engine: Engine, today: dt.date | None = None) -> list[Quarter]:
    """From the oldest stored quarter to the last quarter that has ended (or the newest stored, if later)."""
    last_ended = Quarter.last_ended(today)
    stored = stored_periods(engine)
    if not stored:
        return [last_ended]
    return quarter_range(stored[0], max(stored[-1], last_ended))


def return_status(engine: Engine, board: Board, periods: list[Quarter] | None = None,
                  today: dt.date | None = None) -> pd.DataFrame:
    """One row per agency and quarter, in board order then quarter order (columns: STATUS_COLUMNS)."""
    today = today or dt.date.today()
    periods = sorted({Quarter.parse(p) for p in periods}) if periods else default_periods(engine, today)
    labels = [p.label for p in periods]
    codes = [a.code for a in board.agencies]

    versions: dict[tuple[str, str], list] = defaultdict(list)
    with engine.connect() as conn:
        rows = conn.execute(
            select(ReturnVersion.id, ReturnVersion.agency_code, ReturnVersion.period, ReturnVersion.version,
                   ReturnVersion.is_current, ReturnVersion.received_on, ReturnVersion.file_name,
                   ReturnVersion.loaded_at, ReturnVersion.loaded_by)
            .where(ReturnVersion.period.in_(labels), ReturnVersion.agency_code.in_(codes))
            .order_by(ReturnVersion.version)
        ).all()
        for r in rows:
            versions[(r.agency_code, r.period)].append(r)
        current_ids = [r.id for r in rows if r.is_current]
        issues: dict[int, list[tuple[str, str]]] = defaultdict(list)
        supplied: dict[int, set[str]] = defaultdict(set)
        for chunk in _chunks(current_ids, 500):
            for rid, code, message in conn.execute(
                select(ReturnIssue.return_id, ReturnIssue.code, ReturnIssue.message)
                .where(ReturnIssue.return_id.in_(chunk), ReturnIssue.level == "warning")
                .order_by(ReturnIssue.id)
            ):
                issues[rid].append((code, message))
            for rid, code in conn.execute(
                select(ReturnValue.return_id, ReturnValue.measure_code)
                .where(ReturnValue.return_id.in_(chunk), ReturnValue.status != "blank")
            ):
                supplied[rid].add(code)

    out = []
    for agency in board.agencies:
        for q in periods:
            due = agency.due_date(q)
            vs = versions.get((agency.code, q.label), [])
            current = next((v for v in vs if v.is_current), vs[-1] if vs else None)
            row = {
                "agency_code": agency.code, "agency_name": agency.name, "period": q.label,
                "period_index": q.index, "due_date": due, "late": False, "revised": False,
                "received_on": None, "current_received_on": None, "days_late": None, "version": None,
                "versions": len(vs), "file_name": None, "loaded_at": None, "loaded_by": None,
                "warnings": 0, "missing_measures": [], "issues": [], "issue_codes": [],
            }
            if current is None:
                overdue = today > due
                row["status"] = "missing" if overdue else "not_yet_due"
                row["missing_measures"] = list(agency.measures) if overdue else []
            else:
                first = vs[0]
                late = first.received_on > due
                row.update({
                    "late": late, "revised": len(vs) > 1, "received_on": first.received_on,
                    "current_received_on": current.received_on,
                    "days_late": (first.received_on - due).days if late else 0,
                    "version": current.version, "file_name": current.file_name, "loaded_at": current.loaded_at,
                    "loaded_by": current.loaded_by,
                    "issues": [m for _, m in issues.get(current.id, [])],
                    "issue_codes": [c for c, _ in issues.get(current.id, [])],
                    "missing_measures": [m for m in agency.measures if m not in supplied.get(current.id, set())],
                })
                row["warnings"] = len(row["issues"])
                row["status"] = "late" if late else "revised" if len(vs) > 1 else "received"
            out.append(row)
    df = pd.DataFrame(out, columns=STATUS_COLUMNS)
    for col in ("version", "days_late", "versions", "warnings", "period_index"):
        df[col] = df[col].astype("Int64")
    return df


def _chunks(items: list, n: int):
    for k in range(0, len(items), n):
        yield items[k:k + n]
