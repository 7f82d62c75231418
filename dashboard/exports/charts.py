"""Charts as files, rendered on this computer: PNG, SVG or PDF with a title, the period, the polarity, the
source and a "produced on" line.

Rendering uses kaleido 1.x, which drives the machine's own Chromium (Debian's ``/usr/bin/chromium``) with
Plotly's JavaScript from the installed plotly package and MathJax switched off, so rendering a chart asks no
other host for anything. One browser is kept running for a batch (``renderer()``; the board pack renders all
its charts with it) and closed when the process ends.
"""

from __future__ import annotations

import atexit
import copy
import threading
from pathlib import Path

from dashboard.data import View
from dashboard.exports.common import ExportError, produced_on, sources_line, write_error
from dashboard.exports.figures import KIND_TITLES, indicator_figure
from dashboard.formatting import POLARITY_WORDS
from etl.safe_cells import atomic_path
from indicators.definitions import Indicator
from indicators.periods import Quarter

KINDS = ("baseline", "spc", "neighbours", "funnel")
FORMATS = ("png", "svg", "pdf")
#: (width, height) in CSS pixels: a 16:9 slide, and A4 landscape at 96 per inch
SIZES = {"slide": (1600, 900), "a4": (1123, 794)}
PNG_SCALE = 2  # PNGs at twice the size, sharp on a projector or in print

_lock = threading.Lock()
_started = False


def _plotly_js() -> str:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ExportError("plotly's own plotly.min.js is missing, so charts cannot be drawn without asking "
                          "another host for it: reinstall plotly (`pip install --force-reinstall plotly`).")
    return str(path)


def renderer() -> None:
    """Start the one kept browser (once per process); later renders reuse it."""
    global _started
    with _lock:
        if _started:
            return
        try:
            import kaleido
        except ImportError as exc:
            raise ExportError("chart export needs kaleido: `pip install 'kaleido>=1,<2'` (it is in the project's "
                              "dependencies: run `make install`).") from exc
        try:
            kaleido.start_sync_server(n=1, timeout=120, plotlyjs=_plotly_js(), mathjax=False, silence_warnings=True)
        except Exception as exc:  # no Chromium, or it would not start
            raise ExportError(f"the chart renderer could not start Chromium ({type(exc).__name__}: {exc}). "
                              "Install Debian's chromium (`apt-get install chromium`).") from exc
        _started = True
        atexit.register(close)


def close() -> None:
    global _started
    with _lock:
        if not _started:
            return
        import kaleido

        try:
            kaleido.stop_sync_server(silence_warnings=True)
        finally:
            _started = False


def decorate(fig: dict, ind: Indicator, title: str, period: Quarter, view: View, size: str = "slide",
             publication: bool = False) -> dict:
    """The figure with what a chart in a paper needs: title, period and polarity above; source and date below."""
    w, h = SIZES[size]
    out = copy.deepcopy(fig)
    layout = out.setdefault("layout", {})
    sub = f"{view.area_name}, {period} · {POLARITY_WORDS.get(ind.polarity, '')}"
    layout["title"] = {"text": f"<b>{title}</b><br><span style='font-size:0.8em'>{sub}</span>",
                       "x": 0.01, "xanchor": "left", "y": 0.97, "yanchor": "top", "font": {"size": 24}}
    margin = dict(layout.get("margin") or {})
    margin.update({"t": 150, "b": max(int(margin.get("b", 70)), 70) + 60})
    layout["margin"] = margin
    layout["width"], layout["height"] = w, h
    legend = dict(layout.get("legend") or {})
    if legend.get("orientation") == "h":
        legend.update({"y": 1.0, "yanchor": "bottom"})
    layout["legend"] = legend
    foot = f"{sources_line(view)} {produced_on()}."
    if publication:
        foot += " Publication mode: values resting on a small number are not drawn."
    notes = list(layout.get("annotations") or [])
    notes.append({"text": foot, "xref": "paper", "yref": "paper", "x": 0, "y": 0, "yshift": -margin["b"] + 12,
                  "xanchor": "left", "yanchor": "bottom", "showarrow": False, "font": {"size": 13, "color": "#333"}})
    layout["annotations"] = notes
    return out


def _withhold(fig: dict, view: View, ind: Indicator, period: Quarter) -> dict:
    """Publication mode: drop this area's points that rest on a small number (or would give one away)."""
    from dashboard.exports.content import Published

    pub = Published(view.at_period(period))
    hidden = {Quarter.parse(w["period"]).short for w in pub.withheld
              if w["indicator_id"] == ind.id and w["column"] in ("value", "spc_value", "chart_value")}
    if not hidden:
        return fig
    out = copy.deepcopy(fig)
    for trace in out.get("data", []):
        xs, ys = trace.get("x"), trace.get("y")
        if isinstance(xs, list) and isinstance(ys, list) and len(xs) == len(ys):
            trace["y"] = [None if x in hidden else y for x, y in zip(xs, ys, strict=True)]
            if isinstance(trace.get("text"), list) and len(trace["text"]) == len(xs):
                trace["text"] = ["" if x in hidden else t for x, t in zip(xs, trace["text"], strict=True)]
    return out


def chart_figure(view: View, ind: Indicator, period: Quarter, kind: str, size: str = "slide",
                 publication: bool = False) -> dict:
    made = indicator_figure(view, ind, period, kind)
    if made is None:
        raise ExportError(f"there is no {kind} chart of {ind.label} for {period}: "
                          + ("it has no values to chart." if kind in ("baseline", "spc") else
                             "no published benchmark values have been imported for it."))
    fig, title = made
    if publication and kind in ("baseline", "spc"):
        fig = _withhold(fig, view, ind, period)
    return decorate(fig, ind, f"{title}", period, view, size, publication)


def render(fig: dict, fmt: str) -> bytes:
    """The figure as PNG, SVG or PDF bytes, from the kept browser."""
    import kaleido

    renderer()
    w = fig["layout"]["width"]
    h = fig["layout"]["height"]
    opts = {"format": fmt, "width": w, "height": h, "scale": PNG_SCALE if fmt == "png" else 1}
    try:
        return kaleido.calc_fig_sync(fig, opts=opts)
    except Exception as exc:
        raise ExportError(f"the chart could not be rendered ({type(exc).__name__}: {exc}).") from exc


def export_chart(view: View, ind: Indicator, period: Quarter, kind: str, fmt: str, path: str | Path,
                 size: str = "slide", publication: bool = False) -> tuple[int, int]:
    """Write one chart; returns its size (pixels for PNG, points for SVG/PDF, as rendered)."""
    if kind not in KINDS:
        raise ExportError(f"'{kind}' is not a chart kind. Choose one of: {', '.join(KINDS)}.")
    fig = chart_figure(view, ind, period, kind, size, publication)
    data = render(fig, fmt)
    target = Path(path)
    try:
        with atomic_path(target, "." + fmt) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        raise write_error(target, exc) from exc
    w, h = SIZES[size]
    return (w * PNG_SCALE, h * PNG_SCALE) if fmt == "png" else (w, h)


__all__ = ["KINDS", "FORMATS", "SIZES", "KIND_TITLES", "export_chart", "chart_figure", "render", "renderer",
           "close"]
