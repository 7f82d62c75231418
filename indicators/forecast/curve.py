"""Step 4: has the curve turned? Every quarter since the freeze, against the frozen baseline's forecast.

The baseline frozen when an action plan started predicts each later quarter's own value (for flows and
snapshots, the headline itself) with a forecast error covariance C (from the model: parameter uncertainty
and, for stocks, the carried-over autocorrelation included). After k reported quarters with differences
d_j = actual_j - forecast_j, oriented so that better is positive (g_j = +d_j when higher is better, -d_j when
lower is better), the evidence is the cumulative statistic

    Z_k = sum_j (g_j - delta) / sqrt(1' C_k 1)

over the reported quarters j (C_k their block of C), where delta is the smallest difference per quarter
that matters (``min_difference``, default 0). Under "nothing changed" Z_k has a t distribution with the
baseline's degrees of freedom. The verdict is read again every quarter, so "turned" needs Z_k to reach a
boundary c chosen so that, with no change, the chance of crossing it at any of the first K looks is
ALPHA = 4% (K = max(4, quarters reported): a constant boundary in the manner of Pocock 1977, for a t
statistic: :func:`repeated_looks_boundary`). The boundary is exact when the model is right and the quarters'
errors are independent; the frozen forecast's errors are positively correlated (they share its estimated
trend or level), which by Slepian's inequality only lowers the chance of crossing. The design level is 4%
rather than 5% because real series break the models a little (a count's Poisson variance grows with a
trend; a stock is only roughly AR(1)), which the simulations in benchmarks/sim_forecast.py show adds up to
about a point; measured there, "turned" with no change stays at or below 5% within four quarters.

Verdicts, after the latest reported quarter:

* ``turned``: Z >= c; ``worsened``: the mirror image (the same statistic on the worse side >= c);
* ``too_early``: nothing reported yet, or one quarter inside the 80% band: not evidence either way;
* ``turning``: Z at least the one-sided 90% point of t (the cumulative difference beyond its own 80%
  band on the better side) but short of c;
* ``not_turned``: otherwise; ``no_direction``: a context indicator (the sentence says above or below);
* ``no_baseline``: no baseline, or one without an interval (fewer than 3 quarters): no yardstick.

References: Pocock SJ (1977) Group sequential methods in the design and analysis of clinical trials,
Biometrika 64:191-199; Jennison C, Turnbull BW (2000) *Group Sequential Methods with Applications to
Clinical Trials*, Chapman & Hall (ch. 2-3, repeated significance tests; the numerical integration of
Armitage, McPherson and Rowe 1969, JRSS A 132:235-244); Slepian D (1962) The one-sided barrier problem for
Gaussian noise, Bell System Technical Journal 41:463-501.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import signal, special, stats

from indicators.forecast.inputs import as_values
from indicators.forecast.results import COMPARISON_COLUMNS, Baseline, TurnResult

ALPHA = 0.04  #: design chance of "turned" (or "worsened") within the planned looks when nothing changed
LOOKS = 4  #: looks the boundary is planned for: a year of quarters (more reported quarters: more looks)
POLARITIES = ("higher_better", "lower_better", "context")
_SIGN = {"higher_better": 1.0, "lower_better": -1.0, "context": 0.0}

_DZ = 0.02  # grid step of the numerical integration
_U_NODES, _U_WEIGHTS = np.polynomial.legendre.leggauss(20)


def _stay_below(x: np.ndarray, looks: int) -> np.ndarray:
    """P(S_k < x sqrt(k) for k = 1..looks) for a standard Gaussian random walk S_k, for each x (vector).

    The density of S_k on the paths that stayed below is carried from look to look by convolution with the
    standard normal density on a grid (Armitage, McPherson and Rowe 1969); the cell cut by the boundary
    counts by the fraction below it, which keeps the error of order dz^2."""
    x = np.minimum(np.asarray(x, dtype=float), 7.0)
    root = math.sqrt(looks)
    z = np.arange(-8.0 * root, float(x.max()) * root + _DZ, _DZ)
    kernel = stats.norm.pdf(np.arange(-400, 401) * _DZ) * _DZ

    def below(k: int) -> np.ndarray:
        bound = x[:, None] * math.sqrt(k)
        return np.clip((bound - (z[None, :] - _DZ / 2)) / _DZ, 0.0, 1.0)

    f = stats.norm.pdf(z)[None, :] * below(1)
    for k in range(2, looks + 1):
        f = signal.fftconvolve(f, kernel[None, :], mode="same", axes=1) * below(k)
    return f.sum(axis=1) * _DZ


def _crossing(c: np.ndarray, df: float, looks: int) -> np.ndarray:
    """P(max_k T_k >= c) for each c, T_k = S_k / (sqrt(k) s), s^2 ~ chi2(df)/df independent of S (df inf:
    s = 1), by Gauss-Legendre quadrature over the probability scale of s."""
    c = np.asarray(c, dtype=float)
    if not np.isfinite(df):
        return 1.0 - _stay_below(c, looks)
    u = np.sqrt(stats.chi2.ppf((_U_NODES + 1.0) / 2.0, df) / df)
    stay = _stay_below(np.outer(c, u).ravel(), looks).reshape(c.size, u.size)
    return 1.0 - stay @ (_U_WEIGHTS / 2.0)


@functools.lru_cache(maxsize=512)
def repeated_looks_boundary(df: float, looks: int = LOOKS, alpha: float = ALPHA) -> float:
    """The constant boundary c with P(T_k >= c for some k <= looks) = alpha under no change.

    T_k is the cumulative statistic after k quarters whose forecast errors are independent normal, with
    their variance estimated on ``df`` degrees of freedom (inf: known), so c is Pocock's boundary for a t
    statistic. One look: the one-sided t quantile. Four looks, known variance, 5%: 2.07 (against 1.64 for one).
    The crossing chance is worked out on a grid of candidate boundaries between the one-look quantile and
    the Bonferroni bound, then on a finer grid around the crossing, and interpolated.
    """
    if looks < 1:
        raise ValueError(f"looks must be at least 1, not {looks}")
    lo = float(special.stdtrit(df, 1.0 - alpha))
    if looks == 1:
        return lo
    hi = float(special.stdtrit(df, 1.0 - alpha / looks))
    for _ in range(3):
        grid = np.linspace(lo, hi, 9)
        p = _crossing(grid, df, looks)  # falls as c rises
        j = int(np.clip(np.searchsorted(-p, -alpha), 1, grid.size - 1))
        lo, hi = grid[j - 1], grid[j]
        p_lo, p_hi = p[j - 1], p[j]
    return float(lo + (p_lo - alpha) / (p_lo - p_hi) * (hi - lo))


def curve_evidence(
    quarter_point: np.ndarray,
    quarter_cov: np.ndarray,
    df: np.ndarray,
    actuals: np.ndarray,
    polarity,
    *,
    min_difference=0.0,
    looks: int = LOOKS,
    alpha: float = ALPHA,
) -> dict[str, np.ndarray]:
    """The cumulative evidence and the verdict after each of the quarters since a freeze, for many series.

    ``quarter_point`` (m x H) and ``quarter_cov`` (m x H x H) are the frozen forecasts of the quarters' own
    values and the covariance of their errors, ``df`` (m,) its degrees of freedom (NaN: no interval);
    ``actuals`` (m x K, K <= H) the quarters' own values since the freeze (NaN: not reported).
    ``polarity`` and ``min_difference`` are one for all or one per series. Returns (m x K) arrays:
    ``evidence`` (better side), ``evidence_worse``, ``n_reported``, ``boundary``, ``verdict`` (object).
    """
    qp = np.asarray(quarter_point, dtype=float)
    m, horizon = qp.shape
    act = np.asarray(actuals, dtype=float)
    if act.ndim != 2 or act.shape[0] != m or act.shape[1] > horizon:
        raise ValueError(f"actuals must be (series x quarters since the freeze), at most {horizon} quarters")
    k_looks = act.shape[1]
    pol = np.broadcast_to(np.asarray(polarity, dtype=object), (m,))
    bad = sorted({str(p) for p in pol if p not in POLARITIES})
    if bad:
        raise ValueError(f"polarity must be 'higher_better', 'lower_better' or 'context', not {bad[0]!r}")
    sign = np.array([_SIGN[p] for p in pol])
    delta = np.broadcast_to(np.asarray(min_difference, dtype=float), (m,))
    df = np.asarray(df, dtype=float)
    qp = qp[:, :k_looks]
    cov = np.asarray(quarter_cov, dtype=float)[:, :k_looks, :k_looks]
    d = act - qp
    reported = np.isfinite(d)
    sd = np.sqrt(np.maximum(np.diagonal(cov, axis1=1, axis2=2), 0.0))
    r = reported.astype(float)
    good = np.cumsum(np.where(reported, sign[:, None] * d - delta[:, None], 0.0), axis=1)
    worse = np.cumsum(np.where(reported, -sign[:, None] * d - delta[:, None], 0.0), axis=1)
    # 1' C_k 1 over the reported quarters up to k: the running sum of the masked covariance's leading blocks
    masked = np.where(np.isfinite(cov), cov, 0.0) * r[:, :, None] * r[:, None, :]
    var = np.cumsum(np.cumsum(masked, axis=1), axis=2)[:, np.arange(k_looks), np.arange(k_looks)]
    n_rep = np.cumsum(reported, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_good = np.where(n_rep > 0, good / np.sqrt(var), np.nan)
        z_bad = np.where(n_rep > 0, worse / np.sqrt(var), np.nan)
        z_one = np.abs(d) / sd
    has_interval = ~np.isnan(df)
    boundary = np.full((m, k_looks), np.nan)
    t80 = np.full(m, np.nan)
    for value in np.unique(df[has_interval]):
        rows = np.flatnonzero(df == value)
        t80[rows] = special.stdtrit(value, 0.90)
        for n_looks in np.unique(np.maximum(n_rep[rows], looks)):
            c = repeated_looks_boundary(float(value), int(n_looks), alpha)
            boundary[rows] = np.where(np.maximum(n_rep[rows], looks) == n_looks, c, boundary[rows])
    first = np.argmax(reported, axis=1)
    z_first = z_one[np.arange(m), first] if k_looks else np.full(m, np.nan)
    first_inside = (n_rep == 1) & (z_first < t80)[:, None]
    verdict = np.select(
        [
            ~has_interval[:, None] & np.ones((1, k_looks), dtype=bool),
            n_rep == 0,
            (sign == 0)[:, None] & np.ones((1, k_looks), dtype=bool),
            z_good >= boundary,
            z_bad >= boundary,
            first_inside,
            z_good >= t80[:, None],
        ],
        ["no_baseline", "too_early", "no_direction", "turned", "worsened", "too_early", "turning"],
        "not_turned",
    ).astype(object)
    return dict(evidence=z_good, evidence_worse=z_bad, n_reported=n_rep, boundary=boundary, verdict=verdict)


# --- one series, in words ------------------------------------------------------------------------------------
_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
_UNIT_WORDS = {"percentage": " points", "rate_per_10000": " per 10,000", "days": " days", "count": "", None: ""}


def _word(n: int) -> str:
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def _amount(x: float, unit: str | None) -> str:
    x = abs(x)
    text = f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 1 else f"{x:.2g}"
    return text + _UNIT_WORDS.get(unit, "")


def _quarters(n: int) -> str:
    return f"{_word(n).capitalize()} quarter" if n == 1 else f"{_word(n).capitalize()} quarters"


def curve_turned(
    baseline: Baseline,
    actuals,
    polarity: str,
    *,
    headline_actuals=None,
    actuals_include_history: bool = False,
    min_difference: float = 0.0,
    unit: str | None = None,
    looks: int = LOOKS,
) -> TurnResult:
    """Compare the quarters since an action plan started with the baseline frozen at its start.

    ``actuals`` are the quarters after the freeze, step 1 first (NaN: not reported): the quarters' own
    values for rolling 12-month and year-to-date headlines (what the test is on, as they are independent),
    the headline itself for flows and snapshots. ``headline_actuals`` (the headline over the same quarters)
    fill the comparison's headline columns for rolling and year-to-date headlines. With
    ``actuals_include_history=True`` pass whole series instead: the quarters after ``baseline.origin`` are
    taken. ``min_difference`` is the smallest difference per quarter that matters, in the indicator's units
    (``unit``: count, percentage, rate_per_10000 or days, for the wording). The verdict and its rule are in
    the module docstring; the sentence states the evidence. Actuals after the last forecast step are not
    compared (``n_beyond_horizon``).
    """
    if polarity not in POLARITIES:
        raise ValueError(f"polarity must be 'higher_better', 'lower_better' or 'context', not {polarity!r}")
    if not min_difference >= 0:
        raise ValueError(f"min_difference must be 0 or more, not {min_difference!r}")
    fc = baseline.forecast
    horizon = len(fc)

    def since(values) -> tuple[np.ndarray, int]:
        a = as_values(values)
        if actuals_include_history:
            a = a[baseline.origin + 1 :]
        out = np.full(horizon, np.nan)
        out[: min(horizon, a.size)] = a[:horizon]
        return out, int(np.isfinite(a[horizon:]).sum())

    act, beyond = since(actuals)
    if headline_actuals is not None:
        head = since(headline_actuals)[0]
    elif baseline.kind in ("flow", "snapshot"):
        head = act
    else:
        head = np.full(horizon, np.nan)

    qf = baseline.quarterly
    if qf is None:  # a Baseline made by hand: the headline is the quarter
        qf = fc.assign(sd=np.nan)
    cov = baseline.covariance if baseline.covariance is not None else np.full((horizon, horizon), np.nan)
    df = baseline.df if baseline.has_interval else np.nan
    ev = curve_evidence(qf["point"].to_numpy(dtype=float)[None], cov[None], np.array([df]), act[None], polarity,
                        min_difference=min_difference, looks=looks)
    sign = _SIGN[polarity]

    def assess(actual: np.ndarray, point: np.ndarray, tolerance: np.ndarray):
        diff = actual - point
        reported = np.isfinite(actual) & np.isfinite(point)
        same = reported & (np.abs(diff) <= tolerance)
        above = reported & ~same & (diff > 0)
        below = reported & ~same & (diff < 0)
        direction = np.where(~reported, "", np.where(same, "same", np.where(above, "above", "below")))
        if polarity == "context":
            assessment = np.where(reported, "no_direction", "not_reported")
        else:
            better = above if sign > 0 else below
            assessment = np.where(~reported, "not_reported",
                                  np.where(same, "same", np.where(better, "better", "worse")))
        return diff, reported, direction.astype(object), assessment.astype(object)

    point = fc["point"].to_numpy(dtype=float)
    h_diff, _, h_dir, h_assess = assess(head, point, 1e-9 * np.maximum(np.abs(point), 1.0))
    qpoint = qf["point"].to_numpy(dtype=float)
    q_diff, reported, q_dir, q_assess = assess(act, qpoint, min_difference + 1e-9 * np.maximum(np.abs(qpoint), 1.0))
    q_hi80, q_lo80 = qf["hi80"].to_numpy(dtype=float), qf["lo80"].to_numpy(dtype=float)
    q_hi95, q_lo95 = qf["hi95"].to_numpy(dtype=float), qf["lo95"].to_numpy(dtype=float)

    comparison = fc.copy()
    comparison["actual"] = head
    comparison["difference"] = h_diff
    comparison["direction"] = h_dir
    comparison["assessment"] = h_assess
    comparison["outside_80"] = (head > fc["hi80"].to_numpy()) | (head < fc["lo80"].to_numpy())
    comparison["outside_95"] = (head > fc["hi95"].to_numpy()) | (head < fc["lo95"].to_numpy())
    comparison["quarter_point"] = qpoint
    comparison["quarter_sd"] = qf["sd"].to_numpy(dtype=float)
    comparison["quarter_lo80"], comparison["quarter_hi80"] = q_lo80, q_hi80
    comparison["quarter_lo95"], comparison["quarter_hi95"] = q_lo95, q_hi95
    comparison["quarter_actual"] = act
    comparison["quarter_difference"] = q_diff
    comparison["quarter_assessment"] = q_assess
    comparison["quarter_outside_80"] = (act > q_hi80) | (act < q_lo80)
    comparison["evidence"] = ev["evidence"][0]
    comparison["boundary"] = ev["boundary"][0]
    comparison["look_verdict"] = ev["verdict"][0]
    comparison = comparison[COMPARISON_COLUMNS]

    hi80_out, lo80_out = act > q_hi80, act < q_lo80
    hi95_out, lo95_out = act > q_hi95, act < q_lo95
    good80, bad80 = (hi80_out, lo80_out) if sign > 0 else (lo80_out, hi80_out)
    good95, bad95 = (hi95_out, lo95_out) if sign > 0 else (lo95_out, hi95_out)
    if sign == 0:
        good80 = bad80 = good95 = bad95 = np.zeros(horizon, dtype=bool)
    n_compared = int(reported.sum())
    counts = dict(
        n_compared=n_compared,
        n_better=int((q_assess == "better").sum()),
        n_worse=int((q_assess == "worse").sum()),
        n_same=int((q_dir == "same").sum()),
        n_outside_80_good=int(good80.sum()),
        n_outside_80_bad=int(bad80.sum()),
        n_outside_95_good=int(good95.sum()),
        n_outside_95_bad=int(bad95.sum()),
        n_not_reported=int(horizon - n_compared),
        n_beyond_horizon=beyond,
    )
    verdict = str(ev["verdict"][0, -1])
    mean_diff = float(np.mean(q_diff[reported])) if n_compared else np.nan
    z = float(ev["evidence"][0, -1])
    c = float(ev["boundary"][0, -1])
    if baseline.method == "none":
        verdict = "no_baseline"
    extra = dict(mean_difference=mean_diff, evidence=z, boundary=c, min_difference=float(min_difference))
    sentence = _sentence(verdict, baseline, counts, mean_diff, z, float(ev["evidence_worse"][0, -1]), c,
                         polarity, unit, min_difference, reported, (act > q_hi80) | (act < q_lo80), act > qpoint)
    return TurnResult(verdict, sentence, polarity, comparison, **counts, **extra)


def _sentence(verdict, baseline, counts, mean_diff, z, z_bad, c, polarity, unit, min_difference, reported,
              outside80, above) -> str:
    n = counts["n_compared"]
    if baseline.method == "none":
        return "There was no baseline to compare with when the plan started."
    if not baseline.has_interval:
        return (f"The baseline frozen when the plan started rests on only {_word(baseline.n_points)} "
                f"quarter{'s' if baseline.n_points != 1 else ''}: too few for a forecast with an interval, so "
                "there is no yardstick to judge the curve against.")
    if n == 0:
        return ("No quarter has been reported since the plan started, so it is too early to say whether the "
                "curve has turned.")
    own = " (each quarter's own figures)" if baseline.kind in ("rolling_12m", "fytd") else ""
    head = f"{_quarters(n)} reported since the plan started{own}"
    if polarity == "context":
        n_above = int((reported & above).sum())
        n_out = int((reported & outside80).sum())
        word = "above" if mean_diff > 0 else "below"
        facts = (f"{head}: {_word(n_above)} above the baseline forecast and {_word(n - n_above)} not, "
                 f"{_word(n_out)} beyond its 80% band; on average {_amount(mean_diff, unit)} {word} it")
        return facts + ". This indicator has no better or worse direction."
    sign = _SIGN[polarity]
    better = counts["n_better"]
    g80, b80 = counts["n_outside_80_good"], counts["n_outside_80_bad"]
    if n == 1:
        state = ("better than" if better else "worse than" if counts["n_worse"] else "the same as")
        band = ", beyond its 80% band" if (g80 or b80) else ", inside its 80% band"
        facts = f"{head}: it was {state} the baseline forecast{band}"
    else:
        facts = f"{head}: {_word(better)} better than the baseline forecast"
        if better:
            facts += f", {_word(g80)} of them beyond its 80% band"
        if b80:
            facts += f"; {_word(b80)} beyond it on the worse side"
    oriented = sign * mean_diff
    if abs(oriented) <= 1e-12:
        facts += "; on average the same as forecast"
    else:
        facts += f"; on average {_amount(oriented, unit)} {'better' if oriented > 0 else 'worse'} than forecast"
    minimum = (f", counting only what goes beyond the {_amount(min_difference, unit)} a quarter that matters"
               if min_difference > 0 else "")
    if verdict == "turned":
        evidence = (f"The evidence, {z:.2f} standard errors on the better side{minimum}, passes the {c:.2f} "
                    "needed when the verdict is read every quarter. The curve has turned.")
    elif verdict == "worsened":
        evidence = (f"The evidence, {z_bad:.2f} standard errors on the worse side{minimum}, passes the {c:.2f} "
                    "needed when the verdict is read every quarter. The indicator is doing worse than the "
                    "baseline forecast.")
    elif verdict == "too_early":
        evidence = "One quarter inside the band is not evidence either way: it is too early to say."
    elif verdict == "turning":
        evidence = (f"The evidence so far, {z:.2f} standard errors on the better side{minimum}, is short of the "
                    f"{c:.2f} needed. It may be turning, but it is too soon to say the curve has turned.")
    else:
        evidence = (f"The evidence, {z:.2f} standard errors{minimum}, is short of the {c:.2f} needed on the "
                    "better side. The curve has not turned yet.")
    sentence = f"{facts}. {evidence}"
    latest = np.flatnonzero(reported)[-1]
    missing_between = int((~reported[: latest + 1]).sum())
    if missing_between:
        sentence += (f" {_word(missing_between).capitalize()} quarter{'s' if missing_between > 1 else ''} since "
                     f"the plan started {'were' if missing_between > 1 else 'was'} not reported.")
    return sentence

