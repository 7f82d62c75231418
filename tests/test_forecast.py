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
    curve_turned,
    forecast_baseline,
    freeze_baseline,
)


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


def test_damped_holt_prediction_variance_matches_simulation():
    fit = fc_mod._HoltFit(
        alpha=0.4,
        beta=0.15,
        phi=0.9,
        level0=0.0,
        trend0=0.0,
        sse=7.0 * 2.0**2,
        n=12,
        fitted=np.empty(0),
        level=10.0,
        trend=1.0,
    )
    assert fit.sigma == pytest.approx(2.0)
    h = np.arange(1, 7)
    point, lo80, hi80, lo95, hi95 = fc_mod._holt_forecast(fit, h)
    # simulate ETS(A,Ad,N) forward from the final state
    rng = np.random.default_rng(0)
    sims = 200_000
    level = np.full(sims, 10.0)
    trend = np.full(sims, 1.0)
    paths = np.empty((sims, h.size))
    for i in range(h.size):
        e = rng.normal(0, 2.0, sims)
        yhat = level + 0.9 * trend
        paths[:, i] = yhat + e
        level = yhat + 0.4 * e
        trend = 0.9 * trend + 0.15 * e
    np.testing.assert_allclose(paths.mean(axis=0), point, atol=0.05)
    sd_formula = (hi95 - lo95) / (2 * stats.norm.ppf(0.975))
    np.testing.assert_allclose(paths.std(axis=0), sd_formula, rtol=0.01)
    # point forecast by hand: l + (phi + ... + phi^h) b
    np.testing.assert_allclose(point, 10 + np.cumsum(0.9**h) * 1.0)
    assert hi80[0] - lo80[0] == pytest.approx(2 * stats.norm.ppf(0.9) * 2.0)


def test_damped_holt_initial_state_is_the_least_squares_one():
    y = flattening_curve(16, 5)
    fit = fc_mod._fit_damped_holt(y)

    def sse(l0, b0):
        level, trend, total = l0, b0, 0.0
        for yt in y:
            yhat = level + fit.phi * trend
            e = yt - yhat
            total += e * e
            level = yhat + fit.alpha * e
            trend = fit.phi * trend + fit.beta * e
        return total

    best = sse(fit.level0, fit.trend0)
    assert best == pytest.approx(fit.sse, rel=1e-8)
    for dl, db in [(0.1, 0), (-0.1, 0), (0, 0.1), (0, -0.1)]:
        assert sse(fit.level0 + dl, fit.trend0 + db) > best


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


@pytest.fixture
def frozen() -> Baseline:
    return freeze_baseline(noisy_line(16, 2), 11)


def _actuals(b: Baseline, *where: str) -> list[float]:
    """Build actuals relative to the frozen forecast: 'in+' just above the point, 'out80-' below lo80, ..."""
    f = b.forecast
    out = []
    for i, w in enumerate(where):
        p, lo80, hi80, lo95, hi95 = (f[c].iloc[i] for c in ("point", "lo80", "hi80", "lo95", "hi95"))
        out.append(
            {
                "in+": p + 0.1 * (hi80 - p),
                "in-": p - 0.1 * (p - lo80),
                "out80+": (hi80 + hi95) / 2,
                "out80-": (lo80 + lo95) / 2,
                "out95+": hi95 + 1,
                "out95-": lo95 - 1,
                "same": p,
                "nan": np.nan,
            }[w]
        )
    return out


def test_curve_turned_when_latest_two_better_and_one_beyond_80(frozen):
    r = curve_turned(frozen, _actuals(frozen, "in-", "out80-", "in-"), "lower_better")
    assert r.verdict == "turned"
    assert (r.n_compared, r.n_better, r.n_worse, r.n_outside_80_good) == (3, 3, 0, 1)
    assert r.sentence == (
        "All three quarters reported since the plan started were better than the baseline forecast; "
        "the latest is inside the 80% interval. The curve has turned."
    )
    assert list(r.comparison.columns) == COMPARISON_COLUMNS
    assert list(r.comparison["assessment"]) == ["better", "better", "better", "not_reported"]


def test_curve_turned_example_sentence(frozen):
    r = curve_turned(frozen, _actuals(frozen, "in-", "in+", "out80+"), "higher_better")
    assert r.verdict == "turned"
    assert r.sentence.startswith(
        "Two of the three quarters reported since the plan started were better than the baseline forecast; "
        "the latest is outside the 80% interval, on the better side."
    )


@pytest.mark.parametrize(
    "where, polarity, verdict",
    [
        (("in+", "in+"), "higher_better", "turning"),  # better, but inside the 80% interval
        (("out95+",), "higher_better", "turning"),  # only one quarter so far
        (("out95+", "in-"), "higher_better", "not_turned"),  # the latest is worse
        (("out80+", "same"), "higher_better", "not_turned"),
        (("in-", "out95-"), "higher_better", "worsened"),
        (("in-", "out95-"), "lower_better", "turned"),
        (("out95+", "out95+"), "context", "no_direction"),
        ((), "higher_better", "too_early"),
        (("nan", "nan"), "lower_better", "too_early"),
    ],
)
def test_curve_turned_verdicts(frozen, where, polarity, verdict):
    assert curve_turned(frozen, _actuals(frozen, *where), polarity).verdict == verdict


def test_curve_turned_details(frozen):
    r = curve_turned(frozen, _actuals(frozen, "out95+", "nan", "out80+"), "higher_better")
    assert r.verdict == "turned" and r.n_not_reported == 2 and r.n_outside_95_good == 1
    assert "One quarter since the plan started was not reported." in r.sentence
    ctx = curve_turned(frozen, _actuals(frozen, "out95+", "in-"), "context")
    assert ctx.sentence.startswith(
        "One of the two quarters reported since the plan started was above the baseline"
    )
    assert list(ctx.comparison["direction"][:2]) == ["above", "below"]
    # the whole series can be passed instead of just the quarters after the freeze
    y = noisy_line(16, 2)
    whole = curve_turned(frozen, y, "higher_better", actuals_include_history=True)
    after = curve_turned(frozen, y[12:], "higher_better")
    assert whole.verdict == after.verdict and whole.n_compared == 4
    longer = curve_turned(frozen, list(y[12:]) + [60.0, 61.0], "higher_better")
    assert longer.n_beyond_horizon == 2 and longer.n_compared == 4
    with pytest.raises(ValueError, match="polarity"):
        curve_turned(frozen, [1.0], "up")


def test_a_flat_baseline_can_turn_but_not_be_turned():
    b = freeze_baseline([10.0, 11.0, 30.0, 31.0], 1)
    assert b.method == "flat" and not b.has_interval
    r = curve_turned(b, [5.0, 4.0], "lower_better")
    assert r.verdict == "turning"
    assert "baseline has none" in r.sentence
    assert curve_turned(forecast_baseline([]), [1.0], "lower_better").verdict == "no_baseline"


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
    # text, None and infinities as forecast_baseline reads them (infinite values go one series at a time)
    rows = [[1, 2, None, "x", 5, 7, 8.5], [np.inf, 1, 2, 3, 4, 5, 6], [4.0, 3.0, 1.0, 0.5, -np.inf, 0.2, 0.1]]
    batch = fc_mod.forecast_many(rows, lower_bound=[0.0, np.nan, 0.0])
    assert_same_as_baseline([fc_mod._as_values(r) for r in rows], batch, [0.0, np.nan, 0.0])
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [pd.NA, 3.0], "c": [4.0, 5.0]}).astype("Float64")
    assert list(fc_mod.forecast_many(frame).method) == ["flat", "linear"]
    with pytest.raises(ValueError, match="2-D"):
        fc_mod.forecast_many([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="one number per series"):
        fc_mod.forecast_many([[1.0, 2.0, 3.0]], upper_bound=[1.0, 2.0])
    with pytest.raises(ValueError, match="method"):
        fc_mod.forecast_many([[1.0, 2.0, 3.0]], method="arima")


