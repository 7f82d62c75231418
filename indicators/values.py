"""Indicator values from returned measures: counts, percentages, rates per 10,000 and mean days.

Measures arrive as a long frame (area, period, measure, value, status). They are laid out on a complete
area × quarter grid so that every period type is an array operation:

* ``flow`` – the quarter's own figures;
* ``snapshot`` – the figures at the end of the quarter;
* ``rolling_12m`` – the sum of the four quarters ending with this one (needs all four);
* ``fytd`` – the sum from Q1 of the financial year to this quarter (needs every one of them).

A rate per 10,000 uses the ONS mid-year estimate of children aged 0 to 17 for mid-(Y−1), where Y is the
year the financial year ends in, as DfE does for its annual rates. Suppressed and missing inputs propagate:
a suppressed numerator gives a suppressed value, never a zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.definitions import POPULATION, ChartSeries, Indicator, Library, MeasureKind, PeriodType, Unit
from indicators.intervals import byar_interval, rate_interval, wilson_interval
from indicators.periods import Quarter

MEASURE_COLUMNS = ["area_code", "period", "measure", "value", "status"]
POPULATION_COLUMNS = ["area_code", "year", "population"]
VALUE_COLUMNS = ["indicator_id", "area_code", "period", "period_index", "period_end", "numerator", "denominator",
                 "value", "lower", "upper", "status", "display_suppressed", "quarter_numerator",
                 "quarter_denominator", "quarter_value", "quarter_status", "chart_value", "chart_denominator",
                 "chart_status"]

_OK, _SUPPRESSED, _MISSING = 0, 1, 2


class MeasureGrid:
    """Measures on a dense grid: ``values[measure]`` and ``state[measure]`` are (areas × quarters) arrays."""

    def __init__(self, measures: pd.DataFrame, areas: list[str] | None = None,
                 first: Quarter | None = None, last: Quarter | None = None):
        missing = set(MEASURE_COLUMNS) - set(measures.columns)
        if missing:
            raise ValueError(f"the measures frame lacks columns {sorted(missing)}")
        m = measures.copy()
        labels = m["period"].unique()
        m["period_index"] = m["period"].map({p: Quarter.parse(p).index for p in labels})
        self.areas = sorted(areas if areas is not None else m["area_code"].unique().tolist())
        lo = first.index if first else (int(m["period_index"].min()) if len(m) else 0)
        hi = last.index if last else (int(m["period_index"].max()) if len(m) else -1)
        self.period_indexes = np.arange(lo, hi + 1)
        self.quarters = [Quarter.from_index(int(i)) for i in self.period_indexes]
        a_pos = {a: i for i, a in enumerate(self.areas)}
        m = m[m["area_code"].isin(a_pos) & m["period_index"].between(lo, hi)]
        shape = (len(self.areas), len(self.period_indexes))
        self.shape = shape
        self.values: dict[str, np.ndarray] = {}
        self.state: dict[str, np.ndarray] = {}
        rows = m["area_code"].map(a_pos).to_numpy()
        cols = (m["period_index"] - lo).to_numpy()
        status = m["status"].fillna("ok").to_numpy()
        vals = pd.to_numeric(m["value"], errors="coerce").to_numpy(dtype=float)
        codes = m["measure"].to_numpy()
        for code in pd.unique(codes):
            sel = codes == code
            v = np.full(shape, np.nan)
            s = np.full(shape, _MISSING, dtype=np.int8)
            st = status[sel]
            state = np.where(st == "suppressed", _SUPPRESSED, np.where((st == "ok") & ~np.isnan(vals[sel]), _OK, _MISSING))
            v[rows[sel], cols[sel]] = np.where(state == _OK, vals[sel], np.nan)
            s[rows[sel], cols[sel]] = state
            self.values[code] = v
            self.state[code] = s

    def measure(self, code: str) -> tuple[np.ndarray, np.ndarray]:
        if code not in self.values:
            return np.full(self.shape, np.nan), np.full(self.shape, _MISSING, dtype=np.int8)
        return self.values[code], self.state[code]


def _window_sum(v: np.ndarray, s: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum each row over [start_j, j] for every column j; return (sum, worst state, complete-window mask).

    ``starts`` gives, for each column, the first column of its window (may be negative: window incomplete).
    """
    n = v.shape[1]
    filled = np.where(s == _OK, v, 0.0)
    csum = np.concatenate([np.zeros((v.shape[0], 1)), np.cumsum(filled, axis=1)], axis=1)
    sup = np.concatenate([np.zeros((v.shape[0], 1)), np.cumsum(s == _SUPPRESSED, axis=1)], axis=1)
    mis = np.concatenate([np.zeros((v.shape[0], 1)), np.cumsum(s == _MISSING, axis=1)], axis=1)
    cols = np.arange(n)
    complete = starts >= 0
    st = np.clip(starts, 0, None)
    total = csum[:, cols + 1] - csum[:, st]
    n_sup = sup[:, cols + 1] - sup[:, st]
    n_mis = mis[:, cols + 1] - mis[:, st]
    state = np.where(n_mis > 0, _MISSING, np.where(n_sup > 0, _SUPPRESSED, _OK)).astype(np.int8)
    return total, state, np.broadcast_to(complete, v.shape)


def _over_period(grid: MeasureGrid, code: str, period_type: PeriodType) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The measure over the indicator's period type: (values, state, window complete)."""
    v, s = grid.measure(code)
    n = len(grid.period_indexes)
    if period_type in (PeriodType.flow, PeriodType.snapshot):
        return v, s, np.ones(v.shape, dtype=bool)
    cols = np.arange(n)
    if period_type == PeriodType.rolling_12m:
        starts = cols - 3
    else:  # financial year to date: back to this year's Q1
        q_in_year = np.array([q.q for q in grid.quarters]) - 1
        starts = cols - q_in_year
    total, state, complete = _window_sum(v, s, starts)
    total = np.where(state == _OK, total, np.nan)
    return total, state, complete


def population_grid(population: pd.DataFrame | None, grid: MeasureGrid) -> tuple[np.ndarray, np.ndarray]:
    """ONS 0–17 population for each area × quarter: mid-(Y−1) for financial year ending Y (latest earlier year if absent)."""
    shape = grid.shape
    out = np.full(shape, np.nan)
    if population is None or population.empty:
        return out, np.full(shape, _MISSING, dtype=np.int8)
    pop = population.dropna(subset=["population"])
    wanted = np.array([q.year_ending - 1 for q in grid.quarters])
    for i, area in enumerate(grid.areas):
        p = pop[pop["area_code"] == area].sort_values("year")
        if p.empty:
            continue
        years = p["year"].to_numpy()
        vals = p["population"].to_numpy(dtype=float)
        pos = np.searchsorted(years, wanted, side="right") - 1
        out[i] = np.where(pos >= 0, vals[np.clip(pos, 0, None)], np.nan)
    state = np.where(np.isnan(out), _MISSING, _OK).astype(np.int8)
    return out, state


def compute_values(measures: pd.DataFrame, library: Library, population: pd.DataFrame | None = None,
                   indicators: list[str] | None = None, first: Quarter | None = None,
                   last: Quarter | None = None, level: float = 0.95) -> pd.DataFrame:
    """Every indicator's value for every area and quarter in ``measures``.

    Returns one row per indicator × area × quarter with ``numerator``, ``denominator``, ``value``, ``lower``,
    ``upper`` (confidence interval at ``level``), ``status`` (ok | suppressed | missing | partial |
    no_population: the figures were returned but no ONS population is stored for the rate) and
    ``display_suppressed`` (the numerator is a small count below the indicator's suppression threshold).

    ``quarter_numerator``, ``quarter_denominator``, ``quarter_value`` and ``quarter_status`` are the quarter's
    own figures: for a rolling 12-month or year-to-date indicator, the numerator and denominator of that quarter
    alone and the value they give on the indicator's unit (a rate is the quarter's count per 10,000 children, not
    annualised); for a flow or a snapshot they equal the headline. Consecutive quarters' own figures do not
    overlap, which is what control charts and forecasts need (see docs/methods-statistics.md).

    ``chart_value``, ``chart_denominator`` and ``chart_status`` are what the indicator's control chart plots
    (``Indicator.chart``): the quarter's own figures, a related flow's value on the indicator's unit, or the
    headline itself for a run chart.
    """
    if measures.empty and (first is None or last is None):
        return pd.DataFrame(columns=VALUE_COLUMNS)
    grid = MeasureGrid(measures, first=first, last=last)
    pop, pop_state = population_grid(population, grid)
    ids = indicators or list(library.indicators)
    frames = []
    n_a, n_p = grid.shape
    area_col = np.repeat(np.array(grid.areas, dtype=object), n_p)
    period_col = np.tile(np.array([q.label for q in grid.quarters], dtype=object), n_a)
    pidx_col = np.tile(grid.period_indexes, n_a)
    end_col = np.tile(np.array([q.end for q in grid.quarters], dtype=object), n_a)
    for ind_id in ids:
        ind = library.indicator(ind_id)
        num, den, value, lower, upper, status = _figures(grid, ind, ind.period_type, pop, pop_state, library, level)
        ok = status == "ok"
        if ind.period_type in (PeriodType.rolling_12m, PeriodType.fytd):
            q_num, q_den, q_value, _, _, q_status = _figures(grid, ind, PeriodType.flow, pop, pop_state, library,
                                                             level)
        else:
            q_num, q_den, q_value, q_status = num, den, value, status
        q_ok = q_status == "ok"
        plots = ind.chart.plots
        if plots == ChartSeries.flow:
            flow = ind.model_copy(update={"numerator": ind.chart.numerator, "denominator": ind.chart.denominator,
                                          "period_type": PeriodType.flow})
            _, c_den, c_value, _, _, c_status = _figures(grid, flow, PeriodType.flow, pop, pop_state, library,
                                                         level)
        elif plots == ChartSeries.run_chart:
            c_den, c_value, c_status = den, value, status
        else:
            c_den, c_value, c_status = q_den, q_value, q_status
        c_den = np.where(c_status == "ok", c_den, np.nan)
        # a small count of children or events: shown to the board, to be suppressed before publication
        small = ok & (num > 0) & (num < ind.suppress_below) & library.measures[ind.numerator].whole_number
        frames.append(pd.DataFrame({
            "indicator_id": ind.id,
            "area_code": area_col,
            "period": period_col,
            "period_index": pidx_col,
            "period_end": end_col,
            "numerator": np.where(ok, num, np.nan).ravel(),
            "denominator": np.where(ok, den, np.nan).ravel(),
            "value": value.ravel(),
            "lower": lower.ravel(),
            "upper": upper.ravel(),
            "status": status.ravel(),
            "display_suppressed": small.ravel(),
            "quarter_numerator": np.where(q_ok, q_num, np.nan).ravel(),
            "quarter_denominator": np.where(q_ok, q_den, np.nan).ravel(),
            "quarter_value": q_value.ravel(),
            "quarter_status": q_status.ravel(),
            "chart_value": c_value.ravel(),
            "chart_denominator": c_den.ravel(),
            "chart_status": c_status.ravel(),
        }))
    if not frames:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def _figures(grid: MeasureGrid, ind: Indicator, period_type: PeriodType, pop: np.ndarray, pop_state: np.ndarray,
             library: Library, level: float):
    """(numerator, denominator, value, lower, upper, status) of ``ind`` over ``period_type`` on the grid; the
    value and interval are NaN wherever the status is not ok."""
    num, num_state, complete = _over_period(grid, ind.numerator, period_type)
    if ind.denominator is None:
        den, den_state = np.full(grid.shape, np.nan), np.zeros(grid.shape, dtype=np.int8)
    elif ind.denominator == POPULATION:
        den, den_state = pop, pop_state
    else:
        den, den_state, _ = _over_period(grid, ind.denominator, period_type)
    value, lower, upper = indicator_value(ind, library, num, den, level)
    status = _status(num_state, den_state, complete, ind)
    ok = status == "ok"
    value, lower, upper = (np.where(ok & np.isfinite(x), x, np.nan) for x in (value, lower, upper))
    return num, den, value, lower, upper, status


def _status(num_state: np.ndarray, den_state: np.ndarray, complete: np.ndarray, ind: Indicator) -> np.ndarray:
    """ok | suppressed | missing | partial | no_population, from the inputs' states (the worst one wins)."""
    state = np.maximum(num_state, den_state)
    status = np.where(~complete, "partial", np.where(state == _SUPPRESSED, "suppressed",
                                                      np.where(state == _MISSING, "missing", "ok")))
    if ind.denominator == POPULATION:
        # the figures came in, but no ONS population is stored to turn them into a rate
        status = np.where((status == "missing") & (num_state == _OK) & (den_state == _MISSING),
                          "no_population", status)
    return status


def indicator_value(ind: Indicator, library: Library, num, den, level: float = 0.95):
    """(value, lower, upper) for numerator and denominator arrays, by the indicator's unit.

    Percentages: 100·n/d with a Wilson score interval. Rates: 10,000·n/d with Byar's interval (exact Poisson
    for small counts) on n. Counts: n with the Poisson interval. Mean days: n/d, no interval (the spread of
    the individual durations is not returned). A percentage returned as such has no interval either.
    """
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    nan = np.full(num.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ind.unit == Unit.count:
            lo, hi = byar_interval(num, level)
            return num, np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        if ind.unit == Unit.percentage:
            measure = library.measures.get(ind.numerator)
            if ind.denominator is None and measure is not None and measure.kind == MeasureKind.percentage:
                return num, nan, nan
            ok = (den > 0) & (num <= den)
            value = np.where(ok, 100.0 * num / den, np.nan)
            lo, hi = wilson_interval(np.where(ok, num, np.nan), np.where(ok, den, np.nan), level)
            return value, 100.0 * np.asarray(lo, dtype=float), 100.0 * np.asarray(hi, dtype=float)
        if ind.unit == Unit.rate_per_10000:
            ok = den > 0
            value = np.where(ok, 10_000.0 * num / den, np.nan)
            lo, hi = rate_interval(num, den, per=10_000, level=level)
            return value, np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        # mean days
        return np.where(den > 0, num / den, np.nan), nan, nan
