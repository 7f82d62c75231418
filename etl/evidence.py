"""Evidence beside the data, and the information-sources table.

**Evidence**: the board's other sources — multi-agency and single-agency audits, Section 11 and Section 175
self-assessments, case reviews, inspections, voice-of-the-child feedback — recorded as dated findings linked to
board priorities and indicators, and shown on the priority page next to the figures they explain (York's "how
the board knows what it knows", seed 002).

**Information sources** (West Berkshire, seed 004): what the board receives, from whom, how often, when it was
last received and when it is next due. The agencies' quarterly returns are listed from the store; the other
sources are kept here.
"""

from __future__ import annotations

import datetime as dt

import click
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from etl.errors import OBAError
from etl.governance import InvalidField, _date, _text
from etl.records import save, versions
from etl.store import EvidenceItem, InformationSource, ReturnVersion
from indicators.board import Board
from indicators.definitions import Library
from indicators.periods import Quarter

KINDS = {"multi_agency_audit": "Multi-agency audit", "single_agency_audit": "Single-agency audit",
         "section_11": "Section 11 self-assessment", "section_175": "Section 175 self-assessment",
         "case_review": "Case review", "inspection": "Inspection", "voice_of_child": "Voice of the child"}
FIELDS = ("kind", "title", "finding", "found_on", "source", "priorities", "indicators")
SOURCE_FIELDS = ("source", "provider", "frequency", "last_received", "next_due")


def _ids(field: str, given, known, what: str) -> str:
    if isinstance(given, str):
        given = [x.strip() for x in given.split(",") if x.strip()]
    given = list(dict.fromkeys(given or []))
    unknown = [g for g in given if g not in known]
    if unknown:
        raise InvalidField(field, f"no {what} {', '.join(repr(u) for u in unknown)}")
    return ",".join(given)


def _clean(board: Board, library: Library, values: dict) -> dict:
    kind = values.get("kind") or ""
    if kind not in KINDS:
        raise InvalidField("kind", f"the kind '{kind}' is not one of {', '.join(KINDS)}")
    out = {"kind": kind, "title": _text("title", values.get("title"), "the title", limit=200),
           "finding": _text("finding", values.get("finding"), "the finding"),
           "found_on": _date("found_on", values.get("found_on"), "the date of the finding", required=True),
           "source": _text("source", values.get("source"), "who carried it out", required=False, limit=200)}
    if out["found_on"] > dt.date.today():
        raise InvalidField("found_on", f"the date of the finding ({out['found_on']:%d %B %Y}) is in the future")
    out["priorities"] = _ids("priorities", values.get("priorities"), {p.id for p in board.priorities},
                             "board priority")
    out["indicators"] = _ids("indicators", values.get("indicators"), set(library.indicators), "indicator")
    if not out["priorities"] and not out["indicators"]:
        raise InvalidField("priorities", "link the finding to at least one board priority or indicator")
    return out


def add_evidence(engine: Engine, board: Board, library: Library, by: str | None = None,
                 at: dt.datetime | None = None, **values) -> EvidenceItem:
    """Record a dated finding linked to priorities and indicators."""
    return save(engine, EvidenceItem, "evidence", FIELDS, _clean(board, library, values), by=by, at=at,
                audit_action="evidence.add", target="evidence")


def update_evidence(engine: Engine, board: Board, library: Library, item_id: int, expected: int | None,
                    by: str | None = None, at: dt.datetime | None = None, **changes) -> EvidenceItem:
    """Change a finding; the earlier version is kept."""
    with Session(engine) as s:
        row = s.get(EvidenceItem, item_id)
        if row is None:
            raise OBAError(f"there is no evidence item number {item_id}; nothing was changed")
        current = {f: getattr(row, f) for f in FIELDS}
    return save(engine, EvidenceItem, "evidence", FIELDS, _clean(board, library, {**current, **changes}),
                record_id=item_id, expected=expected, by=by, at=at, audit_action="evidence.update", target="evidence")


def evidence_items(engine: Engine, priority: str | None = None, indicator: str | None = None) -> list[dict]:
    """The findings, newest first (linked to ``priority`` and/or ``indicator`` when given), as plain dicts:
    id, kind, kind_label, title, finding, found_on, source, priorities, indicators (lists), version, created_by,
    created_at, updated_by, updated_at."""
    with Session(engine) as s:
        rows = s.scalars(select(EvidenceItem).order_by(EvidenceItem.found_on.desc(), EvidenceItem.id.desc())).all()
        out = []
        for r in rows:
            d = {f: getattr(r, f) for f in FIELDS}
            d["priorities"] = [p for p in r.priorities.split(",") if p]
            d["indicators"] = [i for i in r.indicators.split(",") if i]
            if priority and priority not in d["priorities"]:
                continue
            if indicator and indicator not in d["indicators"]:
                continue
            d.update(id=r.id, kind_label=KINDS.get(r.kind, r.kind), version=r.version, created_by=r.created_by,
                     created_at=r.created_at, updated_by=r.updated_by, updated_at=r.updated_at)
            out.append(d)
    return out


def evidence_versions(engine: Engine, item_id: int) -> list[dict]:
    return versions(engine, "evidence", item_id)


# --- information sources ---------------------------------------------------------------------------------

def set_source(engine: Engine, source: str, provider: str, frequency: str, last_received=None, next_due=None,
               by: str | None = None, expected: int | None = None, at: dt.datetime | None = None) -> InformationSource:
    """Add an information source, or change the one with the same name and provider (the earlier version is
    kept)."""
    values = {"source": _text("source", source, "the source", limit=200),
              "provider": _text("provider", provider, "the provider", limit=200),
              "frequency": _text("frequency", frequency, "how often", limit=60),
              "last_received": _date("last_received", last_received, "the date last received"),
              "next_due": _date("next_due", next_due, "the date next due")}
    if values["last_received"] and values["last_received"] > dt.date.today():
        raise InvalidField("last_received", "the date last received is in the future")
    if values["last_received"] and values["next_due"] and values["next_due"] < values["last_received"]:
        raise InvalidField("next_due", "the date next due is before the date last received")
    with engine.connect() as conn:
        existing = conn.execute(select(InformationSource.id).where(
            InformationSource.source == values["source"], InformationSource.provider == values["provider"])).scalar()
    return save(engine, InformationSource, "information_source", SOURCE_FIELDS, values, record_id=existing,
                expected=expected, by=by, at=at, audit_action="source.update" if existing else "source.add",
                target="information source", created_fields=False)


def information_sources(engine: Engine, board: Board, today: dt.date | None = None) -> list[dict]:
    """The information-sources table: each agency's quarterly return (last received and next due from the
    store and the board's due rules) and the other sources recorded, each as source, provider, frequency,
    last_received, next_due, overdue (next due has passed), kind (return | recorded)."""
    today = today or dt.date.today()
    with engine.connect() as conn:
        last = dict(conn.execute(select(ReturnVersion.agency_code, func.max(ReturnVersion.received_on))
                                 .group_by(ReturnVersion.agency_code)).all())
        got = {(a, p) for a, p in conn.execute(select(ReturnVersion.agency_code, ReturnVersion.period).distinct())}
        recorded = conn.execute(select(*[getattr(InformationSource, f) for f in ("id", *SOURCE_FIELDS)])
                                .order_by(InformationSource.source)).all()
    ended = Quarter.last_ended(today)
    out = []
    for a in board.agencies:
        # the next return due: the earliest of the last eight ended quarters not received, else the next one
        missing = [q for q in (ended - k for k in range(7, -1, -1)) if (a.code, q.label) not in got]
        due = a.due_date(missing[0]) if missing else a.due_date(ended + 1)
        out.append({"source": "Quarterly return", "provider": a.name, "frequency": "Quarterly",
                    "last_received": last.get(a.code), "next_due": due, "overdue": due < today, "kind": "return"})
    for r in recorded:
        out.append({"id": r.id, "source": r.source, "provider": r.provider, "frequency": r.frequency,
                    "last_received": r.last_received, "next_due": r.next_due,
                    "overdue": r.next_due is not None and r.next_due < today, "kind": "recorded"})
    return out


# --- commands --------------------------------------------------------------------------------------------

@click.group("evidence")
def evidence_group() -> None:
    """Findings from audits, self-assessments, case reviews, inspections and children's feedback."""


@evidence_group.command("add")
@click.option("--kind", type=click.Choice(list(KINDS)), required=True)
@click.option("--title", required=True)
@click.option("--finding", required=True, help="What was found.")
@click.option("--found-on", required=True, metavar="DATE", help="When, YYYY-MM-DD.")
@click.option("--source", help="Who carried it out.")
@click.option("--priority", "priorities", multiple=True, help="A board priority it relates to (repeatable).")
@click.option("--indicator", "indicators", multiple=True, help="An indicator it explains (repeatable).")
@click.pass_obj
def evidence_add_cmd(app, kind, title, finding, found_on, source, priorities, indicators) -> None:
    """Record a dated finding linked to priorities and indicators."""
    row = add_evidence(app.engine(), app.board(), app.library(), by=app.user, kind=kind, title=title,
                       finding=finding, found_on=found_on, source=source, priorities=list(priorities),
                       indicators=list(indicators))
    click.echo(f"Recorded evidence item {row.id}: {row.title}.")


@evidence_group.command("source")
@click.option("--source", required=True, help="What is received, e.g. 'Section 11 audit returns'.")
@click.option("--provider", required=True, help="Who provides it.")
@click.option("--frequency", required=True, help="How often, e.g. 'Annually'.")
@click.option("--last-received", metavar="DATE")
@click.option("--next-due", metavar="DATE")
@click.pass_obj
def source_cmd(app, source, provider, frequency, last_received, next_due) -> None:
    """Add an information source to the table on the returns page, or update it (same source and provider)."""
    row = set_source(app.engine(), source, provider, frequency, last_received, next_due, by=app.user)
    click.echo(f"{'Recorded' if row.version == 1 else 'Updated'} the information source '{row.source}' from "
               f"{row.provider}.")
