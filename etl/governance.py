"""Turn-the-curve records: the story behind a baseline, action plan items, SPC rebase decisions, freezing and
unfreezing the baseline, and target changes.

Each is written with who and when, and nothing is overwritten without trace: a story is kept as versions, an
action's every change is a row of ``action_update``, and decisions are rows of their own. A story may freeze the
baseline at the quarter an action plan starts (the dataset then asks "has the curve turned?"); undoing a freeze
is a recorded decision with its reason. A rebase decision starts new SPC limits at a quarter, which MDC guidance
says must be a recorded decision, never automatic. A target change takes effect from a quarter; earlier
quarters keep the target they had.

Two people editing the same record: each edit says which version it was made on (``expected``); when the record
has changed since, ``Conflict`` is raised with the stored version, and nothing is written, so the second editor
sees both versions and decides.
"""

from __future__ import annotations

import datetime as dt

import click
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from etl import audit
from etl.errors import OBAError
from etl.store import ActionPlanItem, ActionUpdate, CurveDecision, CurveStory, RebaseDecision, utcnow, writer
from indicators.board import TargetChange
from indicators.definitions import Library
from indicators.periods import PeriodError, Quarter, parse_period

ACTION_STATUSES = ("open", "on_track", "late", "done")
STATUS_WORDS = {"open": "Not started", "on_track": "On track", "late": "Behind", "done": "Done",
                "overdue": "Overdue"}
MAX_TEXT = 4000  # characters in a story field, an action or a reason
MAX_NAME = 120  # characters in an owner's or author's name
_ANY = object()  # "do not check the version" (the command line appends; the web says what it edited)


class Conflict(OBAError):
    """Someone else changed the record since the editor opened it: nothing was written."""

    def __init__(self, message: str, theirs: dict | None):
        super().__init__(message)
        self.theirs = theirs


class InvalidField(OBAError):
    """A field of a form is not acceptable; ``field`` names it so the form can show the message beside it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _text(field: str, value: str | None, what: str, required: bool = True, limit: int = MAX_TEXT) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidField(field, f"{what} is required")
        return None
    if len(value) > limit:
        raise InvalidField(field, f"{what} is {len(value)} characters long; keep it to {limit}")
    return value


def _quarter(field: str, value: str | None, what: str) -> Quarter:
    try:
        return parse_period(str(value or ""))
    except PeriodError:
        err = InvalidField(field, f"{what} '{value or ''}' is not a quarter: write it like 2025-26 Q2")
        err.exit_code = 2  # on the command line, the option was used wrongly
        raise err from None


def _date(field: str, value, what: str, required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise InvalidField(field, f"{what} is required")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidField(field, f"{what} '{value}' is not a date: write it like 2026-03-31") from None


def _who(name: str | None) -> str:
    return (name or audit.current_actor().name)[:MAX_NAME]


class UnknownIndicator(OBAError):
    """The indicator id is not in the definitions."""


def _check_indicator(library: Library, indicator_id: str) -> None:
    if indicator_id not in library.indicators:
        close = [i for i in library.indicators if indicator_id.split("_")[0] in i][:5]
        hint = f" Did you mean {', '.join(close)}?" if close else " `oba indicators list` shows them all."
        raise UnknownIndicator(f"there is no indicator '{indicator_id}'.{hint}")


def _story_dict(st: CurveStory | None) -> dict | None:
    if st is None:
        return None
    return {"id": st.id, "story": st.story, "partners": st.partners, "what_works": st.what_works,
            "baseline_frozen_at": st.baseline_frozen_at, "period": st.period, "author": st.author,
            "updated_at": st.updated_at, "replaces_id": st.replaces_id}


def _latest_story(s: Session, indicator_id: str) -> CurveStory | None:
    return s.scalars(select(CurveStory).where(CurveStory.indicator_id == indicator_id)
                     .order_by(CurveStory.updated_at.desc(), CurveStory.id.desc())).first()


def record_story(engine: Engine, library: Library, indicator_id: str, story: str, author: str | None = None,
                 partners: str | None = None, what_works: str | None = None,
                 frozen_at: str | None = None, at: dt.datetime | None = None, period: str | None = None,
                 expected=_ANY) -> CurveStory:
    """Store a new version of the story behind an indicator's baseline (earlier versions are kept).

    ``at`` is when it was written (default now), for records carried over from elsewhere; ``period`` the quarter
    it was written for. ``expected`` is the id of the version the editor started from (None: there was none);
    if the latest version is another one, ``Conflict`` is raised and nothing is written.
    """
    _check_indicator(library, indicator_id)
    if not (story or "").strip():
        raise InvalidField("story", "the story is empty: say what lies behind the baseline")
    story = _text("story", story, "the story")
    partners = _text("partners", partners, "partners", required=False)
    what_works = _text("what_works", what_works, "what works", required=False)
    frozen = _quarter("frozen_at", frozen_at, "the quarter to freeze at").label if frozen_at else None
    written_for = _quarter("period", period, "the quarter").label if period else None
    author = _who(author)
    with Session(writer(engine), expire_on_commit=False) as s, s.begin():
        latest = _latest_story(s, indicator_id)
        if expected is not _ANY and (latest.id if latest else None) != expected:
            raise Conflict(f"{latest.author} saved a new version of this story at {latest.updated_at:%H:%M on %d %B %Y} "
                           "after you opened it, so yours was not saved. Both versions are shown: copy what you "
                           "want to keep into the latest one and save again.", _story_dict(latest))
        row = CurveStory(indicator_id=indicator_id, story=story, partners=partners, what_works=what_works,
                         baseline_frozen_at=frozen, author=author, updated_at=at or utcnow(), period=written_for,
                         replaces_id=latest.id if latest else None)
        s.add(row)
        audit.record(s.connection(), "curve.story", indicator_id,
                     before=None if latest is None else {"story": latest.story, "partners": latest.partners,
                                                         "what_works": latest.what_works},
                     after={"story": row.story, "partners": partners, "what_works": what_works, "frozen_at": frozen,
                            "period": written_for})
    return row


def story_versions(engine: Engine, indicator_id: str) -> list[dict]:
    """Every version of an indicator's story, newest first, with who wrote it, when and for which quarter."""
    with Session(engine) as s:
        rows = s.scalars(select(CurveStory).where(CurveStory.indicator_id == indicator_id)
                         .order_by(CurveStory.updated_at.desc(), CurveStory.id.desc())).all()
        return [_story_dict(r) for r in rows]


def _action_dict(a: ActionPlanItem, today: dt.date | None = None) -> dict:
    return {"id": a.id, "indicator_id": a.indicator_id, "action": a.action, "owner": a.owner, "due": a.due,
            "how_we_know": a.how_we_know, "status": a.status, "completed_on": a.completed_on,
            "version": a.version, "created_by": a.created_by, "created_at": a.created_at,
            "updated_by": a.updated_by, "updated_at": a.updated_at,
            "standing": action_standing(a.status, a.due, today)}


def action_standing(status: str, due: dt.date | None, today: dt.date | None = None) -> str:
    """The status to show: the one recorded, except that an action past its due date and not done is overdue
    (whatever it last said: "on track" does not survive its own deadline)."""
    today = today or dt.date.today()
    if status != "done" and due is not None and due < today:
        return "overdue"
    return status


def _snapshot(a: ActionPlanItem, by: str, note: str | None, at: dt.datetime) -> ActionUpdate:
    return ActionUpdate(action_id=a.id, version=a.version, action=a.action, owner=a.owner, due=a.due,
                        how_we_know=a.how_we_know, status=a.status, completed_on=a.completed_on, note=note, by=by,
                        at=at)


def _check_action_fields(action, owner, status, due, completed_on, how_we_know):
    if status not in ACTION_STATUSES:
        raise InvalidField("status", f"status '{status}' is not one of {', '.join(ACTION_STATUSES)}")
    if not (action or "").strip() or not (owner or "").strip():
        raise InvalidField("action" if not (action or "").strip() else "owner",
                           "an action needs what will be done and who owns it")
    action = _text("action", action, "what will be done")
    owner = _text("owner", owner, "who owns it", limit=MAX_NAME)
    how_we_know = _text("how_we_know", how_we_know, "how we will know", required=False)
    due = _date("due", due, "the due date")
    completed_on = _date("completed_on", completed_on, "the date completed")
    if completed_on is not None and status != "done":
        raise InvalidField("completed_on", "only a done action has a completion date: set the status to done, "
                                           "or clear the date")
    if completed_on is not None and completed_on > dt.date.today():
        raise InvalidField("completed_on", f"the date completed ({completed_on:%d %B %Y}) is in the future")
    return action, owner, how_we_know, due, completed_on


def add_action(engine: Engine, library: Library, indicator_id: str, action: str, owner: str,
               created_by: str | None = None, due: dt.date | None = None, status: str = "open",
               at: dt.datetime | None = None, how_we_know: str | None = None,
               completed_on: dt.date | None = None) -> ActionPlanItem:
    """Add one SMART action to an indicator's action plan (``at``: when it was agreed, default now).

    An action whose wording matches one already in the plan is refused: edit that one instead
    (``update_action``), so the plan never holds the same action twice.
    """
    _check_indicator(library, indicator_id)
    action, owner, how_we_know, due, completed_on = _check_action_fields(action, owner, status, due, completed_on,
                                                                         how_we_know)
    if status == "done" and completed_on is None:
        completed_on = (at or utcnow()).date()
    by = _who(created_by)
    when = at or utcnow()
    with Session(writer(engine), expire_on_commit=False) as s, s.begin():
        same = s.scalars(select(ActionPlanItem).where(ActionPlanItem.indicator_id == indicator_id)).all()
        for other in same:
            if " ".join(other.action.lower().split()) == " ".join(action.lower().split()):
                raise InvalidField("action", f"this action is already in the plan (number {other.id}, owned by "
                                             f"{other.owner}): update that one instead of adding it again")
        row = ActionPlanItem(indicator_id=indicator_id, action=action, owner=owner, due=due, status=status,
                             created_by=by, created_at=when, how_we_know=how_we_know, completed_on=completed_on,
                             version=1)
        s.add(row)
        s.flush()
        s.add(_snapshot(row, by, "Added to the plan.", when))
        audit.record(s.connection(), "curve.action", indicator_id,
                     after={"id": row.id, "action": row.action, "owner": row.owner, "due": due, "status": status,
                            "how_we_know": how_we_know})
    return row


def update_action(engine: Engine, action_id: int, expected: int | None, *, by: str | None = None,
                  note: str | None = None, at: dt.datetime | None = None, **changes) -> ActionPlanItem:
    """Change an action (any of action, owner, due, how_we_know, status, completed_on), keeping what it said
    before as a version of its own, with ``note`` (what happened since) and who and when.

    ``expected`` is the version the editor started from; if the action has changed since, ``Conflict`` is
    raised with the stored version and nothing is written. Setting the status to done without a completion
    date records today's.
    """
    allowed = {"action", "owner", "due", "how_we_know", "status", "completed_on"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    who = _who(by)
    when = at or utcnow()
    note = _text("note", note, "the update", required=False)
    with Session(writer(engine), expire_on_commit=False) as s, s.begin():
        a = s.get(ActionPlanItem, action_id)
        if a is None:
            raise OBAError(f"there is no action number {action_id}; nothing was changed")
        if expected is not None and a.version != expected:
            raise Conflict(f"{a.updated_by or a.created_by} changed this action (now version {a.version}) after you "
                           f"opened version {expected}, so your change was not saved. Both versions are shown: "
                           "make your change on the latest one and save again.", _action_dict(a))
        merged = {k: getattr(a, k) for k in allowed} | changes
        if merged["status"] != "done" and "status" in changes and "completed_on" not in changes:
            merged["completed_on"] = None
        action, owner, how_we_know, due, completed_on = _check_action_fields(
            merged["action"], merged["owner"], merged["status"], merged["due"], merged["completed_on"],
            merged["how_we_know"])
        if merged["status"] == "done" and completed_on is None:
            completed_on = when.date()
        before = {k: getattr(a, k) for k in sorted(allowed)}
        new = {"action": action, "owner": owner, "due": due, "how_we_know": how_we_know,
               "status": merged["status"], "completed_on": completed_on}
        if all(before[k] == new[k] for k in new) and not note:
            raise InvalidField("note", "nothing has changed: change a field or write what happened since")
        for k, v in new.items():
            setattr(a, k, v)
        a.version += 1
        a.updated_by, a.updated_at = who, when
        s.add(_snapshot(a, who, note, when))
        audit.record(s.connection(), "curve.action.update", a.indicator_id, before=before,
                     after={**{k: new[k] for k in sorted(new)}, "note": note, "version": a.version})
    return a


def action_history(engine: Engine, action_id: int) -> list[dict]:
    """Every version of an action, oldest first: what it said, the update's note, who and when."""
    with Session(engine) as s:
        rows = s.scalars(select(ActionUpdate).where(ActionUpdate.action_id == action_id)
                         .order_by(ActionUpdate.version, ActionUpdate.id)).all()
        return [{"version": u.version, "action": u.action, "owner": u.owner, "due": u.due,
                 "how_we_know": u.how_we_know, "status": u.status, "completed_on": u.completed_on, "note": u.note,
                 "by": u.by, "at": u.at} for u in rows]


def read_actions(engine: Engine, indicator_id: str, today: dt.date | None = None) -> list[dict]:
    """An indicator's action plan by due date, each with its standing (overdue stands out) and its history."""
    with Session(engine) as s:
        items = s.scalars(select(ActionPlanItem).where(ActionPlanItem.indicator_id == indicator_id)
                          .order_by(ActionPlanItem.due.is_(None), ActionPlanItem.due, ActionPlanItem.id)).all()
        out = [_action_dict(a, today) for a in items]
        ids = [a["id"] for a in out]
        hist: dict[int, list] = {}
        if ids:
            for u in s.scalars(select(ActionUpdate).where(ActionUpdate.action_id.in_(ids))
                               .order_by(ActionUpdate.version, ActionUpdate.id)):
                hist.setdefault(u.action_id, []).append(
                    {"version": u.version, "status": u.status, "note": u.note, "by": u.by, "at": u.at,
                     "due": u.due, "owner": u.owner, "action": u.action, "completed_on": u.completed_on})
    for a in out:
        a["history"] = hist.get(a["id"], [])
    return out


def record_rebase(engine: Engine, library: Library, indicator_id: str, period: str, reason: str,
                  decided_by: str | None = None, decided_on: dt.date | None = None,
                  source: str = "analyst") -> RebaseDecision:
    """Record the decision to start new SPC limits at ``period`` (the first quarter of the new segment).

    ``source``: ``proposal`` when PQA accepts the library's proposed rebase (``spc_rebase_proposal``),
    ``analyst`` when it is the analyst's own.
    """
    _check_indicator(library, indicator_id)
    if not (reason or "").strip():
        raise InvalidField("reason", "a rebase needs its reason recorded (what changed in the process, and when)")
    reason = _text("reason", reason, "the reason")
    if source not in ("proposal", "analyst"):
        raise ValueError(f"unknown source {source!r}")
    label = _quarter("period", period, "the quarter of the new limits").label
    who = _who(decided_by)
    with Session(writer(engine), expire_on_commit=False) as s, s.begin():
        exists = s.scalar(select(RebaseDecision.id).where(RebaseDecision.indicator_id == indicator_id,
                                                          RebaseDecision.period == label))
        if exists:
            raise InvalidField("period", f"{indicator_id} is already rebased at {label}; nothing was changed")
        row = RebaseDecision(indicator_id=indicator_id, period=label, reason=reason, decided_by=who,
                             decided_on=decided_on or dt.date.today(), source=source)
        s.add(row)
        audit.record(s.connection(), "curve.rebase", indicator_id,
                     after={"period": label, "reason": row.reason, "decided_by": who,
                            "decided_on": row.decided_on, "source": source})
    return row


def frozen_at(engine: Engine, indicator_id: str) -> str | None:
    """The quarter the indicator's baseline is frozen at now, or None."""
    return _frozen_events(engine).get(indicator_id)


def _frozen_events(engine: Engine) -> dict[str, str | None]:
    """indicator id → the quarter its baseline is frozen at (None: unfrozen), replaying in time order the
    freezes carried by stories (``--frozen-at``) and the recorded freeze and unfreeze decisions."""
    from sqlalchemy.engine import Connection

    def read(conn):
        stories = conn.execute(select(CurveStory.indicator_id, CurveStory.baseline_frozen_at, CurveStory.updated_at,
                                      CurveStory.id).where(CurveStory.baseline_frozen_at.is_not(None))).all()
        decisions = conn.execute(select(CurveDecision.indicator_id, CurveDecision.kind, CurveDecision.period,
                                        CurveDecision.recorded_at, CurveDecision.id)
                                 .where(CurveDecision.kind.in_(("freeze", "unfreeze")))).all()
        return stories, decisions

    if isinstance(engine, Connection):
        stories, decisions = read(engine)
    else:
        with engine.connect() as conn:
            stories, decisions = read(conn)
    events = [(at, 0, i, ind, frozen) for ind, frozen, at, i in stories]
    events += [(at, 1, i, ind, period if kind == "freeze" else None) for ind, kind, period, at, i in decisions]
    out: dict[str, str | None] = {}
    for *_, ind, frozen in sorted(events, key=lambda e: (e[0], e[1], e[2])):
        out[ind] = frozen
    return out


def freeze_baseline(engine: Engine, library: Library, indicator_id: str, period: str, reason: str = "",
                    decided_by: str | None = None, decided_on: dt.date | None = None,
                    at: dt.datetime | None = None) -> CurveDecision:
    """Start the action plan: freeze the baseline at ``period``, so later quarters are judged against the
    forecast made then ("has the curve turned?")."""
    _check_indicator(library, indicator_id)
    label = _quarter("period", period, "the quarter the plan starts").label
    reason = _text("reason", reason, "the reason", required=False) or f"Action plan started in {label}."
    return _decide(engine, indicator_id, "freeze", reason, decided_by, decided_on, at, period=label,
                   audit_action="curve.freeze", refuse_if=lambda cur: cur == label and
                   f"the baseline is already frozen at {label}")


def unfreeze_baseline(engine: Engine, library: Library, indicator_id: str, reason: str,
                      decided_by: str | None = None, decided_on: dt.date | None = None,
                      at: dt.datetime | None = None) -> CurveDecision:
    """Undo a freeze, as a recorded decision with its reason (the freeze stays in the history)."""
    _check_indicator(library, indicator_id)
    reason = _text("reason", reason, "the reason for undoing the freeze")
    return _decide(engine, indicator_id, "unfreeze", reason, decided_by, decided_on, at,
                   audit_action="curve.unfreeze", refuse_if=lambda cur: cur is None and
                   "the baseline is not frozen, so there is nothing to undo")


def change_target(engine: Engine, library: Library, indicator_id: str, effective_from: str, reason: str,
                  target: float | None = None, tolerance: float | None = None, decided_by: str | None = None,
                  decided_on: dt.date | None = None, at: dt.datetime | None = None) -> CurveDecision:
    """Record a change of target and/or tolerance taking effect from a quarter. Earlier quarters keep the target
    they had; the dataset judges each quarter's RAG against the target in effect then."""
    _check_indicator(library, indicator_id)
    label = _quarter("effective_from", effective_from, "the quarter it takes effect from").label
    reason = _text("reason", reason, "the reason for the change")
    values = {}
    for field, v in (("target", target), ("tolerance", tolerance)):
        if v in (None, ""):
            values[field] = None
            continue
        try:
            values[field] = float(v)
        except (TypeError, ValueError):
            raise InvalidField(field, f"the {field} '{v}' is not a number") from None
        if values[field] != values[field] or abs(values[field]) == float("inf"):
            raise InvalidField(field, f"the {field} '{v}' is not a number")
    if values["target"] is None and values["tolerance"] is None:
        raise InvalidField("target", "give a new target, a new tolerance or both")
    if values["tolerance"] is not None and values["tolerance"] < 0:
        raise InvalidField("tolerance", "the tolerance cannot be negative")
    return _decide(engine, indicator_id, "target", reason, decided_by, decided_on, at, period=label,
                   audit_action="curve.target", **values)


def _decide(engine, indicator_id, kind, reason, decided_by, decided_on, at, audit_action, refuse_if=None,
            period=None, target=None, tolerance=None) -> CurveDecision:
    who = _who(decided_by)
    with Session(writer(engine), expire_on_commit=False) as s, s.begin():
        if refuse_if is not None:
            problem = refuse_if(_frozen_events(s.connection()).get(indicator_id))
            if problem:
                raise InvalidField("period" if kind == "freeze" else "reason", f"{problem}; nothing was changed")
        row = CurveDecision(indicator_id=indicator_id, kind=kind, period=period, target=target, tolerance=tolerance,
                            reason=reason, decided_by=who, decided_on=decided_on or dt.date.today(),
                            recorded_at=at or utcnow())
        s.add(row)
        audit.record(s.connection(), audit_action, indicator_id,
                     after={"kind": kind, "period": period, "target": target, "tolerance": tolerance,
                            "reason": reason, "decided_on": row.decided_on})
    return row


def read_target_changes(engine: Engine) -> dict[str, list[TargetChange]]:
    """indicator id → its recorded target and tolerance changes, for the dataset (``build_dataset``)."""
    with engine.connect() as conn:
        rows = conn.execute(select(CurveDecision.indicator_id, CurveDecision.period, CurveDecision.target,
                                   CurveDecision.tolerance, CurveDecision.reason)
                            .where(CurveDecision.kind == "target")
                            .order_by(CurveDecision.recorded_at, CurveDecision.id)).all()
    out: dict[str, list[TargetChange]] = {}
    for ind, period, target, tolerance, reason in rows:
        try:
            q = Quarter.parse(period)
        except PeriodError:
            continue
        out.setdefault(ind, []).append(TargetChange(q, target, tolerance, reason))
    return out


def curve_decisions(engine: Engine, indicator_id: str) -> list[dict]:
    """Every recorded decision on an indicator's curve, newest first: freezes, unfreezes, target changes and
    rebases, each with its reason, who and when."""
    with engine.connect() as conn:
        ds = conn.execute(select(CurveDecision).where(CurveDecision.indicator_id == indicator_id)).all()
        rb = conn.execute(select(RebaseDecision).where(RebaseDecision.indicator_id == indicator_id)).all()
    out = [{"kind": r.kind, "period": r.period, "target": r.target, "tolerance": r.tolerance, "reason": r.reason,
            "decided_by": r.decided_by, "decided_on": r.decided_on, "recorded_at": r.recorded_at} for r in ds]
    out += [{"kind": "rebase", "period": r.period, "target": None, "tolerance": None, "reason": r.reason,
             "decided_by": r.decided_by, "decided_on": r.decided_on, "recorded_at": r.recorded_at,
             "source": r.source} for r in rb]
    return sorted(out, key=lambda d: (d["recorded_at"], d["decided_on"]), reverse=True)


# --- commands ------------------------------------------------------------------------------------------

@click.group("curve")
def curve_group() -> None:
    """Record the story behind a baseline, action plan items and SPC rebase decisions."""


@curve_group.command("story")
@click.argument("indicator")
@click.option("--story", required=True, help="What lies behind the baseline: causes and forces at work.")
@click.option("--partners", help="Partners with a role to play in turning the curve.")
@click.option("--what-works", help="What works to turn the curve (evidence, practice).")
@click.option("--frozen-at", metavar="PERIOD", help="Freeze the baseline at this quarter (the action plan's start).")
@click.pass_obj
def story_cmd(app, indicator, story, partners, what_works, frozen_at) -> None:
    """Record the story behind INDICATOR's baseline (a new version; earlier ones are kept)."""
    row = record_story(app.engine(), app.library(), indicator, story, app.user, partners, what_works, frozen_at)
    frozen = f"; baseline frozen at {row.baseline_frozen_at}" if row.baseline_frozen_at else ""
    click.echo(f"Recorded the story behind {indicator}{frozen}.")


@curve_group.command("action")
@click.argument("indicator")
@click.option("--action", "text", required=True, help="What will be done (specific and measurable).")
@click.option("--owner", required=True, help="Who is accountable for it.")
@click.option("--due", type=click.DateTime(formats=["%Y-%m-%d"]), help="Due date, YYYY-MM-DD.")
@click.option("--status", type=click.Choice(ACTION_STATUSES), default="open", show_default=True)
@click.option("--how-we-know", help="How we will know it worked (the measure that should move).")
@click.pass_obj
def action_cmd(app, indicator, text, owner, due, status, how_we_know) -> None:
    """Add an action to INDICATOR's action plan (an action already in it is refused: `oba curve update` it)."""
    add_action(app.engine(), app.library(), indicator, text, owner, app.user, due.date() if due else None, status,
               how_we_know=how_we_know)
    click.echo(f"Added an action for {indicator}, owned by {owner}.")


@curve_group.command("update")
@click.argument("action_id", type=int)
@click.option("--status", type=click.Choice(ACTION_STATUSES), help="The action's status now.")
@click.option("--note", help="What has happened since the last update.")
@click.option("--owner", help="A new owner.")
@click.option("--due", type=click.DateTime(formats=["%Y-%m-%d"]), help="A new due date, YYYY-MM-DD.")
@click.option("--completed-on", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="When it was done (default today, with --status done).")
@click.option("--how-we-know", help="How we will know it worked.")
@click.pass_obj
def update_cmd(app, action_id, status, note, owner, due, completed_on, how_we_know) -> None:
    """Update action ACTION_ID (the number `oba curve show` gives): its status, owner, due date; the earlier
    version is kept."""
    changes = {k: v for k, v in (("status", status), ("owner", owner), ("how_we_know", how_we_know),
                                 ("due", due.date() if due else None),
                                 ("completed_on", completed_on.date() if completed_on else None)) if v is not None}
    row = update_action(app.engine(), action_id, None, by=app.user, note=note, **changes)
    click.echo(f"Updated action {row.id} of {row.indicator_id}: {STATUS_WORDS[row.status].lower()} "
               f"(version {row.version}).")


@curve_group.command("freeze")
@click.argument("indicator")
@click.option("--period", required=True, help="The quarter the action plan starts, e.g. '2026-27 Q1'.")
@click.option("--reason", default="", help="Why (default: the action plan started).")
@click.pass_obj
def freeze_cmd(app, indicator, period, reason) -> None:
    """Freeze INDICATOR's baseline at the quarter its action plan starts."""
    row = freeze_baseline(app.engine(), app.library(), indicator, period, reason, app.user)
    click.echo(f"Froze the baseline of {indicator} at {row.period}.")


@curve_group.command("unfreeze")
@click.argument("indicator")
@click.option("--reason", required=True, help="Why the freeze is undone.")
@click.pass_obj
def unfreeze_cmd(app, indicator, reason) -> None:
    """Undo the freeze of INDICATOR's baseline, as a recorded decision."""
    unfreeze_baseline(app.engine(), app.library(), indicator, reason, app.user)
    click.echo(f"Undid the freeze of {indicator}'s baseline; the decision and its reason are recorded.")


@curve_group.command("target")
@click.argument("indicator")
@click.option("--from", "effective_from", required=True, metavar="PERIOD",
              help="The first quarter the new target applies to; earlier quarters keep theirs.")
@click.option("--target", type=float, help="The new target.")
@click.option("--tolerance", type=float, help="The new tolerance.")
@click.option("--reason", required=True, help="Why the target changes.")
@click.pass_obj
def target_cmd(app, indicator, effective_from, target, tolerance, reason) -> None:
    """Record a change of INDICATOR's target or tolerance from a quarter on."""
    row = change_target(app.engine(), app.library(), indicator, effective_from, reason, target, tolerance, app.user)
    what = " and ".join(f"{k} {v:g}" for k, v in (("target", row.target), ("tolerance", row.tolerance))
                        if v is not None)
    click.echo(f"Recorded a change of {indicator}'s {what} from {row.period}.")


@curve_group.command("rebase")
@click.argument("indicator")
@click.option("--period", required=True, help="The first quarter of the new SPC segment, e.g. '2025-26 Q2'.")
@click.option("--reason", required=True, help="What changed in the process, so new limits are justified.")
@click.option("--decided-on", type=click.DateTime(formats=["%Y-%m-%d"]), help="Date of the decision (default today).")
@click.pass_obj
def rebase_cmd(app, indicator, period, reason, decided_on) -> None:
    """Record the decision to start new SPC limits for INDICATOR at a quarter."""
    row = record_rebase(app.engine(), app.library(), indicator, period, reason, app.user,
                        decided_on.date() if decided_on else None)
    click.echo(f"Recorded a rebase of {indicator} at {row.period}: new process limits from that quarter.")


@curve_group.command("show")
@click.argument("indicator")
@click.pass_obj
def show_cmd(app, indicator) -> None:
    """Show INDICATOR's latest story, its action plan and its rebase decisions."""
    from etl.access import read_story

    _check_indicator(app.library(), indicator)
    engine = app.engine()
    story, actions = read_story(engine, indicator)
    if story is None:
        click.echo(f"No story recorded for {indicator} yet (`oba curve story {indicator} --story ...`).")
    else:
        frozen = f", baseline frozen at {story['baseline_frozen_at']}" if story["baseline_frozen_at"] else ""
        click.echo(f"Story ({story['author']}, {story['updated_at']:%d %B %Y}{frozen}):\n  {story['story']}")
        for label, key in (("Partners", "partners"), ("What works", "what_works")):
            if story[key]:
                click.echo(f"{label}:\n  {story[key]}")
    if actions:
        click.echo("Action plan:")
        for a in actions:
            due = f"{a['due']:%d %b %Y}" if a["due"] else "no date"
            shown = a["standing"] if a["standing"] == "overdue" else a["status"]
            done = f", done {a['completed_on']:%d %b %Y}" if a.get("completed_on") else ""
            click.echo(f"  {a['id']}. [{shown}] {a['action']} — {a['owner']}, due {due}{done}")
    with engine.connect() as conn:
        rebases = conn.execute(select(RebaseDecision.period, RebaseDecision.reason, RebaseDecision.decided_by)
                               .where(RebaseDecision.indicator_id == indicator)
                               .order_by(RebaseDecision.period)).all()
    for period, reason, by in rebases:
        click.echo(f"Rebased at {period} ({by}): {reason}")
    for d in reversed(curve_decisions(engine, indicator)):
        if d["kind"] == "target":
            what = ", ".join(f"{k} {d[k]:g}" for k in ("target", "tolerance") if d[k] is not None)
            click.echo(f"Target changed from {d['period']} ({d['decided_by']}, {d['decided_on']:%d %b %Y}): {what}. "
                       f"{d['reason']}")
        elif d["kind"] == "unfreeze":
            click.echo(f"Freeze undone ({d['decided_by']}, {d['decided_on']:%d %b %Y}): {d['reason']}")
        elif d["kind"] == "freeze":
            click.echo(f"Baseline frozen at {d['period']} ({d['decided_by']}, {d['decided_on']:%d %b %Y}).")
