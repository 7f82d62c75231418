"""The critical message log: what the sub-groups raised for the business management group, what it decided,
the actions and their progress (overdue ones stand out), and the log as a workbook."""

from __future__ import annotations

import tempfile
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html, no_update

from dashboard.components.layout import page_header, problem
from dashboard.components.message_forms import _names, log_table, message_form

dash.register_page(__name__, path="/messages", name="Critical messages", title="Critical messages – OBA dashboard",
                   order=3.6, nav=True, nav_label="Messages",
                   description="The critical message log for the business management group and the board")


def layout(**_ignored) -> object:
    from dashboard import data
    from dashboard.data import DataUnavailable
    from etl.messages import critical_messages

    try:
        msgs = critical_messages(data.source().engine())
        groups, labels = _names()
    except DataUnavailable as exc:
        return problem(exc.title, exc.message, exc.details)
    to_board = sum(m["decision"] == "to_board" for m in msgs)
    overdue = sum(m["standing"] == "overdue" for m in msgs)
    lead = (f"{len(msgs)} critical message{'s' * (len(msgs) != 1)} raised by the sub-groups; {to_board} decided "
            f"by the business management group to go to the board; {overdue} overdue.")
    return html.Div([
        page_header("Critical message log", lead),
        html.Div([dbc.Button("Download the log (Excel)", id="msg-download-xlsx", color="secondary", outline=True,
                             className="me-2"),
                  dbc.Button("Download the log (CSV)", id="msg-download-csv", color="secondary", outline=True),
                  dcc.Download(id="msg-download")], className="mb-3"),
        html.Div(log_table(msgs, groups, labels), id="message-log"),
        message_form(msgs, groups, labels),
    ], className="messages-page")


@callback(
    Output("msg-download", "data"),
    Input("msg-download-xlsx", "n_clicks"),
    Input("msg-download-csv", "n_clicks"),
    prevent_initial_call=True,
)
def download(xlsx_clicks, csv_clicks):
    """The log in the template's layout, as `oba export critical-messages` writes it."""
    from dashboard import data
    from etl.messages import export_messages

    fmt = "csv" if dash.ctx.triggered_id == "msg-download-csv" else "xlsx"
    if not (xlsx_clicks or csv_clicks):
        return no_update
    src = data.source()
    with tempfile.TemporaryDirectory(prefix="oba-export-") as tmp:
        path = Path(tmp) / f"critical-messages.{fmt}"
        export_messages(src.engine(), src.board(), src.library(), path, fmt)
        return dcc.send_bytes(path.read_bytes(), path.name)
