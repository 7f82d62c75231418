"""The board pack: cover, contents, the summary matrix, per priority its exceptions (chart, reasons, story,
actions), the positive exceptions, the critical messages for the board, and an annex on the data's quality and
timeliness and the methods.

PowerPoint (python-pptx): every word is native, editable text and every chart a native PowerPoint chart, so
analysts can restyle it; the organisation's own template is used when the board file names one
(``outputs: pack_template:``). PDF: the same pack as HTML printed by WeasyPrint, with vector (SVG) charts
rendered on this computer (``dashboard.exports.charts``, one kept browser for all of them).
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path

from dashboard.data import View
from dashboard.exports.common import ExportError, board_file, sources_line, write_error
from dashboard.exports.content import BoardPaper, BoardRow, ExceptionItem, board_paper, message_line
from dashboard.exports.data import MODE_WORDS
from etl.safe_cells import atomic_path
from indicators.periods import Quarter
from indicators.suppression import CONFIDENTIAL, SYMBOLS

FORMATS = ("pptx", "pdf")
ACTION_STATUS = {"open": "Open", "in_progress": "In progress", "done": "Done", "dropped": "Dropped"}
RAG_RGB = {"red": (0xB3, 0x26, 0x1E), "amber": (0xB3, 0x6B, 0x00), "green": (0x1E, 0x6B, 0x2E), "": (0x55, 0x55, 0x55)}
MATRIX_ROWS_PER_SLIDE = 10
METHODS = [
    "Exceptions: an indicator is raised for the board when it misses its target (red, or amber within the "
    "tolerance), its control chart shows special-cause concern, the process limits say it will consistently miss "
    "the target, or it is significantly worse than its statistical neighbours or England; positive exceptions are "
    "special-cause improvement, better than the neighbours, or a curve that has turned.",
    "SPC: NHS Making Data Count XmR charts (Laney's p′/u′ when denominators vary); fewer than 13 points are trial "
    "limits and their signals provisional.",
    "Comparisons: Wilson and exact Poisson intervals; neighbours' prediction interval; funnel plots allowing for "
    "over-dispersion. Forecasts: the turn-the-curve baseline with 80% and 95% ranges.",
    "Full methods and references: the dashboard's About page and docs/methods-statistics.md.",
]


def _date(value) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value:%-d %b %Y}"
    return str(value or "no date")


def action_line(a: dict) -> str:
    status = ACTION_STATUS.get(str(a.get("status")), str(a.get("status") or "open"))
    return f"{a.get('action') or ''} — {a.get('owner') or 'owner not named'}, due {_date(a.get('due'))} ({status})"


@dataclass
class Series:
    """What an exception's chart plots: the control chart's quarters, values, centre line, limits, target."""

    labels: list[str]
    values: list[float | None]
    mean: list[float | None]
    lower: list[float | None]
    upper: list[float | None]
    target: float | None
    title: str


def exception_series(view: View, item: ExceptionItem, period: Quarter, publication: bool) -> Series:
    from dashboard.exports.content import Published
    from dashboard.formatting import is_number

    pv = view.at_period(period)
    ind = view.library.indicators[item.row.indicator_id]
    hist = pv.history(ind.id)[-12:]
    hidden = set()
    if publication:
        pub = Published(pv)
        hidden = {h["period"] for h in hist if pub.hidden(ind.id, h["period"], "spc_value")
                  or pub.hidden(ind.id, h["period"], "value")}

    def num(x):
        return float(x) if is_number(x) else None

    on_scale = ind.chart_on_headline_scale
    return Series(
        labels=[Quarter.parse(h["period"]).short for h in hist],
        values=[None if h["period"] in hidden else num(h.get("spc_value")) for h in hist],
        mean=[num(h.get("spc_mean")) for h in hist],
        lower=[num(h.get("spc_lpl")) for h in hist],
        upper=[num(h.get("spc_upl")) for h in hist],
        target=item.row.target if on_scale else None,
        title=f"{ind.label}: control chart of {'the value' if on_scale else ind.chart.plots.value.replace('_', ' ')}",
    )


# --- PowerPoint ------------------------------------------------------------------------------------------

class _Deck:
    def __init__(self, template: Path | None):
        from pptx import Presentation
        from pptx.util import Inches

        if template is not None:
            try:
                self.prs = Presentation(str(template))
            except Exception as exc:
                raise ExportError(f"the board pack template {template} cannot be opened as PowerPoint "
                                  f"({type(exc).__name__}). Check outputs: pack_template: in the board file.") from exc
            # keep the template's look (masters and layouts), not its slides
            ids = self.prs.slides._sldIdLst
            for sld in list(ids):
                self.prs.part.drop_rel(sld.rId)
                ids.remove(sld)
        else:
            self.prs = Presentation()
            self.prs.slide_width, self.prs.slide_height = Inches(13.333), Inches(7.5)
        self.W, self.H = self.prs.slide_width, self.prs.slide_height

    def layout(self, *names: str, index: int = 6):
        for n in names:
            for lay in self.prs.slide_layouts:
                if lay.name.lower() == n.lower():
                    return lay
        layouts = self.prs.slide_layouts
        return layouts[min(index, len(layouts) - 1)]

    def slide(self, title: str):
        s = self.prs.slides.add_slide(self.layout("Title Only", index=5))
        if s.shapes.title is not None:
            s.shapes.title.text = title
            self._style_title(s.shapes.title)
        else:
            self.text(s, title, 0.4, 0.25, 12.5, 0.9, size=30, bold=True)
        return s

    def _style_title(self, shape):
        from pptx.util import Emu, Inches, Pt

        shape.left, shape.top, shape.width, shape.height = Inches(0.4), Inches(0.2), Emu(self.W - Inches(0.8)), \
            Inches(0.95)
        for p in shape.text_frame.paragraphs:
            for r in p.runs:
                r.font.size = Pt(30)
                r.font.bold = True

    def text(self, slide, text: str | list, left, top, width, height, size: int = 18, bold: bool = False,
             bullets: bool = False, colour=None):
        from pptx.dml.color import RGBColor
        from pptx.util import Inches, Pt

        size = fitting_size(text if isinstance(text, list) else [text], width, height, size)
        box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
        tf = box.text_frame
        tf.word_wrap = True
        lines = text if isinstance(text, list) else [text]
        for i, line in enumerate(lines):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            run = p.add_run()
            run.text = ("• " if bullets else "") + str(line)
            run.font.size = Pt(size)
            run.font.bold = bold
            if colour is not None:
                run.font.color.rgb = RGBColor(*colour)
            p.space_after = Pt(6)
        return box


def fitting_size(lines: list, width: float, height: float, size: int, smallest: int = 10) -> int:
    """The largest font size (points, from ``size`` down to ``smallest``) at which the lines fit the box
    (inches), estimating an average character at half the font size wide and a line at 1.2 times it high."""
    import math

    for pt in range(size, smallest - 1, -1):
        per_line = max(1, int(width * 72 / (pt * 0.5)))
        rows = sum(max(1, math.ceil(len(str(t)) / per_line)) for t in lines)
        need = rows * pt * 1.2 / 72 + len(lines) * 6 / 72 + 0.1
        if need <= height:
            return pt
    return smallest


def _footer(deck: _Deck, slide, paper: BoardPaper) -> None:
    mode = "For publication" if paper.publication else "OFFICIAL-SENSITIVE: internal"
    deck.text(slide, f"{paper.area} · {paper.period} · {mode} · {paper.produced}", 0.4, 7.0, 12.5, 0.4, size=11,
              colour=(0x44, 0x44, 0x44))


def _matrix_slides(deck: _Deck, paper: BoardPaper, rows: list[BoardRow], title: str) -> int:
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    heads = ["Indicator", "Value", "RAG", "Variation", "Assurance", "Since last quarter", "Priorities"]
    widths = [3.0, 1.4, 1.0, 2.4, 2.2, 1.5, 1.0]
    chunks = [rows[i:i + MATRIX_ROWS_PER_SLIDE] for i in range(0, len(rows), MATRIX_ROWS_PER_SLIDE)] or [[]]
    for n, chunk in enumerate(chunks, 1):
        s = deck.slide(f"{title}" + (f" ({n} of {len(chunks)})" if len(chunks) > 1 else ""))
        shape = s.shapes.add_table(len(chunk) + 1, len(heads), Inches(0.4), Inches(1.2), Inches(12.5),
                                   Inches(0.5 * (len(chunk) + 1)))
        table = shape.table
        for c, (h, w) in enumerate(zip(heads, widths, strict=True)):
            table.columns[c].width = Inches(w * 12.5 / sum(widths))
            table.cell(0, c).text = h
        for r, row in enumerate(chunk, 1):
            vals = [row.label + (" (exception)" if row.is_exception else ""), row.value_text, row.rag_text,
                    row.variation_text, row.assurance_text.split(" (")[0], row.travel_text,
                    str(len(row.priorities))]
            for c, v in enumerate(vals):
                table.cell(r, c).text = v
            cell = table.cell(r, 2)
            cell.fill.solid()
            cell.fill.fore_color.rgb = RGBColor(*RAG_RGB.get(row.rag, RAG_RGB[""]))
            for p in cell.text_frame.paragraphs:
                for run in p.runs:
                    run.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
                    run.font.bold = True
        for r in range(len(chunk) + 1):
            for c in range(len(heads)):
                for p in table.cell(r, c).text_frame.paragraphs:
                    for run in p.runs:
                        run.font.size = Pt(13 if r else 14)
        _footer(deck, s, paper)
    return len(chunks)


def _chart(deck: _Deck, slide, series: Series, left, top, width, height) -> None:
    from pptx.chart.data import CategoryChartData
    from pptx.dml.color import RGBColor
    from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
    from pptx.util import Inches, Pt

    data = CategoryChartData()
    data.categories = series.labels
    data.add_series("Value", series.values)
    if any(v is not None for v in series.mean):
        data.add_series("Average", series.mean)
    if any(v is not None for v in series.upper):
        data.add_series("Upper process limit", series.upper)
        data.add_series("Lower process limit", series.lower)
    if series.target is not None:
        data.add_series("Target", [series.target] * len(series.labels))
    frame = slide.shapes.add_chart(XL_CHART_TYPE.LINE_MARKERS, Inches(left), Inches(top), Inches(width),
                                   Inches(height), data)
    chart = frame.chart
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.BOTTOM
    chart.legend.include_in_layout = False
    chart.legend.font.size = Pt(12)
    chart.has_title = True
    chart.chart_title.text_frame.text = series.title
    chart.chart_title.text_frame.paragraphs[0].runs[0].font.size = Pt(14)
    chart.category_axis.tick_labels.font.size = Pt(11)
    chart.value_axis.tick_labels.font.size = Pt(11)
    styles = {"Value": ("0072B2", 2.75, None), "Average": ("333333", 1.5, None),
              "Upper process limit": ("666666", 1.25, "dash"), "Lower process limit": ("666666", 1.25, "dash"),
              "Target": ("007A5A", 2.0, "dash")}
    from pptx.enum.chart import XL_MARKER_STYLE
    from pptx.enum.dml import MSO_LINE_DASH_STYLE

    for plot in chart.plots:
        for s in plot.series:
            colour, weight, dash = styles.get(s.name, ("000000", 1.5, None))
            s.format.line.color.rgb = RGBColor.from_string(colour)
            s.format.line.width = Pt(weight)
            s.smooth = False
            if dash:
                s.format.line.dash_style = MSO_LINE_DASH_STYLE.DASH
            if s.name != "Value":
                s.marker.style = XL_MARKER_STYLE.NONE
            else:
                s.marker.style = XL_MARKER_STYLE.CIRCLE
                s.marker.size = 7


def pptx_pack(view: View, paper: BoardPaper, template: Path | None = None):
    deck = _Deck(template)
    # cover
    cover = deck.prs.slides.add_slide(deck.layout("Title Slide", index=0))
    title = f"{view.board.name}: performance report for the board"
    sub = f"{paper.period} · {paper.produced} · " + ("For publication" if paper.publication else
                                                     "OFFICIAL-SENSITIVE: internal, shows every figure")
    if cover.shapes.title is not None:
        cover.shapes.title.text = title
        others = [p for p in cover.placeholders if p.placeholder_format.idx != 0]
        if others:
            others[0].text = sub
        else:
            deck.text(cover, sub, 0.8, 4.6, 11.5, 1.0, size=20)
    else:
        deck.text(cover, title, 0.8, 2.5, 11.5, 1.5, size=36, bold=True)
        deck.text(cover, sub, 0.8, 4.2, 11.5, 1.0, size=20)
    # contents: filled in once the slide numbers are known
    contents = deck.slide("Contents")
    entries: list[tuple[str, int]] = []

    def here() -> int:
        return len(deck.prs.slides._sldIdLst) + 1

    entries.append(("The summary matrix", here()))
    _matrix_slides(deck, paper, paper.summary, "Summary matrix: every indicator, exceptions first")
    for sec in paper.sections:
        entries.append((f"{sec.name}: {len(sec.exceptions)} exception(s)", here()))
        head = deck.slide(sec.name)
        lines = ([f"{e.row.label}: {e.row.value_text}, RAG {e.row.rag_text}" for e in sec.exceptions]
                 or [f"No exceptions: none of its {sec.indicators} indicators needs the board's attention."])
        lines += [f"Also an exception here: {label} (shown under {under})" for label, under in sec.also]
        deck.text(head, lines, 0.6, 1.4, 12, 5.2, size=22, bullets=True)
        _footer(deck, head, paper)
        for e in sec.exceptions:
            s = deck.slide(f"{e.row.label} — {e.row.value_text}")
            deck.text(s, f"Serves: {', '.join(e.row.priorities)} · RAG {e.row.rag_text} · since last quarter "
                         f"{e.row.travel_text}", 0.4, 1.05, 12.5, 0.4, size=14, colour=(0x33, 0x33, 0x33))
            _chart(deck, s, exception_series(view, e, paper.period, paper.publication), 0.4, 1.5, 6.4, 5.4)
            story = (e.story or {}).get("story") or "No story behind the baseline has been recorded yet."
            acts = [action_line(a) for a in e.actions] or ["No action plan has been recorded yet."]
            deck.text(s, ["Why it is an exception"], 7.0, 1.5, 5.9, 0.4, size=16, bold=True)
            deck.text(s, e.row.reasons, 7.0, 1.9, 5.9, 2.2, size=14, bullets=True)
            deck.text(s, ["What is being done"], 7.0, 4.1, 5.9, 0.4, size=16, bold=True)
            deck.text(s, [story] + acts, 7.0, 4.5, 5.9, 2.4, size=13, bullets=True)
            _footer(deck, s, paper)
    entries.append(("Positive exceptions to commend", here()))
    s = deck.slide("To commend: positive exceptions")
    deck.text(s, [f"{r.label}: {' '.join(r.good_news)}" for r in paper.positives]
              or ["No positive exceptions this quarter."], 0.6, 1.3, 12, 5.5, size=18, bullets=True)
    _footer(deck, s, paper)
    if paper.critical:
        entries.append(("Critical messages for the board", here()))
        s = deck.slide("Critical messages for the board")
        deck.text(s, [message_line(m) for m in paper.critical],
                  0.6, 1.3, 12, 5.5, size=18, bullets=True)
        _footer(deck, s, paper)
    entries.append(("Annex: data quality and timeliness", here()))
    s = deck.slide("Annex: data quality and timeliness")
    deck.text(s, paper.data_quality + _returns_lines(view, paper.period), 0.6, 1.3, 12, 5.5, size=16,
              bullets=True)
    _footer(deck, s, paper)
    entries.append(("Annex: methods", here()))
    s = deck.slide("Annex: methods")
    methods = list(METHODS)
    if paper.publication:
        methods.append(MODE_WORDS[True] + " " + "; ".join(f"{k}: {v}" for k, v in SYMBOLS.items()) + ".")
    deck.text(s, methods + [sources_line(view)], 0.6, 1.3, 12, 5.5, size=15, bullets=True)
    _footer(deck, s, paper)
    deck.text(contents, [f"{name} — slide {n}" for name, n in entries], 0.6, 1.3, 12, 5.5, size=20,
              bullets=True)
    return deck.prs


def _returns_lines(view: View, period: Quarter) -> list[str]:
    """Each agency's return for the quarter: received, late, revised, missing or not yet due, with dates."""
    try:
        st = view.returns()
    except Exception:
        return []
    if st is None or not len(st):
        return []
    q = st[st["period"] == str(period)]
    words = {"received": "received on time", "late": "received late", "revised": "received, then revised",
             "missing": "missing (overdue)", "not_yet_due": "not yet due"}
    out = []
    for r in q.to_dict("records"):
        when = f" on {_date(r.get('received_on'))}" if r.get("received_on") is not None and \
            str(r.get("received_on")) not in ("NaT", "None", "nan") else ""
        out.append(f"{r['agency_name']}: {words.get(r['status'], r['status'])}{when}; due {_date(r.get('due_date'))}")
    return out


# --- PDF ---------------------------------------------------------------------------------------------------

PDF_CSS = """
@page { size: A4 landscape; margin: 14mm 14mm 16mm 14mm;
  @bottom-left { content: var(--foot); font-size: 8pt; color: #444; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8pt; color: #444; } }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11pt; color: #111; line-height: 1.35; }
h1 { font-size: 24pt; margin: 0 0 6pt; } h2 { font-size: 17pt; margin: 0 0 6pt; border-bottom: 2pt solid #111; }
h3 { font-size: 13pt; margin: 8pt 0 3pt; }
section { page-break-before: always; } section.cover { page-break-before: avoid; padding-top: 45mm; }
.sub { font-size: 14pt; color: #333; } .mode { font-weight: bold; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; } th, td { border-bottom: 0.5pt solid #999;
  padding: 2pt 4pt; text-align: left; vertical-align: top; } th { background: #1f3a5f; color: #fff; }
thead { display: table-header-group; } tr { page-break-inside: avoid; }
.rag-red { background: #f4c7c3; font-weight: bold; } .rag-amber { background: #fce8b2; font-weight: bold; }
.rag-green { background: #c8e6c9; font-weight: bold; }
.exc { display: flex; gap: 8mm; page-break-inside: avoid; } .exc .chart { width: 150mm; flex: none; }
.exc .chart img { width: 150mm; } .exc .words { flex: 1; }
ul { margin: 2pt 0 4pt 14pt; padding: 0; } li { margin: 1pt 0; }
.contents li { font-size: 13pt; margin: 4pt 0; }
"""


def pdf_html(view: View, paper: BoardPaper, charts: dict[str, str]) -> str:
    e = html.escape
    mode = "For publication: small numbers withheld" if paper.publication else \
        "OFFICIAL-SENSITIVE: internal, shows every figure"
    foot = f"{paper.area} · {paper.period} · {mode} · {paper.produced}"
    parts = [f"<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'><title>{e(view.board.name)} board pack "
             f"{e(str(paper.period))}</title><style>{PDF_CSS} :root {{ --foot: \"{e(foot)}\"; }}</style></head><body>"]
    parts.append(f"<section class='cover'><h1>{e(view.board.name)}: performance report for the board</h1>"
                 f"<p class='sub'>{e(str(paper.period))}</p><p class='sub'>{e(paper.produced)}</p>"
                 f"<p class='mode'>{e(mode)}</p></section>")
    toc = ["The summary matrix"] + [f"{s.name}: {len(s.exceptions)} exception(s)" for s in paper.sections] + \
        ["Positive exceptions to commend"] + (["Critical messages for the board"] if paper.critical else []) + \
        ["Annex: data quality and timeliness", "Annex: methods"]
    parts.append("<section><h2>Contents</h2><ol class='contents'>" + "".join(f"<li>{e(t)}</li>" for t in toc)
                 + "</ol></section>")
    rows = "".join(
        f"<tr><td>{e(r.label)}{' <b>(exception)</b>' if r.is_exception else ''}</td><td>{e(r.value_text)}</td>"
        f"<td class='rag-{e(r.rag)}'>{e(r.rag_text)}</td><td>{e(r.variation_text)}</td><td>{e(r.assurance_text)}</td>"
        f"<td>{e(r.neighbours_text)}</td><td>{e(r.england_text)}</td><td>{e(r.travel_text)}</td>"
        f"<td>{e(', '.join(r.priorities))}</td></tr>" for r in paper.summary)
    parts.append("<section><h2>The summary matrix</h2><table><thead><tr><th>Indicator</th><th>Value</th><th>RAG</th>"
                 "<th>Variation</th><th>Assurance</th><th>Neighbours</th><th>England</th><th>Since last quarter</th>"
                 f"<th>Priorities</th></tr></thead><tbody>{rows}</tbody></table></section>")
    for sec in paper.sections:
        body = [f"<section><h2>{e(sec.name)}</h2>"]
        if not sec.exceptions:
            body.append(f"<p>No exceptions: none of its {sec.indicators} indicators needs the board's attention.</p>")
        for item in sec.exceptions:
            r = item.row
            story = (item.story or {}).get("story") or "No story behind the baseline has been recorded yet."
            acts = "".join(f"<li>{e(action_line(a))}</li>" for a in item.actions) or \
                "<li>No action plan has been recorded yet.</li>"
            chart = charts.get(r.indicator_id)
            img = f"<img src='{chart}' alt='Control chart of {e(r.label)}'>" if chart else ""
            body.append(
                f"<h3>{e(r.label)}: {e(r.value_text)} · RAG {e(r.rag_text)} · since last quarter {e(r.travel_text)}</h3>"
                f"<div class='exc'><div class='chart'>{img}</div>"
                f"<div class='words'><p>Serves: {e(', '.join(r.priorities))}</p><b>Why it is an exception</b><ul>"
                + "".join(f"<li>{e(x)}</li>" for x in r.reasons)
                + f"</ul><b>What is being done</b><p>{e(story)}</p><ul>{acts}</ul></div></div>")
        if sec.also:
            body.append("<p>Also an exception for this priority: " + "; ".join(
                f"{e(label)} (shown under {e(under)})" for label, under in sec.also) + ".</p>")
        body.append("</section>")
        parts += body
    parts.append("<section><h2>To commend: positive exceptions</h2><ul>" + ("".join(
        f"<li><b>{e(r.label)}</b>: {e(' '.join(r.good_news))}</li>" for r in paper.positives)
        or "<li>No positive exceptions this quarter.</li>") + "</ul></section>")
    if paper.critical:
        parts.append("<section><h2>Critical messages for the board</h2><ul>" + "".join(
            f"<li>{e(message_line(m))}</li>" for m in paper.critical) + "</ul></section>")
    parts.append("<section><h2>Annex: data quality and timeliness</h2><ul>" + "".join(
        f"<li>{e(x)}</li>" for x in paper.data_quality + _returns_lines(view, paper.period)) + "</ul></section>")
    methods = list(METHODS)
    if paper.publication:
        methods.append(MODE_WORDS[True] + " " + "; ".join(f"{k}: {v}" for k, v in SYMBOLS.items()) + ".")
    parts.append("<section><h2>Annex: methods</h2><ul>" + "".join(f"<li>{e(x)}</li>" for x in methods)
                 + f"</ul><p>{e(sources_line(view))}</p></section></body></html>")
    return "".join(parts)


def pdf_charts(view: View, paper: BoardPaper) -> dict[str, str]:
    """Each exception's SPC chart as an SVG data URI (vector), rendered with the one kept browser."""
    import base64

    from dashboard.exports.charts import chart_figure, render

    out = {}
    for item in paper.exceptions:
        ind = view.library.indicators[item.row.indicator_id]
        try:
            fig = chart_figure(view, ind, paper.period, "spc", "a4", paper.publication)
        except ExportError:
            continue
        fig["layout"]["width"], fig["layout"]["height"] = 1000, 640
        fig["layout"]["title"]["font"] = {"size": 17}  # the page's heading names it too
        fig["layout"]["annotations"][-1]["font"] = {"size": 11, "color": "#333"}
        svg = render(fig, "svg")
        out[ind.id] = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    return out


# --- the export --------------------------------------------------------------------------------------------

def template_path(view: View) -> Path | None:
    name = view.board.outputs.pack_template
    if not name:
        return None
    path = (board_file(view).parent / name) if not Path(name).is_absolute() else Path(name)
    if not path.is_file():
        raise ExportError(f"the board file names the pack template {name}, but {path} does not exist. Fix "
                          "outputs: pack_template: in the board file, or remove it to use the plain design.")
    return path


def export_board_pack(view: View, path: str | Path, period: Quarter, fmt: str, priority_id: str | None = None,
                      publication: bool = False) -> int:
    """Write the board pack; returns its number of slides (PowerPoint) or pages (PDF)."""
    if fmt not in FORMATS:
        raise ExportError(f"'{fmt}' is not a board pack format. Choose one of: {', '.join(FORMATS)}.")
    paper = board_paper(view, period, priority_id, publication)
    target = Path(path)
    if fmt == "pptx":
        prs = pptx_pack(view, paper, template_path(view))
        try:
            with atomic_path(target, ".pptx") as tmp:
                prs.save(str(tmp))
        except OSError as exc:
            raise write_error(target, exc) from exc
        return len(prs.slides._sldIdLst)
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise ExportError("the PDF board pack needs WeasyPrint and Pango: `pip install weasyprint` and "
                          "`apt-get install libpango-1.0-0 libpangoft2-1.0-0`.") from exc
    doc = HTML(string=pdf_html(view, paper, pdf_charts(view, paper))).render()
    try:
        with atomic_path(target, ".pdf") as tmp:
            doc.write_pdf(str(tmp))
    except OSError as exc:
        raise write_error(target, exc) from exc
    return len(doc.pages)


__all__ = ["FORMATS", "export_board_pack", "CONFIDENTIAL"]
