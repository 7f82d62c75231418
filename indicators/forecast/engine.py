"""Step 2: choosing the method for every series, then the forecasts, the headline and its intervals.

This is the engine: :func:`forecast_many` takes a panel of series, :func:`forecast_baseline` is the same
call on one series. See the package docstring for the method choice.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from scipy import special

from indicators.forecast import damped, headline, linear, stock
from indicators.forecast.inputs import (
    as_matrix,
    as_values,
    bound_array,
    check_arguments,
    kind_array,
    weights_matrix,
    year_quarters,
)
from indicators.forecast.results import Baseline, BatchForecast, forecast_frame

MIN_TREND_POINTS = 3  #: fewer reported quarters than this: flat forecast, no interval
INDICATIVE_BELOW = 6  #: a trend or stock model on fewer quarters than this is marked indicative
SEASONAL_MIN_POINTS = 12  #: three full years before seasonal dummies are considered
SEASONAL_P_VALUE = 0.01  #: significance level of the F-test for the seasonal dummies
DAMPED_MIN_POINTS = 12  #: quarters needed before a damped trend is fitted (6 when it is asked for)
STOCK_MIN_POINTS = stock.MIN_PAIRS + 1  #: quarters needed for the stock model

_CODES = ("none", "flat", "linear", "linear_seasonal", "damped_holt", "ar1")
_NONE, _FLAT, _LINEAR, _SEASONAL, _DAMPED, _AR1 = range(6)
_KIND_WORDS = {
    "rolling_12m": "Rolling 12-month figure built from forecasts of each quarter's own value: ",
    "fytd": "Year-to-date figure built from forecasts of each quarter's own value: ",
}
_CRITERIA = ("sse_linear", "aicc_linear", "seasonal_f", "seasonal_p", "sse_linear_seasonal",
             "aicc_linear_seasonal", "sse_damped_holt", "aicc_damped_holt")


def _quarters(n: int) -> str:
    return f"{n} quarter" if n == 1 else f"{n} quarters"


def _format_unique(fmt, *columns) -> np.ndarray:
    """``fmt(*row)`` for every row of the key columns, formatting each distinct row once."""
    if columns[0].size == 0:
        return np.empty(0, dtype=object)
    codes, uniques = pd.MultiIndex.from_arrays(list(columns)).factorize()
    return np.array([fmt(*key) for key in uniques], dtype=object)[codes]


def _spans(Y: np.ndarray, finite: np.ndarray, rows: np.ndarray, first: np.ndarray, last: np.ndarray):
    """Each row's span (first to last reported quarter), starting in column 0: values (0.0 where missing
    or after the span) and which are reported."""
    length = last[rows] - first[rows] + 1
    cols = first[rows][:, None] + np.arange(int(length.max()))
    inside = cols <= last[rows][:, None]
    cols = np.minimum(cols, Y.shape[1] - 1)
    obs = finite[rows[:, None], cols] & inside
    ys = np.where(obs, Y[rows[:, None], cols], 0.0)
    return ys, obs, cols


def forecast_many(
    quarterly,
    horizon: int = 4,
    method: str = "auto",
    season_length: int = 4,
    lower_bound=None,
    upper_bound=None,
    *,
    kind="flow",
    weights=None,
    year_quarter=None,
    fit_from=None,
) -> BatchForecast:
    """Turn-the-curve baselines for every row of a panel, forecasting ``horizon`` quarters ahead.

    ``quarterly`` is 2-D (series x quarters, oldest first; array, nested lists or DataFrame; NaN, None, text
    or infinities mean missing). For ``kind="flow"`` and ``"snapshot"`` it holds the headline itself; for
    ``"rolling_12m"`` and ``"fytd"`` each QUARTER'S OWN value on the headline's scale (percent 0-100, the
    quarter's rate per 10,000, its count, its mean days). ``kind`` is one name or one per series.
    ``weights`` (same shape) are the quarters' denominators for ratio headlines (percentages, mean days),
    None for sums (counts and rates); a row of weights that is all NaN makes that series a sum. ``year_quarter`` (n_periods,) is the financial quarter 1..4 of each
    column: needed for year-to-date headlines (they reset in Q1), and used for the seasonal dummies.
    ``lower_bound`` / ``upper_bound`` (a number, None, or one per series with NaN for none) clip the headline
    forecast and its intervals (0 for rates and counts, 0 and 100 for percentages). ``fit_from`` (one column
    position per series, or None) fits each model only to the quarters from that position on — after a
    recorded SPC rebase the old process is not the baseline any more — while a rolling or year-to-date
    headline still counts the reported quarters before it that its windows contain.

    Methods (``method="auto"``): see the package docstring. The quarters' own values are forecast by the
    chosen model; a rolling or year-to-date headline is then built from them and its 80% and 95% intervals
    from the covariance of their forecast errors (:mod:`indicators.forecast.headline`).

    Returns a :class:`BatchForecast`: per series the method and its label, the HEADLINE forecast (``point``,
    ``lo80`` .. ``hi95``, n_series x horizon) and what the curve test needs: ``quarter_point`` and
    ``quarter_sd`` (n_series x horizon) and ``quarter_cov`` (n_series x horizon x horizon), with ``df``.
    """
    check_arguments(horizon, method, season_length)
    Y = as_matrix(quarterly)
    m, n_periods = Y.shape
    Y_reported = Y  # every reported quarter, for the headline's windows
    if fit_from is not None:
        start = np.broadcast_to(np.asarray(fit_from, dtype=float), (m,))
        Y = np.where(np.arange(n_periods)[None, :] < start[:, None], np.nan, Y)
    kinds = kind_array(kind, m)
    W = weights_matrix(weights, Y.shape)
    yq = year_quarters(year_quarter, n_periods, horizon)
    lower = bound_array(lower_bound, m, "lower_bound")
    upper = bound_array(upper_bound, m, "upper_bound")
    season_start = int(yq[0] - 1) if (yq is not None and season_length == 4) else 0

    path = headline.LOOKBACK + horizon
    pos = n_periods - headline.LOOKBACK + np.arange(path)
    finite = np.isfinite(Y)
    n = finite.sum(axis=1)
    first = np.argmax(finite, axis=1) if n_periods else np.zeros(m, dtype=int)
    last = n_periods - 1 - np.argmax(finite[:, ::-1], axis=1) if n_periods else np.full(m, -1)
    last = np.where(n > 0, last, -1)
    steps_from_last = np.maximum(pos[None, :] - last[:, None], 1)

    code = np.full(m, _NONE)
    mean = np.full((m, path), np.nan)
    cov = np.full((m, path, path), np.nan)
    df = np.full(m, np.nan)
    fitted = np.full((m, n_periods), np.nan)
    criteria = {c: np.full(m, np.nan) for c in _CRITERIA}
    params: dict[str, np.ndarray] = {}

    def param(name: str, rows: np.ndarray, values) -> None:
        params.setdefault(name, np.full(m, np.nan))[rows] = values

    # flat forecasts (fewer than 3 reported quarters, or asked for)
    flat = np.flatnonzero((n > 0) & ((n < MIN_TREND_POINTS) | (method == "flat")))
    code[flat] = _FLAT
    last_value = Y[flat, last[flat]]
    mean[flat] = last_value[:, None]
    fitted[flat, last[flat]] = last_value
    param("last_value", flat, last_value)

    # stocks: a first-order autoregression around the mean
    wants_ar = (method == "ar1") | ((method == "auto") & (kinds == "snapshot"))
    ar_ok = (n >= STOCK_MIN_POINTS) & (stock.pairs(Y) >= stock.MIN_PAIRS)
    ar = np.flatnonzero((code == _NONE) & (n > 0) & wants_ar & ar_ok)
    averaged = np.zeros(m, dtype=bool)
    if ar.size:
        fit = stock.fit_stock(Y[ar])
        code[ar] = _AR1
        mean[ar], cov[ar] = stock.forecast_stock(fit, steps_from_last[ar])
        df[ar] = fit.level.df
        fitted[ar] = stock.fitted_stock(fit)
        lv = fit.level
        for name, v in (("mean", lv.path[:, 0]), ("persistence", lv.rho), ("persistence_ols", lv.rho_ols),
                        ("sigma", np.sqrt(lv.s2)), ("df", lv.df)):
            param(name, ar, v)
        if fit.trend is not None:
            both = ar[fit.averaged]
            param("trend_slope", both, fit.trend.path[fit.averaged, 1])
            param("trend_persistence", both, fit.trend.rho[fit.averaged])
        averaged = np.zeros(m, dtype=bool)
        averaged[ar] = fit.averaged
    ar_fallback = (method == "ar1") & (code != _AR1) & (n >= MIN_TREND_POINTS)

    # least-squares trends, one design per pattern of reported quarters
    main = np.flatnonzero((code == _NONE) & (n >= MIN_TREND_POINTS))
    aicc = np.full(m, np.nan)
    exact = np.zeros(m, dtype=bool)
    want_holt = np.zeros(m, dtype=bool)
    pattern = np.full(m, -1)
    if main.size:
        _, inverse = np.unique(np.packbits(finite[main], axis=1), axis=0, return_inverse=True)
        pattern[main] = inverse.ravel()
    for p_code in np.unique(pattern[main]):
        rows = main[pattern[main] == p_code]
        x = np.flatnonzero(finite[rows[0]])
        k = x.size
        yo = Y[rows[:, None], x]
        lin = linear.fit_linear(x, yo, False, season_start, season_length)
        sst = ((yo - yo.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        ex = (lin.sse <= 1e-20 * np.maximum((yo**2).sum(axis=1), 1e-300)) | (sst == 0.0)
        exact[rows] = ex
        code[rows] = _LINEAR
        criteria["sse_linear"][rows] = lin.sse
        criteria["aicc_linear"][rows] = aicc[rows] = linear.aicc(lin.sse, k, 3)
        mean[rows], cov[rows] = linear.forecast_linear(lin, pos)
        df[rows] = lin.df
        span = np.arange(x[0], x[-1] + 1)
        fitted[rows[:, None], span] = linear.fitted_linear(lin, span)
        param("intercept", rows, lin.beta[:, 0] - lin.beta[:, 1] * lin.centre)
        param("slope", rows, lin.beta[:, 1])
        param("sigma", rows, lin.sigma)
        param("df", rows, lin.df)
        seasons_ok = k >= SEASONAL_MIN_POINTS and np.bincount(
            (season_start + x) % season_length, minlength=season_length).min() >= 2
        if seasons_ok and method in ("auto", "linear_seasonal") and not ex.all():
            sea = linear.fit_linear(x, yo, True, season_start, season_length)
            df1, df2 = season_length - 1, sea.df
            with np.errstate(divide="ignore", invalid="ignore"):
                f_stat = ((lin.sse - sea.sse) / df1) / (sea.sse / df2)
            p = np.where(sea.sse > 0, special.fdtrc(df1, df2, np.maximum(f_stat, 0.0)), 0.0)
            criteria["seasonal_f"][rows] = np.where(sea.sse > 0, f_stat, np.inf)
            criteria["seasonal_p"][rows] = p
            criteria["sse_linear_seasonal"][rows] = sea.sse
            criteria["aicc_linear_seasonal"][rows] = linear.aicc(sea.sse, k, 2 + (season_length - 1) + 1)
            take = ~ex & ((p < SEASONAL_P_VALUE) | (method == "linear_seasonal"))
            if take.any():
                sub = rows[take]
                code[sub] = _SEASONAL
                aicc[sub] = criteria["aicc_linear_seasonal"][sub]
                sea_t = dataclasses.replace(sea, beta=sea.beta[take], sse=sea.sse[take])
                mean[sub], cov[sub] = linear.forecast_linear(sea_t, pos)
                df[sub] = sea.df
                fitted[sub[:, None], span] = linear.fitted_linear(sea_t, span)
                param("intercept", sub, sea_t.beta[:, 0] - sea_t.beta[:, 1] * sea.centre)
                param("slope", sub, sea_t.beta[:, 1])
                param("sigma", sub, sea_t.sigma)
                param("df", sub, sea.df)
                for s in range(1, season_length):
                    param(f"season_{s}", sub, sea_t.beta[:, 1 + s])
        if method == "damped_holt" and k >= 6:
            want_holt[rows] = True
        elif method == "auto" and k >= DAMPED_MIN_POINTS:
            want_holt[rows] = ~ex

    # the damped trend, all series at once; it replaces the least-squares model when its AICc is lower
    holt = np.flatnonzero(want_holt)
    if holt.size:
        ys, obs, span_cols = _spans(Y, finite, holt, first, last)
        fit = damped.fit_damped(ys, obs, pattern[holt])
        criteria["sse_damped_holt"][holt] = fit.sse
        criteria["aicc_damped_holt"][holt] = linear.aicc(fit.sse, fit.n, 6)
        wins = (method == "damped_holt") | (criteria["aicc_damped_holt"][holt] < aicc[holt])
        if wins.any():
            sub = holt[wins]
            fit = damped.DampedFit(*(getattr(fit, f.name)[wins] for f in dataclasses.fields(fit)))
            code[sub] = _DAMPED
            mean[sub], cov[sub] = damped.forecast_damped(fit, steps_from_last[sub])
            df[sub] = fit.n - 5
            cols = span_cols[wins]
            inside = cols <= last[sub][:, None]
            fitted[sub] = np.nan
            r, c = np.nonzero(inside)
            fitted[sub[r], cols[r, c]] = fit.fitted[r, c]
            for name in ("alpha", "beta", "phi", "level0", "trend0", "sigma"):
                param(name, sub, getattr(fit, name))
            for name in ("intercept", "slope", "df"):
                if name in params:
                    params[name][sub] = np.nan

    # the headline, kind by kind
    step_cols = slice(headline.LOOKBACK, path)
    q_point = mean[:, step_cols]
    q_cov = cov[:, step_cols, step_cols]
    q_sd = np.sqrt(np.maximum(np.diagonal(q_cov, axis1=1, axis2=2), 0.0))
    q_sd = np.where(np.isnan(np.diagonal(q_cov, axis1=1, axis2=2)), np.nan, q_sd)
    point, sd = q_point.copy(), q_sd.copy()
    weighted = np.zeros(m, dtype=bool) if W is None else np.isfinite(W).any(axis=1)
    for k in ("rolling_12m", "fytd"):
        for ratio in (False, True):
            rows = np.flatnonzero((kinds == k) & (code != _NONE) & (weighted == ratio))
            if rows.size:
                w = W[rows] if ratio else None
                point[rows], sd[rows] = headline.aggregate(k, Y_reported[rows], w, last[rows], mean[rows], cov[rows], yq,
                                                           horizon)
    has_interval = np.isin(code, (_LINEAR, _SEASONAL, _DAMPED, _AR1))
    with np.errstate(invalid="ignore"):
        t80 = special.stdtrit(np.where(has_interval, df, 1.0), 0.90)[:, None]
        t95 = special.stdtrit(np.where(has_interval, df, 1.0), 0.975)[:, None]
    sd = np.where(has_interval[:, None], sd, np.nan)
    bands = [point, point - t80 * sd, point + t80 * sd, point - t95 * sd, point + t95 * sd]

    lo = np.where(np.isnan(lower), -np.inf, lower)[:, None]
    hi = np.where(np.isnan(upper), np.inf, upper)[:, None]
    clipped = [np.minimum(np.maximum(b, lo), hi) for b in bands]
    was_clipped = np.zeros(m, dtype=bool)
    for b, c in zip(bands, clipped, strict=True):
        was_clipped |= ~((b == c) | (np.isnan(b) & np.isnan(c))).all(axis=1)

    methods = np.array(_CODES, dtype=object)[code]
    labels = _labels(code, n, kinds, criteria, params, method, season_length, averaged)
    details = dict(Y=Y, criteria=criteria, params=params, fitted=fitted, exact=exact, clipped=was_clipped,
                   lower=lower, upper=upper, method=method, season_length=season_length, ar_fallback=ar_fallback,
                   horizon=horizon)
    return BatchForecast(
        method=methods,
        method_label=labels,
        n_points=n.astype(int),
        point=clipped[0],
        lo80=clipped[1],
        hi80=clipped[2],
        lo95=clipped[3],
        hi95=clipped[4],
        indicative=(n < INDICATIVE_BELOW) & np.isin(code, (_LINEAR, _AR1)),
        has_interval=has_interval,
        positions=np.arange(n_periods, n_periods + horizon),
        kind=kinds,
        quarter_point=q_point,
        quarter_sd=np.where(has_interval[:, None], q_sd, np.nan),
        quarter_cov=q_cov,
        df=np.where(has_interval, df, np.nan),
        details=details,
    )


def _labels(code, n, kinds, criteria, params, method, season_length, averaged) -> np.ndarray:
    """The method stated in one sentence per series, formatted once per distinct wording."""
    m = code.size
    label = np.full(m, "No reported values: no baseline.", dtype=object)
    rows = np.flatnonzero(code == _FLAT)
    label[rows] = _format_unique(
        lambda k, own: (
            f"Flat forecast at the last value (chosen), from {_quarters(k)}; no interval."
            if own
            else f"Only {_quarters(k)} reported: flat forecast at the last value, no interval."
        ),
        n[rows],
        (method == "flat") & (n[rows] >= MIN_TREND_POINTS),
    )
    rows = np.flatnonzero(code == _LINEAR)
    label[rows] = _format_unique(
        lambda k: (
            f"Linear trend fitted to only {_quarters(k)}: indicative, the 80% and 95% prediction "
            "intervals are wide."
            if k < INDICATIVE_BELOW
            else f"Linear trend fitted to {_quarters(k)}; 80% and 95% prediction intervals."
        ),
        n[rows],
    )
    rows = np.flatnonzero(code == _SEASONAL)
    p = criteria["seasonal_p"][rows]
    p_text = np.where(p < 0.001, "p < 0.001", np.char.mod("p = %.3f", p))
    seasonal_words = "quarterly seasonal" if season_length == 4 else f"seasonal (period {season_length})"
    label[rows] = _format_unique(
        lambda k, pt: (
            f"Linear trend with {seasonal_words} effects (F-test {pt}) fitted to {_quarters(k)}; "
            "80% and 95% prediction intervals."
        ),
        n[rows],
        p_text,
    )
    rows = np.flatnonzero(code == _DAMPED)
    how = "chosen over the linear model by lower AICc" if method == "auto" else "chosen"
    label[rows] = _format_unique(
        lambda k, ph: (
            f"Damped trend (Holt's method, damping {ph}) fitted to {_quarters(k)}, {how}; "
            "80% and 95% prediction intervals."
        ),
        n[rows],
        np.char.mod("%.2f", params["phi"][rows]) if rows.size else np.empty(0, dtype=str),
    )
    rows = np.flatnonzero(code == _AR1)
    label[rows] = _format_unique(
        lambda k, rho, both: (
            "Stock carried over from quarter to quarter: "
            + ("autoregressive models around its level and around its trend, averaged (AR(1), persistence "
               if both else "autoregressive model around its level (AR(1), persistence ")
            + f"{rho}) fitted to "
            + (f"only {_quarters(k)}: indicative, the 80% and 95% prediction intervals are wide."
               if k < INDICATIVE_BELOW else f"{_quarters(k)}; 80% and 95% prediction intervals.")
        ),
        n[rows],
        np.char.mod("%.2f", params["persistence"][rows]) if rows.size else np.empty(0, dtype=str),
        averaged[rows],
    )
    for k, words in _KIND_WORDS.items():
        rows = np.flatnonzero((kinds == k) & (code != _NONE))
        label[rows] = _format_unique(lambda lab, w=words: w + lab[0].lower() + lab[1:], label[rows])
    return label


def _missing_note(y: np.ndarray) -> str | None:
    missing = np.flatnonzero(~np.isfinite(y))
    if missing.size == 0:
        return None
    shown = ", ".join(str(int(i)) for i in missing[:8]) + (", ..." if missing.size > 8 else "")
    return (
        f"{_quarters(int(missing.size))} missing (positions {shown}) left out of the fit; "
        "the time axis keeps their place."
    )


def baseline_of(batch: BatchForecast, i: int) -> Baseline:
    """Row ``i`` of a batch as a :class:`Baseline`, with its criteria, parameters, fitted values and notes."""
    d = batch.details
    y = d["Y"][i]
    n = int(batch.n_points[i])
    method = d["method"]
    chosen = str(batch.method[i])
    notes = []
    note = _missing_note(y)
    if note:
        notes.append(note)
    if method not in ("auto", "flat") and chosen == "flat" and n > 0:
        notes.append(f"Too few quarters for the '{method}' method; a flat forecast was used.")
    seasons_tried = np.isfinite(d["criteria"]["seasonal_p"][i])
    if method == "linear_seasonal" and chosen == "linear" and not seasons_tried:
        notes.append(
            f"Seasonal effects need {SEASONAL_MIN_POINTS} quarters with every quarter of the year seen twice; "
            "a plain linear trend was used."
        )
    if method == "damped_holt" and chosen in ("linear", "linear_seasonal") and n < 6:
        notes.append("A damped trend needs at least 6 quarters; a linear trend was used.")
    if d["ar_fallback"][i]:
        notes.append(f"The stock model needs {STOCK_MIN_POINTS} quarters with at least {stock.MIN_PAIRS} pairs of "
                     "consecutive ones; a linear trend was used.")
    if chosen in ("linear", "linear_seasonal") and d["exact"][i]:
        notes.append("The points lie exactly on a line, so the prediction intervals have no width.")
    if d["clipped"][i]:
        bounds = " and ".join(
            f"{w} {b:g}"
            for w, b in (("below at", d["lower"][i]), ("above at", d["upper"][i]))
            if np.isfinite(b)
        )
        notes.append(f"Forecast and intervals clipped {bounds}.")
    criteria = {k: float(v[i]) for k, v in d["criteria"].items() if np.isfinite(v[i]) or np.isinf(v[i])}
    params = {k: float(v[i]) for k, v in d["params"].items() if not np.isnan(v[i])}
    steps = np.arange(1, batch.positions.size + 1)
    lo80, hi80, lo95, hi95 = (b[i] for b in batch.quarter_bands())
    quarterly = pd.DataFrame({
        "step": steps, "position": batch.positions, "point": batch.quarter_point[i], "sd": batch.quarter_sd[i],
        "lo80": lo80, "hi80": hi80, "lo95": lo95, "hi95": hi95,
    })
    finite = np.flatnonzero(np.isfinite(y))
    return Baseline(
        method=chosen,
        method_label=str(batch.method_label[i]),
        n_points=n,
        fitted=d["fitted"][i].copy(),
        forecast=forecast_frame(steps, batch.positions, batch.point[i], batch.lo80[i], batch.hi80[i],
                                batch.lo95[i], batch.hi95[i]),
        criteria=criteria,
        params=params,
        notes=tuple(notes),
        origin=y.size - 1,
        last_observed=int(finite[-1]) if finite.size else -1,
        indicative=bool(batch.indicative[i]),
        has_interval=bool(batch.has_interval[i]),
        kind=str(batch.kind[i]),
        quarterly=quarterly,
        covariance=batch.quarter_cov[i].copy(),
        df=float(batch.df[i]) if batch.has_interval[i] else np.nan,
    )


def forecast_baseline(
    values,
    horizon: int = 4,
    method: str = "auto",
    season_length: int = 4,
    lower_bound: float | None = None,
    upper_bound: float | None = None,
    *,
    kind: str = "flow",
    weights=None,
    year_quarter=None,
) -> Baseline:
    """:func:`forecast_many` on one series: its baseline, with the working (criteria, parameters, notes).

    ``values`` are one number per quarter, oldest first (array, list or Series; NaN, None or text mean
    missing): the headline for flows and snapshots, each quarter's own value for rolling and year-to-date
    headlines (``weights``: the quarters' denominators for ratios). Missing quarters are left out of the fit
    but keep their place on the time axis; step 1 is the quarter after the last one given.
    """
    y = as_values(values)
    w = None if weights is None else as_values(weights)[None, :]
    batch = forecast_many(y[None, :], horizon, method, season_length, lower_bound, upper_bound, kind=kind,
                          weights=w, year_quarter=year_quarter)
    return batch.baseline(0)


def freeze_baseline(values, frozen_at_position: int, horizon: int = 4, *, weights=None, year_quarter=None,
                    **kwargs) -> Baseline:
    """The baseline as it stood when an action plan started: fitted to positions 0..``frozen_at_position``.

    ``frozen_at_position`` is the 0-based position of the last quarter before (or at) the plan's start, in
    ``values`` (and ``weights``, ``year_quarter``, cut at the same place); everything after it is ignored,
    so later actuals cannot leak into the forecast they are judged against. Step 1 of the forecast is
    position ``frozen_at_position + 1``. Other keyword arguments (``kind``, ``method``, bounds) go to
    :func:`forecast_baseline`.
    """
    y = as_values(values)
    if not 0 <= frozen_at_position < y.size:
        raise ValueError(
            f"frozen_at_position must be a position in the series (0 to {y.size - 1}), not {frozen_at_position}"
        )
    cut = frozen_at_position + 1
    w = None if weights is None else as_values(weights)[:cut]
    yq = None if year_quarter is None else np.asarray(year_quarter)[:cut]
    base = forecast_baseline(y[:cut], horizon=horizon, weights=w, year_quarter=yq, **kwargs)
    note = f"Frozen at position {frozen_at_position}, when the action plan started."
    return dataclasses.replace(base, notes=base.notes + (note,))
