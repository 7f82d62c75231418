"""Small labelled markers: RAG, comparisons, data status, exception severity. Never colour alone: each has
a word and a symbol as well as a colour."""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard.formatting import COMPARISON_WORDS, RAG_WORDS, SEVERITY_WORDS, STATUS_WORDS, travel_label, word

_RAG_SYMBOL = {"red": "✕", "amber": "!", "green": "✓", "": "–"}
_COMPARE_SYMBOL = {"better": "▲", "worse": "▼", "similar": "=", "higher": "↑", "lower": "↓"}


def _clean(code: Any) -> str:
    if code is None or (isinstance(code, float) and code != code):
        return ""
    return str(code)


def rag_badge(rag: Any) -> html.Span:
    """"✕ Red", "! Amber", "✓ Green" or "– No target"."""
    rag = _clean(rag)
    return html.Span([html.Span(_RAG_SYMBOL.get(rag, "–"), className="sym", **{"aria-hidden": "true"}),
                      word(RAG_WORDS, rag)], className=f"rag rag-{rag or 'none'}")


def comparison_badge(code: Any, against: str, compact: bool = False) -> html.Span:
    """"▼ Worse" than the neighbours / England, with the comparator named for screen readers.

    ``compact`` shows a dash for "not compared" (the matrix has no room to repeat it on every row).
    """
    code = _clean(code) or "not_compared"
    text = word(COMPARISON_WORDS, code)
    if compact and code == "not_compared":
        return html.Span([html.Span("–", **{"aria-hidden": "true"}),
                          html.Span(f"Not compared with {against}", className="visually-hidden")],
                         className="cmp cmp-not_compared", title=f"Not compared with {against}")
    sym = _COMPARE_SYMBOL.get(code, "")
    return html.Span(
        [html.Span(sym, className="sym", **{"aria-hidden": "true"}) if sym else None,
         text, html.Span(f" than {against}" if code in _COMPARE_SYMBOL else f" with {against}",
                         className="visually-hidden")],
        className=f"cmp cmp-{code}")


def status_badge(status: Any, extra: list[str] | None = None) -> html.Span:
    """The data's state: "Complete", or what is wrong with it (suppressed, not returned, late, revised)."""
    status = _clean(status) or "ok"
    words = [] if status == "ok" else [word(STATUS_WORDS, status)]
    words += extra or []
    if not words:
        return html.Span("Complete", className="data data-ok")
    return html.Span("; ".join(words), className="data data-issue")


def severity_badge(severity: str) -> html.Span:
    return html.Span(word(SEVERITY_WORDS, severity), className=f"sev sev-{severity}")


def travel_text(code: Any, arrow: Any) -> html.Span:
    code = _clean(code)
    return html.Span(travel_label(code, _clean(arrow)), className=f"travel travel-{code or 'none'}")
