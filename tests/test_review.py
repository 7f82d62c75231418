"""The quarter's review: decisions on exceptions, closing the quarter, and revisions since the board saw it."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from click.testing import CliRunner
from conftest import after_where
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from etl.access import load_dataset
from etl.cli import main
from etl.governance import Conflict, InvalidField
from etl.review import (
    QuarterClosed,
    close_quarter,
    closed_quarter_snapshot,
    decide_exception,
    exception_decisions,
    revisions_since_close,
)
from etl.store import ReturnValue, ReturnVersion, make_engine

T0 = dt.datetime(2026, 11, 10, 10, 0)


@pytest.fixture(scope="module")
def built(demo_sqlite):
    return demo_sqlite


@pytest.fixture
def store(built, tmp_path):
    """A fresh copy of the demo store for each test (they write)."""
    path = tmp_path / "demo.sqlite"
    shutil.copy(built, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine, path
    engine.dispose()


def _exceptions(engine, board, library):
    """The current quarter and its exceptions that the demo's review has not decided yet."""
    ds = load_dataset(engine, board, library, forecasts=False)
    ex = ds.exceptions
    decided = exception_decisions(engine, str(ds.period))
    return ds.period, sorted(set(ex[ex["severity"].isin(("high", "medium", "low"))]["indicator_id"]) - set(decided))


def test_decisions_are_kept_with_their_history(store, library):
    engine, _ = store
    ind = "conference_child_views"  # an exception of 2026-27 Q2 the demo's review has not reached
    assert ind not in exception_decisions(engine, "2026-27 Q2")
    decide_exception(engine, library, ind, "2026-27 Q2", "challenged", "The rise is one family.",
                     "The count of re-referred families, not children", "ann", at=T0)
    decide_exception(engine, library, ind, "2026-27 Q2", "agreed", decided_by="ben",
                     at=T0 + dt.timedelta(hours=1))
    d = exception_decisions(engine, "2026-27 Q2")[ind]
    assert (d["decision"], d["decided_by"], d["reason"]) == ("agreed", "ben", None)
    assert [(h["decision"], h["decided_by"], h["settle_with"]) for h in d["history"]] == [
        ("challenged", "ann", "The count of re-referred families, not children")]
    with pytest.raises(Conflict, match="ben recorded a decision on this exception"):
        decide_exception(engine, library, ind, "2026-27 Q2", "escalated", "x", expected=None)


@pytest.mark.parametrize("decision, reason, settle, field", [
    ("challenged", "", "x", "reason"),
    ("challenged", "Why", "", "settle_with"),
    ("escalated", " ", None, "reason"),
    ("maybe", "x", None, "decision"),
])
def test_a_decision_needs_its_reasons(store, library, decision, reason, settle, field):
    with pytest.raises(InvalidField) as err:
        decide_exception(store[0], library, "conference_child_views", "2026-27 Q2", decision, reason, settle, "ann")
    assert err.value.field == field
    assert "conference_child_views" not in exception_decisions(store[0], "2026-27 Q2")


def test_close_the_quarter_then_a_resubmission_shows_as_revised(store, board, library):
    engine, _ = store
    period, exceptions = _exceptions(engine, board, library)
    assert str(period) == "2026-27 Q2" and len(exceptions) >= 2
    already = set(exception_decisions(engine, "2026-27 Q2"))
    with pytest.raises(Exception, match=f"{len(exceptions)} exceptions of 2026-27 Q2 have no decision yet"):
        close_quarter(engine, board, library, "2026-27 Q2", "ann")
    for i, ind in enumerate(exceptions):
        if i == 0:
            decide_exception(engine, library, ind, "2026-27 Q2", "challenged", "Looks like a recording change.",
                             "The service's own case list for the quarter", "ann")
        else:
            decide_exception(engine, library, ind, "2026-27 Q2", "agreed", decided_by="ann")
    snap = close_quarter(engine, board, library, "2026-27 Q2", "ann", at=T0)
    assert snap == closed_quarter_snapshot(engine, "2026-27 Q2")
    assert snap["closed_by"] == "ann" and snap["closed_at"] == "2026-11-10T10:00:00"
    assert len(snap["rows"]) == len(library.indicators)
    assert {e["indicator_id"] for e in snap["exceptions"]} == set(exceptions) | already
    assert snap["decisions"][exceptions[0]]["decision"] == "challenged"
    assert snap["returns"]["CSC|2026-27 Q2"] == 1
    with pytest.raises(QuarterClosed, match="already closed"):
        close_quarter(engine, board, library, "2026-27 Q2", "ann")
    with pytest.raises(QuarterClosed, match="2026-27 Q2 is closed"):
        decide_exception(engine, library, exceptions[0], "2026-27 Q2", "agreed", decided_by="ben")
    assert revisions_since_close(engine, snap)["returns"] == []
    # the demo closed the three quarters before: their snapshots are there, with the review's decisions
    earlier = closed_quarter_snapshot(engine, "2026-27 Q1")
    assert earlier is not None and earlier["decisions"]["assessments_45_days"]["decision"] == "escalated"
    # CSC resubmits 2026-27 Q2 with more re-referrals
    with Session(engine) as s, s.begin():
        old = s.scalars(select(ReturnVersion).where(ReturnVersion.agency_code == "CSC",
                                                    ReturnVersion.period == "2026-27 Q2")).one()
        s.execute(update(ReturnVersion).where(ReturnVersion.id == old.id).values(is_current=False))
        new = ReturnVersion(agency_code="CSC", period=old.period, period_index=old.period_index, version=2,
                            is_current=True, file_name="csc_v2.xlsx", sha256="0" * 64, received_on=dt.date(2026, 12, 1),
                            loaded_by="test")
        s.add(new)
        s.flush()
        for v in s.scalars(select(ReturnValue).where(ReturnValue.return_id == old.id)).all():
            value = v.value + 30 if v.measure_code == "CSC_REREFERRALS" and v.value is not None else v.value
            s.add(ReturnValue(return_id=new.id, measure_code=v.measure_code, value=value, status=v.status))
    rows = load_dataset(engine, board, library, forecasts=False).at(period).to_dict("records")
    rev = revisions_since_close(engine, snap, rows)
    assert rev["returns"] == [{"agency_code": "CSC", "period": "2026-27 Q2", "seen_version": 1, "version": 2}]
    moved = {v["indicator_id"]: v for v in rev["values"]}
    assert "rereferral_rate" in moved and moved["rereferral_rate"]["now"] > moved["rereferral_rate"]["was"]
    then = next(r for r in snap["rows"] if r["indicator_id"] == "rereferral_rate")
    assert moved["rereferral_rate"]["was"] == then["value"]
    assert closed_quarter_snapshot(engine, "2026-27 Q2") == snap  # what the board saw is unchanged


def test_cli_decides_closes_and_shows(store, board, library):
    engine, path = store
    _, exceptions = _exceptions(engine, board, library)
    run = CliRunner().invoke
    db = ["--db", str(path)]
    r = run(main, [*db, "review", "decide", exceptions[0], "--period", "2026-27 Q2", "--decision", "challenged",
                   "--reason", "One family."])
    assert r.exit_code == 1 and after_where(r.output) == "Error: what data would settle it is required\n"
    r = run(main, [*db, "review", "decide", exceptions[0], "--period", "2026-27 Q2", "--decision", "challenged",
                   "--reason", "One family.", "--settle-with", "Families, not children"])
    assert r.exit_code == 0 and after_where(r.output) == f"Recorded: {exceptions[0]} in 2026-27 Q2 challenged.\n"
    r = run(main, [*db, "review", "close", "--period", "2026-27 Q2"])
    assert r.exit_code == 1 and "have no decision yet" in after_where(r.output)
    for ind in exceptions[1:]:
        assert run(main, [*db, "review", "decide", ind, "--period", "2026-27 Q2", "--decision", "agreed"]).exit_code == 0
    r = run(main, [*db, "review", "close", "--period", "2026-27 Q2"])
    n = len(exception_decisions(engine, "2026-27 Q2"))  # every exception has one now
    assert r.exit_code == 0 and after_where(r.output) == (f"Closed 2026-27 Q2: {len(library.indicators)} indicators, "
                                             f"{n} exceptions and {n} decisions kept as the board saw them.\n")
    r = run(main, [*db, "review", "show", "--period", "2026-27 Q2"])
    assert r.exit_code == 0 and "2026-27 Q2: closed by" in after_where(r.output)
    assert (f"  {exceptions[0]}: challenged by" in after_where(r.output)
            and "One family. (would settle it: Families, not children)" in after_where(r.output))


def test_the_agencies_own_analysis_is_read_beside_its_figures(store):
    from etl.access import agency_analysis

    engine, _ = store
    items = agency_analysis(engine, "CSC", ["CSC_REREFERRALS", "CSC_REFERRALS"])
    assert [i["period"] for i in items] == ["2026-27 Q2"]  # the only quarter with a note or commentary on these
    assert items[0]["notes"] == {"CSC_REREFERRALS": "Eleven of the re-referrals are two sibling groups referred "
                                                    "twice each."}
    assert items[0]["commentary"].startswith("Contacts were steady, but re-referrals rose again")
    assert agency_analysis(engine, "CSC", ["CSC_REREFERRALS"], upto_index=0) == []
    pol = agency_analysis(engine, "POL", ["POL_RHI_72H"])
    assert [i["period"] for i in pol] == ["2026-27 Q2", "2026-27 Q1"]
    assert pol[1]["notes"] == {"POL_RHI_72H": "Same-day notifications now cover weekends too."}
