"""The quarter's review: every exception of a quarter with PQA's decision on it, and closing the quarter."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components.layout import notice, page_header, period_search, period_select, query
from dashboard.components.review_forms import close_form, closed_banner, decision_text, review_state
from dashboard.components.state import with_view
from dashboard.data import View
from dashboard.formatting import format_indicator_value, plural

dash.register_page(__name__, path="/review", name="Quarter review", title="Quarter review – OBA dashboard",
                   order=3.5, nav=True, nav_label="Review", description="PQA's decisions on the quarter's exceptions; closing the quarter")


def layout(period: str | None = None, **_ignored) -> object:
    return with_view(lambda v: build(v, period))


def build(v: View, period_text: str | None = None) -> html.Div:
    period, note = v.resolve_period(period_text)
    keep = str(period) if period != v.current else None
    pv = v.at_period(period)
    rows_now = [r for r in (pv.row(i) for i in v.indicators) if r]
    review = review_state(str(period), rows_now)
    decisions = review["decisions"]
    exceptions = []
    for ind in v.indicators.values():
        attention = [r for r in pv.reasons(ind.id) if r.needs_attention]
        if attention:
            exceptions.append((ind, attention))
    exceptions.sort(key=lambda x: x[0].label.lower())
    undecided = [ind.id for ind, _ in exceptions if ind.id not in decisions]
    counts = {k: sum(1 for ind, _ in exceptions if (decisions.get(ind.id) or {}).get("decision") == k)
              for k in ("agreed", "challenged", "escalated")}
    lead = (f"{plural(len(exceptions), 'exception')} in {period}: {counts['agreed']} agreed, {counts['challenged']} "
            f"challenged, {counts['escalated']} escalated, {len(undecided)} not yet reviewed.")
    table = html.Div(html.Table([
        html.Caption(f"The exceptions of {period} and PQA's decision on each"),
        html.Thead(html.Tr([html.Th(h, scope="col") for h in ("Indicator", "Why it is an exception",
                                                              "PQA's decision")])),
        html.Tbody([html.Tr([
            html.Th(dcc.Link(ind.label, href=f"/indicator/{ind.id}{query(period=keep)}#exception-review"),
                    scope="row"),
            html.Td(html.Ul([html.Li(r.sentence) for r in reasons], className="mb-0")),
            html.Td(decision_text(decisions.get(ind.id)),
                    className="decision-" + (decisions.get(ind.id) or {}).get("decision", "none")),
        ]) for ind, reasons in exceptions]),
    ], className="table table-sm align-middle review-table", id="review-table"), className="table-responsive") \
        if exceptions else html.P(f"There are no exceptions in {period}.", className="empty-state-text")
    closed = review["snapshot"] is not None
    return html.Div([
        page_header(f"Quarter review: {period}", lead, period_select("review-period", v.period_options(), period)),
        notice(note) if note else None,
        closed_banner(review, {i: ind.label for i, ind in v.indicators.items()},
                      lambda i, x: format_indicator_value(x, v.indicators[i]) if x is not None else "no value"),
        table,
        None if closed or not review["available"] else close_form(str(period), undecided),
    ], className="review-page")


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("review-period", "value"),
    State("review-period-shown", "data"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def choose_period(value: str | None, shown: str | None, search: str | None):
    """Put the chosen quarter in the URL, so the view can be shared and the back button works."""
    new = period_search(value, shown, search)
    return no_update if new is None else new
