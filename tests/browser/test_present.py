"""Projector slides driven by the keyboard at 1024×768 and 1920×1080: every slide fits with no scrolling, body
text at least 24 px, a slide counter, light and dark themes, axe clean."""

from __future__ import annotations

import re

import pytest

from .support import SCREENSHOTS, Browser
from .test_accessibility import _serious

FITS = """() => [...document.querySelectorAll('#present-deck .slide')].filter(s => !s.hidden).map(s => ({
    over: s.scrollHeight > s.clientHeight + 1 || s.scrollWidth > s.clientWidth + 1,
    smallest: Math.min(...[...s.querySelectorAll('p, li, td, th, h3')].map(e => parseFloat(getComputedStyle(e).fontSize))),
    title: s.querySelector('.slide-title').innerText}))[0]"""


def _counter(b) -> tuple[int, int]:
    m = re.fullmatch(r"Slide (\d+) of (\d+)", b.page.inner_text("#present-counter"))
    assert m, b.page.inner_text("#present-counter")
    return int(m.group(1)), int(m.group(2))


@pytest.mark.parametrize("size,theme", [((1024, 768), "light"), ((1920, 1080), "dark")])
def test_pre001_every_slide_by_keyboard(chromium, server, demo, size, theme):
    context = chromium.new_context(viewport={"width": size[0], "height": size[1]}, bypass_csp=True)
    b = Browser(context.new_page(), server)
    try:
        b.open("/present" + ("?theme=dark" if theme == "dark" else ""))
        b.page.wait_for_function("document.getElementById('present-counter').innerText.startsWith('Slide 1 of')")
        assert f"theme-{theme}" in b.page.get_attribute("#present-deck", "class")
        first, total = _counter(b)
        assert first == 1 and total >= 5
        titles = []
        for n in range(1, total + 1):
            assert _counter(b) == (n, total)
            fit = b.page.evaluate(FITS)
            titles.append(fit["title"])
            assert not fit["over"], f"slide {n} ({fit['title']}) scrolls at {size}"
            assert fit["smallest"] >= 24, f"slide {n} ({fit['title']}) has text at {fit['smallest']} px"
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            b.page.screenshot(path=str(SCREENSHOTS / f"pre001_{theme}_{size[0]}_{n:02d}.png"))
            b.page.keyboard.press(["ArrowRight", "PageDown", "Space"][n % 3])
        assert _counter(b) == (total, total), "stays on the last slide"
        assert titles[0] == "Harrowdale Safeguarding Children Partnership"
        assert titles[1].startswith("Summary matrix")
        assert any(t.startswith("To commend") for t in titles)
        ex = demo["dataset"].exceptions
        attention = ex[ex["severity"].isin(["high", "medium", "low"])]["indicator_id"].unique()
        from indicators.definitions import load_library
        lib = load_library()
        for ind_id in attention:
            assert any(t.startswith(lib.indicators[ind_id].label + ": ") for t in titles), ind_id
        b.page.keyboard.press("Home")
        assert _counter(b)[0] == 1
        b.page.keyboard.press("End")
        assert _counter(b)[0] == total
        b.page.keyboard.press("ArrowLeft")
        assert _counter(b)[0] == total - 1
        b.page.keyboard.press("PageUp")
        assert _counter(b)[0] == total - 2
        assert _serious(b.page) == []
        b.page.keyboard.press("Escape")  # not in full screen: leave for the board view
        b.page.wait_for_url(re.compile(r"/board"))
    finally:
        context.close()
    assert b.errors == []


def test_pre002_exception_slides_and_full_screen(chromium, server, demo):
    context = chromium.new_context(viewport={"width": 1024, "height": 768}, bypass_csp=True)
    b = Browser(context.new_page(), server)
    try:
        b.open("/present?priority=neglect#3")
        b.page.wait_for_function("document.getElementById('present-counter').innerText.startsWith('Slide 3 of')")
        text = b.page.text_content("#present-deck")
        assert "Neglect" in text
        labels = b.page.locator(".slide-exception .slide-title").all_inner_texts()
        assert labels and all(": " in t for t in labels)
        assert b.page.locator(".slide-exception img.slide-chart").count() == len(labels)
        b.page.keyboard.press("f")
        b.page.wait_for_function("document.fullscreenElement !== null", timeout=5000)
        b.page.keyboard.press("f")
        b.page.wait_for_function("document.fullscreenElement === null", timeout=5000)
    finally:
        context.close()
    assert b.errors == []


def test_pre003_every_page_has_the_slides_button(browser):
    for path in ("/", "/priority/neglect", "/indicator/rereferral_rate", "/board", "/returns", "/about"):
        browser.open(path)
        link = browser.page.get_by_role("link", name="Slides", exact=True)
        assert link.get_attribute("href").startswith("/present")
