"""One indicator, to turn the curve: baseline and forecast, SPC, benchmarking, data, definition, story."""

from __future__ import annotations

import difflib

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard.components.badges import comparison_badge, rag_badge, severity_badge, travel_text
from dashboard.components.charts import (
    baseline_figure,
    benchmark_figure,
    funnel_figure,
    funnel_limits_for,
    ranked_comparators,
    spc_figure,
)
from dashboard.components.curve_forms import curve_panel
from dashboard.components.icons import assurance_icon, row_point_type, variation_icon, variation_label
from dashboard.components.layout import (
    chart,
    notice,
    page_header,
    period_search,
    period_select,
    problem,
    query,
    with_code,
)
from dashboard.components.review_forms import decision_box
from dashboard.components.state import with_view
from dashboard.components.tables import data_table, definition_list
from dashboard.data import View
from dashboard.exports.web import download_menu
from dashboard.formatting import (
    ASSURANCE_WORDS,
    RAG_MEANING,
    format_indicator_value,
    is_number,
    word,
    year_label,
)
from dashboard.summaries import (
    baseline_summary,
    benchmark_summary,
    funnel_summary,
    latest_sentence,
    rebase_proposal,
    spc_note,
    spc_summary,
    spc_title,
)
from indicators.definitions import Indicator
from indicators.periods import Quarter

SECTIONS = [("baseline", "Baseline and forecast"), ("spc", "SPC"), ("benchmarking", "Benchmarking"),
            ("data", "The data"), ("definition", "Definition"), ("story", "Story and action plan")]


def _title(indicator_id: str | None = None, **_ignored) -> str:
    from dashboard import data

    try:
        ind = data.view().indicator(str(indicator_id))
    except Exception:
        ind = None
    return f"{ind.label if ind else 'Indicator'} – OBA dashboard"


dash.register_page(__name__, path_template="/indicator/<indicator_id>", name="Indicator", title=_title, order=2,
                   description="Turn the curve on one indicator")


def layout(indicator_id: str | None = None, period: str | None = None, **_ignored) -> object:
    return with_view(lambda v: build(v, indicator_id, period))


def _unknown(v: View, indicator_id: str | None) -> html.Div:
    close = difflib.get_close_matches(str(indicator_id or ""), list(v.indicators), n=3, cutoff=0.5)
    suggestions = html.Ul([html.Li(dcc.Link(v.indicators[i].label, href=f"/indicator/{i}")) for i in close]) \
        if close else None
    return html.Div([
        problem("No such indicator",
                f"There is no indicator '{indicator_id}' in this dashboard."
                + (" Did you mean one of these?" if close else
                   " Find it from its priority on the This quarter page.")),
        suggestions,
        html.P(dcc.Link("Back to This quarter", href="/")),
    ])


def _spc_icons(ind: Indicator, history: list[dict]) -> html.Div:
    """The series' variation and assurance icons, with their meaning written beside them."""
    latest = next((r for r in reversed(history) if is_number(r.get("value"))), None) or {}
    pt = row_point_type(latest)
    assurance = latest.get("assurance") or ""
    return html.Div([
        html.Div([variation_icon(pt, ind.polarity, 40),
                  html.Span(variation_label(pt, ind.polarity) if pt else "Variation: no values yet")],
                 className="spc-icon"),
        html.Div([assurance_icon(assurance, 40),
                  html.Span(f"Assurance: {word(ASSURANCE_WORDS, assurance)}")], className="spc-icon"),
    ], className="spc-icons")


def _facts(v: View, ind: Indicator, row: dict | None, period: Quarter) -> html.Div:
    row = row or {}
    status = row.get("status", "missing" if not row else "ok")
    value = format_indicator_value(row.get("value"), ind, status) if row else "no data"
    pt = row_point_type(row)
    facts = [
        html.Div([html.Div("Value", className="fact-label"), html.Div(value, className="big-value"),
                  html.Div(str(period), className="fact-sub")], className="fact"),
        html.Div([html.Div("Variation", className="fact-label"), variation_icon(pt, ind.polarity, 48),
                  html.Div(variation_label(pt, ind.polarity).removeprefix("Variation: ") if pt else
                           "No value this quarter", className="fact-sub")], className="fact"),
        html.Div([html.Div("Assurance", className="fact-label"), assurance_icon(row.get("assurance"), 48),
                  html.Div(word(ASSURANCE_WORDS, row.get("assurance") or ""), className="fact-sub")],
                 className="fact"),
        html.Div([html.Div("Target", className="fact-label"), rag_badge(row.get("rag")),
                  html.Div((f"Target {format_indicator_value(row.get('target'), ind)}: "
                            f"{RAG_MEANING.get(row.get('rag') or '', '')}") if is_number(row.get("target"))
                           else "No target set", className="fact-sub")], className="fact"),
        html.Div([html.Div("Compared with", className="fact-label"),
                  html.Div(["Neighbours: ", comparison_badge(row.get("vs_neighbours"), "the neighbours")]),
                  html.Div(["England: ", comparison_badge(row.get("vs_england"), "England")])], className="fact"),
        html.Div([html.Div("Since last quarter", className="fact-label"),
                  travel_text(row.get("travel_quarter"), row.get("trend_arrow"))
                  if status not in ("suppressed", "missing") and row else html.Span("No value this quarter"),
                  html.Div(f"over a year: {word({'improving': 'improving', 'worsening': 'worsening', 'no_change': 'no change', 'up': 'up', 'down': 'down'}, row.get('travel_year') or '', 'no earlier value')}",
                           className="fact-sub")], className="fact"),
    ]
    return html.Div(facts, className="facts")


def _benchmarking(v: View, ind: Indicator, row: dict | None, period: Quarter) -> list:
    if ind.benchmark is None and not len(v.comparator_values(ind.id, period)[0]):
        return [notice("No published benchmark: there is no national figure for this indicator, so it is not "
                       "compared with the statistical neighbours, the region or England.", "light")]
    from dashboard.exports.figures import comparison_inputs

    c = comparison_inputs(v, ind, row, period)
    rows, key, year = c["rows"], c["key"], c["year"]
    if not rows:
        return [notice("No published values have been imported for this indicator yet "
                       "(`oba benchmarks import`), so there is nothing to compare with.", "light")]
    own, note, own_period = c["own"], c["note"], c["own_period"]
    england, region = c["england"], c["region"]
    ranked = ranked_comparators(ind, rows)
    names = v.area_names
    when = f" ({year_label(year)})" if year else (f" ({key[1]})" if key else "")
    out = []
    if ranked:
        level = v.board.thresholds.significance
        out.append(chart(benchmark_figure(ind, ranked, names, england, region, v.region_name, level=level),
                         benchmark_summary(ind, v.area_name, ranked, year, england, region, v.region_name,
                                           own_period, rank=(row or {}).get("rank"), level=level),
                         f"{v.area_name}{own} and its statistical neighbours{when}", graph_id="benchmark-chart",
                         note=note))
        if v.neighbour_set_note:
            out.append(html.P(v.neighbour_set_note, className="neighbour-set small text-muted",
                              id="neighbour-set"))
    else:
        out.append(notice("The statistical neighbours are not known (import a neighbour list with "
                          "`oba neighbours import`), so the ranked chart cannot be drawn.", "light"))
    las = [r for r in rows if r.get("role") in ("self", "neighbour", "la")]
    limits = v.memo(("funnel", ind.id, key), lambda: funnel_limits_for(
        ind, england, [r.get("denominator") for r in las]))
    mine = next((r for r in rows if r.get("role") == "self"), None)
    position = (row or {}).get("funnel") if mine is not None else None
    out.append(chart(funnel_figure(ind, rows, england, names, limits),
                     funnel_summary(ind, v.area_name, position, len(las), year, own_period,
                                    adjustment=(row or {}).get("funnel_adjustment"),
                                    phi=(row or {}).get("overdispersion_phi"),
                                    tau2=(row or {}).get("random_effects_tau2")),
                     f"Funnel plot: every local authority against England{when}", graph_id="funnel-chart",
                     note=note))
    return out


VERDICTS = {
    "turned": "The curve has turned",
    "turning": "The curve may be turning",
    "not_turned": "The curve has not turned yet",
    "worsened": "Worse than the baseline",
    "no_direction": "No better direction to judge by",
    "too_early": "Too early to tell",
    "no_baseline": "No baseline frozen",
}


def curve_box(curve: list[dict]) -> html.Div | None:
    """"Has the curve turned?": the verdict against the baseline frozen when the action plan started."""
    if not curve:
        return None
    last = curve[-1]
    verdict = str(last.get("verdict") or "")
    good = verdict in ("turned", "turning")
    return html.Div([
        html.H3(["Has the curve turned? ", html.Span(VERDICTS.get(verdict, verdict.replace("_", " ").capitalize()),
                                                     className=f"verdict verdict-{verdict or 'none'}")],
                className="h5 mb-1"),
        html.P(str(last.get("sentence") or ""), className="mb-0"),
    ], className=f"curve-box {'good' if good else ''}".strip())


def proposal_box(text: str) -> html.Div | None:
    """A proposed rebase, with its evidence and how to record the decision."""
    if not text:
        return None
    return html.Div(with_code(text), className="alert alert-warning notice rebase-proposal", role="status")


def notes_box(notes: list) -> html.Section | None:
    """What to know about the data behind the figure: missing, late, revised or awaited returns. Shown beside
    the figure, not as reasons for an exception."""
    if not notes:
        return None
    return html.Section([
        html.H2("About the data this quarter", className="h5"),
        html.Ul([html.Li(r.sentence) for r in notes], className="note-list mb-0"),
    ], className="notes-box", **{"aria-label": "About the data"})


_KIND_WORDS = {"baseline": "Baseline chart", "spc": "SPC chart", "neighbours": "Neighbours chart",
               "funnel": "Funnel plot"}


def _downloads(ind: Indicator, *kinds_and_keep) -> html.Details:
    """The section's charts as files (PNG for slides, SVG and PDF for papers), internal and for publication."""
    kind, keep, *more = kinds_and_keep
    kinds = [kind, *more]
    items = [(_KIND_WORDS[k], "chart", f, {"indicator": ind.id, "kind": k, "period": keep})
             for k in kinds for f in ("png", "svg", "pdf")]
    return download_menu("Download " + ("this chart" if len(kinds) == 1 else "these charts"), items,
                         menu_id=f"download-{kind}")


def _decision_quarters(v: View) -> list[str]:
    """Quarters a decision can take effect from: every quarter with data, and the next four."""
    known = [str(q) for q in v.period_options()]
    ahead = [str(v.current + k) for k in range(4, 0, -1)] if v.current is not None else []
    return ahead + [q for q in known if q not in ahead]


def _proposal(history: list[dict]) -> str | None:
    latest = next((r for r in reversed(history) if is_number(r.get("spc_value", r.get("value")))), None)
    return str(latest["spc_rebase_proposal"]) if latest and latest.get("spc_rebase_proposal") else None


def _measures(ind: Indicator) -> list[str]:
    codes = [ind.numerator, ind.denominator, getattr(ind.chart, "numerator", None),
             getattr(ind.chart, "denominator", None)]
    return [c for c in dict.fromkeys(codes) if c and c != "population_0_17"]


def agency_analysis_box(v: View, ind: Indicator, agency_name: str, period: Quarter) -> html.Section | None:
    """The agency's own analysis next to its figure: the notes it wrote beside this indicator's measures and the
    commentary of its return, this quarter first, earlier quarters below."""
    from dashboard import data
    from dashboard.components.safe_text import safe_markdown
    from dashboard.data import DataUnavailable
    from etl.access import agency_analysis

    try:
        items = agency_analysis(data.source().engine(), ind.agency, _measures(ind), period.index)
    except DataUnavailable:
        return None
    if not items:
        return None
    names = {m.code: m.name for m in v.library.measures.values()}

    def block(item: dict) -> list:
        out: list = []
        for code, note in item["notes"].items():
            out.append(html.P([html.Strong(f"On {names.get(code, code)}: "), note], className="mb-1 agency-note"))
        if item["commentary"]:
            out += [html.Div([html.Strong("The return's commentary: "), safe_markdown(item["commentary"])],
                             className="agency-commentary")]
        return out

    current = [i for i in items if i["period"] == str(period)]
    earlier = [i for i in items if i["period"] != str(period)]
    return html.Section([
        html.H2(f"{agency_name}'s own analysis", className="h5"),
        *(block(current[0]) if current else [html.P(f"Nothing written with the {period} return.",
                                                    className="small-print")]),
        html.Details([html.Summary(f"Earlier quarters ({len(earlier)})"),
                      html.Ul([html.Li([html.Strong(i["period"]), *block(i)]) for i in earlier])])
        if earlier else None,
    ], className="agency-analysis", id="agency-analysis", **{"aria-label": "The agency's own analysis"})


def build(v: View, indicator_id: str | None, period_text: str | None) -> html.Div:
    ind = v.indicator(str(indicator_id)) if indicator_id else None
    if ind is None or ind.id not in v.indicators:
        return _unknown(v, indicator_id)
    period, note = v.resolve_period(period_text)
    keep = str(period) if period != v.current else None
    pv = v.at_period(period)  # everything below as it stood at that quarter
    row = pv.row(ind.id)
    history = pv.history(ind.id)
    forecast = pv.forecast(ind.id)
    reasons = pv.reasons(ind.id)
    notes = pv.notes(ind.id)
    last_row = row
    agency = next((a.name for a in v.board.agencies if a.code == ind.agency), ind.agency)
    target, tolerance = v.board.target_for(ind)
    if row and is_number(row.get("target")):  # the target in effect in this quarter (a recorded change applies)
        target = float(row["target"])
        tolerance = float(row["tolerance"]) if is_number(row.get("tolerance")) else tolerance
    method = next((r.get("forecast_method") for r in forecast if r.get("forecast_method")), "")
    curve = pv.curve(ind.id)
    priorities = [p for p in v.board.priorities if p.id in ind.priorities]

    reason_block = None
    if reasons:
        attention = [r for r in reasons if r.needs_attention]
        title = "Why this is an exception" if attention else "Good news"
        reason_block = html.Section([
            html.H2(title, className="h4"),
            html.Ul([html.Li([severity_badge(r.severity), " ", r.sentence]) for r in (attention or reasons)],
                    className="reason-list"),
        ], className=f"reasons-box {'exception' if attention else 'good'}")

    crumbs = html.Nav(html.Ol(
        [html.Li(dcc.Link("This quarter", href=f"/{query(period=keep)}"), className="breadcrumb-item")]
        + [html.Li(dcc.Link(p.name, href=f"/priority/{p.id}{query(period=keep)}"), className="breadcrumb-item")
           for p in priorities[:1]]
        + [html.Li(ind.label, className="breadcrumb-item active", **{"aria-current": "page"})],
        className="breadcrumb"), **{"aria-label": "Breadcrumb"})
    toc = html.Nav(html.Ul([html.Li(html.A(t, href=f"#{a}")) for a, t in SECTIONS], className="jump-list"),
                   className="jump-nav", **{"aria-label": "On this page"})
    served: list = []
    for p in priorities:
        served += [dcc.Link(p.name, href=f"/priority/{p.id}{query(period=keep)}"), ", "]
    lead = html.Span([ind.question.title, " · Serves: ", *(served[:-1] or ["no board priority"])])

    is_current = period == v.current
    has_values = any(is_number(r.get("value")) for r in history)
    no_values = notice(f"There are no values of {ind.label} to chart yet: every quarter so far is suppressed or "
                       "missing. The data table below says which.", "light")
    sections = [
        html.Section([
            html.H2("Turn the curve: the baseline", id="baseline", className="section-title"),
            curve_box(curve),
            chart(baseline_figure(ind, history, forecast, None, curve),
                  baseline_summary(ind, last_row, forecast),
                  f"{ind.label}: history and forecast", graph_id="baseline-chart",
                  note=(f"Forecast method: {method.rstrip('.')}. The shaded bands are the 80% and 95% ranges the "
                        "forecast expects the value to fall in if nothing changes."
                        + ("" if is_current else f" As forecast at {period}, from the data up to then.")
                        if method else None)) if has_values else no_values,
            _downloads(ind, "baseline", keep) if has_values else None,
        ], className="indicator-section"),
        html.Section([
            html.H2("Statistical process control", id="spc", className="section-title"),
            _spc_icons(ind, history),
            proposal_box(rebase_proposal(ind, history)),
            chart(spc_figure(ind, history, None),
                  spc_summary(ind, history),
                  spc_title(ind, history), graph_id="spc-chart",
                  note=spc_note(ind, history)) if has_values else no_values,
            _downloads(ind, "spc", keep) if has_values else None,
        ], className="indicator-section"),
        html.Section([html.H2("Benchmarking", id="benchmarking", className="section-title"),
                      *_benchmarking(pv, ind, row, period),
                      _downloads(ind, "neighbours", keep, "funnel") if len(pv.comparator_values(ind.id, period)[0])
                      else None], className="indicator-section"),
        html.Section([html.H2("The data", id="data", className="section-title"),
                      data_table(ind, history, str(period)),
                      download_menu("Download the data", [
                          (f"{ind.label}, every quarter", "data", f, {"indicator": ind.id}) for f in ("csv", "xlsx")],
                          menu_id="download-data")], className="indicator-section"),
        html.Section([html.H2("About this indicator", id="definition", className="section-title"),
                      definition_list(ind, agency, target, tolerance, (row or {}).get("comparator_year"))],
                     className="indicator-section"),
        html.Section([html.H2("The story behind the baseline and the action plan", id="story",
                              className="section-title"),
                      curve_panel(ind.id, ind.label, str(period), _decision_quarters(v),
                                  _proposal(history))], className="indicator-section"),
    ]
    return html.Div([
        crumbs,
        page_header(ind.title, lead, period_select("indicator-period", v.period_options(), period)),
        notice(note) if note else None,
        html.P(latest_sentence(ind, row), className="lead-summary"),
        _facts(v, ind, row, period),
        notes_box(notes),
        agency_analysis_box(v, ind, agency, period),
        reason_block,
        decision_box(ind.id, str(period), bool(reasons and any(r.needs_attention for r in reasons))),
        toc,
        *sections,
    ], className="indicator-page")


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("indicator-period", "value"),
    State("indicator-period-shown", "data"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def choose_period(value: str | None, shown: str | None, search: str | None):
    """Put the chosen quarter in the URL, so the view can be shared and the back button works."""
    new = period_search(value, shown, search)
    return no_update if new is None else new
