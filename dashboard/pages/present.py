"""Projector slides (``/present?period=P[&priority=ID][&theme=dark]``): a title slide, the summary matrix, one
slide per exception (chart and reasons, then what is being done), the positive exceptions and the critical
messages for the board.

The slides are drawn on the server from ``board_paper`` (what the board view and the pack show); moving between
them is done in the browser by ``assets/present.js`` (→ ← PageDown PageUp Space Home End, F for full screen,
Esc to leave), so there is no round trip per slide. Text is at least 24 px at 1024×768 and every slide fits the
screen with no scrolling: text that would not fit continues on a further slide, said in its title.
"""

from __future__ import annotations

import base64
import logging

import dash
from dash import dcc, html

from dashboard.components.layout import query
from dashboard.components.state import with_view
from dashboard.data import View
from dashboard.exports.content import BoardPaper, board_paper, message_line
from dashboard.exports.pack import action_line

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/present", name="Slides", nav_label="Slides", title="Slides – OBA dashboard",
                   order=3.5, nav=True, description="The quarter's exceptions as projector slides")

MATRIX_ROWS = 6
#: characters of text that fit beside a chart / on a text-only slide at 24 px on 1024×768
BESIDE_CHART = 430
FULL_SLIDE = 900


def layout(period: str | None = None, priority: str | None = None, theme: str | None = None, **_ignored):
    return with_view(lambda v: build(v, period, priority, theme))


def _chunks(items: list[str], budget: int) -> list[list[str]]:
    """Items packed into slides of at most ``budget`` characters (an item longer than that goes alone)."""
    out: list[list[str]] = [[]]
    used = 0
    for it in items:
        if out[-1] and used + len(it) > budget:
            out.append([])
            used = 0
        out[-1].append(it)
        used += len(it) + 40  # a list item's own line end and spacing
    return out if out[0] else []


def _chart_img(v: View, indicator_id: str, period) -> html.Img | None:
    """The exception's control chart as an SVG picture (rendered on this computer), or None if it cannot be."""
    from dashboard.exports.charts import chart_figure, render
    from dashboard.exports.common import ExportError

    def make():
        try:
            fig = chart_figure(v, v.library.indicators[indicator_id], period, "spc")
            fig["layout"].update({"width": 640, "height": 480})
            fig["layout"]["title"]["font"] = {"size": 17}
            fig["layout"]["margin"].update({"t": 110})
            fig["layout"]["annotations"][-1]["font"] = {"size": 12, "color": "#333"}
            return "data:image/svg+xml;base64," + base64.b64encode(render(fig, "svg")).decode()
        except ExportError:
            log.info("no chart for %s on the slides", indicator_id, exc_info=True)
            return None
    uri = v.memo(("slide-chart", indicator_id, period.index), make)
    if uri is None:
        return None
    label = v.library.indicators[indicator_id].label
    return html.Img(src=uri, alt=f"Control chart of {label}: the values are in the data table on its indicator "
                                 "page", className="slide-chart")


def _slide(title: str, body, kind: str = "") -> html.Section:
    return html.Section([html.H2(title, className="slide-title"), html.Div(body, className="slide-body")],
                        className=f"slide {kind}".strip(), tabIndex="-1", **{"aria-roledescription": "slide"})


def _matrix_slides(paper: BoardPaper) -> list[html.Section]:
    rows = paper.summary
    chunks = [rows[i:i + MATRIX_ROWS] for i in range(0, len(rows), MATRIX_ROWS)]
    out = []
    for n, chunk in enumerate(chunks, 1):
        head = html.Thead(html.Tr([html.Th(h, scope="col") for h in
                                   ("Indicator", "Value", "Against target", "Variation", "Since last quarter")]))
        body = html.Tbody([html.Tr([
            html.Th(r.label, scope="row", className="slide-exc" if r.is_exception else "slide-plain"),
            html.Td(r.value_text), html.Td(r.rag_text, className=f"rag-cell rag-{r.rag or 'none'}"),
            html.Td(r.variation_short), html.Td(r.travel_text)]) for r in chunk])
        title = "Summary matrix" + (f" ({n} of {len(chunks)})" if len(chunks) > 1 else "") + \
            ": exceptions first, in bold"
        out.append(_slide(title, html.Table([head, body], className="slide-matrix"), "slide-table"))
    return out


def build(v: View, period_text: str | None, priority: str | None, theme: str | None) -> html.Div:
    period, note = v.resolve_period(period_text)
    keep = str(period) if period != v.current else None
    pid = priority if priority in {p.id for p in v.board.priorities} else None
    paper = board_paper(v, period, pid)
    slides: list[html.Section] = []
    scope = next((p.name for p in v.board.priorities if p.id == pid), None)
    slides.append(_slide(f"{v.board.name}", [
        html.P(f"Performance report to the board: {period}" + (f", {scope}" if scope else ""), className="slide-lead"),
        html.P(f"{len(paper.exceptions)} exception(s) · {len(paper.positives)} positive exception(s)"
               + (f" · {len(paper.critical)} critical message(s)" if paper.critical else "")),
        html.P(paper.produced + ". OFFICIAL-SENSITIVE.", className="slide-small"),
        html.P("→ or Space: next · ←: back · Home/End: first/last · F: full screen · Esc: leave",
               className="slide-small"),
    ], "slide-cover"))
    slides += _matrix_slides(paper)
    for sec in paper.sections:
        for item in sec.exceptions:
            r = item.row
            heading = f"{r.label}: {r.value_text}"
            facts = html.P(f"{sec.name} · serves {', '.join(r.priorities)} · against target: {r.rag_text} · "
                           f"since last quarter: {r.travel_text}", className="slide-facts")
            parts = _chunks(r.reasons, BESIDE_CHART)
            first = parts[0] if parts else []
            chart = _chart_img(v, r.indicator_id, period)
            slides.append(_slide(heading, [facts, html.Div([
                html.Div(chart, className="slide-chart-box") if chart is not None else None,
                html.Div([html.H3("Why it is an exception"), html.Ul([html.Li(x) for x in first])],
                         className="slide-words"),
            ], className="slide-split")], "slide-exception"))
            for n, more in enumerate(parts[1:], 2):
                slides.append(_slide(f"{r.label}: why it is an exception ({n} of {len(parts)})",
                                     html.Ul([html.Li(x) for x in more])))
            story = (item.story or {}).get("story") or "No story behind the baseline has been recorded yet."
            done = [story] + ([action_line(a) for a in item.actions] or ["No action plan has been recorded yet."])
            chunks = _chunks(done, FULL_SLIDE)
            for n, chunk in enumerate(chunks, 1):
                suffix = f" ({n} of {len(chunks)})" if len(chunks) > 1 else ""
                slides.append(_slide(f"{r.label}: what is being done{suffix}",
                                     html.Ul([html.Li(x) for x in chunk], className="slide-done")))
    pos = [f"{r.label}: {' '.join(r.good_news)}" for r in paper.positives] or ["No positive exceptions this quarter."]
    chunks = _chunks(pos, FULL_SLIDE)
    for n, chunk in enumerate(chunks, 1):
        slides.append(_slide("To commend" + (f" ({n} of {len(chunks)})" if len(chunks) > 1 else ""),
                             html.Ul([html.Li(x) for x in chunk])))
    if paper.critical:
        msgs = [message_line(m) for m in paper.critical]
        chunks = _chunks(msgs, FULL_SLIDE)
        for n, chunk in enumerate(chunks, 1):
            slides.append(_slide("Critical messages for the board" + (f" ({n} of {len(chunks)})" if len(chunks) > 1
                                                                     else ""), html.Ul([html.Li(x) for x in chunk])))
    dark = theme == "dark"
    other = query(period=keep, priority=pid, theme=None if dark else "dark")
    leave = f"/board{query(period=keep)}"
    return html.Div([
        html.H1(f"Slides: {period}", className="visually-hidden"),
        html.Div(note, className="visually-hidden") if note else None,
        html.Div([
            html.Div(slides, className="slides"),
            html.Nav([
                html.A("← Back", href="#", id="present-prev", className="present-btn", role="button"),
                html.Span("", id="present-counter", className="present-counter", **{"aria-live": "polite"}),
                html.A("Next →", href="#", id="present-next", className="present-btn", role="button"),
                html.A("Full screen (F)", href="#", id="present-full", className="present-btn", role="button"),
                dcc.Link("Light" if dark else "Dark", href=f"/present{other}", className="present-btn",
                         refresh=True),
                html.A("Leave (Esc)", href=leave, id="present-leave", className="present-btn"),
            ], className="present-bar", **{"aria-label": "Slides"}),
        ], id="present-deck", className=f"present-deck theme-{'dark' if dark else 'light'}",
            **{"data-leave": leave, "aria-roledescription": "slide deck"}),
    ])
