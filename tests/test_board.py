"""The board view and the board paper behind it: per priority only its exceptions, each indicator once with the
priorities it serves, what is being done, the positives, the data's quality and the critical messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import copy_demo
from test_dashboard_pages import render

from dashboard import data
from dashboard.app import create_app
from dashboard.data import DataSource

BOARD = Path(__file__).resolve().parent.parent / "data" / "demo" / "board.yaml"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory, library, demo_sqlite) -> str:
    url = copy_demo(demo_sqlite, tmp_path_factory.mktemp("board-demo"))
    from etl.governance import add_action, record_story
    from etl.store import make_engine

    engine = make_engine(url)
    record_story(engine, library, "rereferral_rate", "Cases closed without a step-down plan come back.", "pqa")
    import datetime as dt
    add_action(engine, library, "rereferral_rate", "Audit 20 closures a quarter", "Head of the front door", "pqa",
               due=dt.date(2026, 12, 31))
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def view(demo_url):
    from dashboard.exports.common import open_view

    return open_view(demo_url, BOARD)


def test_each_exception_once_under_its_first_priority(view):
    from dashboard.exports.content import board_paper

    paper = board_paper(view, view.current)
    shown = [e.row.indicator_id for e in paper.exceptions]
    assert len(shown) == len(set(shown)), "an indicator appears once"
    expected = {mr.indicator.id for p in view.board.priorities for mr in view.matrix(p.id) if mr.is_exception}
    assert set(shown) == expected
    order = [p.id for p in view.board.priorities]
    for sec in paper.sections:
        for e in sec.exceptions:
            ind = view.library.indicators[e.row.indicator_id]
            first = min((p for p in ind.priorities if p in order), key=order.index)
            assert first == sec.id
            names = {p.id: p.name for p in view.board.priorities}
            assert e.row.priorities == [names[p] for p in ind.priorities if p in names]
        for label, under in sec.also:
            assert under != sec.name
            assert label in [e.row.label for s in paper.sections for e in s.exceptions]
    rr = next(e for e in paper.exceptions if e.row.indicator_id == "rereferral_rate")
    assert rr.story["story"] == "Cases closed without a step-down plan come back."
    assert "Audit 20 closures a quarter" in [a["action"] for a in rr.actions]
    assert rr.row.reasons == [r.sentence for r in view.reasons("rereferral_rate") if r.needs_attention]
    positives = {r.indicator_id for r in paper.positives}
    assert positives and not positives & set(shown)
    assert paper.data_quality[0].startswith(f"Data quality: 7 of 8 agencies' returns for {view.current} are in")
    assert "missing: Harrowdale General Hospital NHS Trust" in paper.data_quality[0]
    # the demo's business management group sent two critical messages to the board
    assert [m["message"] for m in paper.critical] == [
        "Missing episodes from two children's homes doubled this quarter.",
        next(m["message"] for m in paper.critical if m["action"].startswith("Fund agency team managers"))]


def test_critical_messages_are_those_the_bmg_sent_to_the_board_in_words(view):
    from dashboard.exports.content import critical_messages, message_line

    got = critical_messages(view)
    groups = {g.id: g.name for g in view.board.subgroups}
    assert len(got) == 2  # of the demo's five messages, two were decided "to the board"
    cse = got[0]
    assert (cse["group"], cse["message"], cse["decision"], cse["owner"], cse["due"]) == (
        groups["exploitation"], "Missing episodes from two children's homes doubled this quarter.", "To the board",
        "Head of corporate parenting", dt.date(2027, 1, 31))
    assert cse["status"] in {"Open", "Overdue"}  # overdue once its date has passed
    assert cse["indicators"] == ["missing_episodes"]
    assert message_line({**cse, "status": "Open"}) == (
        f"{groups['exploitation']}: Missing episodes from two children's homes doubled this quarter. Action: Joint "
        "visits by the police and each home's registered manager (Head of corporate parenting, due 31 January "
        "2027; open).")
    assert message_line({"message": "No owner yet"}) == (
        "No owner yet. Action: none recorded (no owner, due no date; open).")


def test_board_page_text(view, demo_url):
    app = create_app()
    before = data.source()
    data.use(DataSource(demo_url, BOARD))
    try:
        text = render(app, "/board", f"?period={str(view.current).replace(' ', '+')}")
    finally:
        data.use(before)
    assert text.startswith(f"Board view: {view.current}")
    assert "Cases closed without a step-down plan come back." in text
    assert "Audit 20 closures a quarter Owner: Head of the front door · due 31 December 2026 · Open" in text
    assert "To commend: positive exceptions" in text and "About the data" in text
    assert "Also an exception for this priority (shown under another it serves):" in text
    # each exception's title once
    for label in {view.library.indicators[i].label for p in view.board.priorities
                  for i in [mr.indicator.id for mr in view.matrix(p.id) if mr.is_exception]}:
        assert text.count(f"{label} ") >= 1
