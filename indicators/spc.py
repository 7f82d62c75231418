"""Statistical process control: NHS "Making Data Count" XmR charts.

An XmR chart (individuals and moving range) puts the latest value in the context of the series' own
variation. The mean and the process limits (mean ± 2.66 × average moving range) come from the data, and
four rules pick out *special-cause* variation, i.e. change unlikely to be chance:

* an **astronomical point**: a value outside the process limits;
* a **trend**: seven points in a row each strictly higher (or lower) than the one before;
* **two in three**: two of three consecutive points close to a limit (beyond the 2σ line), on one side;
* a **shift**: seven points in a row on the same side of the mean.

The method and its defaults are those of NHS England's Making Data Count programme as implemented by
the R package NHSRplotthedots 0.2.2 (``ptd_spc_standard``, ``ptd_calculate_point_type``,
``ptd_calculate_assurance_type``); the contract it implements is the project's shared SPC
specification (the user-facing summary is ``docs/spc.md``). With no missing values the default results
agree with that package point for point, including R's way of averaging (see :func:`_r_mean`).

Missing values: a NaN is a period with no figure. It is left out of every calculation, as if the period
were absent (the moving range bridges the gap, runs continue across it, it does not count towards
``fix_after_n_points`` or the 13 points needed for firm limits), and its row gets ``point_type`` None.
NHSRplotthedots keeps the gap in place instead (the two moving ranges next to it are dropped and the
missing value propagates into the rules); gaps are the one deliberate departure from it.

Two entry points compute the same thing: :func:`xmr` for one series and :func:`xmr_frame` for many at
once (vectorised over series; both run through the same engine). The rules are small pure functions over
"observed points of one or more segments laid end to end", so each can be tested on its own.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "ASSURANCE_TYPES",
    "CHART_TYPES",
    "IMPROVEMENT_DIRECTIONS",
    "MATERIAL_DENOMINATOR_VARIATION",
    "MDC_COLOURS",
    "POINT_COLUMNS",
    "POINT_TYPES",
    "RULES",
    "XmRFrameResult",
    "XmRResult",
    "assurance_type",
    "close_to_limits",
    "denominators_vary",
    "describe_rule",
    "label_points",
    "outside_limits",
    "point_types",
    "relative_to_mean",
    "shift_points",
    "trend_direction",
    "trend_points",
    "two_in_three_points",
    "xmr",
    "xmr_frame",
]

# --- constants of the method ------------------------------------------------------------------------
LIMIT_FACTOR = 2.66
"""Process limits sit 2.66 average moving ranges from the mean (3σ, as 2.66 = 3 / d2 with d2 = 1.128)."""
TWO_SIGMA_FACTOR = 2 * (LIMIT_FACTOR / 3)
"""The "close to a limit" lines; written in this order so the float matches NHSRplotthedots bit for bit."""
D2 = 1.128
"""The bias-correction constant d2 for moving ranges of two points (σ ≈ average moving range / 1.128)."""
SCREEN_FACTOR = 3.267
"""Moving ranges at or above 3.267 × their average (the upper range limit, D4) are screened out."""
TRIAL_LIMIT_POINTS = 13
"""A segment with fewer points than this has trial limits."""
MIN_FIXED_BASELINE = 12
"""The smallest baseline ``fix_after_n_points`` accepts."""

CHART_TYPES = ("xmr", "p_prime", "u_prime", "run")
"""What a chart draws: an XmR chart (Making Data Count's default), Laney's p′ chart for a percentage or u′ chart
for a rate whose denominators vary materially (limits point by point), or a run chart (values and their median,
no special-cause rules) for a series whose points are not independent."""
_XMR, _P_PRIME, _U_PRIME, _RUN = range(4)
_CHART_CODE = {name: code for code, name in enumerate(CHART_TYPES)}
MATERIAL_DENOMINATOR_VARIATION = 0.25
"""Denominators vary materially when one lies more than 25% above or below their average: the rule of thumb
for when a p chart's limits from the average sample size stop being adequate (Montgomery, *Introduction to
Statistical Quality Control*, ch. 7), used here to switch from XmR to Laney's p′/u′."""

IMPROVEMENT_DIRECTIONS = ("increase", "decrease", "neutral")
_IMPROVEMENT_SIGN = {"increase": 1, "decrease": -1, "neutral": 0}

RULES = ("astronomical", "trend", "two_in_three", "shift")
"""Rule names in order of precedence: a point flagged by several rules is labelled with the first."""
_RULE_NAMES = np.array([None, *RULES], dtype=object)  # code 0 is "no rule"

POINT_TYPES = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)
_POINT_TYPE_NAMES = np.array([None, *POINT_TYPES], dtype=object)  # code 0 is "no value"

ASSURANCE_TYPES = ("consistent_pass", "consistent_fail", "inconsistent")
_ASSURANCE_NAMES = np.array([None, *ASSURANCE_TYPES], dtype=object)

POINT_COLUMNS = (
    "segment",
    "mean",
    "lpl",
    "upl",
    "lower_2sigma",
    "upper_2sigma",
    "trial_limits",
    "special_cause",
    "rule",
    "direction",
    "point_type",
)
"""Columns :func:`xmr_frame` adds to each row (``xmr`` returns them too, after ``value``)."""

# The colours of NHS England's Making Data Count icons; the dashboard draws with these.
MDC_COLOURS = {
    "improvement": "#00B0F0",
    "concern": "#E46C0A",
    "neutral": "#490092",
    "common_cause": "#A6A6A6",
}


# --- options, validated in one place ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Options:
    fix_after_n_points: int | None
    screen_outliers: bool
    shift_length: int
    trend_length: int
    two_in_three_includes_beyond: bool


def _is_whole(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _check_improvement(improvement: Any, name: str = "improvement") -> str:
    if not isinstance(improvement, str) or improvement not in _IMPROVEMENT_SIGN:
        allowed = ", ".join(repr(d) for d in IMPROVEMENT_DIRECTIONS)
        raise ValueError(f"{name} must be one of {allowed}; got {improvement!r}")
    return str(improvement)


def _check_target(target: Any, name: str = "target") -> float:
    """A target is one finite number; None or NaN means there is no target (NaN as in a target column)."""
    if target is None:
        return float("nan")
    if isinstance(target, bool) or not isinstance(target, numbers.Real):
        raise ValueError(f"{name} must be a single number or None; got {target!r}")
    value = float(target)
    if np.isinf(value):
        raise ValueError(f"{name} must be finite; got {target!r}")
    return value


def _check_options(
    fix_after_n_points: Any,
    screen_outliers: Any,
    shift_length: Any,
    trend_length: Any,
    two_in_three_includes_beyond: Any,
) -> _Options:
    if fix_after_n_points is not None and (
        not _is_whole(fix_after_n_points) or fix_after_n_points < MIN_FIXED_BASELINE
    ):
        raise ValueError(
            f"fix_after_n_points must be a whole number of at least {MIN_FIXED_BASELINE}, or None "
            f"(limits from every point of the segment); got {fix_after_n_points!r}"
        )
    for name, flag in (
        ("screen_outliers", screen_outliers),
        ("two_in_three_includes_beyond", two_in_three_includes_beyond),
    ):
        if not isinstance(flag, bool | np.bool_):
            raise ValueError(f"{name} must be True or False; got {flag!r}")
    for name, length in (("shift_length", shift_length), ("trend_length", trend_length)):
        if not _is_whole(length) or length < 2:
            raise ValueError(f"{name} must be a whole number of points, at least 2; got {length!r}")
    return _Options(
        fix_after_n_points=None if fix_after_n_points is None else int(fix_after_n_points),
        screen_outliers=bool(screen_outliers),
        shift_length=int(shift_length),
        trend_length=int(trend_length),
        two_in_three_includes_beyond=bool(two_in_three_includes_beyond),
    )


def _check_values(values: Any, name: str = "values") -> np.ndarray:
    try:
        if isinstance(values, pd.Series | pd.Index):
            array = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers (NaN or None for a missing period): {exc}") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be one number per period (one-dimensional); got shape {array.shape}")
    infinite = np.flatnonzero(np.isinf(array))
    if infinite.size:
        raise ValueError(
            f"{name} must be finite (use NaN for a missing period); found {array[infinite[0]]} "
            f"at position {infinite[0]}"
        )
    return array


def _check_chart(chart: Any, name: str = "chart") -> int:
    if not isinstance(chart, str) or chart not in _CHART_CODE:
        allowed = ", ".join(repr(c) for c in CHART_TYPES)
        raise ValueError(f"{name} must be one of {allowed}; got {chart!r}")
    return _CHART_CODE[chart]


def _check_scale(scale: Any) -> float:
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number (100 for percentages, 10000 per 10,000); got {scale!r}")
    return float(scale)


def _check_denominators(denominators: Any, n: int, chart_code: int) -> np.ndarray:
    if denominators is None:
        if chart_code in (_P_PRIME, _U_PRIME):
            raise ValueError("Laney's p′ and u′ charts need the denominators of the values")
        return np.full(n, np.nan)
    dens = _check_values(denominators, name="denominators")
    if dens.size != n:
        raise ValueError(f"denominators must be one per value ({n}); got {dens.size}")
    return dens


def _check_rebase(rebase: Any, n: int) -> np.ndarray:
    """Rebase positions as a boolean "starts a segment" mask over the n periods."""
    if rebase is None:
        rebase = ()
    if isinstance(rebase, numbers.Integral) and not isinstance(rebase, bool):
        rebase = (rebase,)
    flags = np.zeros(n, dtype=bool)
    try:
        positions = list(rebase)
    except TypeError:
        raise ValueError(f"rebase must be a list of 0-based positions; got {rebase!r}") from None
    for position in positions:
        if not _is_whole(position) or not 0 <= position < n:
            raise ValueError(
                f"rebase positions must be whole numbers from 0 to {n - 1} (0-based, one per period); "
                f"got {position!r}"
            )
        flags[int(position)] = True
    return flags


# --- R's mean --------------------------------------------------------------------------------------
def _r_mean(
    values: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    include: np.ndarray,
    by_position: Sequence[np.ndarray],
) -> np.ndarray:
    """Mean of ``values[include]`` per group, computed the way R's ``mean()`` computes it.

    R (``real_mean`` in ``src/main/summary.c``) adds the values in order in long double, divides by n,
    then adds the mean of the residuals, also in long double, before rounding to double once. A plain
    float64 or pairwise sum can differ in the last bit, and a point "exactly on the mean" must be exactly
    on it in both implementations. ``by_position[k]`` holds the indices whose position inside their group
    is k, so each step adds at most one value per group, in period order, for all groups at once.
    Groups with nothing included get NaN.
    """
    count = np.bincount(group[include], minlength=n_groups)
    chunks = [ix[include[ix]] for ix in by_position]
    total = np.zeros(n_groups, dtype=np.longdouble)
    for ix in chunks:
        total[group[ix]] += values[ix]
    with np.errstate(invalid="ignore", divide="ignore"):
        n = count.astype(np.longdouble)
        mean = total / n
        residual = np.zeros(n_groups, dtype=np.longdouble)
        for ix in chunks:
            g = group[ix]
            residual[g] += values[ix] - mean[g]
        mean = mean + residual / n
    out = mean.astype(np.float64)
    out[count == 0] = np.nan
    return out


# --- which chart ----------------------------------------------------------------------------------
def denominators_vary(denominators: Iterable[float] | np.ndarray) -> bool:
    """True when a series' denominators vary materially: one lies more than
    :data:`MATERIAL_DENOMINATOR_VARIATION` (25%) above or below their average (missing ones ignored).

    Then an XmR chart's constant limits mislead (small denominators scatter more), and a percentage or rate
    is charted with Laney's p′ or u′ chart instead, whose limits follow each point's denominator.
    """
    n = _check_values(denominators, name="denominators")
    n = n[np.isfinite(n) & (n > 0)]
    if n.size < 2:
        return False
    return bool(np.max(np.abs(n - n.mean())) > MATERIAL_DENOMINATOR_VARIATION * n.mean())


# --- per-point primitives --------------------------------------------------------------------------
def outside_limits(values: np.ndarray, lpl: np.ndarray, upl: np.ndarray) -> np.ndarray:
    """Astronomical points: strictly above the upper or below the lower process limit.

    A point exactly on a limit is inside; undefined (NaN) limits flag nothing.
    """
    return (values > upl) | (values < lpl)


def relative_to_mean(values: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """+1 above the mean, -1 below, 0 exactly on it (which is what breaks a shift)."""
    return np.sign(values - mean).astype(np.int8)


def close_to_limits(
    values: np.ndarray,
    lower_2sigma: np.ndarray,
    upper_2sigma: np.ndarray,
    outside: np.ndarray,
    include_beyond: bool = False,
) -> np.ndarray:
    """Points beyond a 2σ line, for the two-in-three rule.

    NHSRplotthedots 0.2.2 counts only points between the 2σ line and the limit; the MDC tools since
    November 2023 also count points beyond the limit (``include_beyond=True``).
    """
    beyond_2sigma = (values > upper_2sigma) | (values < lower_2sigma)
    return beyond_2sigma if include_beyond else beyond_2sigma & ~outside


# --- the rules -------------------------------------------------------------------------------------
# Each rule takes the observed points of one or more segments laid end to end in period order, with
# ``segment_start`` marking the first point of each segment, so no run or window crosses a boundary.


def _run_lengths(breaks: np.ndarray) -> np.ndarray:
    """For each point, the length of the run it belongs to; ``breaks`` marks where a run starts."""
    run = np.cumsum(breaks) - 1
    return np.bincount(run)[run] if run.size else np.zeros(0, dtype=np.intp)


def shift_points(side: np.ndarray, segment_start: np.ndarray, run_length: int = 7) -> np.ndarray:
    """Points in a run of at least ``run_length`` consecutive points on the same side of the mean.

    A point exactly on the mean (side 0) belongs to no run and so ends one.
    """
    breaks = segment_start.copy()
    breaks[1:] |= side[1:] != side[:-1]
    return (side != 0) & (_run_lengths(breaks) >= run_length)


def _steps(values: np.ndarray, segment_start: np.ndarray) -> np.ndarray:
    """Sign of the change into each point from the previous one; 0 at a segment's first point."""
    step = np.zeros(values.size, dtype=np.int8)
    step[1:] = np.sign(values[1:] - values[:-1])
    step[segment_start] = 0
    return step


def trend_points(values: np.ndarray, segment_start: np.ndarray, run_length: int = 7) -> np.ndarray:
    """Points in a run of at least ``run_length`` points each strictly above (or below) the one before.

    A run of k points is k - 1 consecutive steps of one sign; a tie (step 0) ends it. The mean plays no
    part, so a trend may cross it.
    """
    step = _steps(values, segment_start)
    breaks = segment_start.copy()
    breaks[1:] |= step[1:] != step[:-1]
    long_step = (step != 0) & (_run_lengths(breaks) >= run_length - 1)
    # a step joins two points: the one it arrives at and the one it leaves
    flagged = long_step.copy()
    flagged[:-1] |= long_step[1:]
    return flagged


def trend_direction(values: np.ndarray, trend: np.ndarray, segment_start: np.ndarray) -> np.ndarray:
    """+1 (increasing) or -1 (decreasing) for each trend point, 0 elsewhere.

    As in NHSRplotthedots: when the next point is also a trend point, the sign of the step to it;
    otherwise the sign of the step from the previous point. Anything but a rise counts as decreasing,
    so a tie at the end of a run reads as decreasing, as it does in the R package.
    """
    step_in = _steps(values, segment_start)
    step_out = np.zeros_like(step_in)
    step_out[:-1] = step_in[1:]
    next_in_trend = np.zeros_like(trend)
    next_in_trend[:-1] = trend[1:] & ~segment_start[1:]
    step = np.where(trend & next_in_trend, step_out, step_in)
    return np.where(trend, np.where(step == 1, 1, -1), 0).astype(np.int8)


def two_in_three_points(close: np.ndarray, side: np.ndarray, segment_start: np.ndarray) -> np.ndarray:
    """Close points in a window of three consecutive points with two or more close, all on one side.

    Windows lie inside a segment and may look ahead: a close point is flagged if it sits in any
    qualifying window, including the windows that start at it or at the point before it.
    """
    m = close.size
    window = np.zeros(m, dtype=bool)  # window[j]: the window j, j+1, j+2 qualifies
    if m >= 3:
        inside_segment = ~segment_start[1:-1] & ~segment_start[2:]
        n_close = close[:-2].astype(np.int8) + close[1:-1] + close[2:]
        one_side = (side[:-2] != 0) & (side[:-2] == side[1:-1]) & (side[1:-1] == side[2:])
        window[:-2] = inside_segment & (n_close >= 2) & one_side
    in_window = window.copy()
    in_window[1:] |= window[:-1]
    in_window[2:] |= window[:-2]
    return close & in_window


def label_points(
    outside: np.ndarray,
    trend: np.ndarray,
    two_in_three: np.ndarray,
    shift: np.ndarray,
    side: np.ndarray,
    trend_dir: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The rule that labels each point (first match wins) and its direction v.

    Precedence: astronomical, trend, two in three, shift. Returns rule codes (0 none, 1..4 in
    :data:`RULES` order) and v (+1 above/increasing, -1 below/decreasing, 0 common cause).
    """
    rule = np.select([outside, trend, two_in_three, shift], [1, 2, 3, 4], 0).astype(np.int8)
    above_or_below = np.where(side > 0, 1, -1)
    v = np.select([rule == 2, rule > 0], [trend_dir, above_or_below], 0).astype(np.int8)
    return rule, v


def point_types(v: np.ndarray, improvement_sign: np.ndarray | int) -> np.ndarray:
    """Point type codes (1..5 in :data:`POINT_TYPES` order) from v and the improvement direction.

    ``improvement_sign`` is +1 (increase is better), -1 (decrease is better) or 0 (neutral).
    """
    oriented = v * np.asarray(improvement_sign)
    neutral = np.asarray(improvement_sign) == 0
    return np.select(
        [neutral & (v > 0), neutral & (v < 0), ~neutral & (oriented > 0), ~neutral & (oriented < 0)],
        [4, 5, 2, 3],
        1,
    ).astype(np.int8)


def assurance_type(
    target: np.ndarray, lpl: np.ndarray, upl: np.ndarray, improvement_sign: np.ndarray
) -> np.ndarray:
    """Assurance codes (0 none, 1..3 in :data:`ASSURANCE_TYPES` order) from the latest limits.

    A target beyond the upper limit is consistently failed when higher is better (every likely value
    falls short) and consistently passed when lower is better; beyond the lower limit, the reverse.
    A target on or between the limits, or undefined limits, is "inconsistent" (hit and miss). No target
    (NaN) or a neutral direction gives no assurance.
    """
    target, lpl, upl, sign = np.broadcast_arrays(target, lpl, upl, improvement_sign)
    above, below = target > upl, target < lpl
    good_side = np.select(
        [above & (sign > 0), above & (sign < 0), below & (sign > 0), below & (sign < 0)], [2, 1, 1, 2], 3
    )
    return np.where(np.isnan(target) | (sign == 0), 0, good_side).astype(np.int8)


# --- the engine ------------------------------------------------------------------------------------
def _xmr_engine(
    values: np.ndarray,
    series: np.ndarray,
    n_series: int,
    rebase: np.ndarray,
    improvement_sign: np.ndarray,
    target: np.ndarray,
    options: _Options,
    chart: np.ndarray | None = None,
    denominator: np.ndarray | None = None,
    scale: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """SPC for rows sorted by series then period; returns per-row and per-series arrays.

    ``series`` holds codes 0..n_series-1 in non-decreasing order, each present; ``rebase`` marks rows
    that start a new segment; ``improvement_sign`` and ``target`` are per series. ``chart`` (per series,
    codes into :data:`CHART_TYPES`, default XmR), ``denominator`` (per row) and ``scale`` (per series: 100
    for percentages, 10,000 for rates per 10,000, 1 for proportions) serve the Laney p′ and u′ charts.
    """
    n = values.size
    first_of_series = np.ones(n, dtype=bool)
    first_of_series[1:] = series[1:] != series[:-1]
    starts = first_of_series | rebase
    segment_of_row = np.cumsum(starts) - 1
    n_segments = int(starts.sum())
    segment_number = segment_of_row - segment_of_row[first_of_series][series]
    segment_series = series[starts]

    # Everything below works on the observed points only: a missing period is as if absent.
    observed = np.flatnonzero(~np.isnan(values))
    x = values[observed]
    seg = segment_of_row[observed]
    seg_size = np.bincount(seg, minlength=n_segments)
    first_in_x = np.cumsum(seg_size) - seg_size
    position = np.arange(x.size) - first_in_x[seg]
    segment_start = position == 0
    order = np.argsort(position, kind="stable")
    by_position = np.split(order, np.cumsum(np.bincount(position))[:-1]) if x.size else []

    # Mean, moving ranges and limits from the baseline (the first N points, or all of them).
    baseline = position < (options.fix_after_n_points or np.iinfo(np.intp).max)
    mean = _r_mean(x, seg, n_segments, baseline, by_position)
    moving_range = np.full(x.size, np.nan)
    moving_range[1:] = np.abs(x[1:] - x[:-1])
    has_range = baseline & ~segment_start
    amr = _r_mean(moving_range, seg, n_segments, has_range, by_position)
    if options.screen_outliers:
        # a single pass; the mean is not recomputed. All ranges 0 keeps none: amr undefined.
        with np.errstate(invalid="ignore"):
            kept = has_range & (moving_range < SCREEN_FACTOR * amr[seg])
        amr = _r_mean(moving_range, seg, n_segments, kept, by_position)
    lpl = mean - LIMIT_FACTOR * amr
    upl = mean + LIMIT_FACTOR * amr
    lower_2sigma = mean - TWO_SIGMA_FACTOR * amr
    upper_2sigma = mean + TWO_SIGMA_FACTOR * amr
    trial = seg_size < TRIAL_LIMIT_POINTS

    # Per observed point: the centre line and the limits (constant within a segment for XmR).
    seg_chart = (np.zeros(n_series, dtype=np.int8) if chart is None else chart)[segment_series]
    point_chart = seg_chart[seg]
    centre = mean.copy()
    pt = {"lpl": lpl[seg], "upl": upl[seg], "lower_2sigma": lower_2sigma[seg], "upper_2sigma": upper_2sigma[seg]}
    laney = (point_chart == _P_PRIME) | (point_chart == _U_PRIME)
    if laney.any():
        centre, sigma = _laney_sigma(
            x, seg, n_segments, baseline, segment_start, laney, point_chart,
            denominator[observed], scale[series][observed], centre,
        )
        for name, k in (("lpl", -3.0), ("upl", 3.0), ("lower_2sigma", -2.0), ("upper_2sigma", 2.0)):
            pt[name] = np.where(laney, centre[seg] + k * sigma, pt[name])
    run = point_chart == _RUN
    if run.any():
        centre = _segment_median(x, seg, n_segments, baseline & run, centre)
        for name in pt:
            pt[name] = np.where(run, np.nan, pt[name])
        trial = trial & (seg_chart != _RUN)

    # The rules, on the raw values, inside each segment.
    with np.errstate(invalid="ignore"):
        outside = outside_limits(x, pt["lpl"], pt["upl"])
        close = close_to_limits(
            x, pt["lower_2sigma"], pt["upper_2sigma"], outside, options.two_in_three_includes_beyond
        )
    side = relative_to_mean(x, centre[seg])
    trend = trend_points(x, segment_start, options.trend_length)
    rule, v = label_points(
        outside,
        trend,
        two_in_three_points(close, side, segment_start),
        shift_points(side, segment_start, options.shift_length),
        side,
        trend_direction(x, trend, segment_start),
    )
    x_series = series[observed]
    kind = point_types(v, improvement_sign[x_series])
    # a run chart shows the values and their median without special-cause rules: no signal, no point type
    rule[run] = 0
    v[run] = 0
    kind[run] = 0

    rows = {
        "segment": segment_number,
        "mean": centre[segment_of_row],
        "lpl": lpl[segment_of_row],
        "upl": upl[segment_of_row],
        "lower_2sigma": lower_2sigma[segment_of_row],
        "upper_2sigma": upper_2sigma[segment_of_row],
        "trial_limits": trial[segment_of_row],
        "special_cause": np.zeros(n, dtype=bool),
        "rule": np.zeros(n, dtype=np.int8),
        "direction": np.zeros(n, dtype=np.int8),
        "point_type": np.zeros(n, dtype=np.int8),
    }
    row_chart = seg_chart[segment_of_row]
    for name in pt:
        # point-by-point limits (Laney) exist only where there is a point; a run chart has none
        rows[name] = np.where(row_chart == _XMR, rows[name], np.nan)
        rows[name][observed] = pt[name]
    rows["special_cause"][observed] = rule > 0
    rows["rule"][observed] = rule
    rows["direction"][observed] = v
    rows["point_type"][observed] = kind

    # The icons describe each series' latest observed point and the segment it is in.
    last_of_series = np.ones(x.size, dtype=bool)
    last_of_series[:-1] = x_series[:-1] != x_series[1:]
    latest_row = np.full(n_series, -1)
    latest_row[x_series[last_of_series]] = observed[last_of_series]
    has_latest = latest_row >= 0
    latest_seg = np.where(has_latest, segment_of_row[latest_row], 0)
    latest_kind = np.where(has_latest, rows["point_type"][latest_row], 0)
    # the limits the icons judge: the latest segment's (for a Laney chart, the latest point's own)
    latest_lpl = np.where(has_latest, rows["lpl"][np.maximum(latest_row, 0)], np.nan)
    latest_upl = np.where(has_latest, rows["upl"][np.maximum(latest_row, 0)], np.nan)
    with np.errstate(invalid="ignore"):
        assurance = assurance_type(target, latest_lpl, latest_upl, improvement_sign)
    series_chart = np.zeros(n_series, dtype=np.int8) if chart is None else chart
    assurance = np.where(series_chart == _RUN, 0, assurance)
    summary = {
        "latest_row": latest_row,
        "n_points": np.bincount(x_series, minlength=n_series),
        "n_segments": np.bincount(segment_series, minlength=n_series),
        "variation": latest_kind,
        "assurance": np.where(has_latest, assurance, 0),
        "trial_limits": np.where(has_latest, trial[latest_seg], True),
        "mean": np.where(has_latest, centre[latest_seg], np.nan),
        "lpl": latest_lpl,
        "upl": latest_upl,
    }
    return rows, summary


def _laney_sigma(
    x: np.ndarray,
    seg: np.ndarray,
    n_segments: int,
    baseline: np.ndarray,
    segment_start: np.ndarray,
    laney: np.ndarray,
    point_chart: np.ndarray,
    n: np.ndarray,
    scale: np.ndarray,
    centre: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Laney p′ / u′: the centre line per segment and each point's sigma (σ_i · σ_z), on the value's scale.

    Laney (2002), Quality Engineering 14(4):531-537: p̄ = Σx / Σn over the segment's baseline, the binomial
    (p′) or Poisson (u′) sigma of each point σ_i = sqrt(p̄(1 − p̄) / n_i) or sqrt(ū / n_i), z_i = (p_i − p̄) / σ_i,
    and σ_z = the average moving range of the z-scores / 1.128. σ_z = 1 gives the classic p (u) chart; σ_z > 1
    widens the limits for the extra-binomial variation large denominators reveal. Points without a usable
    denominator get no limits.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = laney & np.isfinite(n) & (n > 0)
        use = valid & baseline
        counts = np.where(use, x * n / scale, 0.0)
        totals = np.bincount(seg, weights=np.where(use, n, 0.0), minlength=n_segments)
        pbar = np.bincount(seg, weights=counts, minlength=n_segments) * 1.0
        pbar = np.where(totals > 0, pbar / totals, np.nan)  # as a proportion (or rate per unit)
        centre = np.where(np.bincount(seg, weights=use.astype(float), minlength=n_segments) > 0,
                          pbar * _seg_first(scale, seg, n_segments), centre)
        q = pbar[seg]
        unit_var = np.where(point_chart == _P_PRIME, q * (1.0 - q), q)
        sigma_i = np.where(valid, scale * np.sqrt(unit_var / n), np.nan)
        sigma_i = np.where(sigma_i > 0, sigma_i, np.nan)
        z = (x - centre[seg]) / sigma_i
        mr = np.full(x.size, np.nan)
        mr[1:] = np.abs(z[1:] - z[:-1])
        has_mr = use & ~segment_start & np.isfinite(mr)
        has_mr[1:] &= use[:-1]
        n_mr = np.bincount(seg, weights=has_mr.astype(float), minlength=n_segments)
        sigma_z = np.bincount(seg, weights=np.where(has_mr, mr, 0.0), minlength=n_segments)
        sigma_z = np.where(n_mr > 0, sigma_z / n_mr / D2, np.nan)
    return centre, sigma_i * sigma_z[seg]


def _seg_first(per_point: np.ndarray, seg: np.ndarray, n_segments: int) -> np.ndarray:
    """A per-point quantity that is constant within a segment, as one value per segment (NaN if empty)."""
    out = np.full(n_segments, np.nan)
    out[seg[::-1]] = per_point[::-1]
    return out


def _segment_median(x: np.ndarray, seg: np.ndarray, n_segments: int, use: np.ndarray,
                    centre: np.ndarray) -> np.ndarray:
    """The median of the points ``use`` marks, per segment (the centre line of a run chart)."""
    out = centre.copy()
    if use.any():
        med = pd.Series(x[use]).groupby(seg[use]).median()
        out[med.index.to_numpy()] = med.to_numpy()
    return out


def _named(codes: np.ndarray, names: np.ndarray) -> np.ndarray:
    return names[codes]


def _empty_rows() -> dict[str, np.ndarray]:
    floats = ("mean", "lpl", "upl", "lower_2sigma", "upper_2sigma")
    bools = ("trial_limits", "special_cause")
    return {
        c: np.zeros(0, dtype=float if c in floats else bool if c in bools else np.int8) for c in POINT_COLUMNS
    }


def _row_columns(rows: dict[str, np.ndarray], index: pd.Index) -> dict[str, pd.Series]:
    out: dict[str, pd.Series] = {}
    for column in POINT_COLUMNS:
        data = rows[column]
        if column == "rule":
            out[column] = pd.Series(_named(data, _RULE_NAMES), index=index, dtype=object)
        elif column == "point_type":
            out[column] = pd.Series(_named(data, _POINT_TYPE_NAMES), index=index, dtype=object)
        elif column in ("segment", "direction"):
            out[column] = pd.Series(data.astype(np.int64), index=index)
        else:
            out[column] = pd.Series(data, index=index)
    return out


# --- one series ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class XmRResult:
    """An XmR chart of one series.

    ``points`` has one row per input value, in input order (the index of a pandas Series input is
    kept): ``value`` then :data:`POINT_COLUMNS`. ``variation`` is the point type of the latest observed
    point (None if there is none); ``assurance`` compares the target with the latest segment's limits;
    ``trial_limits`` is True when the latest segment has fewer than 13 observed points.
    """

    points: pd.DataFrame
    variation: str | None
    assurance: str | None
    trial_limits: bool
    improvement: str
    target: float | None
    latest_position: int | None
    """0-based position of the point the icons describe (the last non-missing value)."""

    @property
    def latest(self) -> pd.Series | None:
        """The row of the point the icons describe."""
        return None if self.latest_position is None else self.points.iloc[self.latest_position]


def xmr(
    values: Iterable[float] | pd.Series | np.ndarray,
    improvement: str = "increase",
    target: float | None = None,
    rebase: Iterable[int] = (),
    fix_after_n_points: int | None = None,
    screen_outliers: bool = True,
    *,
    shift_length: int = 7,
    trend_length: int = 7,
    two_in_three_includes_beyond: bool = False,
    chart: str = "xmr",
    denominators: Iterable[float] | np.ndarray | None = None,
    scale: float = 1.0,
) -> XmRResult:
    """The Making Data Count XmR chart of one series of values in period order.

    ``improvement``: "increase", "decrease" (which way is better) or "neutral". ``target``: one number
    or None. ``rebase``: 0-based positions that each start a new segment with its own mean and limits.
    ``fix_after_n_points``: compute each segment's limits from its first N (≥ 12) points only.
    ``screen_outliers``: drop moving ranges ≥ 3.267 × their average before the limits. NaN values are
    missing periods (see the module docstring). Defaults reproduce NHSRplotthedots 0.2.2.

    ``chart``: "xmr" (default), "p_prime" or "u_prime" (Laney's charts for a percentage or rate with
    varying ``denominators``, the values on a ``scale`` of 100 or 10,000 per unit; limits point by point,
    the same rules), or "run" (the values and their median, no special-cause rules and no icons).
    """
    improvement = _check_improvement(improvement)
    target_value = _check_target(target)
    options = _check_options(
        fix_after_n_points, screen_outliers, shift_length, trend_length, two_in_three_includes_beyond
    )
    array = _check_values(values)
    chart_code = _check_chart(chart)
    dens = _check_denominators(denominators, array.size, chart_code)
    scale_value = _check_scale(scale)
    flags = _check_rebase(rebase, array.size)
    index = values.index if isinstance(values, pd.Series) else pd.RangeIndex(array.size)
    if array.size == 0:
        empty = {"value": pd.Series(array, index=index)}
        empty.update(_row_columns(_empty_rows(), index))
        return XmRResult(
            pd.DataFrame(empty),
            None,
            None,
            True,
            improvement,
            None if np.isnan(target_value) else target_value,
            None,
        )

    rows, summary = _xmr_engine(
        array,
        np.zeros(array.size, dtype=np.intp),
        1,
        flags,
        np.array([_IMPROVEMENT_SIGN[improvement]]),
        np.array([target_value]),
        options,
        np.array([chart_code], dtype=np.int8),
        dens,
        np.array([scale_value]),
    )
    points = pd.DataFrame({"value": pd.Series(array, index=index), **_row_columns(rows, index)})
    latest = int(summary["latest_row"][0])
    return XmRResult(
        points=points,
        variation=_POINT_TYPE_NAMES[summary["variation"][0]],
        assurance=_ASSURANCE_NAMES[summary["assurance"][0]],
        trial_limits=bool(summary["trial_limits"][0]),
        improvement=improvement,
        target=None if np.isnan(target_value) else target_value,
        latest_position=latest if latest >= 0 else None,
    )


# --- many series -----------------------------------------------------------------------------------
class XmRFrameResult(NamedTuple):
    """What :func:`xmr_frame` returns; unpack it as ``points, series = xmr_frame(...)``.

    ``points``: the input frame (same index and row order) with :data:`POINT_COLUMNS` added.
    ``series``: one row per series, sorted by the ``by`` columns: the ``by`` columns, ``improvement``,
    ``target``, ``n_points`` (observed), ``n_segments``, ``latest_<order>`` (the period the icons
    describe), ``variation``, ``assurance``, ``trial_limits`` and the latest segment's ``mean``, ``lpl``
    and ``upl``.
    """

    points: pd.DataFrame
    series: pd.DataFrame


def _constant_per_series(column: np.ndarray, series: np.ndarray, name: str, keys: pd.DataFrame) -> None:
    same_series = series[1:] == series[:-1]
    differs = column[1:] != column[:-1]
    if column.dtype.kind == "f":
        differs &= ~(np.isnan(column[1:]) & np.isnan(column[:-1]))
    bad = np.flatnonzero(same_series & differs)
    if bad.size:
        key = keys.iloc[series[bad[0]]].to_dict() if len(keys.columns) else "the only series"
        raise ValueError(f"{name} must be the same for every row of a series; it varies in {key}")


def xmr_frame(
    df: pd.DataFrame,
    by: str | Sequence[str] = (),
    order: str = "period",
    value: str = "value",
    improvement: str | None = None,
    improvement_col: str | None = None,
    target: float | None = None,
    target_col: str | None = None,
    rebase_col: str | None = None,
    fix_after_n_points: int | None = None,
    screen_outliers: bool = True,
    *,
    shift_length: int = 7,
    trend_length: int = 7,
    two_in_three_includes_beyond: bool = False,
    chart: str | None = None,
    chart_col: str | None = None,
    denominator_col: str | None = None,
    scale: float | None = None,
    scale_col: str | None = None,
) -> XmRFrameResult:
    """XmR charts of many series at once, vectorised over series; the same results as :func:`xmr`.

    A series is the rows sharing the ``by`` columns (none: the whole frame is one series), put in period
    order by the ``order`` column (any sortable values, unique within a series). Improvement direction
    and target are either one value for all (``improvement``, ``target``) or a column constant within each
    series (``improvement_col``, ``target_col``; NaN target = none). ``rebase_col`` is a boolean column,
    True on the rows that start a new segment. ``value`` NaN marks a missing period. ``chart`` or
    ``chart_col`` (constant within a series) chooses the chart (see :func:`xmr`); Laney's charts read the
    denominators from ``denominator_col`` and the values' scale from ``scale`` or ``scale_col``.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df must be a pandas DataFrame; got {type(df).__name__}")
    by = [by] if isinstance(by, str) else list(by)
    if improvement is not None and improvement_col is not None:
        raise ValueError("give improvement or improvement_col, not both")
    if target is not None and target_col is not None:
        raise ValueError("give target or target_col, not both")
    named = {"by": by, "order": [order], "value": [value]}
    for arg, column in (
        ("improvement_col", improvement_col),
        ("target_col", target_col),
        ("rebase_col", rebase_col),
        ("chart_col", chart_col),
        ("denominator_col", denominator_col),
        ("scale_col", scale_col),
    ):
        if column is not None:
            named[arg] = [column]
    for arg, columns in named.items():
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ValueError(f"{arg}: no column {missing[0]!r} in df (columns: {list(df.columns)})")
    clashes = [c for c in POINT_COLUMNS if c in df.columns]
    if clashes:
        raise ValueError(f"df already has column(s) {clashes} that xmr_frame adds; rename them first")
    options = _check_options(
        fix_after_n_points, screen_outliers, shift_length, trend_length, two_in_three_includes_beyond
    )
    values = _check_values(df[value], name=f"value column {value!r}")

    # Sort rows by series then period; every array below is in that order until scattered back.
    n = len(df)
    series_of_row = (
        df.groupby(by, sort=True, dropna=False).ngroup().to_numpy() if by else np.zeros(n, dtype=np.intp)
    )
    period_rank, _ = pd.factorize(df[order], sort=True, use_na_sentinel=True)
    if (period_rank < 0).any():
        row = df.index[int(np.argmax(period_rank < 0))]
        raise ValueError(f"order column {order!r} has a missing value (row {row!r})")
    sorter = np.lexsort((period_rank, series_of_row))
    series = series_of_row[sorter]
    n_series = int(series.max()) + 1 if n else 0
    duplicate = (series[1:] == series[:-1]) & (period_rank[sorter][1:] == period_rank[sorter][:-1])
    if duplicate.any():
        row = df.index[sorter[np.flatnonzero(duplicate)[0] + 1]]
        raise ValueError(f"order column {order!r} repeats a period within a series (row {row!r})")
    first_rows = sorter[np.r_[True, series[1:] != series[:-1]]] if n else sorter
    keys = df.iloc[first_rows][by].reset_index(drop=True)

    if improvement_col is None:
        direction = _check_improvement("increase" if improvement is None else improvement)
        improvement_names = np.full(n_series, direction, dtype=object)
    else:
        raw = df[improvement_col].to_numpy(dtype=object)[sorter]
        for found in pd.unique(raw):
            _check_improvement(found, name=f"improvement column {improvement_col!r}")
        _constant_per_series(raw, series, f"improvement column {improvement_col!r}", keys)
        improvement_names = raw[np.r_[True, series[1:] != series[:-1]]] if n else raw
    improvement_sign = pd.Series(improvement_names, dtype=object).map(_IMPROVEMENT_SIGN).to_numpy(np.int8)

    if target_col is None:
        targets = np.full(n_series, _check_target(target))
    else:
        raw_target = _check_values(df[target_col], name=f"target column {target_col!r}")[sorter]
        _constant_per_series(raw_target, series, f"target column {target_col!r}", keys)
        targets = raw_target[np.r_[True, series[1:] != series[:-1]]] if n else raw_target

    if rebase_col is None:
        rebase = np.zeros(n, dtype=bool)
    else:
        raw_rebase = df[rebase_col]
        if raw_rebase.dtype == object or raw_rebase.dtype.kind not in "biuf":
            raise ValueError(f"rebase column {rebase_col!r} must be True/False; got dtype {raw_rebase.dtype}")
        rebase = raw_rebase.fillna(False).to_numpy(dtype=bool)[sorter]

    if chart is not None and chart_col is not None:
        raise ValueError("give chart or chart_col, not both")
    if scale is not None and scale_col is not None:
        raise ValueError("give scale or scale_col, not both")
    first_of = np.r_[True, series[1:] != series[:-1]] if n else np.zeros(0, dtype=bool)
    if chart_col is None:
        chart_codes = np.full(n_series, _check_chart("xmr" if chart is None else chart), dtype=np.int8)
    else:
        raw_chart = df[chart_col].to_numpy(dtype=object)[sorter]
        for found in pd.unique(raw_chart):
            _check_chart(found, name=f"chart column {chart_col!r}")
        _constant_per_series(raw_chart, series, f"chart column {chart_col!r}", keys)
        chart_codes = np.array([_CHART_CODE[c] for c in raw_chart[first_of]], dtype=np.int8)
    if scale_col is None:
        scales = np.full(n_series, _check_scale(1.0 if scale is None else scale))
    else:
        raw_scale = _check_values(df[scale_col], name=f"scale column {scale_col!r}")[sorter]
        _constant_per_series(raw_scale, series, f"scale column {scale_col!r}", keys)
        scales = raw_scale[first_of]
    laney_rows = np.isin(chart_codes[series], (_P_PRIME, _U_PRIME)) if n else np.zeros(0, dtype=bool)
    if denominator_col is None:
        if laney_rows.any():
            raise ValueError("Laney's p′ and u′ charts need denominator_col")
        dens = np.full(n, np.nan)
    else:
        dens = _check_values(df[denominator_col], name=f"denominator column {denominator_col!r}")[sorter]

    rows, summary = _xmr_engine(values[sorter], series, n_series, rebase, improvement_sign, targets, options,
                                chart_codes, dens, scales)

    points = df.copy()
    unsort = np.empty(n, dtype=np.intp)
    unsort[sorter] = np.arange(n)
    for column, data in _row_columns({k: v[unsort] for k, v in rows.items()}, df.index).items():
        points[column] = data

    latest_row = summary["latest_row"]
    has_latest = latest_row >= 0
    latest_period = df[order].iloc[sorter[np.where(has_latest, latest_row, 0)]].to_numpy() if n else []
    series_frame = keys.assign(
        improvement=pd.Series(improvement_names, dtype=object),
        target=targets,
        n_points=summary["n_points"],
        n_segments=summary["n_segments"],
        **{f"latest_{order}": pd.Series(latest_period, dtype=df[order].dtype).where(has_latest)},
        chart=pd.Series(np.asarray(CHART_TYPES, dtype=object)[chart_codes], dtype=object),
        variation=pd.Series(_named(summary["variation"], _POINT_TYPE_NAMES), dtype=object),
        assurance=pd.Series(_named(summary["assurance"], _ASSURANCE_NAMES), dtype=object),
        trial_limits=summary["trial_limits"].astype(bool),
        mean=summary["mean"],
        lpl=summary["lpl"],
        upl=summary["upl"],
    )
    return XmRFrameResult(points=points, series=series_frame)


# --- words and icons for the board -----------------------------------------------------------------
_NUMBER_WORDS = {
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
    13: "thirteen",
    14: "fourteen",
    15: "fifteen",
}


def _number(n: int) -> str:
    return _NUMBER_WORDS.get(n, str(n))


def describe_rule(
    row_or_rule: Mapping[str, Any] | pd.Series | str | None,
    direction: int | None = None,
    improvement: str | None = None,
    period_word: str = "quarters",
    *,
    shift_length: int = 7,
    trend_length: int = 7,
) -> str:
    """A plain-English sentence saying which SPC rule labels a point, for a board member.

    Pass a row of ``points`` (its ``rule`` and ``direction`` are used) or a rule name with its
    direction (+1 above/rising, -1 below/falling). With ``improvement`` "increase" or "decrease" the
    sentence says whether the signal is good or bad news; "neutral" or None makes no judgement.
    ``period_word`` is the plural of the period ("quarters", "months", "years").
    """
    if isinstance(row_or_rule, Mapping | pd.Series):
        rule = row_or_rule.get("rule")
        if direction is None:
            direction = row_or_rule.get("direction")
    else:
        rule = row_or_rule
    if rule is not None and (not isinstance(rule, str) or rule not in RULES):
        if isinstance(rule, float) and np.isnan(rule):
            rule = None
        else:
            raise ValueError(f"rule must be one of {RULES} or None; got {rule!r}")
    if improvement is not None:
        _check_improvement(improvement)
    d = int(np.sign(direction)) if direction is not None and not pd.isna(direction) else 0
    periods = period_word
    period = period_word[:-1] if period_word.endswith("s") else period_word

    if rule is None:
        return (
            f"No special cause: common cause variation, within the range expected "
            f"from one {period} to the next"
        )
    if rule == "astronomical":
        where = {1: ", above the upper limit", -1: ", below the lower limit", 0: ""}[d]
        sentence = f"A {period} outside the process limits{where}"
    elif rule == "trend":
        moves = {1: "rises", -1: "falls", 0: "rises or falls"}[d]
        steps = _number(trend_length - 1).capitalize()
        sentence = f"{steps} consecutive {moves} (a trend of {_number(trend_length)} {periods})"
    elif rule == "two_in_three":
        limit = {1: "the upper limit", -1: "the lower limit", 0: "a process limit"}[d]
        sentence = f"Two of three {periods} close to {limit}"
    else:
        where = {1: "above", -1: "below", 0: "on one side of"}[d]
        sentence = f"{_number(shift_length).capitalize()} {periods} in a row {where} the average (a shift)"
    sign = _IMPROVEMENT_SIGN.get(improvement or "neutral", 0)
    if sign and d:
        sentence += "; a sign of improvement" if sign * d > 0 else "; a cause for concern"
    return sentence
