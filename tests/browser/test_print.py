"""Any page prints on A4: no navigation or controls, nothing wider than the page, the charts included."""

from __future__ import annotations

import io

import pytest

PAGES = ["/", "/priority/neglect", "/indicator/rereferral_rate", "/board", "/returns", "/about"]


@pytest.mark.parametrize("path", PAGES)
def test_prt001_prints_on_a4(browser, path):
    from pypdf import PdfReader

    browser.open(path)
    browser.page.wait_for_timeout(300)
    browser.page.emulate_media(media="print")
    assert browser.page.evaluate("getComputedStyle(document.querySelector('.site-header')).display") == "none"
    assert browser.page.evaluate("[...document.querySelectorAll('.download-menu, .period-select')]"
                                 ".every(e => getComputedStyle(e).display === 'none')")
    pdf = browser.page.pdf(format="A4")
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert browser.page.inner_text("#main-content h1").split(":")[0] in text
    assert "Skip to main content" not in text and "Download" not in text
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)  # A4, mm
    if path == "/":  # the matrix's last column is on the page, not cut off
        assert "Complete" in text and "Since last quarter" in text
    if path.startswith("/indicator/"):
        forms = [x for p in reader.pages for x in (p["/Resources"].get("/XObject") or {}).values()]
        assert forms, "the charts are printed"
