"""Turning the curve on the indicator page: the story, the action plan and the decisions, read by everyone and
written by analysts (the ``govern`` permission; ``dashboard.policy.CALLBACK_MODULES`` closes these callbacks
to anyone else).

The callbacks are thin: each calls one write function of ``etl.governance`` (which records who, from the
request's signed-in user, and when) and redraws the record it changed, read back from the store. A form says
which version of the record it was opened on; if someone saved another since, the second editor is shown both
versions and nothing is lost (their text stays in the form).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from dashboard.components.safe_text import safe_markdown

STATUS_WORDS = {"open": "Not started", "on_track": "On track", "late": "Behind", "done": "Done",
                "overdue": "Overdue"}
DECISION_WORDS = {"freeze": "Baseline frozen", "unfreeze": "Freeze undone", "target": "Target changed",
                  "rebase": "SPC rebased"}
NEW = "new"


# --- reading -------------------------------------------------------------------------------------------

def _engine():
    from dashboard import data

    return data.source().engine()


def _library():
    from dashboard import data

    return data.source().library()


def can_govern() -> bool:
    from dashboard.auth import request_identity

    ident = request_identity()
    return ident is not None and ident.can("govern")


def _when(x: Any) -> str:
    if isinstance(x, dt.datetime):
        return f"{x:%-d %B %Y at %H:%M}"
    if isinstance(x, dt.date):
        return f"{x:%-d %B %Y}"
    return "–"


def _day(x: Any) -> str:
    return f"{x:%-d %b %Y}" if isinstance(x, dt.date) else "–"


def read_curve(indicator_id: str) -> dict:
    """Everything the panel draws, read from the store now (not from the cached view)."""
    from etl.access import read_story
    from etl.governance import curve_decisions

    engine = _engine()
    story, actions = read_story(engine, indicator_id)
    return {"story": story, "actions": actions, "decisions": curve_decisions(engine, indicator_id)}


# --- drawing the records ----------------------------------------------------------------------------

def story_view(story: dict | None, indicator_label: str) -> list:
    if not story:
        return [dbc.Alert([
            html.Strong("No story has been recorded yet. "),
            f"When the PQA sub-group turns the curve on {indicator_label}, record the story behind the baseline, "
            "the partners who could help and what works; it will appear here.",
        ], color="light", className="empty-state")]
    parts: list = []
    for title, key in (("The story behind the baseline", "story"), ("Partners who could help", "partners"),
                       ("What works", "what_works")):
        if story.get(key):
            parts += [html.H3(title, className="h5 mt-3"), safe_markdown(story[key])]
    meta = f"Written by {story.get('author') or 'unknown'} on {_when(story.get('updated_at'))}"
    if story.get("period"):
        meta += f", for {story['period']}"
    meta += "."
    meta += (f" Baseline frozen at {story['baseline_frozen_at']}." if story.get("baseline_frozen_at")
             else " The baseline is not frozen.")
    parts.append(html.P(meta, className="small-print", id="story-meta"))
    earlier = (story.get("versions") or [])[1:]
    if earlier:
        parts.append(html.Details([
            html.Summary(f"Earlier versions ({len(earlier)})"),
            html.Ol([html.Li([
                html.P(f"{v.get('author')}, {_when(v.get('updated_at'))}"
                       + (f", for {v['period']}" if v.get("period") else ""), className="small-print mb-1"),
                safe_markdown(v.get("story")),
                *([html.P([html.Strong("Partners: "), v["partners"]], className="mb-1")] if v.get("partners") else []),
                *([html.P([html.Strong("What works: "), v["what_works"]], className="mb-1")]
                  if v.get("what_works") else []),
            ], className="story-version") for v in earlier], className="story-versions"),
        ], className="story-history"))
    return parts


def _standing_badge(standing: str) -> html.Span:
    word = STATUS_WORDS.get(standing, standing)
    cls = {"overdue": "bg-danger", "done": "bg-success", "late": "bg-warning text-dark"}.get(standing,
                                                                                            "bg-secondary")
    return html.Span(word, className=f"badge {cls} action-standing standing-{standing}")


def actions_view(actions: list[dict]) -> list:
    if not actions:
        return [html.P("No actions have been recorded for this indicator.", className="empty-state-text")]
    overdue = sum(a["standing"] == "overdue" for a in actions)
    rows = []
    for a in actions:
        history = a.get("history") or []
        updates = [h for h in history if h.get("note") and h.get("version", 1) > 1]
        rows.append(html.Tr([
            html.Td(str(a["id"])),
            html.Td([safe_markdown(a["action"]),
                     html.Details([html.Summary(f"History ({len(history)} version{'s' * (len(history) != 1)})"),
                                   html.Ul([html.Li(f"{_when(h['at'])} — {h['by']}: {STATUS_WORDS.get(h['status'])}"
                                                    + (f", due {_day(h['due'])}" if h.get("due") else "")
                                                    + (f". {h['note']}" if h.get("note") else ""))
                                            for h in history])]) if history else None]),
            html.Td(a["owner"]),
            html.Td(_day(a.get("due"))),
            html.Td(a.get("how_we_know") or "–"),
            html.Td([_standing_badge(a["standing"]),
                     html.Div(f"done {_day(a['completed_on'])}", className="small-print")
                     if a.get("completed_on") else None,
                     html.Div(f"latest: {updates[-1]['note']}", className="small-print") if updates else None]),
        ], className=f"action-row standing-{a['standing']}"))
    caption = "SMART actions, by due date" + (f": {overdue} overdue" if overdue else "")
    return [html.Div(html.Table([
        html.Caption(caption),
        html.Thead(html.Tr([html.Th(h, scope="col") for h in ("No.", "What", "Who", "By when", "How we'll know",
                                                              "Status")])),
        html.Tbody(rows),
    ], className="table table-sm align-middle actions-table", id="actions-table"), className="table-responsive")]


def _decision_text(d: dict) -> str:
    kind = d["kind"]
    if kind == "target":
        what = " and ".join(f"{k} {d[k]:g}" for k in ("target", "tolerance") if d.get(k) is not None)
        head = f"{what.capitalize()} from {d['period']} (earlier quarters keep theirs)"
    elif kind == "freeze":
        head = f"Baseline frozen at {d['period']}"
    elif kind == "unfreeze":
        head = "The freeze was undone"
    else:
        head = f"New SPC limits from {d['period']}" + (" (the proposed rebase, accepted)"
                                                      if d.get("source") == "proposal" else "")
    return f"{head}. {d['reason']}"


def decisions_view(decisions: list[dict]) -> list:
    if not decisions:
        return [html.P("No decisions have been recorded for this indicator.", className="empty-state-text")]
    return [html.Ul([html.Li([html.Strong(DECISION_WORDS.get(d["kind"], d["kind"])), " — ",
                              f"{d['decided_by']}, {_day(d['decided_on'])}: ", _decision_text(d)],
                             className=f"decision decision-{d['kind']}") for d in decisions],
                    className="decision-list", id="decision-list")]


# --- forms --------------------------------------------------------------------------------------------

def _field(label: str, component, fid: str, help_text: str | None = None) -> html.Div:
    return html.Div([
        dbc.Label(label, html_for=fid, className="fw-semibold mb-0"),
        component,
        dbc.FormText(help_text) if help_text else None,
        dbc.FormFeedback(id=f"{fid}-error", type="invalid"),
    ], className="mb-2")


def _area(fid: str, value: str | None = None, rows: int = 3, limit: int = 4000) -> dbc.Textarea:
    return dbc.Textarea(id=fid, value=value or "", rows=rows, maxLength=limit)


def _text_input(fid: str, value: str | None = None, limit: int = 120, **kw) -> dbc.Input:
    return dbc.Input(id=fid, value=value or "", maxLength=limit, **kw)


def _select(fid: str, options: list, value) -> dbc.Select:
    return dbc.Select(id=fid, options=[{"label": label, "value": v} for v, label in options], value=value)


def story_form(story: dict | None) -> html.Div:
    s = story or {}
    return html.Details([
        html.Summary("Write a new version of the story"),
        html.Div([
            _field("The story behind the baseline", _area("story-text", s.get("story"), 5), "story-text",
                   "Causes and forces at work. Markdown: **bold**, lists, links to web pages."),
            _field("Partners with a role to play", _area("story-partners", s.get("partners")), "story-partners"),
            _field("What works", _area("story-works", s.get("what_works")), "story-works",
                   "Evidence and practice that would turn the curve."),
            dcc.Store(id="story-expected", data=s.get("id")),
            dbc.Button("Save the story", id="story-save", color="primary"),
            html.Div(id="story-feedback", className="mt-2", role="status"),
        ], className="curve-form"),
    ], className="curve-form-box", open=not story)


def _action_options(actions: list[dict]) -> list:
    return [(NEW, "A new action")] + [(str(a["id"]), f"{a['id']}. {a['action'][:70]}") for a in actions]


def action_form(actions: list[dict]) -> html.Div:
    statuses = [(k, STATUS_WORDS[k]) for k in ("open", "on_track", "late", "done")]
    return html.Details([
        html.Summary("Add an action, or update one"),
        html.Div([
            _field("Action", _select("action-choice", _action_options(actions), NEW), "action-choice",
                   "Choose an action to update it; the earlier version is kept."),
            _field("What will be done", _area("action-what", None, 2), "action-what"),
            _field("Who (owner)", _text_input("action-owner"), "action-owner"),
            dbc.Row([
                dbc.Col(_field("By when", dbc.Input(id="action-due", type="date"), "action-due"), md=4),
                dbc.Col(_field("Status", _select("action-status", statuses, "open"), "action-status"), md=4),
                dbc.Col(_field("Date completed", dbc.Input(id="action-completed", type="date"), "action-completed",
                               "Today when left empty and the status is Done."), md=4),
            ]),
            _field("How we'll know", _area("action-know", None, 2), "action-know",
                   "The measure that should move if it works."),
            _field("Update (what has happened since)", _area("action-note", None, 2), "action-note"),
            dcc.Store(id="action-version", data=None),
            dbc.Button("Save the action", id="action-save", color="primary"),
            html.Div(id="action-feedback", className="mt-2", role="status"),
        ], className="curve-form"),
    ], className="curve-form-box")


def decision_forms(period: str, options: list[str], frozen: str | None, proposal: str | None) -> html.Div:
    quarters = [(q, q) for q in options]
    freeze = html.Div([
        html.H4("Start the action plan: freeze the baseline", className="h6"),
        html.P(f"Now: {'frozen at ' + frozen if frozen else 'not frozen'}.", id="freeze-now", className="small-print"),
        _field("Quarter the plan starts", _select("freeze-period", quarters, period), "freeze-period"),
        _field("Reason (to undo a freeze, required)", _area("freeze-reason", None, 2), "freeze-reason"),
        dbc.Button("Freeze the baseline", id="freeze-save", color="primary", className="me-2"),
        dbc.Button("Undo the freeze", id="unfreeze-save", color="secondary", outline=True),
        html.Div(id="freeze-feedback", className="mt-2", role="status"),
    ], className="decision-form")
    rebase = html.Div([
        html.H4("Rebase the SPC chart", className="h6"),
        html.P(f"The library proposes new limits from {proposal}: accept it with your reason, or choose your own "
               "quarter." if proposal else "No rebase is proposed; choose a quarter if the process changed.",
               className="small-print"),
        _field("New limits from", _select("rebase-period", quarters, proposal or period), "rebase-period"),
        _field("Reason (what changed in the process)", _area("rebase-reason", None, 2), "rebase-reason"),
        dbc.Button(f"Accept the proposed rebase at {proposal}", id="rebase-accept", color="primary",
                   className="me-2") if proposal else None,
        dbc.Button("Rebase at the chosen quarter", id="rebase-save", color="secondary", outline=True),
        html.Div(id="rebase-feedback", className="mt-2", role="status"),
    ], className="decision-form")
    target = html.Div([
        html.H4("Change the target or tolerance", className="h6"),
        dbc.Row([
            dbc.Col(_field("From the quarter", _select("target-from", quarters, period), "target-from"), md=4),
            dbc.Col(_field("New target", dbc.Input(id="target-value", type="number", step="any"), "target-value"),
                    md=4),
            dbc.Col(_field("New tolerance", dbc.Input(id="target-tolerance", type="number", step="any", min=0),
                           "target-tolerance"), md=4),
        ]),
        _field("Reason", _area("target-reason", None, 2), "target-reason"),
        dbc.Button("Record the target change", id="target-save", color="primary"),
        html.Div(id="target-feedback", className="mt-2", role="status"),
    ], className="decision-form")
    return html.Details([html.Summary("Record a decision"), freeze, html.Hr(), rebase, html.Hr(), target],
                        className="curve-form-box")


def curve_panel(indicator_id: str, indicator_label: str, period: str, options: list[str],
                proposal: str | None) -> html.Div:
    """The story, action plan and decisions of one indicator, with their forms for those who may write."""
    from dashboard.data import DataUnavailable

    try:
        rec = read_curve(indicator_id)
        write = can_govern()
    except DataUnavailable:  # a view with no store behind it (a fixed sample): nothing recorded, nothing to write
        rec, write = {"story": None, "actions": [], "decisions": []}, False
    frozen = (rec["story"] or {}).get("baseline_frozen_at")
    if rec["story"] is None and write:
        from etl.governance import frozen_at

        frozen = frozen_at(_engine(), indicator_id)
    return html.Div([
        dcc.Store(id="curve-context", data={"indicator": indicator_id, "label": indicator_label, "period": period}),
        html.Div(story_view(rec["story"], indicator_label), id="curve-story-view"),
        story_form(rec["story"]) if write else None,
        html.H3("Action plan", className="h5 mt-4"),
        html.Div(actions_view(rec["actions"]), id="curve-actions-view"),
        action_form(rec["actions"]) if write else None,
        html.H3("Decisions", className="h5 mt-4"),
        html.Div(decisions_view(rec["decisions"]), id="curve-decisions-view"),
        decision_forms(period, options, frozen, proposal) if write else None,
    ], className="story curve-panel")


# --- callbacks ----------------------------------------------------------------------------------------

STORY_FIELDS = {"story": "story-text", "partners": "story-partners", "what_works": "story-works"}
ACTION_FIELDS = {"action": "action-what", "owner": "action-owner", "due": "action-due", "status": "action-status",
                 "completed_on": "action-completed", "how_we_know": "action-know", "note": "action-note"}
FREEZE_FIELDS = {"period": "freeze-period", "reason": "freeze-reason"}
REBASE_FIELDS = {"period": "rebase-period", "reason": "rebase-reason"}
TARGET_FIELDS = {"effective_from": "target-from", "target": "target-value", "tolerance": "target-tolerance",
                 "reason": "target-reason"}


def _field_outputs(fields: dict[str, str]) -> list:
    return [o for fid in fields.values() for o in (Output(fid, "invalid"), Output(f"{fid}-error", "children"))]


def _marks(fields: dict[str, str], bad: str | None = None, message: str = "") -> list:
    out = []
    for name in fields:
        out += [name == bad, message if name == bad else ""]
    return out


def _ok(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="success", className="mb-0")


def _error(text: str) -> dbc.Alert:
    return dbc.Alert(text, color="danger", className="mb-0")


def _refused():
    return _error("Your account may not record this: ask an analyst.")


def _both_versions(theirs: list, yours: list) -> html.Div:
    return dbc.Row([
        dbc.Col([html.H4("Saved by the other person (now stored)", className="h6"), *theirs], md=6,
                className="conflict-theirs"),
        dbc.Col([html.H4("Yours (not saved; still in the form)", className="h6"), *yours], md=6,
                className="conflict-yours"),
    ], className="conflict mt-2")


@callback(
    Output("story-feedback", "children"),
    Output("curve-story-view", "children"),
    Output("story-expected", "data"),
    *_field_outputs(STORY_FIELDS),
    Input("story-save", "n_clicks"),
    State("story-text", "value"),
    State("story-partners", "value"),
    State("story-works", "value"),
    State("story-expected", "data"),
    State("curve-context", "data"),
    prevent_initial_call=True,
)
def save_story(clicks, story, partners, works, expected, context):
    from etl.governance import Conflict, InvalidField, record_story

    if not clicks or not isinstance(context, dict):
        return no_update, no_update, no_update, *([no_update] * 6)
    if not can_govern():
        return _refused(), no_update, no_update, *_marks(STORY_FIELDS)
    ind = str(context.get("indicator"))
    try:
        row = record_story(_engine(), _library(), ind, story or "", None, partners, works,
                           period=context.get("period"), expected=expected)
    except Conflict as exc:
        theirs = exc.theirs or {}
        return (html.Div([_error(str(exc)), _both_versions(
                    [safe_markdown(theirs.get("story")), html.P(theirs.get("partners") or ""),
                     html.P(theirs.get("what_works") or "")],
                    [safe_markdown(story), html.P(partners or ""), html.P(works or "")])]),
                story_view(read_curve(ind)["story"], context.get("label", ind)), theirs.get("id"),
                *_marks(STORY_FIELDS))
    except InvalidField as exc:
        return _error("Not saved: see the field marked below."), no_update, no_update, \
            *_marks(STORY_FIELDS, exc.field, str(exc))
    rec = read_curve(ind)
    return (_ok(f"Saved: version {len(rec['story']['versions'])} of the story, by {row.author}."),
            story_view(rec["story"], context.get("label", ind)), row.id, *_marks(STORY_FIELDS))


@callback(
    Output("action-what", "value"),
    Output("action-owner", "value"),
    Output("action-due", "value"),
    Output("action-status", "value"),
    Output("action-completed", "value"),
    Output("action-know", "value"),
    Output("action-note", "value"),
    Output("action-version", "data"),
    Input("action-choice", "value"),
    State("curve-context", "data"),
    prevent_initial_call=True,
)
def choose_action(choice, context):
    """Fill the form with the chosen action as stored (or empty it for a new one)."""
    if not choice or choice == NEW or not isinstance(context, dict):
        return "", "", None, "open", None, "", "", None
    a = next((a for a in read_curve(str(context.get("indicator")))["actions"] if str(a["id"]) == str(choice)), None)
    if a is None:
        return "", "", None, "open", None, "", "", None
    return (a["action"], a["owner"], a["due"].isoformat() if a.get("due") else None, a["status"],
            a["completed_on"].isoformat() if a.get("completed_on") else None, a.get("how_we_know") or "", "",
            a["version"])


@callback(
    Output("action-feedback", "children"),
    Output("curve-actions-view", "children"),
    Output("action-choice", "options"),
    Output("action-choice", "value"),
    Output("action-version", "data", allow_duplicate=True),
    *_field_outputs(ACTION_FIELDS),
    Input("action-save", "n_clicks"),
    State("action-choice", "value"),
    State("action-what", "value"),
    State("action-owner", "value"),
    State("action-due", "value"),
    State("action-status", "value"),
    State("action-completed", "value"),
    State("action-know", "value"),
    State("action-note", "value"),
    State("action-version", "data"),
    State("curve-context", "data"),
    prevent_initial_call=True,
)
def save_action(clicks, choice, what, owner, due, status, completed, know, note, version, context):
    from etl.governance import Conflict, InvalidField, add_action, update_action

    skip = [no_update] * (5 + 2 * len(ACTION_FIELDS))
    if not clicks or not isinstance(context, dict):
        return skip
    if not can_govern():
        return _refused(), no_update, no_update, no_update, no_update, *_marks(ACTION_FIELDS)
    ind = str(context.get("indicator"))
    fields = {"action": what or "", "owner": owner or "", "due": due or None, "status": status or "open",
              "completed_on": completed or None, "how_we_know": know or None}
    try:
        if not choice or choice == NEW:
            row = add_action(_engine(), _library(), ind, fields.pop("action"), fields.pop("owner"), None, **fields)
            message = f"Added action {row.id}."
        else:
            row = update_action(_engine(), int(choice), version, note=note, **fields)
            message = f"Saved action {row.id} (version {row.version}); the earlier version is kept in its history."
    except Conflict as exc:
        theirs = exc.theirs or {}
        rec = read_curve(ind)
        show = [html.P(f"{theirs.get('action')} — {theirs.get('owner')}, due {_day(theirs.get('due'))}, "
                       f"{STATUS_WORDS.get(theirs.get('status'), '')}")]
        mine = [html.P(f"{what} — {owner}, due {due or '–'}, {STATUS_WORDS.get(status or '', '')}"
                       + (f". {note}" if note else ""))]
        return (html.Div([_error(str(exc)), _both_versions(show, mine)]), actions_view(rec["actions"]),
                no_update, no_update, theirs.get("version"), *_marks(ACTION_FIELDS))
    except InvalidField as exc:
        return (_error("Not saved: see the field marked below."), no_update, no_update, no_update, no_update,
                *_marks(ACTION_FIELDS, exc.field, str(exc)))
    except Exception as exc:  # an OBAError: the action is gone
        from etl.errors import OBAError

        if not isinstance(exc, OBAError):
            raise
        return _error(str(exc)), no_update, no_update, no_update, no_update, *_marks(ACTION_FIELDS)
    rec = read_curve(ind)
    options = [{"label": label, "value": v} for v, label in _action_options(rec["actions"])]
    return (_ok(message), actions_view(rec["actions"]), options, str(row.id), row.version,
            *_marks(ACTION_FIELDS))


def _decided(context, fields, call, message_for):
    from etl.governance import InvalidField

    if not isinstance(context, dict):
        return [no_update] * (2 + 2 * len(fields))
    if not can_govern():
        return [_refused(), no_update, *_marks(fields)]
    ind = str(context.get("indicator"))
    try:
        row = call(ind)
    except InvalidField as exc:
        return [_error("Not recorded: see the field marked below."), no_update, *_marks(fields, exc.field, str(exc))]
    return [_ok(message_for(row)), decisions_view(read_curve(ind)["decisions"]), *_marks(fields)]


@callback(
    Output("freeze-feedback", "children"),
    Output("curve-decisions-view", "children"),
    *_field_outputs(FREEZE_FIELDS),
    Input("freeze-save", "n_clicks"),
    Input("unfreeze-save", "n_clicks"),
    State("freeze-period", "value"),
    State("freeze-reason", "value"),
    State("curve-context", "data"),
    prevent_initial_call=True,
)
def save_freeze(freeze_clicks, unfreeze_clicks, period, reason, context):
    from etl.governance import freeze_baseline, unfreeze_baseline

    if ctx.triggered_id == "unfreeze-save" and unfreeze_clicks:
        return _decided(context, FREEZE_FIELDS,
                        lambda ind: unfreeze_baseline(_engine(), _library(), ind, reason or ""),
                        lambda row: "Recorded: the freeze is undone. Reload the page to see the charts without it.")
    if ctx.triggered_id == "freeze-save" and freeze_clicks:
        return _decided(context, FREEZE_FIELDS,
                        lambda ind: freeze_baseline(_engine(), _library(), ind, period or "", reason or ""),
                        lambda row: f"Recorded: the baseline is frozen at {row.period}. Reload the page to see "
                                    "\"has the curve turned?\" against it.")
    return [no_update] * (2 + 2 * len(FREEZE_FIELDS))


@callback(
    Output("rebase-feedback", "children"),
    Output("curve-decisions-view", "children", allow_duplicate=True),
    *_field_outputs(REBASE_FIELDS),
    Input("rebase-save", "n_clicks"),
    State("rebase-period", "value"),
    State("rebase-reason", "value"),
    State("curve-context", "data"),
    prevent_initial_call=True,
)
def save_rebase(own_clicks, period, reason, context):
    from etl.governance import record_rebase

    if ctx.triggered_id != "rebase-save" or not own_clicks:
        return [no_update] * (2 + 2 * len(REBASE_FIELDS))
    return _decided(context, REBASE_FIELDS,
                    lambda ind: record_rebase(_engine(), _library(), ind, period or "", reason or "",
                                              source="analyst"),
                    lambda row: f"Recorded: new SPC limits from {row.period}. Reload the page to see the chart.")


@callback(
    Output("rebase-feedback", "children", allow_duplicate=True),
    Output("curve-decisions-view", "children", allow_duplicate=True),
    *[Output(o.component_id, o.component_property, allow_duplicate=True) for o in _field_outputs(REBASE_FIELDS)],
    Input("rebase-accept", "n_clicks"),
    State("rebase-reason", "value"),
    State("curve-context", "data"),
    prevent_initial_call=True,
)
def accept_rebase(clicks, reason, context):
    """Accept the library's proposed rebase (the quarter is the proposal's, read again from the dataset)."""
    from etl.governance import record_rebase

    if not clicks or not isinstance(context, dict):
        return [no_update] * (2 + 2 * len(REBASE_FIELDS))
    proposal = _current_proposal(str(context.get("indicator")))
    if not proposal:
        return [_error("There is no proposed rebase any more (the data changed): reload the page."), no_update,
                *_marks(REBASE_FIELDS)]
    return _decided(context, REBASE_FIELDS,
                    lambda ind: record_rebase(_engine(), _library(), ind, proposal, reason or "", source="proposal"),
                    lambda row: f"Recorded: the proposed rebase at {row.period} is accepted. Reload the page to see "
                                "the chart with its new limits.")


def _current_proposal(indicator_id: str) -> str | None:
    from dashboard import data

    history = data.view().history(indicator_id)
    latest = next((r for r in reversed(history) if r.get("spc_rebase_proposal")), None)
    return str(latest["spc_rebase_proposal"]) if latest else None


@callback(
    Output("target-feedback", "children"),
    Output("curve-decisions-view", "children", allow_duplicate=True),
    *_field_outputs(TARGET_FIELDS),
    Input("target-save", "n_clicks"),
    State("target-from", "value"),
    State("target-value", "value"),
    State("target-tolerance", "value"),
    State("target-reason", "value"),
    State("curve-context", "data"),
    prevent_initial_call=True,
)
def save_target(clicks, effective_from, target, tolerance, reason, context):
    from etl.governance import change_target

    if not clicks:
        return [no_update] * (2 + 2 * len(TARGET_FIELDS))
    return _decided(context, TARGET_FIELDS,
                    lambda ind: change_target(_engine(), _library(), ind, effective_from or "", reason or "",
                                              target, tolerance),
                    lambda row: f"Recorded: the new target applies from {row.period}; earlier quarters keep theirs. "
                                "Reload the page to see the RAG ratings with it.")
