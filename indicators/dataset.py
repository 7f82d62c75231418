"""The multi-agency dataset: one function builds everything the dashboard and the exports read.

``build_dataset`` is pure and deterministic: DataFrames in, a ``Dataset`` out. Column by column it is
documented in ``docs/dataset.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from indicators.benchmarking import published_values
from indicators.board import Board
from indicators.compare import COMPARABLE_UNITS, COMPARATOR_COLUMNS, compare
from indicators.definitions import Library, Polarity, Unit
from indicators.exceptions import (
    EXCEPTION_COLUMNS,
    exception_reasons,
    rag_rating,
    sort_key,
    travel,
)
from indicators.forecast import forecast_baseline
from indicators.periods import Quarter
from indicators.spc import xmr_frame
from indicators.values import compute_values

FORECAST_COLUMNS = ["forecast", "forecast_lo80", "forecast_hi80", "forecast_lo95", "forecast_hi95"]


@dataclass
class Dataset:
    """The computed multi-agency dataset (see docs/dataset.md)."""

    frame: pd.DataFrame
    exceptions: pd.DataFrame
    comparators: pd.DataFrame
    indicators: pd.DataFrame
    period: Quarter | None
    area_code: str | None
    periods: list[Quarter] = field(default_factory=list)

    def series(self, indicator_id: str, area_code: str | None = None, forecast: bool = True) -> pd.DataFrame:
        """One indicator's rows for one area, in period order."""
        area = area_code or self.area_code
        f = self.frame
        out = f[(f["indicator_id"] == indicator_id) & (f["area_code"] == area)]
        if not forecast:
            out = out[~out["is_forecast"]]
        return out.sort_values("period_index")

    def at(self, period: Quarter | None = None, area_code: str | None = None) -> pd.DataFrame:
        """Every indicator's row for one period and area."""
        p = period or self.period
        area = area_code or self.area_code
        f = self.frame
        return f[(f["area_code"] == area) & (f["period"] == p.label) & ~f["is_forecast"]]


def indicator_table(library: Library, board: Board | None = None) -> pd.DataFrame:
    rows = []
    for ind in library.indicators.values():
        target, tolerance = board.target_for(ind) if board else (ind.target, ind.tolerance)
        rows.append({
            "indicator_id": ind.id, "title": ind.title, "label": ind.label, "definition": ind.definition,
            "question": ind.question.value, "unit": ind.unit.value, "period_type": ind.period_type.value,
            "polarity": ind.polarity.value, "priorities": ";".join(ind.priorities), "agency": ind.agency,
            "numerator": ind.numerator, "denominator": ind.denominator or "", "target": target,
            "tolerance": tolerance, "has_benchmark": ind.benchmark is not None,
            "suppress_below": ind.suppress_below, "decimals": ind.decimals,
        })
    return pd.DataFrame(rows)


def _quarterly_comparators(values: pd.DataFrame, library: Library, areas: pd.DataFrame | None) -> pd.DataFrame:
    """Other areas' own quarterly values as comparators, with England (and regions) as sums of their parts."""
    comparable = [i.id for i in library.indicators.values() if i.unit in COMPARABLE_UNITS]
    v = values[values["indicator_id"].isin(comparable) & (values["status"] == "ok")]
    if v.empty:
        return pd.DataFrame(columns=COMPARATOR_COLUMNS)
    la = pd.DataFrame({
        "indicator_id": v["indicator_id"], "area_code": v["area_code"], "area_name": v["area_code"],
        "level": "la", "region_code": None, "key_kind": "quarter", "key": v["period_index"],
        "value": v["value"], "numerator": v["numerator"], "denominator": v["denominator"],
        "lower": v["lower"], "upper": v["upper"],
    })
    if areas is not None and not areas.empty:
        names = areas.set_index("area_code")
        la["area_name"] = la["area_code"].map(names["area_name"]).fillna(la["area_code"])
        la["region_code"] = la["area_code"].map(names["region_code"])
    scale = {i: (100.0 if library.indicator(i).unit == Unit.percentage else 10_000.0) for i in comparable}
    parts = [la]
    for level, key_cols in (("england", []), ("region", ["region_code"])):
        if level == "region" and la["region_code"].isna().all():
            continue
        g = la.groupby(["indicator_id", "key"] + key_cols, dropna=True)[["numerator", "denominator"]].sum().reset_index()
        g["value"] = g["numerator"] / g["denominator"] * g["indicator_id"].map(scale)
        g["level"] = level
        g["key_kind"] = "quarter"
        g["area_code"] = g["region_code"] if level == "region" else "E92000001"
        g["area_name"] = g["area_code"] if level == "region" else "England"
        if level == "england":
            g["region_code"] = None
        g["lower"] = np.nan
        g["upper"] = np.nan
        parts.append(g[COMPARATOR_COLUMNS])
    return pd.concat(parts, ignore_index=True)[COMPARATOR_COLUMNS]


def _spc(frame: pd.DataFrame, library: Library, targets: dict) -> pd.DataFrame:
    """SPC columns for every indicator × area series (one vectorised call), icons repeated on each row."""
    f = frame[["indicator_id", "area_code", "period_index", "value"]].copy()
    polarity = {i.id: i.polarity for i in library.indicators.values()}
    f["improvement"] = f["indicator_id"].map({k: p.improvement for k, p in polarity.items()})
    # assurance needs a target and a direction: context indicators get none
    f["target"] = f["indicator_id"].map({k: (v[0] if polarity[k] != Polarity.context and v[0] is not None else np.nan)
                                         for k, v in targets.items()}).astype(float)
    res = xmr_frame(f, by=["indicator_id", "area_code"], order="period_index", value="value",
                    improvement_col="improvement", target_col="target")
    pts = res.points
    out = pd.DataFrame(index=f.index)
    out["spc_mean"] = pts["mean"].astype(float)
    out["spc_lpl"] = pts["lpl"].astype(float)
    out["spc_upl"] = pts["upl"].astype(float)
    out["spc_point_type"] = pts["point_type"].astype(object).where(pts["point_type"].notna(), "")
    out["spc_rule"] = pts["rule"].astype(object).where(pts["rule"].notna(), "")
    out["spc_direction"] = pts["direction"].astype(float)
    icons = res.series.set_index(["indicator_id", "area_code"])[["variation", "assurance", "trial_limits"]]
    key = pd.MultiIndex.from_frame(f[["indicator_id", "area_code"]])
    for col in ("variation", "assurance"):
        vals = icons[col].reindex(key).to_numpy(dtype=object)
        out[col] = np.where(pd.isna(vals), "", vals)
    out["trial_limits"] = icons["trial_limits"].reindex(key).fillna(True).astype(bool).to_numpy()
    return out


def build_dataset(measures: pd.DataFrame, library: Library, board: Board | None = None,
                  population: pd.DataFrame | None = None, benchmarks: pd.DataFrame | None = None,
                  neighbours: pd.DataFrame | None = None, areas: pd.DataFrame | None = None,
                  returns: pd.DataFrame | None = None, focal_areas: list[str] | None = None,
                  period: Quarter | None = None, horizon: int = 4, forecasts: bool = True) -> Dataset:
    """Build the whole multi-agency dataset.

    ``measures``: area_code, period, measure, value, status (the current version of every return).
    ``population``: area_code, year (mid-year), population — ONS children aged 0 to 17.
    ``benchmarks``: stored EES rows (see ``indicators.benchmarking.BENCHMARK_COLUMNS``).
    ``neighbours``: area_code, neighbour_code, rank. ``areas``: area_code, area_name, level, region_code.
    ``returns``: agency_code, agency_name, period, late, revised — the return status, for data exceptions.
    ``focal_areas``: the areas reported on (default: the board's local authority, else every area).
    ``period``: the quarter exceptions are raised for (default: the latest quarter anything was returned for).
    """
    own = board.local_authority.ons_code if board else None
    values = compute_values(measures, library, population)
    if focal_areas is None:
        focal_areas = [own] if own else sorted(values["area_code"].unique())
    focal = values[values["area_code"].isin(focal_areas)].copy()
    targets = {i.id: (board.target_for(i) if board else (i.target, i.tolerance)) for i in library.indicators.values()}

    # comparators: published annual values and, when other areas report quarterly, theirs
    published = published_values(benchmarks, library, population)
    comp_parts = []
    if not published.empty:
        p = published.rename(columns={"year": "key"})
        p["key_kind"] = "year"
        comp_parts.append(p[COMPARATOR_COLUMNS])
    if values["area_code"].nunique() > 1:
        comp_parts.append(_quarterly_comparators(values, library, areas))
    comparators = pd.concat(comp_parts, ignore_index=True) if comp_parts else pd.DataFrame(columns=COMPARATOR_COLUMNS)

    # targets and RAG
    focal["target"] = focal["indicator_id"].map({k: v[0] for k, v in targets.items()}).astype(float)
    focal["tolerance"] = focal["indicator_id"].map({k: v[1] for k, v in targets.items()}).astype(float)
    focal["unit"] = focal["indicator_id"].map({i.id: i.unit.value for i in library.indicators.values()})
    focal["polarity"] = focal["indicator_id"].map({i.id: i.polarity.value for i in library.indicators.values()})
    focal = focal.sort_values(["indicator_id", "area_code", "period_index"], kind="stable").reset_index(drop=True)
    rag = np.full(len(focal), "", dtype=object)
    for ind_id, idx in focal.groupby("indicator_id").indices.items():
        ind = library.indicator(ind_id)
        t, tol = targets[ind_id]
        rag[idx] = rag_rating(focal["value"].to_numpy()[idx], t, tol, ind.polarity,
                              decimals=0 if ind.unit == Unit.count else ind.decimals)
    focal["rag"] = rag

    # SPC
    spc = _spc(focal, library, targets)
    for c in spc.columns:
        focal[c] = spc[c].to_numpy()

    # direction of travel and trend
    g = focal.groupby(["indicator_id", "area_code"], sort=False)["value"]
    focal["change_quarter"] = focal["value"] - g.shift(1)
    focal["change_year"] = focal["value"] - g.shift(4)
    tq = np.full(len(focal), "", dtype=object)
    ty = np.full(len(focal), "", dtype=object)
    for ind_id, idx in focal.groupby("indicator_id", sort=False).indices.items():
        pol = library.indicator(ind_id).polarity
        tq[idx] = travel(focal["change_quarter"].to_numpy()[idx], pol)
        ty[idx] = travel(focal["change_year"].to_numpy()[idx], pol)
    focal["travel_quarter"], focal["travel_year"] = tq, ty
    focal["trend_arrow"], focal["trend_length"] = trend_runs(focal)

    # comparisons
    regions = {}
    if areas is not None and not areas.empty:
        regions = areas.dropna(subset=["region_code"]).set_index("area_code")["region_code"].to_dict()
    if board:
        regions.setdefault(own, board.local_authority.region_code)
    nb = neighbours if neighbours is not None else pd.DataFrame(columns=["area_code", "neighbour_code", "rank"])
    focal = compare(focal, comparators, nb, regions, library)
    focal = focal.drop(columns=["key_kind", "key"])

    # the current period
    if period is None and len(focal):
        # the latest quarter anything was returned for, even if no value can be computed yet
        period = Quarter.from_index(int(focal["period_index"].max()))
    periods = sorted({Quarter.from_index(int(i)) for i in focal["period_index"].unique()})

    # turn-the-curve baselines: a forecast of the next quarters from the history up to the current period
    focal["is_forecast"] = False
    focal["forecast_method"] = ""
    for c in FORECAST_COLUMNS:
        focal[c] = np.nan
    extra = []
    if forecasts and period is not None:
        extra = _forecasts(focal, library, period, horizon)
    frame = pd.concat([focal] + extra, ignore_index=True) if extra else focal

    exceptions = _exceptions(frame, library, board, returns, period) if period else pd.DataFrame(columns=EXCEPTION_COLUMNS)
    codes = exceptions.groupby(["indicator_id", "area_code"])["code"].apply(lambda s: ";".join(dict.fromkeys(s)))
    worst = exceptions.assign(o=exceptions["severity"].map({"high": 0, "medium": 1, "low": 2, "positive": 3})) \
        .sort_values("o").groupby(["indicator_id", "area_code"])["severity"].first()
    frame["exception_codes"] = ""
    frame["exception_severity"] = ""
    if period is not None and len(exceptions):
        cur = (frame["period"] == period.label) & ~frame["is_forecast"]
        key = pd.MultiIndex.from_frame(frame.loc[cur, ["indicator_id", "area_code"]])
        frame.loc[cur, "exception_codes"] = codes.reindex(key).fillna("").to_numpy()
        frame.loc[cur, "exception_severity"] = worst.reindex(key).fillna("").to_numpy()
    frame = frame.sort_values(["indicator_id", "area_code", "period_index"], kind="stable").reset_index(drop=True)
    return Dataset(frame=frame, exceptions=exceptions, comparators=comparators,
                   indicators=indicator_table(library, board), period=period,
                   area_code=own or (focal_areas[0] if focal_areas else None), periods=periods)


def trend_runs(focal: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For every row, the direction of the run of quarter-on-quarter moves ending there and how long it has lasted.

    The same as ``indicators.exceptions.trend_run`` on each prefix of each series, for the whole frame at once:
    a missing value ends a run; equal values make a run of "→".
    """
    d = np.sign(np.round(focal["change_quarter"].to_numpy(dtype=float), 9))
    series = (focal["indicator_id"] + "\x1f" + focal["area_code"]).to_numpy()
    new_series = np.r_[True, series[1:] != series[:-1]]
    prev = np.r_[np.nan, d[:-1]]
    starts = new_series | np.isnan(d) | (d != prev) | np.isnan(prev)
    run_id = np.cumsum(starts)
    position = np.arange(len(d)) - np.r_[0, np.flatnonzero(starts)][run_id] if len(d) else np.zeros(0, int)
    lengths = np.where(np.isnan(d), 0, position + 1).astype(int)
    arrows = np.select([d > 0, d < 0, d == 0], ["↑", "↓", "→"], "").astype(object)
    return arrows, lengths


def _forecasts(focal: pd.DataFrame, library: Library, period: Quarter, horizon: int) -> list[pd.DataFrame]:
    rows = []
    hist = focal[focal["period_index"] <= period.index]
    for (ind_id, area), g in hist.groupby(["indicator_id", "area_code"], sort=False):
        vals = g["value"].to_numpy(dtype=float)
        if not np.isfinite(vals).any():
            continue
        ind = library.indicator(ind_id)
        upper_bound = 100.0 if ind.unit == Unit.percentage else None
        b = forecast_baseline(vals, horizon=horizon, lower_bound=0.0, upper_bound=upper_bound)
        fc = b.forecast
        for step in range(len(fc)):
            q = period + (step + 1)
            rows.append({
                "indicator_id": ind_id, "area_code": area, "period": q.label, "period_index": q.index,
                "period_end": q.end, "is_forecast": True, "status": "forecast",
                "unit": ind.unit.value, "polarity": ind.polarity.value,
                "target": g["target"].iat[0], "tolerance": g["tolerance"].iat[0],
                "forecast": fc["point"].iat[step], "forecast_lo80": fc["lo80"].iat[step],
                "forecast_hi80": fc["hi80"].iat[step], "forecast_lo95": fc["lo95"].iat[step],
                "forecast_hi95": fc["hi95"].iat[step], "forecast_method": b.method_label,
            })
        focal.loc[g.index, "forecast_method"] = b.method_label
    return [pd.DataFrame(rows)] if rows else []


def _exceptions(frame: pd.DataFrame, library: Library, board: Board | None, returns: pd.DataFrame | None,
                period: Quarter) -> pd.DataFrame:
    cur = frame[(frame["period"] == period.label) & ~frame["is_forecast"]]
    flags_by_agency: dict[str, dict] = {}
    if returns is not None and not returns.empty:
        r = returns[returns["period"] == period.label]
        for _, row in r.iterrows():
            flags_by_agency[row["agency_code"]] = {
                "late": bool(row.get("late", False)), "revised": bool(row.get("revised", False)),
                "agency_name": row.get("agency_name", row["agency_code"]),
            }
    bottom = board.thresholds.bottom_quartile if board else True
    late_ok = board.thresholds.late_is_exception if board else True
    revised_ok = board.thresholds.revised_is_exception if board else True
    priorities = [p.id for p in board.priorities] if board else None
    out = []
    for _, row in cur.iterrows():
        ind = library.indicator(row["indicator_id"])
        flags = dict(flags_by_agency.get(ind.agency, {}))
        flags["late"] = flags.get("late", False) and late_ok
        flags["revised"] = flags.get("revised", False) and revised_ok
        reasons = exception_reasons(row, ind, flags, bottom_quartile=bottom)
        for pid in ind.priorities:
            if priorities is not None and pid not in priorities:
                continue
            for code, severity, sentence in reasons:
                out.append({"indicator_id": ind.id, "area_code": row["area_code"], "period": period.label,
                            "priority_id": pid, "code": code, "severity": severity,
                            "sort_key": sort_key(severity, code), "sentence": sentence})
    ex = pd.DataFrame(out, columns=EXCEPTION_COLUMNS)
    return ex.sort_values(["priority_id", "sort_key", "indicator_id"], kind="stable").reset_index(drop=True)
