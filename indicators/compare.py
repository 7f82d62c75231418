"""Where an area stands: against its statistical neighbours, its region, England and every local authority.

Local quarterly values are compared with like for like: a rolling 12-month or snapshot value ending in a
quarter is set against the latest published annual value for a year ending no later than that quarter's
financial year (never a single quarter's count against an annual rate). Where other areas have quarterly
values of their own (a regional or national deployment), those are used for the same quarter instead.

Comparisons are made only for percentages and rates: raw counts depend on an area's size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.definitions import Library, Polarity, Unit
from indicators.intervals import funnel_position

COMPARATOR_COLUMNS = ["indicator_id", "area_code", "area_name", "level", "region_code", "key_kind", "key",
                      "value", "numerator", "denominator", "lower", "upper"]
COMPARISON_COLUMNS = ["comparator_year", "neighbours_mean", "neighbours_median", "neighbours_n", "region_value",
                      "england_value", "rank", "rank_of", "quartile", "vs_england", "vs_neighbours", "funnel"]
COMPARABLE_UNITS = (Unit.percentage, Unit.rate_per_10000)


def significance(lower, upper, comparator, polarity: Polarity | str) -> np.ndarray:
    """Compare an area's 95% interval with a comparator value (the Fingertips approach).

    The area is significantly higher when the comparator lies below its interval, lower when above it, and
    similar otherwise. For a polarity the result reads ``better``/``worse``; for context ``higher``/``lower``.
    Where the interval or comparator is unknown the result is ``not_compared``.
    """
    lower, upper, comparator = (np.asarray(x, dtype=float) for x in (lower, upper, comparator))
    known = np.isfinite(lower) & np.isfinite(upper) & np.isfinite(comparator)
    higher = known & (comparator < lower)
    lower_ = known & (comparator > upper)
    pol = Polarity(polarity)
    up, down = {"higher_better": ("better", "worse"), "lower_better": ("worse", "better"),
                "context": ("higher", "lower")}[pol.value]
    return np.where(~known, "not_compared", np.where(higher, up, np.where(lower_, down, "similar")))


def quartile_band(share_better: np.ndarray) -> np.ndarray:
    """LAIT-style band from the share of local authorities doing better: A (best quarter) to D."""
    s = np.asarray(share_better, dtype=float)
    return np.where(np.isnan(s), "", np.where(s < 0.25, "A", np.where(s < 0.5, "B", np.where(s < 0.75, "C", "D"))))


def _comparator_keys(focal: pd.DataFrame, comparators: pd.DataFrame) -> pd.DataFrame:
    """Pick, per focal row, which comparator set to use: the same quarter's values, else the latest year published."""
    focal = focal.copy()
    focal["key_kind"] = ""
    focal["key"] = -1
    if comparators.empty:
        return focal
    quarterly = comparators[comparators["key_kind"] == "quarter"][["indicator_id", "key"]].drop_duplicates()
    qset = set(zip(quarterly["indicator_id"], quarterly["key"], strict=True))
    years = (comparators[comparators["key_kind"] == "year"].groupby("indicator_id")["key"]
             .apply(lambda s: np.sort(s.unique())).to_dict())
    year_ending = (focal["period_index"] // 4 + 1).to_numpy()
    kinds = np.full(len(focal), "", dtype=object)
    keys = np.full(len(focal), -1, dtype=np.int64)
    for ind_id, idx in focal.groupby("indicator_id").indices.items():
        pidx = focal["period_index"].to_numpy()[idx]
        in_q = np.array([(ind_id, int(p)) in qset for p in pidx], dtype=bool)
        kinds[idx[in_q]] = "quarter"
        keys[idx[in_q]] = pidx[in_q]
        ys = years.get(ind_id)
        if ys is not None and len(ys):
            pos = np.searchsorted(ys, year_ending[idx], side="right") - 1
            use = ~in_q & (pos >= 0)
            kinds[idx[use]] = "year"
            keys[idx[use]] = ys[np.clip(pos, 0, None)][use]
    focal["key_kind"] = kinds
    focal["key"] = keys
    return focal


def compare(focal: pd.DataFrame, comparators: pd.DataFrame, neighbours: pd.DataFrame, regions: dict[str, str],
            library: Library) -> pd.DataFrame:
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
        return _finish(out, cols, comparator_year, library)

    la = comparators[comparators["level"] == "la"]
    la_codes = pd.Index(sorted(set(la["area_code"]) | set(out["area_code"])))
    nb = neighbours[neighbours["neighbour_code"].isin(la_codes)] if not neighbours.empty else neighbours
    focal_areas = pd.Index(sorted(out["area_code"].unique()))
    nbr_idx = np.full((len(focal_areas), 10), -1, dtype=np.int64)
    if not nb.empty:
        for _area, g in nb.groupby("area_code"):
            if _area not in focal_areas:
                continue
            pos = la_codes.get_indexer(g.sort_values("rank")["neighbour_code"])[:10]
            nbr_idx[focal_areas.get_loc(_area), : len(pos)] = pos
    england = comparators[comparators["level"] == "england"].drop_duplicates(["indicator_id", "key_kind", "key"])
    england = england.set_index(["indicator_id", "key_kind", "key"])["value"]
    region = comparators[comparators["level"] == "region"].drop_duplicates(["indicator_id", "key_kind", "key", "area_code"])
    region = region.set_index(["indicator_id", "key_kind", "key", "area_code"])["value"]

    la_groups = {k: g for k, g in la.groupby(["indicator_id", "key_kind", "key"])}
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
        cols["england_value"][idx] = england.get((ind_id, kind, key), np.nan)
        cols["region_value"][idx] = [region.get((ind_id, kind, key, r), np.nan) for r in region_of[idx]]
        g = la_groups.get((ind_id, kind, key))
        vals = np.full(len(la_codes), np.nan)
        if g is not None:
            vals[la_codes.get_indexer(g["area_code"])] = g["value"].to_numpy(dtype=float)
        mine = values_all[idx]
        nidx = nbr_idx[focal_pos_all[idx]]
        nv = np.where(nidx >= 0, vals[np.clip(nidx, 0, None)], np.nan)
        have = np.isfinite(nv)
        cnt = have.sum(axis=1)
        with np.errstate(invalid="ignore"), _quiet():
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
    return _finish(out, cols, comparator_year, library)


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def _finish(out: pd.DataFrame, cols: dict, comparator_year: np.ndarray, library: Library) -> pd.DataFrame:
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
        vs_eng[idx] = significance(sub["lower"], sub["upper"], out["england_value"].to_numpy()[idx], ind.polarity)
        vs_nb[idx] = significance(sub["lower"], sub["upper"], out["neighbours_mean"].to_numpy()[idx], ind.polarity)
        kind = "proportion" if ind.unit == Unit.percentage else "rate"
        scale = 100.0 if kind == "proportion" else 10_000.0
        eng = out["england_value"].to_numpy(dtype=float)[idx]
        ok = np.isfinite(eng) & np.isfinite(sub["value"].to_numpy(dtype=float)) & (sub["denominator"].to_numpy(dtype=float) > 0)
        if ok.any():
            pos = funnel_position(sub["value"].to_numpy(dtype=float)[ok] / scale,
                                  sub["denominator"].to_numpy(dtype=float)[ok], eng[ok] / scale, kind=kind)
            funnel[idx[ok]] = np.asarray(pos, dtype=object)
    out["vs_england"] = vs_eng
    out["vs_neighbours"] = vs_nb
    out["funnel"] = funnel
    return out
