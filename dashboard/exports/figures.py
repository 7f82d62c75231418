"""An indicator's four charts as Plotly figures, built from a view the way the indicator page builds them."""

from __future__ import annotations

from typing import Any

from dashboard.components.charts import (
    baseline_figure,
    benchmark_figure,
    funnel_figure,
    funnel_limits_for,
    ranked_comparators,
    spc_figure,
)
from dashboard.data import View
from dashboard.formatting import is_number, year_label
from dashboard.summaries import spc_title
from indicators.definitions import Indicator
from indicators.periods import Quarter

KIND_TITLES = {
    "baseline": "history and forecast (turn the curve)",
    "spc": "statistical process control chart",
    "neighbours": "compared with its statistical neighbours",
    "funnel": "funnel plot against England",
}


def comparison_inputs(v: View, ind: Indicator, row: dict | None, period: Quarter) -> dict[str, Any]:
    """The rows the neighbours chart and the funnel plot draw, and what to say about them.

    The comparisons in the dataset set this area's own latest value against the others' published year, so the
    charts do too (its own published figure for that year would disagree with the sentences).
    """
    comp, key = v.comparator_values(ind.id, period)
    rows = comp.to_dict("records") if len(comp) else []
    year = key[1] if key and key[0] == "year" else None
    own, note, own_period = "", None, None
    if rows and year is not None and row and is_number(row.get("value")):
        rows = [r for r in rows if r.get("role") != "self"]
        rows.append({"indicator_id": ind.id, "area_code": v.area_code, "area_name": v.area_name, "level": "la",
                     "role": "self", "value": float(row["value"]), "numerator": row.get("numerator"),
                     "denominator": row.get("denominator")})
        own, own_period = f" in {period}", str(period)
        note = (f"{v.area_name}'s value is its own for {period}; the other areas' are the figures DfE published "
                f"for {year_label(year)}, the latest year the comparison uses.")
    england = next((r["value"] for r in rows if r.get("role") == "england"), None)
    region = next((r["value"] for r in rows if r.get("role") == "region"
                   and r.get("area_code") == v.board.local_authority.region_code), None)
    when = f" ({year_label(year)})" if year else (f" ({key[1]})" if key else "")
    return {"rows": rows, "key": key, "year": year, "own": own, "own_period": own_period, "note": note,
            "england": england, "region": region, "when": when}


def indicator_figure(view: View, ind: Indicator, period: Quarter, kind: str) -> tuple[dict, str] | None:
    """(figure, title) of one chart of ``ind`` as it stood at ``period``; None when it cannot be drawn."""
    pv = view.at_period(period)
    history = pv.history(ind.id)
    if not any(is_number(r.get("value")) for r in history) and kind in ("baseline", "spc"):
        return None
    if kind == "baseline":
        return baseline_figure(ind, history, pv.forecast(ind.id), None, pv.curve(ind.id)), \
            f"{ind.label}: history and forecast"
    if kind == "spc":
        return spc_figure(ind, history, None), spc_title(ind, history)
    row = pv.row(ind.id)
    c = comparison_inputs(pv, ind, row, period)
    if not c["rows"]:
        return None
    if kind == "neighbours":
        ranked = ranked_comparators(ind, c["rows"])
        if not ranked:
            return None
        return (benchmark_figure(ind, ranked, pv.area_names, c["england"], c["region"], pv.region_name,
                                 level=pv.board.thresholds.significance),
                f"{pv.area_name}{c['own']} and its statistical neighbours{c['when']}")
    if kind == "funnel":
        las = [r for r in c["rows"] if r.get("role") in ("self", "neighbour", "la")]
        limits = funnel_limits_for(ind, c["england"], [r.get("denominator") for r in las])
        return (funnel_figure(ind, c["rows"], c["england"], pv.area_names, limits),
                f"Funnel plot: every local authority against England{c['when']}")
    raise ValueError(kind)
