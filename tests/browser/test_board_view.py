"""The board view on a projector: everything readable without hovering, nothing wider than the screen."""

from __future__ import annotations

import pytest

from .test_accessibility import _serious


@pytest.mark.parametrize("size", [(1024, 768), (1920, 1080)])
def test_brd001_board_view_reads_on_a_projector(chromium, server, demo, size):
    from .support import Browser

    context = chromium.new_context(viewport={"width": size[0], "height": size[1]}, bypass_csp=True)
    b = Browser(context.new_page(), server)
    try:
        b.open("/board")
        assert b.page.inner_text("h1") == f"Board view: {demo['dataset'].period}"
        cards = b.page.locator(".board-exception")
        assert cards.count() >= 1
        # no horizontal scrolling, no cell wider than its box
        assert b.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        over = b.page.evaluate("""() => [...document.querySelectorAll('.board-page *')]
            .filter(e => !e.closest('.visually-hidden') && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'auto'
                    && e.clientWidth > 0).map(e => e.className + ': ' + e.textContent.slice(0, 40))""")
        assert over == []
        # the reasons and what is being done are large enough to read from the back of the room
        sizes = b.page.evaluate("() => [...document.querySelectorAll('.board-reasons li, .board-actions li, "
                                ".board-story, .board-none, .board-quality')]"
                                ".map(e => parseFloat(getComputedStyle(e).fontSize))")
        assert sizes and min(sizes) >= 18
        # nothing is hidden behind a hover: no title-only text in the cards
        assert b.page.locator(".board-page [title]").count() == 0
        # each exception indicator once
        titles = b.page.locator(".board-exc-title").all_inner_texts()
        assert len(titles) == len(set(titles))
        assert _serious(b.page) == []
        b.screenshot(f"brd001_board_{size[0]}", full_page=True)
    finally:
        context.close()
    assert b.errors == []
