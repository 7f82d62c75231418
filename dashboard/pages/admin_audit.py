"""Audit trail (admins): every change and sign-in, filtered by action, person, dates and text; CSV export."""

from __future__ import annotations

import datetime as dt
import io
import json

import dash
import dash_bootstrap_components as dbc
from dash import html

from dashboard.components.layout import page_header, problem, query
from etl.audit import ACTIONS

SHOWN = 500

dash.register_page(__name__, path="/admin/audit", name="Audit trail", title="Audit trail – OBA dashboard",
                   order=6, description="Every change and sign-in: who, what, when, before and after")


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def filters(action: str | None = None, actor: str | None = None, since: str | None = None,
            until: str | None = None, q: str | None = None) -> dict:
    """The filters the URL asks for, cleaned (an unknown action or a bad date is dropped)."""
    action = action if action in ACTIONS or (action and action.endswith(".") and
                                             any(a.startswith(action) for a in ACTIONS)) else None
    return {"action": action, "actor": (actor or "").strip().lower()[:120] or None, "since": _date(since),
            "until": _date(until), "text": (q or "").strip()[:200] or None}


def _engine():
    from dashboard import data

    return data.source().engine()


def _json_text(value: str | None) -> str:
    if not value:
        return ""
    try:
        obj = json.loads(value)
    except ValueError:
        return value
    if isinstance(obj, dict):
        return "; ".join(f"{k}: {v}" for k, v in obj.items())
    return str(obj)


def layout(action: str | None = None, actor: str | None = None, since: str | None = None, until: str | None = None,
           q: str | None = None, **_ignored) -> object:
    from dashboard.data import DataUnavailable
    from etl.audit import read_events

    f = filters(action, actor, since, until, q)
    try:
        events = read_events(_engine(), limit=SHOWN + 1, **f)
    except DataUnavailable as exc:
        return problem(exc.title, exc.message, exc.details)
    more = len(events) > SHOWN
    events = events[:SHOWN]
    export = "/admin/audit.csv" + query(action=f["action"], actor=f["actor"], since=f["since"], until=f["until"],
                                        q=f["text"])
    form = html.Form([
        html.Div([dbc.Label("Action", html_for="audit-action"),
                  dbc.Select(id="audit-action", name="action", value=f["action"] or "any",
                             options=[{"label": "Any", "value": "any"}] +
                                     [{"label": f"{k} — {v}", "value": k} for k, v in ACTIONS.items()])],
                 className="col-md-4"),
        html.Div([dbc.Label("Who", html_for="audit-actor"),
                  dbc.Input(id="audit-actor", name="actor", value=f["actor"] or "", type="text")], className="col-md-2"),
        html.Div([dbc.Label("From", html_for="audit-since"),
                  dbc.Input(id="audit-since", name="since", type="date", value=f["since"] and f["since"].isoformat())],
                 className="col-md-2"),
        html.Div([dbc.Label("To", html_for="audit-until"),
                  dbc.Input(id="audit-until", name="until", type="date", value=f["until"] and f["until"].isoformat())],
                 className="col-md-2"),
        html.Div([dbc.Label("Text", html_for="audit-q"),
                  dbc.Input(id="audit-q", name="q", value=f["text"] or "", type="search")], className="col-md-2"),
        html.Div([dbc.Button("Filter", type="submit", color="primary", className="me-2"),
                  html.A("Export as CSV", href=export, className="btn btn-outline-secondary")],
                 className="col-12"),
    ], method="get", action="/admin/audit", className="row g-2 align-items-end audit-filters mb-3")
    rows = [html.Tr([
        html.Td(e["at"].strftime("%-d %b %Y %H:%M:%S") if e["at"] else ""),
        html.Td(e["actor"]), html.Td(e["role"] or "–"), html.Td(e["source"]), html.Td(e["address"] or "–"),
        html.Td(html.Code(e["action"])), html.Td(e["target"] or ""),
        html.Td(_json_text(e["before"])), html.Td(_json_text(e["after"])), html.Td(e["detail"] or ""),
    ]) for e in events]
    table = html.Div(html.Table([
        html.Caption(f"{len(events)} event{'s' * (len(events) != 1)}, newest first"
                     + (f" (the newest {SHOWN}; export for all)" if more else "")),
        html.Thead(html.Tr([html.Th(h, scope="col") for h in
                            ("When (UTC)", "Who", "Role", "From", "Address", "Action", "What", "Before", "After",
                             "Detail")])),
        html.Tbody(rows),
    ], className="table table-sm audit-table align-top"), className="table-responsive")
    return html.Div([
        page_header("Audit trail", "Every change to the store and every sign-in: who, what, when, before and after."),
        form,
        table if events else html.P("No events match.", className="empty-state-text"),
    ])


def add_export_route(app) -> None:
    """/admin/audit.csv: the filtered trail as CSV (admins only; see dashboard.policy.ROUTES)."""
    from flask import Response, request

    from etl.audit import read_events, write_csv

    def export():
        from dashboard.data import DataUnavailable
        from dashboard.hardening import error_page

        f = filters(request.args.get("action"), request.args.get("actor"), request.args.get("since"),
                    request.args.get("until"), request.args.get("q"))
        out = io.StringIO()
        try:
            events = read_events(_engine(), **f)
        except DataUnavailable as exc:
            return error_page(503, exc.title, exc.message)
        write_csv(list(reversed(events)), out)
        stamp = dt.date.today().isoformat()
        return Response(out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="oba-audit-{stamp}.csv"'})

    app.server.add_url_rule("/admin/audit.csv", "oba_audit_csv", export, methods=["GET"])
