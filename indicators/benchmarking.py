"""Published annual values per indicator, from stored EES rows, the way DfE computes them.

An indicator's ``benchmark`` names the EES dataset and column. Where the published figure is a count that DfE
turns into a rate per 10,000 (``per_population``), the rate for year Y is the count over the ONS 0–17
population for mid-(Y−1), times 10,000 (DfE rounds it to one decimal place; we keep full precision and
round only for display). Local authorities' populations are found by DfE LA number and year, not ONS code,
because reorganisations change the code (DfE's own rates do the same).
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


def _population_for(frame: pd.DataFrame, population: pd.DataFrame | None) -> pd.Series:
    """The ONS 0–17 population for mid-(Y−1) of each published row, joined as DfE does.

    Local authorities join on DfE's LA number and the year (their ONS code may have changed in between);
    England and the regions on their code. Without an ``la_number`` column in ``population`` everything joins
    on the code.
    """
    idx = frame.index
    if population is None or population.empty:
        return pd.Series(np.nan, index=idx)
    year = np.asarray([int(y) - 1 for _, y in idx])
    codes = np.asarray([a for a, _ in idx], dtype=object)
    by_code = population.drop_duplicates(["area_code", "year"]).set_index(["area_code", "year"])["population"]
    out = by_code.reindex(list(zip(codes, year, strict=True))).to_numpy(dtype=float, copy=True)
    if "la_number" in population.columns and "la_number" in frame.columns:
        pop_la = population[population["la_number"].notna()]
        by_number = pop_la.assign(la_number=pop_la["la_number"].astype(int)) \
            .drop_duplicates(["la_number", "year"]).set_index(["la_number", "year"])["population"]
        number = pd.to_numeric(frame["la_number"], errors="coerce").to_numpy(dtype=float)
        is_la = (frame["geographic_level"] == "Local authority").to_numpy() & np.isfinite(number)
        if is_la.any():
            keys = list(zip(number[is_la].astype(int), year[is_la], strict=True))
            out[is_la] = by_number.reindex(keys).to_numpy(dtype=float)
    return pd.Series(out, index=idx)


def _aligned(rows: pd.DataFrame, frame: pd.DataFrame, name: str | None, pop: pd.DataFrame | None) -> pd.Series:
    """Column ``name`` of the published rows (or the mid-(Y−1) population) aligned on (area_code, time_period)."""
    index = frame.index
    if not name:
        return pd.Series(np.nan, index=index)
    if name == POPULATION:
        return _population_for(frame, pop)
    col = rows[rows["measure"] == name].drop_duplicates(["area_code", "time_period"])
    return col.set_index(["area_code", "time_period"])["value"].reindex(index).astype(float)


def published_values(benchmarks: pd.DataFrame, library: Library, population: pd.DataFrame | None = None,
                     level: float = 0.95) -> pd.DataFrame:
    """One row per indicator × area × published year: value, numerator, denominator and 95% interval.

    ``population``: area_code, year (mid-year), population and, to join local authorities as DfE does,
    la_number (see ``etl.access.read_population``). A rate for year Y is the published count over the
    population for mid-(Y−1) × 10,000.
    """
    out = []
    if benchmarks is None or benchmarks.empty:
        return pd.DataFrame(columns=PUBLISHED_COLUMNS)
    pop = population.dropna(subset=["population"]) if population is not None and not population.empty else None
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

        num = _aligned(rows, frame, spec.numerator, pop)
        den = _aligned(rows, frame, spec.denominator, pop)
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
