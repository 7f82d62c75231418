"""Chart figures, built as plain Plotly dictionaries (fast to make, no validation pass on every call).

Colours: Okabe–Ito, chosen to stay distinct for colour-blind viewers and dark enough (at least 3:1 on white)
for lines on a projector; SPC uses the NHS Making Data Count colours with a different marker *shape* per kind
of point. Lines also differ by dash, and the important values are written on the chart, so nothing depends on
hovering. Every chart is shown with a one-sentence summary (``dashboard.summaries``) under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dashboard.components.icons import MDC
from dashboard.formatting import format_indicator_value, is_number
from indicators.definitions import Indicator, Polarity, Unit
from indicators.periods import Quarter

THIS_AREA = "#0072B2"  # blue
NEIGHBOURS = "#D55E00"  # vermilion
ENGLAND = "#000000"
REGION = "#6A3D9A"  # dark purple
TARGET = "#007A5A"  # dark bluish green
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"

SPC_STYLE = {
    "common_cause": (MDC["common_cause"], "circle", 9),
    "special_cause_improvement": (MDC["improvement"], "circle", 15),
    "special_cause_concern": (MDC["concern"], "diamond", 16),
    "special_cause_neutral_high": (MDC["neutral"], "square", 13),
    "special_cause_neutral_low": (MDC["neutral"], "square", 13),
}

# Nothing on a chart may send its data anywhere: no Plotly logo link, no "Share chart" / "Edit in Chart Studio"
# (they post the figure to Plotly's cloud), no link to an outside server. The camera button saves a PNG in the
# browser only; the server's own export (``dashboard.exports``) gives the titled, sourced file.
NO_CLOUD = {
    "displaylogo": False,
    "showLink": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "plotlyServerURL": "",
    "linkText": "",
}
CLOUD_BUTTONS = ["sendDataToCloud", "editInChartStudio"]
GRAPH_CONFIG = {
    **NO_CLOUD,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "zoomIn2d", "zoomOut2d", *CLOUD_BUTTONS],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}
STATIC_CONFIG = {**NO_CLOUD, "staticPlot": True, "responsive": True}


def graph_config(filename: str | None = None, static: bool = False) -> dict:
    """The config for one chart: ``filename`` names the PNG the camera button saves (not "newplot.png")."""
    if static:
        return dict(STATIC_CONFIG)
    cfg = {**GRAPH_CONFIG, "toImageButtonOptions": dict(GRAPH_CONFIG["toImageButtonOptions"])}
    if filename:
        cfg["toImageButtonOptions"]["filename"] = filename
    return cfg


def _f(x: Any) -> float | None:
    return float(x) if is_number(x) else None


def axis_title(ind: Indicator) -> str:
    return {Unit.percentage: "Per cent", Unit.rate_per_10000: "Per 10,000 children", Unit.days: "Days",
            Unit.count: "Number"}[ind.unit]


def _layout(height: int = 380, **extra: Any) -> dict:
    base = {
        "font": {"family": FONT, "size": 16, "color": "#1a1a1a"},
        "margin": {"l": 70, "r": 30, "t": 50, "b": 70},
        "height": height,
        "paper_bgcolor": "#FFFFFF",
        "plot_bgcolor": "#FFFFFF",
        "showlegend": True,
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": 15}},
        "xaxis": {"showgrid": False, "linecolor": "#333333", "ticks": "outside", "type": "category",
                  "automargin": True},
        "yaxis": {"gridcolor": "#E0E0E0", "linecolor": "#333333", "zeroline": False, "automargin": True},
        "hovermode": "closest",
    }
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            base[k] = {**base[k], **v}
        else:
            base[k] = v
    return base


def _line(x, y, name, colour, dash="solid", width=3, line_shape: str = "linear", **kw) -> dict:
    return {"type": "scatter", "mode": "lines", "x": x, "y": y, "name": name,
            "line": {"color": colour, "dash": dash, "width": width, "shape": line_shape}, **kw}


def _labels(rows: Sequence[dict]) -> list[str]:
    return [Quarter.parse(r["period"]).short for r in rows]


def _value_text(ind: Indicator, value: Any) -> str:
    return format_indicator_value(value, ind, short=True)


# --- turn the curve: the baseline ------------------------------------------------------------------------

def baseline_figure(ind: Indicator, history: Sequence[dict], forecast: Sequence[dict],
                    highlight: str | None = None, frozen: Sequence[dict] = ()) -> dict:
    """History, the forecast with its 80% and 95% ranges, the target, the neighbours' average and England.

    ``frozen``: the baseline frozen when an action plan started (``Dataset.curves`` rows), drawn as a grey
    dashed line with its 80% range, so later actuals can be seen against what was expected.
    """
    x_hist = _labels(history)
    x_fc = _labels(forecast)
    frozen_x = [Quarter.parse(r["period"]).short for r in frozen if is_number(r.get("forecast"))]
    x_fc += [x for x in frozen_x if x not in x_hist and x not in x_fc]
    y = [_f(r.get("value")) for r in history]
    data: list[dict] = []
    fc = [r for r in forecast if is_number(r.get("forecast"))]
    if fc:
        xs = [Quarter.parse(r["period"]).short for r in fc]
        last_x = [x for x, v in zip(x_hist, y, strict=True) if v is not None][-1:] if any(v is not None for v in y) else []
        last_y = [v for v in y if v is not None][-1:]
        for level, alpha in (("95", 0.13), ("80", 0.28)):
            lo = [_f(r.get(f"forecast_lo{level}")) for r in fc]
            hi = [_f(r.get(f"forecast_hi{level}")) for r in fc]
            if any(v is None for v in lo + hi):
                continue
            data.append({"type": "scatter", "mode": "lines", "x": last_x + xs + xs[::-1] + last_x,
                         "y": last_y + hi + lo[::-1] + last_y, "fill": "toself",
                         "fillcolor": f"rgba(0,114,178,{alpha})", "line": {"width": 0},
                         "name": f"{level}% forecast range", "hoverinfo": "skip"})
        data.append(_line(last_x + xs, last_y + [_f(r["forecast"]) for r in fc], "Forecast if nothing changes",
                          THIS_AREA, "dash", 3, mode="lines+markers",
                          marker={"symbol": "circle-open", "size": 9, "color": THIS_AREA}))
    data.append({"type": "scatter", "mode": "lines+markers+text", "x": x_hist, "y": y, "name": "Actual",
                 "line": {"color": THIS_AREA, "width": 4}, "marker": {"size": 9, "color": THIS_AREA},
                 "text": [(_value_text(ind, v) if i == len(y) - 1 else "") for i, v in enumerate(y)],
                 "textposition": "top center", "textfont": {"size": 16, "color": "#1a1a1a"}, "cliponaxis": False})
    if frozen_x:
        fz = [r for r in frozen if is_number(r.get("forecast"))]
        lo = [_f(r.get("forecast_lo80")) for r in fz]
        hi = [_f(r.get("forecast_hi80")) for r in fz]
        if all(v is not None for v in lo + hi):
            data.append({"type": "scatter", "mode": "lines", "x": frozen_x + frozen_x[::-1], "y": hi + lo[::-1],
                         "fill": "toself", "fillcolor": "rgba(90,90,90,0.15)", "line": {"width": 0},
                         "name": "80% range of the frozen baseline", "hoverinfo": "skip"})
        data.append(_line(frozen_x, [_f(r["forecast"]) for r in fz],
                          f"Baseline frozen at {fz[0].get('frozen_at', '')}".strip(), "#555555", "dashdot", 3,
                          mode="lines+markers", marker={"symbol": "x", "size": 8, "color": "#555555"}))
    all_rows = list(history) + list(forecast)
    all_x = x_hist + x_fc
    target = [_f(r.get("target")) for r in all_rows]
    if any(t is not None for t in target):
        data.append(_line(all_x, target, "Target", TARGET, "longdash", 3))
    for col, name, colour, dash in (("neighbours_mean", "Neighbours' average", NEIGHBOURS, "dash"),
                                    ("england_value", "England", ENGLAND, "dot")):
        vals = [_f(r.get(col)) for r in history]
        if any(v is not None for v in vals):
            data.append(_line(x_hist, vals, name, colour, dash, 3, connectgaps=True, mode="lines+markers",
                              marker={"size": 7, "color": colour}))
    shapes = _marker_line(highlight, x_hist)
    return {"data": data, "layout": _layout(
        420, xaxis={"categoryorder": "array", "categoryarray": all_x, "title": {"text": "Quarter"}, "tickangle": -45},
        yaxis={"title": {"text": axis_title(ind)}, "rangemode": "tozero" if ind.unit != Unit.percentage else "normal"},
        shapes=shapes)}


# --- SPC ----------------------------------------------------------------------------------------------

def spc_figure(ind: Indicator, history: Sequence[dict], highlight: str | None = None) -> dict:
    """The control chart the dataset computed (``spc_chart``): an XmR or Laney p′/u′ chart with points coloured
    and shaped by point type, the centre line and the process limits (point by point on a Laney chart), or a
    run chart of the values and their median."""
    rows = list(history)
    x = _labels(rows)
    y = [_f(r.get("spc_value", r.get("value"))) for r in rows]
    kind = next((str(r.get("spc_chart")) for r in reversed(rows) if r.get("spc_chart")), "xmr")
    run = kind == "run"
    data: list[dict] = [_line(x, y, "Value", "#5A5A5A", "solid", 2, connectgaps=False, hoverinfo="skip",
                              showlegend=False)]
    types = [str(r.get("spc_point_type") or "common_cause") for r in rows]
    names = {"common_cause": "Common cause", "special_cause_improvement": "Improvement",
             "special_cause_concern": "Concern", "special_cause_neutral_high": "Unusually high",
             "special_cause_neutral_low": "Unusually low"}
    for point, (colour, symbol, size) in SPC_STYLE.items():
        pts = [(xi, yi) for xi, yi, t in zip(x, y, types, strict=True) if t == point and yi is not None]
        if not pts and point != "common_cause":
            continue
        data.append({"type": "scatter", "mode": "markers", "x": [p[0] for p in pts], "y": [p[1] for p in pts],
                     "name": "Quarter" if run else names[point],
                     "marker": {"color": colour, "symbol": symbol, "size": size,
                                "line": {"color": "#1a1a1a", "width": 1}}})
    # each SPC segment (a recorded rebase starts one) has its own mean and limits: lines break between them
    segments = [r.get("spc_segment") for r in rows]
    xs: list = []
    idx: list = []
    for i, seg in enumerate(segments):
        if i and seg != segments[i - 1]:
            xs.append(None)
            idx.append(None)
        xs.append(x[i])
        idx.append(i)

    def _col(name: str) -> list:
        return [None if i is None else _f(rows[i].get(name)) for i in idx]

    data.append(_line(xs, _col("spc_mean"), "Median" if run else "Average", "#1a1a1a", "solid", 2))
    if any(v is not None for v in _col("spc_upl")):
        shape = "hv" if kind in ("p_prime", "u_prime") else "linear"
        data.append(_line(xs, _col("spc_upl"), "Process limits", "#1a1a1a", "dash", 2, line_shape=shape))
        data.append(_line(xs, _col("spc_lpl"), "Lower process limit", "#1a1a1a", "dash", 2, showlegend=False,
                          line_shape=shape))
    if ind.chart_on_headline_scale:
        target = [_f(r.get("target")) for r in rows]
        if any(t is not None for t in target):
            data.append(_line(x, target, "Target", TARGET, "longdash", 3))
    annotations = []
    if rows and not run and bool(rows[-1].get("trial_limits")):
        annotations.append({"xref": "paper", "yref": "paper", "x": 1, "y": 1.0, "xanchor": "right",
                            "yanchor": "bottom", "showarrow": False, "text": "Trial limits (fewer than 13 points)",
                            "font": {"size": 14, "color": "#1a1a1a"}, "bgcolor": "#FFF3CD", "borderpad": 3})
    known = [(xi, yi) for xi, yi in zip(x, y, strict=True) if yi is not None]
    if known:
        annotations.append({"x": known[-1][0], "y": known[-1][1], "xref": "x", "yref": "y", "showarrow": False,
                            "yshift": 18, "text": _value_text(ind, known[-1][1]), "font": {"size": 16}})
    return {"data": data, "layout": _layout(
        420, xaxis={"categoryorder": "array", "categoryarray": x, "title": {"text": "Quarter"}, "tickangle": -45},
        yaxis={"title": {"text": axis_title(ind)}}, annotations=annotations,
        shapes=_marker_line(highlight, x), legend={"y": 1.08})}


def _marker_line(highlight: str | None, categories: Sequence[str]) -> list[dict]:
    """A dotted vertical line at the quarter being looked at, when it is not the latest."""
    if not highlight or highlight not in categories:
        return []
    return [{"type": "line", "xref": "x", "yref": "paper", "x0": highlight, "x1": highlight, "y0": 0, "y1": 1,
             "line": {"color": "#1a1a1a", "width": 2, "dash": "dot"}}]


# --- benchmarking -------------------------------------------------------------------------------------

def ranked_comparators(ind: Indicator, comp_rows: Sequence[dict]) -> list[dict]:
    """This area and its neighbours, best first by polarity (highest first for context indicators)."""
    rows = [r for r in comp_rows if r.get("role") in ("self", "neighbour")]
    with_value = [r for r in rows if is_number(r.get("value"))]
    without = [r for r in rows if not is_number(r.get("value"))]
    reverse = ind.polarity != Polarity.lower_better
    with_value.sort(key=lambda r: float(r["value"]), reverse=reverse)
    out = []
    for r in with_value + without:
        out.append({**r, "is_self": r.get("role") == "self"})
    return out


def neighbours_band(ranked: Sequence[dict], level: float = 0.95) -> tuple[float, float, float, int] | None:
    """The neighbours' prediction interval for one more area (lower, upper, mean, k) from the ranked rows, or None
    with fewer than three neighbours with a value (``indicators.intervals.neighbours_prediction_interval``)."""
    from indicators.intervals import MIN_NEIGHBOURS, neighbours_prediction_interval

    vals = [float(r["value"]) for r in ranked if not r.get("is_self") and r.get("role", "neighbour") == "neighbour"
            and is_number(r.get("value"))]
    if len(vals) < MIN_NEIGHBOURS:
        return None
    lo, hi, mean, k = neighbours_prediction_interval(np.asarray(vals), level=level)
    return float(lo), float(hi), float(mean), int(k)


def benchmark_figure(ind: Indicator, ranked: Sequence[dict], names: dict[str, str],
                     england: Any = None, region: Any = None, region_name: str = "Region",
                     level: float = 0.95) -> dict:
    """Horizontal bars, best at the top, this area highlighted; England and the region as labelled lines; the
    neighbours' prediction interval for one more area as a shaded band (what "significantly different from the
    neighbours" is judged against).

    Each value is written in a column to the right of the bars, clear of the reference lines.
    """
    rows = [r for r in ranked if is_number(r.get("value"))][::-1]  # plotly draws the first bar at the bottom
    labels = [names.get(r["area_code"], r.get("area_name") or r["area_code"]) + (" (this area)" if r["is_self"] else "")
              for r in rows]
    values = [float(r["value"]) for r in rows]
    top = max(values + [float(v) for v in (england, region) if is_number(v)], default=1.0)
    data: list[dict] = [{"type": "bar", "orientation": "h", "y": labels, "x": values, "marker": {
        "color": [THIS_AREA if r["is_self"] else "#A0A0A0" for r in rows],
        "line": {"color": ["#1a1a1a" if r["is_self"] else "#767676" for r in rows], "width": 1.5},
        "pattern": {"shape": ["/" if r["is_self"] else "" for r in rows], "fgcolor": "#FFFFFF", "size": 8}},
        "name": "Areas", "showlegend": False, "hovertemplate": "%{y}: %{x}<extra></extra>"}]
    annotations = [{"xref": "paper", "yref": "y", "x": 1.0, "y": lab, "xanchor": "right", "showarrow": False,
                    "text": f"<b>{_value_text(ind, v)}</b>" if r["is_self"] else _value_text(ind, v),
                    "font": {"size": 15}} for lab, v, r in zip(labels, values, rows, strict=True)]
    shapes = []
    band = neighbours_band(ranked, level)
    if band:
        lo, hi, mean, k = band
        top = max(top, hi)
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": max(lo, 0.0), "x1": hi, "y0": 0, "y1": 1,
                       "fillcolor": NEIGHBOURS, "opacity": 0.14, "line": {"width": 0}, "layer": "below"})
        for edge in (max(lo, 0.0), hi):  # the edges drawn solid enough for a projector
            shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": edge, "x1": edge, "y0": 0, "y1": 1,
                           "line": {"color": NEIGHBOURS, "width": 2, "dash": "dash"}, "layer": "below"})
        data.append({"type": "scatter", "mode": "markers", "x": [None], "y": [None], "hoverinfo": "skip",
                     "marker": {"symbol": "square", "size": 16, "color": NEIGHBOURS, "opacity": 0.35},
                     "name": f"Neighbours' {level:.0%} range {_value_text(ind, max(lo, 0.0))}–{_value_text(ind, hi)}"})
    for value, name, colour, dash in ((england, "England", ENGLAND, "dot"), (region, region_name, REGION, "dashdot")):
        if not is_number(value):
            continue
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": float(value), "x1": float(value),
                       "y0": 0, "y1": 1, "line": {"color": colour, "width": 3, "dash": dash}})
        data.append(_line([None], [None], f"{name} {_value_text(ind, value)}", colour, dash, 3))
    return {"data": data, "layout": _layout(
        max(300, 40 * len(rows) + 130), showlegend=True,
        margin={"l": 10, "r": 20, "t": 50, "b": 50},
        xaxis={"type": "linear", "showgrid": True, "gridcolor": "#E0E0E0", "range": [0, top * 1.05],
               "domain": [0, 0.86], "title": {"text": axis_title(ind)}},
        yaxis={"type": "category", "automargin": True, "gridcolor": "#FFFFFF"},
        shapes=shapes, annotations=annotations, bargap=0.25)}


def funnel_dispersion(comp_rows: Sequence[dict]) -> tuple[str, float | None, float | None]:
    """(adjustment, phi, tau²) the comparators carry for their indicator and year (``with_dispersion``)."""
    for r in comp_rows:
        adj = r.get("funnel_adjustment")
        if adj in ("additive", "none"):
            return str(adj), _f(r.get("overdispersion_phi")), _f(r.get("random_effects_tau2"))
    return "", None, None


def funnel_adjustment_text(ind: Indicator, adjustment: str, phi: Any, tau2: Any) -> str:
    """What the funnel's limits allow for, in words, with φ and τ² (empty when nothing was estimated)."""
    if adjustment == "additive" and is_number(phi) and is_number(tau2):
        return (f"Limits widened for over-dispersion (φ = {float(phi):,.1f}, τ² = {float(tau2):,.4g}; "
                f"spread between areas τ = {_value_text(ind, float(tau2) ** 0.5)})")
    if adjustment == "none" and is_number(phi):
        return f"Exact limits: no over-dispersion (φ = {float(phi):,.2f})"
    return ""


def funnel_figure(ind: Indicator, comp_rows: Sequence[dict], england: Any, names: dict[str, str],
                  limits: dict[str, list[float]] | None = None) -> dict:
    """Every local authority by size (denominator) and value, with England's 95% and 99.8% funnel limits.

    When the comparators say the indicator is over-dispersed that year (``funnel_adjustment`` "additive"), the
    limits drawn are Spiegelhalter's additive random-effects limits θ ± z·sqrt(s² + τ²), the ones the dataset's
    ``funnel`` and ``vs_england`` use, and the chart says so with φ and τ².
    """
    las = [r for r in comp_rows if r.get("role") in ("self", "neighbour", "la")
           and is_number(r.get("value")) and is_number(r.get("denominator")) and float(r["denominator"]) > 0]
    adjustment, phi, tau2 = funnel_dispersion(comp_rows)
    if adjustment == "additive" and tau2 is not None:
        xs = [float(r["denominator"]) for r in las]
        limits = funnel_limits_for(ind, england, xs, tau2=tau2) or limits
    note = funnel_adjustment_text(ind, adjustment, phi, tau2)
    data: list[dict] = []
    if limits:
        xs = limits["x"]
        suffix = " (adjusted)" if adjustment == "additive" else ""
        for key, name, dash in (("hi998", "99.8% limits", "dot"), ("hi95", "95% limits", "dash")):
            lo_key = key.replace("hi", "lo")
            data.append(_line(xs, limits[key], name + suffix, "#333333", dash, 2, hoverinfo="skip"))
            data.append(_line(xs, limits[lo_key], name, "#333333", dash, 2, hoverinfo="skip", showlegend=False))
        if is_number(england):
            data.append(_line([xs[0], xs[-1]], [float(england)] * 2, f"England {_value_text(ind, england)}",
                              ENGLAND, "solid", 2))
    for role, name, colour, symbol, size in (("la", "Other local authorities", "#8C8C8C", "circle", 8),
                                             ("neighbour", "Statistical neighbours", NEIGHBOURS, "diamond", 12),
                                             ("self", "This area", THIS_AREA, "star", 22)):
        pts = [r for r in las if r.get("role") == role]
        if not pts:
            continue
        data.append({"type": "scatter", "mode": "markers+text" if role == "self" else "markers",
                     "x": [float(r["denominator"]) for r in pts], "y": [float(r["value"]) for r in pts],
                     "name": name, "marker": {"color": colour, "symbol": symbol, "size": size,
                                              "line": {"color": "#1a1a1a", "width": 1}},
                     "text": [names.get(r["area_code"], r.get("area_name", "")) for r in pts] if role == "self" else None,
                     "textposition": "top center", "textfont": {"size": 16},
                     "hovertext": [names.get(r["area_code"], r.get("area_name", "")) for r in pts],
                     "hoverinfo": "text+x+y", "cliponaxis": False})
    denom = "Children aged 0 to 17" if ind.unit == Unit.rate_per_10000 else "Number of cases (denominator)"
    # the note sits inside the plot, top left (the legend is above it), on white so points don't hide it
    annotations = [{"xref": "paper", "yref": "paper", "x": 0.01, "y": 0.99, "xanchor": "left", "yanchor": "top",
                    "showarrow": False, "text": note, "font": {"size": 14}, "bgcolor": "rgba(255,255,255,0.85)",
                    "bordercolor": "#767676", "borderwidth": 1, "borderpad": 3}] if note else []
    return {"data": data, "layout": _layout(
        420, xaxis={"type": "log", "title": {"text": denom}, "showgrid": True, "gridcolor": "#EEEEEE"},
        yaxis={"title": {"text": axis_title(ind)}}, annotations=annotations)}


def funnel_limits_for(ind: Indicator, england: Any, denominators: Sequence[float],
                      tau2: float | None = None) -> dict[str, list[float]] | None:
    """England's funnel limits over the range of the areas' denominators (95% and 99.8%).

    Exact binomial/Poisson limits (``indicators.intervals.funnel_limits``); with ``tau2`` (an over-dispersed
    indicator), the additive random-effects limits θ ± z·sqrt(s² + τ²) instead.
    """
    from indicators.intervals import additive_funnel_limits, funnel_limits, null_standard_error

    d = np.asarray([float(x) for x in denominators if is_number(x) and float(x) > 0])
    if not is_number(england) or not len(d) or ind.unit not in (Unit.percentage, Unit.rate_per_10000):
        return None
    xs = np.geomspace(max(d.min() * 0.8, 1.0), d.max() * 1.2, 60)
    kind, per = ("proportion", 100.0) if ind.unit == Unit.percentage else ("rate", 10_000.0)
    out = {"x": xs.tolist()}
    for level, tag in ((0.95, "95"), (0.998, "998")):
        if tau2 is not None:
            s = null_standard_error(float(england), xs, kind, per)
            lo, hi = additive_funnel_limits(float(england), s, float(tau2), level, per=per if kind == "proportion" else None)
        else:
            lo, hi = funnel_limits(float(england), xs, level=level, kind=kind, per=per)
        out[f"lo{tag}"] = np.asarray(lo, dtype=float).tolist()
        out[f"hi{tag}"] = np.asarray(hi, dtype=float).tolist()
    return out


# --- small multiples ----------------------------------------------------------------------------------

def sparkline_svg(ind: Indicator, history: Sequence[dict], width: int = 440, height: int = 90) -> str:
    """A small trend line as a plain SVG image: the values, the target (dashed) and the latest point.

    Drawn server-side as an image rather than as a Plotly chart: a priority page has a dozen or more of these,
    and a static picture needs no charting library, no hover and almost no time to draw.
    """
    y = [_f(r.get("value")) for r in history]
    target = [_f(r.get("target")) for r in history]
    values = [v for v in y + target if v is not None]
    pad = 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">']
    if values and len(y) >= 1:
        lo, hi = min(values), max(values)
        span = (hi - lo) or (abs(hi) or 1.0)
        if hi == lo:
            lo, hi = lo - span / 2, hi + span / 2
        n = len(y)

        def px(i: int) -> float:
            return pad + (width - 2 * pad) * (i / (n - 1) if n > 1 else 0.5)

        def py(v: float) -> float:
            return height - pad - (height - 2 * pad) * (v - lo) / (hi - lo)

        t = [(px(i), py(v)) for i, v in enumerate(target) if v is not None]
        if len(t) > 1:
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in t)
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{TARGET}" stroke-width="2" '
                         'stroke-dasharray="8 5"/>')
        run: list[tuple[float, float]] = []
        runs = []
        for i, v in enumerate(y):
            if v is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append((px(i), py(v)))
        if run:
            runs.append(run)
        for r in runs:
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in r)
            parts.append(f'<polyline points="{pts}" fill="none" stroke="{THIS_AREA}" stroke-width="3" '
                         'stroke-linejoin="round"/>')
            parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" fill="{THIS_AREA}"/>' for a, b in r]
        if runs:
            a, b = runs[-1][-1]
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="6" fill="{THIS_AREA}" stroke="#1a1a1a" '
                         'stroke-width="1.5"/>')
    parts.append("</svg>")
    return "".join(parts)


def svg_data_uri(svg: str) -> str:
    from urllib.parse import quote

    return "data:image/svg+xml;charset=utf-8," + quote(svg)


def sparkline_title(ind: Indicator, history: Sequence[dict]) -> str:
    """"Trend: 155 in 2023-24 Q3 → 147 in 2026-27 Q2", so the line's ends can be read without axes."""
    known = [r for r in history if is_number(r.get("value"))]
    if not known:
        return "Trend: no values yet"
    first, last = known[0], known[-1]
    if first is last:
        return f"Trend: {_value_text(ind, last['value'])} in {last['period']}"
    return (f"Trend: {_value_text(ind, first['value'])} in {first['period']} → "
            f"{_value_text(ind, last['value'])} in {last['period']}")
