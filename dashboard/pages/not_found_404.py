"""Any address the dashboard does not know: a friendly message with the way back."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard.components.layout import problem

dash.register_page(__name__, path="/404", name="Not found", title="Page not found – OBA dashboard")


def layout(**_ignored) -> html.Div:
    return html.Div([
        problem("Page not found", "There is no page at this address. It may have been mistyped, or the link may "
                                  "be from an older version of the dashboard."),
        html.P(dcc.Link("Go to This quarter", href="/")),
    ])
