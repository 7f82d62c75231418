"""Agency returns: agencies × quarters with received, late, missing, revised, and each return's issues."""

from __future__ import annotations

STATUS_WORDS = {"received": "Received", "late": "Late", "missing": "Missing", "revised": "Revised",
                "not_yet_due": "Not yet due"}


def test_ret001_grid_shows_each_return_status(browser, demo, board):
    status = demo["returns"]
    browser.open("/returns")
    latest = status["period"].map(lambda p: p).max()
    shown = browser.page.locator("table.returns-grid thead th").all_inner_texts()[1:]
    for r in status[status["period"].isin(shown)].to_dict("records"):
        name = board.agency(r["agency_code"]).name
        words = STATUS_WORDS[r["status"]] + (", revised" if r["status"] == "late" and r["revised"] else "")
        summary = browser.page.locator(f'summary[aria-label^="{name}, {r["period"]}:"]')
        assert summary.get_attribute("aria-label").startswith(f"{name}, {r['period']}: {words}")
    cur = status[status["period"] == latest]
    arrived = cur["status"].isin(["received", "late", "revised"]).sum()
    assert f"{arrived} of {len(board.agencies)} agencies sent their return for {latest}" in browser.text(".lead")
    assert set(cur["status"]) >= {"missing", "late"}, "the demo has a missing and a late return"
    browser.screenshot("agency_returns")


def test_ret002_open_a_cell_with_the_keyboard(browser, demo, board):
    status = demo["returns"]
    with_issues = status[status["issues"].map(len) > 0].iloc[-1]
    name = board.agency(with_issues["agency_code"]).name
    browser.open(f"/returns?period={with_issues['period'].replace(' ', '+')}")
    summary = browser.page.locator(f'summary[aria-label^="{name}, {with_issues["period"]}:"]')
    summary.focus()
    browser.page.keyboard.press("Enter")
    details = summary.locator("xpath=..")
    assert details.get_attribute("open") is not None
    text = " ".join(details.inner_text().split())
    for issue in with_issues["issues"]:
        assert " ".join(str(issue).split())[:60] in text


def test_ret003_projector(projector):
    projector.open("/returns")
    projector.screenshot("agency_returns", full_page=False)
