"""Over-dispersion (Spiegelhalter 2005) and the neighbours' prediction interval, pinned to hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from indicators.intervals import (
    additive_funnel_limits,
    compare_with_interval,
    neighbours_prediction_interval,
    null_standard_error,
    overdispersion,
    random_effects_z,
    significance_z,
    winsorise,
    z_position,
)

# Ten areas of 100 cases each against England's 20%: the null standard error is sqrt(0.2 x 0.8 / 100) = 4
# percentage points, and the values are chosen so the z-scores are -3, -2, -1, 0, 0, 0, 1, 2, 3, 4.
Z = np.array([-3, -2, -1, 0, 0, 0, 1, 2, 3, 4], dtype=float)
VALUES = 20 + 4 * Z


def test_null_standard_error_of_a_percentage_and_a_rate():
    assert null_standard_error(20, 100, "proportion", per=100) == pytest.approx(4.0)
    # a rate of 50 per 10,000 in 40,000 children: 10,000 x sqrt(0.005 / 40,000) = 3.5355
    assert null_standard_error(50, 40_000, "rate", per=10_000) == pytest.approx(10_000 * np.sqrt(0.005 / 40_000))
    assert np.isnan(null_standard_error(20, 0, "proportion", per=100))


def test_winsorising_at_ten_percent():
    # 10th percentile: position 0.9 between -3 and -2 = -2.1; 90th: position 8.1 between 3 and 4 = 3.1
    assert winsorise(Z).tolist() == pytest.approx([-2.1, -2, -1, 0, 0, 0, 1, 2, 3, 3.1])
    assert np.isnan(winsorise([1.0, np.nan, 2.0, 3.0])[1])


def test_phi_chi_square_test_and_tau2_by_hand():
    s = null_standard_error(20, np.full(10, 100), "proportion", per=100)
    od = overdispersion(VALUES, s, 20)
    # phi = (2.1² + 2² + 1 + 0 + 0 + 0 + 1 + 2² + 3² + 3.1²) / 10 = 33.02 / 10
    assert od.n == 10 and od.phi == pytest.approx(3.302)
    assert od.statistic == pytest.approx(33.02)
    assert od.critical == pytest.approx(16.919, abs=1e-3)  # chi-square, 9 df, 95th percentile
    assert od.overdispersed and od.adjustment == "additive"
    # w = 1/16 each: sum w = 0.625, sum w² / sum w = 0.0625, so tau² = (33.02 - 9) / 0.5625 = 42.7022...
    assert od.tau2 == pytest.approx(24.02 / 0.5625)
    # the area 16 points above England: z* = 16 / sqrt(16 + 42.7022) = 2.0883 (plain z was 4)
    assert random_effects_z(36, 4, 20, od.tau2) == pytest.approx(16 / np.sqrt(16 + 24.02 / 0.5625))
    lo, hi = additive_funnel_limits(20, 4, od.tau2, level=0.95)
    assert (lo, hi) == pytest.approx((20 - 1.959964 * np.sqrt(16 + od.tau2), 20 + 1.959964 * np.sqrt(16 + od.tau2)))


def test_no_adjustment_when_the_spread_is_what_chance_gives():
    # z-scores -1..1: n·phi is small, well under chi-square(9): the exact limits stand, tau² is 0
    z = np.array([-1, -0.5, 0, 0.5, 1, -1, -0.5, 0, 0.5, 1])
    od = overdispersion(20 + 4 * z, np.full(10, 4.0), 20)
    assert not od.overdispersed and od.adjustment == "none" and od.tau2 == 0.0
    assert od.phi < 1 and od.p_value > 0.05


def test_overdispersion_on_data_with_no_signal_is_rarely_declared():
    # binomial noise only, around one true rate: the 5% test declares over-dispersion about 5% of the time
    rng = np.random.default_rng(20260701)
    n = rng.integers(200, 3000, size=150)
    declared = 0
    for _ in range(400):
        x = rng.binomial(n, 0.2)
        od = overdispersion(100 * x / n, null_standard_error(20, n, "proportion", per=100), 20)
        declared += od.overdispersed
    # winsorising shrinks phi below 1 on pure noise, so the test is conservative: well under 5%
    assert declared / 400 <= 0.05


def test_too_few_areas_give_no_estimate():
    od = overdispersion([21.0], [4.0], 20)
    assert od.n == 1 and od.adjustment == "" and np.isnan(od.phi)


def test_positions_and_significance_from_z():
    assert list(z_position([0.0, 2.0, -2.0, 3.2, -3.2, np.nan])) == [
        "within", "above_95", "below_95", "above_99_8", "below_99_8", "not_compared"]
    assert list(significance_z([2.0, -2.0, 1.0, np.nan], 0.95, "lower_better")) == [
        "worse", "better", "similar", "not_compared"]
    assert list(significance_z([2.0], 0.99)) == ["similar"]  # 2 is inside ±2.576


def test_neighbours_prediction_interval_by_hand():
    # neighbours 15..24: mean 19.5, sd 3.02765 (k-1 divisor), t(0.975, 9) = 2.262157, sqrt(1 + 1/10)
    lo, hi, mean, k = neighbours_prediction_interval(np.arange(15.0, 25.0))
    half = 2.262157 * 3.0276504 * np.sqrt(1.1)
    assert (mean, k) == (19.5, 10) and (lo, hi) == pytest.approx((19.5 - half, 19.5 + half), abs=1e-5)
    # two neighbours with values are too few; NaN neighbours are left out
    lo, hi, mean, k = neighbours_prediction_interval(np.array([[10.0, 12.0, np.nan], [10.0, 12.0, 14.0]]))
    assert np.isnan(lo[0]) and k.tolist() == [2, 3] and mean[1] == 12.0
    assert hi[1] == pytest.approx(12 + 4.302653 * 2.0 * np.sqrt(4 / 3), abs=1e-5)  # t(0.975, 2) = 4.302653


def test_value_against_the_interval():
    assert list(compare_with_interval([27, 12, 20, 20, np.nan], 12.3, 26.7, "lower_better")) == [
        "worse", "better", "similar", "similar", "not_compared"]
    assert list(compare_with_interval([30.0], [np.nan], [26.7])) == ["not_compared"]


def test_consistency_correction_divides_phi_by_the_winsorised_normal_moment():
    from indicators.intervals import winsorised_normal_moment

    # E[W²] of a standard normal winsorised at 10%: 0.8 - 2q·φ(q) + 0.2q², q = 1.28155 -> 0.67866
    assert winsorised_normal_moment(0.10) == pytest.approx(0.67866, abs=1e-5)
    assert winsorised_normal_moment(0.0) == 1.0
    s = null_standard_error(20, np.full(10, 100), "proportion", per=100)
    plain, fixed = overdispersion(VALUES, s, 20), overdispersion(VALUES, s, 20, consistent=True)
    assert fixed.phi == pytest.approx(plain.phi / winsorised_normal_moment(0.10))
    # tau² is where the winsorised z* have a winsorised standard normal's second moment
    z_star = winsorise((VALUES - 20) / np.sqrt(s * s + fixed.tau2))
    assert np.mean(z_star * z_star) == pytest.approx(winsorised_normal_moment(0.10), abs=1e-9)
    assert fixed.tau2 > plain.tau2


def test_consistent_estimate_holds_the_funnel_level_with_a_real_spread():
    # 150 areas from one random-effects population (sd 3 points between areas): with the consistent estimate
    # the additive 95% limits hold about 5% of areas outside; Spiegelhalter's uncorrected phi lets through more
    # than twice that
    from indicators.intervals import additive_funnel_limits

    rng = np.random.default_rng(20261202)
    outside = {True: [], False: []}
    for _ in range(200):
        n = rng.integers(200, 3000, size=150)
        p = np.clip(0.2 + rng.normal(0, 0.03, 150), 0.01, 0.99)
        y = 100 * rng.binomial(n, p) / n
        s = null_standard_error(20, n, "proportion", per=100)
        for consistent in (True, False):
            od = overdispersion(y, s, 20, consistent=consistent)
            lo, hi = additive_funnel_limits(20, s, od.tau2, 0.95)
            outside[consistent].append(np.mean((y < lo) | (y > hi)))
    assert 0.04 < np.mean(outside[True]) < 0.06
    assert np.mean(outside[False]) > 0.10
