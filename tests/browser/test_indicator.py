"""One indicator, to turn the curve: baseline and forecast, SPC, benchmarking, data, definition, story."""

from __future__ import annotations

from sqlalchemy import select

from etl.store import ActionPlanItem, CurveStory, ReturnValue, ReturnVersion
from indicators.periods import Quarter


def _rolling_rate(engine, numerator: str, denominator: str, last: Quarter) -> float:
    """The rolling 12-month percentage worked out straight from the stored returns."""
    periods = [(last - k).label for k in range(4)]
    stmt = (select(ReturnValue.measure_code, ReturnValue.value)
            .join(ReturnVersion, ReturnValue.return_id == ReturnVersion.id)
            .where(ReturnVersion.is_current.is_(True), ReturnVersion.period.in_(periods),
                   ReturnValue.measure_code.in_([numerator, denominator])))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    num = sum(v for m, v in rows if m == numerator)
    den = sum(v for m, v in rows if m == denominator)
    return 100.0 * num / den


def test_ind001_rereferrals_turn_the_curve(browser, demo):
    ds, engine = demo["dataset"], demo["engine"]
    browser.open("/indicator/rereferral_rate")
    browser.page.wait_for_function("document.title === 'Re-referrals – OBA dashboard'")
    expected = _rolling_rate(engine, "CSC_REREFERRALS", "CSC_REFERRALS", ds.period)
    assert browser.text(".facts .big-value") == f"{expected:.1f}%"
    text = browser.text()
    assert f"Re-referrals rose to {expected:.1f}% in {ds.period}" in text
    # four charts drawn, each with its sentence underneath
    assert browser.page.locator(".chart-figure .js-plotly-plot .main-svg").count() >= 4
    assert browser.page.locator(".chart-figure figcaption").count() == 4
    method = ds.frame[(ds.frame["indicator_id"] == "rereferral_rate") & ds.frame["is_forecast"]]["forecast_method"].iloc[0]
    assert f"Forecast method: {method}" in text
    assert "because of a quarter outside the process limits" in text
    row = ds.frame[(ds.frame["indicator_id"] == "rereferral_rate") & (ds.frame["period"] == str(ds.period))
                   & ~ds.frame["is_forecast"]].iloc[0]
    rank = int(row["rank"])
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    assert f"ranks {rank}{suffix} of {int(row['rank_of'])} (1st is best)" in text  # the dataset's own rank
    assert "Funnel plot" in text
    # the story and the action plan as stored
    with engine.connect() as conn:
        story = conn.execute(select(CurveStory.story).where(CurveStory.indicator_id == "rereferral_rate")).scalar()
        action = conn.execute(select(ActionPlanItem.action)
                              .where(ActionPlanItem.indicator_id == "rereferral_rate")).scalar()
    assert " ".join(story.split()) in text and " ".join(action.split()) in text
    browser.screenshot("indicator_rereferral_rate")


def test_ind002_no_story_yet(browser):
    browser.open("/indicator/cin_rate")
    assert "No story has been recorded yet" in browser.text()
    assert "No actions have been recorded for this indicator." in browser.text()


def test_ind003_suppressed_value_reads_suppressed(browser, demo):
    ds = demo["dataset"]
    f = ds.frame
    rows = f[(f["indicator_id"] == "cse_crimes") & (f["status"] == "suppressed") & ~f["is_forecast"]]
    assert len(rows), "the demo returns some CSE crimes suppressed"
    browser.open("/indicator/cse_crimes")
    for period in rows["period"]:
        row_text = " ".join(browser.page.locator("table.data-table tr", has_text=period).inner_text().split())
        assert "suppressed" in row_text and " 0 " not in f" {row_text} "
    browser.open(f"/indicator/cse_crimes?period={rows['period'].iloc[0].replace(' ', '+')}")
    assert browser.text(".facts .big-value") == "suppressed"
    browser.screenshot("indicator_suppressed")


def test_ind004_unknown_indicator(browser):
    browser.open("/indicator/rereferal_rate")
    assert browser.page.inner_text("h1") == "No such indicator"
    browser.page.get_by_role("link", name="Re-referrals").click()
    browser.page.wait_for_url(browser.base + "/indicator/rereferral_rate")


def test_ind005_period_from_the_url(browser, demo):
    ds, engine = demo["dataset"], demo["engine"]
    q = ds.period - 3
    browser.open(f"/indicator/rereferral_rate?period={q.label.replace(' ', '+')}")
    expected = _rolling_rate(engine, "CSC_REREFERRALS", "CSC_REFERRALS", q)
    assert browser.text(".facts .big-value") == f"{expected:.1f}%"
    assert browser.page.input_value("#indicator-period") == q.label
    assert "table-active" in browser.page.locator("table.data-table tr", has_text=q.label).get_attribute("class")


def test_ind006_projector(projector):
    projector.open("/indicator/rereferral_rate")
    assert projector.page.evaluate("document.documentElement.scrollWidth") <= 1024
    projector.screenshot("indicator_rereferral_rate", full_page=False)
    projector.screenshot("indicator_rereferral_rate_full")
