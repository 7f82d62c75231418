"""Turn-the-curve baselines: where a quarterly indicator goes if nothing changes, and whether it turned.

In Outcome-Based Accountability the *baseline* is an indicator's history plus a forecast of its future if
nothing changes; *turning the curve* means that the actuals after an action plan starts beat the forecast
made when it started. One engine makes that forecast for a whole panel of series (:func:`forecast_many`);
:func:`forecast_baseline` is the same engine on one series. The steps, one module each:

1. a model of each quarter's own value (:mod:`.linear`: least-squares trend with optional seasonal dummies;
   :mod:`.damped`: damped trend ETS(A,Ad,N); :mod:`.stock`: AR(1) around a level and around a line,
   averaged, for stocks);
2. the method choice per series and the forecasts (:mod:`.engine`);
3. the headline built from the quarters' forecasts, with intervals from their error covariance
   (:mod:`.headline`: rolling 12-month and year-to-date figures);
4. "has the curve turned?" from every quarter since the freeze (:mod:`.curve`).

What a headline is (``kind``): ``flow`` (the quarter's own value: forecast directly), ``rolling_12m`` (sum or
denominator-weighted mean of the four quarters ending with this one) and ``fytd`` (the same from Q1 of the
financial year) are built from forecasts of the quarters' own values, which are independent; ``snapshot``
(a stock at quarter end, mostly carried over) is forecast by a model of its autocorrelation.

Method choice (``method="auto"``), by the number n of reported quarters of the series forecast:

* n = 0: no baseline (``none``); n = 1 or 2: flat at the last value, no interval (``flat``);
* snapshots from n = 4 (3 pairs of consecutive quarters): AR(1) with a bias-corrected persistence around
  the level, averaged from n = 6 with an AR(1) around a line, with t intervals that include the estimates'
  and the models' uncertainty (``ar1``; indicative below 6);
* otherwise an OLS linear trend with t prediction intervals (``linear``; indicative below 6); from n = 12
  (three full years), quarterly seasonal dummies when an F-test of the three seasonal terms is significant
  at 1% (``linear_seasonal``), and a damped additive trend (Holt, phi in [0.8, 0.98]) when its AICc is lower
  (``damped_holt``). AICc is computed alike for both (Gaussian likelihood of the residuals, one-step errors
  for the damped trend; k = 3 for the line, 6 with dummies or for the damped trend).

References: Hyndman RJ, Koehler AB, Ord JK, Snyder RD (2008) *Forecasting with Exponential Smoothing: the
state space approach*, Springer; Gardner ES, McKenzie E (1985) Management Science 31:1237-46 (damped trend);
Hurvich CM, Tsai CL (1989) Biometrika 76:297-307 (AICc); Montgomery, Peck and Vining, *Introduction to Linear
Regression Analysis* (prediction of new observations); Box, Jenkins and Reinsel, *Time Series Analysis*;
Kendall (1954), Orcutt and Winokur (1969), Shaman and Stine (1988) (bias of the AR(1) estimate); Draper
(1995) (model averaging); Pocock (1977) and Jennison and Turnbull (2000) (repeated looks). docs/methods-statistics.md says the same for analysts, with the measured
coverage and error rates (benchmarks/sim_forecast.py).
"""

from indicators.forecast.curve import curve_evidence, curve_turned, repeated_looks_boundary
from indicators.forecast.engine import forecast_baseline, forecast_many, freeze_baseline
from indicators.forecast.inputs import KINDS, METHODS
from indicators.forecast.results import (
    COMPARISON_COLUMNS,
    FORECAST_COLUMNS,
    QUARTERLY_COLUMNS,
    Baseline,
    BatchForecast,
    TurnResult,
)

__all__ = [
    "Baseline",
    "BatchForecast",
    "TurnResult",
    "FORECAST_COLUMNS",
    "QUARTERLY_COLUMNS",
    "COMPARISON_COLUMNS",
    "KINDS",
    "METHODS",
    "forecast_baseline",
    "forecast_many",
    "freeze_baseline",
    "curve_turned",
    "curve_evidence",
    "repeated_looks_boundary",
]
