"""The quarter's review: PQA's decision on each exception, and closing the quarter.

For each exception of a quarter PQA records a decision — **agreed**, **challenged** (with the reason and what
data would settle it) or **escalated** (as a critical message) — with who and when. A later decision on the
same exception is a new row: the latest is the agreed position, the earlier ones stay as its history.

Closing a quarter keeps, as one snapshot, the dataset's rows for that quarter, its exceptions and the decisions
as the board saw them, and which version of each agency's return they rest on. A return resubmitted later
then shows as "revised since the board saw it" (``revisions_since_close``) instead of silently changing what
was reported. A closed quarter's decisions cannot be changed.

The read functions return plain dicts, for the board view and the board pack as much as for the pages.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from etl import audit
from etl.errors import OBAError
from etl.governance import _ANY, Conflict, InvalidField, _check_indicator, _quarter, _text, _who
from etl.store import ExceptionDecision, QuarterClose, ReturnVersion, utcnow, writer
from indicators.board import Board
from indicators.definitions import Library

DECISIONS = ("agreed", "challenged", "escalated")
ATTENTION = ("high", "medium", "low")  # severities that make an exception (``positive`` is good news)
DECISION_WORDS = {"agreed": "Agreed", "challenged": "Challenged", "escalated": "Escalated to the critical "
                  "message log"}
ROW_COLUMNS = ("indicator_id", "value", "numerator", "denominator", "status", "rag", "target", "spc_point_type",
               "variation", "assurance", "vs_neighbours", "vs_england", "travel_quarter", "exception_codes")


class QuarterClosed(OBAError):
    """The quarter is closed: what the board saw is kept as it was."""


def _decision_dict(d: ExceptionDecision) -> dict:
    return {"id": d.id, "indicator_id": d.indicator_id, "period": d.period, "decision": d.decision,
            "reason": d.reason, "settle_with": d.settle_with, "decided_by": d.decided_by,
            "decided_at": d.decided_at, "replaces_id": d.replaces_id}


def _closed(s: Session, period: str) -> QuarterClose | None:
    return s.scalars(select(QuarterClose).where(QuarterClose.period == period)).first()


def decide_exception(engine: Engine, library: Library, indicator_id: str, period: str, decision: str,
                     reason: str | None = None, settle_with: str | None = None, decided_by: str | None = None,
                     expected=_ANY, at: dt.datetime | None = None) -> ExceptionDecision:
    """Record PQA's decision on an indicator's exception in a quarter.

    ``challenged`` needs the reason and what data would settle it; ``escalated`` needs the reason (the
    message for the business management group). ``expected``: the id of the decision the editor saw (None:
    none); a newer one raises ``Conflict``. A closed quarter's decisions cannot be changed.
    """
    _check_indicator(library, indicator_id)
    label = _quarter("period", period, "the quarter").label
    if decision not in DECISIONS:
        raise InvalidField("decision", f"the decision '{decision}' is not one of {', '.join(DECISIONS)}")
    reason = _text("reason", reason, "the reason", required=decision != "agreed")
    settle_with = _text("settle_with", settle_with, "what data would settle it", required=decision == "challenged")
    who = _who(decided_by)
    with Session(writer(engine), expire_on_commit=False) as s, s.begin():
        if _closed(s, label) is not None:
            raise QuarterClosed(f"{label} is closed: its decisions are kept as the board saw them. Record the "
                                "position in the next quarter's review instead.")
        latest = s.scalars(select(ExceptionDecision).where(ExceptionDecision.indicator_id == indicator_id,
                                                           ExceptionDecision.period == label)
                           .order_by(ExceptionDecision.decided_at.desc(), ExceptionDecision.id.desc())).first()
        if expected is not _ANY and (latest.id if latest else None) != expected:
            raise Conflict(f"{latest.decided_by} recorded a decision on this exception at "
                           f"{latest.decided_at:%H:%M on %d %B %Y} after you opened it, so yours was not saved. "
                           "Both are shown: save again to replace theirs.", _decision_dict(latest))
        row = ExceptionDecision(indicator_id=indicator_id, period=label, decision=decision, reason=reason,
                                settle_with=settle_with, decided_by=who, decided_at=at or utcnow(),
                                replaces_id=latest.id if latest else None)
        s.add(row)
        audit.record(s.connection(), "exception.decision", f"{indicator_id} {label}",
                     before=None if latest is None else {"decision": latest.decision, "reason": latest.reason},
                     after={"decision": decision, "reason": reason, "settle_with": settle_with})
    return row


def escalate_exception(engine: Engine, board: Board, library: Library, indicator_id: str, period: str,
                       message: str, decided_by: str | None = None, expected=_ANY,
                       at: dt.datetime | None = None) -> tuple[ExceptionDecision, Any]:
    """Escalate an exception: record the decision and raise its critical message in the log, for the sub-group
    of the indicator's first priority that has one (source ``exception``, linked to the indicator)."""
    from etl.messages import raise_message

    ind = library.indicators.get(indicator_id)
    groups = [board.priority(p).subgroup for p in (ind.priorities if ind else []) if p in
              {x.id for x in board.priorities}]
    group = next((g for g in groups if g), board.subgroups[0].id if board.subgroups else "")
    message = _text("reason", message, "the critical message")
    row = decide_exception(engine, library, indicator_id, period, "escalated", message, None, decided_by, expected,
                           at)
    msg = raise_message(engine, board, library, by=decided_by, at=at, group_id=group, message=message,
                        raised_on=(at or utcnow()).date(), source="exception", source_ref=f"{indicator_id} {row.period}",
                        indicators=[indicator_id])
    return row, msg


def exception_decisions(engine: Engine, period: str) -> dict[str, dict]:
    """indicator id → PQA's latest decision on its exception in ``period`` (decision, reason, settle_with,
    decided_by, decided_at, and ``history``: the earlier decisions, newest first)."""
    label = _quarter("period", period, "the quarter").label
    with Session(engine) as s:
        rows = s.scalars(select(ExceptionDecision).where(ExceptionDecision.period == label)
                         .order_by(ExceptionDecision.decided_at.desc(), ExceptionDecision.id.desc())).all()
        out: dict[str, dict] = {}
        for r in rows:
            if r.indicator_id in out:
                out[r.indicator_id]["history"].append(_decision_dict(r))
            else:
                out[r.indicator_id] = {**_decision_dict(r), "history": []}
    return out


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def close_quarter(engine: Engine, board: Board, library: Library, period: str, closed_by: str | None = None,
                  at: dt.datetime | None = None, dataset=None) -> dict:
    """Close ``period``: keep the dataset's rows, exceptions and decisions as the board saw them.

    Refused while an exception has no decision (PQA has not finished the review), and for a quarter already
    closed. Returns the snapshot (``closed_quarter_snapshot``). ``dataset``: the dataset as of ``period``
    when the caller has it already (it is built from the store otherwise).
    """
    from etl.access import load_dataset

    q = _quarter("period", period, "the quarter")
    label = q.label
    ds = dataset if dataset is not None else load_dataset(engine, board, library, period=q, forecasts=False)
    if ds.period is None or ds.period != q:
        raise OBAError(f"there are no returns for {label}, so there is nothing to close")
    rows = ds.at(q)
    ex = ds.exceptions
    attention = ex[ex["severity"].isin(ATTENTION) & (ex["area_code"] == ds.area_code)]
    decisions = exception_decisions(engine, label)
    undecided = sorted(set(attention["indicator_id"]) - set(decisions))
    if undecided:
        raise OBAError(f"{len(undecided)} exception{'s' * (len(undecided) != 1)} of {label} "
                       f"{'have' if len(undecided) != 1 else 'has'} no decision yet ({', '.join(undecided)}): "
                       "record PQA's decision on each (agreed, challenged or escalated), then close the quarter")
    with engine.connect() as conn:
        versions = conn.execute(select(ReturnVersion.agency_code, ReturnVersion.period, ReturnVersion.version)
                                .where(ReturnVersion.is_current.is_(True),
                                       ReturnVersion.period_index <= q.index)).all()
    who = _who(closed_by)
    when = at or utcnow()
    snapshot = {
        "period": label, "closed_by": who, "closed_at": when.isoformat(timespec="seconds"),
        "rows": [{c: _plain(r.get(c)) for c in ROW_COLUMNS} for r in rows.to_dict("records")],
        "exceptions": [{"indicator_id": r["indicator_id"], "priority_id": r.get("priority_id"), "code": r["code"],
                        "severity": r["severity"], "sentence": r["sentence"]}
                       for r in attention.to_dict("records")],
        "decisions": {k: {f: _plain(v[f]) for f in ("decision", "reason", "settle_with", "decided_by",
                                                     "decided_at")} for k, v in decisions.items()},
        "returns": {f"{a}|{p}": int(v) for a, p, v in versions},
    }
    with Session(writer(engine), expire_on_commit=False) as s, s.begin():
        if _closed(s, label) is not None:
            raise QuarterClosed(f"{label} is already closed; nothing was changed")
        s.add(QuarterClose(period=label, closed_by=who, closed_at=when,
                           snapshot=json.dumps(snapshot, sort_keys=True, ensure_ascii=False)))
        audit.record(s.connection(), "quarter.close", label,
                     after={"rows": len(snapshot["rows"]), "exceptions": len(snapshot["exceptions"]),
                            "decisions": len(snapshot["decisions"])})
    return snapshot


def closed_quarter_snapshot(engine: Engine, period: str) -> dict | None:
    """The snapshot kept when ``period`` was closed (rows, exceptions, decisions, returns), or None if open."""
    label = _quarter("period", period, "the quarter").label
    with Session(engine) as s:
        row = _closed(s, label)
        return None if row is None else json.loads(row.snapshot)


def closed_quarters(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [p for (p,) in conn.execute(select(QuarterClose.period).order_by(QuarterClose.closed_at))]


def revisions_since_close(engine: Engine, snapshot: dict, rows: list[dict] | None = None) -> dict:
    """What changed since the board saw a closed quarter: the returns resubmitted since (agency, quarter, the
    version the board saw, the version now) and, given the dataset's ``rows`` for that quarter now, the
    indicators whose value moved (was, now)."""
    seen = snapshot.get("returns", {})
    with engine.connect() as conn:
        now = conn.execute(select(ReturnVersion.agency_code, ReturnVersion.period, ReturnVersion.version)
                           .where(ReturnVersion.is_current.is_(True))).all()
    returns = []
    for agency, period, version in now:
        before = seen.get(f"{agency}|{period}")
        if before is not None and int(version) != int(before):
            returns.append({"agency_code": agency, "period": period, "seen_version": int(before),
                            "version": int(version)})
    values = []
    if rows is not None:
        then = {r["indicator_id"]: r for r in snapshot.get("rows", [])}
        for r in rows:
            old = then.get(r.get("indicator_id"))
            if old is None:
                continue
            a, b = old.get("value"), _plain(r.get("value"))
            if (a is None) != (b is None) or (a is not None and b is not None and abs(a - b) > 1e-9):
                values.append({"indicator_id": r["indicator_id"], "was": a, "now": b,
                               "was_status": old.get("status"), "status": r.get("status")})
    return {"returns": sorted(returns, key=lambda x: (x["period"], x["agency_code"])), "values": values}


# --- commands ------------------------------------------------------------------------------------------

@click.group("review")
def review_group() -> None:
    """PQA's decisions on a quarter's exceptions, and closing the quarter."""


@review_group.command("decide")
@click.argument("indicator")
@click.option("--period", required=True, help="The quarter, e.g. '2026-27 Q1'.")
@click.option("--decision", required=True, type=click.Choice(DECISIONS))
@click.option("--reason", help="Why (required to challenge or escalate).")
@click.option("--settle-with", help="What data would settle a challenge.")
@click.pass_obj
def decide_cmd(app, indicator, period, decision, reason, settle_with) -> None:
    """Record PQA's decision on INDICATOR's exception in a quarter."""
    if decision == "escalated":
        row, msg = escalate_exception(app.engine(), app.board(), app.library(), indicator, period, reason or "",
                                      app.user)
        click.echo(f"Recorded: {indicator} in {row.period} escalated; critical message {msg.id} raised for the "
                   "business management group.")
        return
    row = decide_exception(app.engine(), app.library(), indicator, period, decision, reason, settle_with, app.user)
    click.echo(f"Recorded: {indicator} in {row.period} {DECISION_WORDS[decision].lower()}.")


@review_group.command("close")
@click.option("--period", required=True, help="The quarter to close, e.g. '2026-27 Q1'.")
@click.pass_obj
def close_cmd(app, period) -> None:
    """Close a quarter: keep the dataset, exceptions and decisions as the board saw them."""
    snap = close_quarter(app.engine(), app.board(), app.library(), period, app.user)
    click.echo(f"Closed {snap['period']}: {len(snap['rows'])} indicators, "
               f"{len({e['indicator_id'] for e in snap['exceptions']})} exceptions and "
               f"{len(snap['decisions'])} decisions kept as the board saw them.")


@review_group.command("show")
@click.option("--period", required=True, help="The quarter, e.g. '2026-27 Q1'.")
@click.pass_obj
def show_cmd(app, period) -> None:
    """The decisions on a quarter's exceptions, and whether it is closed."""
    engine = app.engine()
    decisions = exception_decisions(engine, period)
    label = _quarter("period", period, "the quarter").label
    snap = closed_quarter_snapshot(engine, label)
    click.echo(f"{label}: " + (f"closed by {snap['closed_by']} on {snap['closed_at'][:10]}." if snap else "open."))
    for ind, d in sorted(decisions.items()):
        extra = f" — {d['reason']}" if d["reason"] else ""
        settle = f" (would settle it: {d['settle_with']})" if d["settle_with"] else ""
        click.echo(f"  {ind}: {d['decision']} by {d['decided_by']}{extra}{settle}")
    if snap:
        rev = revisions_since_close(engine, snap)
        for r in rev["returns"]:
            click.echo(f"  Revised since the board saw it: {r['agency_code']} {r['period']} "
                       f"(version {r['seen_version']} then, {r['version']} now)")
