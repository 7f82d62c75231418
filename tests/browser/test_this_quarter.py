"""This quarter (home): the summary matrix per priority, the period in the URL, links to indicators."""

from __future__ import annotations

import re

ATTENTION = ("high", "medium", "low")


def _exceptions_by_priority(ds) -> dict[str, int]:
    ex = ds.exceptions[ds.exceptions["severity"].isin(ATTENTION) & (ds.exceptions["area_code"] == ds.area_code)]
    return ex.groupby("priority_id")["indicator_id"].nunique().to_dict()


def test_thq001_shows_the_current_quarter_and_exceptions_per_priority(browser, demo, board):
    ds = demo["dataset"]
    browser.open("/")
    assert browser.page.inner_text("h1") == f"This quarter: {ds.period}"
    counts = _exceptions_by_priority(ds)
    for p in board.priorities:
        n = counts.get(p.id, 0)
        heading = browser.text(f"#priority-{p.id}-h")
        assert heading == f"{p.name} {n} exception{'s' if n != 1 else ''}"
    ex = ds.exceptions[ds.exceptions["severity"].isin(ATTENTION) & (ds.exceptions["area_code"] == ds.area_code)]
    lead = browser.text(".page-header .lead")
    # an indicator serving two priorities is counted once in the total, and under each of its priorities
    assert f"{ex['indicator_id'].nunique()} indicators are exceptions in {ds.period}" in lead
    browser.screenshot("this_quarter")


def test_thq002_exceptions_come_first_with_their_reasons(browser, demo):
    ds = demo["dataset"]
    browser.open("/")
    rows = browser.page.locator("#priority-early_help tbody tr")
    n_exc = _exceptions_by_priority(ds).get("early_help", 0)
    classes = [rows.nth(i).get_attribute("class") for i in range(rows.count())]
    assert all("row-exception" in c for c in classes[:n_exc])
    assert not any("row-exception" in c for c in classes[n_exc:])
    # re-referrals: its value, RAG in words and the icons' meanings are on the row
    row = ds.frame[(ds.frame["indicator_id"] == "rereferral_rate") & (ds.frame["period"] == str(ds.period))
                   & ~ds.frame["is_forecast"]].iloc[0]
    tr = browser.page.locator("#priority-early_help tr", has_text="Re-referrals")
    text = " ".join(tr.inner_text().split())
    assert f"{row['value']:.1f}%" in text
    assert {"red": "Red", "amber": "Amber", "green": "Green"}[row["rag"]] in text
    alts = [tr.locator("img").nth(i).get_attribute("alt") for i in range(tr.locator("img").count())]
    assert any(a.startswith("Variation: Special cause: concern") for a in alts)


def test_thq003_period_goes_in_the_url_and_back_works(browser, demo):
    ds = demo["dataset"]
    earlier = str(ds.period - 2)
    browser.open("/")
    browser.page.select_option("#home-period", earlier)
    browser.page.wait_for_url(re.compile(r"\?period=" + re.escape(earlier.replace(" ", "+")) + "$"))
    browser.page.wait_for_function("(p) => document.querySelector('h1').innerText.includes(p)", arg=earlier)
    assert browser.page.input_value("#home-period") == earlier
    assert "as it stood then" in browser.text()
    browser.page.go_back()
    browser.page.wait_for_function("(p) => document.querySelector('h1').innerText.includes(p)",
                                   arg=str(ds.period))
    assert browser.page.url == browser.base + "/"
    browser.page.go_forward()
    browser.page.wait_for_function("(p) => document.querySelector('h1').innerText.includes(p)", arg=earlier)
    # a link in an email opens the same view
    browser.open(f"/?period={earlier.replace(' ', '+')}")
    assert browser.page.inner_text("h1") == f"This quarter: {earlier}"


def test_thq004_every_row_links_to_its_indicator(browser):
    browser.open("/")
    browser.page.locator("#priority-neglect a.indicator-link", has_text="Re-referrals").click()
    browser.page.wait_for_url(browser.base + "/indicator/rereferral_rate")
    # the address changes before Dash's router draws the new page: wait for its heading, not just any heading
    browser.page.wait_for_selector("#main-content h1:text-is('Re-referrals within 12 months of a previous referral')",
                                   timeout=20_000)
    browser.ready()
    assert browser.page.inner_text("h1") == "Re-referrals within 12 months of a previous referral"


def test_thq005_fits_a_projector(projector):
    projector.open("/")
    width = projector.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1024, f"the page is {width}px wide at 1024×768"
    projector.screenshot("this_quarter", full_page=False)
    projector.screenshot("this_quarter_full")
