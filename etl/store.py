"""The store: SQLAlchemy models for everything the product keeps, and the engine that opens it.

Only aggregate counts are stored, never a child's record. SQLite is the default (WAL, foreign keys,
busy timeout); the same models run on PostgreSQL. The schema is created and upgraded by Alembic
migrations (``oba init``), never by ``create_all`` outside tests.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


# --- quarterly returns ------------------------------------------------------------------------------

class ReturnVersion(Base):
    """One loaded workbook: an agency's return for a quarter. A resubmission is a new version."""

    __tablename__ = "return_version"
    __table_args__ = (
        UniqueConstraint("agency_code", "period", "version", name="uq_return_version"),
        Index("ix_return_current", "agency_code", "period", "is_current"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))  # canonical label, "2025-26 Q2"
    period_index: Mapped[int] = mapped_column(Integer)  # Quarter.index, for ordering
    version: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    received_on: Mapped[dt.date] = mapped_column(Date)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(120))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    contact: Mapped[str | None] = mapped_column(String(255), nullable=True)
    commentary: Mapped[str | None] = mapped_column(Text, nullable=True)  # the agency's own analysis

    values: Mapped[list[ReturnValue]] = relationship(back_populates="version", cascade="all, delete-orphan")
    issues: Mapped[list[ReturnIssue]] = relationship(back_populates="version", cascade="all, delete-orphan")


class ReturnValue(Base):
    """One measure's figure in one return version. ``status`` is ok, suppressed or blank."""

    __tablename__ = "return_value"
    __table_args__ = (UniqueConstraint("return_id", "measure_code", name="uq_return_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return_version.id", ondelete="CASCADE"), index=True)
    measure_code: Mapped[str] = mapped_column(String(40))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="ok")
    raw: Mapped[str | None] = mapped_column(String(255), nullable=True)  # as typed, when not a plain number
    note: Mapped[str | None] = mapped_column(Text, nullable=True)  # the agency's note on the figure

    version: Mapped[ReturnVersion] = relationship(back_populates="values")


class ReturnIssue(Base):
    """A warning found when a return was loaded (errors stop a load, so only warnings are kept)."""

    __tablename__ = "return_issue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return_version.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(40))
    sheet: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cell: Mapped[str | None] = mapped_column(String(16), nullable=True)
    measure_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    message: Mapped[str] = mapped_column(Text)

    version: Mapped[ReturnVersion] = relationship(back_populates="issues")


# --- published benchmarks -----------------------------------------------------------------------------

class BenchmarkRelease(Base):
    """One imported EES/ONS file."""

    __tablename__ = "benchmark_release"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(120), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(120))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    values_added: Mapped[int] = mapped_column(Integer, default=0)
    values_changed: Mapped[int] = mapped_column(Integer, default=0)


class BenchmarkMeasure(Base):
    """One measure column of a published dataset (``children_count`` of ``ees_cin_c1_...``)."""

    __tablename__ = "benchmark_measure"
    __table_args__ = (UniqueConstraint("dataset", "measure", name="uq_benchmark_measure"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(120))
    measure: Mapped[str] = mapped_column(String(120))


class BenchmarkSeries(Base):
    """One breakdown of a dataset for one area: its filters, area code and time identifier, shared by every
    measure and year of it (so a figure's row holds numbers only)."""

    __tablename__ = "benchmark_series"
    __table_args__ = (UniqueConstraint("dataset", "filters", "area_code", "time_identifier",
                                       name="uq_benchmark_series"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(120))
    filters: Mapped[str] = mapped_column(String(500), default="")  # canonical "col=value; col=value"
    area_code: Mapped[str] = mapped_column(String(12))
    time_identifier: Mapped[str] = mapped_column(String(60))


class BenchmarkPlace(Base):
    """An area as a published row describes it: level, ONS code, name, DfE number and region. Rows that describe
    the same code differently ("Bristol, City of" / "Bristol") keep their own description."""

    __tablename__ = "benchmark_place"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    geographic_level: Mapped[str] = mapped_column(String(40))
    area_code: Mapped[str] = mapped_column(String(12), index=True)
    area_name: Mapped[str] = mapped_column(String(120))
    la_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(12), nullable=True)


class BenchmarkValue(Base):
    """One published figure: measure × series (filters, area, time identifier) × time period, as keys into the
    small tables above, so millions of figures cost a few numbers each. ``note`` keeps GSS symbols.
    ``etl.benchmarks.export.benchmark_rows()`` reads them back with every name.

    The four keys are not declared as foreign keys: PostgreSQL checks a foreign key with a trigger per row,
    which made a 7-million-figure import five times slower (132 s against 27 s). The importer is the only
    writer; it resolves every key inside the transaction that writes the figures, under the benchmarks lock,
    and nothing deletes a measure, series, place or release. ``tests/test_benchmarks.py`` checks that every
    stored figure's keys resolve, on both backends."""

    __tablename__ = "benchmark_value"
    __table_args__ = (Index("uq_benchmark_value", "measure_id", "series_id", "time_period", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[int] = mapped_column(Integer)  # benchmark_measure.id
    series_id: Mapped[int] = mapped_column(Integer)  # benchmark_series.id
    time_period: Mapped[int] = mapped_column(Integer)
    place_id: Mapped[int] = mapped_column(Integer)  # benchmark_place.id
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    note: Mapped[str | None] = mapped_column(String(40), nullable=True)
    release_id: Mapped[int] = mapped_column(Integer)  # benchmark_release.id


class BenchmarkChange(Base):
    """A published figure that a newer release changed: what it was and what it became."""

    __tablename__ = "benchmark_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value_id: Mapped[int] = mapped_column(ForeignKey("benchmark_value.id", ondelete="CASCADE"), index=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("benchmark_release.id"))
    old_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    old_note: Mapped[str | None] = mapped_column(String(40), nullable=True)
    new_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    new_note: Mapped[str | None] = mapped_column(String(40), nullable=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Area(Base):
    """A local authority, region or country as named in the published files."""

    __tablename__ = "area"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    geographic_level: Mapped[str] = mapped_column(String(40))
    la_number: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    region_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    region_name: Mapped[str | None] = mapped_column(String(120), nullable=True)


class NeighbourSet(Base):
    """One imported statistical neighbour list (e.g. DfE May 2025)."""

    __tablename__ = "neighbour_set"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(120))


class Neighbour(Base):
    __tablename__ = "neighbour"
    __table_args__ = (UniqueConstraint("set_id", "la_number", "rank", name="uq_neighbour"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("neighbour_set.id", ondelete="CASCADE"), index=True)
    la_number: Mapped[int] = mapped_column(Integer, index=True)
    la_name: Mapped[str] = mapped_column(String(120))
    rank: Mapped[int] = mapped_column(Integer)
    neighbour_la_number: Mapped[int] = mapped_column(Integer)
    neighbour_la_name: Mapped[str] = mapped_column(String(120))
    closeness: Mapped[str | None] = mapped_column(String(40), nullable=True)


# --- governance records ------------------------------------------------------------------------------

class CurveStory(Base):
    """Turn the curve for one indicator: the story behind the baseline, partners, what works."""

    __tablename__ = "curve_story"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(60), index=True)
    story: Mapped[str] = mapped_column(Text)
    partners: Mapped[str | None] = mapped_column(Text, nullable=True)
    what_works: Mapped[str | None] = mapped_column(Text, nullable=True)
    baseline_frozen_at: Mapped[str | None] = mapped_column(String(16), nullable=True)  # period label
    author: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    period: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the quarter it was written for
    replaces_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the version it was written over


class ActionPlanItem(Base):
    """One SMART action of an indicator's action plan."""

    __tablename__ = "action_plan_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(60), index=True)
    action: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(120))
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | on_track | late | done
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    how_we_know: Mapped[str | None] = mapped_column(Text, nullable=True)  # the measure that shows it worked
    completed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # optimistic concurrency
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class ActionUpdate(Base):
    """One version of an action: what it said after each change (status updates over time), who and when."""

    __tablename__ = "action_update"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action_plan_item.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(120))
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    how_we_know: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    completed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)  # the update: what happened since
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CurveDecision(Base):
    """A recorded decision on an indicator's curve: freezing or unfreezing the baseline, changing the target.

    ``kind``: freeze (``period`` = the quarter the baseline is frozen at), unfreeze (undoing a freeze), target
    (``target``/``tolerance`` from ``period`` on; earlier quarters keep theirs).
    """

    __tablename__ = "curve_decision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(60), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str | None] = mapped_column(String(16), nullable=True)
    target: Mapped[float | None] = mapped_column(Float, nullable=True)
    tolerance: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class RebaseDecision(Base):
    """A recorded decision to start a new SPC segment at a quarter (MDC: never rebase automatically)."""

    __tablename__ = "rebase_decision"
    __table_args__ = (UniqueConstraint("indicator_id", "period", name="uq_rebase_decision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(60), index=True)
    period: Mapped[str] = mapped_column(String(16))  # the first quarter of the new segment
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    source: Mapped[str | None] = mapped_column(String(16), nullable=True)  # proposal (the library's) | analyst


class ExceptionDecision(Base):
    """PQA's decision on one exception in one quarter: agreed, challenged or escalated. A later decision on the
    same exception is a new row (``replaces_id``): the latest is the position, the earlier ones its history."""

    __tablename__ = "exception_decision"
    __table_args__ = (Index("ix_exception_decision_period", "period", "indicator_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(60))
    period: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))  # agreed | challenged | escalated
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    settle_with: Mapped[str | None] = mapped_column(Text, nullable=True)  # what data would settle a challenge
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    replaces_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class QuarterClose(Base):
    """A closed quarter: the dataset rows, exceptions and decisions as the board saw them (JSON), kept."""

    __tablename__ = "quarter_close"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16), unique=True)
    closed_by: Mapped[str] = mapped_column(String(120))
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    snapshot: Mapped[str] = mapped_column(Text)


class _Edited:
    """The columns of a governance record that is edited in place: its version (the optimistic check that tells
    a second editor someone saved first) and who made it and last changed it, when. Every version is also kept
    whole in ``record_version``."""

    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class CriticalMessage(_Edited, Base):
    """A critical message for the business management group (seed 000, appendix 3): raised by a sub-group
    (from a report card, an exception or directly), decided by the BMG (to the board, not, noted), with its
    action, owner, why, due date, completion and status. ``version`` counts changes (optimistic concurrency);
    every version is kept in ``record_version``."""

    __tablename__ = "critical_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(60), index=True)  # the board file's sub-group id
    message: Mapped[str] = mapped_column(Text)
    raised_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="direct")  # direct | exception | report_card
    source_ref: Mapped[str | None] = mapped_column(String(120), nullable=True)
    bmg_meeting: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)  # to_board | not_to_board | noted
    action: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    why: Mapped[str | None] = mapped_column(Text, nullable=True)
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    completed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | in_progress | done
    indicators: Mapped[str] = mapped_column(String(500), default="")  # indicator ids, comma-separated


class ReportCard(_Edited, Base):
    """A sub-group's report card for one meeting (seed 000, appendix 2). The data section is filled from the
    dataset when it is shown or exported; what is stored is what the sub-group wrote."""

    __tablename__ = "report_card"
    __table_args__ = (UniqueConstraint("group_id", "meeting_on", name="uq_report_card"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(60), index=True)
    meeting_on: Mapped[dt.date] = mapped_column(Date)
    activity: Mapped[str | None] = mapped_column(Text, nullable=True)  # what has the sub-group done, how much
    data_story: Mapped[str | None] = mapped_column(Text, nullable=True)  # what story the indicators tell
    data_challenges: Mapped[str | None] = mapped_column(Text, nullable=True)  # getting accurate, timely data
    priority_activity: Mapped[str] = mapped_column(Text, default="{}")  # JSON: priority id → activity
    difference: Mapped[str | None] = mapped_column(Text, nullable=True)  # what difference it made
    how_we_know: Mapped[str | None] = mapped_column(Text, nullable=True)  # how the sub-group knows; evidence


class EvidenceItem(_Edited, Base):
    """A dated finding from the board's other sources (audits, S11/S175 self-assessments, case reviews,
    inspections, voice of the child), linked to priorities and indicators."""

    __tablename__ = "evidence_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(200))
    finding: Mapped[str] = mapped_column(Text)
    found_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)  # who carried it out
    priorities: Mapped[str] = mapped_column(String(500), default="")  # priority ids, comma-separated
    indicators: Mapped[str] = mapped_column(String(500), default="")  # indicator ids, comma-separated


class InformationSource(Base):
    """One of the board's information sources beyond the agencies' returns (seed 004): what, from whom, how
    often, when last received and when next due."""

    __tablename__ = "information_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200))
    frequency: Mapped[str] = mapped_column(String(60))
    last_received: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    next_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class RecordVersion(Base):
    """Every version of a critical message, report card, evidence item or information source (JSON), with who
    and when: nothing is overwritten without trace."""

    __tablename__ = "record_version"
    __table_args__ = (Index("ix_record_version_record", "kind", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    record_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# --- accounts, sessions and the audit trail --------------------------------------------------------

class UserAccount(Base):
    """Someone who may sign in to the dashboard. ``role``: viewer, analyst, submitter or admin."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)  # stored lower-case
    role: Mapped[str] = mapped_column(String(16))
    agency_code: Mapped[str | None] = mapped_column(String(16), nullable=True)  # submitters only
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)  # None: single sign-on only
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class UserSession(Base):
    """One signed-in browser. The cookie carries a random token; only its SHA-256 is kept here."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))  # password | sso
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEvent(Base):
    """One change to what the store keeps, or one sign-in: who, what, when, before and after (JSON)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    source: Mapped[str] = mapped_column(String(8))  # cli | web
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(200), nullable=True)
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


# --- engine ------------------------------------------------------------------------------------------

def database_url(db: str | None = None) -> str:
    """The URL to use: ``--db``, else OBA_DATABASE_URL, else the default SQLite file. A plain path means SQLite."""
    from etl.paths import default_db_path  # data/ under the current folder or OBA_HOME, never the install's

    url = db or os.environ.get("OBA_DATABASE_URL") or str(default_db_path())
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    return url


def _seconds(env: str, default: float) -> float:
    """A timeout in seconds from the environment, else ``default`` (a value that is not a number is ignored)."""
    try:
        value = float(os.environ.get(env, default))
    except ValueError:
        return default
    return value if value > 0 else default


BUSY_TIMEOUT = 10.0
"""Seconds a SQLite writer waits for another to finish before saying the store is busy (OBA_BUSY_TIMEOUT)."""
CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a PostgreSQL server to accept a connection (OBA_CONNECT_TIMEOUT)."""
STATEMENT_TIMEOUT = 300.0
"""Seconds PostgreSQL lets one statement run, a whole import's COPY included (OBA_STATEMENT_TIMEOUT)."""


def make_engine(db: str | None = None, **kwargs) -> Engine:
    """Open the store. SQLite gets WAL, foreign keys on and a busy timeout so concurrent loads wait, not fail.

    Timeouts bound every wait: a busy SQLite store (OBA_BUSY_TIMEOUT, 10 s), a PostgreSQL server that does not
    accept (OBA_CONNECT_TIMEOUT, 5 s) or a statement that does not finish (OBA_STATEMENT_TIMEOUT, 300 s). Error
    messages never carry the statement's parameters (which are data).
    """
    url = database_url(db)
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path.split("?", 1)[0].removeprefix("file:")).parent.mkdir(parents=True, exist_ok=True)
        busy = _seconds("OBA_BUSY_TIMEOUT", BUSY_TIMEOUT)
        engine = create_engine(url, connect_args={"timeout": busy}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Take transactions into our own hands so BEGIN IMMEDIATE serialises writers cleanly.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
            if path and path != ":memory:" and "mode=ro" not in path:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Writers (see ``writer``) take the write lock up front, so two loads queue rather than
            # deadlock on a lock upgrade; readers use a plain deferred transaction.
            immediate = conn.get_execution_options().get("oba_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        options = parsed.query.get("options", "")
        options = options if isinstance(options, str) else " ".join(options)
        statement_ms = int(_seconds("OBA_STATEMENT_TIMEOUT", STATEMENT_TIMEOUT) * 1000)
        connect_args = {"connect_timeout": max(1, round(_seconds("OBA_CONNECT_TIMEOUT", CONNECT_TIMEOUT))),
                        "options": f"{options} -c statement_timeout={statement_ms}".strip()}
        connect_args.update(kwargs.pop("connect_args", {}))
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def writer(engine: Engine) -> Engine:
    """The same engine, marked so its transactions take SQLite's write lock at BEGIN."""
    return engine.execution_options(oba_write=True)


def lock_for(conn, name: str) -> None:
    """Serialise writers of the same thing inside a transaction.

    On PostgreSQL, a transaction-scoped advisory lock keyed by ``name``; on SQLite nothing is needed, as
    ``writer`` transactions already take the database's write lock at BEGIN.
    """
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"oba:{name}".encode()).digest()[:8], "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def redact(url: str) -> str:
    """A URL safe to print: any password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
