"""The critical message log: raising, the BMG's decision, progress, overdue, and the export in the template's
layout."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from click.testing import CliRunner
from conftest import after_where

from etl.cli import main
from etl.governance import Conflict, InvalidField
from etl.messages import COLUMNS, critical_messages, message_versions, raise_message, update_message
from etl.store import make_engine

TODAY = dt.date(2026, 12, 1)


def _two(engine, board, library):
    a = raise_message(engine, board, library, by="ann", group_id="pqa",
                      message="Assessment timeliness will not recover without agency cover.",
                      raised_on=dt.date(2026, 10, 5), indicators=["assessments_45_days"])
    b = raise_message(engine, board, library, by="ben", group_id="exploitation",
                      message="Return interviews outside office hours depend on one worker.",
                      raised_on=dt.date(2026, 9, 1), bmg_meeting=dt.date(2026, 9, 20), decision="noted",
                      action="Train two more interviewers", owner="Service manager", why="Resilience",
                      due=dt.date(2026, 11, 30), status="in_progress", indicators=["return_home_interviews"])
    return a, b


def test_raise_decide_and_progress_keep_every_version(engine, board, library):
    a, b = _two(engine, board, library)
    update_message(engine, board, library, a.id, 1, by="bmg", bmg_meeting="2026-10-20", decision="to_board",
                   action="Fund agency team managers for two quarters", owner="Director of children's services",
                   why="Statutory timescales", due="2027-03-31")
    msgs = {m["id"]: m for m in critical_messages(engine, today=TODAY)}
    m = msgs[a.id]
    assert (m["group"], m["decision"], m["owner"], m["due"], m["version"], m["standing"]) == (
        "pqa", "to_board", "Director of children's services", dt.date(2027, 3, 31), 2, "open")
    assert m["indicators"] == ["assessments_45_days"]
    assert msgs[b.id]["standing"] == "overdue"  # due 30 November, in progress on 1 December
    assert [x["id"] for x in critical_messages(engine, to_board=True)] == [a.id]
    assert [x["id"] for x in critical_messages(engine, to_board=False)] == [b.id]
    hist = message_versions(engine, a.id)
    assert [(h["version"], h["by"], h["data"]["decision"]) for h in hist] == [(1, "ann", None), (2, "bmg", "to_board")]
    with pytest.raises(Conflict, match="now version 2"):
        update_message(engine, board, library, a.id, 1, by="cat", status="done")


@pytest.mark.parametrize("values, field", [
    ({"group_id": "nope"}, "group_id"),
    ({"message": " "}, "message"),
    ({"decision": "to_board"}, "bmg_meeting"),
    ({"bmg_meeting": "20/10/2026"}, "bmg_meeting"),
    ({"completed_on": "2026-10-01", "status": "open"}, "completed_on"),
    ({"due": "2026-01-01"}, "due"),
    ({"indicators": ["not_an_indicator"]}, "indicators"),
])
def test_bad_messages_name_the_field(engine, board, library, values, field):
    base = {"group_id": "pqa", "message": "A message.", "raised_on": dt.date(2026, 10, 5)}
    with pytest.raises(InvalidField) as err:
        raise_message(engine, board, library, by="ann", **(base | values))
    assert err.value.field == field
    assert critical_messages(engine) == []


def test_export_in_the_templates_layout(tmp_path, board, library):
    db = tmp_path / "oba.sqlite"
    run = CliRunner().invoke
    assert run(main, ["--db", str(db), "init"]).exit_code == 0
    engine = make_engine(str(db))
    a, b = _two(engine, board, library)
    update_message(engine, board, library, a.id, 1, bmg_meeting="2026-12-15", decision="to_board")
    engine.dispose()
    out = tmp_path / "log.csv"
    r = run(main, ["--db", str(db), "export", "critical-messages", "--format", "csv", "-o", str(out)])
    assert r.exit_code == 0 and after_where(r.output) == f"Wrote 2 critical messages to {out}.\n"
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == COLUMNS
    assert rows[1] == ["Performance and Quality Assurance",
                       "Assessment timeliness will not recover without agency cover.", "2026-10-05", "2026-12-15",
                       "To the board", "", "", "", "", "", "Open", "Assessments in 45 days"]
    assert rows[2][0] == "Exploitation and Missing" and rows[2][4] == "Noted" and rows[2][8] == "2026-11-30"
    assert rows[2][10] == ("Overdue" if dt.date.today() > dt.date(2026, 11, 30) else "In progress")
    xlsx = tmp_path / "log.xlsx"
    r = run(main, ["--db", str(db), "export", "critical-messages", "-o", str(xlsx), "--to-board"])
    assert r.exit_code == 0 and after_where(r.output) == f"Wrote 1 critical message to {xlsx}.\n"
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).active
    assert ws["A2"].value.startswith("Critical Messages for the Business Management Group to consider at the "
                                     "meeting on ")
    assert [c.value for c in ws[5]] == COLUMNS
    assert ws["B6"].value == "Assessment timeliness will not recover without agency cover."
    assert ws["C6"].value == dt.datetime(2026, 10, 5) and ws.max_row == 6
    r = run(main, ["--db", str(db), "export", "critical-messages", "--format", "pdf", "-o", str(xlsx)])
    assert r.exit_code == 2 and "'pdf' is not one of 'xlsx', 'csv'" in after_where(r.output)


def test_escalating_an_exception_raises_its_message(engine, board, library):
    from etl.review import escalate_exception, exception_decisions

    row, msg = escalate_exception(engine, board, library, "return_home_interviews", "2026-27 Q2",
                                  "Interviews within 72 hours fell again.", "ann")
    assert exception_decisions(engine, "2026-27 Q2")["return_home_interviews"]["decision"] == "escalated"
    [m] = critical_messages(engine)
    assert (m["id"], m["group"], m["source"], m["source_ref"], m["indicators"], m["message"]) == (
        msg.id, "exploitation", "exception", "return_home_interviews 2026-27 Q2", ["return_home_interviews"],
        "Interviews within 72 hours fell again.")
