"""The critical message log's form: raise a message, record the BMG's decision and the action's progress.

Drawn for, and answered only for, those who may govern (``dashboard.policy.CALLBACK_MODULES``); each save calls
``etl.messages`` and redraws the log from the store.
"""

from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components.curve_forms import (
    _area,
    _both_versions,
    _error,
    _field,
    _ok,
    _refused,
    _select,
    _text_input,
    can_govern,
)
from dashboard.components.safe_text import safe_markdown

NEW = "new"
FIELDS = {"group_id": "msg-group", "message": "msg-text", "raised_on": "msg-raised", "bmg_meeting": "msg-bmg",
          "decision": "msg-decision", "action": "msg-action", "owner": "msg-owner", "why": "msg-why",
          "due": "msg-due", "completed_on": "msg-completed", "status": "msg-status", "indicators": "msg-indicators"}


def _src():
    from dashboard import data

    return data.source()


def _day(x) -> str:
    return f"{x:%-d %b %Y}" if isinstance(x, dt.date) else "–"


def log_table(messages: list[dict], groups: dict[str, str], labels: dict[str, str]) -> html.Div:
    from etl.messages import DECISIONS, STATUSES

    if not messages:
        return html.P("No critical messages have been raised.", className="empty-state-text")
    overdue = sum(m["standing"] == "overdue" for m in messages)
    rows = [html.Tr([
        html.Td(str(m["id"])),
        html.Td(groups.get(m["group"], m["group"])),
        html.Td([safe_markdown(m["message"]),
                 html.Div("Linked: " + ", ".join(labels.get(i, i) for i in m["indicators"]), className="small-print")
                 if m["indicators"] else None]),
        html.Td(_day(m["raised_on"])),
        html.Td([html.Div(DECISIONS.get(m["decision"] or "", "Not yet decided"),
                          className="fw-bold" if m["decision"] == "to_board" else ""),
                 html.Div(f"BMG {_day(m['bmg_meeting'])}", className="small-print") if m["bmg_meeting"] else None]),
        html.Td([m["action"] or "–", html.Div(m["why"], className="small-print") if m["why"] else None]),
        html.Td(m["owner"] or "–"),
        html.Td(_day(m["due"])),
        html.Td([html.Span(STATUSES.get(m["standing"], m["standing"]),
                           className=f"badge {'bg-danger' if m['standing'] == 'overdue' else 'bg-success' if m['standing'] == 'done' else 'bg-secondary'} action-standing"),
                 html.Div(f"done {_day(m['completed_on'])}", className="small-print") if m["completed_on"] else None]),
    ], className=f"message-row standing-{m['standing']}") for m in messages]
    return html.Div(html.Table([
        html.Caption(f"{len(messages)} critical message{'s' * (len(messages) != 1)}"
                     + (f", {overdue} overdue" if overdue else "")),
        html.Thead(html.Tr([html.Th(h, scope="col") for h in ("No.", "Group", "Critical message", "Raised",
                                                              "CM to Board", "Action and why", "By who", "By when",
                                                              "Status")])),
        html.Tbody(rows),
    ], className="table table-sm align-middle message-table", id="message-table"), className="table-responsive")


def _options(messages: list[dict]) -> list:
    return [(NEW, "A new critical message")] + [(str(m["id"]), f"{m['id']}. {m['message'][:70]}") for m in messages]


def message_form(messages: list[dict], groups: dict[str, str], labels: dict[str, str]) -> html.Details | None:
    if not can_govern():
        return None
    from etl.messages import DECISIONS

    return html.Details([
        html.Summary("Raise a critical message, or update one"),
        html.Div([
            _field("Message", _select("msg-choice", _options(messages), NEW), "msg-choice",
                   "Choose one to record the BMG's decision or its progress; the earlier version is kept."),
            dbc.Row([
                dbc.Col(_field("Sub-group", _select("msg-group", list(groups.items()), next(iter(groups), None)),
                               "msg-group"), md=6),
                dbc.Col(_field("Date raised", dbc.Input(id="msg-raised", type="date",
                                                        value=dt.date.today().isoformat()), "msg-raised"), md=6),
            ]),
            _field("Critical message", _area("msg-text", None, 3), "msg-text"),
            _field("Linked indicators", html.Div(dbc.Checklist(id="msg-indicators", value=[], options=[
                {"label": v, "value": k} for k, v in sorted(labels.items(), key=lambda x: x[1])]),
                className="checklist-scroll"), "msg-indicators"),
            dbc.Row([
                dbc.Col(_field("BMG meeting", dbc.Input(id="msg-bmg", type="date"), "msg-bmg"), md=6),
                dbc.Col(_field("BMG decision", _select("msg-decision", [("", "Not yet decided"),
                                                                        *DECISIONS.items()], ""), "msg-decision"),
                        md=6),
            ]),
            _field("Action", _area("msg-action", None, 2), "msg-action"),
            dbc.Row([
                dbc.Col(_field("By who", _text_input("msg-owner"), "msg-owner"), md=6),
                dbc.Col(_field("By when", dbc.Input(id="msg-due", type="date"), "msg-due"), md=6),
            ]),
            _field("Why", _area("msg-why", None, 2), "msg-why"),
            dbc.Row([
                dbc.Col(_field("Status", _select("msg-status", [("open", "Open"), ("in_progress", "In progress"),
                                                                ("done", "Done")], "open"), "msg-status"), md=6),
                dbc.Col(_field("Date completed", dbc.Input(id="msg-completed", type="date"), "msg-completed"), md=6),
            ]),
            dcc.Store(id="msg-version", data=None),
            dbc.Button("Save the critical message", id="msg-save", color="primary"),
            html.Div(id="msg-feedback", className="mt-2", role="status"),
        ], className="curve-form"),
    ], className="curve-form-box")


def _marks(bad: str | None = None, message: str = "") -> list:
    out = []
    for name in FIELDS:
        out += ["is-invalid" if name == bad else "", message if name == bad else ""]
    return out


def _names():
    src = _src()
    board, library = src.board(), src.library()
    return {g.id: g.name for g in board.subgroups}, {i: ind.label for i, ind in library.indicators.items()}


@callback(
    *[Output(fid, "value") for fid in FIELDS.values()],
    Output("msg-version", "data"),
    Input("msg-choice", "value"),
    prevent_initial_call=True,
)
def choose_message(choice):
    """Fill the form with the chosen message as stored (or empty it for a new one)."""
    from etl.messages import critical_messages

    empty = [no_update, "", dt.date.today().isoformat(), None, "", "", "", "", None, None, "open", [], None]
    if not choice or choice == NEW:
        return empty
    m = next((m for m in critical_messages(_src().engine()) if str(m["id"]) == str(choice)), None)
    if m is None:
        return empty

    def iso(d):
        return d.isoformat() if d else None

    return [m["group"], m["message"], iso(m["raised_on"]), iso(m["bmg_meeting"]), m["decision"] or "",
            m["action"] or "", m["owner"] or "", m["why"] or "", iso(m["due"]), iso(m["completed_on"]), m["status"],
            m["indicators"], m["version"]]


@callback(
    Output("msg-feedback", "children"),
    Output("message-log", "children"),
    Output("msg-choice", "options"),
    Output("msg-choice", "value"),
    Output("msg-version", "data", allow_duplicate=True),
    *[o for fid in FIELDS.values() for o in (Output(fid, "className"), Output(f"{fid}-error", "children"))],
    Input("msg-save", "n_clicks"),
    State("msg-choice", "value"),
    *[State(fid, "value") for fid in FIELDS.values()],
    State("msg-version", "data"),
    prevent_initial_call=True,
)
def save_message(clicks, choice, *values):
    from etl.errors import OBAError
    from etl.governance import Conflict, InvalidField
    from etl.messages import critical_messages, raise_message, update_message

    *fields, version = values
    if not clicks:
        return [no_update] * (5 + 2 * len(FIELDS))
    if not can_govern():
        return [_refused(), no_update, no_update, no_update, no_update, *_marks()]
    src = _src()
    engine, board, library = src.engine(), src.board(), src.library()
    given = dict(zip(FIELDS, fields, strict=True))
    given = {k: (v if v not in ("",) else None) for k, v in given.items()}
    given["indicators"] = given.get("indicators") or []
    groups, labels = _names()
    try:
        if not choice or choice == NEW:
            row = raise_message(engine, board, library, **given)
            text = f"Raised critical message {row.id}."
        else:
            row = update_message(engine, board, library, int(choice), version, **given)
            text = f"Saved critical message {row.id} (version {row.version}); the earlier version is kept."
    except Conflict as exc:
        theirs = exc.theirs or {}
        mine = html.P(f"{given.get('message')} — {given.get('decision') or 'not decided'}, "
                      f"{given.get('status')}")
        return [html.Div([_error(str(exc)), _both_versions(
                    [html.P(f"{theirs.get('message')} — {theirs.get('decision') or 'not decided'}, "
                            f"{theirs.get('status')}")], [mine])]),
                log_table(critical_messages(engine), groups, labels), no_update, no_update, theirs.get("version"),
                *_marks()]
    except InvalidField as exc:
        field = exc.field if exc.field in FIELDS else None
        return [_error("Not saved: " + ("see the field marked below." if field else str(exc))), no_update,
                no_update, no_update, no_update, *_marks(field, str(exc))]
    except OBAError as exc:
        return [_error(str(exc)), no_update, no_update, no_update, no_update, *_marks()]
    msgs = critical_messages(engine)
    return [_ok(text), log_table(msgs, groups, labels),
            [{"label": label, "value": v} for v, label in _options(msgs)], str(row.id), row.version, *_marks()]
