"""Published annual values per indicator, from stored EES rows, the way DfE computes them.

An indicator's ``benchmark`` names the EES dataset and column. Where the published figure is a count that DfE
turns into a rate per 10,000 (``per_population``), the rate for year Y is the count over the ONS 0–17
population for mid-(Y−1), times 10,000 (DfE rounds it to one decimal place; we keep full precision and
round only for display).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.definitions import POPULATION, Library, Unit
from indicators.intervals import rate_interval, wilson_interval

BENCHMARK_COLUMNS = ["dataset", "measure", "filters", "area_code", "area_name", "geographic_level", "la_number",
                     "region_code", "time_period", "value", "note"]
PUBLISHED_COLUMNS = ["indicator_id", "area_code", "area_name", "level", "la_number", "region_code", "year",
                     "value", "numerator", "denominator", "lower", "upper", "note"]

_LEVELS = {"National": "england", "Regional": "region", "Local authority": "la"}

#: DfE publishes the year ending 31 March Y (EES ``time_period`` Y) in the autumn of Y, so that year is first
#: available for the second quarter (July to September) of the financial year starting in April Y.
FIRST_QUARTER_PUBLISHED = 2


def latest_published_year(period_index):
    """The latest DfE year (``time_period``) available during a quarter, as it was then.

    Year Y is used from Q2 of the financial year that starts in April Y (``FIRST_QUARTER_PUBLISHED``): 2026-27 Q2
    onwards uses 2026, 2026-27 Q1 still uses 2025. ``period_index`` is ``Quarter.index`` (a number or an
    array of them); returns the same shape.
    """
    idx = np.asarray(period_index, dtype=np.int64)
    fy, q = idx // 4, idx % 4 + 1
    out = np.where(q >= FIRST_QUARTER_PUBLISHED, fy, fy - 1)
    return out if out.ndim else int(out)


def _matches_filters(frame: pd.DataFrame, filters: dict[str, str]) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for col, val in filters.items():
        mask &= frame["filters"].str.contains(f"{col}={val}", regex=False)
    return mask


def _aligned(rows: pd.DataFrame, index: pd.MultiIndex, name: str | None, pop: pd.Series | None) -> pd.Series:
    """Column ``name`` of the published rows (or the mid-(Y−1) population) aligned on (area_code, time_period)."""
    if not name:
        return pd.Series(np.nan, index=index)
    if name == POPULATION:
        if pop is None:
            return pd.Series(np.nan, index=index)
        return pd.Series(pop.reindex([(a, int(y) - 1) for a, y in index]).to_numpy(dtype=float), index=index)
    col = rows[rows["measure"] == name].drop_duplicates(["area_code", "time_period"])
    return col.set_index(["area_code", "time_period"])["value"].reindex(index).astype(float)


def published_values(benchmarks: pd.DataFrame, library: Library, population: pd.DataFrame | None = None,
                     level: float = 0.95) -> pd.DataFrame:
    """One row per indicator × area × published year: value, numerator, denominator and 95% interval."""
    out = []
    if benchmarks is None or benchmarks.empty:
        return pd.DataFrame(columns=PUBLISHED_COLUMNS)
    pop = None
    if population is not None and not population.empty:
        pop = population.set_index(["area_code", "year"])["population"]
    for ind in library.indicators.values():
        spec = ind.benchmark
        if spec is None:
            continue
        rows = benchmarks[(benchmarks["dataset"] == spec.dataset)]
        if spec.filters:
            rows = rows[_matches_filters(rows, spec.filters)]
        if rows.empty:
            continue
        keys = ["area_code", "time_period"]
        main = rows[rows["measure"] == spec.measure]
        if main.empty:
            continue
        frame = main[["area_code", "area_name", "geographic_level", "la_number", "region_code", "time_period",
                      "value", "note"]].drop_duplicates(keys).set_index(keys)

        num = _aligned(rows, frame.index, spec.numerator, pop)
        den = _aligned(rows, frame.index, spec.denominator, pop)
        published = frame["value"].astype(float)
        if spec.per_population:
            value = 10_000.0 * published / den
        else:
            value = published
        n = num.to_numpy(dtype=float)
        d = den.to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if ind.unit == Unit.percentage:
                lo, hi = wilson_interval(n, d, level)
                lo, hi = 100 * np.asarray(lo, dtype=float), 100 * np.asarray(hi, dtype=float)
            elif ind.unit == Unit.rate_per_10000:
                lo, hi = rate_interval(n, d, per=10_000, level=level)
                lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
            else:
                lo = hi = np.full(len(n), np.nan)
        df = frame.reset_index()
        out.append(pd.DataFrame({
            "indicator_id": ind.id,
            "area_code": df["area_code"],
            "area_name": df["area_name"],
            "level": df["geographic_level"].map(_LEVELS).fillna("other"),
            "la_number": df["la_number"],
            "region_code": df["region_code"],
            "year": df["time_period"].astype(int),
            "value": value.to_numpy(dtype=float),
            "numerator": n,
            "denominator": d,
            "lower": lo,
            "upper": hi,
            "note": df["note"],
        }))
    if not out:
        return pd.DataFrame(columns=PUBLISHED_COLUMNS)
    return pd.concat(out, ignore_index=True)
