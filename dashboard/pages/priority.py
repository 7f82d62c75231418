"""One board priority: its indicators grouped by OBA question, each exception's reasons, small multiples."""

from __future__ import annotations

import difflib

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components.badges import rag_badge, severity_badge
from dashboard.components.charts import sparkline_svg, sparkline_title, svg_data_uri
from dashboard.components.evidence_forms import evidence_section
from dashboard.components.icons import assurance_icon, icon_key, row_point_type, variation_icon
from dashboard.components.layout import (
    notice,
    page_header,
    period_search,
    period_select,
    problem,
    query,
)
from dashboard.components.state import with_view
from dashboard.data import QUESTION_ORDER, MatrixRow, View
from dashboard.exports.web import download_menu
from dashboard.formatting import format_indicator_value, plural
from dashboard.summaries import latest_sentence, priority_summary, trend_summary


def _title(priority_id: str | None = None, **_ignored) -> str:
    from dashboard import data

    try:
        name = data.source().board().priority(str(priority_id)).name
    except Exception:
        name = "Priority"
    return f"{name} – OBA dashboard"


dash.register_page(__name__, path_template="/priority/<priority_id>", name="Priority", title=_title, order=1,
                   description="One priority's indicators by OBA question, with the reasons for each exception")


def priority_index(priority: str | None = None, period: str | None = None, **_ignored) -> object:
    """/priority?priority=neglect shows that priority; /priority alone lists them all."""
    if priority:
        return layout(priority_id=priority, period=period)
    return with_view(lambda v: build_index(v, period))


dash.register_page(f"{__name__}_index", path="/priority", name="Priorities", title="Priorities – OBA dashboard",
                   order=1, nav=True, layout=priority_index, description="The board's priorities")


def layout(priority_id: str | None = None, period: str | None = None, **_ignored) -> object:
    return with_view(lambda v: build(v, priority_id, period))


def build_index(v: View, period_text: str | None) -> html.Div:
    period, note = v.resolve_period(period_text)
    keep = str(period) if period != v.current else None
    pv = v.at_period(period)
    cards = []
    for p in v.board.priorities:
        rows = pv.matrix(p.id)
        n_exc = sum(r.is_exception for r in rows)
        cards.append(dbc.Col(html.Div([
            html.H2(dcc.Link(p.name, href=f"/priority/{p.id}{query(period=keep)}", className="stretched-link"),
                    className="h4"),
            html.P(p.description or "", className="mb-1"),
            html.P(priority_summary(p.name, len(rows), n_exc, str(period)), className="mb-0 fw-semibold"),
        ], className="priority-card h-100"), md=6, className="mb-3"))
    return html.Div([page_header("Board priorities", f"Each priority's indicators and exceptions in {period}."),
                     notice(note) if note else None, dbc.Row(cards)])


def _unknown(v: View, priority_id: str | None) -> html.Div:
    ids = [p.id for p in v.board.priorities]
    close = difflib.get_close_matches(str(priority_id or ""), ids, n=1)
    links = html.Ul([html.Li(dcc.Link(p.name, href=f"/priority/{p.id}")) for p in v.board.priorities])
    return html.Div([
        problem("No such priority", f"This board has no priority '{priority_id}'."
                + (f" Did you mean {v.board.priority(close[0]).name}?" if close else "")
                + " The board's priorities are listed below."),
        links,
    ])


def indicator_card(v: View, mr: MatrixRow, keep: str | None, period) -> dbc.Col:
    ind, row = mr.indicator, mr.row or {}
    history = v.history(ind.id, upto=period)
    status = row.get("status", "missing" if not row else "ok")
    reasons = mr.attention or mr.good_news
    reason_list = html.Ul([html.Li([severity_badge(r.severity), " ", r.sentence]) for r in reasons],
                          className="reason-list") if reasons else html.P(
        "Not an exception: no reason to raise it with the board this quarter.", className="no-reasons")
    cls = "exception" if mr.is_exception else ("good" if mr.good_news else "plain")
    return dbc.Col(html.Article([
        html.H3(dcc.Link(ind.label, href=f"/indicator/{ind.id}{query(period=keep)}"), className="card-title h5"),
        html.Div([
            html.Span(format_indicator_value(row.get("value"), ind, status, short=True) if row else "no data",
                      className="big-value"),
            variation_icon(row_point_type(row), ind.polarity, 34),
            assurance_icon(row.get("assurance"), 34) if row.get("assurance") else None,
            rag_badge(row.get("rag")),
        ], className="card-facts"),
        html.P(latest_sentence(ind, row or None), className="card-sentence"),
        html.H4("Why it is an exception" if mr.is_exception else ("Good news" if mr.good_news else "Status"),
                className="visually-hidden"),
        reason_list,
        html.Figure([
            html.H4(sparkline_title(ind, history), className="chart-title"),
            html.Img(src=svg_data_uri(sparkline_svg(ind, history)), alt="", className="sparkline"),
            html.Figcaption(trend_summary(ind, history), className="chart-summary"),
        ], className="chart-figure"),
    ], className=f"indicator-card card-{cls} h-100"), lg=6, className="mb-3")


def build(v: View, priority_id: str | None, period_text: str | None) -> html.Div:
    try:
        p = v.board.priority(str(priority_id))
    except KeyError:
        return _unknown(v, priority_id)
    period, note = v.resolve_period(period_text)
    keep = str(period) if period != v.current else None
    pv = v.at_period(period)
    rows = pv.matrix(p.id)
    n_exc = sum(r.is_exception for r in rows)
    groups = []
    for q in QUESTION_ORDER:
        in_q = [r for r in rows if r.indicator.question == q]
        if not in_q:
            continue
        n_q = sum(r.is_exception for r in in_q)
        groups.append(html.Section([
            html.H2([q.title, " ", html.Span(f"{plural(len(in_q), 'indicator')}, {plural(n_q, 'exception')}",
                                             className="question-count")], className="question-title"),
            dbc.Row([indicator_card(pv, mr, keep, period) for mr in in_q]),
        ], className="question-section"))
    return html.Div([
        html.Nav(html.Ol([html.Li(dcc.Link("This quarter", href=f"/{query(period=keep)}"), className="breadcrumb-item"),
                          html.Li(p.name, className="breadcrumb-item active", **{"aria-current": "page"})],
                         className="breadcrumb"), **{"aria-label": "Breadcrumb"}),
        page_header(p.name, p.description or None, period_select("priority-period", v.period_options(), period)),
        notice(note) if note else None,
        html.P(priority_summary(p.name, len(rows), n_exc, str(period)), className="section-summary lead-summary"),
        html.Div([icon_key(), download_menu("Download this priority", [
            (f"{p.name} dataset, {period}", "data", f, {"period": str(period), "priority": p.id})
            for f in ("csv", "xlsx")], menu_id="download-priority")], className="page-tools-row"),
        *(groups or [html.P("No indicator serves this priority yet.", className="empty-state-text")]),
        evidence_section(p.id, p.name),
    ])


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("priority-period", "value"),
    State("priority-period-shown", "data"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def choose_period(value: str | None, shown: str | None, search: str | None):
    """Keep the chosen quarter in the URL (and any ?priority= the page was opened with)."""
    from urllib.parse import parse_qs

    keep = {k: v[0] for k, v in parse_qs((search or "").lstrip("?")).items() if k != "period"}
    new = period_search(value, shown, search, **keep)
    return no_update if new is None else new
