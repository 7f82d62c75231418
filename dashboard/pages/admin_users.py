"""Accounts (admins): who may sign in, with which role; add, disable, enable, reset a password, change a role.

A new account or a reset password gets a random password shown once, here, for the admin to pass on.
Every change goes through ``etl.users`` and is recorded in the audit trail as the signed-in admin.
"""

from __future__ import annotations

import secrets

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, html, no_update

from dashboard.components.layout import page_header, problem
from etl.users import ROLES

dash.register_page(__name__, path="/admin/users", name="Accounts", title="Accounts – OBA dashboard", order=5,
                   description="Who may sign in, and with which role")

ACTIONS = {"disable": "Disable (signs them out)", "enable": "Enable", "reset": "Reset the password",
           "role": "Change the role to the one chosen"}


def _engine():
    from dashboard import data

    return data.source().engine()


def _agencies() -> list:
    from dashboard import data

    try:
        return list(data.source().board().agencies)
    except Exception:
        return []


def users_table(users: list) -> html.Div:
    rows = [html.Tr([html.Td(u.name), html.Td(u.role), html.Td(u.agency_code or "–"),
                     html.Td("Disabled" if u.disabled else "Enabled"),
                     html.Td("Password" if u.has_password else "Single sign-on only"),
                     html.Td(u.created_by or "")]) for u in users]
    return html.Div(html.Table([
        html.Caption(f"{len(users)} account{'s' * (len(users) != 1)}"),
        html.Thead(html.Tr([html.Th(h, scope="col") for h in ("Name", "Role", "Agency", "State", "Signs in with",
                                                              "Added by")])),
        html.Tbody(rows)], className="table table-sm"), className="table-responsive", id="users-table")


def layout(**_ignored) -> object:
    from dashboard.data import DataUnavailable
    from etl.users import list_users

    try:
        users = list_users(_engine())
    except DataUnavailable as exc:
        return problem(exc.title, exc.message, exc.details)
    role_options = [{"label": r, "value": r} for r in ROLES]
    agency_options = [{"label": "– (not a submitter)", "value": ""}] + \
        [{"label": f"{a.code} – {a.name}", "value": a.code} for a in _agencies()]
    add = dbc.Card(dbc.CardBody([
        html.H2("Add an account", className="h4"),
        html.Div([
            html.Div([dbc.Label("Name", html_for="user-new-name"),
                      dbc.Input(id="user-new-name", type="text", autoComplete="off")], className="col-md-4"),
            html.Div([dbc.Label("Role", html_for="user-new-role"),
                      dbc.Select(id="user-new-role", options=role_options, value="viewer")], className="col-md-3"),
            html.Div([dbc.Label("Agency (submitters)", html_for="user-new-agency"),
                      dbc.Select(id="user-new-agency", options=agency_options, value="")], className="col-md-5"),
        ], className="row g-2"),
        dbc.Button("Add the account", id="user-add", color="primary", className="mt-3", n_clicks=0),
    ]), className="mb-3")
    change = dbc.Card(dbc.CardBody([
        html.H2("Change an account", className="h4"),
        html.Div([
            html.Div([dbc.Label("Account", html_for="user-change-name"),
                      dbc.Select(id="user-change-name", options=[{"label": u.name, "value": u.name} for u in users],
                                 value=users[0].name if users else None)], className="col-md-4"),
            html.Div([dbc.Label("Change", html_for="user-change-action"),
                      dbc.Select(id="user-change-action", options=[{"label": v, "value": k}
                                                                   for k, v in ACTIONS.items()],
                                 value="disable")], className="col-md-4"),
            html.Div([dbc.Label("Role", html_for="user-change-role"),
                      dbc.Select(id="user-change-role", options=role_options, value="viewer")], className="col-md-2"),
            html.Div([dbc.Label("Agency", html_for="user-change-agency"),
                      dbc.Select(id="user-change-agency", options=agency_options, value="")], className="col-md-2"),
        ], className="row g-2"),
        dbc.Button("Make the change", id="user-change", color="secondary", className="mt-3", n_clicks=0),
    ]), className="mb-3")
    return html.Div([
        page_header("Accounts", "Who may sign in, and what each role may do: viewers read; analysts also record "
                    "governance and upload any return; submitters upload and see their own agency's returns only; "
                    "admins also manage accounts and read the audit trail."),
        html.Div(id="user-result", role="status", **{"aria-live": "polite"}),
        add, change,
        html.Div(users_table(users), id="users-table-wrap"),
    ])


def _result(ok: bool, text: str, password: str | None = None) -> html.Div:
    parts = [html.P(text, className="mb-0")]
    if password:
        parts.append(html.P(["Password: ", html.Code(password, className="fs-5 user-password"),
                             " — shown only now; give it to them by a secure route."], className="mb-0 mt-2"))
    return dbc.Alert(parts, color="success" if ok else "danger")


def _table():
    from etl.users import list_users

    return users_table(list_users(_engine()))


@callback(
    Output("user-result", "children"),
    Output("users-table-wrap", "children"),
    Input("user-add", "n_clicks"),
    State("user-new-name", "value"),
    State("user-new-role", "value"),
    State("user-new-agency", "value"),
    prevent_initial_call=True,
)
def add_account(n_clicks, name, role, agency):
    """Create an account with a random first password, shown once."""
    from etl.errors import OBAError
    from etl.users import add_user

    if not n_clicks:
        return no_update, no_update
    password = secrets.token_urlsafe(12)
    try:
        user = add_user(_engine(), str(name or ""), str(role or ""), password, str(agency or "") or None,
                        [a.code for a in _agencies()] or None)
    except OBAError as exc:
        return _result(False, f"Not added: {exc}."), no_update
    where = f" for {user.agency_code}" if user.agency_code else ""
    return _result(True, f"Added {user.name} as {user.role}{where}.", password), _table()


@callback(
    Output("user-result", "children", allow_duplicate=True),
    Output("users-table-wrap", "children", allow_duplicate=True),
    Input("user-change", "n_clicks"),
    State("user-change-name", "value"),
    State("user-change-action", "value"),
    State("user-change-role", "value"),
    State("user-change-agency", "value"),
    prevent_initial_call=True,
)
def change_account(n_clicks, name, action, role, agency):
    """Disable, enable, reset the password of, or change the role of an account."""
    from dashboard.auth import request_user
    from etl.errors import OBAError
    from etl.users import disable_user, enable_user, reset_password, set_role

    if not n_clicks:
        return no_update, no_update
    name = str(name or "")
    me = request_user()
    if me is not None and me.name == name and action in ("disable", "role"):
        return _result(False, "You cannot disable your own account or change your own role: ask another admin."), \
            no_update
    engine = _engine()
    try:
        if action == "disable":
            disable_user(engine, name)
            text, password = f"Disabled {name}; their sessions have ended.", None
        elif action == "enable":
            enable_user(engine, name)
            text, password = f"Enabled {name}.", None
        elif action == "reset":
            password = secrets.token_urlsafe(12)
            reset_password(engine, name, password)
            text = f"Reset the password of {name}; their sessions have ended."
        elif action == "role":
            user = set_role(engine, name, str(role or ""), str(agency or "") or None,
                            [a.code for a in _agencies()] or None)
            text, password = f"{user.name} is now {user.role}" + (f" for {user.agency_code}" if user.agency_code
                                                                  else "") + ".", None
        else:
            return _result(False, "Choose a change."), no_update
    except OBAError as exc:
        return _result(False, f"Not changed: {exc}."), no_update
    return _result(True, text, password), _table()
