"""Report cards: created and edited per sub-group and meeting, the data section filled from the dataset, and
the export to Word and PDF."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from click.testing import CliRunner
from conftest import after_where

from etl.cli import main
from etl.governance import Conflict, InvalidField
from etl.messages import raise_message
from etl.report_cards import (
    card_versions,
    create_card,
    data_quarter,
    report_card_data,
    report_cards,
    update_card,
)
from etl.store import make_engine
from indicators.periods import Quarter


@pytest.fixture(scope="module")
def built(demo_sqlite):
    return demo_sqlite


@pytest.fixture
def store(built, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(built, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine, path
    engine.dispose()


def test_create_edit_and_list_by_group_and_date(engine, board):
    a = create_card(engine, board, by="ann", group_id="pqa", meeting_on="2026-11-18",
                    activity="Reviewed the Q2 dataset; two multi-agency audits.",
                    priority_activity={"voice_of_child": "Children's views are read at the start of each meeting."})
    create_card(engine, board, by="ann", group_id="exploitation", meeting_on="2026-10-07", activity="Missing audit.")
    create_card(engine, board, by="ann", group_id="pqa", meeting_on="2026-08-19", activity="Q1 dataset.")
    assert [(c["group"], c["meeting_on"]) for c in report_cards(engine)] == [
        ("pqa", dt.date(2026, 11, 18)), ("exploitation", dt.date(2026, 10, 7)), ("pqa", dt.date(2026, 8, 19))]
    assert [c["meeting_on"] for c in report_cards(engine, "pqa")] == [dt.date(2026, 11, 18), dt.date(2026, 8, 19)]
    with pytest.raises(InvalidField, match="already a report card for this sub-group's meeting") as err:
        create_card(engine, board, by="ben", group_id="pqa", meeting_on="2026-11-18", activity="Again.")
    assert err.value.field == "meeting_on"
    update_card(engine, board, a.id, 1, by="ben", difference="Re-referrals audited; step-down plans now checked.")
    [card] = [c for c in report_cards(engine, "pqa") if c["id"] == a.id]
    assert card["version"] == 2 and card["difference"].startswith("Re-referrals audited")
    assert card["priority_activity"] == {"voice_of_child": "Children's views are read at the start of each meeting."}
    assert [(v["version"], v["by"]) for v in card_versions(engine, a.id)] == [(1, "ann"), (2, "ben")]
    with pytest.raises(Conflict):
        update_card(engine, board, a.id, 1, by="cat", activity="Overwrite.")


@pytest.mark.parametrize("values, field", [
    ({"group_id": "nope"}, "group_id"),
    ({"meeting_on": ""}, "meeting_on"),
    ({"meeting_on": "18/11/2026"}, "meeting_on"),
    ({"activity": ""}, "activity"),
    ({"priority_activity": {"not_a_priority": "x"}}, "priority_activity"),
])
def test_bad_cards_name_the_field(engine, board, values, field):
    base = {"group_id": "pqa", "meeting_on": "2026-11-18", "activity": "Something."}
    with pytest.raises(InvalidField) as err:
        create_card(engine, board, by="ann", **(base | values))
    assert err.value.field == field


def test_the_meeting_reports_on_the_last_quarter_ended_before_it():
    qs = [Quarter(2026, 1), Quarter(2026, 2)]
    assert data_quarter(qs, dt.date(2026, 11, 18)) == Quarter(2026, 2)
    assert data_quarter(qs, dt.date(2026, 9, 30)) == Quarter(2026, 1)
    assert data_quarter(qs, dt.date(2026, 6, 30)) is None


def test_the_data_section_is_filled_from_the_dataset(store, board, library):
    from etl.access import load_dataset

    engine, _ = store
    card = create_card(engine, board, by="ann", group_id="exploitation", meeting_on="2026-11-30",
                       activity="Missing audit.")
    data = report_card_data(engine, board, library, report_cards(engine, "exploitation")[0])
    assert data["period"] == "2026-27 Q2" and data["priorities"] == ["Child Sexual Exploitation and Missing"]
    expected = [i.id for i in library.for_priority("cse_missing")]
    assert [i["indicator_id"] for i in data["indicators"]] == expected
    ds = load_dataset(engine, board, library, forecasts=False)
    row = ds.at(ds.period).set_index("indicator_id").loc["return_home_interviews"]
    rhi = next(i for i in data["indicators"] if i["indicator_id"] == "return_home_interviews")
    assert rhi["value"] == f"{row['value']:.{library.indicator('return_home_interviews').decimals}f}%"
    assert rhi["rag"] == row["rag"]
    assert card.id


def test_cli_exports_docx_and_pdf(store, board, library, tmp_path):
    engine, path = store
    card = create_card(engine, board, by="ann", group_id="pqa", meeting_on="2026-11-30",
                       activity="Reviewed the Q2 dataset.\nTwo audits.", difference="Fewer re-referrals audited late.",
                       priority_activity={"voice_of_child": "Children's views read first."})
    raise_message(engine, board, library, by="ann", group_id="pqa", message="Agency cover needed for assessments.",
                  source="report_card", source_ref=f"report_card {card.id}")
    run = CliRunner().invoke
    out = tmp_path / "card.docx"
    r = run(main, ["--db", str(path), "export", "report-card", "--group", "pqa", "--meeting", "2026-11-30",
                   "--format", "docx", "-o", str(out)])
    assert r.exit_code == 0, after_where(r.output)
    assert after_where(r.output) == (f"Wrote the Performance and Quality Assurance report card for 30 November 2026 with the data "
                        f"for 2026-27 Q2 to {out}.\n")
    from docx import Document

    text = [p.text for p in Document(out).paragraphs]
    assert "Summary of sub-group activity" in text and "Reviewed the Q2 dataset." in text and "Two audits." in text
    assert "Agency cover needed for assessments." in text
    assert "Sub-group activity related to the board priority Voice of the Child" in text
    assert any(t.startswith("Re-referrals: ") for t in text)
    pdf = tmp_path / "card.pdf"
    r = run(main, ["--db", str(path), "export", "report-card", "--group", "pqa", "--meeting", "2026-11-30",
                   "-o", str(pdf)])
    assert r.exit_code == 0 and pdf.read_bytes()[:5] == b"%PDF-"
    r = run(main, ["--db", str(path), "export", "report-card", "--group", "pqa", "--meeting", "2026-12-01",
                   "-o", str(pdf)])
    assert r.exit_code == 1 and after_where(r.output) == ("Error: there is no report card for sub-group 'pqa' and the meeting on "
                                             "2026-12-01 (its cards: 2026-11-30, 2026-11-18, 2026-08-19)\n")
