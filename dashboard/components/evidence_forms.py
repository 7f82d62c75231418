"""Evidence beside the data (priority page) and the information-sources table (returns page). Everyone who
reads sees them; the form that records a finding is for those who may govern
(``dashboard.policy.CALLBACK_MODULES``) and calls ``etl.evidence``."""

from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components.curve_forms import (
    _area,
    _error,
    _field,
    _ok,
    _refused,
    _select,
    _text_input,
    can_govern,
)
from dashboard.components.safe_text import safe_markdown

FIELDS = {"kind": "ev-kind", "title": "ev-title", "finding": "ev-finding", "found_on": "ev-date",
          "source": "ev-source", "indicators": "ev-indicators"}


def _src():
    from dashboard import data

    return data.source()


def _day(x) -> str:
    return f"{x:%-d %B %Y}" if isinstance(x, dt.date) else "–"


def evidence_list(items: list[dict], labels: dict[str, str]) -> html.Div:
    if not items:
        return html.P("No findings from audits, self-assessments, reviews, inspections or children's feedback have "
                      "been recorded for this priority.", className="empty-state-text")
    return html.Ul([html.Li([
        html.Div([html.Span(i["kind_label"], className="flag flag-evidence"), html.Strong(i["title"]),
                  f" — {_day(i['found_on'])}" + (f", {i['source']}" if i.get("source") else "")]),
        safe_markdown(i["finding"]),
        html.Div(["Explains: ", *[x for ind in i["indicators"] for x in
                                  (dcc.Link(labels.get(ind, ind), href=f"/indicator/{ind}"), ", ")][:-1]],
                 className="small-print") if i["indicators"] else None,
    ], className="evidence-item") for i in items], className="evidence-list", id="evidence-list")


def evidence_section(priority_id: str, priority_name: str) -> html.Section | None:
    from dashboard.data import DataUnavailable
    from etl.evidence import KINDS, evidence_items

    try:
        src = _src()
        items = evidence_items(src.engine(), priority=priority_id)
        library = src.library()
    except DataUnavailable:
        return None
    labels = {k: i.label for k, i in library.indicators.items()}
    form = None
    if can_govern():
        form = html.Details([
            html.Summary("Record a finding"),
            html.Div([
                dbc.Row([
                    dbc.Col(_field("Kind", _select("ev-kind", list(KINDS.items()), "multi_agency_audit"), "ev-kind"),
                            md=6),
                    dbc.Col(_field("Date of the finding", dbc.Input(id="ev-date", type="date"), "ev-date"), md=6),
                ]),
                _field("Title", _text_input("ev-title", limit=200), "ev-title"),
                _field("What was found", _area("ev-finding", None, 3), "ev-finding"),
                _field("Who carried it out", _text_input("ev-source", limit=200), "ev-source"),
                _field("Indicators it explains", dbc.Checklist(id="ev-indicators", value=[], options=[
                    {"label": labels[i.id], "value": i.id} for i in library.for_priority(priority_id)]),
                    "ev-indicators"),
                dcc.Store(id="ev-context", data={"priority": priority_id}),
                dbc.Button("Save the finding", id="ev-save", color="primary"),
                html.Div(id="ev-feedback", className="mt-2", role="status"),
            ], className="curve-form"),
        ], className="curve-form-box")
    return html.Section([
        html.H2(f"Evidence beside the data: what else the board knows about {priority_name}",
                className="evidence-title"),
        html.Div(evidence_list(items, labels), id="evidence-view"),
        form,
    ], className="question-section evidence-section", id="evidence")


@callback(
    Output("ev-feedback", "children"),
    Output("evidence-view", "children"),
    *[o for fid in FIELDS.values() for o in (Output(fid, "className"), Output(f"{fid}-error", "children"))],
    Input("ev-save", "n_clicks"),
    *[State(fid, "value") for fid in FIELDS.values()],
    State("ev-context", "data"),
    prevent_initial_call=True,
)
def save_evidence(clicks, *values):
    from etl.errors import OBAError
    from etl.evidence import add_evidence, evidence_items
    from etl.governance import InvalidField

    *vals, context = values

    def marks(bad=None, message=""):
        out = []
        for name in FIELDS:
            out += ["is-invalid" if name == bad else "", message if name == bad else ""]
        return out

    if not clicks or not isinstance(context, dict):
        return [no_update] * (2 + 2 * len(FIELDS))
    if not can_govern():
        return [_refused(), no_update, *marks()]
    src = _src()
    given = dict(zip(FIELDS, vals, strict=True))
    pid = str(context.get("priority"))
    try:
        row = add_evidence(src.engine(), src.board(), src.library(), priorities=[pid],
                           **{k: (v if v != "" else None) for k, v in given.items()})
    except InvalidField as exc:
        field = exc.field if exc.field in FIELDS else None
        return [_error("Not saved: " + ("see the field marked below." if field else str(exc))), no_update,
                *marks(field, str(exc))]
    except OBAError as exc:
        return [_error(str(exc)), no_update, *marks()]
    labels = {k: i.label for k, i in src.library().indicators.items()}
    return [_ok(f"Recorded finding {row.id}."), evidence_list(evidence_items(src.engine(), priority=pid), labels),
            *marks()]


def sources_table(board) -> html.Section | None:
    """The information-sources table: source, provider, frequency, last received, next due."""
    from dashboard.data import DataUnavailable
    from etl.evidence import information_sources

    try:
        rows = information_sources(_src().engine(), board)
    except DataUnavailable:
        return None
    return html.Section([
        html.H2("Information sources", className="h4 mt-4"),
        html.P("How the board knows what it knows: every source it receives, from whom, how often, when it last "
               "came and when it is next due. Overdue ones are marked.", className="hint"),
        html.Div(html.Table([
            html.Caption(f"{len(rows)} information sources"),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in ("Source", "Provider", "Frequency", "Last received",
                                                                  "Next due")])),
            html.Tbody([html.Tr([html.Td(r["source"]), html.Td(r["provider"]), html.Td(r["frequency"]),
                                 html.Td(_day(r["last_received"])),
                                 html.Td([_day(r["next_due"]), html.Span(" Overdue", className="badge bg-danger ms-1")
                                          if r["overdue"] else None])],
                                className="source-overdue" if r["overdue"] else "") for r in rows]),
        ], className="table table-sm", id="sources-table"), className="table-responsive"),
    ], className="information-sources")
