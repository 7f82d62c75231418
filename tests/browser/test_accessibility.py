"""axe-core on every page: no serious or critical WCAG 2.2 AA violation, on a desktop and on a projector."""

from __future__ import annotations

import pytest

PAGES = ["/", "/priority", "/priority/neglect", "/indicator/rereferral_rate", "/indicator/cse_crimes", "/returns",
         "/about", "/indicator/no_such_indicator", "/review", "/review?period=2026-27+Q1", "/messages",
         "/report-cards", "/report-cards?card=1"]
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def _serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    res = Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in res.response["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("path", PAGES)
def test_a11y001_no_serious_violations(browser, path):
    browser.open(path)
    assert _serious(browser.page) == []


def test_a11y002_projector_size_with_a_cell_open(projector):
    projector.open("/returns")
    projector.page.locator("table.returns-grid summary").first.click()
    assert _serious(projector.page) == []
