"""Tests for indicators.spc against the SPC contract (/work/shared/docs/spc.md).

Expected numbers are worked by hand in the comments. Three kinds of test:
the rules as pure functions on small arrays, whole charts with hand-worked means and limits, and
cross-checks (a slow, literal reading of the spec on random series; xmr_frame against xmr).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicators.spc import (
    LIMIT_FACTOR,
    TWO_SIGMA_FACTOR,
    XmRResult,
    close_to_limits,
    describe_rule,
    label_points,
    point_types,
    shift_points,
    trend_direction,
    trend_points,
    two_in_three_points,
    xmr,
    xmr_frame,
)

T, F = True, False


def starts(n: int, *more: int) -> np.ndarray:
    """segment_start for n points in one segment, plus segments starting at the positions in ``more``."""
    flags = np.zeros(n, dtype=bool)
    if n:
        flags[0] = True
    flags[list(more)] = True
    return flags


def rules(result: XmRResult) -> list[str | None]:
    return result.points["rule"].tolist()


# Alternating 9.5, 10.5 twelve times: mean = 120 / 12 = 10, every moving range is 1, so amr = 1
# (11 ranges of 1; 3.267 x 1 screens none). UPL = 10 + 2.66 = 12.66, LPL = 7.34,
# 2 sigma lines = 10 +/- 2 x 2.66 / 3 = 10 +/- 1.77333...
CALM = [9.5, 10.5] * 6


# --- shift ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("side", "expected"),
    [
        pytest.param([1] * 7, [T] * 7, id="seven-above"),
        pytest.param([-1] * 7, [T] * 7, id="seven-below"),
        pytest.param([1] * 6, [F] * 6, id="six-is-not-enough"),
        pytest.param([1] * 8, [T] * 8, id="eight-all-flagged"),
        pytest.param([-1] + [1] * 7 + [-1], [F] + [T] * 7 + [F], id="run-in-the-middle"),
        pytest.param([1] * 3 + [0] + [1] * 4, [F] * 8, id="point-on-mean-breaks-run"),
        pytest.param([0] * 9, [F] * 9, id="all-on-mean-is-no-shift"),
        pytest.param([1] * 7 + [-1] * 7, [T] * 14, id="two-shifts-back-to-back"),
        pytest.param([1, -1] * 7, [F] * 14, id="alternating"),
    ],
)
def test_shift_rule(side, expected):
    side = np.array(side, dtype=np.int8)
    assert shift_points(side, starts(side.size)).tolist() == expected


def test_shift_does_not_cross_a_segment_boundary():
    # 4 above in one segment then 4 above in the next: 8 in a row, but no run of 7 inside a segment
    side = np.ones(8, dtype=np.int8)
    assert not shift_points(side, starts(8, 4)).any()
    assert shift_points(side, starts(8)).all()


def test_shift_length_option():
    side = np.array([1] * 6 + [-1], dtype=np.int8)
    assert shift_points(side, starts(7), run_length=6).tolist() == [T] * 6 + [F]


# --- trend ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([1, 2, 3, 4, 5, 6, 7], [T] * 7, id="seven-rising"),
        pytest.param([7, 6, 5, 4, 3, 2, 1], [T] * 7, id="seven-falling"),
        pytest.param([1, 2, 3, 4, 5, 6], [F] * 6, id="six-is-not-enough"),
        pytest.param([1, 2, 3, 3, 4, 5, 6, 7], [F] * 8, id="tie-breaks-trend"),
        # a tie after 7 rises: the 7 are a trend, the repeated value is not part of it
        pytest.param([1, 2, 3, 4, 5, 6, 7, 7], [T] * 7 + [F], id="tie-after-trend"),
        pytest.param([5, 1, 2, 3, 4, 5, 6, 7, 6], [F] + [T] * 7 + [F], id="run-in-the-middle"),
        # the peak belongs to the rising run and to the falling run
        pytest.param([1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1], [T] * 13, id="peak-shared"),
        pytest.param([1, 3, 2, 4, 3, 5, 4, 6], [F] * 8, id="zigzag"),
        pytest.param([-3, -2, -1, 0, 1, 2, 3], [T] * 7, id="crosses-the-mean"),
    ],
)
def test_trend_rule(values, expected):
    x = np.array(values, dtype=float)
    assert trend_points(x, starts(x.size)).tolist() == expected


def test_trend_does_not_cross_a_segment_boundary():
    x = np.arange(10, dtype=float)
    assert not trend_points(x, starts(10, 5)).any()
    # 7 rises after the rebase at 3 are still a trend
    assert trend_points(x, starts(10, 3)).tolist() == [F] * 3 + [T] * 7


def test_trend_length_option():
    x = np.array([1, 2, 3, 4, 5, 4], dtype=float)
    assert trend_points(x, starts(6), run_length=5).tolist() == [T] * 5 + [F]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([1, 2, 3, 4, 5, 6, 7], [1] * 7, id="rising"),
        pytest.param([7, 6, 5, 4, 3, 2, 1], [-1] * 7, id="falling"),
        # the peak 7 (position 6): its next point is a trend point, so it takes sign(6 - 7) = -1;
        # the last point has no next point, so it takes sign(1 - 2) = -1
        pytest.param([1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1], [1] * 6 + [-1] * 7, id="peak"),
        # 7 rises, a tie, then 7 falls (positions 7..13). Position 6 ends the rising run, but its
        # next point is a trend point, so it takes sign(7 - 7) = 0, which reads as decreasing:
        # NHSRplotthedots does the same.
        pytest.param(
            [1, 2, 3, 4, 5, 6, 7, 7, 6, 5, 4, 3, 2, 1], [1] * 6 + [-1] * 8, id="tie-reads-decreasing"
        ),
        pytest.param([0, 1, 2, 3, 4, 5, 6, 7, 0], [1] * 8 + [0], id="not-trend-is-zero"),
    ],
)
def test_trend_direction(values, expected):
    x = np.array(values, dtype=float)
    start = starts(x.size)
    assert trend_direction(x, trend_points(x, start), start).tolist() == expected


# --- two in three -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("close", "side", "expected"),
    [
        pytest.param([T, T, F], [1, 1, 1], [T, T, F], id="two-adjacent"),
        pytest.param([T, F, T], [-1, -1, -1], [T, F, T], id="two-apart-below"),
        pytest.param([T, T, T], [1, 1, 1], [T, T, T], id="three"),
        pytest.param([T, F, F], [1, 1, 1], [F, F, F], id="one-is-not-enough"),
        pytest.param([T, T, F], [1, 1, -1], [F, F, F], id="third-point-other-side"),
        pytest.param([T, T, F], [1, 1, 0], [F, F, F], id="third-point-on-mean"),
        pytest.param([T, T], [1, 1], [F, F], id="no-window-of-three"),
        # looking ahead: position 2 qualifies through the window 2..4, which starts at it
        pytest.param([F, F, T, F, T], [-1, 1, 1, 1, 1], [F, F, T, F, T], id="window-looks-ahead"),
        # position 3 is close but only in windows with a point on the other side
        pytest.param([T, T, T, T], [1, 1, 1, -1], [T, T, T, F], id="close-but-no-window"),
        pytest.param([F, T, F, T, F], [1, 1, 1, 1, 1], [F, T, F, T, F], id="non-close-never-flagged"),
        pytest.param([T, T, F, F, F, T, T], [1, 1, 1, -1, -1, -1, -1], [T, T, F, F, F, T, T], id="both"),
    ],
)
def test_two_in_three_rule(close, side, expected):
    close = np.array(close)
    side = np.array(side, dtype=np.int8)
    assert two_in_three_points(close, side, starts(close.size)).tolist() == expected


def test_two_in_three_does_not_cross_a_segment_boundary():
    close = np.array([F, T, T, F])
    side = np.ones(4, dtype=np.int8)
    assert not two_in_three_points(close, side, starts(4, 2)).any()
    assert two_in_three_points(close, side, starts(4)).tolist() == [F, T, T, F]


@pytest.mark.parametrize(
    ("value", "include_beyond", "expected"),
    [
        # lines: LPL 7.34, lower 2 sigma 8.2267, upper 2 sigma 11.7733, UPL 12.66
        (10.0, F, F),
        (11.5, F, F),
        (12.0, F, T),
        (12.66, F, T),  # on the limit: not outside, so close
        (13.0, F, F),  # beyond the limit: not close in 0.2.2 ...
        (13.0, T, T),  # ... but close with the Nov-2023 change
        (8.0, F, T),
        (7.0, F, F),
        (7.0, T, T),
    ],
)
def test_close_to_limits(value, include_beyond, expected):
    x = np.array([value])
    outside = (x > 12.66) | (x < 7.34)
    lower, upper = np.array([10 - TWO_SIGMA_FACTOR]), np.array([10 + TWO_SIGMA_FACTOR])
    assert close_to_limits(x, lower, upper, outside, include_beyond).tolist() == [expected]


# --- labels and point types -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("flags", "rule", "v"),
    [
        # flags: outside, trend, two_in_three, shift; side = -1, trend direction = +1
        ((T, T, T, T), 1, -1),
        ((F, T, T, T), 2, 1),  # a trend takes its direction from the trend, not the side
        ((F, F, T, T), 3, -1),
        ((F, F, F, T), 4, -1),
        ((F, F, F, F), 0, 0),
        ((T, F, F, F), 1, -1),
        ((F, T, F, T), 2, 1),
        ((F, F, T, F), 3, -1),
    ],
)
def test_label_precedence(flags, rule, v):
    outside, trend, two, shift = (np.array([f]) for f in flags)
    got_rule, got_v = label_points(outside, trend, two, shift, np.array([-1]), np.array([1]))
    assert (got_rule.tolist(), got_v.tolist()) == ([rule], [v])


@pytest.mark.parametrize(
    ("v", "improvement_sign", "expected"),
    [
        (1, 1, "special_cause_improvement"),
        (-1, 1, "special_cause_concern"),
        (1, -1, "special_cause_concern"),
        (-1, -1, "special_cause_improvement"),
        (0, 1, "common_cause"),
        (0, -1, "common_cause"),
        (1, 0, "special_cause_neutral_high"),
        (-1, 0, "special_cause_neutral_low"),
        (0, 0, "common_cause"),
    ],
)
def test_point_types(v, improvement_sign, expected):
    names = [
        None,
        "common_cause",
        "special_cause_improvement",
        "special_cause_concern",
        "special_cause_neutral_high",
        "special_cause_neutral_low",
    ]
    assert names[point_types(np.array([v]), improvement_sign)[0]] == expected


# --- whole charts: means and limits -----------------------------------------------------------------
def test_limits_of_a_calm_series():
    r = xmr(CALM)
    p = r.points
    assert p["mean"].tolist() == [10.0] * 12
    np.testing.assert_allclose(p["upl"], 12.66, atol=1e-12)
    np.testing.assert_allclose(p["lpl"], 7.34, atol=1e-12)
    np.testing.assert_allclose(p["upper_2sigma"], 10 + 2 * 2.66 / 3, atol=1e-12)
    np.testing.assert_allclose(p["lower_2sigma"], 10 - 2 * 2.66 / 3, atol=1e-12)
    assert rules(r) == [None] * 12
    assert p["point_type"].tolist() == ["common_cause"] * 12
    assert r.variation == "common_cause"
    assert r.assurance is None  # no target
    assert r.trial_limits  # 12 points < 13
    assert list(p.columns) == [
        "value",
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
    ]


@pytest.mark.parametrize(
    ("screen", "amr"),
    [
        # values 0,1 alternating (11 points) then 20: mR = ten 1s and one 20, amr0 = 30/11 = 2.727;
        # 3.267 x 2.727 = 8.91, so 20 is screened out and amr = 10/10 = 1
        (True, 1.0),
        (False, 30 / 11),
    ],
)
def test_screening_outlying_moving_ranges(screen, amr):
    values = [0, 1] * 5 + [0, 20]  # sum 5 + 20 = 25, mean 25/12 (not recomputed after screening)
    p = xmr(values, screen_outliers=screen).points
    mean = 25 / 12
    np.testing.assert_allclose(p["mean"], mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(p["upl"], mean + 2.66 * amr, rtol=0, atol=1e-9)
    np.testing.assert_allclose(p["lpl"], mean - 2.66 * amr, rtol=0, atol=1e-9)
    # 20 is above either UPL (4.74 screened, 25/12 + 2.66 x 30/11 = 9.34 unscreened)
    assert p["rule"].iloc[-1] == "astronomical"
    assert p["direction"].iloc[-1] == 1


def test_screening_is_strict_less_than():
    # mR values 1 (x9) and 3.267 x amr0 exactly would be kept only by <=; build a range equal to the
    # cut-off is impractical in floats, so check one just below the cut-off is kept instead:
    # values 0,1,... with one jump of 3: mR = 1 x 10, 3; amr0 = 13/11 = 1.1818, cut-off 3.861 > 3: kept
    values = [0, 1] * 5 + [0, 3]
    p = xmr(values).points
    np.testing.assert_allclose(p["upl"].iloc[0] - p["mean"].iloc[0], 2.66 * 13 / 11, atol=1e-9)


def test_every_non_zero_moving_range_screened_out():
    # 5 (x11) then 50: mR = ten 0s and 45, amr0 = 45/11 = 4.09, cut-off 13.4 screens 45;
    # kept ranges are all 0 so amr = 0 and LPL = UPL = mean = (55 + 50)/12 = 8.75
    p = xmr([5] * 11 + [50]).points
    assert p["mean"].tolist() == [8.75] * 12
    assert p["lpl"].tolist() == p["upl"].tolist() == [8.75] * 12
    # every 5 is below the collapsed LPL, 50 above the UPL
    assert rules(xmr([5] * 11 + [50])) == ["astronomical"] * 12
    assert p["direction"].tolist() == [-1] * 11 + [1]


@pytest.mark.parametrize("improvement", ["increase", "decrease", "neutral"])
@pytest.mark.parametrize("target", [None, 5.0, 6.0, 4.0, 100.0])
def test_constant_series_with_screening_has_undefined_limits(improvement, target):
    # all mR = 0: nothing is < 3.267 x 0, so no range is kept, amr and limits are undefined
    r = xmr([5.0] * 15, improvement=improvement, target=target)
    p = r.points
    assert p["mean"].tolist() == [5.0] * 15
    assert p[["lpl", "upl", "lower_2sigma", "upper_2sigma"]].isna().all().all()
    assert p["point_type"].tolist() == ["common_cause"] * 15
    assert r.variation == "common_cause"
    expected = None if target is None or improvement == "neutral" else "inconsistent"
    assert r.assurance == expected


@pytest.mark.parametrize(
    ("target", "improvement", "expected"),
    [
        (5.0, "increase", "inconsistent"),  # on the collapsed limits
        (6.0, "increase", "consistent_fail"),  # above UPL = 5
        (6.0, "decrease", "consistent_pass"),
        (4.0, "increase", "consistent_pass"),
        (4.0, "decrease", "consistent_fail"),
    ],
)
def test_constant_series_without_screening_collapses_limits(target, improvement, expected):
    r = xmr([5.0] * 15, improvement=improvement, target=target, screen_outliers=False)
    p = r.points
    for column in ("mean", "lpl", "upl", "lower_2sigma", "upper_2sigma"):
        assert p[column].tolist() == [5.0] * 15
    # every point sits on the mean (side 0) and on the limits (not outside): all common cause
    assert p["point_type"].tolist() == ["common_cause"] * 15
    assert r.assurance == expected


def test_mean_is_computed_the_way_r_computes_it():
    # R: mean(c(1e16, 1, -1e16)) is 0.33365885416666669 (long double sum, then a residual pass);
    # a float64 sum gives 0. The mean line of this (silly) series must be R's.
    p = xmr([1e16, 1, -1e16], screen_outliers=False).points
    assert p["mean"].iloc[0] == 0.33365885416666669


# --- whole charts: rules in context -----------------------------------------------------------------
def test_shift_and_two_in_three_in_one_chart():
    # mean = (9x4 + 8x3 + 11x4 + 12x3)/14 = 140/14 = 10; mR = 1 (x6), 2, 1 (x6): amr = 14/13,
    # none screened (3.267 x 1.077 = 3.52). UPL = 10 + 2.66 x 14/13 = 12.865, LPL = 7.135;
    # 2 sigma lines = 10 +/- 1.7733 x 14/13 = 10 +/- 1.910: the 8s and 12s are close to the limits.
    # Every window of three has two of them, so they are "two in three"; the 9s and 11s complete
    # seven-point runs either side of the mean, so they are "shift" (two in three takes precedence).
    r = xmr([9, 8, 9, 8, 9, 8, 9, 11, 12, 11, 12, 11, 12, 11])
    p = r.points
    assert p["mean"].iloc[0] == 10.0
    np.testing.assert_allclose(p["upl"], 10 + 2.66 * 14 / 13, atol=1e-9)
    np.testing.assert_allclose(p["lpl"], 10 - 2.66 * 14 / 13, atol=1e-9)
    assert rules(r) == ["shift", "two_in_three"] * 3 + ["shift"] + ["shift", "two_in_three"] * 3 + ["shift"]
    assert p["direction"].tolist() == [-1] * 7 + [1] * 7
    assert p["point_type"].tolist() == ["special_cause_concern"] * 7 + ["special_cause_improvement"] * 7
    assert r.variation == "special_cause_improvement"
    assert not r.trial_limits  # 14 points
    decrease = xmr([9, 8, 9, 8, 9, 8, 9, 11, 12, 11, 12, 11, 12, 11], improvement="decrease")
    assert decrease.variation == "special_cause_concern"
    neutral = xmr([9, 8, 9, 8, 9, 8, 9, 11, 12, 11, 12, 11, 12, 11], improvement="neutral")
    assert neutral.points["point_type"].tolist() == (
        ["special_cause_neutral_low"] * 7 + ["special_cause_neutral_high"] * 7
    )


def test_point_on_the_mean_breaks_a_shift_in_a_chart():
    # mean = (11 + 12 + 11 + 10 + 11 + 12 + 11 + 6 x 7 + ...) -- built so that the mean is exactly 10:
    # six points above (11,11,11,11,11,11), one at 10, six above again, and 13 points at 9 to balance?
    # Simpler: 3 x (11) then 10 then 3 x (11), and 7 points of 9 after: sum = 66 + 10 + 63 = 139...
    # Instead: [11]*3 + [10] + [11]*3 + [9]*7 -> sum 33 + 10 + 33 + 63 = 139, n = 14: mean 9.93, not 10.
    # Use a fixed baseline of 12 points (CALM, mean 10, amr 1) and append the run after it.
    values = CALM + [11, 11, 11, 10, 11, 11, 11]
    r = xmr(values, fix_after_n_points=12)
    assert r.points["mean"].iloc[0] == 10.0
    assert rules(r)[12:] == [None] * 7  # the 10 sits on the mean: no 7 in a row above
    values = CALM + [11, 11, 11, 11, 11, 11, 11]
    r = xmr(values, fix_after_n_points=12)
    # 10.5 at position 11 is above the mean too: the run is positions 11..18, eight points
    assert rules(r)[11:] == ["shift"] * 8
    assert r.points["direction"].iloc[-1] == 1


def test_trend_in_a_chart_crosses_the_mean_and_beats_shift():
    # Baseline CALM (mean 10, LPL 7.34, UPL 12.66), then 8.5, 9, 9.5, 10, 10.5, 11, 11.5: seven rising
    # points from below the mean to above it, all inside the 2 sigma lines (8.23 .. 11.77) and limits.
    # 10.5 at position 11 then 8.5 is a fall, so the trend is positions 12..18 only.
    values = CALM + [8.5, 9, 9.5, 10, 10.5, 11, 11.5]
    r = xmr(values, fix_after_n_points=12)
    assert rules(r) == [None] * 12 + ["trend"] * 7
    assert r.points["direction"].tolist()[12:] == [1] * 7
    assert r.variation == "special_cause_improvement"
    assert xmr(values, fix_after_n_points=12, improvement="decrease").variation == "special_cause_concern"


def test_tie_breaks_a_trend_in_a_chart():
    values = CALM + [8.5, 9, 9.5, 9.5, 10, 10.5, 11, 11.5]
    assert rules(xmr(values, fix_after_n_points=12))[12:] == [None] * 8


def test_point_exactly_on_a_limit_is_not_outside():
    upl = 10 + LIMIT_FACTOR * 1.0  # the UPL of CALM, computed exactly as the module does
    lpl = 10 - LIMIT_FACTOR * 1.0
    r = xmr(CALM + [upl, 10, lpl], fix_after_n_points=12)
    assert r.points["upl"].iloc[0] == upl and r.points["lpl"].iloc[0] == lpl
    assert rules(r)[12:] == [None, None, None]
    beyond = xmr(CALM + [np.nextafter(upl, np.inf), 10, np.nextafter(lpl, -np.inf)], fix_after_n_points=12)
    assert rules(beyond)[12:] == ["astronomical", None, "astronomical"]
    assert beyond.points["direction"].tolist()[12:] == [1, 0, -1]


def test_point_on_a_limit_counts_as_close():
    upl = 10 + LIMIT_FACTOR * 1.0
    # 10.5 (position 11, above), upl, upl: a window of three above the mean with two close points
    r = xmr(CALM + [upl, upl], fix_after_n_points=12)
    assert rules(r)[11:] == [None, "two_in_three", "two_in_three"]


@pytest.mark.parametrize(
    ("include_beyond", "expected"),
    [
        # window 10.5, 13, 12 (positions 11..13, all above the mean): 13 is outside, 12 is close.
        # 0.2.2 counts one close point: no signal for the 12. Nov-2023 counts 13 as well: two.
        (False, [None, "astronomical", None, None]),
        (True, [None, "astronomical", "two_in_three", None]),
    ],
)
def test_two_in_three_nov_2023_option(include_beyond, expected):
    r = xmr(CALM + [13, 12, 9.5], fix_after_n_points=12, two_in_three_includes_beyond=include_beyond)
    assert rules(r)[11:] == expected


def test_two_in_three_window_looks_ahead_in_a_chart():
    # 12 (close, above), 10.5 (above, not close), 12 (close, above): both 12s flagged; the first one
    # only through the window that starts at it
    r = xmr(CALM + [9.5, 12, 10.5, 12, 9.5], fix_after_n_points=12)
    assert rules(r)[12:] == [None, "two_in_three", None, "two_in_three", None]


# --- fixed baselines --------------------------------------------------------------------------------
def test_fix_after_n_points_uses_only_the_baseline():
    values = CALM + [20, 10, 30]
    fixed = xmr(values, fix_after_n_points=12).points
    assert fixed["mean"].tolist() == [10.0] * 15
    np.testing.assert_allclose(fixed["upl"], 12.66, atol=1e-12)
    assert fixed["rule"].tolist()[12:] == ["astronomical", None, "astronomical"]
    # unfixed: mean = (120 + 60)/15 = 12, limits widened by the late points
    unfixed = xmr(values).points
    assert unfixed["mean"].iloc[0] == 12.0


def test_fix_after_n_points_longer_than_the_series_uses_all_points():
    values = [1, 5, 2, 6, 3, 7, 2, 5, 1, 4, 3, 6, 2]
    a, b = xmr(values).points, xmr(values, fix_after_n_points=50).points
    pd.testing.assert_frame_equal(a, b)


def test_fix_after_n_points_applies_per_segment():
    # two segments, each a CALM baseline shifted, followed by a far point
    values = CALM + [30] + [x + 100 for x in CALM] + [0]
    p = xmr(values, rebase=[13], fix_after_n_points=12).points
    assert p["mean"].tolist() == [10.0] * 13 + [110.0] * 13
    np.testing.assert_allclose(p["upl"], [12.66] * 13 + [112.66] * 13, atol=1e-9)
    assert p["segment"].tolist() == [0] * 13 + [1] * 13


# --- segments and rebasing --------------------------------------------------------------------------
RANDOMISH = [12, 15, 11, 18, 14, 13, 17, 16, 12, 19, 14, 15, 13, 25, 26, 24, 27, 25, 28, 26, 27, 29, 25]


def test_rebase_at_zero_changes_nothing():
    pd.testing.assert_frame_equal(xmr(RANDOMISH).points, xmr(RANDOMISH, rebase=[0]).points)


def test_segments_are_computed_independently():
    a, b = RANDOMISH[:13], RANDOMISH[13:]
    whole = xmr(RANDOMISH, rebase=[13], target=20).points
    first, second = xmr(a).points, xmr(b, target=20).points
    cols = ["mean", "lpl", "upl", "lower_2sigma", "upper_2sigma", "trial_limits", "rule", "point_type"]
    pd.testing.assert_frame_equal(whole[cols].iloc[:13].reset_index(drop=True), first[cols])
    pd.testing.assert_frame_equal(whole[cols].iloc[13:].reset_index(drop=True), second[cols])
    assert whole["segment"].tolist() == [0] * 13 + [1] * 10


def test_rebase_breaks_a_run_across_the_boundary():
    # Without a rebase the 7 points from position 10 are a shift above the mean of 10. With a rebase at
    # 14 the pieces are 4 and 3 points long; the second segment (10.5, 11, 10.5, 11.5) has its own mean.
    values = CALM[:10] + [11, 11, 11, 11, 11, 11, 11]
    assert "shift" in rules(xmr(values, fix_after_n_points=12))
    split = xmr(values, rebase=[14])
    assert "shift" not in rules(split)


def test_rebase_positions_collapse_duplicates():
    pd.testing.assert_frame_equal(xmr(RANDOMISH, rebase=[13, 13]).points, xmr(RANDOMISH, rebase=[13]).points)


@pytest.mark.parametrize(
    ("n", "trial"),
    [(1, True), (12, True), (13, False), (20, False)],
)
def test_trial_limits_below_13_points(n, trial):
    r = xmr((RANDOMISH * 2)[:n])
    assert r.trial_limits is trial
    assert r.points["trial_limits"].tolist() == [trial] * n


def test_trial_limits_follow_the_latest_segment():
    r = xmr(RANDOMISH, rebase=[13])  # latest segment has 10 points
    assert r.trial_limits
    assert r.points["trial_limits"].tolist() == [False] * 13 + [True] * 10


def test_single_point_segment_has_undefined_limits():
    r = xmr(RANDOMISH + [100], rebase=[23], target=50)
    last = r.points.iloc[-1]
    assert last["mean"] == 100.0 and np.isnan(last["upl"]) and np.isnan(last["lpl"])
    assert last["point_type"] == "common_cause"
    assert r.assurance == "inconsistent"


def test_two_point_segment():
    # [1, 3]: mean 2, one mR of 2 (kept: 2 < 3.267 x 2), UPL = 2 + 5.32 = 7.32
    p = xmr([1, 3]).points
    assert p["mean"].tolist() == [2.0, 2.0]
    np.testing.assert_allclose(p["upl"], 7.32, atol=1e-12)
    np.testing.assert_allclose(p["lpl"], -3.32, atol=1e-12)


# --- assurance --------------------------------------------------------------------------------------
UPL, LPL = 10 + LIMIT_FACTOR, 10 - LIMIT_FACTOR  # of CALM: 12.66 and 7.34


@pytest.mark.parametrize(
    ("target", "improvement", "expected"),
    [
        (13.0, "increase", "consistent_fail"),  # the whole range is below the target
        (13.0, "decrease", "consistent_pass"),
        (7.0, "increase", "consistent_pass"),  # the whole range is above the target
        (7.0, "decrease", "consistent_fail"),
        (10.0, "increase", "inconsistent"),
        (10.0, "decrease", "inconsistent"),
        (UPL, "increase", "inconsistent"),  # exactly on a limit: hit and miss
        (LPL, "increase", "inconsistent"),
        (UPL, "decrease", "inconsistent"),
        (np.nextafter(UPL, np.inf), "increase", "consistent_fail"),
        (np.nextafter(LPL, -np.inf), "decrease", "consistent_fail"),
        (13.0, "neutral", None),
        (None, "increase", None),
        (float("nan"), "increase", None),
    ],
)
def test_assurance(target, improvement, expected):
    assert xmr(CALM, improvement=improvement, target=target).assurance == expected


def test_assurance_uses_the_latest_segment():
    # CALM then CALM + 90. As one segment: mean = (120 + 1200)/24 = 55; mR = 22 ones and one 89.5
    # (10.5 -> 99.5); amr0 = 111.5/23 = 4.85, cut-off 15.8 screens the jump, amr = 1: limits 52.34..57.66,
    # so a target of 60 is above the range (consistent fail). Rebased at 12, the latest segment is
    # 97.34..102.66 and the same target is below it (consistent pass).
    values = CALM + [x + 90 for x in CALM]
    one = xmr(values, target=60)
    assert one.points["mean"].iloc[-1] == 55.0
    np.testing.assert_allclose(one.points["upl"].iloc[-1], 57.66, atol=1e-9)
    assert one.assurance == "consistent_fail"
    assert xmr(values, target=60, rebase=[12]).assurance == "consistent_pass"


def test_variation_is_the_latest_point_not_the_latest_signal():
    r = xmr(CALM + [20, 10], fix_after_n_points=12)
    assert r.points["point_type"].iloc[12] == "special_cause_improvement"
    assert r.variation == "common_cause"
    assert r.latest_position == 13


# --- missing values ---------------------------------------------------------------------------------
def test_missing_values_are_left_out():
    values = [9, 8, 9, 8, 9, 8, 9, 11, 12, 11, 12, 11, 12, 11]
    gappy = values[:3] + [np.nan] + values[3:10] + [np.nan, np.nan] + values[10:]
    full, sparse = xmr(values).points, xmr(gappy).points
    kept = sparse["value"].notna().to_numpy()
    cols = ["mean", "lpl", "upl", "special_cause", "rule", "direction", "point_type"]
    pd.testing.assert_frame_equal(sparse.loc[kept, cols].reset_index(drop=True), full[cols])
    gaps = sparse.loc[~kept]
    assert gaps["point_type"].tolist() == [None] * 3
    assert gaps["rule"].tolist() == [None] * 3
    assert gaps["special_cause"].tolist() == [False] * 3
    assert gaps["direction"].tolist() == [0] * 3
    assert gaps["mean"].tolist() == [10.0] * 3  # the segment's lines carry on through the gap


def test_missing_values_do_not_count_towards_the_baseline_or_trial_limits():
    values = CALM[:6] + [np.nan] + CALM[6:] + [20]
    r = xmr(values, fix_after_n_points=12)
    assert r.points["mean"].iloc[0] == 10.0  # the 12 observed CALM points, not 11 and the 20
    assert r.points["rule"].iloc[-1] == "astronomical"
    assert not r.trial_limits  # 13 observed points
    assert xmr(CALM + [np.nan]).trial_limits  # 12 observed points


def test_missing_latest_value_uses_the_latest_observed_point():
    r = xmr(CALM + [20, np.nan], fix_after_n_points=12, target=5)
    assert r.latest_position == 12
    assert r.variation == "special_cause_improvement"
    assert r.assurance == "consistent_pass"
    assert r.latest["value"] == 20


def test_all_missing():
    r = xmr([np.nan, None, np.nan], target=3)
    assert r.variation is None and r.assurance is None and r.latest_position is None
    assert r.trial_limits
    assert r.points["point_type"].tolist() == [None] * 3


def test_empty_series():
    r = xmr([])
    assert len(r.points) == 0 and r.variation is None and r.assurance is None


def test_series_input_keeps_its_index():
    s = pd.Series([1.0, 2.0, 3.0], index=["2024-25 Q1", "2024-25 Q2", "2024-25 Q3"])
    assert list(xmr(s).points.index) == list(s.index)


# --- validation -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"improvement": "up"}, "improvement must be one of 'increase', 'decrease', 'neutral'; got 'up'"),
        ({"improvement": None}, "improvement must be one of"),
        ({"fix_after_n_points": 11}, "fix_after_n_points must be a whole number of at least 12"),
        ({"fix_after_n_points": 12.5}, "fix_after_n_points"),
        ({"fix_after_n_points": True}, "fix_after_n_points"),
        ({"target": "high"}, "target must be a single number or None; got 'high'"),
        ({"target": float("inf")}, "target must be finite"),
        ({"rebase": [30]}, "rebase positions must be whole numbers from 0 to 22"),
        ({"rebase": [-1]}, "rebase positions"),
        ({"rebase": [1.5]}, "rebase positions"),
        ({"rebase": "3"}, "rebase positions"),
        ({"screen_outliers": "yes"}, "screen_outliers must be True or False; got 'yes'"),
        ({"shift_length": 1}, "shift_length must be a whole number of points, at least 2; got 1"),
        ({"trend_length": 6.0}, "trend_length"),
        ({"two_in_three_includes_beyond": 1}, "two_in_three_includes_beyond must be True or False"),
    ],
)
def test_invalid_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        xmr(RANDOMISH, **kwargs)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1, 2, np.inf], r"values must be finite .* found inf at position 2"),
        ([[1, 2], [3, 4]], "one-dimensional"),
        (["a", "b"], "values must be numbers"),
    ],
)
def test_invalid_values(values, message):
    with pytest.raises(ValueError, match=message):
        xmr(values)


# --- words and icons --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "direction", "improvement", "period_word", "expected"),
    [
        ("shift", 1, None, "quarters", "Seven quarters in a row above the average (a shift)"),
        ("shift", -1, None, "months", "Seven months in a row below the average (a shift)"),
        ("astronomical", 0, None, "quarters", "A quarter outside the process limits"),
        ("astronomical", 1, None, "quarters", "A quarter outside the process limits, above the upper limit"),
        ("astronomical", -1, None, "years", "A year outside the process limits, below the lower limit"),
        ("trend", 1, None, "quarters", "Six consecutive rises (a trend of seven quarters)"),
        ("trend", -1, None, "quarters", "Six consecutive falls (a trend of seven quarters)"),
        ("two_in_three", 1, None, "quarters", "Two of three quarters close to the upper limit"),
        ("two_in_three", -1, None, "quarters", "Two of three quarters close to the lower limit"),
        (
            "shift",
            1,
            "increase",
            "quarters",
            "Seven quarters in a row above the average (a shift); a sign of improvement",
        ),
        (
            "shift",
            1,
            "decrease",
            "quarters",
            "Seven quarters in a row above the average (a shift); a cause for concern",
        ),
        (
            "trend",
            -1,
            "decrease",
            "quarters",
            "Six consecutive falls (a trend of seven quarters); a sign of improvement",
        ),
        ("shift", 1, "neutral", "quarters", "Seven quarters in a row above the average (a shift)"),
        (
            None,
            0,
            "increase",
            "quarters",
            "No special cause: common cause variation, within the range expected "
            "from one quarter to the next",
        ),
    ],
)
def test_describe_rule(rule, direction, improvement, period_word, expected):
    assert describe_rule(rule, direction, improvement, period_word) == expected


def test_describe_rule_takes_a_row():
    r = xmr(CALM + [8.5, 9, 9.5, 10, 10.5, 11, 11.5], fix_after_n_points=12)
    row = r.points.iloc[-1]
    assert describe_rule(row, improvement="increase") == (
        "Six consecutive rises (a trend of seven quarters); a sign of improvement"
    )
    assert describe_rule({"rule": "shift", "direction": -1}, shift_length=8) == (
        "Eight quarters in a row below the average (a shift)"
    )
    with pytest.raises(ValueError, match="rule must be one of"):
        describe_rule("run")


def _reference_mean(xs: list[float]) -> float:
    """R's mean(): long-double sum / n, plus the mean of the residuals, rounded once."""
    if not xs:
        return float("nan")
    s = np.longdouble(0)
    for x in xs:
        s += np.longdouble(x)
    s /= len(xs)
    t = np.longdouble(0)
    for x in xs:
        t += np.longdouble(x) - s
    return float(s + t / len(xs))


def _reference_segment(x: list[float], fix: int | None, screen: bool) -> list[tuple]:
    """One segment, following spc.md line by line with windows rather than runs."""
    n = len(x)
    base = x[: fix or n]
    mean = _reference_mean(base)
    mr = [abs(base[i] - base[i - 1]) for i in range(1, len(base))]
    amr = _reference_mean(mr)
    if screen:
        amr = _reference_mean([m for m in mr if m < 3.267 * amr])
    upl, lpl = mean + 2.66 * amr, mean - 2.66 * amr
    up2, lo2 = mean + (2 * (2.66 / 3)) * amr, mean - (2 * (2.66 / 3)) * amr
    outside = [v > upl or v < lpl for v in x]
    side = [int(np.sign(v - mean)) for v in x]
    close = [not outside[i] and (x[i] > up2 or x[i] < lo2) for i in range(n)]

    def windows(length):
        return [range(s, s + length) for s in range(n - length + 1)]

    shift = [False] * n
    for w in windows(7):
        if side[w[0]] != 0 and all(side[i] == side[w[0]] for i in w):
            for i in w:
                shift[i] = True
    trend = [False] * n
    for w in windows(7):
        steps = [np.sign(x[i] - x[i - 1]) for i in w[1:]]
        if all(s == 1 for s in steps) or all(s == -1 for s in steps):
            for i in w:
                trend[i] = True
    two = [False] * n
    for w in windows(3):
        if sum(close[i] for i in w) >= 2 and abs(sum(side[i] for i in w)) == 3:
            for i in w:
                two[i] = two[i] or close[i]
    out = []
    for i in range(n):
        if outside[i]:
            rule, v = "astronomical", 1 if side[i] == 1 else -1
        elif trend[i]:
            if i + 1 < n and trend[i + 1]:
                d = np.sign(x[i + 1] - x[i])
            else:
                d = np.sign(x[i] - x[i - 1]) if i else 0
            rule, v = "trend", 1 if d == 1 else -1
        elif two[i]:
            rule, v = "two_in_three", 1 if side[i] > 0 else -1
        elif shift[i]:
            rule, v = "shift", 1 if side[i] > 0 else -1
        else:
            rule, v = None, 0
        out.append((mean, lpl, upl, rule, v))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_matches_a_literal_reading_of_the_spec(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    # small integers give plenty of ties, points on the mean and runs; a level change gives signals
    x = rng.integers(0, 6, n).astype(float) + np.where(np.arange(n) > n // 2, rng.integers(0, 4), 0)
    if seed % 4 == 0:
        x = np.cumsum(rng.normal(size=n)).round(1)
    rebase = sorted({int(p) for p in rng.integers(0, n, rng.integers(0, 3))})
    fix = [None, 12, 15][seed % 3]
    screen = seed % 5 != 0
    got = xmr(x, rebase=rebase, fix_after_n_points=fix, screen_outliers=screen).points
    bounds = [0, *[p for p in rebase if p > 0], n]
    expected = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        expected += _reference_segment(list(x[a:b]), fix, screen)
    mean, lpl, upl, rule, direction = (list(column) for column in zip(*expected, strict=True))
    # bit for bit: the same float operations in the same order
    np.testing.assert_array_equal(got["mean"].to_numpy(), mean)
    np.testing.assert_array_equal(got["lpl"].to_numpy(), lpl)
    np.testing.assert_array_equal(got["upl"].to_numpy(), upl)
    assert got["rule"].tolist() == rule
    assert got["direction"].tolist() == direction


# --- many series at once ----------------------------------------------------------------------------
def _panel(n_series: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for s in range(n_series):
        n = int(rng.integers(1, 45))
        x = rng.integers(0, 8, n).astype(float) + np.where(np.arange(n) > rng.integers(0, n + 1), 3.0, 0.0)
        if s % 5 == 0:  # climbing in steps of 0, 1 or 2: trends, broken by ties
            x = np.cumsum(rng.integers(0, 3, n)).astype(float)
        x[rng.random(n) < 0.05] = np.nan
        rebase = np.zeros(n, dtype=bool)
        if rng.random() < 0.3:
            rebase[rng.integers(0, n, 2)] = True
        frames.append(
            pd.DataFrame(
                {
                    "agency": f"A{s % 7}",
                    "indicator": f"ind{s // 7:03d}",
                    "period": np.arange(n) * 3 + 2000,
                    "value": x,
                    "rebased": rebase,
                    "polarity": ["increase", "decrease", "neutral"][s % 3],
                    "goal": rng.choice([np.nan, 2.0, 5.0, 9.0, 20.0]),
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    return df.sample(frac=1.0, random_state=seed)  # rows in no particular order


@pytest.mark.parametrize("seed", [1, 2])
def test_xmr_frame_matches_xmr_series_by_series(seed):
    df = _panel(300, seed)
    points, series = xmr_frame(
        df,
        by=["agency", "indicator"],
        order="period",
        value="value",
        improvement_col="polarity",
        target_col="goal",
        rebase_col="rebased",
    )
    assert points.index.equals(df.index)
    assert len(series) == 300
    for (agency, indicator), rows in df.groupby(["agency", "indicator"]):
        rows = rows.sort_values("period")
        positions = list(np.flatnonzero(rows["rebased"].to_numpy()))
        one = xmr(
            rows["value"].to_numpy(),
            improvement=rows["polarity"].iloc[0],
            target=rows["goal"].iloc[0],
            rebase=positions,
        )
        got = points.loc[rows.index]
        for column in (
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
        ):
            np.testing.assert_array_equal(
                got[column].to_numpy(),
                one.points[column].to_numpy(),
                err_msg=f"{agency} {indicator} {column}",
            )
        summary = series[(series["agency"] == agency) & (series["indicator"] == indicator)].iloc[0]
        assert summary["variation"] == one.variation
        assert summary["assurance"] == one.assurance
        assert summary["trial_limits"] == one.trial_limits
        if one.latest_position is not None:
            assert summary["latest_period"] == rows["period"].iloc[one.latest_position]


def test_xmr_frame_options_pass_through():
    df = _panel(40, 3)
    kwargs = {
        "fix_after_n_points": 12,
        "screen_outliers": False,
        "two_in_three_includes_beyond": True,
        "shift_length": 6,
        "trend_length": 5,
    }
    points, _ = xmr_frame(df, by=["agency", "indicator"], improvement="decrease", target=5, **kwargs)
    for _, rows in df.groupby(["agency", "indicator"]):
        rows = rows.sort_values("period")
        one = xmr(rows["value"].to_numpy(), improvement="decrease", target=5, **kwargs)
        assert points.loc[rows.index, "point_type"].tolist() == one.points["point_type"].tolist()


def test_xmr_frame_single_series_without_by():
    df = pd.DataFrame({"period": range(14), "value": [9, 8, 9, 8, 9, 8, 9, 11, 12, 11, 12, 11, 12, 11]})
    points, series = xmr_frame(df.iloc[::-1])
    assert points.loc[13, "point_type"] == "special_cause_improvement"
    assert series["variation"].tolist() == ["special_cause_improvement"]
    assert series["latest_period"].tolist() == [13]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"improvement": "up"}, "improvement must be one of"),
        ({"improvement": "increase", "improvement_col": "polarity"}, "not both"),
        ({"target": 1, "target_col": "goal"}, "not both"),
        ({"value": "amount"}, "value: no column 'amount'"),
        ({"by": ["agency", "area"]}, "by: no column 'area'"),
        ({"improvement_col": "mixed"}, "improvement column 'mixed' must be the same for every row"),
        ({"improvement_col": "bad"}, "improvement column 'bad' must be one of"),
        ({"target_col": "wobbly"}, "target column 'wobbly' must be the same"),
        ({"fix_after_n_points": 3}, "fix_after_n_points"),
    ],
)
def test_xmr_frame_validation(kwargs, message):
    df = pd.DataFrame(
        {
            "agency": ["A"] * 4 + ["B"] * 4,
            "period": list(range(4)) * 2,
            "value": np.arange(8.0),
            "polarity": "increase",
            "mixed": ["increase", "decrease"] * 4,
            "bad": "up",
            "goal": 3.0,
            "wobbly": np.arange(8.0),
        }
    )
    kwargs = {"by": "agency", **kwargs}
    with pytest.raises(ValueError, match=message):
        xmr_frame(df, **kwargs)


def test_xmr_frame_rejects_repeated_periods_and_clashing_columns():
    df = pd.DataFrame({"agency": ["A"] * 3, "period": [1, 2, 2], "value": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="repeats a period"):
        xmr_frame(df, by="agency")
    with pytest.raises(ValueError, match="already has column"):
        xmr_frame(df.assign(mean=1.0, period=[1, 2, 3]), by="agency")


def test_xmr_frame_empty_and_missing_keys():
    empty = pd.DataFrame({"area": pd.Series([], dtype=str), "period": pd.Series([], dtype=int), "value": []})
    points, series = xmr_frame(empty, by="area")
    assert len(points) == 0 and len(series) == 0
    assert "point_type" in points.columns and "variation" in series.columns
    # a missing key is a series of its own; a series with no values has no icons
    df = pd.DataFrame(
        {"area": ["x", None, "x", None], "period": [1, 1, 2, 2], "value": [1.0, 2.0, 3.0, np.nan]}
    )
    points, series = xmr_frame(df, by="area", target=10)
    assert len(series) == 2
    assert series["n_points"].tolist() == [2, 1]
    assert points["point_type"].tolist() == ["common_cause"] * 3 + [None]


# --- Laney p′ / u′ and run charts --------------------------------------------------------------------
LANEY_X = [12, 15, 9, 20, 14, 30]
LANEY_N = [100, 120, 80, 150, 110, 300]
LANEY_P = [100 * a / b for a, b in zip(LANEY_X, LANEY_N, strict=True)]


def test_laney_p_prime_limits_by_hand():
    # p̄ = 100/860; σ_i = sqrt(p̄(1-p̄)/n_i); z_i = (p_i - p̄)/σ_i; σ_z = mean|Δz| / 1.128 = 0.509506 (worked
    # out longhand); limits p̄ ± 3 σ_i σ_z, point by point (Laney 2002)
    r = xmr(LANEY_P, "decrease", chart="p_prime", denominators=LANEY_N, scale=100)
    pts = r.points
    assert pts["mean"].iloc[0] == pytest.approx(100 * 100 / 860)
    assert list(pts["lpl"].round(4)) == [6.7281, 7.1550, 6.1498, 7.6272, 6.9561, 8.7990]
    assert list(pts["upl"].round(4)) == [16.5277, 16.1008, 17.1061, 15.6286, 16.2997, 14.4568]
    assert pts["lower_2sigma"].iloc[5] == pytest.approx(100 * 100 / 860 - 2 / 3 * (100 * 100 / 860 - 8.7990), abs=1e-3)
    assert list(pts["point_type"]) == ["common_cause"] * 6


def test_laney_with_equal_denominators_is_the_unscreened_xmr_chart():
    values = [20.0, 23.0, 19.0, 25.0, 22.0, 18.0, 21.0, 24.0]
    laney = xmr(values, chart="p_prime", denominators=[400] * 8, scale=100).points
    plain = xmr(values, screen_outliers=False).points
    for col in ("mean", "lpl", "upl", "lower_2sigma", "upper_2sigma"):
        # XmR's 2.66 is 3 / 1.128 rounded; Laney's formula keeps 3 / 1.128 = 2.6596
        assert np.allclose(laney[col], plain[col], rtol=2e-4)


def test_laney_u_prime_limits_equal_p_prime_because_sigma_z_absorbs_the_constant():
    p = xmr(LANEY_P, chart="p_prime", denominators=LANEY_N, scale=100).points
    u = xmr(LANEY_P, chart="u_prime", denominators=LANEY_N, scale=100).points
    assert np.allclose(p["upl"], u["upl"]) and np.allclose(p["lpl"], u["lpl"])


def test_laney_flags_a_point_beyond_its_own_limit():
    values = LANEY_P[:-1] + [20.0]  # the large last denominator has the narrowest limits
    r = xmr(values, "decrease", chart="p_prime", denominators=LANEY_N, scale=100)
    assert r.points["rule"].iloc[-1] == "astronomical" and r.variation == "special_cause_concern"


def test_laney_point_without_a_denominator_has_no_limits():
    r = xmr(LANEY_P, chart="p_prime", denominators=LANEY_N[:-1] + [np.nan], scale=100)
    assert np.isnan(r.points["upl"].iloc[-1]) and np.isfinite(r.points["upl"].iloc[0])


def test_run_chart_has_a_median_and_no_rules_or_icons():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 40]  # a trend and an outlier: an XmR chart would signal both
    r = xmr(values, "increase", target=3, chart="run")
    assert (r.points["mean"] == 5).all() and r.points["upl"].isna().all()
    assert r.points["rule"].isna().all() and r.points["point_type"].isna().all()
    assert r.variation is None and r.assurance is None and r.trial_limits is False


@pytest.mark.parametrize("dens, expected", [([100, 110, 90, 120], False), ([100, 110, 90, 140], True),
                                            ([100, np.nan, 100], False), ([50], False)])
def test_denominators_vary_by_more_than_a_quarter(dens, expected):
    from indicators.spc import denominators_vary

    assert denominators_vary(dens) is expected


def test_xmr_frame_chart_col_matches_xmr_series_by_series():
    df = pd.DataFrame({"s": ["a"] * 6 + ["b"] * 6, "t": list(range(6)) * 2,
                       "v": LANEY_P + [3.0, 5, 4, 6, 2, 5], "n": LANEY_N * 2,
                       "chart": ["p_prime"] * 6 + ["xmr"] * 6})
    pts, series = xmr_frame(df, by="s", order="t", value="v", chart_col="chart", denominator_col="n", scale=100)
    a = xmr(LANEY_P, chart="p_prime", denominators=LANEY_N, scale=100).points
    b = xmr([3.0, 5, 4, 6, 2, 5]).points
    assert np.allclose(pts["upl"].iloc[:6], a["upl"]) and np.allclose(pts["upl"].iloc[6:], b["upl"])
    assert list(series["chart"]) == ["p_prime", "xmr"]


def test_laney_chart_needs_denominators():
    with pytest.raises(ValueError, match="denominators"):
        xmr([1.0, 2.0], chart="p_prime")
    with pytest.raises(ValueError, match="chart must be one of"):
        xmr([1.0, 2.0], chart="c_chart")
