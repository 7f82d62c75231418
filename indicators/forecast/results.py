"""What the forecasting engine returns: a batch of baselines, one baseline, and a curve verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Columns of :attr:`Baseline.forecast` (the headline's forecast).
FORECAST_COLUMNS = ["step", "position", "point", "lo80", "hi80", "lo95", "hi95"]
#: Columns of :attr:`Baseline.quarterly` (the forecast of each quarter's own value, which the curve test uses).
QUARTERLY_COLUMNS = ["step", "position", "point", "sd", "lo80", "hi80", "lo95", "hi95"]
#: Columns of :attr:`TurnResult.comparison`: the headline's forecast and actual, then the quarter's own
#: (equal to the headline for flows and snapshots), then the evidence after each quarter.
COMPARISON_COLUMNS = FORECAST_COLUMNS + [
    "actual",
    "difference",
    "direction",
    "assessment",
    "outside_80",
    "outside_95",
    "quarter_point",
    "quarter_sd",
    "quarter_lo80",
    "quarter_hi80",
    "quarter_lo95",
    "quarter_hi95",
    "quarter_actual",
    "quarter_difference",
    "quarter_assessment",
    "quarter_outside_80",
    "evidence",
    "boundary",
    "look_verdict",
]


def forecast_frame(steps, positions, point, lo80, hi80, lo95, hi95) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "step": np.asarray(steps).astype(int),
            "position": np.asarray(positions).astype(int),
            "point": np.asarray(point, dtype=float),
            "lo80": np.asarray(lo80, dtype=float),
            "hi80": np.asarray(hi80, dtype=float),
            "lo95": np.asarray(lo95, dtype=float),
            "hi95": np.asarray(hi95, dtype=float),
        }
    )


@dataclass(frozen=True)
class Baseline:
    """A turn-the-curve baseline for one series: the fitted history and a forecast with prediction intervals.

    Positions are 0-based places in the series that was given (one per quarter, missing ones included).
    ``forecast`` is the headline's forecast (a rolling or year-to-date total built from the quarters' own
    forecasts); ``quarterly`` the forecast of each quarter's own value with its predictive sd, and
    ``covariance`` the covariance of those quarters' forecast errors across steps (horizon x horizon), with
    ``df`` degrees of freedom (inf: normal). For flows and snapshots headline and quarter are the same.
    """

    method: str  #: "none", "flat", "linear", "linear_seasonal", "damped_holt" or "ar1"
    method_label: str  #: one sentence stating the method, for the chart and the board paper
    n_points: int  #: reported (non-missing) quarters the baseline was fitted to
    fitted: np.ndarray  #: in-sample fit of the quarters' own values, one per input position (NaN elsewhere)
    forecast: pd.DataFrame  #: FORECAST_COLUMNS, one row per step 1..horizon
    criteria: dict[str, float] = field(default_factory=dict)  #: AICc of each model tried, F-test, SSE
    params: dict[str, float] = field(default_factory=dict)  #: the chosen model's parameters and sigma
    notes: tuple[str, ...] = ()  #: what was dropped, clipped or fell back, in plain English
    origin: int = -1  #: position of the last quarter the baseline could see (len(values) - 1)
    last_observed: int = -1  #: position of the last reported value it used (-1 if none)
    indicative: bool = False  #: True when the interval is too wide to lean on (3-5 quarters)
    has_interval: bool = True  #: False for "none" and "flat" (the interval columns are NaN)
    kind: str = "flow"  #: flow, rolling_12m, fytd or snapshot
    quarterly: pd.DataFrame | None = None  #: QUARTERLY_COLUMNS, one row per step
    covariance: np.ndarray | None = None  #: (horizon, horizon) covariance of the quarters' forecast errors
    df: float = np.inf  #: degrees of freedom of the intervals (inf: normal)


@dataclass(frozen=True)
class BatchForecast:
    """Baselines for many series at once (:func:`indicators.forecast.forecast_many`).

    Row i is series i. The headline forecast is ``point`` and ``lo80`` .. ``hi95`` (n_series x horizon);
    the forecast of each quarter's own value is ``quarter_point`` with its predictive sd ``quarter_sd`` and
    the covariance of its errors across steps ``quarter_cov`` (n_series x horizon x horizon), with ``df``
    degrees of freedom per series (inf: normal intervals). ``positions`` are the positions of steps
    1..horizon, shared by every series: n_periods .. n_periods + horizon - 1. :meth:`baseline` gives one
    row as a :class:`Baseline`, with its working (criteria, parameters, fitted values, notes).
    """

    method: np.ndarray  #: (n_series,) str (object array): "none", "flat", "linear", ... as Baseline.method
    method_label: np.ndarray  #: (n_series,) str (object array)
    n_points: np.ndarray  #: (n_series,) int
    point: np.ndarray  #: (n_series, horizon) headline
    lo80: np.ndarray  #: (n_series, horizon)
    hi80: np.ndarray  #: (n_series, horizon)
    lo95: np.ndarray  #: (n_series, horizon)
    hi95: np.ndarray  #: (n_series, horizon)
    indicative: np.ndarray  #: (n_series,) bool
    has_interval: np.ndarray  #: (n_series,) bool
    positions: np.ndarray  #: (horizon,) int
    kind: np.ndarray | None = None  #: (n_series,) str (object array)
    quarter_point: np.ndarray | None = None  #: (n_series, horizon) each quarter's own value
    quarter_sd: np.ndarray | None = None  #: (n_series, horizon) its predictive sd
    quarter_cov: np.ndarray | None = None  #: (n_series, horizon, horizon) covariance of its forecast errors
    df: np.ndarray | None = None  #: (n_series,) degrees of freedom of the intervals (inf: normal)
    details: dict | None = field(default=None, repr=False)  #: the working behind baseline(i)

    def __len__(self) -> int:
        return int(self.method.size)

    def forecast(self, i: int) -> pd.DataFrame:
        """Series ``i``'s headline forecast as the :data:`FORECAST_COLUMNS` frame of :attr:`Baseline.forecast`."""
        steps = np.arange(1, self.positions.size + 1)
        return forecast_frame(
            steps, self.positions, self.point[i], self.lo80[i], self.hi80[i], self.lo95[i], self.hi95[i]
        )

    def quarter_bands(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The 80% and 95% prediction intervals of each quarter's own value: (lo80, hi80, lo95, hi95)."""
        from scipy import special

        df = np.where(np.isnan(self.df), 1.0, self.df)[:, None]
        t80, t95 = special.stdtrit(df, 0.90), special.stdtrit(df, 0.975)
        p, sd = self.quarter_point, self.quarter_sd
        return p - t80 * sd, p + t80 * sd, p - t95 * sd, p + t95 * sd

    def baseline(self, i: int) -> Baseline:
        """Series ``i`` as a :class:`Baseline` (its fitted values, criteria, parameters and notes included)."""
        from indicators.forecast.engine import baseline_of

        return baseline_of(self, i)


@dataclass(frozen=True)
class TurnResult:
    """How the actuals since an action plan started compare with the baseline frozen when it started.

    The counts are of the quarters' own values (the headline's for flows and snapshots), set against the
    frozen forecast of those values and its 80% and 95% bands. ``evidence`` is the cumulative statistic
    after the latest reported quarter (in standard errors, on the better side; negative: worse) and
    ``boundary`` the value it must reach for "turned", allowing for a look every quarter.
    """

    verdict: str  #: "turned", "turning", "not_turned", "worsened", "no_direction", "too_early", "no_baseline"
    sentence: str  #: the finding in plain English
    polarity: str
    comparison: pd.DataFrame  #: COMPARISON_COLUMNS, one row per forecast step
    n_compared: int  #: reported quarters compared
    n_better: int
    n_worse: int
    n_same: int
    n_outside_80_good: int  #: better than forecast and beyond the 80% band
    n_outside_80_bad: int
    n_outside_95_good: int
    n_outside_95_bad: int
    n_not_reported: int  #: forecast steps with no actual yet (or missing)
    n_beyond_horizon: int  #: actuals after the last forecast step, not compared
    mean_difference: float = np.nan  #: average of (actual - forecast) over the reported quarters
    evidence: float = np.nan  #: cumulative statistic after the latest quarter, better side positive
    boundary: float = np.nan  #: what the evidence must reach for "turned" (or "worsened", mirrored)
    min_difference: float = 0.0  #: the smallest difference per quarter that matters, in the indicator's units
