"""The page frame (skip link, header with navigation, main landmark, footer) and shared building blocks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard.components.charts import graph_config


def query(**params: Any) -> str:
    """A query string from the parameters that are set: query(period="2025-26 Q2") → "?period=2025-26+Q2"."""
    clean = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return ("?" + urlencode(clean)) if clean else ""


def nav_pages() -> list[dict]:
    """The pages that appear in the navigation, from Dash's page registry, in their order."""
    pages = [p for p in dash.page_registry.values() if p.get("nav")]
    return sorted(pages, key=lambda p: (p.get("order") is None, p.get("order") or 0))


def navigation(board_name: str = "Safeguarding partnership", visible=None, account: Any = None) -> html.Header:
    """The header: the board's name, the pages this person may open (``visible(page)``), and ``account``."""
    links = [
        dbc.NavItem(dbc.NavLink(p.get("nav_label") or p["name"], href=p["relative_path"],
                                id={"type": "nav-link", "path": p["path"]}, className="px-3"))
        for p in nav_pages() if visible is None or visible(p)
    ]
    return html.Header(
        dbc.Navbar(
            dbc.Container([
                dcc.Link([html.Span("OBA", className="brand-mark"), html.Span(board_name, className="board-name")],
                         href="/", className="navbar-brand"),
                html.Nav(dbc.Nav(links, navbar=True, className="main-nav"), **{"aria-label": "Main"}),
                account,
            ], fluid=True),
            color="dark", dark=True, tag="div", className="py-1",
        ),
        className="site-header",
    )


def shell(content: Any, board_name: str = "Safeguarding partnership", banner: Any = None,
          visible=None) -> html.Div:
    """Skip link, header, the page in a <main>, and a footer. ``banner``: (account, notice) from access_bar."""
    account, note = banner if banner else (None, None)
    return html.Div([
        html.A("Skip to main content", href="#main-content", className="skip-link"),
        navigation(board_name, visible, account),
        note,
        html.Main(dbc.Container(content, fluid=True, className="page"), id="main-content", tabIndex="-1"),
        html.Footer(dbc.Container(
            html.P(["Outcome-Based Accountability dashboard. Aggregate counts only; treat as OFFICIAL-SENSITIVE. ",
                    dcc.Link("How the figures are worked out", href="/about"), "."], className="mb-0"),
            fluid=True), className="site-footer"),
    ])


def page_header(title: str, lead: Any = None, right: Any = None) -> html.Div:
    return html.Div([
        html.Div([html.H1(title, className="page-title"), html.P(lead, className="lead") if lead else None],
                 className="flex-grow-1"),
        html.Div(right, className="page-tools") if right is not None else None,
    ], className="page-header d-flex flex-wrap align-items-end gap-3")


def _filename(title: str) -> str:
    """A file name from a chart's title: "Re-referrals: SPC chart" → "re-referrals-spc-chart"."""
    words = "".join(c.lower() if c.isalnum() else " " for c in str(title)).split()
    return "-".join(words)[:80] or "chart"


def chart(figure: dict, summary: str, title: str, graph_id: str | None = None, static: bool = False,
          heading_level: int = 3, note: Any = None) -> html.Figure:
    """A chart with its heading and the one-sentence summary as the caption a screen reader reads."""
    heading = {2: html.H2, 3: html.H3, 4: html.H4}[heading_level]
    kwargs = {"id": graph_id} if graph_id else {}
    return html.Figure([
        heading(title, className="chart-title"),
        dcc.Graph(figure=figure, config=graph_config(_filename(title), static), className="chart", **kwargs),
        html.Figcaption([summary, html.Span([" ", note]) if note else None], className="chart-summary"),
    ], className="chart-figure")


def period_select(select_id: str, options: list, value: Any, label: str = "Quarter") -> html.Div:
    """A labelled native select (keyboard and screen-reader friendly) of quarters, newest first.

    The quarter the page was drawn for is kept in a Store ``<select_id>-shown``: the select reports its value
    when it appears, and the page's callback compares with this to act only on a real change.
    """
    return html.Div([
        dbc.Label(label, html_for=select_id, className="mb-0 me-2 fw-semibold"),
        dbc.Select(id=select_id, options=[{"label": str(q), "value": str(q)} for q in options],
                   value=str(value) if value is not None else None, className="period-select"),
        dcc.Store(id=f"{select_id}-shown", data=str(value) if value is not None else None),
    ], className="d-flex align-items-center")


def period_search(value: str | None, shown: str | None, search: str | None, **keep: Any) -> str | None:
    """The new query string when the chosen quarter differs from the one shown, else None (no change)."""
    if not value or value == shown:
        return None
    new = query(**keep, period=value)
    return new if new != (search or "") else None


def notice(text: str, color: str = "warning") -> html.Div:
    """A short message in a Bootstrap alert box, announced politely (role=status, not alert)."""
    return html.Div(text, className=f"alert alert-{color} notice", role="status")


def with_code(text: str) -> list:
    """Text with `backticked` commands shown as code: "Run `oba init`" → ["Run ", <code>oba init</code>]."""
    parts = text.split("`")
    return [html.Code(p) if i % 2 else p for i, p in enumerate(parts) if p]


def problem(title: str, message: str, details: list[str] | None = None) -> html.Div:
    """A full-page message when there is nothing to show, saying what to do next."""
    return html.Div([
        html.H1(title, className="page-title"),
        dbc.Alert([html.P(with_code(message), className="mb-0"),
                   html.Ul([html.Li(d) for d in details], className="mt-2 mb-0") if details else None],
                  color="info", className="problem"),
        html.P(dcc.Link("About the methods", href="/about")),
    ], className="problem-page")
