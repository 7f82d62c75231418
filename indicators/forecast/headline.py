"""Step 3: the headline's forecast from the forecasts of the quarters' own values.

A rolling 12-month headline is the sum (counts, rates) or the denominator-weighted mean (percentages, mean
days) of the four quarters ending with this one; a financial year-to-date headline the same from Q1 (April)
to this quarter. Consecutive headlines share quarters, so their errors are strongly correlated and a model
fitted to the headlines themselves understates its uncertainty (their coverage is measured in
benchmarks/sim_forecast.py). The quarters' own values are independent, so they are what is forecast; the
headline at step h is then the linear combination a' v of the quarters in its window, where v holds the
reported values (known, no error) and the forecasts of the others, and its forecast error is a' e over
the forecast quarters, with variance a' C a for the covariance C of their forecast errors. Each quarter
after the last reported one is forecast; a quarter missing before it (or before the series starts) leaves
the windows that contain it without a forecast, as a headline needs its whole window.

For a weighted mean the future denominators are not known: they are taken as the mean of the last four
reported (the error from that guess is second order and is not added).
"""

from __future__ import annotations

import numpy as np

LOOKBACK = 3  #: quarters before step 1 that a window can reach (a rolling year, or Q1 to Q4 of one)


def window_starts(kind: str, year_quarter: np.ndarray | None, n_periods: int, horizon: int) -> np.ndarray:
    """For steps 1..horizon, the path index where each window starts (the path is positions
    n_periods - LOOKBACK .. n_periods + horizon - 1; step s is path index LOOKBACK + s - 1)."""
    ends = LOOKBACK + np.arange(horizon)
    if kind == "rolling_12m":
        return ends - 3
    if kind == "fytd":
        if year_quarter is None:
            raise ValueError("year_quarter is needed for year-to-date headlines (kind='fytd')")
        q = year_quarter[n_periods + np.arange(horizon)]
        return ends - (q - 1)
    return ends


def future_weights(W: np.ndarray) -> np.ndarray:
    """The mean of each row's last four reported weights (NaN when none)."""
    finite = np.isfinite(W)
    rank = np.cumsum(finite[:, ::-1], axis=1)[:, ::-1]  # 1 for the last reported, 2 for the one before...
    keep = finite & (rank <= 4)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(keep, W, 0.0).sum(axis=1) / keep.sum(axis=1)


def aggregate(
    kind: str,
    Y: np.ndarray,
    W: np.ndarray | None,
    last: np.ndarray,
    mean: np.ndarray,
    cov: np.ndarray,
    year_quarter: np.ndarray | None,
    horizon: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Headline point forecasts and predictive sds (m x horizon) for rows of one kind.

    ``Y`` (m x T) are the quarters' own values, ``W`` their weights (None: sums), ``last`` each row's last
    reported position; ``mean`` (m x path) and ``cov`` (m x path x path) the model's forecasts of the path
    positions T - LOOKBACK .. T + horizon - 1 (ignored where a quarter was reported or cannot be forecast;
    ``cov`` NaN when the model has no interval).
    """
    m, n_periods = Y.shape
    path = LOOKBACK + horizon
    pos = n_periods - LOOKBACK + np.arange(path)
    inside = (pos >= 0) & (pos < n_periods)
    cols = np.clip(pos, 0, max(n_periods - 1, 0))
    observed = np.zeros((m, path), dtype=bool)
    if n_periods:
        observed = inside[None, :] & np.isfinite(Y[:, cols])
    if W is not None and n_periods:
        w_obs = np.where(inside[None, :], W[:, cols], np.nan)
        observed &= np.isfinite(w_obs)
    forecastable = ~observed & (pos[None, :] > last[:, None])
    unknown = ~observed & ~forecastable
    value = np.where(observed, Y[:, cols] if n_periods else 0.0, mean)
    if W is not None:
        weight = np.where(observed, w_obs if n_periods else 0.0, future_weights(W)[:, None])
    else:
        weight = np.ones((m, path))
    starts = window_starts(kind, year_quarter, n_periods, horizon)
    point = np.full((m, horizon), np.nan)
    sd = np.full((m, horizon), np.nan)
    for s in range(horizon):
        lo, hi = starts[s], LOOKBACK + s + 1
        a = np.zeros((m, path))
        a[:, lo:hi] = weight[:, lo:hi]
        if W is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                a = a / a.sum(axis=1, keepdims=True)
        ok = ~unknown[:, lo:hi].any(axis=1)
        point[:, s] = np.where(ok, (a * np.where(a != 0, value, 0.0)).sum(axis=1), np.nan)
        af = np.where(forecastable, a, 0.0)
        c = np.where(np.isfinite(cov), cov, 0.0)
        var = np.einsum("ma,mab,mb->m", af, c, af)
        # a window whose forecast quarters have no interval has none either
        no_interval = (np.isnan(cov) & (af[:, :, None] != 0) & (af[:, None, :] != 0)).any(axis=(1, 2))
        sd[:, s] = np.where(ok & ~no_interval, np.sqrt(np.maximum(var, 0.0)), np.nan)
    return point, sd
