"""Where an area stands: against its statistical neighbours, its region, England and every local authority.

Local quarterly values are compared with like for like: a rolling 12-month or snapshot value ending in a
quarter is set against the latest published annual value for a year ending no later than that quarter's
financial year (never a single quarter's count against an annual rate). Where other areas have quarterly
values of their own (a regional or national deployment), those are used for the same quarter instead.

Comparisons are made only for percentages and rates: raw counts depend on an area's size.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from indicators.definitions import Library, Polarity, Unit
from indicators.intervals import funnel_position, significance_vs

COMPARATOR_COLUMNS = ["indicator_id", "area_code", "area_name", "level", "region_code", "key_kind", "key",
                      "value", "numerator", "denominator", "lower", "upper"]
COMPARISON_COLUMNS = ["comparator_year", "neighbours_mean", "neighbours_median", "neighbours_n", "region_value",
                      "england_value", "rank", "rank_of", "quartile", "vs_england", "vs_neighbours", "funnel"]
COMPARABLE_UNITS = (Unit.percentage, Unit.rate_per_10000)


def quartile_band(share_better: np.ndarray) -> np.ndarray:
    """LAIT-style band from the share of local authorities doing better: A (best quarter) to D."""
    s = np.asarray(share_better, dtype=float)
    return np.where(np.isnan(s), "", np.where(s < 0.25, "A", np.where(s < 0.5, "B", np.where(s < 0.75, "C", "D"))))


def _comparator_keys(focal: pd.DataFrame, comparators: pd.DataFrame) -> pd.DataFrame:
    """Pick, per focal row, which comparator set to use: the same quarter's values, else the latest year published."""
    focal = focal.copy()
    kinds = np.full(len(focal), "", dtype=object)
    keys = np.full(len(focal), -1, dtype=np.int64)
    if not comparators.empty and len(focal):
        quarterly = comparators.loc[comparators["key_kind"] == "quarter", ["indicator_id", "key"]].drop_duplicates()
        if len(quarterly):
            hit = focal[["indicator_id", "period_index"]].merge(
                quarterly.rename(columns={"key": "period_index"}).assign(_q=True), how="left",
                on=["indicator_id", "period_index"])["_q"].fillna(False).to_numpy(dtype=bool)
        else:
            hit = np.zeros(len(focal), dtype=bool)
        kinds[hit] = "quarter"
        keys[hit] = focal["period_index"].to_numpy()[hit]
        published = comparators[comparators["key_kind"] == "year"]
        year_ending = (focal["period_index"] // 4 + 1).to_numpy()
        for ind_id, g in published.groupby("indicator_id"):
            years = np.sort(g["key"].unique())
            idx = np.flatnonzero((focal["indicator_id"] == ind_id).to_numpy() & ~hit)
            pos = np.searchsorted(years, year_ending[idx], side="right") - 1
            ok = pos >= 0
            kinds[idx[ok]] = "year"
            keys[idx[ok]] = years[pos[ok]]
    focal["key_kind"] = kinds
    focal["key"] = keys
    return focal


def compare(focal: pd.DataFrame, comparators: pd.DataFrame, neighbours: pd.DataFrame, regions: dict[str, str],
            library: Library, funnel_levels: tuple[float, ...] = (0.95, 0.998)) -> pd.DataFrame:
    """Add the comparison columns to ``focal`` (indicator × area × period values of the areas being reported on).

    ``comparators`` holds every area's comparable values (COMPARATOR_COLUMNS; ``key_kind`` "year" for
    published annual values keyed by DfE time_period, "quarter" keyed by period_index). ``neighbours`` maps
    ``area_code`` to ``neighbour_code`` (ten per area, with ``rank``). ``regions`` maps an area to its region.
    """
    out = _comparator_keys(focal, comparators)
    n = len(out)
    cols = {c: np.full(n, np.nan) for c in ["neighbours_mean", "neighbours_median", "neighbours_n", "region_value",
                                            "england_value", "rank", "rank_of", "share_better"]}
    comparator_year = np.where(out["key_kind"].to_numpy() == "year", out["key"].to_numpy(), -1)
    if n == 0 or comparators.empty:
        return _finish(out, cols, comparator_year, library, funnel_levels)

    la = comparators[comparators["level"] == "la"]
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
    eng = comparators[comparators["level"] == "england"]
    eng_keys = zip(eng["indicator_id"], eng["key_kind"], eng["key"].astype(int), strict=True)
    england = dict(zip(eng_keys, eng["value"], strict=True))
    reg = comparators[comparators["level"] == "region"]
    reg_keys = zip(reg["indicator_id"], reg["key_kind"], reg["key"].astype(int), reg["area_code"], strict=True)
    region = dict(zip(reg_keys, reg["value"], strict=True))

    la_pos = la_codes.get_indexer(la["area_code"])
    la_val = la["value"].to_numpy(dtype=float)
    la_groups = {(i, k, int(y)): ix for (i, k, y), ix in la.groupby(["indicator_id", "key_kind", "key"]).indices.items()}
    focal_pos_all = focal_areas.get_indexer(out["area_code"])
    own_pos_all = la_codes.get_indexer(out["area_code"])
    values_all = out["value"].to_numpy(dtype=float)
    region_of = out["area_code"].map(regions).to_numpy(dtype=object)
    for (ind_id, kind, key), idx in out.groupby(["indicator_id", "key_kind", "key"]).indices.items():
        if kind == "":
            continue
        ind = library.indicator(ind_id)
        if ind.unit not in COMPARABLE_UNITS:
            continue
        cols["england_value"][idx] = england.get((ind_id, kind, int(key)), np.nan)
        cols["region_value"][idx] = [region.get((ind_id, kind, int(key), r), np.nan) for r in region_of[idx]]
        g = la_groups.get((ind_id, kind, int(key)))
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
            cols["neighbours_mean"][idx] = np.where(cnt > 0, np.nanmean(np.where(have, nv, np.nan), axis=1), np.nan)
            cols["neighbours_median"][idx] = np.where(cnt > 0, np.nanmedian(np.where(have, nv, np.nan), axis=1), np.nan)
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
    return _finish(out, cols, comparator_year, library, funnel_levels)


def _finish(out: pd.DataFrame, cols: dict, comparator_year: np.ndarray, library: Library,
            funnel_levels: tuple[float, ...]) -> pd.DataFrame:
    out = out.copy()
    out["comparator_year"] = np.where(comparator_year >= 0, comparator_year, np.nan)
    for c in ["neighbours_mean", "neighbours_median", "region_value", "england_value"]:
        out[c] = cols[c]
    out["neighbours_n"] = np.nan_to_num(cols["neighbours_n"]).astype(int)
    out["rank"] = pd.array(np.where(np.isfinite(cols["rank"]), cols["rank"], np.nan)).astype("Int64") \
        if len(out) else pd.array([], dtype="Int64")
    out["rank_of"] = pd.array(np.where(np.isfinite(cols["rank_of"]), cols["rank_of"], np.nan)).astype("Int64") \
        if len(out) else pd.array([], dtype="Int64")
    out["quartile"] = quartile_band(cols["share_better"])
    vs_eng = np.full(len(out), "not_compared", dtype=object)
    vs_nb = np.full(len(out), "not_compared", dtype=object)
    funnel = np.full(len(out), "", dtype=object)
    for ind_id, idx in out.groupby("indicator_id").indices.items():
        ind = library.indicator(ind_id)
        if ind.unit not in COMPARABLE_UNITS:
            continue
        sub = out.iloc[idx]
        pol = None if ind.polarity == Polarity.context else ind.polarity.value
        lo, hi = sub["lower"].to_numpy(dtype=float), sub["upper"].to_numpy(dtype=float)
        vs_eng[idx] = np.asarray(significance_vs(lo, hi, out["england_value"].to_numpy(dtype=float)[idx], pol), dtype=object)
        vs_nb[idx] = np.asarray(significance_vs(lo, hi, out["neighbours_mean"].to_numpy(dtype=float)[idx], pol),
                                dtype=object)
        kind = "proportion" if ind.unit == Unit.percentage else "rate"
        scale = 100.0 if kind == "proportion" else 10_000.0
        eng = out["england_value"].to_numpy(dtype=float)[idx]
        ok = np.isfinite(eng) & np.isfinite(sub["value"].to_numpy(dtype=float)) & (sub["denominator"].to_numpy(dtype=float) > 0)
        if ok.any():
            pos = funnel_position(sub["value"].to_numpy(dtype=float)[ok] / scale,
                                  sub["denominator"].to_numpy(dtype=float)[ok], eng[ok] / scale, kind=kind,
                                  levels=funnel_levels)
            funnel[idx[ok]] = np.asarray(pos, dtype=object)
    out["vs_england"] = vs_eng
    out["vs_neighbours"] = vs_nb
    out["funnel"] = funnel
    return out
