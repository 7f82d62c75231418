"""Evidence beside the data and the information-sources table."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from conftest import after_where

from etl.cli import main
from etl.evidence import (
    add_evidence,
    evidence_items,
    evidence_versions,
    information_sources,
    set_source,
    update_evidence,
)
from etl.governance import Conflict, InvalidField
from etl.store import make_engine


def test_findings_are_linked_kept_and_listed(engine, board, library):
    a = add_evidence(engine, board, library, by="ann", kind="multi_agency_audit", title="Neglect audit",
                     finding="Chronologies missing in 6 of 10 cases.", found_on="2026-09-15",
                     source="PQA sub-group", priorities=["neglect"], indicators=["cpp_neglect"])
    add_evidence(engine, board, library, by="ann", kind="voice_of_child", title="Young people's survey",
                 finding="Most felt listened to at conference.", found_on="2026-10-01",
                 priorities=["voice_of_child"], indicators=["conference_child_views"])
    assert [i["title"] for i in evidence_items(engine)] == ["Young people's survey", "Neglect audit"]
    [n] = evidence_items(engine, priority="neglect")
    assert (n["kind_label"], n["found_on"], n["indicators"]) == ("Multi-agency audit", dt.date(2026, 9, 15),
                                                                 ["cpp_neglect"])
    assert [i["title"] for i in evidence_items(engine, indicator="conference_child_views")] == ["Young people's survey"]
    update_evidence(engine, board, library, a.id, 1, by="ben", finding="Chronologies missing in 6 of 10 cases; "
                    "re-audit in March.")
    assert [(v["version"], v["by"]) for v in evidence_versions(engine, a.id)] == [(1, "ann"), (2, "ben")]
    with pytest.raises(Conflict):
        update_evidence(engine, board, library, a.id, 1, by="cat", title="x")


@pytest.mark.parametrize("values, field", [
    ({"kind": "rumour"}, "kind"),
    ({"title": ""}, "title"),
    ({"found_on": "next week"}, "found_on"),
    ({"found_on": "2999-01-01"}, "found_on"),
    ({"priorities": [], "indicators": []}, "priorities"),
    ({"indicators": ["nope"]}, "indicators"),
])
def test_bad_findings_name_the_field(engine, board, library, values, field):
    base = {"kind": "inspection", "title": "JTAI", "finding": "Good.", "found_on": "2026-06-01",
            "priorities": ["early_help"]}
    with pytest.raises(InvalidField) as err:
        add_evidence(engine, board, library, by="ann", **(base | values))
    assert err.value.field == field


def test_information_sources_list_the_returns_and_the_others(tmp_path, board):
    db = tmp_path / "oba.sqlite"
    run = CliRunner().invoke
    assert run(main, ["--db", str(db), "init"]).exit_code == 0
    r = run(main, ["--db", str(db), "evidence", "source", "--source", "Section 11 audit returns", "--provider",
                   "All statutory partners", "--frequency", "Every two years", "--last-received", "2025-03-31",
                   "--next-due", "2026-03-31"])
    assert r.exit_code == 0 and after_where(r.output) == ("Recorded the information source 'Section 11 audit returns' from All "
                                             "statutory partners.\n")
    engine = make_engine(str(db))
    set_source(engine, "Section 11 audit returns", "All statutory partners", "Every two years", "2025-03-31",
               "2027-03-31", by="ann")
    rows = information_sources(engine, board, today=dt.date(2026, 12, 1))
    engine.dispose()
    returns = [r for r in rows if r["kind"] == "return"]
    assert [r["provider"] for r in returns] == [a.name for a in board.agencies]
    assert all(r["last_received"] is None and r["overdue"] for r in returns)  # nothing received yet
    [s11] = [r for r in rows if r["kind"] == "recorded"]
    assert (s11["frequency"], s11["next_due"], s11["overdue"]) == ("Every two years", dt.date(2027, 3, 31), False)
