"""The report card form (create, edit) and raising a critical message from a card: analysts only
(``dashboard.policy.CALLBACK_MODULES``); each save calls ``etl.report_cards`` or ``etl.messages``."""

from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, callback, dcc, html, no_update

from dashboard.components.curve_forms import (
    _area,
    _both_versions,
    _error,
    _field,
    _ok,
    _refused,
    _select,
    can_govern,
)

NEW = "new"
TEXT_FIELDS = {"activity": "card-activity", "data_story": "card-story", "data_challenges": "card-challenges",
               "difference": "card-difference", "how_we_know": "card-know"}


def _src():
    from dashboard import data

    return data.source()


def priority_field(pid: str) -> dict:
    return {"type": "card-priority", "index": pid}


def card_form(cards: list[dict], board) -> html.Details | None:
    if not can_govern():
        return None
    groups = [(g.id, g.name) for g in board.subgroups]
    options = [(NEW, "A new report card")] + [
        (str(c["id"]), f"{c['meeting_on']:%-d %b %Y} — {dict(groups).get(c['group'], c['group'])}") for c in cards]
    return html.Details([
        html.Summary("Write a report card, or edit one"),
        html.Div([
            _field("Report card", _select("card-choice", options, NEW), "card-choice",
                   "Choose one to edit it; the earlier version is kept."),
            dbc.Row([
                dbc.Col(_field("Sub-group", _select("card-group", groups, groups[0][0] if groups else None),
                               "card-group"), md=6),
                dbc.Col(_field("Date the meeting was held", dbc.Input(id="card-meeting", type="date"),
                               "card-meeting"), md=6),
            ]),
            _field("Summary of sub-group activity", _area("card-activity", None, 3), "card-activity",
                   "What has the sub-group done? How much has it done?"),
            _field("The story the data indicators tell", _area("card-story", None, 3), "card-story",
                   "The figures themselves are filled in from the dataset."),
            _field("Challenges in getting accurate data in a timely way", _area("card-challenges", None, 2),
                   "card-challenges"),
            *[html.Div(html.Label([html.Span(f"Sub-group activity related to the board priority {p.name}",
                                             className="fw-semibold d-block"),
                                   dbc.Textarea(id=priority_field(p.id), rows=2, maxLength=4000, value="")],
                                  className="w-100"), className="mb-2")
              for p in board.priorities],
            _field("What difference has the work made to children and families?", _area("card-difference", None, 2),
                   "card-difference"),
            _field("How does the sub-group know? What evidence is there?", _area("card-know", None, 2), "card-know"),
            dcc.Store(id="card-version", data=None),
            dbc.Button("Save the report card", id="card-save", color="primary"),
            html.Div(id="card-feedback", className="mt-2", role="status"),
        ], className="curve-form"),
    ], className="curve-form-box")


def message_from_card_form(card_id: int) -> html.Div | None:
    if not can_govern():
        return None
    return html.Details([
        html.Summary("Raise a critical message from this card"),
        html.Div([
            _field("Critical message for the business management group", _area("card-msg-text", None, 2),
                   "card-msg-text"),
            dcc.Store(id="card-msg-context", data={"card": card_id}),
            dbc.Button("Raise the message", id="card-msg-save", color="primary"),
            html.Div(id="card-msg-feedback", className="mt-2", role="status"),
        ], className="curve-form"),
    ], className="curve-form-box")


FIELDS = {"group_id": "card-group", "meeting_on": "card-meeting", **TEXT_FIELDS}
PRIORITY = {"type": "card-priority", "index": ALL}


@callback(
    *[Output(fid, "value") for fid in FIELDS.values()],
    Output(PRIORITY, "value"),
    Output("card-version", "data"),
    Input("card-choice", "value"),
    State(PRIORITY, "id"),
    prevent_initial_call=True,
)
def choose_card(choice, priority_ids):
    """Fill the form with the chosen card as stored (or empty it for a new one)."""
    from etl.report_cards import report_cards

    pids = [i["index"] for i in priority_ids or []]
    if not choice or choice == NEW:
        return [no_update, None, *[""] * len(TEXT_FIELDS), [""] * len(pids), None]
    c = next((c for c in report_cards(_src().engine()) if str(c["id"]) == str(choice)), None)
    if c is None:
        return [no_update] * (len(FIELDS) + 2)
    return [c["group"], c["meeting_on"].isoformat(), *[c.get(k) or "" for k in TEXT_FIELDS],
            [c["priority_activity"].get(p, "") for p in pids], c["version"]]


@callback(
    Output("card-feedback", "children"),
    Output("card-choice", "options"),
    Output("card-choice", "value"),
    Output("card-version", "data", allow_duplicate=True),
    *[o for fid in FIELDS.values() for o in (Output(fid, "className"), Output(f"{fid}-error", "children"))],
    Input("card-save", "n_clicks"),
    State("card-choice", "value"),
    *[State(fid, "value") for fid in FIELDS.values()],
    State(PRIORITY, "value"),
    State(PRIORITY, "id"),
    State("card-version", "data"),
    prevent_initial_call=True,
)
def save_card(clicks, choice, *values):
    from etl.errors import OBAError
    from etl.governance import Conflict, InvalidField
    from etl.report_cards import create_card, report_cards, update_card

    *vals, priority_values, priority_ids, version = values

    def marks(bad=None, message=""):
        out = []
        for name in FIELDS:
            out += ["is-invalid" if name == bad else "", message if name == bad else ""]
        return out

    if not clicks:
        return [no_update] * (4 + 2 * len(FIELDS))
    if not can_govern():
        return [_refused(), no_update, no_update, no_update, *marks()]
    src = _src()
    given = dict(zip(FIELDS, vals, strict=True))
    activity = {i["index"]: v for i, v in zip(priority_ids or [], priority_values or [], strict=True)
                if (v or "").strip()}
    payload = {"group_id": given["group_id"], "meeting_on": given["meeting_on"] or None,
               **{k: given[k] for k in TEXT_FIELDS}, "priority_activity": activity}
    try:
        if not choice or choice == NEW:
            row = create_card(src.engine(), src.board(), **payload)
            text = f"Saved report card {row.id}."
        else:
            row = update_card(src.engine(), src.board(), int(choice), version, **payload)
            text = f"Saved report card {row.id} (version {row.version}); the earlier version is kept."
    except Conflict as exc:
        theirs = exc.theirs or {}
        return [html.Div([_error(str(exc)), _both_versions([html.P(theirs.get("activity") or "")],
                                                           [html.P(payload.get("activity") or "")])]),
                no_update, no_update, theirs.get("version"), *marks()]
    except InvalidField as exc:
        field = exc.field if exc.field in FIELDS else None
        return [_error("Not saved: " + ("see the field marked below." if field else str(exc))), no_update,
                no_update, no_update, *marks(field, str(exc))]
    except OBAError as exc:
        return [_error(str(exc)), no_update, no_update, no_update, *marks()]
    groups = {g.id: g.name for g in src.board().subgroups}
    options = [{"label": "A new report card", "value": NEW}] + [
        {"label": f"{c['meeting_on']:%-d %b %Y} — {groups.get(c['group'], c['group'])}", "value": str(c["id"])}
        for c in report_cards(src.engine())]
    return [html.Div([_ok(text), " ", dcc.Link("Open it", href=f"/report-cards?card={row.id}")]), options,
            str(row.id), row.version, *marks()]


@callback(
    Output("card-msg-feedback", "children"),
    Output("card-msg-text", "className"),
    Output("card-msg-text-error", "children"),
    Input("card-msg-save", "n_clicks"),
    State("card-msg-text", "value"),
    State("card-msg-context", "data"),
    prevent_initial_call=True,
)
def raise_from_card(clicks, text, context):
    from etl.governance import InvalidField
    from etl.messages import raise_message
    from etl.report_cards import report_cards

    if not clicks or not isinstance(context, dict):
        return no_update, no_update, no_update
    if not can_govern():
        return _refused(), "", ""
    src = _src()
    card = next((c for c in report_cards(src.engine()) if c["id"] == context.get("card")), None)
    if card is None:
        return _error("This report card is no longer there: reload the page."), "", ""
    try:
        row = raise_message(src.engine(), src.board(), src.library(), group_id=card["group"], message=text or "",
                            raised_on=dt.date.today(), source="report_card", source_ref=f"report_card {card['id']}")
    except InvalidField as exc:
        return _error("Not raised: see the field marked below."), "is-invalid", str(exc)
    return html.Div([_ok(f"Raised critical message {row.id}; it is in the log."), " ",
                     dcc.Link("Open the log", href="/messages")]), "", ""

