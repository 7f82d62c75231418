"""The summary matrix: one row per indicator, exceptions first, in the Making Data Count style."""

from __future__ import annotations

from dash import dcc, html

from dashboard.components.badges import comparison_badge, rag_badge, status_badge, travel_text
from dashboard.components.icons import assurance_icon, row_point_type, variation_icon
from dashboard.data import MatrixRow
from dashboard.formatting import EXCEPTION_SHORT, POINT_TYPE_SHORT, format_indicator_value, word

HEADERS = [
    ("Indicator", "Indicator, and why it is an exception"),
    ("Value", "Value this quarter"),
    ("Variation", "SPC variation icon"),
    ("Assurance", "SPC assurance icon: will the target be met?"),
    ("Target", "RAG rating against the target"),
    ("Neighbours", "Compared with the statistical neighbours' average"),
    ("England", "Compared with England"),
    ("Since last quarter", "Direction of travel since the previous quarter"),
    ("Data", "Data status"),
]

_DATA_FLAGS = {"data-late": "Late", "data-revised": "Revised"}


def _reason_line(mr: MatrixRow) -> html.Div | None:
    if not mr.reasons:
        return None
    parts = []
    if mr.is_exception:
        parts.append(html.Span("Exception", className="flag flag-exception"))
    elif mr.good_news:
        parts.append(html.Span("Good news", className="flag flag-good"))
    shown = mr.attention or mr.good_news
    parts.append(html.Span(", ".join(word(EXCEPTION_SHORT, r.code) for r in shown), className="reasons-short"))
    return html.Div(parts, className="reason-line")


ASSURANCE_SHORT = {"consistent_pass": "Will meet target", "consistent_fail": "Will miss target",
                   "inconsistent": "Hit and miss"}


def _variation_word(row: dict) -> str:
    """The variation icon in a word or two, with "(trial)" when its limits rest on fewer than 13 quarters (the
    icon key says what that means)."""
    pt = row_point_type(row)
    if not pt or pt == "run_chart":
        return ""
    text = POINT_TYPE_SHORT.get(pt, "")
    return f"{text} (trial)" if text and row.get("trial_limits") else text


def _icon_word(text: str | None):
    """The words under an icon, so nobody has to hover (the icon's alt text already tells a screen reader)."""
    return html.Span(text, className="icon-word", **{"aria-hidden": "true"}) if text else None


POSITION_WORDS = {"agreed": "Agreed by PQA", "challenged": "Challenged by PQA",
                  "escalated": "Escalated by PQA as a critical message"}


def position_line(decision: dict | None, is_exception: bool) -> html.Div | None:
    """PQA's agreed position on an exception: agreed, challenged (with the challenge), escalated, or not yet
    reviewed. A challenged exception stays visible with its challenge."""
    if decision is None:
        return html.Div(html.Span("Not yet reviewed by PQA", className="position position-none"),
                        className="position-line") if is_exception else None
    kind = decision.get("decision")
    parts: list = [html.Span(POSITION_WORDS.get(kind, kind), className=f"position position-{kind}")]
    if kind == "challenged":
        parts.append(html.Span(f" {decision.get('reason') or ''} Would settle it: {decision.get('settle_with') or ''}",
                               className="position-detail"))
    elif kind == "escalated" and decision.get("reason"):
        parts.append(html.Span(f" {decision['reason']}", className="position-detail"))
    return html.Div(parts, className="position-line")


def matrix_row(mr: MatrixRow, href: str, decision: dict | None = None) -> html.Tr:
    ind, row = mr.indicator, mr.row or {}
    status = row.get("status", "missing" if not row else "ok")
    flags = [label for code, label in _DATA_FLAGS.items() if any(r.code == code for r in mr.notes)]
    if any(r.code == "data-not-due" for r in mr.notes):
        status = "not_due"
    value = format_indicator_value(row.get("value"), ind, status, short=True) if row else "no data"
    cls = "row-exception" if mr.is_exception else ("row-good" if mr.good_news else "")
    return html.Tr([
        html.Th([dcc.Link(ind.label, href=href, className="indicator-link stretched-link"), _reason_line(mr),
                 position_line(decision, mr.is_exception)],
                scope="row", className="col-indicator"),
        html.Td(value, className=f"col-value{' value-suppressed' if status in ('suppressed', 'missing') else ''}"),
        html.Td([variation_icon(row_point_type(row), ind.polarity), _icon_word(_variation_word(row))],
                className="col-icon"),
        html.Td([assurance_icon(row.get("assurance")), _icon_word(ASSURANCE_SHORT.get(row.get("assurance") or ""))],
                className="col-icon"),
        html.Td(rag_badge(row.get("rag")), className="col-rag"),
        html.Td(comparison_badge(row.get("vs_neighbours"), "the neighbours", compact=True), className="col-cmp"),
        html.Td(comparison_badge(row.get("vs_england"), "England", compact=True), className="col-cmp"),
        html.Td(travel_text(row.get("travel_quarter"), row.get("trend_arrow"))
                if status not in ("suppressed", "missing", "no_population") else "–", className="col-travel"),
        html.Td(status_badge(status, flags), className="col-data"),
    ], className=f"matrix-row {cls}".strip())


def summary_matrix(rows: list[MatrixRow], caption: str, href_for, decisions: dict | None = None) -> html.Div:
    """A table of indicators; ``href_for(indicator_id)`` gives each row's link; ``decisions`` (indicator id →
    PQA's decision) the agreed position under each exception, when the quarter's review is recorded."""
    head = html.Thead(html.Tr([html.Th(h, scope="col", title=t, className=f"h-{i}")
                               for i, (h, t) in enumerate(HEADERS)]))
    body = html.Tbody([matrix_row(mr, href_for(mr.indicator.id),
                                  None if decisions is None else decisions.get(mr.indicator.id)) for mr in rows])
    return html.Div(
        html.Table([html.Caption(caption, className="visually-hidden"), head, body],
                   className="table matrix align-middle mb-0"),
        className="table-responsive matrix-wrap")
