"""Step 1c: a stock at quarter end (children on a plan): first-order autoregressions, level and trend averaged.

Most of a stock is carried over from one quarter to the next: with a quarterly exit probability e the stock
behaves like S_t - m_t = rho (S_{t-1} - m_{t-1}) + eps_t with rho = 1 - e, around a path m_t that is level
when starts are steady and a line when they grow or fall. A straight line fitted as if the quarters were
independent treats the slow wandering as noise around a trend, and its intervals cover far too little
(52-66% for an 80% band, measured in benchmarks/sim_forecast.py). With 8 to 16 quarters the data cannot
tell a wandering level from a trend, so two models are fitted and averaged:

* **level**: m_t = mu, the mean of the reported quarters. r is the least-squares estimate of rho from
  consecutive reported quarters; its small-sample bias is large, E(r) = rho - (1 + 3 rho) / n (Kendall 1954;
  Shaman and Stine 1988: with 8 quarters and rho = 0.9 the estimate is about 0.46 too low), so rho is taken
  as the value whose expected estimate is r, rho = (n r + 1) / (n - 3), kept within [0, 1] (rho = 1: a
  random walk). The h-step forecast from the last reported quarter is mu + rho^h (S_n - mu); its error is
  the innovations' sum of rho^(h-i) eps_{n+i} plus the estimates' errors (delta method, gradient
  (1 - rho^h, h rho^(h-1) (S_n - mu)), var(mu) = s^2 / (n (1 - rho)^2), var(rho) = s^2 / sum (S_{t-1} - mu)^2);
* **trend**: m_t = a + b t by least squares, rho from the residuals with the bias for a fitted line,
  E(r) = rho - (2 + 4 rho) / n (Shaman and Stine 1988), so rho = (n r + 2) / (n - 4); the forecast is
  a + b t + rho^h u_n, and the line's estimates have the covariance of least squares under AR(1) errors,
  s^2 (X'X)^-1 X' Omega X (X'X)^-1 with Omega_ij = rho^|i-j| / (1 - rho^2) (rho capped at 0.98 there);
* s^2 is each fit's least-squares residual variance over the consecutive pairs (pairs - 2 degrees of
  freedom for the level, pairs - 3 for the trend); intervals use the t distribution of the level's.

The two get equal weight: the forecast is their mean and its error covariance the mean of theirs plus the
between-model term (p1 - p2)(p1 - p2)' / 4, the variance of a two-point mixture (Draper 1995). Weights by
AICc were tried and behave like choosing one model, which undercovers on whichever is wrong. The trend model
needs 6 quarters with 5 consecutive pairs; with fewer, the level model alone is used.

References: Box, Jenkins and Reinsel, *Time Series Analysis* (AR(1) forecasts and their error variance);
Kendall MG (1954) Note on bias in the estimation of autocorrelation, Biometrika 41:403-404; Orcutt GH,
Winokur HS (1969) First order autoregression: inference, estimation, and prediction, Econometrica 37:1-14
(bias corrections for prediction); Shaman P, Stine RA (1988) The bias of autoregressive coefficient
estimators, JASA 83:842-848; Draper D (1995) Assessment and propagation of model uncertainty, JRSS B
57:45-97.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

MIN_PAIRS = 3  #: consecutive reported quarters needed for the level model
TREND_MIN_POINTS = 6  #: reported quarters needed before the trend model joins the average
TREND_MIN_PAIRS = 5  #: and consecutive pairs (pairs - 3 degrees of freedom for its variance)
_OMEGA_RHO_CAP = 0.98  # Omega = rho^|i-j| / (1 - rho^2) has no limit at rho = 1


@dataclass
class ARFit:
    """AR(1) fits of m series around a level or a line (arrays of length m)."""

    path: np.ndarray  #: (m, 2) level (at the centre) and slope of the mean path (slope 0 for the level model)
    centre: np.ndarray  #: position the path's level refers to
    rho: np.ndarray  #: bias-corrected persistence, in [0, 1]
    rho_ols: np.ndarray  #: the plain least-squares estimate
    s2: np.ndarray  #: residual variance
    df: np.ndarray
    n: np.ndarray  #: reported quarters
    sxx: np.ndarray  #: sum of squared lagged deviations from the path
    last: np.ndarray  #: position of the last reported quarter
    last_gap: np.ndarray  #: S_n minus the path there
    path_cov: np.ndarray | None  #: (m, 2, 2) covariance of the path's estimates (trend model), over s^2
    fitted: np.ndarray  #: (m, T) one-step predictions where the quarter before was reported


@dataclass
class StockFit:
    level: ARFit
    trend: ARFit | None  #: fitted for every row; used where ``averaged``
    averaged: np.ndarray  #: (m,) bool: the trend model joins the average


def pairs(Y: np.ndarray) -> np.ndarray:
    """Consecutive reported quarters per row."""
    f = np.isfinite(Y)
    return (f[:, 1:] & f[:, :-1]).sum(axis=1)


def _fit(Y: np.ndarray, trend: bool) -> ARFit:
    m, T = Y.shape
    finite = np.isfinite(Y)
    n = finite.sum(axis=1)
    t = np.arange(T, dtype=float)
    w = finite.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (w * t).sum(axis=1) / n
        mean = (np.where(finite, Y, 0.0)).sum(axis=1) / n
        tc = t[None, :] - centre[:, None]
        if trend:
            stt = (w * tc * tc).sum(axis=1)
            slope = (np.where(finite, Y - mean[:, None], 0.0) * tc).sum(axis=1) / stt
        else:
            slope = np.zeros(m)
    path_value = mean[:, None] + slope[:, None] * tc
    D = np.where(finite, Y - path_value, 0.0)
    both = finite[:, 1:] & finite[:, :-1]
    x = np.where(both, D[:, :-1], 0.0)
    y = np.where(both, D[:, 1:], 0.0)
    sxx = (x * x).sum(axis=1)
    # the rho whose expected estimate is r: E(r) = rho - (1 + 3 rho)/n (level), rho - (2 + 4 rho)/n (line)
    k = 2.0 if trend else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        rho_ols = np.where(sxx > 0, (x * y).sum(axis=1) / sxx, 0.0)
        rho = np.clip((n * rho_ols + k) / (n - 2.0 - k), 0.0, 1.0)
    resid = y - rho_ols[:, None] * x
    df = both.sum(axis=1) - (3 if trend else 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.where(df > 0, (resid * resid).sum(axis=1) / df, np.nan)
    last = T - 1 - np.argmax(finite[:, ::-1], axis=1)
    last_gap = D[np.arange(m), last]
    fitted = np.full(Y.shape, np.nan)
    fitted[:, 1:] = np.where(both, path_value[:, 1:] + rho[:, None] * D[:, :-1], np.nan)
    path_cov = None
    if trend:
        # least squares of the line: A = (X'X)^-1 X' over the reported positions; Omega of AR(1) errors
        X = np.stack([w, w * tc], axis=2)  # (m, T, 2), zero rows where missing
        with np.errstate(divide="ignore", invalid="ignore"):
            xtx_inv = np.linalg.pinv(np.einsum("mti,mtj->mij", X, X))
        A = np.einsum("mij,mtj->mit", xtx_inv, X)
        rc = np.minimum(rho, _OMEGA_RHO_CAP)[:, None, None]
        lag = np.abs(np.subtract.outer(np.arange(T), np.arange(T)))[None]
        omega = rc**lag / (1.0 - rc**2)
        path_cov = np.einsum("mit,mts,mjs->mij", A, omega, A)
    return ARFit(np.column_stack([mean, slope]), centre, rho, rho_ols, s2, df, n, sxx, last, last_gap, path_cov,
                 fitted)


def _forecast(fit: ARFit, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One model's point forecasts (m, P) and error covariance (m, P, P), ``h`` (m x P) steps (>= 1) after the
    last reported quarter."""
    hmax = int(h.max()) if h.size else 1
    rho = fit.rho[:, None]
    powers = rho ** np.arange(0, hmax + 1)  # rho^0 .. rho^hmax
    rh = np.take_along_axis(powers, h, axis=1)
    x_last = (fit.last - fit.centre)[:, None]
    x0 = x_last + h
    point = fit.path[:, :1] + fit.path[:, 1:] * x0 + rh * fit.last_gap[:, None]
    # innovations: weight of the i-th one after the origin in the error h steps ahead is rho^(h - i)
    lag = h[:, :, None] - np.arange(1, hmax + 1)[None, None, :]
    W = np.where(lag >= 0, np.take_along_axis(powers[:, None, :], np.maximum(lag, 0), axis=2), 0.0)
    s2 = fit.s2[:, None, None]
    cov = s2 * np.einsum("mai,mbi->mab", W, W)
    g_rho = h * np.take_along_axis(powers, h - 1, axis=1) * fit.last_gap[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        v_rho = np.where(fit.sxx > 0, 1.0 / fit.sxx, 0.0)[:, None, None]
    cov = cov + s2 * v_rho * g_rho[:, :, None] * g_rho[:, None, :]
    if fit.path_cov is None:
        # the level's share: 1 - rho^h = (1 - rho)(1 + rho + ... + rho^(h-1)), so var(mu) (1 - rho^h)^2 is
        # s^2 / n (1 + ... + rho^(h-1))^2, finite as rho reaches 1
        g_mu = np.take_along_axis(np.cumsum(powers, axis=1), h - 1, axis=1)
        cov = cov + s2 * g_mu[:, :, None] * g_mu[:, None, :] / fit.n[:, None, None]
    else:
        g = np.stack([1.0 - rh, x0 - rh * x_last], axis=2)  # (m, P, 2)
        cov = cov + s2 * np.einsum("mai,mij,mbj->mab", g, fit.path_cov, g)
    return point, cov


def fit_stock(Y: np.ndarray) -> StockFit:
    """Fit every row of Y (m x T, NaN missing); rows need at least MIN_PAIRS consecutive reported quarters."""
    level = _fit(Y, trend=False)
    averaged = (level.n >= TREND_MIN_POINTS) & (pairs(Y) >= TREND_MIN_PAIRS)
    trend = _fit(Y, trend=True) if averaged.any() else None
    return StockFit(level, trend, averaged)


def forecast_stock(fit: StockFit, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point forecasts (m, P) and the covariance of their errors (m, P, P): the level model's, or the equal
    mixture of the level and trend models' where the trend model is fitted."""
    point, cov = _forecast(fit.level, h)
    if fit.trend is None:
        return point, cov
    p2, c2 = _forecast(fit.trend, h)
    # the trend model's covariance on the level model's t scale, so that one t quantile serves both
    scale = (special.stdtrit(fit.level.df, 0.90) / special.stdtrit(np.maximum(fit.trend.df, 1), 0.90)) ** 2
    c2 = c2 * scale[:, None, None]
    diff = point - p2
    mixed_point = (point + p2) / 2.0
    mixed_cov = (cov + c2) / 2.0 + diff[:, :, None] * diff[:, None, :] / 4.0
    a = fit.averaged
    return np.where(a[:, None], mixed_point, point), np.where(a[:, None, None], mixed_cov, cov)


def fitted_stock(fit: StockFit) -> np.ndarray:
    """One-step in-sample predictions (m, T): the mixture's where averaged."""
    if fit.trend is None:
        return fit.level.fitted
    return np.where(fit.averaged[:, None], (fit.level.fitted + fit.trend.fitted) / 2.0, fit.level.fitted)
