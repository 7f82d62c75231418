"""No data leaves the machine: every request a page makes goes to the app itself, and no chart offers to send
its data to Plotly's cloud ("Share chart", "Edit in Chart Studio", the Plotly logo link)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .support import PROJECTOR, Browser

# Every page of the open demo (the open demo may open them all), with a quarter and a priority chosen.
PAGES = ["/", "/priority", "/priority/neglect", "/indicator/rereferral_rate", "/indicator/cse_crimes", "/board",
         "/returns", "/about", "/upload", "/admin/users", "/admin/audit", "/no/such/page"]
CLOUD_WORDS = ("share", "chart studio", "plotly", "cloud", "edit in")


@pytest.fixture
def watched(chromium, server):
    """A page (CSP enforced) that records the address of every request it makes."""
    context = chromium.new_context(viewport=PROJECTOR)
    page = context.new_page()
    b = Browser(page, server)
    b.requests = []
    page.on("request", lambda r: b.requests.append(r.url))
    yield b
    context.close()
    assert b.errors == [], "the page logged errors"


def _outside(urls: list[str], base: str) -> list[str]:
    own = urlsplit(base).netloc
    return [u for u in urls if urlsplit(u).scheme not in ("data", "blob", "about") and urlsplit(u).netloc != own]


def test_out001_every_page_requests_only_the_app_itself(watched, demo):
    earlier = str(demo["dataset"].period - 1).replace(" ", "+")
    for path in PAGES + [f"/?period={earlier}", f"/indicator/rereferral_rate?period={earlier}"]:
        watched.requests.clear()
        watched.open(path)
        watched.page.wait_for_timeout(300)
        assert watched.requests, f"{path}: no request was recorded (the recorder is broken)"
        assert _outside(watched.requests, watched.base) == [], f"{path} asked another host"


def test_out002_charts_offer_no_cloud_button(watched):
    watched.open("/indicator/rereferral_rate")
    watched.page.wait_for_selector(".chart .main-svg", timeout=20_000)
    charts = watched.page.locator(".js-plotly-plot")
    assert charts.count() >= 3
    for i in range(charts.count()):
        charts.nth(i).hover()
        titles = watched.page.evaluate(
            "(i) => [...document.querySelectorAll('.js-plotly-plot')[i].querySelectorAll('.modebar-btn')]"
            ".map(b => (b.getAttribute('data-title') || '') + ' ' + (b.getAttribute('href') || ''))", i)
        assert titles, "the interactive chart has its toolbar"
        lowered = " | ".join(titles).lower()
        assert not any(w in lowered for w in CLOUD_WORDS), titles
        assert "download plot as a png" in lowered  # saved in the browser, never sent
    links = watched.page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)")
    assert _outside(links, watched.base) == [], "a link leads off the machine"


def test_out003_the_saved_png_is_named_after_the_chart(watched):
    watched.open("/indicator/rereferral_rate")
    watched.page.wait_for_selector(".chart .main-svg", timeout=20_000)
    chart = watched.page.locator(".js-plotly-plot", has=watched.page.locator(".modebar-btn")).first
    chart.hover()
    with watched.page.expect_download() as info:
        chart.locator(".modebar-btn[data-title*='png' i]").click()
    name = info.value.suggested_filename
    assert name.endswith(".png") and name not in ("newplot.png", "plot-image.png")
