"""Turn-the-curve baselines: method choice, prediction intervals, freezing and the curve-turned verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from indicators import forecast as fc_mod
from indicators.forecast import (
    COMPARISON_COLUMNS,
    FORECAST_COLUMNS,
    Baseline,
    curve_evidence,
    curve_turned,
    damped,
    forecast_baseline,
    forecast_many,
    freeze_baseline,
    headline,
    repeated_looks_boundary,
    stock,
)
from indicators.forecast.inputs import as_values


def noisy_line(n: int, seed: int, slope: float = 0.8, sd: float = 2.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 50 + slope * np.arange(n) + rng.normal(0, sd, n)


def flattening_curve(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 - 60 * 0.85 ** np.arange(n) + rng.normal(0, 1, n)


# --- linear trend -------------------------------------------------------------------------------------------
def test_linear_fit_and_prediction_interval_match_a_hand_computation():
    y = noisy_line(10, seed=4)
    b = forecast_baseline(y, horizon=4)
    assert b.method == "linear" and b.n_points == 10 and b.has_interval and not b.indicative
    x = np.arange(10.0)
    reg = stats.linregress(x, y)
    assert b.params["slope"] == pytest.approx(reg.slope, rel=1e-10)
    assert b.params["intercept"] == pytest.approx(reg.intercept, rel=1e-10)
    resid = y - (reg.intercept + reg.slope * x)
    s = np.sqrt(resid @ resid / 8)
    sxx = ((x - x.mean()) ** 2).sum()
    x0 = np.arange(10.0, 14.0)
    se = s * np.sqrt(1 + 1 / 10 + (x0 - x.mean()) ** 2 / sxx)
    point = reg.intercept + reg.slope * x0
    f = b.forecast
    assert list(f.columns) == FORECAST_COLUMNS
    assert list(f["step"]) == [1, 2, 3, 4] and list(f["position"]) == [10, 11, 12, 13]
    np.testing.assert_allclose(f["point"], point, rtol=1e-10)
    np.testing.assert_allclose(f["hi80"], point + stats.t.ppf(0.90, 8) * se, rtol=1e-10)
    np.testing.assert_allclose(f["lo80"], point - stats.t.ppf(0.90, 8) * se, rtol=1e-10)
    np.testing.assert_allclose(f["hi95"], point + stats.t.ppf(0.975, 8) * se, rtol=1e-10)
    np.testing.assert_allclose(f["lo95"], point - stats.t.ppf(0.975, 8) * se, rtol=1e-10)
    np.testing.assert_allclose(b.fitted, reg.intercept + reg.slope * x, rtol=1e-10)
    assert b.method_label == "Linear trend fitted to 10 quarters; 80% and 95% prediction intervals."


def test_an_exact_line_gives_zero_width_intervals():
    y = 3.0 + 2.5 * np.arange(14)
    b = forecast_baseline(y)
    assert b.method == "linear"
    f = b.forecast
    np.testing.assert_allclose(f["point"], 3.0 + 2.5 * np.arange(14, 18), rtol=1e-12)
    for col in ("lo80", "hi80", "lo95", "hi95"):
        np.testing.assert_allclose(f[col], f["point"], rtol=1e-12)
    assert any("no width" in note for note in b.notes)
    flat = forecast_baseline(np.full(8, 7.0))
    assert (flat.forecast["point"] == 7.0).all() and (flat.forecast["hi95"] == 7.0).all()


# --- damped trend versus linear -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_damped_holt_is_chosen_on_a_curve_that_flattens(seed):
    b = forecast_baseline(flattening_curve(24, seed))
    assert b.method == "damped_holt"
    assert b.criteria["aicc_damped_holt"] < b.criteria["aicc_linear"]
    assert 0.8 <= b.params["phi"] <= 0.98
    assert 0 < b.params["beta"] <= b.params["alpha"] < 1
    assert "Damped trend" in b.method_label and "24 quarters" in b.method_label
    # the forecast keeps flattening instead of climbing on a straight line
    steps = np.diff(b.forecast["point"])
    assert np.all(steps < 0.5) and np.all(np.diff(b.forecast["hi95"] - b.forecast["lo95"]) >= 0)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_linear_is_chosen_on_a_straight_line_with_noise(seed):
    b = forecast_baseline(noisy_line(20, seed))
    assert b.method == "linear"
    assert b.criteria["aicc_linear"] <= b.criteria["aicc_damped_holt"]


def test_damped_holt_only_from_twelve_points():
    b = forecast_baseline(flattening_curve(11, 0))
    assert b.method == "linear" and "aicc_damped_holt" not in b.criteria


def test_damped_holt_prediction_variance_and_covariance_match_simulation():
    one = np.ones(1)
    fit = damped.DampedFit(
        alpha=0.4 * one, beta=0.15 * one, phi=0.9 * one, level0=0 * one, trend0=0 * one,
        sse=7.0 * 2.0**2 * one, n=12 * one, fitted=np.empty((1, 0)), level=10.0 * one, trend=1.0 * one,
    )
    assert fit.sigma[0] == pytest.approx(2.0)
    h = np.arange(1, 7)[None, :]
    point, cov = damped.forecast_damped(fit, h)
    # simulate ETS(A,Ad,N) forward from the final state
    rng = np.random.default_rng(0)
    sims = 200_000
    level = np.full(sims, 10.0)
    trend = np.full(sims, 1.0)
    paths = np.empty((sims, 6))
    for i in range(6):
        e = rng.normal(0, 2.0, sims)
        yhat = level + 0.9 * trend
        paths[:, i] = yhat + e
        level = yhat + 0.4 * e
        trend = 0.9 * trend + 0.15 * e
    np.testing.assert_allclose(paths.mean(axis=0), point[0], atol=0.05)
    np.testing.assert_allclose(paths.std(axis=0), np.sqrt(np.diag(cov[0])), rtol=0.01)
    np.testing.assert_allclose(np.cov(paths, rowvar=False), cov[0], rtol=0.03, atol=0.05)
    # point forecast by hand: l + (phi + ... + phi^h) b; one step ahead the variance is sigma^2
    np.testing.assert_allclose(point[0], 10 + np.cumsum(0.9 ** np.arange(1, 7)) * 1.0)
    assert cov[0, 0, 0] == pytest.approx(4.0)
    # two steps: sigma^2 (1 + c1^2), c1 = alpha + beta phi; their covariance sigma^2 c1
    c1 = 0.4 + 0.15 * 0.9
    assert cov[0, 1, 1] == pytest.approx(4.0 * (1 + c1**2)) and cov[0, 0, 1] == pytest.approx(4.0 * c1)


def test_damped_holt_initial_state_is_the_least_squares_one():
    y = flattening_curve(16, 5)
    fit = damped.fit_damped(y[None, :], np.ones((1, 16), dtype=bool), np.zeros(1, dtype=int))
    alpha, beta, phi = fit.alpha[0], fit.beta[0], fit.phi[0]

    def sse(l0, b0):
        level, trend, total = l0, b0, 0.0
        for yt in y:
            yhat = level + phi * trend
            e = yt - yhat
            total += e * e
            level = yhat + alpha * e
            trend = phi * trend + beta * e
        return total

    best = sse(fit.level0[0], fit.trend0[0])
    assert best == pytest.approx(fit.sse[0], rel=1e-8)
    for dl, db in [(0.1, 0), (-0.1, 0), (0, 0.1), (0, -0.1)]:
        assert sse(fit.level0[0] + dl, fit.trend0[0] + db) > best
    # and the batch fit of many series gives each series the fit it gets alone
    panel = np.vstack([flattening_curve(16, s) for s in range(5, 9)])
    many = damped.fit_damped(panel, np.ones(panel.shape, dtype=bool), np.zeros(4, dtype=int))
    assert many.sse[0] == pytest.approx(fit.sse[0], rel=1e-12) and many.phi[0] == phi


# --- seasonality ---------------------------------------------------------------------------------------------
def seasonal_series(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 50 + 0.5 * np.arange(n) + np.tile([3.0, -2.0, 1.0, -2.0], n // 4 + 1)[:n] + rng.normal(0, 0.7, n)


def test_seasonal_dummies_only_when_seasonality_is_real():
    b = forecast_baseline(seasonal_series(16, 1))
    assert b.method == "linear_seasonal"
    assert b.criteria["seasonal_p"] < 0.05
    assert "seasonal" in b.method_label
    # the forecast carries the pattern on: positions 16..19 are seasons 0..3
    pattern = b.forecast["point"].to_numpy() - 0.5 * np.arange(16, 20)
    assert np.argmax(pattern) == 0 and pattern[0] - pattern[1] == pytest.approx(5.0, abs=1.5)

    plain = forecast_baseline(noisy_line(16, 3))
    assert plain.method == "linear" and plain.criteria["seasonal_p"] >= 0.05

    short = forecast_baseline(seasonal_series(11, 1))  # fewer than three full years: never seasonal
    assert short.method == "linear" and "seasonal_p" not in short.criteria


# --- short series, missing values, clipping -----------------------------------------------------------------------
def test_short_series():
    none = forecast_baseline([])
    assert none.method == "none" and not none.has_interval and none.forecast["point"].isna().all()
    one = forecast_baseline([np.nan, 12.0])
    assert one.method == "flat" and one.n_points == 1
    assert (one.forecast["point"] == 12.0).all() and one.forecast["lo95"].isna().all()
    assert "flat forecast at the last value, no interval" in one.method_label
    two = forecast_baseline([10.0, 14.0])
    assert two.method == "flat" and (two.forecast["point"] == 14.0).all()
    three = forecast_baseline([10.0, 14.0, 13.0])
    assert three.method == "linear" and three.indicative
    assert "indicative" in three.method_label and "only 3 quarters" in three.method_label
    f = three.forecast
    assert np.all(f["hi95"] - f["lo95"] > 2 * (f["hi80"] - f["lo80"]))  # t with 1 df: very wide
    assert not forecast_baseline(noisy_line(6, 0)).indicative


def test_missing_values_are_dropped_but_keep_their_place():
    y = noisy_line(12, 7)
    y_missing = y.copy()
    y_missing[[3, 8]] = np.nan
    b = forecast_baseline(list(y_missing[:3]) + [None] + list(y_missing[4:8]) + ["n/a"] + list(y_missing[9:]))
    assert b.n_points == 10 and b.method == "linear"
    keep = np.isfinite(y_missing)
    reg = stats.linregress(np.arange(12.0)[keep], y[keep])
    assert b.params["slope"] == pytest.approx(reg.slope, rel=1e-10)
    assert any("2 quarters missing (positions 3, 8)" in note for note in b.notes)
    # trailing gaps: step 1 is still the quarter after the last one given
    t = forecast_baseline(np.append(y[:10], [np.nan, np.nan]))
    assert list(t.forecast["position"]) == [12, 13, 14, 15] and t.last_observed == 9
    assert t.forecast["point"].iloc[0] == pytest.approx(t.params["intercept"] + 12 * t.params["slope"])
    # a series with gaps can still be fitted by the damped trend
    c = flattening_curve(20, 2)
    c[[5, 11]] = np.nan
    assert np.isfinite(forecast_baseline(c, method="damped_holt").forecast["point"]).all()


def test_pandas_series_input():
    s = pd.Series(noisy_line(8, 1), index=[f"2023-24 Q{i % 4 + 1}" for i in range(8)])
    assert forecast_baseline(s).forecast["point"].iloc[0] == pytest.approx(
        forecast_baseline(s.to_numpy()).forecast["point"].iloc[0]
    )


def test_clipping_at_bounds():
    falling = np.array([9.0, 7.5, 6.2, 4.9, 3.1, 2.0, 0.9])
    b = forecast_baseline(falling, lower_bound=0.0)
    f = b.forecast
    assert (f[["point", "lo80", "hi80", "lo95", "hi95"]] >= 0).all().all()
    assert (f["point"] == 0).any() and any("clipped below at 0" in n for n in b.notes)
    pct = forecast_baseline(np.array([90.0, 93.0, 95.5, 97.0, 99.0, 99.5]), lower_bound=0, upper_bound=100)
    assert (pct.forecast[["point", "hi80", "hi95"]] <= 100).all().all()
    unclipped = forecast_baseline(noisy_line(8, 0), lower_bound=0.0)
    assert not any("clipped" in n for n in unclipped.notes)


def test_forced_methods_and_bad_arguments():
    assert forecast_baseline(noisy_line(8, 0), method="flat").method == "flat"
    assert forecast_baseline(flattening_curve(8, 0), method="damped_holt").method == "damped_holt"
    assert forecast_baseline(noisy_line(8, 0), method="linear_seasonal").method == "linear"
    with pytest.raises(ValueError, match="method"):
        forecast_baseline([1, 2, 3], method="arima")
    with pytest.raises(ValueError, match="horizon"):
        forecast_baseline([1, 2, 3], horizon=0)


def test_freeze_uses_only_points_up_to_the_plan_start():
    y = noisy_line(16, 2)
    frozen = freeze_baseline(y, 11)
    direct = forecast_baseline(y[:12])
    pd.testing.assert_frame_equal(frozen.forecast, direct.forecast)
    assert frozen.origin == 11 and list(frozen.forecast["position"]) == [12, 13, 14, 15]
    changed = y.copy()
    changed[12:] += 100
    pd.testing.assert_frame_equal(freeze_baseline(changed, 11).forecast, frozen.forecast)
    assert any("Frozen at position 11" in n for n in frozen.notes)
    with pytest.raises(ValueError, match="frozen_at_position"):
        freeze_baseline(y, 16)


# --- the covariance of the quarters' forecast errors ----------------------------------------------------------
def test_linear_error_covariance_across_steps_is_the_regression_one():
    y = noisy_line(10, seed=4)
    b = forecast_baseline(y, horizon=4)
    x = np.arange(10.0)
    X = np.column_stack([np.ones(10), x])
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    s2 = resid @ resid / 8
    X0 = np.column_stack([np.ones(4), np.arange(10.0, 14.0)])
    expected = s2 * (np.eye(4) + X0 @ np.linalg.inv(X.T @ X) @ X0.T)
    np.testing.assert_allclose(b.covariance, expected, rtol=1e-10)
    np.testing.assert_allclose(b.quarterly["sd"], np.sqrt(np.diag(expected)), rtol=1e-10)
    assert b.df == 8 and b.kind == "flow"
    # for a flow the headline is the quarter
    np.testing.assert_allclose(b.quarterly["hi80"], b.forecast["hi80"], rtol=1e-12)


# --- the headline built from the quarters ------------------------------------------------------------------------
def test_rolling_and_year_to_date_headlines_from_known_quarterly_forecasts():
    # four reported quarters (positions 0..3), two forecast (4 and 5) with means 13, 14 and covariance C
    Y = np.array([[9.0, 10.0, 12.0, 11.0]])
    mean = np.array([[np.nan, np.nan, np.nan, 13.0, 14.0]])  # path positions 1..5 (LOOKBACK = 3)
    C = np.array([[4.0, 1.0], [1.0, 5.0]])
    cov = np.full((1, 5, 5), np.nan)
    cov[0, 3:, 3:] = C
    last = np.array([3])
    point, sd = headline.aggregate("rolling_12m", Y, None, last, mean, cov, None, 2)
    np.testing.assert_allclose(point[0], [10 + 12 + 11 + 13, 12 + 11 + 13 + 14])
    np.testing.assert_allclose(sd[0], [2.0, np.sqrt(4 + 5 + 2 * 1)])
    # a percentage: weighted by the denominators, the future ones the mean of the last four (35)
    W = np.array([[20.0, 30.0, 50.0, 40.0]])
    point, sd = headline.aggregate("rolling_12m", Y, W, last, mean, cov, None, 2)
    np.testing.assert_allclose(point[0], [(300 + 600 + 440 + 35 * 13) / 155, (600 + 440 + 35 * 13 + 35 * 14) / 160])
    np.testing.assert_allclose(sd[0], [35 / 155 * 2.0, 35 / 160 * np.sqrt(11)])
    # year to date: positions 0..3 are Q2, Q3, Q4, Q1, so position 3 starts a year
    yq = np.array([2, 3, 4, 1, 2, 3])
    point, sd = headline.aggregate("fytd", Y, None, last, mean, cov, yq, 2)
    np.testing.assert_allclose(point[0], [11 + 13, 11 + 13 + 14])
    np.testing.assert_allclose(sd[0], [2.0, np.sqrt(11)])
    # a quarter missing inside a window leaves that window without a forecast
    gap = np.array([[9.0, np.nan, 12.0, 11.0]])
    point, _ = headline.aggregate("rolling_12m", gap, None, last, mean, cov, None, 2)
    assert np.isnan(point[0, 0]) and point[0, 1] == 12 + 11 + 13 + 14


def test_rolling_forecast_is_built_from_the_quarters_forecast():
    q = noisy_line(12, seed=3, slope=0.3, sd=3.0)
    flow = forecast_many(q[None, :], kind="flow")
    roll = forecast_many(q[None, :], kind="rolling_12m")
    assert roll.method[0] == "linear" and roll.method_label[0].startswith("Rolling 12-month figure built from")
    np.testing.assert_allclose(roll.quarter_point, flow.quarter_point)
    p, c = flow.quarter_point[0], flow.quarter_cov[0]
    expected = [q[9:12].sum() + p[0], q[10:12].sum() + p[:2].sum(), q[11] + p[:3].sum(), p.sum()]
    np.testing.assert_allclose(roll.point[0], expected)
    sd = [np.sqrt(c[:k, :k].sum()) for k in range(1, 5)]
    t80 = stats.t.ppf(0.9, 10)
    np.testing.assert_allclose(roll.hi80[0] - roll.point[0], t80 * np.array(sd), rtol=1e-10)
    # trailing quarters not yet reported are forecast too; one missing earlier in the window is not
    late = q.copy()
    late[11] = np.nan
    b = forecast_many(late[None, :], kind="rolling_12m")
    assert np.isfinite(b.point).all()
    inner = q.copy()
    inner[10] = np.nan
    b = forecast_many(inner[None, :], kind="rolling_12m")
    assert np.isnan(b.point[0, :2]).all() and np.isfinite(b.point[0, 2:]).all()


def test_kinds_and_their_arguments():
    q = np.vstack([noisy_line(12, s) for s in range(3)])
    b = forecast_many(q, kind=["flow", "rolling_12m", "snapshot"], year_quarter=(np.arange(12) % 4) + 1)
    assert list(b.kind) == ["flow", "rolling_12m", "snapshot"] and list(b.method) == ["linear", "linear", "ar1"]
    with pytest.raises(ValueError, match="kind must be one of"):
        forecast_many(q, kind="quarterly")
    with pytest.raises(ValueError, match="year_quarter is needed"):
        forecast_many(q, kind="fytd")
    with pytest.raises(ValueError, match="financial quarter"):
        forecast_many(q, kind="fytd", year_quarter=np.arange(12))
    with pytest.raises(ValueError, match="shape of the quarterly values"):
        forecast_many(q, kind="rolling_12m", weights=np.ones((3, 5)))


# --- stocks ----------------------------------------------------------------------------------------------------
def test_stock_model_by_hand():
    y = np.array([100.0, 104.0, 103.0, 99.0, 97.0, 101.0, 104.0, 102.0])
    h = np.arange(1, 4)[None, :]
    # the level model: AR(1) around the mean, rho bias-corrected
    mu = y.mean()
    d = y - mu
    r = (d[:-1] @ d[1:]) / (d[:-1] @ d[:-1])
    rho = (8 * r + 1) / (8 - 3)
    e = d[1:] - r * d[:-1]  # the residuals of the least-squares fit
    s2 = e @ e / 5
    level = stock._fit(y[None, :], trend=False)
    assert level.rho[0] == pytest.approx(rho) and level.path[0, 0] == pytest.approx(mu)
    assert level.s2[0] == pytest.approx(s2) and level.df[0] == 5
    p1, c1 = stock._forecast(level, h)
    gap = d[-1]
    np.testing.assert_allclose(p1[0], mu + rho ** np.arange(1, 4) * gap)
    # h = 1: innovation, the mean's share s2/n and rho's share gap^2 s2/Sxx; h = 2 adds rho^2 and (1 + rho)^2
    sxx = d[:-1] @ d[:-1]
    v1 = s2 * (1 + 1 / 8 + gap**2 / sxx)
    v2 = s2 * (1 + rho**2 + (1 + rho) ** 2 / 8 + (2 * rho * gap) ** 2 / sxx)
    c12 = s2 * (rho + (1 + rho) / 8 + gap * 2 * rho * gap / sxx)
    np.testing.assert_allclose(c1[0, :2, :2], [[v1, c12], [c12, v2]], rtol=1e-10)
    # the trend model: AR(1) around the least-squares line, rho corrected for a fitted line
    t = np.arange(8.0) - 3.5
    slope = (t @ (y - mu)) / (t @ t)
    u = y - mu - slope * t
    r2 = (u[:-1] @ u[1:]) / (u[:-1] @ u[:-1])
    rho2 = np.clip((8 * r2 + 2) / (8 - 4), 0, 1)
    trend = stock._fit(y[None, :], trend=True)
    assert trend.rho[0] == pytest.approx(rho2) and trend.path[0, 1] == pytest.approx(slope)
    p2, c2 = stock._forecast(trend, h)
    np.testing.assert_allclose(p2[0], mu + slope * (3.5 + np.arange(1, 4)) + rho2 ** np.arange(1, 4) * u[-1])
    # the baseline is their equal mixture: mean forecast, mean covariance plus the between-model term
    b = forecast_baseline(y, kind="snapshot", horizon=3)
    assert b.method == "ar1" and b.df == 5 and not b.indicative
    assert b.params["persistence"] == pytest.approx(rho) and b.params["trend_persistence"] == pytest.approx(rho2)
    assert f"averaged (AR(1), persistence {rho:.2f}) fitted to 8 quarters" in b.method_label
    np.testing.assert_allclose(b.quarterly["point"], (p1[0] + p2[0]) / 2)
    scale = (stats.t.ppf(0.9, 5) / stats.t.ppf(0.9, 4)) ** 2
    diff = p1[0] - p2[0]
    np.testing.assert_allclose(b.covariance, (c1[0] + scale * c2[0]) / 2 + np.outer(diff, diff) / 4, rtol=1e-10)
    # five quarters: the level model alone; three: a linear trend; asked for by name, it says why
    short = forecast_baseline(y[:5], kind="snapshot")
    assert short.method == "ar1" and "around its level (AR(1)" in short.method_label and short.indicative
    assert forecast_baseline([100.0, 104.0, 101.0], kind="snapshot").method == "linear"
    forced = forecast_baseline([1.0, np.nan, 2.0, np.nan, 3.0, 4.0], method="ar1")
    assert forced.method == "linear" and any("stock model needs" in n for n in forced.notes)


# --- has the curve turned? ----------------------------------------------------------------------------------------
def test_repeated_looks_boundary_reproduces_pococks_constants():
    # Pocock (1977) / Jennison and Turnbull (2000, table 2.1): two-sided 5% (one-sided 2.5%), 2, 4 and 5 looks
    for looks, c in ((2, 2.178), (4, 2.361), (5, 2.413)):
        assert repeated_looks_boundary(np.inf, looks, 0.025) == pytest.approx(c, abs=2e-3)
    assert repeated_looks_boundary(np.inf, 1, 0.05) == pytest.approx(stats.norm.ppf(0.95))
    assert repeated_looks_boundary(8.0, 1) == pytest.approx(stats.t.ppf(0.96, 8))  # the design level, 4%
    # with the variance estimated on 6 degrees of freedom, by simulation of the statistic itself
    c = repeated_looks_boundary(6.0, 4, 0.05)
    rng = np.random.default_rng(1)
    e = rng.standard_normal((400_000, 4))
    s = np.sqrt(rng.chisquare(6, 400_000) / 6)
    t = np.cumsum(e, axis=1) / np.sqrt(np.arange(1, 5)) / s[:, None]
    assert (t.max(axis=1) >= c).mean() == pytest.approx(0.05, abs=0.002)


def _hand_baseline(points, cov, df=np.inf, kind="flow") -> Baseline:
    h = len(points)
    sd = np.sqrt(np.diag(cov))
    t80, t95 = stats.t.ppf(0.9, df), stats.t.ppf(0.975, df)
    p = np.asarray(points, dtype=float)
    frame = pd.DataFrame({"step": np.arange(1, h + 1), "position": np.arange(12, 12 + h), "point": p,
                          "lo80": p - t80 * sd, "hi80": p + t80 * sd, "lo95": p - t95 * sd, "hi95": p + t95 * sd})
    quarterly = frame.assign(sd=sd)[["step", "position", "point", "sd", "lo80", "hi80", "lo95", "hi95"]]
    return Baseline(method="linear", method_label="hand", n_points=12, fitted=np.empty(0), forecast=frame,
                    origin=11, last_observed=11, kind=kind, quarterly=quarterly, covariance=np.asarray(cov), df=df)


HAND_COV = np.full((4, 4), 1.0) + 3.0 * np.eye(4)  # variance 4, covariance 1 (a shared estimated level)


def test_curve_statistic_on_a_worked_example():
    b = _hand_baseline([10.0] * 4, HAND_COV)
    r = curve_turned(b, [7.0, 8.0, 5.0], "lower_better", unit="percentage")
    # better by 3, 2, 5: Z1 = 3/2, Z2 = 5/sqrt(4+4+2), Z3 = 10/sqrt(12+6); the boundary for 4 looks at the
    # design level of 4% is 2.166 (the 80% band is +/- 1.2816 x 2)
    c = repeated_looks_boundary(np.inf, 4)
    assert c == pytest.approx(2.166, abs=1e-3)
    np.testing.assert_allclose(r.comparison["evidence"][:3], [1.5, 5 / np.sqrt(10), 10 / np.sqrt(18)])
    np.testing.assert_allclose(r.comparison["boundary"][:3], c)
    assert list(r.comparison["look_verdict"][:3]) == ["turning", "turning", "turned"]
    assert r.verdict == "turned" and r.evidence == pytest.approx(10 / np.sqrt(18)) and r.boundary == pytest.approx(c)
    assert (r.n_compared, r.n_better, r.n_outside_80_good, r.n_not_reported) == (3, 3, 2, 1)
    assert r.mean_difference == pytest.approx(-10 / 3)
    assert r.sentence == (
        "Three quarters reported since the plan started: three better than the baseline forecast, two of them "
        "beyond its 80% band; on average 3.3 points better than forecast. The evidence, 2.36 standard errors on "
        "the better side, passes the 2.17 needed when the verdict is read every quarter. The curve has turned."
    )
    assert list(r.comparison.columns) == COMPARISON_COLUMNS
    # a minimum difference of 1 point a quarter: 10 - 3 = 7 over sqrt(18), short of the boundary
    m = curve_turned(b, [7.0, 8.0, 5.0], "lower_better", unit="percentage", min_difference=1.0)
    assert m.verdict == "turning" and m.evidence == pytest.approx(7 / np.sqrt(18))
    assert "counting only what goes beyond the 1.0 points a quarter that matters" in m.sentence
    # the same quarters, higher better: the mirror image
    w = curve_turned(b, [7.0, 8.0, 5.0], "higher_better")
    assert w.verdict == "worsened" and "doing worse than the baseline forecast" in w.sentence


@pytest.mark.parametrize(
    "actuals, polarity, verdict",
    [
        ([11.0], "lower_better", "too_early"),  # one quarter inside the 80% band
        ([6.0], "lower_better", "turning"),  # one beyond it (z = 2 < 2.166)
        ([5.0], "lower_better", "turned"),  # one beyond the boundary (z = 2.5)
        ([11.0, 12.0], "lower_better", "not_turned"),
        ([np.nan, 5.0], "lower_better", "turned"),  # a quarter not reported is left out
        ([], "lower_better", "too_early"),
        ([np.nan, np.nan], "lower_better", "too_early"),
        ([5.0, 5.0], "context", "no_direction"),
    ],
)
def test_curve_verdicts(actuals, polarity, verdict):
    b = _hand_baseline([10.0] * 4, HAND_COV)
    assert curve_turned(b, actuals, polarity).verdict == verdict


def test_curve_details_and_the_quarters_of_a_rolling_headline():
    b = _hand_baseline([10.0] * 4, HAND_COV)
    r = curve_turned(b, [7.0, np.nan, 6.0], "lower_better")
    assert r.n_not_reported == 2 and "One quarter since the plan started was not reported." in r.sentence
    early = curve_turned(b, [11.0], "lower_better")
    assert "One quarter inside the band is not evidence either way" in early.sentence
    ctx = curve_turned(b, [13.0, 9.0], "context")
    assert ctx.sentence.startswith("Two quarters reported since the plan started: one above the baseline forecast")
    assert list(ctx.comparison["direction"][:2]) == ["above", "below"]
    longer = curve_turned(b, [10.0] * 6, "higher_better")
    assert longer.n_beyond_horizon == 2 and longer.n_compared == 4
    with pytest.raises(ValueError, match="polarity"):
        curve_turned(b, [1.0], "up")
    # a rolling headline: the test is on the quarters' own values, the headline columns show the headline
    roll = _hand_baseline([10.0] * 4, HAND_COV, kind="rolling_12m")
    r = curve_turned(roll, [7.0, 8.0], "lower_better", headline_actuals=[41.0, 39.0])
    assert list(r.comparison["actual"][:2]) == [41.0, 39.0] and list(r.comparison["quarter_actual"][:2]) == [7, 8]
    assert "(each quarter's own figures)" in r.sentence


def test_frozen_baseline_and_the_whole_series():
    y = noisy_line(16, 2)
    frozen = freeze_baseline(y, 11)
    whole = curve_turned(frozen, y, "higher_better", actuals_include_history=True)
    after = curve_turned(frozen, y[12:], "higher_better")
    assert whole.verdict == after.verdict and whole.n_compared == 4
    np.testing.assert_allclose(whole.comparison["evidence"], after.comparison["evidence"])
    # a flat baseline (two quarters) has no interval: no yardstick
    flat = freeze_baseline([10.0, 11.0, 30.0, 31.0], 1)
    assert flat.method == "flat" and not flat.has_interval
    r = curve_turned(flat, [5.0, 4.0], "lower_better")
    assert r.verdict == "no_baseline" and "no yardstick" in r.sentence
    assert curve_turned(forecast_baseline([]), [1.0], "lower_better").verdict == "no_baseline"


def test_no_change_rarely_turns():
    """Stable series with no change: 'turned' within four quarters at most about 5% of the time (a smaller
    version of benchmarks/sim_forecast.py, which measures it for every kind of series)."""
    rng = np.random.default_rng(7)
    y = rng.normal(50, 5, (4000, 16))
    b = forecast_many(y[:, :12])
    ev = curve_evidence(b.quarter_point, b.quarter_cov, b.df, y[:, 12:], "lower_better")
    turned_within_4 = (ev["verdict"] == "turned").any(axis=1).mean()
    turning_after_1 = (ev["verdict"][:, 0] == "turning").mean()
    assert turned_within_4 <= 0.05 and turning_after_1 <= 0.12
    assert (ev["verdict"][:, 0] == "too_early").mean() == pytest.approx(0.8, abs=0.02)


# --- many series at once --------------------------------------------------------------------------------------------
def mixed_panel(n_series: int, seed: int, quarters: int = 40):
    """Lines with noise, flattening curves, seasonal series, noise, exact lines and constants, with leading,
    trailing and internal gaps, short and empty series, and per-series bounds (NaN: none)."""
    rng = np.random.default_rng(seed)
    t = np.arange(quarters)
    values = np.empty((n_series, quarters))
    for i in range(n_series):
        kind = i % 6
        if kind == 0:
            values[i] = 50 + rng.normal(0.8, 1.0) * t + rng.normal(0, rng.uniform(0.5, 3), quarters)
        elif kind == 1:
            values[i] = 100 - rng.uniform(30, 80) * rng.uniform(0.7, 0.92) ** t + rng.normal(0, 1, quarters)
        elif kind == 2:
            values[i] = seasonal_series(quarters, seed * 1000 + i)
        elif kind == 3:
            values[i] = rng.normal(20, 5, quarters)
        elif kind == 4:
            values[i] = 30 - rng.uniform(0.5, 1.5) * t + rng.normal(0, 1, quarters)  # heads below 0
        else:
            values[i] = 3.0 + 0.5 * t if i % 12 == 5 else np.full(quarters, 7.0)  # exact line, constant
    for i in range(n_series):
        r = rng.random()
        if r < 0.15:
            values[i, : rng.integers(1, max(2, quarters - 12))] = np.nan  # late start (12+ quarters left)
        elif r < 0.25:
            values[i, quarters - rng.integers(1, 6) :] = np.nan  # not reported lately
        elif r < 0.4:
            values[i, rng.choice(quarters, rng.integers(1, 6), replace=False)] = np.nan  # gaps
        elif r < 0.5:
            keep = rng.choice([1, 2, 3, 4, 5, 8, 11, 12, 13])  # short series
            values[i, : quarters - keep] = np.nan
        elif r < 0.53:
            values[i] = np.nan
    lower = np.where(rng.random(n_series) < 0.6, 0.0, np.nan)
    upper = np.where(rng.random(n_series) < 0.3, np.nanmax(values, axis=1, initial=0.0), np.nan)
    return values, lower, upper


def _bound(bound, i):
    if bound is None:
        return None
    b = float(bound) if np.ndim(bound) == 0 else float(bound[i])
    return None if np.isnan(b) else b


def assert_same_as_baseline(values, batch, lower=None, upper=None, **kwargs):
    """Row by row, forecast_many's result is forecast_baseline's."""
    assert len(batch) == len(values)
    for i, y in enumerate(values):
        b = forecast_baseline(y, lower_bound=_bound(lower, i), upper_bound=_bound(upper, i), **kwargs)
        where = f"series {i}: {b.method_label}"
        assert batch.method[i] == b.method, where
        assert batch.method_label[i] == b.method_label, where
        assert batch.n_points[i] == b.n_points, where
        assert batch.indicative[i] == b.indicative and batch.has_interval[i] == b.has_interval, where
        scale = float(np.nanmax(np.abs(y))) if np.isfinite(y).any() else 1.0
        pd.testing.assert_frame_equal(
            batch.forecast(i), b.forecast, check_exact=False, rtol=1e-9, atol=1e-9 * max(scale, 1.0)
        )


def test_forecast_many_equals_forecast_baseline_series_by_series():
    values, lower, upper = mixed_panel(360, seed=11)
    batch = fc_mod.forecast_many(values, lower_bound=lower, upper_bound=upper)
    assert batch.point.shape == (360, 4) and list(batch.positions) == [40, 41, 42, 43]
    # the panel exercises every method, indicative fits, clipping and series with no values
    counts = pd.Series(batch.method).value_counts()
    assert set(counts.index) == {"none", "flat", "linear", "linear_seasonal", "damped_holt"}
    assert counts["damped_holt"] >= 20 and counts["linear_seasonal"] >= 20 and batch.indicative.sum() >= 5
    assert (batch.point == 0).any() and (batch.hi95 == np.broadcast_to(upper[:, None], (360, 4))).any()
    assert_same_as_baseline(values, batch, lower, upper)


@pytest.mark.parametrize("method", ["linear", "linear_seasonal", "damped_holt", "flat"])
def test_forecast_many_forced_methods(method):
    values, lower, _ = mixed_panel(72, seed=3, quarters=20)
    batch = fc_mod.forecast_many(values, horizon=6, method=method, lower_bound=0.0)
    assert_same_as_baseline(values, batch, 0.0, None, horizon=6, method=method)


def test_forecast_many_other_season_length_and_shapes():
    values, lower, upper = mixed_panel(48, seed=8, quarters=27)
    batch = fc_mod.forecast_many(values, horizon=1, season_length=3, lower_bound=lower, upper_bound=5.0)
    assert_same_as_baseline(values, batch, lower, 5.0, horizon=1, season_length=3)
    assert fc_mod.forecast_many(np.empty((0, 8))).point.shape == (0, 4)
    empty = fc_mod.forecast_many(np.empty((2, 0)))
    assert list(empty.method) == ["none", "none"] and list(empty.positions) == [0, 1, 2, 3]


def test_forecast_many_odd_inputs():
    # text, None and infinities are missing quarters, as forecast_baseline reads them
    rows = [[1, 2, None, "x", 5, 7, 8.5], [np.inf, 1, 2, 3, 4, 5, 6], [4.0, 3.0, 1.0, 0.5, -np.inf, 0.2, 0.1]]
    batch = fc_mod.forecast_many(rows, lower_bound=[0.0, np.nan, 0.0])
    assert_same_as_baseline([as_values(r) for r in rows], batch, [0.0, np.nan, 0.0])
    assert list(batch.n_points) == [5, 6, 6]
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [pd.NA, 3.0], "c": [4.0, 5.0]}).astype("Float64")
    assert list(fc_mod.forecast_many(frame).method) == ["flat", "linear"]
    with pytest.raises(ValueError, match="2-D"):
        fc_mod.forecast_many([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="one number per series"):
        fc_mod.forecast_many([[1.0, 2.0, 3.0]], upper_bound=[1.0, 2.0])
    with pytest.raises(ValueError, match="method"):
        fc_mod.forecast_many([[1.0, 2.0, 3.0]], method="arima")




def test_fit_from_fits_only_the_later_quarters_but_keeps_the_headline_window():
    from indicators.forecast import forecast_many

    y = np.array([[10.0, 11, 9, 10, 30, 31, 29, 30, 31, 30]])
    whole = forecast_many(y, horizon=2)
    later = forecast_many(y, horizon=2, fit_from=[4])
    alone = forecast_many(y[:, 4:], horizon=2)
    assert later.point == pytest.approx(alone.point) and not np.allclose(whole.point, later.point)
    # a rolling 12-month headline from the quarter after the rebase still sums the reported quarters before it
    rolled = forecast_many(y, horizon=1, kind="rolling_12m", fit_from=[8])
    q = forecast_many(y[:, 8:], horizon=1).point[0, 0]
    assert rolled.point[0, 0] == pytest.approx(31 + 30 + 30 + q)
