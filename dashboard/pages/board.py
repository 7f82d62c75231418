"""The board view (``/board?period=P``): per priority only its exceptions, what is being done about them, the
positive exceptions to commend and a line on the data, readable on a projector with no hovering.

Each exception indicator appears once, under the first priority it serves (board order), naming every priority
it serves; the other priorities point to it. Everything is written out: the value, the RAG in words, the
reasons in plain English, the story behind the baseline and its actions with owners and dates.
"""

from __future__ import annotations

import datetime as dt

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components.layout import notice, page_header, period_search, period_select, query
from dashboard.components.state import with_view
from dashboard.data import View
from dashboard.exports.content import BoardPaper, ExceptionItem, board_paper, message_line
from dashboard.exports.web import download_menu
from dashboard.formatting import plural

dash.register_page(__name__, path="/board", name="Board view", nav_label="Board", title="Board view – OBA dashboard",
                   order=2, nav=True, description="The quarter's exceptions for the board, and what is being done")

ACTION_STATUS = {"open": "Open", "in_progress": "In progress", "done": "Done", "dropped": "Dropped"}


def layout(period: str | None = None, **_ignored) -> object:
    return with_view(lambda v: build(v, period))


def _date(value) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value:%-d %B %Y}"
    return str(value or "no date")


def _actions(actions: list[dict]) -> html.Ul | html.P:
    if not actions:
        return html.P("No action plan has been recorded yet.", className="board-none")
    return html.Ul([html.Li([html.Strong(str(a.get("action") or "")), html.Br(),
                             f"Owner: {a.get('owner') or 'not named'} · due {_date(a.get('due'))} · "
                             f"{ACTION_STATUS.get(str(a.get('status')), str(a.get('status') or 'open'))}"])
                    for a in actions], className="board-actions")


def exception_card(item: ExceptionItem, keep: str | None) -> html.Article:
    r = item.row
    serves = ", ".join(r.priorities)
    story = (item.story or {}).get("story")
    head_id = f"exc-{r.indicator_id}"
    return html.Article([
        html.Div([
            html.H3(dcc.Link(r.label, href=f"/indicator/{r.indicator_id}{query(period=keep)}"), id=head_id,
                    className="board-exc-title"),
            html.Div([html.Span(r.value_text, className="board-value"),
                      html.Span(f"RAG: {r.rag_text}", className=f"rag-word rag-{r.rag or 'none'}"),
                      html.Span(f"Since last quarter: {r.travel_text}", className="board-travel")],
                     className="board-figures"),
        ], className="board-exc-head"),
        html.P(f"Serves: {serves}", className="board-serves"),
        html.H4("Why it is an exception", className="board-sub"),
        html.Ul([html.Li(s) for s in r.reasons], className="board-reasons"),
        html.H4("What is being done", className="board-sub"),
        html.P(story, className="board-story") if story else html.P(
            "No story behind the baseline has been recorded yet.", className="board-none"),
        _actions(item.actions),
    ], className="board-exception", **{"aria-labelledby": head_id})


def build(v: View, period_text: str | None = None) -> html.Div:
    period, note = v.resolve_period(period_text)
    keep = str(period) if period != v.current else None
    paper: BoardPaper = board_paper(v, period)
    n = len(paper.exceptions)
    lead = (f"{plural(n, 'indicator is an exception', 'indicators are exceptions')} in {period}; "
            f"{plural(len(paper.positives), 'positive exception')} to commend. Each indicator is shown once, "
            "under the first priority it serves.")
    sections = []
    for sec in paper.sections:
        body: list = []
        if sec.exceptions:
            body += [exception_card(e, keep) for e in sec.exceptions]
        if sec.also:
            body.append(html.P("Also an exception for this priority (shown under another it serves): " + "; ".join(
                f"{label} (under {under})" for label, under in sec.also) + ".", className="board-also"))
        if not body:
            body.append(html.P(f"No exceptions: none of its {plural(sec.indicators, 'indicator')} needs the "
                               "board's attention this quarter.", className="board-none"))
        sections.append(html.Section([html.H2(sec.name, className="board-priority", id=f"board-{sec.id}"), *body],
                                     className="board-section", **{"aria-labelledby": f"board-{sec.id}"}))
    positives = html.Section([
        html.H2("To commend: positive exceptions", className="board-priority", id="board-positives"),
        html.Ul([html.Li([html.Strong(r.label), f" ({', '.join(r.priorities)}): ", " ".join(r.good_news)])
                 for r in paper.positives], className="board-reasons") if paper.positives
        else html.P("No positive exceptions this quarter.", className="board-none"),
    ], className="board-section", **{"aria-labelledby": "board-positives"})
    critical = html.Section([
        html.H2("Critical messages for the board", className="board-priority", id="board-critical"),
        html.Ul([html.Li(message_line(m)) for m in paper.critical], className="board-reasons"),
    ], className="board-section", **{"aria-labelledby": "board-critical"}) if paper.critical else None
    quality = html.Section([html.H2("About the data", className="board-priority", id="board-data"),
                            *[html.P(line, className="board-quality") for line in paper.data_quality]],
                           className="board-section", **{"aria-labelledby": "board-data"})
    return html.Div([
        page_header(f"Board view: {period}", lead, period_select("board-period", v.period_options(), period)),
        notice(note) if note else None,
        dcc.Link("Present as slides →", href=f"/present{query(period=keep)}", className="btn btn-primary btn-sm mb-3")
        if "dashboard.pages.present" in {p["module"] for p in dash.page_registry.values()} else None,
        *sections, positives, critical, quality,
        download_menu("Download the board pack", [
            ("Board pack", "board-pack", f, {"period": str(period)}) for f in ("pptx", "pdf")],
            menu_id="download-pack"),
    ], className="board-page")


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("board-period", "value"),
    State("board-period-shown", "data"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def choose_period(value: str | None, shown: str | None, search: str | None):
    """Put the chosen quarter in the URL, so the view can be shared and the back button works."""
    new = period_search(value, shown, search)
    return no_update if new is None else new
