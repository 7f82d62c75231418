"""Typed text drawn safely: unsafe link addresses dropped, images never drawn, the words kept."""

from __future__ import annotations

import pytest

from dashboard.components.safe_text import clean_markdown, safe_markdown, safe_url


@pytest.mark.parametrize("url, ok", [
    ("https://www.gov.uk/guidance", True), ("http://intranet/x", True), ("mailto:pqa@example.org", True),
    ("/indicator/cla_rate", True), ("#story", True), ("page.html", True),
    ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), ("java\tscript:alert(1)", False),
    (" javascript:alert(1)", False), ("data:text/html;base64,xx", False), ("vbscript:msgbox", False),
    ("//evil.example/x", False),
])
def test_safe_url(url, ok):
    assert safe_url(url) is ok


@pytest.mark.parametrize("typed, shown", [
    ("[the audit](javascript:alert(1)) next", "the audit next"),
    ("[guidance](https://www.gov.uk/x)", "[guidance](https://www.gov.uk/x)"),
    ("[a](https://en.wikipedia.org/wiki/Turn_(x)) b", "[a](https://en.wikipedia.org/wiki/Turn_(x)) b"),
    ("![chart](http://example.org/c.png)", "(image: chart)"),
    ("![](http://example.org/c.png)", "(image)"),
    ("![chart][1]\n\n[1]: http://example.org/c.png", "(image: chart)\n\n[1]: http://example.org/c.png"),
    ("[x][r]\n[r]: javascript:alert(1)", "[x][r]\n"),
    ("<javascript:alert(1)>", "`javascript:alert(1)`"),
    ("<https://www.gov.uk>", "<https://www.gov.uk>"),
    ("plain **bold** text", "plain **bold** text"),
])
def test_clean_markdown(typed, shown):
    assert clean_markdown(typed) == shown


def test_markdown_never_draws_raw_html():
    md = safe_markdown("<b onclick=alert(1)>x</b>")
    assert md.dangerously_allow_html is False and md.children == "<b onclick=alert(1)>x</b>"
