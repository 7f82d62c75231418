"""Text people typed, shown safely: Markdown without raw HTML, links only to web pages, mail or this dashboard.

What is stored is exactly what was typed; only what is drawn is made safe. ``dcc.Markdown`` is used with
``dangerously_allow_html=False`` (HTML is shown as text), and before that every link is checked: a link whose
address is not http(s), mailto or a path on this dashboard (``javascript:``, ``data:``, ``vbscript:``…) keeps
its words and loses its address. Images are never drawn (an image from another host would be a request from the
page to that host, and no data leaves the machine): their description is shown instead.
"""

from __future__ import annotations

import re

from dash import dcc

_SAFE_SCHEMES = ("http", "https", "mailto")
_INLINE = re.compile(r"(!?)\[((?:[^\[\]\\]|\\.)*)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?"
                     r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_REFERENCE_DEF = re.compile(r"^[ ]{0,3}\[([^\]]+)\]:\s*<?(\S*?)>?(?:\s+.*)?$", re.MULTILINE)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\s]*)>")
_REFERENCE_IMAGE = re.compile(r"!\[((?:[^\[\]\\]|\\.)*)\]\s*\[[^\]]*\]")


def safe_url(url: str) -> bool:
    """Whether a link may keep its address: http(s), mailto, or a path/anchor on this site."""
    u = "".join(ch for ch in (url or "") if ch.isprintable() and not ch.isspace()).strip()
    # browsers ignore control characters and whitespace inside a scheme ("java\tscript:"), so judge without them
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):", u)
    if m is None:
        return not u.startswith("//")  # a protocol-relative address is another host
    return m.group(1).lower() in _SAFE_SCHEMES


def clean_markdown(text: str | None) -> str:
    """The Markdown to draw: unsafe link addresses dropped, images replaced by their description."""
    if not text:
        return ""

    def inline(m: re.Match) -> str:
        bang, words, url = m.group(1), m.group(2), m.group(3)
        if bang:
            return f"(image: {words})" if words else "(image)"
        return m.group(0) if safe_url(url) else words

    out = _INLINE.sub(inline, text)
    out = _REFERENCE_IMAGE.sub(lambda m: f"(image: {m.group(1)})" if m.group(1) else "(image)", out)
    out = _REFERENCE_DEF.sub(lambda m: m.group(0) if safe_url(m.group(2)) else "", out)
    out = _AUTOLINK.sub(lambda m: m.group(0) if safe_url(m.group(1)) else f"`{m.group(1)}`", out)
    return out


def safe_markdown(text: str | None, className: str = "typed-text", **kwargs) -> dcc.Markdown:
    """Typed text as Markdown, drawn safely (no raw HTML, no unsafe links, no images)."""
    return dcc.Markdown(clean_markdown(text), dangerously_allow_html=False, link_target="_self",
                        className=className, **kwargs)
