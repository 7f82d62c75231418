"""Confidence intervals, funnel-plot control limits and significance against a comparator.

Everything here is vectorised: numbers, numpy arrays and pandas Series go in (they broadcast against each
other), arrays come out (a scalar for scalar inputs); when an input is a pandas Series of the result's
length, the result is a Series with that Series' index. Missing or impossible inputs give NaN (or ``"not_compared"`` for the categorical results);
nothing raises for bad data, only for a bad ``level``, ``kind`` or ``polarity``.

Methods follow the Office for Health Improvement and Disparities (formerly Public Health England)
Fingertips technical guidance, "Public health technical guidance: confidence intervals", and
Spiegelhalter (2005):

* proportions: Wilson score interval (Wilson 1927; Newcombe 1998, method 3);
* counts and rates: the exact Poisson interval from the chi-squared distribution for counts below 10,
  Byar's approximation (Breslow and Day 1987) for counts of 10 or more, as the guidance prescribes;
* funnel plots: exact binomial / Poisson control limits with Spiegelhalter's interpolation between
  whole-number quantiles (Spiegelhalter DJ, "Funnel plots for comparing institutional performance",
  Statistics in Medicine 2005; 24:1185-1202, appendix A.1);
* significance: a comparator (England) outside this area's interval, as Fingertips compares areas with a
  benchmark;
* over-dispersion: winsorised z-scores, the dispersion ratio phi, its chi-squared test and the additive
  random-effects variance tau^2 (Spiegelhalter 2005, section 5), with limits and z-scores that allow for it;
* statistical neighbours: a prediction interval for one more area from the neighbours' own values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special, stats

__all__ = [
    "EXACT_POISSON_BELOW",
    "wilson_interval",
    "byar_interval",
    "rate_interval",
    "funnel_limits",
    "funnel_position",
    "funnel_label",
    "significance_vs",
    "WINSORISE_FRACTION",
    "winsorised_normal_moment",
    "OVERDISPERSION_TEST_LEVEL",
    "MIN_NEIGHBOURS",
    "null_standard_error",
    "winsorise",
    "Overdispersion",
    "overdispersion",
    "random_effects_z",
    "additive_funnel_limits",
    "z_position",
    "significance_z",
    "neighbours_prediction_interval",
    "compare_with_interval",
]

#: Counts below this use the exact chi-squared Poisson interval; from it upwards, Byar's approximation
#: (Fingertips technical guidance, "Rates": Byar's method is within 0.2% of the exact limits for 95%
#: intervals from a count of 10).
EXACT_POISSON_BELOW = 10

ArrayLike = float | int | np.ndarray | pd.Series | list
FunnelKind = Literal["proportion", "rate"]
FunnelMethod = Literal["exact", "normal"]
Polarity = Literal["higher_better", "lower_better", "context"]

NOT_COMPARED = "not_compared"


# --- helpers ---------------------------------------------------------------------------------------------
def _z(level: float) -> float:
    """Two-sided standard normal quantile for a confidence level in (0, 1)."""
    _check_level(level)
    return float(special.ndtri(1.0 - (1.0 - level) / 2.0))


def _check_level(level: float) -> None:
    if not (0.0 < float(level) < 1.0):
        raise ValueError(f"level must be a probability between 0 and 1 (e.g. 0.95), not {level!r}")


def _arr(x: ArrayLike) -> np.ndarray:
    """Float array of the input; None, pandas NA and text become NaN."""
    if isinstance(x, pd.Series):
        return pd.to_numeric(x, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    a = np.asarray(x)
    if a.dtype == object or a.dtype.kind in "US":
        flat = pd.to_numeric(pd.Series(a.ravel(), dtype=object), errors="coerce")
        return flat.to_numpy(dtype=float, na_value=np.nan).reshape(a.shape)
    return a.astype(float)


def _wrap(result: np.ndarray, *inputs: ArrayLike):
    """Give the result the index of the first pandas Series among the inputs, if there is one."""
    for x in inputs:
        if isinstance(x, pd.Series):
            if np.ndim(result) == 1 and len(result) == len(x):
                return pd.Series(result, index=x.index)
            break
    if np.ndim(result) == 0:
        return result[()]
    return result


# --- proportions ----------------------------------------------------------------------------------------
def wilson_interval(numerator: ArrayLike, denominator: ArrayLike, level: float = 0.95):
    """Wilson score confidence interval for a proportion, on the 0-1 scale.

    Computes, for x events out of n with p = x/n and z the two-sided normal quantile for ``level``::

        (2x + z^2 -/+ z * sqrt(z^2 + 4x(1 - p))) / (2(n + z^2))

    the score interval of Wilson (1927), method 3 of Newcombe (1998, Statistics in Medicine 17:857-872),
    which is the method the Fingertips technical guidance ("Proportions") uses for every proportion.
    It stays inside [0, 1] and behaves well at 0/n and n/n (lower limit 0, resp. upper limit 1).

    Returns ``(lower, upper)``, each shaped like the broadcast inputs. NaN where either input is NaN,
    the denominator is not positive, the numerator is negative, or the numerator exceeds the denominator
    (an impossible proportion is reported as missing, not raised, because returns are typed by hand).
    Multiply by 100 for percentages.
    """
    z = _z(level)
    x = _arr(numerator)
    n = _arr(denominator)
    x, n = np.broadcast_arrays(x, n)
    bad = ~np.isfinite(x) | ~np.isfinite(n) | (n <= 0) | (x < 0) | (x > n)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        z2 = z * z
        centre = 2.0 * x + z2
        half = z * np.sqrt(z2 + 4.0 * x * (1.0 - p))
        denom = 2.0 * (n + z2)
        lower = (centre - half) / denom
        upper = (centre + half) / denom
    # Exact end points where the algebra gives them (guards against -1e-17 and 1 + 1e-16).
    lower = np.where(x == 0, 0.0, np.clip(lower, 0.0, 1.0))
    upper = np.where(x == n, 1.0, np.clip(upper, 0.0, 1.0))
    lower = np.where(bad, np.nan, lower)
    upper = np.where(bad, np.nan, upper)
    return _wrap(lower, numerator, denominator), _wrap(upper, numerator, denominator)


# --- counts and rates -----------------------------------------------------------------------------------
def byar_interval(count: ArrayLike, level: float = 0.95, exact_below: float = EXACT_POISSON_BELOW):
    """Confidence interval for a Poisson count: exact for small counts, Byar's approximation otherwise.

    For an observed count O and alpha = 1 - level:

    * O < ``exact_below`` (10, as the Fingertips guidance "Rates" prescribes): the exact limits from the
      link between the Poisson and chi-squared distributions (Armitage and Berry),
      lower = chi2(alpha/2; 2O) / 2 (0 when O = 0), upper = chi2(1 - alpha/2; 2O + 2) / 2;
    * O >= ``exact_below``: Byar's approximation (Breslow and Day 1987, vol. II),
      lower = O (1 - 1/(9O) - z/(3 sqrt(O)))^3, upper = (O+1) (1 - 1/(9(O+1)) + z/(3 sqrt(O+1)))^3.

    Returns ``(lower, upper)`` as counts; for a rate multiply both by ``per / denominator`` (or use
    :func:`rate_interval`). NaN where the count is NaN or negative. Non-integer counts are allowed (the
    chi-squared limits are continuous in O).
    """
    z = _z(level)
    alpha = 1.0 - level
    o = _arr(count)
    bad = ~np.isfinite(o) | (o < 0)
    o_safe = np.where(bad, 1.0, o)
    small = o_safe < exact_below
    with np.errstate(divide="ignore", invalid="ignore"):
        # exact (chi-squared) limits; chdtri is the inverse of the upper tail of chi-squared
        ex_lo = np.where(
            o_safe > 0, special.chdtri(np.maximum(2.0 * o_safe, 1e-300), 1.0 - alpha / 2.0) / 2.0, 0.0
        )
        ex_hi = special.chdtri(2.0 * o_safe + 2.0, alpha / 2.0) / 2.0
        # Byar's approximation
        by_lo = o_safe * (1.0 - 1.0 / (9.0 * o_safe) - z / (3.0 * np.sqrt(o_safe))) ** 3
        o1 = o_safe + 1.0
        by_hi = o1 * (1.0 - 1.0 / (9.0 * o1) + z / (3.0 * np.sqrt(o1))) ** 3
    lower = np.where(small, ex_lo, by_lo)
    upper = np.where(small, ex_hi, by_hi)
    lower = np.where(bad, np.nan, np.maximum(lower, 0.0))
    upper = np.where(bad, np.nan, upper)
    return _wrap(lower, count), _wrap(upper, count)


def rate_interval(
    count: ArrayLike,
    population: ArrayLike,
    per: float = 10_000,
    level: float = 0.95,
    exact_below: float = EXACT_POISSON_BELOW,
):
    """Confidence interval for a crude rate ``count / population * per``.

    The count's interval comes from :func:`byar_interval` (exact chi-squared below 10, Byar's method
    from 10) and is scaled by ``per / population``, as in the Fingertips guidance "Rates" (the
    population is treated as fixed). Returns ``(lower, upper)`` on the rate's scale (per 10,000 by
    default); NaN where the population is missing or not positive.
    """
    lo, hi = byar_interval(_arr(count), level=level, exact_below=exact_below)
    pop = _arr(population)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(np.isfinite(pop) & (pop > 0), per / pop, np.nan)
        lower = lo * scale
        upper = hi * scale
    return _wrap(lower, count, population), _wrap(upper, count, population)


# --- funnel plots -----------------------------------------------------------------------------------------
def _discrete_quantile(dist, p: float, max_steps: int = 8):
    """The smallest whole r with F(r) >= p, with F(r) and F(r - 1): the same r as ``dist.ppf(p)``.

    Starts from the normal approximation and walks in whole steps checked with the exact CDF, which is far
    quicker than scipy's generic discrete search on large arrays; anything not settled within ``max_steps``
    falls back to ``dist.ppf``.
    """
    r = np.maximum(np.floor(dist.mean() + stats.norm.ppf(p) * dist.std()), 0.0)
    for _ in range(max_steps):
        f_r, f_prev = dist.cdf(r), dist.cdf(r - 1.0)
        up = f_r < p  # r is too small
        down = (f_prev >= p) & (r > 0)  # r - 1 already reaches p
        if not (up.any() or down.any()):
            return r, f_r, f_prev
        r = np.where(up, r + 1.0, np.where(down, r - 1.0, r))
    r = dist.ppf(p)
    return r, dist.cdf(r), dist.cdf(r - 1.0)


def _interpolated_limit(dist, p: float, scale_by: np.ndarray) -> np.ndarray:
    """Spiegelhalter's (2005, appendix A.1.1) interpolated quantile of a discrete distribution, / ``scale_by``.

    r_p is the smallest whole r with F(r) >= p; alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1)); the control
    limit is (r_p - alpha) / scale_by. It moves smoothly with the denominator instead of in steps.
    """
    r, f_r, f_prev = _discrete_quantile(dist, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = f_r - f_prev
        a = np.where(step > 0, (f_r - p) / step, 0.0)
        return (r - a) / scale_by


def funnel_limits(
    target: ArrayLike,
    denominator: ArrayLike,
    level: float = 0.95,
    kind: FunnelKind = "proportion",
    per: float = 1.0,
    method: FunnelMethod = "exact",
):
    """Funnel-plot control limits around a target value (usually England's) as a function of the denominator.

    Computes the range a value would fall in with probability ``level`` if the area's true value were the
    target and only chance were at work (Spiegelhalter 2005, appendix A.1, as the Fingertips technical
    guide "Funnel plots" uses for proportions and rates):

    * ``kind="proportion"``: the numerator is Binomial(n, target / per) with n the denominator rounded to a
      whole number;
    * ``kind="rate"``: the count is Poisson(target / per * denominator), the denominator being the
      population.

    ``per`` is the multiplier the target (and the limits) are expressed in: 1 (the default) for a
    proportion on the 0-1 scale or a rate per person, 100 for a percentage, 10,000 for a rate per 10,000
    children.

    The limits are the exact lower and upper ``(1 - level) / 2`` quantiles, interpolated between whole
    numbers by Spiegelhalter's rule so they are smooth in the denominator, divided by the denominator and
    put back on the target's scale. The lower limit is floored at 0 and a proportion's upper limit capped
    at ``per``. Usual levels: 0.95 (about 2 standard errors) and 0.998 (about 3). Limits narrow as the
    denominator grows and, for large denominators, approach target +/- z * sqrt(var / n).

    ``method="normal"`` gives instead the normal approximation target +/- z * sqrt(theta(1 - theta)/n) for
    proportions (which is what the Fingertips funnel-plot tool for proportions computes: the proportions
    whose Wilson score interval just reaches the target) and target +/- z * sqrt(theta/n) * per for rates.
    It is kept for agreement with published Fingertips charts; the exact default is better for the small
    denominators common in safeguarding data.

    Returns ``(lower, upper)`` shaped like the broadcast inputs; NaN where an input is missing, the
    denominator is not positive, or a proportion's target is outside [0, per].
    """
    _check_level(level)
    if not per > 0:
        raise ValueError(f"per must be a positive multiplier (1, 100, 10000...), not {per!r}")
    if kind not in ("proportion", "rate"):
        raise ValueError(f"kind must be 'proportion' or 'rate', not {kind!r}")
    if method not in ("exact", "normal"):
        raise ValueError(f"method must be 'exact' or 'normal', not {method!r}")
    t = _arr(target)
    d = _arr(denominator)
    t, d = np.broadcast_arrays(t, d)
    theta = t / per
    if kind == "proportion":
        n = np.round(d)
        bad = ~np.isfinite(theta) | ~np.isfinite(n) | (n <= 0) | (theta < 0) | (theta > 1)
        n_safe = np.where(bad, 1.0, n)
        dist = stats.binom(n_safe, np.where(bad, 0.5, theta))
        scale_by = n_safe
        cap = per
    else:
        bad = ~np.isfinite(theta) | ~np.isfinite(d) | (d <= 0) | (theta < 0)
        d_safe = np.where(bad, 1.0, d)
        dist = stats.poisson(np.where(bad, 1.0, theta) * d_safe)
        scale_by = d_safe
        cap = np.inf
    half = (1.0 - level) / 2.0
    if method == "exact":
        lower = _interpolated_limit(dist, half, scale_by) * per
        upper = _interpolated_limit(dist, 1.0 - half, scale_by) * per
    else:
        th = np.where(bad, 0.5, theta)
        var = th * (1.0 - th) if kind == "proportion" else th
        spread = _z(level) * np.sqrt(var / scale_by)
        lower = (th - spread) * per
        upper = (th + spread) * per
    lower = np.where(bad, np.nan, np.clip(lower, 0.0, cap))
    upper = np.where(bad, np.nan, np.clip(upper, 0.0, cap))
    return _wrap(lower, target, denominator), _wrap(upper, target, denominator)


def funnel_label(side: Literal["below", "above"], level: float) -> str:
    """The category name for a point outside a limit, e.g. ``below_95`` or ``above_99_8`` (0.998)."""
    pct = f"{level * 100:.10g}".replace(".", "_")
    return f"{side}_{pct}"


def funnel_position(
    value: ArrayLike,
    denominator: ArrayLike,
    target: ArrayLike,
    kind: FunnelKind = "proportion",
    levels: tuple[float, ...] = (0.95, 0.998),
    per: float = 1.0,
    method: FunnelMethod = "exact",
):
    """Where each value lies on a funnel plot against the target: inside the funnel or beyond which limit.

    Uses :func:`funnel_limits` (with ``kind``, ``per`` and ``method``) for every level. A value strictly below the lower limit of the widest level
    it breaches is ``below_<level>``, strictly above the upper limit ``above_<level>``, otherwise
    ``within``; with the default levels the categories are ``below_99_8``, ``below_95``, ``within``,
    ``above_95`` and ``above_99_8`` (the point of 99.8 written as an underscore, as in the dataset).
    ``value`` is on the target's scale. ``not_compared`` where the value, target or denominator is missing.

    Returns an object array of strings (a Series if an input was one). The categories say "above"/"below",
    not "better"/"worse": apply the indicator's polarity afterwards.
    """
    v = _arr(value)
    d = _arr(denominator)
    t = _arr(target)
    v, d, t = np.broadcast_arrays(v, d, t)
    if not levels:
        raise ValueError("levels must name at least one confidence level, e.g. (0.95, 0.998)")
    out = np.full(v.shape, "within", dtype=object)
    missing = ~np.isfinite(v)
    for level in sorted(levels):  # widest last, so it overwrites the narrower label
        lo, hi = funnel_limits(t, d, level=level, kind=kind, per=per, method=method)
        lo = np.asarray(lo, dtype=float)
        hi = np.asarray(hi, dtype=float)
        out[v < lo] = funnel_label("below", level)
        out[v > hi] = funnel_label("above", level)
        missing |= ~np.isfinite(lo) | ~np.isfinite(hi)
    out[missing] = NOT_COMPARED
    return _wrap(out, value, denominator, target)


# --- significance against a comparator -------------------------------------------------------------------
def significance_vs(
    lower: ArrayLike,
    upper: ArrayLike,
    comparator: ArrayLike,
    polarity: Polarity | None = None,
):
    """Compare an area with a benchmark the Fingertips way: is the benchmark outside the area's interval?

    ``higher`` when the comparator lies strictly below this area's lower confidence limit (the area is
    significantly higher), ``lower`` when it lies strictly above the upper limit, ``similar`` otherwise
    (a comparator exactly on a limit counts as similar). With ``polarity="higher_better"`` or
    ``"lower_better"`` the answers become ``better``/``worse``/``similar``; with ``"context"`` or None they
    stay ``higher``/``lower``/``similar``. ``not_compared`` where a limit or the comparator is missing.

    This treats the comparator as a fixed value, not an estimate with its own uncertainty (Fingertips
    technical guidance, "Comparing an area with a benchmark"): right for England, approximate for a small
    group such as statistical neighbours.
    """
    if polarity not in (None, "higher_better", "lower_better", "context"):
        raise ValueError(f"polarity must be 'higher_better', 'lower_better' or 'context', not {polarity!r}")
    lo = _arr(lower)
    hi = _arr(upper)
    c = _arr(comparator)
    lo, hi, c = np.broadcast_arrays(lo, hi, c)
    high_word, low_word = {"higher_better": ("better", "worse"), "lower_better": ("worse", "better")}.get(
        polarity or "context", ("higher", "lower")
    )
    out = np.full(lo.shape, "similar", dtype=object)
    out[c < lo] = high_word
    out[c > hi] = low_word
    out[~np.isfinite(lo) | ~np.isfinite(hi) | ~np.isfinite(c)] = NOT_COMPARED
    return _wrap(out, lower, upper, comparator)


# --- over-dispersion (Spiegelhalter 2005) -----------------------------------------------------------------
#: Share of z-scores pulled in at each end before φ is estimated (Spiegelhalter 2005, section 5.3: 10%).
WINSORISE_FRACTION = 0.10
#: Over-dispersion is declared when n·φ exceeds this quantile of χ² with n − 1 degrees of freedom (a 5% test).
OVERDISPERSION_TEST_LEVEL = 0.95


def null_standard_error(target: ArrayLike, denominator: ArrayLike, kind: FunnelKind = "proportion",
                        per: float = 1.0):
    """Standard error of an area's value if its true value were the target (the funnel's null hypothesis).

    ``kind="proportion"``: per * sqrt(theta (1 - theta) / n) with theta = target / per (binomial);
    ``kind="rate"``: per * sqrt(theta / d) (Poisson count over a population d). On the target's scale (``per``
    as in :func:`funnel_limits`). NaN where the denominator is not positive or the target is impossible.
    """
    if kind not in ("proportion", "rate"):
        raise ValueError(f"kind must be 'proportion' or 'rate', not {kind!r}")
    t = _arr(target) / per
    d = _arr(denominator)
    t, d = np.broadcast_arrays(t, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = t * (1.0 - t) if kind == "proportion" else t
        bad = ~np.isfinite(t) | ~np.isfinite(d) | (d <= 0) | (t < 0) | ((t > 1) if kind == "proportion" else False)
        s = np.where(bad, np.nan, per * np.sqrt(np.where(bad, 0.0, var) / np.where(bad, 1.0, d)))
    return _wrap(s, target, denominator)


def winsorise(values: ArrayLike, fraction: float = WINSORISE_FRACTION) -> np.ndarray:
    """Pull the values below the ``fraction`` quantile up to it and those above the 1 − ``fraction`` quantile down.

    Quantiles by linear interpolation between order statistics (numpy's and R's default, type 7), of the
    finite values only; NaN stays NaN. Spiegelhalter (2005) winsorises the z-scores at 10% at each end so that a
    few genuine outliers do not inflate the estimate of over-dispersion.
    """
    if not 0.0 <= fraction < 0.5:
        raise ValueError(f"fraction must be at least 0 and below 0.5, not {fraction!r}")
    z = _arr(values).astype(float)
    ok = np.isfinite(z)
    if not ok.any():
        return z
    lo, hi = np.quantile(z[ok], [fraction, 1.0 - fraction])
    return np.where(ok, np.clip(z, lo, hi), np.nan)


@dataclass(frozen=True)
class Overdispersion:
    """Spiegelhalter's (2005) estimate of over-dispersion among areas set against one target.

    ``n`` areas with a z-score; ``phi`` = mean of the squared winsorised z-scores; ``statistic`` = n·phi, to be
    compared with χ²(n − 1): ``critical`` is its ``test_level`` quantile and ``p_value`` the upper tail;
    ``overdispersed`` when the statistic exceeds the critical value; ``tau2`` the additive random-effects
    variance on the values' scale (0 when not over-dispersed); ``adjustment`` "additive" or "none" ("" when
    fewer than two areas could be used).
    """

    n: int
    phi: float
    statistic: float
    critical: float
    p_value: float
    overdispersed: bool
    tau2: float
    adjustment: str


def winsorised_normal_moment(fraction: float = WINSORISE_FRACTION) -> float:
    """E[W²] for a standard normal winsorised at ``fraction`` at each end: (1 − 2f) − 2qφ(q) + 2f·q² with
    q = Φ⁻¹(1 − f). 0.6787 at 10%: the share of a normal variance that winsorising keeps."""
    f = float(fraction)
    if f <= 0:
        return 1.0
    q = float(special.ndtri(1.0 - f))
    return (1.0 - 2.0 * f) - 2.0 * q * float(stats.norm.pdf(q)) + 2.0 * f * q * q


def overdispersion(value: ArrayLike, standard_error: ArrayLike, target: float,
                   fraction: float = WINSORISE_FRACTION,
                   test_level: float = OVERDISPERSION_TEST_LEVEL, consistent: bool = False) -> Overdispersion:
    """Test for and estimate over-dispersion among areas (Spiegelhalter 2005, sections 5.2–5.4).

    For areas i with values y_i, null standard errors s_i (:func:`null_standard_error`) and the target θ:

    1. z_i = (y_i − θ) / s_i, winsorised at ``fraction`` (10%) at each end (:func:`winsorise`);
    2. φ = (1/n) Σ z_i² over the n areas with a z-score;
    3. over-dispersed when n·φ exceeds the ``test_level`` quantile of χ² with n − 1 degrees of freedom;
    4. then the additive random-effects variance, with w_i = 1 / s_i²:
       τ² = (n·φ − (n − 1)) / (Σw − Σw² / Σw), floored at 0 (a DerSimonian–Laird moment estimate).

    ``consistent=True`` divides φ by :func:`winsorised_normal_moment` (0.679 at 10%) before the test, the
    consistency correction robust scale estimates carry (as the MAD carries 1.4826), and estimates τ² as the
    value at which the winsorised z* themselves have a standard normal's winsorised spread
    (:func:`_robust_tau2`): winsorising keeps a few outlying areas from inflating φ but, uncorrected, also
    removes a third of a normal spread, so the limits come out too narrow (measured in benchmarks/sim_funnel.py;
    docs/methods-statistics.md). The dataset uses it; the default (False) is Spiegelhalter's recipe as
    published, which other funnel-plot tools reproduce.

    Areas with a missing value or standard error are left out. ``tau2`` is on the values' scale (e.g.
    percentage points² for percentages, (per 10,000)² for rates per 10,000).
    """
    _check_level(test_level)
    y = _arr(value)
    s = _arr(standard_error)
    y, s = np.broadcast_arrays(y, s)
    ok = np.isfinite(y) & np.isfinite(s) & (s > 0)
    n = int(ok.sum())
    if n < 2 or not np.isfinite(float(target)):
        return Overdispersion(n, np.nan, np.nan, np.nan, np.nan, False, np.nan, "")
    z = winsorise((y[ok] - float(target)) / s[ok], fraction)
    phi = float(np.mean(z * z))
    if consistent:
        phi /= winsorised_normal_moment(fraction)
    statistic = n * phi
    critical = float(stats.chi2.ppf(test_level, n - 1))
    p_value = float(stats.chi2.sf(statistic, n - 1))
    over = statistic > critical
    tau2 = 0.0
    if over and consistent:
        tau2 = _robust_tau2(y[ok] - float(target), s[ok], fraction)
    elif over:
        w = 1.0 / s[ok] ** 2
        tau2 = max(0.0, (statistic - (n - 1)) / (w.sum() - (w * w).sum() / w.sum()))
    return Overdispersion(n, phi, statistic, critical, p_value, bool(over), float(tau2),
                          "additive" if over else "none")


def _robust_tau2(diff: np.ndarray, s: np.ndarray, fraction: float) -> float:
    """The between-area variance τ² at which the winsorised z* = diff / √(s² + τ²) have the second moment a
    standard normal's winsorised values have (:func:`winsorised_normal_moment`): a robust moment estimate in the
    manner of Huber's "Proposal 2" for scale. Unlike the moment estimate from the winsorised plain z-scores,
    it stays unbiased when τ² dwarfs some areas' sampling error and not others' (found by bisection; 0 when
    the plain z-scores already fit)."""
    c = winsorised_normal_moment(fraction)

    def excess(t2: float) -> float:
        z = winsorise(diff / np.sqrt(s * s + t2), fraction)
        return float(np.mean(z * z)) - c

    if excess(0.0) <= 0:
        return 0.0
    hi = float(np.var(diff)) + float(np.max(s * s))
    while excess(hi) > 0:
        hi *= 4.0
    lo = 0.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if excess(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def random_effects_z(value: ArrayLike, standard_error: ArrayLike, target: ArrayLike, tau2: ArrayLike = 0.0):
    """z* = (y − θ) / sqrt(s² + τ²): an area's distance from the target allowing for the spread between areas.

    With ``tau2`` 0 this is the plain z-score. NaN where an input is missing (Spiegelhalter 2005, section 5.4).
    """
    y, s, t, tau = (_arr(x) for x in (value, standard_error, target, tau2))
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(s * s + np.where(np.isfinite(tau), tau, np.nan))
        z = np.where(sd > 0, (y - t) / sd, np.nan)
    return _wrap(z, value, standard_error, target)


def additive_funnel_limits(target: ArrayLike, standard_error: ArrayLike, tau2: float, level: float = 0.95,
                           per: float | None = None):
    """Funnel limits widened for over-dispersion: θ ± z_level · sqrt(s² + τ²) (Spiegelhalter 2005, section 5.4).

    ``standard_error`` is the null standard error at each denominator (:func:`null_standard_error`). The lower
    limit is floored at 0 and, when ``per`` is given for a proportion, the upper capped at ``per``.
    """
    z = _z(level)
    t, s = np.broadcast_arrays(_arr(target), _arr(standard_error))
    half = z * np.sqrt(s * s + float(tau2))
    lower = np.maximum(t - half, 0.0)
    upper = t + half if per is None else np.minimum(t + half, per)
    return _wrap(lower, target, standard_error), _wrap(upper, target, standard_error)


def z_position(z: ArrayLike, levels: tuple[float, ...] = (0.95, 0.998)):
    """Funnel category from a z-score: ``above_<level>`` when z exceeds the level's two-sided normal quantile,
    ``below_<level>`` when under minus it (the widest level breached wins), else ``within``; ``not_compared``
    where z is missing. The same labels as :func:`funnel_position`."""
    if not levels:
        raise ValueError("levels must name at least one confidence level, e.g. (0.95, 0.998)")
    zz = _arr(z)
    out = np.full(zz.shape, "within", dtype=object)
    for level in sorted(levels):
        q = _z(level)
        out[zz > q] = funnel_label("above", level)
        out[zz < -q] = funnel_label("below", level)
    out[~np.isfinite(zz)] = NOT_COMPARED
    return _wrap(out, z)


def significance_z(z: ArrayLike, level: float = 0.95, polarity: Polarity | None = None):
    """Better/worse/similar from a z-score against a comparator: beyond ± the two-sided normal quantile.

    ``higher`` when z > z_level, ``lower`` when z < −z_level, ``similar`` otherwise; with a polarity, better or
    worse as in :func:`significance_vs`; ``not_compared`` where z is missing.
    """
    if polarity not in (None, "higher_better", "lower_better", "context"):
        raise ValueError(f"polarity must be 'higher_better', 'lower_better' or 'context', not {polarity!r}")
    q = _z(level)
    zz = _arr(z)
    high_word, low_word = {"higher_better": ("better", "worse"), "lower_better": ("worse", "better")}.get(
        polarity or "context", ("higher", "lower"))
    out = np.full(zz.shape, "similar", dtype=object)
    out[zz > q] = high_word
    out[zz < -q] = low_word
    out[~np.isfinite(zz)] = NOT_COMPARED
    return _wrap(out, z)


# --- statistical neighbours -----------------------------------------------------------------------------
#: Fewer neighbours with a value than this: no comparison (a prediction interval from two values says nothing).
MIN_NEIGHBOURS = 3


def neighbours_prediction_interval(values: ArrayLike, level: float = 0.95, min_k: int = MIN_NEIGHBOURS):
    """Where one more area like the neighbours would fall: mean ± t_{(1+level)/2, k−1} · sd · sqrt(1 + 1/k).

    ``values`` is an (areas × neighbours) array, one row per area being compared (a 1-D array is one row);
    NaN marks a neighbour without a value. k is the number with a value, sd their sample standard deviation
    (k − 1 in the divisor). This is the normal-theory prediction interval for a new observation from the
    same population (e.g. Hahn and Meeker 1991, Statistical Intervals, section 4.6): the neighbours' mean is
    an estimate, and a new area differs from it by its own spread as well. Rows with fewer than ``min_k``
    values get NaN. Returns ``(lower, upper, mean, k)``.
    """
    _check_level(level)
    v = _arr(values)
    one = v.ndim == 1
    v = np.atleast_2d(v)
    have = np.isfinite(v)
    k = have.sum(axis=1)
    filled = np.where(have, v, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(k > 0, filled.sum(axis=1) / k, np.nan)
        ss = np.where(have, (v - mean[:, None]) ** 2, 0.0).sum(axis=1)
        sd = np.sqrt(ss / (k - 1))
        t = stats.t.ppf(1.0 - (1.0 - level) / 2.0, np.maximum(k - 1, 1))
        half = t * sd * np.sqrt(1.0 + 1.0 / k)
    enough = k >= max(int(min_k), 2)
    lower = np.where(enough, mean - half, np.nan)
    upper = np.where(enough, mean + half, np.nan)
    if one:
        return lower[0], upper[0], mean[0], int(k[0])
    return lower, upper, mean, k


def compare_with_interval(value: ArrayLike, lower: ArrayLike, upper: ArrayLike, polarity: Polarity | None = None):
    """``higher``/``lower`` when the value lies strictly above/below the interval, ``similar`` inside it (or on an
    end); better/worse with a polarity, as :func:`significance_vs`; ``not_compared`` where anything is missing."""
    if polarity not in (None, "higher_better", "lower_better", "context"):
        raise ValueError(f"polarity must be 'higher_better', 'lower_better' or 'context', not {polarity!r}")
    x, lo, hi = np.broadcast_arrays(_arr(value), _arr(lower), _arr(upper))
    high_word, low_word = {"higher_better": ("better", "worse"), "lower_better": ("worse", "better")}.get(
        polarity or "context", ("higher", "lower"))
    out = np.full(x.shape, "similar", dtype=object)
    out[x > hi] = high_word
    out[x < lo] = low_word
    out[~np.isfinite(x) | ~np.isfinite(lo) | ~np.isfinite(hi)] = NOT_COMPARED
    return _wrap(out, value, lower, upper)
