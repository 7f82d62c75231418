"""Turning the curve in the browser: writing the story, adding and updating actions, recording decisions, two
editors at once, typed text shown safely — each asserted against what the store holds.

These tests write, so they run on a copy of the demo store served by a server of their own.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from etl.governance import curve_decisions, read_actions, record_story, story_versions

from .support import DESKTOP, Browser, serve_in_background, stop


@pytest.fixture(scope="module")
def writable(demo_db, tmp_path_factory, chromium):
    """A copy of the demo store, served on its own: (base url, engine)."""
    from etl.store import make_engine

    src = demo_db.split(":///", 1)[1]
    copy = tmp_path_factory.mktemp("gov") / "demo.sqlite"
    shutil.copy(src, copy)
    url = f"sqlite:///{copy}"
    base, proc = serve_in_background(url)
    engine = make_engine(url)
    yield base, engine
    engine.dispose()
    stop(proc)


@pytest.fixture
def page(chromium, writable):
    context = chromium.new_context(viewport=DESKTOP, bypass_csp=True)
    b = Browser(context.new_page(), writable[0])
    yield b
    context.close()
    assert b.errors == [], "the page logged errors"


def _open_forms(b: Browser, indicator: str) -> None:
    b.open(f"/indicator/{indicator}")
    for d in b.page.query_selector_all("details.curve-form-box"):
        d.evaluate("e => e.open = true")


def _settled(b: Browser) -> None:
    """Wait until the page's callbacks have answered: a save selects the saved record, and the callback that
    then fills the form from the store must land before the test types into it, or it overwrites the typing."""
    b.page.wait_for_load_state("networkidle", timeout=30_000)


def _feedback(b: Browser, fid: str) -> str:
    b.page.wait_for_selector(f"#{fid} .alert", timeout=30_000)
    return b.text(f"#{fid}")


def test_gov001_write_a_new_version_of_the_story(page, writable):
    engine = writable[1]
    before = story_versions(engine, "rereferral_rate")
    _open_forms(page, "rereferral_rate")
    page.page.fill("#story-text", "")
    page.page.click("#story-save")
    assert "Not saved" in _feedback(page, "story-feedback")
    assert page.text("#story-text-error") == "the story is empty: say what lies behind the baseline"
    typed = "Re-referrals **still** rise.\n\n- closures without step-down\n- neglect re-presenting"
    page.page.fill("#story-text", typed)
    page.page.fill("#story-partners", "Early help; health visiting.")
    page.page.click("#story-save")
    page.page.wait_for_selector("#story-feedback .alert-success", timeout=30_000)
    after = story_versions(engine, "rereferral_rate")
    assert len(after) == len(before) + 1
    assert after[0]["story"] == typed and after[0]["partners"] == "Early help; health visiting."
    assert after[0]["replaces_id"] == before[0]["id"] and after[0]["period"] == "2026-27 Q2"
    assert page.text("#story-feedback") == f"Saved: version {len(after)} of the story, by {after[0]['author']}."
    assert page.page.locator("#curve-story-view strong", has_text="still").count() == 1
    assert page.page.locator("#curve-story-view li", has_text="closures without step-down").count() == 1
    assert "Earlier versions (1)" in page.text("#curve-story-view")
    page.screenshot("governance_story_saved")


def test_gov002_add_an_action_then_update_it(page, writable):
    engine = writable[1]
    _open_forms(page, "cla_rate")
    page.page.fill("#action-what", "Review every placement over 12 months.")
    page.page.fill("#action-owner", "Head of service")
    page.page.fill("#action-due", "2026-03-31")
    page.page.select_option("#action-status", "on_track")
    page.page.fill("#action-know", "Fewer children in placements over a year")
    page.page.click("#action-save")
    assert _feedback(page, "action-feedback").startswith("Added action")
    [a] = read_actions(engine, "cla_rate")
    assert (a["action"], a["owner"], a["due"], a["status"], a["how_we_know"]) == (
        "Review every placement over 12 months.", "Head of service", dt.date(2026, 3, 31), "on_track",
        "Fewer children in placements over a year")
    # the form now holds that action: record that it is done, with a note
    _settled(page)
    assert page.page.input_value("#action-choice") == str(a["id"])
    page.page.select_option("#action-status", "done")
    page.page.fill("#action-completed", "2026-03-20")
    page.page.fill("#action-note", "All 14 reviewed; 3 children moved home.")
    page.page.click("#action-save")
    page.page.wait_for_selector("#action-feedback .alert-success >> text=version 2", timeout=30_000)
    [a] = read_actions(engine, "cla_rate")
    assert (a["status"], a["completed_on"], a["version"], len(a["history"])) == ("done", dt.date(2026, 3, 20), 2, 2)
    assert a["history"][-1]["note"] == "All 14 reviewed; 3 children moved home."
    row = page.text("#actions-table tbody tr")
    assert "Done" in row and "done 20 Mar 2026" in row and "All 14 reviewed" in row
    # the same action again is refused, next to the field
    page.page.select_option("#action-choice", "new")
    # choosing "new" empties the form in a callback: wait for it, or it may empty what is typed next
    page.page.wait_for_function("() => document.querySelector('#action-what').value === '' && "
                                "document.querySelector('#action-owner').value === ''", timeout=30_000)
    page.page.fill("#action-what", "Review every placement over 12 months.")
    page.page.fill("#action-owner", "Someone")
    page.page.click("#action-save")
    page.page.wait_for_selector("#action-what-error:has-text('already in the plan')", timeout=30_000)
    assert len(read_actions(engine, "cla_rate")) == 1


def test_gov003_an_overdue_action_stands_out(page, writable):
    actions = read_actions(writable[1], "rereferral_rate")
    overdue = [a for a in actions if a["standing"] == "overdue"]
    assert overdue  # the demo's monthly review, due 30 September 2026, still says "on track"
    page.open("/indicator/rereferral_rate")
    badges = page.page.locator("#actions-table .standing-overdue .action-standing")
    assert badges.count() == len(overdue) and badges.first.inner_text() == "Overdue"
    assert f"{len(overdue)} overdue" in page.text("#actions-table caption")


def test_gov004_the_second_editor_is_told_and_sees_both(page, writable, library):
    engine = writable[1]
    _open_forms(page, "cin_rate")
    record_story(engine, library, "cin_rate", "Written meanwhile by someone else.", "ann.analyst", expected=None)
    page.page.fill("#story-text", "My version.")
    page.page.click("#story-save")
    text = _feedback(page, "story-feedback")
    assert "after you opened it, so yours was not saved" in text
    assert "Written meanwhile by someone else." in page.text(".conflict-theirs")
    assert "My version." in page.text(".conflict-yours")
    assert [v["story"] for v in story_versions(engine, "cin_rate")] == ["Written meanwhile by someone else."]
    assert page.page.input_value("#story-text") == "My version."  # nothing lost
    # saving again, now on top of the latest version, goes through
    page.page.click("#story-save")
    page.page.wait_for_selector("#story-feedback .alert-success", timeout=30_000)
    assert [v["story"] for v in story_versions(engine, "cin_rate")] == ["My version.",
                                                                         "Written meanwhile by someone else."]


def test_gov005_decisions_freeze_unfreeze_and_target(page, writable):
    engine = writable[1]
    _open_forms(page, "cpp_rate")
    page.page.select_option("#freeze-period", "2026-27 Q1")
    page.page.click("#freeze-save")
    assert "frozen at 2026-27 Q1" in _feedback(page, "freeze-feedback")
    page.page.click("#unfreeze-save")
    page.page.wait_for_selector("#freeze-reason-error:has-text('is required')", timeout=30_000)
    page.page.fill("#freeze-reason", "Started a quarter too early.")
    page.page.click("#unfreeze-save")
    page.page.wait_for_selector("#freeze-feedback .alert-success >> text=the freeze is undone", timeout=30_000)
    page.page.select_option("#target-from", "2026-27 Q3")
    page.page.fill("#target-value", "40")
    page.page.click("#target-save")
    page.page.wait_for_selector("#target-reason-error:has-text('is required')", timeout=30_000)
    page.page.fill("#target-reason", "Board agreed a new ambition.")
    page.page.click("#target-save")
    page.page.wait_for_selector("#target-feedback .alert-success", timeout=30_000)
    kinds = [(d["kind"], d["period"], d["target"], d["reason"]) for d in curve_decisions(engine, "cpp_rate")]
    assert kinds == [("target", "2026-27 Q3", 40.0, "Board agreed a new ambition."),
                     ("unfreeze", None, None, "Started a quarter too early."),
                     ("freeze", "2026-27 Q1", None, "Action plan started in 2026-27 Q1.")]
    listed = page.text("#decision-list")
    assert "Target changed" in listed and "Target 40 from 2026-27 Q3 (earlier quarters keep theirs)" in listed


def test_gov006_typed_text_is_stored_as_typed_and_shown_safely(page, writable):
    engine = writable[1]
    _open_forms(page, "cse_crimes")
    typed = ("See [the audit](javascript:alert(1)) and [the guidance](https://www.gov.uk/x) "
             "<img src=x onerror=alert(2)> ![chart](http://example.org/c.png) <script>alert(3)</script>")
    page.page.fill("#story-text", typed)
    page.page.click("#story-save")
    page.page.wait_for_selector("#story-feedback .alert-success", timeout=30_000)
    assert story_versions(engine, "cse_crimes")[0]["story"] == typed
    view = page.page.locator("#curve-story-view")
    hrefs = [a.get_attribute("href") for a in view.locator("a").all()]
    assert hrefs == ["https://www.gov.uk/x"]
    assert view.locator("img").count() == 0 and view.locator("script").count() == 0
    text = page.text("#curve-story-view")
    assert "the audit" in text and "(image: chart)" in text and "<img src=x onerror=alert(2)>" in text


def test_gov007_decide_an_exception_then_close_the_quarter(page, writable, board, library):
    from etl.access import load_dataset
    from etl.review import closed_quarter_snapshot, exception_decisions

    engine = writable[1]
    ds = load_dataset(engine, board, library, forecasts=False)
    ex = ds.exceptions
    inds = sorted(set(ex[ex["severity"].isin(("high", "medium", "low"))]["indicator_id"]))
    period = str(ds.period)
    decided = exception_decisions(engine, period)
    first = next(i for i in inds if i not in decided)  # the demo's review of the quarter is under way
    page.open(f"/indicator/{first}")
    assert page.text("#exception-position") == "Not yet reviewed by PQA"
    page.page.check("#exception-review input[value='challenged']")
    page.page.fill("#exception-reason", "One large sibling group.")
    page.page.click("#exception-save")
    page.page.wait_for_selector("#exception-settle-error:has-text('what data would settle it is required')",
                                timeout=30_000)
    assert first not in exception_decisions(engine, period)
    page.page.fill("#exception-settle", "The count by family for four quarters")
    page.page.click("#exception-save")
    page.page.wait_for_selector("#exception-feedback .alert-success", timeout=30_000)
    d = exception_decisions(engine, period)[first]
    assert (d["decision"], d["reason"], d["settle_with"]) == ("challenged", "One large sibling group.",
                                                              "The count by family for four quarters")
    assert page.text("#exception-position") == ("Challenged by PQA One large sibling group. Would settle it: The "
                                                "count by family for four quarters")
    # the home page shows the position, the challenge with it
    page.open("/")
    row = page.page.locator(".matrix-row", has=page.page.locator(f"a[href='/indicator/{first}']")).first
    assert "Challenged by PQA One large sibling group." in " ".join(row.inner_text().split())
    # the review page: close is refused until every exception has a decision
    page.open("/review")
    assert page.page.is_disabled("#close-quarter")
    from etl.review import decide_exception

    rest = [i for i in inds if i != first and i not in decided]
    for ind in rest:
        decide_exception(engine, library, ind, period, "agreed", decided_by="ann.analyst")
    page.open("/review")
    assert page.text("#review-table tbody").count("Agreed by ann.analyst") == len(rest)
    page.page.click("#close-quarter")
    page.page.wait_for_selector("#close-feedback .alert-success", timeout=60_000)
    snap = closed_quarter_snapshot(engine, period)
    assert snap is not None and snap["decisions"][first]["decision"] == "challenged"
    assert {e["indicator_id"] for e in snap["exceptions"]} == set(inds)
    page.open("/review")
    assert f"{period} is closed." in page.text("#closed-banner")
    page.screenshot("governance_review_closed")


def test_gov008_raise_a_critical_message_decide_it_and_export_the_log(page, writable, tmp_path):
    from etl.messages import critical_messages

    engine = writable[1]
    before = {m["id"] for m in critical_messages(engine)}
    page.open("/messages")
    for d in page.page.query_selector_all("details.curve-form-box"):
        d.evaluate("e => e.open = true")
    page.page.select_option("#msg-group", "exploitation")
    page.page.fill("#msg-text", "Missing episodes at one children's home doubled.")
    page.page.click("#msg-save")
    page.page.wait_for_selector("#msg-feedback .alert-success", timeout=30_000)
    [new] = [m for m in critical_messages(engine) if m["id"] not in before]
    assert (new["group"], new["message"], new["decision"], new["status"]) == (
        "exploitation", "Missing episodes at one children's home doubled.", None, "open")
    # the BMG decides: to the board, with an action — a decision needs its meeting's date
    _settled(page)
    assert page.page.input_value("#msg-choice") == str(new["id"])
    page.page.select_option("#msg-decision", "to_board")
    page.page.fill("#msg-action", "Joint visit by police and the home's registered manager")
    page.page.fill("#msg-owner", "Head of corporate parenting")
    page.page.fill("#msg-due", "2027-01-31")
    page.page.click("#msg-save")
    page.page.wait_for_selector("#msg-bmg-error:has-text('needs the date of the meeting')", timeout=30_000)
    page.page.fill("#msg-bmg", "2026-11-20")
    page.page.click("#msg-save")
    page.page.wait_for_selector("#msg-feedback .alert-success >> text=version 2", timeout=30_000)
    m = next(m for m in critical_messages(engine) if m["id"] == new["id"])
    assert (m["decision"], m["bmg_meeting"], m["owner"], m["due"], m["version"]) == (
        "to_board", dt.date(2026, 11, 20), "Head of corporate parenting", dt.date(2027, 1, 31), 2)
    row = page.page.locator("#message-table tr.message-row", has_text="children's home doubled")
    assert "To the board" in row.inner_text()
    with page.page.expect_download() as dl:
        page.page.click("#msg-download-xlsx")
    path = tmp_path / "log.xlsx"
    dl.value.save_as(path)
    from openpyxl import load_workbook

    ws = load_workbook(path).active
    found = [r for r in ws.iter_rows(min_row=6, values_only=True) if r[1] == m["message"]]
    assert found and found[0][4] == "To the board" and found[0][6] == "Head of corporate parenting"
    page.screenshot("governance_messages")


def test_gov009_write_a_report_card_edit_it_export_it_and_raise_a_message(page, writable, tmp_path, library):
    from etl.messages import critical_messages
    from etl.report_cards import card_versions, report_cards

    engine = writable[1]
    page.open("/report-cards")
    for d in page.page.query_selector_all("details.curve-form-box"):
        d.evaluate("e => e.open = true")
    page.page.select_option("#card-group", "learning")
    page.page.click("#card-save")
    page.page.wait_for_selector("#card-meeting-error:has-text('the meeting date is required')", timeout=30_000)
    page.page.fill("#card-meeting", "2026-11-30")
    page.page.fill("#card-activity", "Ran 14 courses; 212 staff attended.")
    page.page.fill("textarea[id*='domestic_abuse']", "Two DA courses with the refuge.")
    page.page.click("#card-save")
    page.page.wait_for_selector("#card-feedback .alert-success", timeout=30_000)
    [card] = [c for c in report_cards(engine, "learning") if c["meeting_on"] == dt.date(2026, 11, 30)]
    assert (card["meeting_on"], card["activity"], card["priority_activity"]) == (
        dt.date(2026, 11, 30), "Ran 14 courses; 212 staff attended.", {"domestic_abuse": "Two DA courses with the refuge."})
    _settled(page)
    page.page.fill("#card-difference", "Staff confidence in recognising coercive control rose.")
    page.page.click("#card-save")
    page.page.wait_for_selector("#card-feedback .alert-success >> text=version 2", timeout=30_000)
    assert [v["version"] for v in card_versions(engine, card["id"])] == [1, 2]
    page.open(f"/report-cards?card={card['id']}")
    assert "Learning and Development: 30 November 2026" in page.text("#card-title")
    data = page.text("#card-data")  # the learning sub-group leads Domestic Abuse: its indicators, from the dataset
    assert all(f"{i.label}:" in data for i in library.for_priority("domestic_abuse"))
    with page.page.expect_download() as dl:
        page.page.click("#card-download-docx")
    path = tmp_path / "card.docx"
    dl.value.save_as(path)
    from docx import Document

    text = [p.text for p in Document(path).paragraphs]
    assert "Ran 14 courses; 212 staff attended." in text
    assert "Staff confidence in recognising coercive control rose." in text
    for d in page.page.query_selector_all("details.curve-form-box"):
        d.evaluate("e => e.open = true")
    page.page.fill("#card-msg-text", "Uptake of DA training by GP practices is low.")
    page.page.click("#card-msg-save")
    page.page.wait_for_selector("#card-msg-feedback .alert-success", timeout=30_000)
    [m] = critical_messages(engine, source_ref=f"report_card {card['id']}")
    assert (m["group"], m["source"], m["message"]) == ("learning", "report_card",
                                                       "Uptake of DA training by GP practices is low.")
    page.screenshot("governance_report_card")


def test_gov010_the_agencys_own_analysis_is_beside_its_figure(page, writable):
    from etl.access import agency_analysis

    [latest, *_] = agency_analysis(writable[1], "CSC", ["CSC_REREFERRALS", "CSC_REFERRALS"])
    page.open("/indicator/rereferral_rate")
    page.page.wait_for_selector("#agency-analysis .agency-commentary p", timeout=30_000)  # Markdown drawn
    text = page.text("#agency-analysis")
    assert f"On Re-referrals within 12 months: {latest['notes']['CSC_REREFERRALS']}" in text
    assert " ".join(latest["commentary"].split()) in text


def test_gov011_record_a_finding_beside_the_data_and_read_the_sources(page, writable, board):
    from etl.evidence import evidence_items, information_sources

    engine = writable[1]
    page.open("/priority/neglect")
    for d in page.page.query_selector_all("details.curve-form-box"):
        d.evaluate("e => e.open = true")
    page.page.fill("#ev-title", "Multi-agency neglect audit")
    page.page.fill("#ev-finding", "Chronologies were missing in 6 of the 10 cases audited.")
    page.page.click("#ev-save")
    page.page.wait_for_selector("#ev-date-error:has-text('the date of the finding is required')", timeout=30_000)
    page.page.fill("#ev-date", "2026-09-15")
    page.page.click("#ev-save")
    page.page.wait_for_selector("#ev-feedback .alert-success", timeout=30_000)
    [item] = [i for i in evidence_items(engine, priority="neglect") if i["title"] == "Multi-agency neglect audit"]
    assert (item["kind"], item["found_on"], item["priorities"]) == ("multi_agency_audit", dt.date(2026, 9, 15),
                                                                    ["neglect"])
    assert "Chronologies were missing in 6 of the 10 cases audited." in page.text("#evidence-list")
    page.open("/returns")
    rows = information_sources(engine, board)
    table = page.text("#sources-table")
    assert all(r["provider"] in table for r in rows)


@pytest.mark.parametrize("path", ["/indicator/rereferral_rate", "/messages", "/report-cards?card=1",
                                  "/priority/neglect", "/review"])
def test_gov012_the_forms_open_pass_axe_and_fit_a_projector(chromium, writable, path):
    from .support import PROJECTOR
    from .test_accessibility import _serious

    context = chromium.new_context(viewport=PROJECTOR, bypass_csp=True)
    b = Browser(context.new_page(), writable[0])
    try:
        b.open(path)
        for d in b.page.query_selector_all("details"):
            d.evaluate("e => e.open = true")
        assert _serious(b.page) == []
        assert b.page.evaluate("document.documentElement.scrollWidth") <= 1024
        b.screenshot(f"governance_projector_{path.strip('/').replace('/', '_').replace('?', '_')}", full_page=False)
    finally:
        context.close()
    assert b.errors == []
