"""Tables with proper headers: an indicator's data, its definition, its story and action plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dash import html

from dashboard.components.badges import rag_badge
from dashboard.formatting import (
    POINT_TYPE_SHORT,
    POLARITY_WORDS,
    STATUS_WORDS,
    format_indicator_value,
    is_number,
    number,
    word,
    year_label,
)
from indicators.definitions import Indicator, Unit


def _count(x: Any, status: str, decimals: int = 0) -> str:
    if status == "suppressed" and not is_number(x):
        return "suppressed"
    if not is_number(x):
        return "–"
    return number(x, 0 if float(x).is_integer() else decimals)


def _spc_word(row: dict) -> str:
    """The SPC column: the charted point's type, "Run chart" where no rules apply, a dash with no point."""
    if not is_number(row.get("spc_value", row.get("value"))):
        return "–"
    if row.get("spc_chart") == "run":
        return "Run chart"
    return word(POINT_TYPE_SHORT, row.get("spc_point_type") or "common_cause")


def data_table(ind: Indicator, history: list[dict], highlight: str | None = None) -> html.Div:
    """Every quarter's figures, newest first; suppressed values say so and small numbers are marked."""
    compared = any(is_number(r.get("neighbours_mean")) or is_number(r.get("england_value")) for r in history)
    charted = ind.chart.plots.value in ("quarter", "flow") and ind.period_type.value != "flow"
    heads = ["Quarter", "Numerator", "Denominator", "Value", "95% interval", "Data", "Target",
             "On the SPC chart", "SPC", "Neighbours' average", "England"]
    if not charted:  # the chart plots the headline itself
        heads.remove("On the SPC chart")
    if ind.unit == Unit.count:  # the value is the count itself
        heads.remove("Numerator")
        heads.remove("Denominator")
    targeted = any(is_number(r.get("target")) for r in history)
    if not targeted:
        heads.remove("Target")
    if not compared:
        heads = heads[:-2]
    rows = []
    small = False
    for r in sorted(history, key=lambda r: r["period_index"], reverse=True):
        status = str(r.get("status") or "ok")
        value = format_indicator_value(r.get("value"), ind, status)
        if bool(r.get("display_suppressed")) and status == "ok":
            value += " *"
            small = True
        interval = (f"{format_indicator_value(r['lower'], ind)} to {format_indicator_value(r['upper'], ind)}"
                    if is_number(r.get("lower")) and is_number(r.get("upper")) else "–")
        cells = [html.Th(r["period"], scope="row")]
        if ind.unit != Unit.count:
            cells.append(html.Td(_count(r.get("numerator"), status, ind.decimals)))
            den = "population" if ind.denominator == "population_0_17" else None
            cells.append(html.Td(_count(r.get("denominator"), "ok") + (f" ({den})" if den and is_number(
                r.get("denominator")) else "")))
        cells += [
            html.Td(value, className="num"),
            html.Td(interval),
            html.Td(word(STATUS_WORDS, status)),
            html.Td(rag_badge(r.get("rag"))) if targeted else None,
            html.Td(format_indicator_value(r.get("spc_value"), ind) if is_number(r.get("spc_value")) else "–",
                    className="num") if charted else None,
            html.Td(_spc_word(r)),
        ]
        if compared:
            cells += [html.Td(format_indicator_value(r.get(c), ind) if is_number(r.get(c)) else "–")
                      for c in ("neighbours_mean", "england_value")]
        rows.append(html.Tr([c for c in cells if c is not None],
                            className="table-active" if r["period"] == highlight else None))
    note = html.P("* A small number (below the suppression threshold of "
                  f"{ind.suppress_below}): the board may see it, but it must be suppressed in anything published.",
                  className="small-print") if small else None
    return html.Div([
        html.Div(html.Table([
            html.Caption(f"{ind.label}: the figures behind the charts, newest first"),
            html.Thead(html.Tr([html.Th(h, scope="col") for h in heads])),
            html.Tbody(rows),
        ], className="table table-sm data-table align-middle"), className="table-responsive"),
        note,
    ])


def definition_list(ind: Indicator, agency_name: str, target: Any, tolerance: Any,
                    comparator_year: Any = None) -> html.Dl:
    """Definition, source, polarity, target and suppression, as a description list."""
    items = [
        ("Definition", ind.definition),
        ("OBA question", ind.question.title),
        ("Which way is better", POLARITY_WORDS[ind.polarity]),
        ("Target", (f"{format_indicator_value(target, ind)}" + (
            f", tolerance {format_indicator_value(tolerance, ind)}" if is_number(tolerance) else ""))
         if is_number(target) else "No target set"),
        ("Source", f"{agency_name}" + (f" — {ind.source}" if ind.source else "")),
        ("Published comparison", (f"DfE {ind.benchmark.dataset.replace('_', ' ')}" +
                                  (f", latest used {year_label(comparator_year)}" if year_label(comparator_year)
                                   else "")) if ind.benchmark else
         "None: no national figure is published for this indicator, so there are no neighbour or England "
         "comparisons"),
        ("Period", {"flow": "Each quarter's own figures", "snapshot": "At the end of each quarter",
                    "rolling_12m": "Rolling 12 months ending with the quarter",
                    "fytd": "Financial year to date"}[ind.period_type.value]),
        ("Suppression", f"Counts below {ind.suppress_below} are withheld from published outputs; a value "
                        "returned suppressed is shown as \"suppressed\", never as 0."),
    ]
    children = []
    for term, desc in items:
        children += [html.Dt(term), html.Dd(desc)]
    return html.Dl(children, className="definition-list")


_ACTION_STATUS = {"open": "Open", "on_track": "On track", "late": "Late", "done": "Done"}


def _date(x: Any) -> str:
    if isinstance(x, dt.datetime):
        return x.strftime("%-d %B %Y")
    if isinstance(x, dt.date):
        return x.strftime("%-d %B %Y")
    return str(x) if x else "–"
