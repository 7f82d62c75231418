"""Step 1a: least-squares trends, with optional seasonal dummies, for series that share their reported quarters.

For y = a + b (x - mean x) [+ dummies for seasons 1..s-1] fitted by ordinary least squares to n reported
quarters with p coefficients, a new quarter at x0 is predicted by x0'beta with error variance
sigma^2 (1 + x0' (X'X)^-1 x0); for two new quarters the errors share the estimated coefficients, so their
covariance is sigma^2 x0' (X'X)^-1 x1. Standardised by the estimate s^2 = SSE / (n - p) they follow the
t distribution with n - p degrees of freedom (Montgomery, Peck and Vining, *Introduction to Linear Regression
Analysis*, prediction of new observations; for the straight line the variance is
sigma^2 (1 + 1/n + (x0 - xbar)^2 / Sxx)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass
class LinearFit:
    """OLS fits of m series that share one design (the same reported positions)."""

    beta: np.ndarray  #: (m, p) coefficients: intercept at the centre, slope, seasonal effects
    xtx_inv: np.ndarray  #: (p, p)
    sse: np.ndarray  #: (m,)
    df: int  #: n - p
    centre: float  #: mean of the fitted positions
    seasonal: bool
    season_start: int  #: season code 0..s-1 of position 0 (the season of position x is (start + x) mod s)
    season_length: int

    def design(self, positions: np.ndarray) -> np.ndarray:
        positions = np.asarray(positions)
        cols = [np.ones(positions.size), positions.astype(float) - self.centre]
        if self.seasonal:
            code = (self.season_start + positions.astype(int)) % self.season_length
            cols += [(code == s).astype(float) for s in range(1, self.season_length)]
        return np.column_stack(cols)

    @property
    def sigma(self) -> np.ndarray:
        if self.df <= 0:
            return np.full(self.sse.shape, np.nan)
        return np.sqrt(self.sse / self.df)


def fit_linear(x: np.ndarray, Y: np.ndarray, seasonal: bool, season_start: int, season_length: int) -> LinearFit:
    """OLS of every row of Y (m x n) on the positions x (n,), with seasonal dummies if ``seasonal``."""
    fit = LinearFit(np.empty(0), np.empty((0, 0)), np.empty(0), 0, float(x.mean()), seasonal, season_start,
                    season_length)
    X = fit.design(x)
    fit.xtx_inv = np.linalg.pinv(X.T @ X)
    fit.df = int(x.size - X.shape[1])
    # einsum rather than BLAS: these products are thin, and BLAS threads only add overhead
    fit.beta = np.einsum("mq,pq->mp", np.einsum("mt,tq->mq", Y, X), fit.xtx_inv)
    resid = Y - np.einsum("mp,tp->mt", fit.beta, X)
    fit.sse = np.einsum("ij,ij->i", resid, resid)
    return fit


def fitted_linear(fit: LinearFit, positions: np.ndarray) -> np.ndarray:
    """In-sample (or any) fitted values at ``positions``: (m, len(positions))."""
    return np.einsum("mp,tp->mt", fit.beta, fit.design(positions))


def forecast_linear(fit: LinearFit, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point forecasts (m, P) and the covariance of their errors (m, P, P) at ``positions``."""
    X0 = fit.design(positions)
    point = np.einsum("mp,hp->mh", fit.beta, X0)
    shared = np.eye(X0.shape[0]) + X0 @ fit.xtx_inv @ X0.T
    cov = (fit.sigma**2)[:, None, None] * shared[None]
    return point, cov


def aicc(sse: np.ndarray, n, k: int) -> np.ndarray:
    """AICc from the Gaussian likelihood with the maximum-likelihood variance SSE/n (Hurvich and Tsai 1989),
    counting k estimated quantities (the variance included); inf when n - k - 1 <= 0."""
    n = np.broadcast_to(np.asarray(n, dtype=float), np.shape(sse))
    sse = np.maximum(sse, 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = -0.5 * n * (np.log(2.0 * math.pi * sse / n) + 1.0)
        out = -2.0 * loglik + 2.0 * k + 2.0 * k * (k + 1) / (n - k - 1)
    return np.where(n - k - 1 <= 0, math.inf, out)
