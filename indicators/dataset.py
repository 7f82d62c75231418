"""The multi-agency dataset: one function builds everything the dashboard and the exports read.

``build_dataset`` is pure and deterministic: DataFrames in, a ``Dataset`` out. Column by column it is
documented in ``docs/dataset.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from indicators import columns
from indicators.benchmarking import published_values
from indicators.board import Board
from indicators.compare import COMPARATOR_COLUMNS, compare, reporting_comparators, with_dispersion
from indicators.definitions import ChartSeries, Library, Polarity, Unit
from indicators.exceptions import (
    DATA_NOTE_COLUMNS,
    EXCEPTION_COLUMNS,
    SEVERITY_ORDER,
    data_notes,
    exception_reasons,
    rag_rating,
    sort_key,
    travel,
)
from indicators.forecast import curve_turned, forecast_many, freeze_baseline
from indicators.periods import Quarter
from indicators.spc import MATERIAL_DENOMINATOR_VARIATION, xmr_frame
from indicators.values import compute_values

FORECAST_COLUMNS = ["forecast", "forecast_lo80", "forecast_hi80", "forecast_lo95", "forecast_hi95"]
CURVE_COLUMNS = columns.names(columns.CURVES)
#: on forecast rows: the forecast of the quarter's own value behind the headline's (equal for flows and snapshots)
QUARTER_FORECAST_COLUMNS = ["forecast_quarter", "forecast_quarter_lo80", "forecast_quarter_hi80",
                            "forecast_quarter_lo95", "forecast_quarter_hi95"]


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
    curves: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CURVE_COLUMNS))
    data_notes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DATA_NOTE_COLUMNS))
    # the inputs the charts and later look-ups need again, kept so nobody reads them twice
    neighbours: pd.DataFrame | None = None
    areas: pd.DataFrame | None = None
    returns: pd.DataFrame | None = None
    inputs: dict = field(default_factory=dict, repr=False)
    """Everything ``build_dataset`` was given, so the dataset as it stood at an earlier quarter can be built."""

    def series(self, indicator_id: str, area_code: str | None = None, forecast: bool = True) -> pd.DataFrame:
        """One indicator's rows for one area, in period order."""
        area = area_code or self.area_code
        f = self.frame
        out = f[(f["indicator_id"] == indicator_id) & (f["area_code"] == area)]
        if not forecast:
            out = out[~out["is_forecast"]]
        return out.sort_values("period_index")

    def as_of(self, period: Quarter) -> Dataset:
        """The dataset as it stood at ``period``: built from the data up to that quarter only (SPC limits,
        forecasts, curve verdicts, exceptions, and comparisons with the DfE year available then)."""
        if self.period is not None and period == self.period and self.inputs.get("period") in (None, period):
            return self
        if not self.inputs:
            raise ValueError("this dataset was not built by build_dataset, so it cannot be rebuilt for a period")
        return build_dataset(**{**self.inputs, "period": period})

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


def _apply_target_changes(focal: pd.DataFrame, targets: dict, changes: dict[str, list] | None) -> pd.DataFrame:
    """Set each row's target and tolerance to the ones in effect in its quarter (``target_in_effect``)."""
    if not changes:
        return focal
    from indicators.board import target_in_effect

    t = focal["target"].to_numpy(dtype=float).copy()
    tol = focal["tolerance"].to_numpy(dtype=float).copy()
    ids, idx = focal["indicator_id"].to_numpy(), focal["period_index"].to_numpy()
    for ind_id, cs in changes.items():
        if ind_id not in targets or not cs:
            continue
        rows = np.flatnonzero(ids == ind_id)
        for i in rows:
            q = Quarter.from_index(int(idx[i]))
            a, b = target_in_effect(targets[ind_id], cs, q)
            t[i] = np.nan if a is None else a
            tol[i] = np.nan if b is None else b
    return focal.assign(target=t, tolerance=tol)


def _spc(frame: pd.DataFrame, library: Library, targets: dict,
         rebases: dict[str, list[Quarter]] | None = None, board: Board | None = None) -> pd.DataFrame:
    """SPC columns for every indicator × area series (one vectorised call), icons repeated on each row.

    Each indicator's chart plots what its definition declares (``chart_value``: the quarter's own figures,
    a related flow or, for a run chart, the headline); see ``Indicator.chart``. A percentage or rate whose
    denominators vary materially (``indicators.spc.denominators_vary``) gets Laney's p′ or u′ chart, anything
    else Making Data Count's XmR chart. ``rebases`` holds the recorded decisions to start a new segment
    (indicator id → first quarters of the new segments); nothing is rebased automatically.
    """
    f = frame[["indicator_id", "area_code", "period_index", "chart_value", "chart_denominator"]].copy()
    f["rebase"] = False
    for ind_id, quarters in (rebases or {}).items():
        f.loc[(f["indicator_id"] == ind_id) & f["period_index"].isin([q.index for q in quarters]), "rebase"] = True
    inds = library.indicators
    f["improvement"] = f["indicator_id"].map({k: i.polarity.improvement for k, i in inds.items()})
    # assurance needs a target on the chart's own scale and a direction: context indicators get none
    f["target"] = f["indicator_id"].map({
        k: (v[0] if inds[k].polarity != Polarity.context and v[0] is not None and inds[k].chart_on_headline_scale
            else np.nan) for k, v in targets.items()}).astype(float)
    f["chart"] = _chart_types(f, library)
    f["scale"] = f["indicator_id"].map({k: _SCALE.get(i.unit, 1.0) for k, i in inds.items()}).astype(float)
    beyond = board.spc.two_in_three_counts_beyond_limits if board else False
    res = xmr_frame(f, by=["indicator_id", "area_code"], order="period_index", value="chart_value",
                    improvement_col="improvement", target_col="target", rebase_col="rebase", chart_col="chart",
                    denominator_col="chart_denominator", scale_col="scale", two_in_three_includes_beyond=beyond)
    pts = res.points
    out = pd.DataFrame(index=f.index)
    out["spc_value"] = f["chart_value"].astype(float)
    out["spc_chart"] = f["chart"].astype(object)
    out["spc_mean"] = pts["mean"].astype(float)
    out["spc_lpl"] = pts["lpl"].astype(float)
    out["spc_upl"] = pts["upl"].astype(float)
    out["spc_point_type"] = pts["point_type"].astype(object).where(pts["point_type"].notna(), "")
    out["spc_rule"] = pts["rule"].astype(object).where(pts["rule"].notna(), "")
    out["spc_direction"] = pts["direction"].astype(float)
    out["spc_segment"] = pts["segment"].astype(int)
    icons = res.series.set_index(["indicator_id", "area_code"])[["variation", "assurance", "trial_limits"]]
    key = pd.MultiIndex.from_frame(f[["indicator_id", "area_code"]])
    for col in ("variation", "assurance"):
        vals = icons[col].reindex(key).to_numpy(dtype=object)
        out[col] = np.where(pd.isna(vals), "", vals)
    out["trial_limits"] = icons["trial_limits"].reindex(key).fillna(True).astype(bool).to_numpy()
    out["spc_rebase_proposal"] = _rebase_proposals(f, out, SHIFT_LENGTH)
    return out


_SCALE = {Unit.percentage: 100.0, Unit.rate_per_10000: 10_000.0}
SHIFT_LENGTH = 7
"""Points in a row on one side of the centre line that make a shift (Making Data Count's rule)."""


def _chart_types(f: pd.DataFrame, library: Library) -> np.ndarray:
    """Per row, the chart its series gets: run (declared), p′/u′ (a ratio of counts whose denominators vary
    materially over the series), else XmR."""
    chart = np.full(len(f), "xmr", dtype=object)
    inds = library.indicators
    run = f["indicator_id"].map({k: i.chart.plots == ChartSeries.run_chart for k, i in inds.items()})
    chart[run.to_numpy(dtype=bool)] = "run"
    laney_kind = {}
    for k, i in inds.items():
        counts = library.measures.get(i.chart.numerator or i.numerator)
        whole = counts is not None and counts.whole_number
        if i.chart.plots != ChartSeries.run_chart and whole and i.unit == Unit.percentage:
            laney_kind[k] = "p_prime"
        elif i.chart.plots != ChartSeries.run_chart and whole and i.unit == Unit.rate_per_10000:
            laney_kind[k] = "u_prime"
    candidates = f["indicator_id"].isin(list(laney_kind))
    if candidates.any():
        sub = f.loc[candidates, ["indicator_id", "area_code", "chart_denominator"]]
        n = sub["chart_denominator"].where(sub["chart_denominator"] > 0)
        g = n.groupby([sub["indicator_id"], sub["area_code"]])
        mean = g.transform("mean")
        spread = (n - mean).abs().groupby([sub["indicator_id"], sub["area_code"]]).transform("max")
        count = g.transform("count")
        varies = ((spread > MATERIAL_DENOMINATOR_VARIATION * mean) & (count >= 2)).to_numpy(dtype=bool)
        idx = np.flatnonzero(candidates.to_numpy())
        chart[idx[varies]] = sub["indicator_id"].map(laney_kind).to_numpy(dtype=object)[varies]
    return chart


def _rebase_proposals(f: pd.DataFrame, spc: pd.DataFrame, shift_length: int) -> np.ndarray:
    """The quarter a sustained shift started, on every row of a series whose latest points form one
    (``shift_length`` or more in a row on one side of the centre line, within the latest segment); empty
    elsewhere. It is the evidence for proposing a rebase there; nothing is rebased until someone decides so."""
    out = np.full(len(f), "", dtype=object)
    series = pd.MultiIndex.from_frame(f[["indicator_id", "area_code"]]).codes
    code = series[0].astype(np.int64) * (int(series[1].max(initial=0)) + 1) + series[1]
    period = f["period_index"].to_numpy()
    order = np.lexsort((period, code))
    side = np.sign(f["chart_value"].to_numpy(dtype=float) - spc["spc_mean"].to_numpy(dtype=float))[order]
    seg = spc["spc_segment"].to_numpy()[order]
    observed = np.isfinite(side) & (f["chart"].to_numpy()[order] != "run")
    rows, code_o, period_o = order[observed], code[order][observed], period[order][observed]
    side, seg = side[observed], seg[observed]
    if rows.size == 0:
        return out
    new_series = np.r_[True, code_o[1:] != code_o[:-1]]
    new_run = new_series | np.r_[True, (side[1:] != side[:-1]) | (seg[1:] != seg[:-1])]
    run = np.cumsum(new_run) - 1
    length = np.bincount(run)[run]
    start = period_o[new_run][run]
    last = np.r_[new_series[1:], True]
    hit = last & (side != 0) & (length >= shift_length)
    if hit.any():
        labels = {int(c): Quarter.from_index(int(p)).label for c, p in zip(code_o[hit], start[hit], strict=True)}
        found = pd.Series(code).map(labels)
        out = np.where(found.notna(), found.to_numpy(dtype=object), "")
    return out


def build_dataset(measures: pd.DataFrame, library: Library, board: Board | None = None,
                  population: pd.DataFrame | None = None, benchmarks: pd.DataFrame | None = None,
                  neighbours: pd.DataFrame | None = None, areas: pd.DataFrame | None = None,
                  returns: pd.DataFrame | None = None, focal_areas: list[str] | None = None,
                  period: Quarter | None = None, horizon: int = 4, forecasts: bool = True,
                  frozen: dict[str, Quarter] | None = None,
                  rebases: dict[str, list[Quarter]] | None = None,
                  target_changes: dict[str, list] | None = None) -> Dataset:
    """Build the whole multi-agency dataset.

    ``measures``: area_code, period, measure, value, status (the current version of every return).
    ``population``: area_code, year (mid-year), population — ONS children aged 0 to 17.
    ``benchmarks``: stored EES rows (see ``indicators.benchmarking.BENCHMARK_COLUMNS``).
    ``neighbours``: area_code, neighbour_code, rank. ``areas``: area_code, area_name, level, region_code.
    ``returns``: agency_code, agency_name, period, late, revised — the return status, for data exceptions.
    ``focal_areas``: the areas reported on (default: the board's local authority, else every area).
    ``period``: the quarter exceptions are raised for (default: the latest quarter anything was returned for).
    ``frozen``: indicator id → the quarter its baseline was frozen at (an action plan's start), for
    "has the curve turned?" (``Dataset.curves``). ``rebases``: indicator id → quarters where a recorded
    decision starts a new SPC segment. ``target_changes``: indicator id → recorded target or tolerance changes
    (``indicators.board.TargetChange``), each from a quarter on: every quarter's RAG is judged against the
    target in effect then, so earlier quarters keep the target they had.

    With ``period`` the dataset is the one that could have been built then: only the quarters up to it are
    used, and only the plans and rebases that had started by then, so an earlier quarter's page says what the
    data up to that quarter said (``Dataset.as_of``).
    """
    inputs = {k: v for k, v in locals().items() if k in _BUILD_ARGUMENTS}
    if period is not None and len(measures):
        labels = measures["period"].unique()
        index = measures["period"].map({p: Quarter.parse(p).index for p in labels})
        measures = measures[index <= period.index]
        frozen = {k: q for k, q in (frozen or {}).items() if q <= period}
        rebases = {k: [q for q in qs if q <= period] for k, qs in (rebases or {}).items()}
    own = board.local_authority.ons_code if board else None
    level = board.thresholds.significance if board else 0.95
    funnel_levels = (board.thresholds.funnel_warning, board.thresholds.funnel_alarm) if board else (0.95, 0.998)
    values = compute_values(measures, library, population, level=level)
    if focal_areas is None:
        focal_areas = [own] if own else sorted(values["area_code"].unique())
    focal = values[values["area_code"].isin(focal_areas)].copy()
    targets = {i.id: (board.target_for(i) if board else (i.target, i.tolerance)) for i in library.indicators.values()}

    # comparators: DfE's published annual values (England, regions, every LA, with each indicator × year's
    # over-dispersion) and, when several areas report into this store, their own quarterly values and pooled
    # value, kept apart from England's
    published = published_values(benchmarks, library, population, level=level)
    comp_parts = []
    if not published.empty:
        p = published.rename(columns={"year": "key"})
        p["key_kind"] = "year"
        comp_parts.append(p[COMPARATOR_COLUMNS])
    if values["area_code"].nunique() > 1:
        comp_parts.append(reporting_comparators(values, library, areas))
    comparators = pd.concat(comp_parts, ignore_index=True) if comp_parts else pd.DataFrame(columns=COMPARATOR_COLUMNS)
    comparators = with_dispersion(comparators, library)

    # targets and RAG: each quarter against the target in effect in it
    focal["target"] = focal["indicator_id"].map({k: v[0] for k, v in targets.items()}).astype(float)
    focal["tolerance"] = focal["indicator_id"].map({k: v[1] for k, v in targets.items()}).astype(float)
    focal = _apply_target_changes(focal, targets, target_changes)
    focal["unit"] = focal["indicator_id"].map({i.id: i.unit.value for i in library.indicators.values()})
    focal["polarity"] = focal["indicator_id"].map({i.id: i.polarity.value for i in library.indicators.values()})
    focal = focal.sort_values(["indicator_id", "area_code", "period_index"], kind="stable").reset_index(drop=True)
    rag = np.full(len(focal), "", dtype=object)
    tcol, tolcol = focal["target"].to_numpy(dtype=float), focal["tolerance"].to_numpy(dtype=float)
    for (ind_id, t, tol), idx in focal.groupby(["indicator_id", "target", "tolerance"], dropna=False).indices.items():
        ind = library.indicator(ind_id)
        t, tol = tcol[idx[0]], tolcol[idx[0]]
        rag[idx] = rag_rating(focal["value"].to_numpy()[idx], None if np.isnan(t) else float(t),
                              None if np.isnan(tol) else float(tol), ind.polarity,
                              decimals=0 if ind.unit == Unit.count else ind.decimals)
    focal["rag"] = rag
    if target_changes:  # SPC assurance judges the process against the target in effect at the dataset's quarter
        last = focal.groupby("indicator_id")[["target", "tolerance"]].last()
        targets = {**targets, **{k: (None if pd.isna(last.at[k, "target"]) else float(last.at[k, "target"]),
                                     targets[k][1]) for k in target_changes if k in last.index}}

    # SPC
    spc = _spc(focal, library, targets, rebases, board)
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
    focal = compare(focal, comparators, nb, regions, library, funnel_levels, level=level)
    focal = focal.drop(columns=["key_kind", "key"])

    # the current period
    if period is None and len(focal):
        # the latest quarter anything was returned for, even if no value can be computed yet
        period = Quarter.from_index(int(focal["period_index"].max()))
    periods = sorted({Quarter.from_index(int(i)) for i in focal["period_index"].unique()})

    # turn-the-curve baselines: a forecast of the next quarters from the history up to the current period
    focal["is_forecast"] = False
    focal["forecast_method"] = ""
    for c in FORECAST_COLUMNS + QUARTER_FORECAST_COLUMNS:
        focal[c] = np.nan
    extra = []
    if forecasts and period is not None:
        extra = _forecasts(focal, library, period, horizon)
    frame = pd.concat([focal] + extra, ignore_index=True) if extra else focal

    curves = _curves(focal, library, frozen or {}, horizon, min_difference={
        i.id: board.minimum_difference_for(i) if board else (i.minimum_difference or 0.0)
        for i in library.indicators.values()})
    exceptions = _exceptions(frame, library, board, period, curves) if period \
        else pd.DataFrame(columns=EXCEPTION_COLUMNS)
    notes = _data_notes(frame, library, board, returns, period) if period \
        else pd.DataFrame(columns=DATA_NOTE_COLUMNS)
    codes = exceptions.groupby(["indicator_id", "area_code"])["code"].apply(lambda s: ";".join(dict.fromkeys(s)))
    worst = exceptions.assign(o=exceptions["severity"].map(SEVERITY_ORDER)) \
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
                   area_code=own or (focal_areas[0] if focal_areas else None), periods=periods, curves=curves,
                   data_notes=notes, neighbours=neighbours, areas=areas, returns=returns, inputs=inputs)


_BUILD_ARGUMENTS = ("measures", "library", "board", "population", "benchmarks", "neighbours", "areas", "returns",
                    "focal_areas", "period", "horizon", "forecasts", "frozen", "rebases",
                    "target_changes")


def trend_runs(focal: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For every row, the direction of the run of quarter-on-quarter moves ending there and how long it has lasted.

    For each series, the run counts the quarter-on-quarter moves in the same direction (↑ rising, ↓ falling,
    → unchanged) ending with this row; a missing value ends a run and has none itself.
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


def _forecast_inputs(library: Library, ids) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per indicator: the kind of series the engine forecasts, whether its quarters are weighted by their
    denominators (percentages and mean days over a rolling or year-to-date window), and its bounds."""
    inds = [library.indicator(i) for i in ids]
    kind = np.array([i.period_type.value for i in inds], dtype=object)
    pooled = np.isin(kind, ("rolling_12m", "fytd"))
    ratio = pooled & np.array([i.unit in (Unit.percentage, Unit.days) for i in inds], dtype=bool)
    upper = np.array([100.0 if i.unit == Unit.percentage else np.nan for i in inds])
    return kind, pooled, ratio, upper


def _forecasts(focal: pd.DataFrame, library: Library, period: Quarter, horizon: int) -> list[pd.DataFrame]:
    """Forecast rows for every series from its history up to ``period`` (one batched call), and the method
    stated on every actual row of the series.

    Flows and snapshots are forecast from their values; rolling 12-month and year-to-date headlines from each
    quarter's own value (``quarter_value``, weighted by ``quarter_denominator`` for percentages and mean days),
    and built back up to the headline by the engine (``indicators.forecast``)."""
    hist = focal[focal["period_index"] <= period.index]
    if hist.empty:
        return []
    first = int(hist["period_index"].min())
    width = period.index - first + 1
    keys = hist[["indicator_id", "area_code"]].drop_duplicates().reset_index(drop=True)
    key_pos = pd.MultiIndex.from_frame(keys)
    rows = key_pos.get_indexer(pd.MultiIndex.from_frame(hist[["indicator_id", "area_code"]]))
    cols = hist["period_index"].to_numpy() - first
    kind, pooled, ratio, upper = _forecast_inputs(library, keys["indicator_id"])
    row_pooled = pooled[rows]
    quarterly = np.full((len(keys), width), np.nan)
    quarterly[rows, cols] = np.where(row_pooled, hist["quarter_value"].to_numpy(dtype=float),
                                     hist["value"].to_numpy(dtype=float))
    weights = np.full((len(keys), width), np.nan)
    weights[rows, cols] = np.where(ratio[rows], hist["quarter_denominator"].to_numpy(dtype=float), np.nan)
    has_value = np.isfinite(quarterly).any(axis=1)
    keys, quarterly, weights = keys[has_value].reset_index(drop=True), quarterly[has_value], weights[has_value]
    kind, upper = kind[has_value], upper[has_value]
    if keys.empty:
        return []
    year_quarter = np.array([Quarter.from_index(first + j).q for j in range(width)])
    # after a recorded rebase the forecast is fitted to the new segment only (the old process is not the baseline)
    segment = hist.groupby(["indicator_id", "area_code"])["spc_segment"].transform("max") == hist["spc_segment"]
    seg_start = (hist[segment].groupby(["indicator_id", "area_code"])["period_index"].min() - first) \
        .reindex(pd.MultiIndex.from_frame(keys)).fillna(0).to_numpy()
    fc = forecast_many(quarterly, horizon=horizon, lower_bound=0.0, upper_bound=upper, kind=kind,
                       weights=weights if np.isfinite(weights).any() else None, year_quarter=year_quarter,
                       fit_from=seg_start)
    q_bands = [np.minimum(np.maximum(b, 0.0), np.where(np.isnan(upper), np.inf, upper)[:, None])
               for b in (fc.quarter_point, *fc.quarter_bands())]
    n = len(keys)
    steps = np.arange(1, horizon + 1)
    quarters = [period + int(k) for k in steps]
    ind_col = np.repeat(keys["indicator_id"].to_numpy(), horizon)
    area_col = np.repeat(keys["area_code"].to_numpy(), horizon)
    meta = focal.drop_duplicates(["indicator_id", "area_code"], keep="last").set_index(["indicator_id", "area_code"])
    mi = pd.MultiIndex.from_arrays([ind_col, area_col])
    out = pd.DataFrame({
        "indicator_id": ind_col, "area_code": area_col,
        "period": np.tile([q.label for q in quarters], n),
        "period_index": np.tile([q.index for q in quarters], n),
        "period_end": np.tile(np.array([q.end for q in quarters], dtype=object), n),
        "is_forecast": True, "status": "forecast",
        "unit": meta["unit"].reindex(mi).to_numpy(), "polarity": meta["polarity"].reindex(mi).to_numpy(),
        "target": meta["target"].reindex(mi).to_numpy(), "tolerance": meta["tolerance"].reindex(mi).to_numpy(),
        "forecast": fc.point.ravel(), "forecast_lo80": fc.lo80.ravel(), "forecast_hi80": fc.hi80.ravel(),
        "forecast_lo95": fc.lo95.ravel(), "forecast_hi95": fc.hi95.ravel(),
        "forecast_method": np.repeat(np.asarray(fc.method_label, dtype=object), horizon),
        **{c: b.ravel() for c, b in zip(QUARTER_FORECAST_COLUMNS, q_bands, strict=True)},
    })
    labels = pd.Series(np.asarray(fc.method_label, dtype=object), index=pd.MultiIndex.from_frame(keys))
    focal["forecast_method"] = labels.reindex(pd.MultiIndex.from_frame(focal[["indicator_id", "area_code"]])) \
        .fillna("").to_numpy()
    return [out]


def _curves(focal: pd.DataFrame, library: Library, frozen: dict[str, Quarter], horizon: int,
            min_difference: dict[str, float] | None = None) -> pd.DataFrame:
    """Has the curve turned? For each indicator with a frozen baseline, the forecast made from the history up
    to the freeze, set against every actual since (at least ``horizon`` quarters ahead), with the verdict.

    The test is on the quarters' own values (``quarter_value``) for rolling 12-month and year-to-date
    indicators and on the headline for flows and snapshots; ``min_difference`` (indicator id → the smallest
    difference per quarter that matters, in the indicator's units) defaults to 0."""
    rows = []
    for ind_id, at in frozen.items():
        if ind_id not in library.indicators:
            continue
        ind = library.indicator(ind_id)
        kind, pooled, ratio, upper = (v[0] for v in _forecast_inputs(library, [ind_id]))
        for area, g in focal[focal["indicator_id"] == ind_id].groupby("area_code", sort=True):
            g = g.sort_values("period_index")
            pidx = g["period_index"].to_numpy()
            if at.index not in pidx:
                continue
            pos = int(np.searchsorted(pidx, at.index))
            head = g["value"].to_numpy(dtype=float)
            quarterly = g["quarter_value"].to_numpy(dtype=float) if pooled else head
            weights = g["quarter_denominator"].to_numpy(dtype=float) if ratio else None
            year_quarter = np.array([Quarter.from_index(int(i)).q for i in pidx])
            after = quarterly[pos + 1:]
            base = freeze_baseline(quarterly, pos, horizon=max(horizon, len(after)), kind=kind, weights=weights,
                                   year_quarter=year_quarter, lower_bound=0.0,
                                   upper_bound=None if np.isnan(upper) else float(upper))
            turn = curve_turned(base, after, ind.polarity.value, headline_actuals=head[pos + 1:],
                                min_difference=(min_difference or {}).get(ind_id, 0.0), unit=ind.unit.value)
            comp = turn.comparison
            for _, c in comp.iterrows():
                q = at + int(c["step"])
                rows.append({"indicator_id": ind_id, "area_code": area, "frozen_at": at.label, "period": q.label,
                             "period_index": q.index, "step": int(c["step"]), "forecast": c["point"],
                             "forecast_lo80": c["lo80"], "forecast_hi80": c["hi80"], "forecast_lo95": c["lo95"],
                             "forecast_hi95": c["hi95"], "actual": c["actual"], "assessment": c["assessment"],
                             "outside_80": c["outside_80"], "outside_95": c["outside_95"],
                             "method": base.method_label, "verdict": turn.verdict, "sentence": turn.sentence,
                             "quarter_forecast": c["quarter_point"], "quarter_lo80": c["quarter_lo80"],
                             "quarter_hi80": c["quarter_hi80"], "quarter_actual": c["quarter_actual"],
                             "quarter_assessment": c["quarter_assessment"], "evidence": c["evidence"],
                             "boundary": c["boundary"], "look_verdict": c["look_verdict"]})
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)


_REASON_COLUMNS = ("indicator_id", "area_code", "period", "value", "status", "rag", "target", "spc_point_type",
                   "spc_rule", "spc_direction", "spc_value", "spc_mean", "assurance", "trial_limits", "vs_neighbours",
                   "neighbours_mean", "neighbours_lower", "neighbours_upper", "vs_england", "england_value",
                   "funnel_adjustment", "quartile")
"""The columns of a row that ``exception_reasons`` reads."""


def _return_flags(returns: pd.DataFrame | None, period: Quarter) -> dict[str, dict]:
    """agency code → its return for the period: status, late, revised, name, due date."""
    out: dict[str, dict] = {}
    if returns is None or returns.empty:
        return out
    for row in returns[returns["period"] == period.label].to_dict("records"):
        out[row["agency_code"]] = {
            "status": row.get("status", ""), "late": bool(row.get("late", False)),
            "revised": bool(row.get("revised", False)), "agency_name": row.get("agency_name", row["agency_code"]),
            "due_date": row.get("due_date"),
        }
    return out


def _exceptions(frame: pd.DataFrame, library: Library, board: Board | None, period: Quarter,
                curves: pd.DataFrame | None = None) -> pd.DataFrame:
    """The performance exceptions (and good news) of the period, one row per indicator × priority × reason."""
    cur = frame.loc[(frame["period"] == period.label) & ~frame["is_forecast"],
                    [c for c in _REASON_COLUMNS if c in frame.columns]]
    bottom = board.thresholds.bottom_quartile if board else True
    priorities = [p.id for p in board.priorities] if board else None
    curve_by = {}
    if curves is not None and not curves.empty:
        seen = curves[curves["period_index"] <= period.index].drop_duplicates(["indicator_id", "area_code"])
        curve_by = {(r["indicator_id"], r["area_code"]): r for r in seen.to_dict("records")}
    out = []
    for row in cur.to_dict("records"):
        ind = library.indicator(row["indicator_id"])
        flags = {}
        curve = curve_by.get((ind.id, row["area_code"]))
        if curve is not None:
            flags.update(curve_verdict=curve["verdict"], curve_sentence=curve["sentence"], frozen_at=curve["frozen_at"])
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


def _data_notes(frame: pd.DataFrame, library: Library, board: Board | None, returns: pd.DataFrame | None,
                period: Quarter) -> pd.DataFrame:
    """What the board should know about the data of the period: missing, late, revised, suppressed, awaited."""
    cur = frame.loc[(frame["period"] == period.label) & ~frame["is_forecast"],
                    ["indicator_id", "area_code", "period", "status"]]
    by_agency = _return_flags(returns, period)
    late_ok = board.thresholds.late_is_exception if board else True
    revised_ok = board.thresholds.revised_is_exception if board else True
    out = []
    for row in cur.to_dict("records"):
        ind = library.indicator(row["indicator_id"])
        flags = dict(by_agency.get(ind.agency, {}))
        flags["late"] = flags.get("late", False) and late_ok
        flags["revised"] = flags.get("revised", False) and revised_ok
        for code, severity, sentence in data_notes(row, ind, flags):
            out.append({"indicator_id": ind.id, "area_code": row["area_code"], "period": period.label,
                        "agency_code": ind.agency, "code": code, "severity": severity,
                        "sort_key": sort_key(severity, code), "sentence": sentence})
    notes = pd.DataFrame(out, columns=DATA_NOTE_COLUMNS)
    return notes.sort_values(["sort_key", "indicator_id"], kind="stable").reset_index(drop=True)
