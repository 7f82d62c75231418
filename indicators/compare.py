"""Where an area stands: against its statistical neighbours, its region, England and every local authority.

Local quarterly values are compared with like for like: a rolling 12-month or snapshot value ending in a
quarter is set against DfE's published annual values for the latest year that was available during that
quarter (``indicators.benchmarking.latest_published_year``), never a single quarter's count against an annual
rate. England, the region and the neighbours are always DfE's published figures. When several areas report
into one store, their own pooled quarterly value is a separate comparison (``reporting_value``), never
passed off as England's.

* **England and the funnel.** Spiegelhalter's (2005) test for over-dispersion is run per indicator and published
  year on every local authority's published value against England's. If the areas differ by more than chance
  allows, the funnel position and ``vs_england`` use the additive random-effects z-score z* (allowing for the
  spread between areas, τ²); if not, the exact binomial/Poisson funnel limits and England against the area's
  confidence interval, as before.
* **Neighbours.** ``vs_neighbours`` is better or worse only when the area lies outside the prediction interval
  for one more area drawn like its neighbours (their mean ± t · sd · sqrt(1 + 1/k)); fewer than three
  neighbours with a value: not compared.

Comparisons are made only for percentages and rates: raw counts depend on an area's size.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from indicators.benchmarking import latest_published_year
from indicators.definitions import Library, Polarity, Unit
from indicators.intervals import (
    MIN_NEIGHBOURS,
    compare_with_interval,
    funnel_position,
    neighbours_prediction_interval,
    null_standard_error,
    overdispersion,
    random_effects_z,
    significance_vs,
    significance_z,
    z_position,
)

COMPARATOR_COLUMNS = ["indicator_id", "area_code", "area_name", "level", "region_code", "key_kind", "key",
                      "value", "numerator", "denominator", "lower", "upper"]
#: Added to every published row of an indicator × year by :func:`with_dispersion`.
DISPERSION_COLUMNS = ["funnel_adjustment", "overdispersion_phi", "overdispersion_n", "random_effects_tau2"]
COMPARISON_COLUMNS = ["comparator_year", "neighbours_mean", "neighbours_median", "neighbours_n", "neighbours_lower",
                      "neighbours_upper", "region_value", "england_value", "reporting_value", "reporting_n", "rank",
                      "rank_of", "quartile", "vs_england", "vs_neighbours", "funnel", "funnel_z",
                      "funnel_adjustment", "overdispersion_phi", "random_effects_tau2"]
COMPARABLE_UNITS = (Unit.percentage, Unit.rate_per_10000)
#: The pooled value of the areas reporting into one store (not England's): its ``level`` in the comparators.
REPORTING_LEVEL = "reporting"


def quartile_band(share_better: np.ndarray) -> np.ndarray:
    """LAIT-style band from the share of local authorities doing better: A (best quarter) to D."""
    s = np.asarray(share_better, dtype=float)
    return np.where(np.isnan(s), "", np.where(s < 0.25, "A", np.where(s < 0.5, "B", np.where(s < 0.75, "C", "D"))))


def _kind_scale(ind) -> tuple[str, float]:
    return ("proportion", 100.0) if ind.unit == Unit.percentage else ("rate", 10_000.0)


# --- over-dispersion per indicator and published year -------------------------------------------------------
def dispersion_table(comparators: pd.DataFrame, library: Library) -> pd.DataFrame:
    """Spiegelhalter's over-dispersion estimate for every indicator × published year.

    From every local authority's published value and denominator against England's published value for that
    year (:func:`indicators.intervals.overdispersion`). Columns: indicator_id, key (the year),
    ``funnel_adjustment`` (``additive`` when over-dispersed, else ``none``; empty with fewer than two areas or
    no England value), ``overdispersion_phi``, ``overdispersion_n``, ``random_effects_tau2`` (on the
    indicator's scale: percentage points² or (per 10,000)²).
    """
    cols = ["indicator_id", "key"] + DISPERSION_COLUMNS
    if comparators is None or comparators.empty:
        return pd.DataFrame(columns=cols)
    pub = comparators[comparators["key_kind"] == "year"]
    eng = pub[pub["level"] == "england"].drop_duplicates(["indicator_id", "key"]).set_index(["indicator_id", "key"])["value"]
    rows = []
    for (ind_id, key), g in pub[pub["level"] == "la"].groupby(["indicator_id", "key"]):
        if ind_id not in library.indicators:
            continue
        ind = library.indicator(ind_id)
        if ind.unit not in COMPARABLE_UNITS:
            continue
        theta = float(eng.get((ind_id, key), np.nan))
        kind, per = _kind_scale(ind)
        s = null_standard_error(theta, g["denominator"].to_numpy(dtype=float), kind, per)
        od = overdispersion(g["value"].to_numpy(dtype=float), s, theta, consistent=True)
        rows.append((ind_id, int(key), od.adjustment, od.phi, od.n, od.tau2))
    return pd.DataFrame(rows, columns=cols)


def with_dispersion(comparators: pd.DataFrame, library: Library) -> pd.DataFrame:
    """The comparators with :data:`DISPERSION_COLUMNS` on every published row of its indicator × year."""
    table = dispersion_table(comparators, library)
    out = comparators.drop(columns=[c for c in DISPERSION_COLUMNS if c in comparators.columns])
    if table.empty:
        for c in DISPERSION_COLUMNS:
            out[c] = "" if c == "funnel_adjustment" else np.nan
        return out
    table = table.assign(key_kind="year")
    out = out.assign(_key=pd.to_numeric(out["key"], errors="coerce")).merge(
        table.rename(columns={"key": "_key"}), how="left", on=["indicator_id", "key_kind", "_key"]).drop(columns="_key")
    out["funnel_adjustment"] = out["funnel_adjustment"].fillna("")
    return out


# --- the reporting areas' own quarterly values --------------------------------------------------------------
def reporting_comparators(values: pd.DataFrame, library: Library, areas: pd.DataFrame | None) -> pd.DataFrame:
    """The quarterly values of the areas reporting into one store, and their pooled value (level "reporting").

    Each area's row (level "la", key_kind "quarter", key the quarter's ``period_index``) is its own value; the
    pooled row per indicator × quarter is Σ numerators / Σ denominators of the areas with a value (so larger
    areas weigh more, as in DfE's England figure). It is the reporting areas' average, not England's.
    """
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
        names = areas.drop_duplicates("area_code").set_index("area_code")
        la["area_name"] = la["area_code"].map(names["area_name"]).fillna(la["area_code"])
        la["region_code"] = la["area_code"].map(names["region_code"])
    scale = {i: (100.0 if library.indicator(i).unit == Unit.percentage else 10_000.0) for i in comparable}
    g = la.groupby(["indicator_id", "key"])[["numerator", "denominator"]].sum().reset_index()
    g["value"] = g["numerator"] / g["denominator"] * g["indicator_id"].map(scale)
    g["level"] = REPORTING_LEVEL
    g["key_kind"] = "quarter"
    g["area_code"] = REPORTING_LEVEL
    g["area_name"] = "Areas reporting into this store"
    g["region_code"] = None
    g["lower"] = np.nan
    g["upper"] = np.nan
    return pd.concat([la, g[COMPARATOR_COLUMNS]], ignore_index=True)[COMPARATOR_COLUMNS]


# --- which published year ----------------------------------------------------------------------------------
def _comparator_keys(focal: pd.DataFrame, comparators: pd.DataFrame) -> pd.DataFrame:
    """Per focal row, the published year to compare with: the latest one available during its quarter."""
    focal = focal.copy()
    kinds = np.full(len(focal), "", dtype=object)
    keys = np.full(len(focal), -1, dtype=np.int64)
    if not comparators.empty and len(focal):
        published = comparators[comparators["key_kind"] == "year"]
        available = np.asarray(latest_published_year(focal["period_index"].to_numpy(dtype=np.int64)))
        ind_col = focal["indicator_id"].to_numpy()
        for ind_id, g in published.groupby("indicator_id"):
            years = np.sort(g["key"].astype(int).unique())
            idx = np.flatnonzero(ind_col == ind_id)
            pos = np.searchsorted(years, available[idx], side="right") - 1
            ok = pos >= 0
            kinds[idx[ok]] = "year"
            keys[idx[ok]] = years[pos[ok]]
    focal["key_kind"] = kinds
    focal["key"] = keys
    return focal


def compare(focal: pd.DataFrame, comparators: pd.DataFrame, neighbours: pd.DataFrame, regions: dict[str, str],
            library: Library, funnel_levels: tuple[float, ...] = (0.95, 0.998), level: float = 0.95) -> pd.DataFrame:
    """Add the comparison columns (COMPARISON_COLUMNS) to ``focal`` (indicator × area × period values).

    ``comparators`` holds every area's comparable values (COMPARATOR_COLUMNS; ``key_kind`` "year" for
    published annual values keyed by DfE time_period, "quarter" for the reporting areas' own values keyed by
    period_index, with their pooled value at level "reporting"); :data:`DISPERSION_COLUMNS` are worked out
    when absent. ``neighbours`` maps ``area_code`` to ``neighbour_code`` (ten per area, with ``rank``).
    ``regions`` maps an area to its region. ``level`` is the confidence level of ``vs_england`` and of the
    neighbours' prediction interval (the board's significance level).
    """
    if len(comparators) and not set(DISPERSION_COLUMNS) <= set(comparators.columns):
        comparators = with_dispersion(comparators, library)
    out = _comparator_keys(focal, comparators)
    n = len(out)
    cols = {c: np.full(n, np.nan) for c in ["neighbours_mean", "neighbours_median", "neighbours_n", "neighbours_lower",
                                            "neighbours_upper", "region_value", "england_value", "reporting_value",
                                            "reporting_n", "rank", "rank_of", "share_better", "phi", "tau2"]}
    cols["adjustment"] = np.full(n, "", dtype=object)
    comparator_year = np.where(out["key_kind"].to_numpy() == "year", out["key"].to_numpy(), -1)
    if n == 0 or comparators.empty:
        return _finish(out, cols, comparator_year, library, funnel_levels, level)

    _reporting(out, comparators, cols)
    published = comparators[comparators["key_kind"] == "year"]
    la = published[published["level"] == "la"]
    la_codes = pd.Index(np.union1d(la["area_code"].unique().astype(str), out["area_code"].unique().astype(str)))
    nb = neighbours[neighbours["neighbour_code"].isin(la_codes)] if not neighbours.empty else neighbours
    focal_areas = pd.Index(sorted(out["area_code"].unique()))
    nbr_idx = np.full((len(focal_areas), 10), -1, dtype=np.int64)
    if not nb.empty:
        for _area, g in nb.groupby("area_code"):
            if _area not in focal_areas:
                continue
            pos = la_codes.get_indexer(g.sort_values("rank")["neighbour_code"])[:10]
            nbr_idx[focal_areas.get_loc(_area), : len(pos)] = pos
    # plain dicts: looked up once per group and per row, far faster than a MultiIndex
    eng = published[published["level"] == "england"]
    england = dict(zip(zip(eng["indicator_id"], eng["key"].astype(int), strict=True), eng["value"], strict=True))
    disp = published.drop_duplicates(["indicator_id", "key"])
    dispersion = {(i, int(k)): (a, p, t) for i, k, a, p, t in zip(
        disp["indicator_id"], disp["key"], disp["funnel_adjustment"], disp["overdispersion_phi"],
        disp["random_effects_tau2"], strict=True)}
    reg = published[published["level"] == "region"]
    reg_keys = zip(reg["indicator_id"], reg["key"].astype(int), reg["area_code"], strict=True)
    region = dict(zip(reg_keys, reg["value"], strict=True))

    la_pos = la_codes.get_indexer(la["area_code"])
    la_val = la["value"].to_numpy(dtype=float)
    la_groups = {(i, int(y)): ix for (i, y), ix in la.groupby(["indicator_id", "key"]).indices.items()}
    focal_pos_all = focal_areas.get_indexer(out["area_code"])
    own_pos_all = la_codes.get_indexer(out["area_code"])
    values_all = out["value"].to_numpy(dtype=float)
    region_of = out["area_code"].map(regions).to_numpy(dtype=object)
    for (ind_id, kind, key), idx in out.groupby(["indicator_id", "key_kind", "key"]).indices.items():
        if kind != "year":
            continue
        ind = library.indicator(ind_id)
        if ind.unit not in COMPARABLE_UNITS:
            continue
        key = int(key)
        cols["england_value"][idx] = england.get((ind_id, key), np.nan)
        cols["region_value"][idx] = [region.get((ind_id, key, r), np.nan) for r in region_of[idx]]
        adjustment, phi, tau2 = dispersion.get((ind_id, key), ("", np.nan, np.nan))
        cols["adjustment"][idx] = adjustment
        cols["phi"][idx] = phi
        cols["tau2"][idx] = tau2
        g = la_groups.get((ind_id, key))
        vals = np.full(len(la_codes), np.nan)
        if g is not None:
            vals[la_pos[g]] = la_val[g]
        mine = values_all[idx]
        nidx = nbr_idx[focal_pos_all[idx]]
        nv = np.where(nidx >= 0, vals[np.clip(nidx, 0, None)], np.nan)
        have = np.isfinite(nv)
        cnt = have.sum(axis=1)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: handled by cnt
            cols["neighbours_median"][idx] = np.where(cnt > 0, np.nanmedian(np.where(have, nv, np.nan), axis=1), np.nan)
        lo, hi, mean, _k = neighbours_prediction_interval(nv, level=level, min_k=MIN_NEIGHBOURS)
        cols["neighbours_mean"][idx] = mean
        cols["neighbours_lower"][idx] = lo
        cols["neighbours_upper"][idx] = hi
        cols["neighbours_n"][idx] = cnt
        sign = {"higher_better": 1.0, "lower_better": -1.0, "context": 1.0}[ind.polarity.value]
        better_nb = (sign * nv > sign * mine[:, None]) & have
        cols["rank"][idx] = np.where(np.isfinite(mine), 1 + better_nb.sum(axis=1), np.nan)
        cols["rank_of"][idx] = np.where(np.isfinite(mine), 1 + cnt, np.nan)
        if ind.polarity != Polarity.context:
            # share of the other local authorities strictly better than this value (the area itself excluded)
            ranked = np.sort(sign * vals[np.isfinite(vals)])
            better = len(ranked) - np.searchsorted(ranked, sign * mine, side="right")
            own = own_pos_all[idx]
            own_val = np.where(own >= 0, vals[np.clip(own, 0, None)], np.nan)
            has_own = np.isfinite(own_val)
            better = better - (has_own & (sign * own_val > sign * mine))
            n_other = len(ranked) - has_own
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where((n_other > 0) & np.isfinite(mine), better / n_other, np.nan)
            cols["share_better"][idx] = share
    return _finish(out, cols, comparator_year, library, funnel_levels, level)


def _reporting(out: pd.DataFrame, comparators: pd.DataFrame, cols: dict) -> None:
    """The reporting areas' pooled value for each focal row's own quarter, and how many areas it pools."""
    q = comparators[comparators["key_kind"] == "quarter"]
    if q.empty:
        return
    pooled = q[q["level"] == REPORTING_LEVEL].drop_duplicates(["indicator_id", "key"])
    counts = q[(q["level"] == "la") & np.isfinite(q["value"].to_numpy(dtype=float))] \
        .groupby(["indicator_id", "key"]).size().rename("n").reset_index()
    table = pooled[["indicator_id", "key", "value"]].merge(counts, how="left", on=["indicator_id", "key"])
    table["key"] = table["key"].astype(np.int64)
    hit = out[["indicator_id", "period_index"]].astype({"period_index": np.int64}).merge(
        table.rename(columns={"key": "period_index"}), how="left", on=["indicator_id", "period_index"])
    cols["reporting_value"][:] = hit["value"].to_numpy(dtype=float)
    cols["reporting_n"][:] = hit["n"].to_numpy(dtype=float)


def _finish(out: pd.DataFrame, cols: dict, comparator_year: np.ndarray, library: Library,
            funnel_levels: tuple[float, ...], level: float) -> pd.DataFrame:
    out = out.copy()
    out["comparator_year"] = np.where(comparator_year >= 0, comparator_year, np.nan)
    for c in ["neighbours_mean", "neighbours_median", "neighbours_lower", "neighbours_upper", "region_value",
              "england_value", "reporting_value"]:
        out[c] = cols[c]
    out["neighbours_n"] = np.nan_to_num(cols["neighbours_n"]).astype(int)
    out["reporting_n"] = np.nan_to_num(cols["reporting_n"]).astype(int)
    for c in ("rank", "rank_of"):
        out[c] = pd.array(np.where(np.isfinite(cols[c]), cols[c], np.nan)).astype("Int64") \
            if len(out) else pd.array([], dtype="Int64")
    out["quartile"] = quartile_band(cols["share_better"])
    vs_eng = np.full(len(out), "not_compared", dtype=object)
    vs_nb = np.full(len(out), "not_compared", dtype=object)
    funnel = np.full(len(out), "", dtype=object)
    funnel_z = np.full(len(out), np.nan)
    adjustment = cols["adjustment"]
    for ind_id, idx in out.groupby("indicator_id").indices.items():
        ind = library.indicator(ind_id)
        if ind.unit not in COMPARABLE_UNITS:
            continue
        pol = None if ind.polarity == Polarity.context else ind.polarity.value
        value = out["value"].to_numpy(dtype=float)[idx]
        lo, hi = out["lower"].to_numpy(dtype=float)[idx], out["upper"].to_numpy(dtype=float)[idx]
        den = out["denominator"].to_numpy(dtype=float)[idx]
        eng = out["england_value"].to_numpy(dtype=float)[idx]
        vs_nb[idx] = np.asarray(compare_with_interval(value, cols["neighbours_lower"][idx],
                                                      cols["neighbours_upper"][idx], pol), dtype=object)
        kind, scale = _kind_scale(ind)
        ok = np.isfinite(eng) & np.isfinite(value) & (den > 0)
        s = np.asarray(null_standard_error(eng, np.where(ok, den, np.nan), kind, scale), dtype=float)
        additive = ok & (adjustment[idx] == "additive")
        tau2 = np.where(additive, cols["tau2"][idx], 0.0)
        z = np.asarray(random_effects_z(value, s, eng, tau2), dtype=float)
        funnel_z[idx] = np.where(ok, z, np.nan)
        # not over-dispersed: England against the area's interval, and the exact funnel limits
        vs_eng[idx] = np.asarray(significance_vs(lo, hi, eng, pol), dtype=object)
        plain = ok & ~additive
        if plain.any():
            pos = funnel_position(value[plain] / scale, den[plain], eng[plain] / scale, kind=kind, levels=funnel_levels)
            funnel[idx[plain]] = np.asarray(pos, dtype=object)
        if additive.any():
            # over-dispersed: z* allows for the spread between areas (Spiegelhalter 2005, section 5.4)
            funnel[idx[additive]] = np.asarray(z_position(z[additive], funnel_levels), dtype=object)
            vs_eng[idx[additive]] = np.asarray(significance_z(z[additive], level, pol), dtype=object)
    out["vs_england"] = vs_eng
    out["vs_neighbours"] = vs_nb
    out["funnel"] = funnel
    out["funnel_z"] = funnel_z
    # "none": the exact limits were used (not over-dispersed, or too few areas to tell); "": no comparison
    out["funnel_adjustment"] = np.where(np.isfinite(out["england_value"].to_numpy(dtype=float)),
                                        np.where(adjustment == "additive", "additive", "none"), "")
    out["overdispersion_phi"] = cols["phi"]
    out["random_effects_tau2"] = cols["tau2"]
    return out
