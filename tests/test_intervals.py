"""Confidence intervals, funnel limits and significance: textbook values and worked examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from indicators.intervals import (
    byar_interval,
    funnel_label,
    funnel_limits,
    funnel_position,
    rate_interval,
    significance_vs,
    wilson_interval,
)

Z95 = stats.norm.ppf(0.975)


# --- Wilson score ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x, n, lower, upper",
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, table II, method 3 (score, no correction)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombe(x, n, lower, upper):
    lo, hi = wilson_interval(x, n)
    assert lo == pytest.approx(lower, abs=5e-5)
    assert hi == pytest.approx(upper, abs=5e-5)


def test_wilson_81_of_263_worked_by_hand():
    # p = 81/263; centre = (p + z^2/2n) / (1 + z^2/n); half = z/(1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2)
    n, p, z2 = 263, 81 / 263, Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    lo, hi = wilson_interval(81, 263)
    assert lo == pytest.approx(centre - half, rel=1e-12)
    assert hi == pytest.approx(centre + half, rel=1e-12)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)


def test_wilson_at_the_ends():
    # x = 0: lower 0, upper z^2/(n + z^2); x = n: lower n/(n + z^2), upper 1
    z2 = Z95**2
    lo, hi = wilson_interval([0, 10], [10, 10])
    assert lo[0] == 0.0 and hi[0] == pytest.approx(z2 / (10 + z2), rel=1e-12)
    assert lo[1] == pytest.approx(10 / (10 + z2), rel=1e-12) and hi[1] == 1.0
    assert hi[0] == pytest.approx(0.2775, abs=1e-4) and lo[1] == pytest.approx(0.7225, abs=1e-4)


def test_wilson_bad_inputs_give_nan():
    lo, hi = wilson_interval([np.nan, 5, 11, -1, 3, None], [10, 0, 10, 10, np.nan, 10])
    assert np.isnan(lo).all() and np.isnan(hi).all()


def test_wilson_keeps_a_series_index_and_widens_with_level():
    x = pd.Series([5, 50], index=["a", "b"])
    lo95, hi95 = wilson_interval(x, 100)
    lo998, hi998 = wilson_interval(x, 100, level=0.998)
    assert list(lo95.index) == ["a", "b"]
    assert (lo998 < lo95).all() and (hi998 > hi95).all()
    assert ((lo95 < x / 100) & (x / 100 < hi95)).all()


def test_level_must_be_a_probability():
    with pytest.raises(ValueError, match="level"):
        wilson_interval(1, 10, level=95)


# --- Poisson counts: exact below 10, Byar from 10 --------------------------------------------------------------
COUNTS = np.array([0, 1, 5, 9, 10, 100, 1000], dtype=float)


def _exact(o):
    lo = np.where(o > 0, stats.chi2.ppf(0.025, 2 * np.maximum(o, 1e-9)) / 2, 0.0)
    hi = stats.chi2.ppf(0.975, 2 * o + 2) / 2
    return lo, hi


def test_small_counts_are_exact_poisson():
    lo, hi = byar_interval(COUNTS[:4])
    ex_lo, ex_hi = _exact(COUNTS[:4])
    np.testing.assert_allclose(lo, ex_lo, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hi, ex_hi, rtol=1e-10)


@pytest.mark.parametrize(
    "count, lower, upper",
    [
        # exact Poisson limits as tabulated (e.g. Daly 1992; 0 -> -ln(0.025) = 3.689)
        (0, 0.0, 3.689),
        (1, 0.0253, 5.572),
        (5, 1.623, 11.668),
        # Byar: 100 * (1 - 1/900 - 1.96/30)^3 = 81.36; 101 * (1 - 1/909 + 1.96/(3 sqrt(101)))^3 = 121.63
        (100, 81.36, 121.63),
        (1000, 938.97, 1063.95),
    ],
)
def test_poisson_published_values(count, lower, upper):
    lo, hi = byar_interval(count)
    assert lo == pytest.approx(lower, abs=6e-4 * max(1, count / 10))
    assert hi == pytest.approx(upper, abs=6e-4 * max(1, count / 10))


def test_byar_formula_and_closeness_to_exact_from_ten():
    o = COUNTS[4:]
    lo, hi = byar_interval(o)
    by_lo = o * (1 - 1 / (9 * o) - Z95 / (3 * np.sqrt(o))) ** 3
    by_hi = (o + 1) * (1 - 1 / (9 * (o + 1)) + Z95 / (3 * np.sqrt(o + 1))) ** 3
    np.testing.assert_allclose(lo, by_lo, rtol=1e-12)
    np.testing.assert_allclose(hi, by_hi, rtol=1e-12)
    ex_lo, ex_hi = _exact(o)
    # the guidance: within 0.2% of exact for 95% intervals from a count of 10
    assert np.all(np.abs(lo / ex_lo - 1) < 0.002) and np.all(np.abs(hi / ex_hi - 1) < 0.002)


def test_poisson_bad_counts_and_threshold():
    lo, hi = byar_interval([np.nan, -1])
    assert np.isnan(lo).all() and np.isnan(hi).all()
    lo_exact, _ = byar_interval(100, exact_below=1e9)
    assert lo_exact == pytest.approx(_exact(np.array([100.0]))[0][0], rel=1e-10)


def test_rate_interval_scales_the_count_interval():
    lo, hi = rate_interval([50, 3, 7], [40_000, 12_000, 0])
    c_lo, c_hi = byar_interval([50, 3])
    np.testing.assert_allclose(lo[:2], np.asarray(c_lo) * 10_000 / np.array([40_000, 12_000]))
    np.testing.assert_allclose(hi[:2], np.asarray(c_hi) * 10_000 / np.array([40_000, 12_000]))
    assert np.isnan(lo[2]) and np.isnan(hi[2])
    assert lo[0] < 12.5 < hi[0]
    lo100k, _ = rate_interval(50, 40_000, per=100_000)
    assert lo100k == pytest.approx(lo[0] * 10)


# --- funnel limits -----------------------------------------------------------------------------------------
def test_funnel_binomial_worked_by_hand():
    # Binomial(10, 0.5): F(1) = 11/1024, F(2) = 56/1024, F(7) = 968/1024, F(8) = 1013/1024.
    # lower: r = 2, alpha = (56/1024 - 0.025) / (45/1024) = 30.4/45 -> (2 - 30.4/45) / 10
    # upper: r = 8, alpha = (1013/1024 - 0.975) / (45/1024) = 14.6/45 -> (8 - 14.6/45) / 10
    lo, hi = funnel_limits(0.5, 10, level=0.95)
    assert lo == pytest.approx((2 - 30.4 / 45) / 10, rel=1e-9)
    assert hi == pytest.approx((8 - 14.6 / 45) / 10, rel=1e-9)


def test_funnel_poisson_worked_by_hand():
    # 50 per 10,000 in a population of 2,000: expected count 10.
    e = math.exp(-10)
    f = [e * sum(10**k / math.factorial(k) for k in range(r + 1)) for r in range(20)]
    # lower: smallest r with F(r) >= 0.025 is 4; upper: smallest r with F(r) >= 0.975 is 17
    assert f[3] < 0.025 <= f[4] and f[16] < 0.975 <= f[17]
    lo_count = 4 - (f[4] - 0.025) / (f[4] - f[3])
    hi_count = 17 - (f[17] - 0.975) / (f[17] - f[16])
    lo, hi = funnel_limits(50, 2000, level=0.95, kind="rate", per=10_000)
    assert lo == pytest.approx(lo_count / 2000 * 10_000, rel=1e-9)
    assert hi == pytest.approx(hi_count / 2000 * 10_000, rel=1e-9)
    assert (round(lo, 2), round(hi, 2)) == (18.88, 80.80)


def test_funnel_narrows_with_the_denominator_and_nests():
    n = np.array([20, 50, 100, 200, 500, 1000, 5000, 20000])
    lo95, hi95 = funnel_limits(0.2, n, 0.95)
    lo998, hi998 = funnel_limits(0.2, n, 0.998)
    assert np.all(np.diff(hi95 - lo95) < 0) and np.all(np.diff(hi998 - lo998) < 0)
    assert np.all(lo998 <= lo95) and np.all(hi998 >= hi95)
    assert np.all(lo95 < 0.2) and np.all(hi95 > 0.2)


def test_funnel_is_nearly_symmetric_and_tends_to_the_normal_approximation():
    for theta, n in [(0.3, 200), (0.1, 57), (0.25, 1000)]:
        lo, hi = funnel_limits(theta, n)
        lo_m, hi_m = funnel_limits(1 - theta, n)
        # mirror image theta <-> 1 - theta, up to the 1/n that discreteness allows
        assert abs(lo - (1 - hi_m)) <= 1 / n + 1e-12
        assert abs(hi - (1 - lo_m)) <= 1 / n + 1e-12
    n = 100_000
    lo, hi = funnel_limits(0.2, n)
    spread = Z95 * math.sqrt(0.2 * 0.8 / n)
    assert lo == pytest.approx(0.2 - spread, abs=1 / n)
    assert hi == pytest.approx(0.2 + spread, abs=1 / n)
    lo_r, hi_r = funnel_limits(400, 1_000_000, kind="rate", per=10_000)
    spread_r = Z95 * math.sqrt(0.04 / 1_000_000) * 10_000
    assert lo_r == pytest.approx(400 - spread_r, abs=2e-2) and hi_r == pytest.approx(400 + spread_r, abs=2e-2)


def test_funnel_scale_bounds_and_normal_method():
    lo_pct, hi_pct = funnel_limits(20, [10, 100], per=100)
    lo_p, hi_p = funnel_limits(0.2, [10, 100])
    np.testing.assert_allclose(lo_pct, np.asarray(lo_p) * 100)
    np.testing.assert_allclose(hi_pct, np.asarray(hi_p) * 100)
    assert lo_pct[0] == 0.0  # floored at 0
    assert funnel_limits(0.99, 5)[1] <= 1.0
    assert funnel_limits(0.99, 5, method="normal")[1] == 1.0  # a proportion's limit is capped at 1
    # the Fingertips proportions tool: 20% of 100 -> 20 -/+ 1.96 * sqrt(20 * 80 / 100) = 12.16, 27.84
    lo_n, hi_n = funnel_limits(20, 100, per=100, method="normal")
    assert (round(lo_n, 2), round(hi_n, 2)) == (12.16, 27.84)
    lo_bad, hi_bad = funnel_limits([np.nan, 0.2, 1.5], [10, 0, 10])
    assert np.isnan(lo_bad).all() and np.isnan(hi_bad).all()
    with pytest.raises(ValueError, match="kind"):
        funnel_limits(0.2, 10, kind="ratio")


def test_funnel_position_categories():
    values = [0.05, 0.1, 0.2, 0.3, 0.4, np.nan]
    assert list(funnel_position(values, 100, 0.2)) == [
        "below_99_8",
        "below_95",
        "within",
        "above_95",
        "above_99_8",
        "not_compared",
    ]
    lo, hi = funnel_limits(0.2, 100)
    # exactly on a limit is within; a Series keeps its index; percentages with per=100
    assert funnel_position(lo, 100, 0.2) == "within" and funnel_position(hi, 100, 0.2) == "within"
    pos = funnel_position(pd.Series([5.0, 20.0], index=[7, 8]), 100, 20, per=100)
    assert list(pos.index) == [7, 8] and list(pos) == ["below_99_8", "within"]
    assert funnel_position(1000, 1000, 400, kind="rate", per=10_000) == "above_99_8"
    assert funnel_label("above", 0.998) == "above_99_8" and funnel_label("below", 0.95) == "below_95"


# --- significance against a comparator ---------------------------------------------------------------------------
def test_significance_vs_the_fingertips_way():
    lo = np.array([10, 10, 10, 10, 10, np.nan])
    hi = np.array([20, 20, 20, 20, 20, 20])
    eng = np.array([5, 25, 15, 10, 20, 15])
    assert list(significance_vs(lo, hi, eng)) == [
        "higher",
        "lower",
        "similar",
        "similar",
        "similar",
        "not_compared",
    ]
    assert list(significance_vs(lo, hi, eng, polarity="higher_better"))[:3] == ["better", "worse", "similar"]
    assert list(significance_vs(lo, hi, eng, polarity="lower_better"))[:3] == ["worse", "better", "similar"]
    assert list(significance_vs(lo, hi, eng, polarity="context"))[:2] == ["higher", "lower"]
    s = significance_vs(pd.Series([1.0], index=["x"]), 2.0, 3.0)
    assert s.loc["x"] == "lower"
    with pytest.raises(ValueError, match="polarity"):
        significance_vs(1, 2, 3, polarity="up")
