"""Statistical guard rails on data with no signal (fixed seeds, small versions of benchmarks/bench_statistics.py):
if a change makes a stable process look special, or funnels and neighbour tests flag areas that do not differ,
these fail. The full figures are in docs/methods-statistics.md."""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.spc import xmr_frame

SPECIAL = ("special_cause_improvement", "special_cause_concern", "special_cause_neutral_high",
           "special_cause_neutral_low")


def _latest_flagged(values: np.ndarray, **kw) -> float:
    n_series, n = values.shape
    f = pd.DataFrame({"s": np.repeat(np.arange(n_series), n), "t": np.tile(np.arange(n), n_series),
                      "v": values.ravel()})
    if "denominators" in kw:
        f["n"] = kw.pop("denominators").ravel()
        kw["denominator_col"] = "n"
    series = xmr_frame(f, by="s", order="t", value="v", improvement="decrease", **kw).series
    return float(series["variation"].isin(SPECIAL).mean())


def test_xmr_on_independent_quarters_rarely_flags_the_latest_one():
    rng = np.random.default_rng(71)
    flows = rng.poisson(300, (3000, 15)).astype(float)
    assert 0.004 < _latest_flagged(flows[:, 3:]) < 0.03
    # the same flows as a rolling 12-month sum: consecutive points share three quarters and the chart lies
    rolling = np.stack([flows[:, k:k + 4].sum(axis=1) for k in range(12)], axis=1)
    assert _latest_flagged(rolling) > 0.10


def test_a_stock_charted_directly_flags_far_too_often():
    rng = np.random.default_rng(72)
    stock = np.empty((3000, 40))
    stock[:, 0] = 350
    for t in range(1, 40):
        stock[:, t] = rng.binomial(stock[:, t - 1].astype(int), 0.7) + rng.poisson(105, 3000)
    assert _latest_flagged(stock[:, -12:]) > 0.10  # why a stock is shown as a run chart or its flow


def test_laney_p_prime_holds_with_widely_varying_denominators():
    rng = np.random.default_rng(73)
    n = rng.integers(20, 501, (3000, 12))
    pct = 100 * rng.binomial(n, 0.3) / n
    assert _latest_flagged(pct, chart="p_prime", denominators=n.astype(float), scale=100) < 0.03


def test_funnel_limits_hold_their_level_with_a_real_spread_between_areas():
    from indicators.intervals import additive_funnel_limits, null_standard_error, overdispersion

    rng = np.random.default_rng(74)
    out95, out998 = [], []
    for _ in range(100):
        n = rng.integers(200, 5000, size=150)
        rate = np.clip(0.005 + rng.normal(0, 0.0006, 150), 1e-5, None)
        y = 10_000 * rng.poisson(rate * n) / n
        s = null_standard_error(50, n, "rate", per=10_000)
        od = overdispersion(y, s, 50, consistent=True)
        lo, hi = additive_funnel_limits(50, s, od.tau2, 0.95)
        lo3, hi3 = additive_funnel_limits(50, s, od.tau2, 0.998)
        out95.append(np.mean((y < lo) | (y > hi)))
        out998.append(np.mean((y < lo3) | (y > hi3)))
    assert 0.035 < np.mean(out95) < 0.065 and np.mean(out998) < 0.008


def test_neighbours_prediction_interval_calls_few_areas_different_when_none_is():
    from indicators.intervals import compare_with_interval, neighbours_prediction_interval

    rng = np.random.default_rng(75)
    values = rng.normal(22, 3, (20_000, 11))
    lo, hi, _mean, _k = neighbours_prediction_interval(values[:, 1:], level=0.95)
    verdict = np.asarray(compare_with_interval(values[:, 0], lo, hi), dtype=object)
    assert 0.04 < np.mean(verdict != "similar") < 0.06
