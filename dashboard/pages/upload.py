"""Send a return (submitters and analysts): drop the workbook, see every issue `oba returns check` would report,
then load it or cancel. The result shows in the status grid at once.

The file is judged by its content, never its name (``etl.returns.reader.check_file`` sniffs and vets it); it
must be under ``MAX_UPLOAD_BYTES``. A submitter may only send their own agency's return: the check expects
that agency, so another agency's workbook is an error, not a load. Between "check" and "load" nothing is kept
on the server: the browser sends the file again and it is checked again, so any worker can take either step.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import tempfile
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components.layout import page_header, problem, with_code
from dashboard.components.returns_grid import returns_grid

MAX_UPLOAD_BYTES = 10 * 1024 * 1024

dash.register_page(__name__, path="/upload", name="Send a return", nav_label="Upload", order=4,
                   title="Send a return – OBA dashboard",
                   nav=True, description="Upload an agency's quarterly return workbook")


def safe_name(name: str | None) -> str:
    """The uploaded file's name without any folder, odd characters or excess length (shown and stored only)."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = re.sub(r"[^A-Za-z0-9 ._()-]", "_", base).strip(" .") or "return.xlsx"
    return base[-120:]


def decode_upload(contents: str | None) -> bytes:
    """The file's bytes from a dcc.Upload data URL; ValueError with a message for anything else."""
    if not isinstance(contents, str) or "," not in contents:
        raise ValueError("No file was received: drop the workbook again.")
    _head, b64 = contents.split(",", 1)
    if len(b64) > (MAX_UPLOAD_BYTES * 4) // 3 + 8:
        raise ValueError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; a return is far "
                         "smaller. Keep only the About and Return sheets and save it again.")
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("The file did not arrive intact: drop it again.") from None
    if not data:
        raise ValueError("The file is empty (0 bytes): save the workbook again in Excel and send the new copy.")
    return data


def _context():
    from dashboard import data
    from dashboard.auth import request_identity

    src = data.source()
    ident = request_identity()
    return src, ident


def _expected_agency(ident) -> str | None:
    return ident.agency if ident is not None and ident.role == "submitter" else None


def layout(**_ignored) -> object:
    from dashboard.data import DataUnavailable

    src, ident = _context()
    try:
        board = src.board()
        src.engine()
    except DataUnavailable as exc:
        return problem(exc.title, exc.message, exc.details)
    agency = _expected_agency(ident)
    if agency and agency not in {a.code for a in board.agencies}:
        return problem("Your agency is not in the board file",
                       f"Your account sends returns for {agency}, which the board file does not list. Ask the "
                       "dashboard's administrator to correct your account or the board file.")
    who = (f"You send {board.agency(agency).name}'s returns ({agency})." if agency else
           "You may send any agency's return; the workbook says whose it is.")
    return html.Div([
        page_header("Send a return", with_code("Drop the completed return workbook below. It is checked exactly as "
                                               "`oba returns check` checks it; nothing is stored until you choose "
                                               "to load it. " + who)),
        dcc.Upload(
            id="upload-file",
            children=html.Div([html.Strong("Drop the workbook here"), " or ",
                               html.Span("choose a file", className="link-primary text-decoration-underline")]),
            className="upload-drop", className_active="upload-drop", max_size=MAX_UPLOAD_BYTES, multiple=False,
            accept=".xlsx,.xlsm,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        dcc.Store(id="upload-checked"),
        dcc.Loading(html.Div(id="upload-report", role="status", **{"aria-live": "polite"}), type="dot"),
        html.Div([
            dbc.Button("Load this return", id="upload-load", color="primary", disabled=True, n_clicks=0,
                       className="me-2"),
            dbc.Button("Cancel", id="upload-cancel", color="secondary", outline=True, disabled=True, n_clicks=0),
        ], className="my-3"),
        dcc.Loading(html.Div(id="upload-result", role="status", **{"aria-live": "polite"}), type="dot"),
    ])


def _check(data: bytes, name: str, ident):
    """Run the same checks as `oba returns check` on the bytes; return (CheckResult, path) in a temp dir."""
    from etl.returns.reader import check_file

    src, _ = _context()
    tmp = Path(tempfile.mkdtemp(prefix="oba-upload-"))
    path = tmp / safe_name(name)
    path.write_bytes(data)
    return check_file(path, src.board(), src.library(), _expected_agency(ident)), path


def _cleanup(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
        path.parent.rmdir()
    except OSError:
        pass


def issues_table(issues) -> html.Div:
    rows = [html.Tr([
        html.Td(html.Span("Error" if i.is_error else "Warning",
                          className=f"badge {'bg-danger' if i.is_error else 'bg-warning text-dark'}")),
        html.Td(html.Code(i.code)), html.Td(i.sheet or "–"), html.Td(i.cell or "–"), html.Td(i.measure or "–"),
        html.Td(i.message)]) for i in issues]
    return html.Div(html.Table([
        html.Caption("Every issue found, with where it is in the workbook"),
        html.Thead(html.Tr([html.Th(h, scope="col") for h in ("Level", "Issue", "Sheet", "Cell", "Measure",
                                                              "What was found, and what to do")])),
        html.Tbody(rows)], className="table table-sm upload-issues"), className="table-responsive")


@callback(
    Output("upload-report", "children"),
    Output("upload-checked", "data"),
    Output("upload-load", "disabled"),
    Output("upload-cancel", "disabled"),
    Output("upload-result", "children"),
    Input("upload-file", "contents"),
    State("upload-file", "filename"),
    prevent_initial_call=True,
)
def check_upload(contents, filename):
    """Check the dropped file without storing anything; offer to load it when it has no errors."""
    _, ident = _context()
    if contents is None:
        return None, None, True, True, no_update
    name = safe_name(filename)
    try:
        data = decode_upload(contents)
    except ValueError as exc:
        return dbc.Alert(str(exc), color="danger"), None, True, True, None
    result, path = _check(data, name, ident)
    _cleanup(path)
    n_err, n_warn = len(result.errors), len(result.warnings)
    what = f"{result.agency} {result.period.label}" if result.agency and result.period else "the return"
    if result.ok:
        head = dbc.Alert(f"{name}: {what}, {len(result.values)} measures, {n_warn} warning{'s' * (n_warn != 1)}. "
                         "It can be loaded.", color="success")
    else:
        head = dbc.Alert(f"{name}: {n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)}; it "
                         "cannot be loaded. Fix the errors below in the workbook and drop it again.", color="danger")
    report = html.Div([head, issues_table(result.issues) if result.issues else None])
    checked = {"sha256": result.sha256, "name": name} if result.ok else None
    return report, checked, not result.ok, False, None


@callback(
    Output("upload-result", "children", allow_duplicate=True),
    Output("upload-load", "disabled", allow_duplicate=True),
    Output("upload-cancel", "disabled", allow_duplicate=True),
    Output("upload-checked", "data", allow_duplicate=True),
    Output("upload-report", "children", allow_duplicate=True),
    Output("upload-file", "contents"),
    Input("upload-load", "n_clicks"),
    Input("upload-cancel", "n_clicks"),
    State("upload-file", "contents"),
    State("upload-checked", "data"),
    prevent_initial_call=True,
)
def load_or_cancel(load_clicks, cancel_clicks, contents, checked):
    """Load the file that was checked (checked again, as any load is), or forget it."""
    from etl.returns.load import load_file

    trigger = dash.ctx.triggered_id
    if trigger == "upload-cancel":
        return dbc.Alert("Cancelled: nothing was loaded.", color="secondary"), True, True, None, None, None
    if trigger != "upload-load" or not load_clicks or not isinstance(checked, dict):
        return no_update, no_update, no_update, no_update, no_update, no_update
    src, ident = _context()
    try:
        data = decode_upload(contents)
    except ValueError as exc:
        return dbc.Alert(str(exc), color="danger"), True, True, None, no_update, no_update
    import hashlib

    if hashlib.sha256(data).hexdigest() != checked.get("sha256"):
        return dbc.Alert("The file changed since it was checked: drop it again.", color="danger"), True, True, \
            None, None, None
    name = safe_name(checked.get("name"))
    tmp = Path(tempfile.mkdtemp(prefix="oba-upload-"))
    path = tmp / name
    path.write_bytes(data)
    who = ident.user.name if ident is not None and ident.user is not None else _local_user()
    try:
        res = load_file(src.engine(), src.board(), src.library(), path, who, expected_agency=_expected_agency(ident))
    finally:
        _cleanup(path)
    if not res.ok:
        return html.Div([dbc.Alert(f"{name}: {res.message}", color="danger"), issues_table(res.issues)]), True, True, \
            None, no_update, no_update
    changes = html.Ul([html.Li(str(c)) for c in res.changes]) if res.changes else None
    grid = _status_grid(res.agency, res.period)
    return html.Div([dbc.Alert(f"{name}: {res.message}.", color="success"), changes,
                     html.H2("In the returns grid now", className="h5 mt-3"), grid,
                     dcc.Link("Open Agency returns", href="/returns")]), True, True, None, None, None


def _local_user() -> str:
    from etl.context import current_user

    return current_user()


def _status_grid(agency: str | None, period) -> object:
    """The agency's row of the status grid, read from the store now (not from a cached view)."""
    from etl.returns.status import return_status

    src, _ = _context()
    if agency is None or period is None:
        return None
    board = src.board()
    periods = [period - 1, period] if period.index > 0 else [period]
    status = return_status(src.engine(), board, periods, dt.date.today())
    return returns_grid(status[status["agency_code"] == agency], [(agency, board.agency(agency).name)], periods)
