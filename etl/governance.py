"""Turn-the-curve records: the story behind a baseline, action plan items and SPC rebase decisions.

Each is written with who and when. A story may freeze the baseline at the quarter an action plan starts
(the dataset then asks "has the curve turned?"); a rebase decision starts new SPC limits at a quarter, which
MDC guidance says must be a recorded decision, never automatic.
"""

from __future__ import annotations

import datetime as dt

import click
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from etl import audit
from etl.errors import OBAError
from etl.store import ActionPlanItem, CurveStory, RebaseDecision, utcnow, writer
from indicators.definitions import Library
from indicators.periods import parse_period

ACTION_STATUSES = ("open", "on_track", "late", "done")


class UnknownIndicator(OBAError):
    """The indicator id is not in the definitions."""


def _check_indicator(library: Library, indicator_id: str) -> None:
    if indicator_id not in library.indicators:
        close = [i for i in library.indicators if indicator_id.split("_")[0] in i][:5]
        hint = f" Did you mean {', '.join(close)}?" if close else " `oba indicators list` shows them all."
        raise UnknownIndicator(f"there is no indicator '{indicator_id}'.{hint}")


def record_story(engine: Engine, library: Library, indicator_id: str, story: str, author: str,
                 partners: str | None = None, what_works: str | None = None,
                 frozen_at: str | None = None, at: dt.datetime | None = None) -> CurveStory:
    """Store a new version of the story behind an indicator's baseline (earlier versions are kept).

    ``at`` is when it was written (default now), for records carried over from elsewhere.
    """
    _check_indicator(library, indicator_id)
    if not story.strip():
        raise OBAError("the story is empty: say what lies behind the baseline")
    frozen = parse_period(frozen_at).label if frozen_at else None
    with Session(writer(engine), expire_on_commit=False) as s, s.begin():
        row = CurveStory(indicator_id=indicator_id, story=story.strip(), partners=partners, what_works=what_works,
                         baseline_frozen_at=frozen, author=author, updated_at=at or utcnow())
        s.add(row)
        audit.record(s.connection(), "curve.story", indicator_id,
                     after={"story": row.story, "partners": partners, "what_works": what_works, "frozen_at": frozen})
    return row


def add_action(engine: Engine, library: Library, indicator_id: str, action: str, owner: str, created_by: str,
               due: dt.date | None = None, status: str = "open", at: dt.datetime | None = None) -> ActionPlanItem:
    """Add one SMART action to an indicator's action plan (``at``: when it was agreed, default now)."""
    _check_indicator(library, indicator_id)
    if status not in ACTION_STATUSES:
        raise OBAError(f"status '{status}' is not one of {', '.join(ACTION_STATUSES)}")
    if not action.strip() or not owner.strip():
        raise OBAError("an action needs what will be done and who owns it")
    with Session(writer(engine), expire_on_commit=False) as s, s.begin():
        row = ActionPlanItem(indicator_id=indicator_id, action=action.strip(), owner=owner.strip(), due=due,
                             status=status, created_by=created_by, created_at=at or utcnow())
        s.add(row)
        audit.record(s.connection(), "curve.action", indicator_id,
                     after={"action": row.action, "owner": row.owner, "due": due, "status": status})
    return row


def record_rebase(engine: Engine, library: Library, indicator_id: str, period: str, reason: str, decided_by: str,
                  decided_on: dt.date | None = None) -> RebaseDecision:
    """Record the decision to start new SPC limits at ``period`` (the first quarter of the new segment)."""
    _check_indicator(library, indicator_id)
    if not reason.strip():
        raise OBAError("a rebase needs its reason recorded (what changed in the process, and when)")
    label = parse_period(period).label
    with Session(writer(engine), expire_on_commit=False) as s, s.begin():
        exists = s.scalar(select(RebaseDecision.id).where(RebaseDecision.indicator_id == indicator_id,
                                                          RebaseDecision.period == label))
        if exists:
            raise OBAError(f"{indicator_id} is already rebased at {label}; nothing was changed")
        row = RebaseDecision(indicator_id=indicator_id, period=label, reason=reason.strip(), decided_by=decided_by,
                             decided_on=decided_on or dt.date.today())
        s.add(row)
        audit.record(s.connection(), "curve.rebase", indicator_id,
                     after={"period": label, "reason": row.reason, "decided_by": decided_by,
                            "decided_on": row.decided_on})
    return row


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
@click.pass_obj
def action_cmd(app, indicator, text, owner, due, status) -> None:
    """Add an action to INDICATOR's action plan."""
    add_action(app.engine(), app.library(), indicator, text, owner, app.user, due.date() if due else None, status)
    click.echo(f"Added an action for {indicator}, owned by {owner}.")


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
            click.echo(f"  [{a['status']}] {a['action']} — {a['owner']}, due {due}")
    with engine.connect() as conn:
        rebases = conn.execute(select(RebaseDecision.period, RebaseDecision.reason, RebaseDecision.decided_by)
                               .where(RebaseDecision.indicator_id == indicator)
                               .order_by(RebaseDecision.period)).all()
    for period, reason, by in rebases:
        click.echo(f"Rebased at {period} ({by}): {reason}")
