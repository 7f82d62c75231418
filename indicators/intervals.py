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
* significance: a comparator (England, the neighbours' mean) outside this area's interval, as Fingertips
  compares areas with a benchmark.
"""

from __future__ import annotations

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
