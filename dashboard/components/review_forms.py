"""The quarter's review on the pages: PQA's decision on an exception (indicator page), the agreed position
(home page), closing the quarter (review page) and what has been revised since the board saw it.

Everyone who reads sees the positions; the forms are drawn for, and their callbacks answer, only those who may
govern (``dashboard.policy.CALLBACK_MODULES``). Each callback calls one function of ``etl.review``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components.curve_forms import (
    _area,
    _both_versions,
    _error,
    _field,
    _ok,
    _refused,
    can_govern,
)
from dashboard.components.matrix import position_line
from dashboard.components.safe_text import safe_markdown

CHOICES = [("agreed", "Agreed: the exception stands as raised"),
           ("challenged", "Challenged: we doubt it (say why, and what data would settle it)"),
           ("escalated", "Escalated: a critical message for the business management group")]
DECISION_FIELDS = {"decision": "exception-decision", "reason": "exception-reason",
                   "settle_with": "exception-settle"}


def _engine():
    from dashboard import data

    return data.source().engine()


def review_state(period: str, rows: list[dict] | None = None) -> dict:
    """The decisions of ``period``, its snapshot if closed, and (given the rows now) what was revised since."""
    from dashboard.data import DataUnavailable
    from etl.review import closed_quarter_snapshot, exception_decisions, revisions_since_close

    try:
        engine = _engine()
        decisions = exception_decisions(engine, period)
        snapshot = closed_quarter_snapshot(engine, period)
    except DataUnavailable:
        return {"decisions": {}, "snapshot": None, "revised": None, "available": False}
    revised = revisions_since_close(engine, snapshot, rows) if snapshot else None
    return {"decisions": decisions, "snapshot": snapshot, "revised": revised, "available": True}


def _when(x: Any) -> str:
    if isinstance(x, str):
        try:
            x = dt.datetime.fromisoformat(x)
        except ValueError:
            return x
    return f"{x:%-d %B %Y at %H:%M}" if isinstance(x, dt.datetime) else "–"


def closed_banner(state: dict, labels: dict[str, str], format_value) -> html.Div | None:
    """A closed quarter: who closed it and when, and what has been revised since the board saw it."""
    snap = state.get("snapshot")
    if not snap:
        return None
    parts: list = [html.Strong(f"{snap['period']} is closed. "),
                   f"{snap['closed_by']} closed it on {_when(snap['closed_at'])}: the exceptions and PQA's "
                   "decisions below are the ones the board saw."]
    rev = state.get("revised") or {}
    items = []
    for v in rev.get("values", []):
        label = labels.get(v["indicator_id"], v["indicator_id"])
        items.append(html.Li([html.Strong(label), f": {format_value(v['indicator_id'], v['was'])} when the board "
                              f"saw it, {format_value(v['indicator_id'], v['now'])} now."]))
    for r in rev.get("returns", []):
        items.append(html.Li(f"{r['agency_code']} resubmitted its {r['period']} return (version {r['seen_version']} "
                             f"then, version {r['version']} now)."))
    if items:
        parts += [html.P(html.Strong("Revised since the board saw it:"), className="mt-2 mb-0"),
                  html.Ul(items, className="revised-list", id="revised-since")]
    return dbc.Alert(parts, color="light", className="closed-banner", id="closed-banner")


def decision_box(indicator_id: str, period: str, is_exception: bool) -> html.Section | None:
    """PQA's decision on this exception in this quarter, its history, and the form to record one."""
    state = review_state(period)
    d = state["decisions"].get(indicator_id)
    if not is_exception and d is None:
        return None
    closed = state["snapshot"] is not None
    history = (d or {}).get("history") or []
    body: list = [html.Div(position_line(d, True), id="exception-position")]
    if d is not None:
        body.append(html.P(f"Recorded by {d['decided_by']} on {_when(d['decided_at'])}.", className="small-print"))
    if history:
        body.append(html.Details([html.Summary(f"Earlier decisions ({len(history)})"), html.Ul([
            html.Li(f"{h['decision'].capitalize()} by {h['decided_by']}, {_when(h['decided_at'])}"
                    + (f": {h['reason']}" if h.get("reason") else "")) for h in history])]))
    if closed:
        body.append(html.P(f"{period} is closed: its decisions are kept as the board saw them.",
                           className="small-print"))
    elif can_govern() and state["available"]:
        body.append(html.Details([
            html.Summary("Record PQA's decision"),
            html.Div([
                _field("Decision", dbc.RadioItems(id="exception-decision", options=[
                    {"label": label, "value": v} for v, label in CHOICES], value=(d or {}).get("decision")),
                    "exception-decision"),
                _field("Reason", _area("exception-reason", None, 2), "exception-reason",
                       "Required to challenge or escalate. For an escalation, the message itself."),
                _field("What data would settle it", _area("exception-settle", None, 2), "exception-settle",
                       "Required to challenge."),
                dcc.Store(id="exception-context", data={"indicator": indicator_id, "period": period,
                                                       "expected": (d or {}).get("id")}),
                dbc.Button("Save the decision", id="exception-save", color="primary"),
                html.Div(id="exception-feedback", className="mt-2", role="status"),
            ], className="curve-form"),
        ], className="curve-form-box", open=d is None))
    return html.Section([html.H2("PQA's decision", className="h4"), *body], className="decision-box",
                        id="exception-review")


@callback(
    Output("exception-feedback", "children"),
    Output("exception-position", "children"),
    Output("exception-context", "data"),
    *[o for fid in DECISION_FIELDS.values() for o in (Output(fid, "className"), Output(f"{fid}-error", "children"))],
    Input("exception-save", "n_clicks"),
    State("exception-decision", "value"),
    State("exception-reason", "value"),
    State("exception-settle", "value"),
    State("exception-context", "data"),
    prevent_initial_call=True,
)
def save_decision(clicks, decision, reason, settle, context):
    from etl.errors import OBAError
    from etl.governance import Conflict, InvalidField
    from etl.review import decide_exception, exception_decisions

    def marks(bad=None, message=""):
        out = []
        for name in DECISION_FIELDS:
            out += ["is-invalid" if name == bad else "", message if name == bad else ""]
        return out

    if not clicks or not isinstance(context, dict):
        return no_update, no_update, no_update, *([no_update] * 6)
    if not can_govern():
        return _refused(), no_update, no_update, *marks()
    from dashboard import data

    ind, period = str(context.get("indicator")), str(context.get("period"))
    try:
        row = decide_exception(_engine(), data.source().library(), ind, period, decision or "", reason, settle,
                               expected=context.get("expected"))
    except Conflict as exc:
        theirs = exc.theirs or {}
        current = exception_decisions(_engine(), period).get(ind)
        return (html.Div([_error(str(exc)), _both_versions(
                    [position_line(theirs, True)],
                    [html.P(f"{(decision or '').capitalize()}: {reason or ''} {settle or ''}")])]),
                position_line(current, True), {**context, "expected": theirs.get("id")}, *marks())
    except InvalidField as exc:
        field = exc.field if exc.field in DECISION_FIELDS else "decision"
        return _error("Not saved: see the field marked below."), no_update, no_update, *marks(field, str(exc))
    except OBAError as exc:  # the quarter was closed meanwhile
        return _error(str(exc)), no_update, no_update, *marks()
    current = exception_decisions(_engine(), period).get(ind)
    return (_ok(f"Saved: {row.decision} by {row.decided_by}."), position_line(current, True),
            {**context, "expected": row.id}, *marks())


def close_form(period: str, undecided: list[str]) -> html.Div | None:
    if not can_govern():
        return None
    return html.Div([
        html.P(f"Closing keeps the dataset, the exceptions and PQA's decisions for {period} as the board saw them; "
               "a later resubmission then shows as revised instead of changing what was reported.",
               className="small-print"),
        html.P(f"{len(undecided)} exception{'s' * (len(undecided) != 1)} still need{'s' * (len(undecided) == 1)} "
               "a decision before the quarter can close.", className="fw-semibold") if undecided else None,
        dcc.Store(id="close-context", data={"period": period}),
        dbc.Button(f"Close {period}", id="close-quarter", color="primary", disabled=bool(undecided)),
        html.Div(id="close-feedback", className="mt-2", role="status"),
    ], className="close-form")


@callback(
    Output("close-feedback", "children"),
    Output("close-quarter", "disabled"),
    Input("close-quarter", "n_clicks"),
    State("close-context", "data"),
    prevent_initial_call=True,
)
def close_the_quarter(clicks, context):
    from dashboard import data
    from etl.errors import OBAError
    from etl.review import close_quarter

    if not clicks or not isinstance(context, dict):
        return no_update, no_update
    if not can_govern():
        return _refused(), no_update
    src = data.source()
    try:
        snap = close_quarter(src.engine(), src.board(), src.library(), str(context.get("period")))
    except OBAError as exc:
        return _error(str(exc)), False
    return _ok(f"Closed {snap['period']}: {len(snap['rows'])} indicators, {len(snap['decisions'])} decisions kept "
               "as the board saw them."), True


def decision_text(d: dict | None) -> Any:
    if d is None:
        return "Not yet reviewed"
    out: list = [html.Strong(d["decision"].capitalize()), f" by {d['decided_by']}, {_when(d['decided_at'])}"]
    if d.get("reason"):
        out += [": ", safe_markdown(d["reason"], className="typed-text d-inline")]
    if d.get("settle_with"):
        out += [html.Div(f"Would settle it: {d['settle_with']}", className="small-print")]
    return out
