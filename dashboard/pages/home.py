"""This quarter: every board priority's indicators as a summary matrix, exceptions first."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components.icons import icon_key
from dashboard.components.layout import notice, page_header, period_search, period_select, query
from dashboard.components.matrix import summary_matrix
from dashboard.components.review_forms import closed_banner, review_state
from dashboard.components.state import with_view
from dashboard.data import View
from dashboard.exports.web import download_menu
from dashboard.formatting import format_indicator_value, plural
from dashboard.summaries import priority_summary

dash.register_page(__name__, path="/", name="This quarter", title="This quarter – OBA dashboard", order=0,
                   nav=True, description="Exceptions and the summary matrix for every board priority")


def layout(period: str | None = None, **_ignored) -> object:
    return with_view(lambda v: build(v, period))


def build(v: View, period_text: str | None = None) -> html.Div:
    period, note = v.resolve_period(period_text)
    keep = str(period) if period != v.current else None
    pv = v.at_period(period)
    rows_now = [r for r in (pv.row(i) for i in v.indicators) if r]
    review = review_state(str(period), rows_now)
    sections, jump, exceptions = [], [], set()
    for p in v.board.priorities:
        rows = pv.matrix(p.id)
        n_exc = sum(r.is_exception for r in rows)
        exceptions |= {r.indicator.id for r in rows if r.is_exception}
        anchor = f"priority-{p.id}"
        count = html.Span(plural(n_exc, "exception"), className=f"count-badge {'has-exc' if n_exc else 'no-exc'}")
        jump.append(html.Li(html.A([p.name, " ", count], href=f"#{anchor}")))
        if rows:
            body = summary_matrix(rows, f"{p.name}: indicators in {period}, exceptions first",
                                  lambda ind_id: f"/indicator/{ind_id}{query(period=keep)}",
                                  review["decisions"] if review["available"] else None)
        else:
            body = html.P("No indicator in the library serves this priority yet.", className="empty-state-text")
        sections.append(html.Section([
            html.Div([
                html.H2([p.name, " ", count], id=f"{anchor}-h", className="priority-title"),
                dcc.Link(["Open ", p.name, " ", html.Span("→", **{"aria-hidden": "true"})],
                         href=f"/priority/{p.id}{query(period=keep)}", className="priority-link"),
            ], className="d-flex flex-wrap align-items-baseline justify-content-between gap-2"),
            html.P(priority_summary(p.name, len(rows), n_exc, str(period)), className="section-summary"),
            body,
        ], id=anchor, className="priority-section", **{"aria-labelledby": f"{anchor}-h"}))
    past = period != v.current
    lead = (f"{v.board.name}: {plural(len(exceptions), 'indicator is an exception', 'indicators are exceptions')}"
            f" in {period}, across {plural(len(v.board.priorities), 'priority', 'priorities')} "
            "(an indicator can serve more than one).")
    return html.Div([
        page_header(f"This quarter: {period}", lead,
                    period_select("home-period", v.period_options(), period)),
        notice(note) if note else None,
        closed_banner(review, {i: ind.label for i, ind in v.indicators.items()},
                      lambda i, x: format_indicator_value(x, v.indicators[i]) if x is not None else "no value"),
        notice(f"{period} as it stood then: the exceptions, SPC signals, forecasts and comparisons use only the "
               f"data up to {period} (the latest quarter is {v.current}).", "info") if past else None,
        html.Nav(html.Ul(jump, className="jump-list"), className="jump-nav", **{"aria-label": "Priorities"}),
        html.Div([icon_key(), download_menu("Download this quarter", [
            ("Scorecard", "scorecard", "xlsx", {"period": str(period)}),
            ("Dataset, this quarter", "data", "csv", {"period": str(period)}),
            ("Dataset, this quarter", "data", "xlsx", {"period": str(period)}),
        ], menu_id="download-quarter")], className="page-tools-row"),
        *sections,
    ])


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("home-period", "value"),
    State("home-period-shown", "data"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def choose_period(value: str | None, shown: str | None, search: str | None):
    """Put the chosen quarter in the URL, so the view can be shared and the back button works."""
    new = period_search(value, shown, search)
    return no_update if new is None else new
