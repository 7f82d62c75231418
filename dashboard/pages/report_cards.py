"""Report cards: each sub-group's card per meeting, listed by group and date; one card with its data section
filled from the dataset and its critical messages; Word and PDF downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components.card_forms import card_form, message_from_card_form
from dashboard.components.layout import page_header, problem, query
from dashboard.components.safe_text import safe_markdown

dash.register_page(__name__, path="/report-cards", name="Report cards", title="Report cards – OBA dashboard",
                   order=3.7, nav=True, nav_label="Report cards",
                   description="Each sub-group's report card per meeting")


def _card_view(engine, board, library, card: dict) -> html.Div:
    from etl.report_cards import HEADINGS, card_content

    content = card_content(engine, board, library, card)
    data = content["data"]

    def section(key, *body):
        title, prompt = HEADINGS[key]
        return html.Section([html.H3(title, className="h5 mt-3"),
                             html.P(prompt, className="small-print fst-italic") if prompt else None, *body])

    indicators = html.Ul([html.Li([html.Strong(i["label"]), f": {i['value']} ({i['since_last_quarter']} since last "
                                   f"quarter, {i['over_a_year']} over a year" + (f", RAG {i['rag']}" if i["rag"] else "")
                                   + ")",
                                   html.Ul([html.Li(f"Exception: {s}") for s in i["exception"]]) if i["exception"]
                                   else None]) for i in data["indicators"]]
                         + [html.Li(f"{r['agency']}'s {r['period']} return is {r['status']}.") for r in data["returns"]],
                         id="card-data") if data["period"] else html.P("No quarter's data ended before this meeting.")
    return html.Div([
        html.H2(f"{content['group']}: {content['meeting']}", className="h4", id="card-title"),
        html.P(f"Written by {card['created_by']}" + (f", last changed by {card['updated_by']}" if card["updated_by"]
                                                      else "") + f" (version {card['version']}).",
               className="small-print"),
        html.Div([
            dbc.Button("Download (Word)", id="card-download-docx", color="secondary", outline=True, className="me-2"),
            dbc.Button("Download (PDF)", id="card-download-pdf", color="secondary", outline=True),
            dcc.Download(id="card-download"),
            dcc.Store(id="card-shown", data={"group": card["group"], "meeting": card["meeting_on"].isoformat()}),
        ], className="mb-2"),
        section("activity", safe_markdown(card.get("activity"))),
        section("data", safe_markdown(card.get("data_story")),
                html.P(f"From the dataset for {data['period']} ({', '.join(data['priorities'])}):") if data["period"]
                else None, indicators,
                html.P(["Challenges in getting accurate data in time: ", card["data_challenges"]])
                if card.get("data_challenges") else None),
        section("messages", html.Ul([html.Li(m["message"]) for m in content["messages"]], id="card-messages")
                if content["messages"] else html.P("None raised.")),
        *[html.Section([html.H3(f"Sub-group activity related to the board priority {name}", className="h5 mt-3"),
                        safe_markdown(text)]) for name, text in content["priorities"]],
        section("difference", safe_markdown(card.get("difference")),
                html.P(["How we know: ", card["how_we_know"]]) if card.get("how_we_know") else None),
        message_from_card_form(card["id"]),
    ], className="report-card", id="report-card")


def layout(group: str | None = None, card: str | None = None, **_ignored) -> object:
    from dashboard import data
    from dashboard.data import DataUnavailable
    from etl.report_cards import report_cards

    try:
        src = data.source()
        engine, board, library = src.engine(), src.board(), src.library()
        cards = report_cards(engine)
    except DataUnavailable as exc:
        return problem(exc.title, exc.message, exc.details)
    groups = {g.id: g.name for g in board.subgroups}
    shown = [c for c in cards if not group or c["group"] == group]
    chosen = next((c for c in cards if str(c["id"]) == str(card)), None)
    rows = [html.Tr([html.Td(dcc.Link(f"{c['meeting_on']:%-d %B %Y}", href=f"/report-cards{query(card=c['id'])}")),
                     html.Td(groups.get(c["group"], c["group"])),
                     html.Td(c["created_by"]), html.Td(str(c["version"]))]) for c in shown]
    listing = html.Div(html.Table([
        html.Caption(f"{len(shown)} report card{'s' * (len(shown) != 1)}, newest meeting first"),
        html.Thead(html.Tr([html.Th(h, scope="col") for h in ("Meeting", "Sub-group", "Written by", "Version")])),
        html.Tbody(rows)], className="table table-sm", id="card-list"), className="table-responsive") \
        if shown else html.P("No report cards have been written yet.", className="empty-state-text")
    filters = html.Nav(html.Ul([html.Li(dcc.Link("All sub-groups", href="/report-cards"))] + [
        html.Li(dcc.Link(name, href=f"/report-cards{query(group=gid)}")) for gid, name in groups.items()],
        className="jump-list"), className="jump-nav", **{"aria-label": "Sub-groups"})
    return html.Div([
        page_header("Report cards", "What each sub-group reports to each meeting: its activity, the data and the "
                    "story it tells, critical messages, activity for each board priority, and the difference made."),
        filters,
        listing,
        _card_view(engine, board, library, chosen) if chosen else None,
        card_form(cards, board),
    ], className="report-cards-page")


@callback(
    Output("card-download", "data"),
    Input("card-download-docx", "n_clicks"),
    Input("card-download-pdf", "n_clicks"),
    State("card-shown", "data"),
    prevent_initial_call=True,
)
def download(docx_clicks, pdf_clicks, shown):
    """The card as `oba export report-card` writes it."""
    from dashboard import data
    from etl.report_cards import export_card

    if not (docx_clicks or pdf_clicks) or not isinstance(shown, dict):
        return no_update
    fmt = "pdf" if dash.ctx.triggered_id == "card-download-pdf" else "docx"
    src = data.source()
    with tempfile.TemporaryDirectory(prefix="oba-export-") as tmp:
        path = Path(tmp) / f"report-card-{shown['group']}-{shown['meeting']}.{fmt}"
        export_card(src.engine(), src.board(), src.library(), shown["group"], shown["meeting"], path, fmt)
        return dcc.send_bytes(path.read_bytes(), path.name)
