"""Simulations: are the baseline's intervals calibrated, and how often does "has the curve turned?" say so?

Fixed seeds, thousands of simulated series of each kind a safeguarding dataset holds:

* quarterly flows (a count each quarter, stable or trending);
* rolling 12-month headlines built from quarterly flows (counts, rates per 10,000, percentages whose
  quarterly denominators vary);
* a financial year-to-date count (resets every April);
* stocks at quarter end (children on a plan): each child leaves with a fixed probability per quarter
  (0.3 or 0.1) and new children start as a Poisson flow, so most of the stock is carried over.

For each, with 8, 12 and 16 quarters of returns:

1. coverage: the share of the four held-out headline values (1 to 4 quarters ahead) inside the forecast's 80%
   and 95% intervals (goal: within five points of nominal);
2. no change: how often the curve verdict says "turned" within 1, 2, 3 and 4 quarters of a freeze (goal
   <= 5% within four) and "turning" after one (goal <= 20%), with higher and with lower better (a series
   trending one way risks a false "turned" under one polarity);
3. power: how often it says "turned" within four quarters after a real improvement (a shift of 1 and 2 sd
   of the quarterly noise, and realistic changes).

``run(seed=...)`` returns the rows (dicts); ``python benchmarks/sim_forecast.py`` prints the table.
``--engine headline --indicators-from PATH`` runs the simulations through the engine of another checkout
(e.g. one at commit 344150b, the engine before issue 7) on the headline values, as it was applied then;
its figures are recorded in sim_forecast_before.json, which the table prints first. With 2,000 series a
rate of 5% has a standard error of 0.5 points.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

BEFORE = Path(__file__).with_name("sim_forecast_before.json")  #: the figures recorded before issue 7
HISTORIES = (8, 12, 16)
HORIZON = 4
PHASES = 4  # series start in each quarter of the financial year, a quarter of them each


# --- the series -------------------------------------------------------------------------------------------------
@dataclass
class Panel:
    """Simulated series: the quarter's own values, the headline and what the engine needs to know."""

    quarterly: np.ndarray  #: (m, T) the quarter's own value, on the headline's scale
    headline: np.ndarray  #: (m, T) what the board sees (NaN where a window is incomplete)
    weights: np.ndarray | None  #: (m, T) the quarter's denominator for ratio headlines
    year_quarter: np.ndarray  #: (T,) financial quarter 1..4 of each column
    noise_sd: float  #: sd of one quarter's own value (the unit of the power shifts)


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  #: flow | rolling_12m | fytd | snapshot
    unit: str  #: count | rate_per_10000 | percentage
    polarity: str
    make: object = field(repr=False)  #: (rng, m, T, first_quarter, change_at, change) -> Panel


def _window(q: np.ndarray, w: np.ndarray | None, starts: np.ndarray) -> np.ndarray:
    """Headline over columns starts[j]..j: the sum, or the w-weighted mean when weights are given."""
    m, t = q.shape
    out = np.full((m, t), np.nan)
    for j in range(t):
        s = starts[j]
        if s < 0:
            continue
        if w is None:
            out[:, j] = q[:, s : j + 1].sum(axis=1)
        else:
            out[:, j] = (q[:, s : j + 1] * w[:, s : j + 1]).sum(axis=1) / w[:, s : j + 1].sum(axis=1)
    return out


def _year_quarter(first_quarter: int, t: int) -> np.ndarray:
    return (first_quarter - 1 + np.arange(t)) % 4 + 1


def _change(t: int, change_at: int | None, change: float) -> np.ndarray:
    """0 before the change, ``change`` from column change_at on."""
    step = np.zeros(t)
    if change_at is not None:
        step[change_at:] = change
    return step


def flow_counts(mean: float, trend: float = 0.0):
    """A Poisson count each quarter, mean + trend x t; the change is in sd of the quarterly noise."""

    def make(rng, m, t, first_quarter, change_at, change):
        sd = float(np.sqrt(mean))
        mu = mean + trend * np.arange(t) + _change(t, change_at, change) * sd
        q = rng.poisson(np.maximum(mu, 0.1), (m, t)).astype(float)
        return Panel(q, q.copy(), None, _year_quarter(first_quarter, t), sd)

    return make


def flow_percentage(p: float, denominator: float, trend: float = 0.0):
    """A percentage each quarter: Poisson denominators, binomial numerators, p + trend x t."""

    def make(rng, m, t, first_quarter, change_at, change):
        sd = float(100 * np.sqrt(p * (1 - p) / denominator))
        prob = np.clip(p + trend * np.arange(t) + _change(t, change_at, change) * sd / 100, 0, 1)
        den = np.maximum(rng.poisson(denominator, (m, t)), 1)
        q = 100 * rng.binomial(den, prob) / den
        return Panel(q, q.copy(), den.astype(float), _year_quarter(first_quarter, t), sd)

    return make


def rolling_counts(mean: float, per: float | None = None, trend: float = 0.0, relative: bool = False):
    """Rolling 12-month sum of Poisson quarterly counts; with ``per`` (a population), a rate per 10,000.

    ``relative``: the change is a fraction of the mean (e.g. -0.2 = 20% fewer), not sd of the noise."""

    def make(rng, m, t, first_quarter, change_at, change):
        sd = float(np.sqrt(mean))
        shift = _change(t, change_at, change) * (mean if relative else sd)
        mu = mean + trend * np.arange(t) + shift
        q = rng.poisson(np.maximum(mu, 0.1), (m, t)).astype(float)
        scale = 1.0 if per is None else 10_000.0 / per
        q *= scale
        starts = np.arange(t) - 3
        return Panel(q, _window(q, None, starts), None, _year_quarter(first_quarter, t), sd * scale)

    return make


def rolling_percentage(p: float, denominator: float, points: bool = False):
    """Rolling 12-month percentage: Poisson denominators, binomial numerators; the headline is
    100 x (sum of numerators) / (sum of denominators). ``points``: the change is in percentage points."""

    def make(rng, m, t, first_quarter, change_at, change):
        sd = float(100 * np.sqrt(p * (1 - p) / denominator))
        shift = _change(t, change_at, change) * (1.0 if points else sd) / 100
        den = np.maximum(rng.poisson(denominator, (m, t)), 1).astype(float)
        num = rng.binomial(den.astype(int), np.clip(p + shift, 0, 1)).astype(float)
        q = 100 * num / den
        starts = np.arange(t) - 3
        return Panel(q, _window(q, den, starts), den, _year_quarter(first_quarter, t), sd)

    return make


def fytd_counts(mean: float):
    """Financial year-to-date sum of Poisson quarterly counts (resets every April)."""

    def make(rng, m, t, first_quarter, change_at, change):
        sd = float(np.sqrt(mean))
        mu = mean + _change(t, change_at, change) * sd
        q = rng.poisson(np.maximum(mu, 0.1), (m, t)).astype(float)
        yq = _year_quarter(first_quarter, t)
        starts = np.arange(t) - (yq - 1)
        return Panel(q, _window(q, None, starts), None, yq, sd)

    return make


def stock(exit_probability: float, mean: float, growth: float = 0.0):
    """Children on a plan at quarter end: each leaves with ``exit_probability`` a quarter, starts are Poisson.

    The stock starts from its equilibrium (Poisson with the mean). ``growth``: starts grow by this fraction of
    their mean every quarter. The change is in starts, in sd of one quarter's innovation
    sqrt(starts x (2 - exit)), so the stock moves to its new level gradually, as a real one would."""

    def make(rng, m, t, first_quarter, change_at, change):
        e = exit_probability
        starts = mean * e
        sd = float(np.sqrt(starts * (2 - e)))
        lam = starts * (1 + growth * np.arange(t)) + _change(t, change_at, change) * sd
        s = rng.poisson(mean, m)
        q = np.empty((m, t))
        for j in range(t):
            s = rng.binomial(s, 1 - e) + rng.poisson(max(lam[j], 0.1), m)
            q[:, j] = s
        return Panel(q, q.copy(), None, _year_quarter(first_quarter, t), sd)

    return make


COVERAGE = [
    Scenario("stable quarterly count", "flow", "count", "lower_better", flow_counts(50)),
    Scenario("trending quarterly count", "flow", "count", "lower_better", flow_counts(40, trend=1.5)),
    Scenario("trending quarterly percentage", "flow", "percentage", "higher_better",
             flow_percentage(0.45, 80, trend=0.01)),
    Scenario("rolling 12-month count", "rolling_12m", "count", "lower_better", rolling_counts(30)),
    Scenario("rolling 12-month count, trending", "rolling_12m", "count", "lower_better",
             rolling_counts(30, trend=0.8)),
    Scenario("rolling 12-month rate", "rolling_12m", "rate_per_10000", "lower_better",
             rolling_counts(25, per=20_000)),
    Scenario("rolling 12-month percentage", "rolling_12m", "percentage", "higher_better",
             rolling_percentage(0.6, 60)),
    Scenario("year-to-date count", "fytd", "count", "higher_better", fytd_counts(40)),
    Scenario("stock, exit 0.3 a quarter", "snapshot", "count", "lower_better", stock(0.3, 100)),
    Scenario("stock, exit 0.1 a quarter", "snapshot", "count", "lower_better", stock(0.1, 100)),
    Scenario("stock, exit 0.3, starts growing", "snapshot", "count", "lower_better",
             stock(0.3, 100, growth=0.02)),
]

#: power: (scenario, change, what the change is); changes are improvements (in the good direction)
_BY_NAME = {sc.name: sc for sc in COVERAGE}
POWER = [
    (_BY_NAME["stable quarterly count"], -1.0, "1 sd fewer"),
    (_BY_NAME["stable quarterly count"], -2.0, "2 sd fewer"),
    (_BY_NAME["stable quarterly count"], -3.0, "3 sd fewer"),
    (_BY_NAME["rolling 12-month count"], -1.0, "1 sd fewer"),
    (_BY_NAME["rolling 12-month count"], -2.0, "2 sd fewer"),
    (Scenario("rolling 12-month count", "rolling_12m", "count", "lower_better", rolling_counts(30, relative=True)),
     -0.25, "25% fewer"),
    (_BY_NAME["rolling 12-month percentage"], 1.0, "1 sd higher"),
    (_BY_NAME["rolling 12-month percentage"], 2.0, "2 sd higher"),
    (Scenario("rolling 12-month percentage", "rolling_12m", "percentage", "higher_better",
              rolling_percentage(0.6, 60, points=True)), 10.0, "60% to 70%"),
    (_BY_NAME["year-to-date count"], 2.0, "2 sd higher"),
    (_BY_NAME["stock, exit 0.3 a quarter"], -1.0, "starts 1 sd fewer"),
    (_BY_NAME["stock, exit 0.3 a quarter"], -2.0, "starts 2 sd fewer"),
    (_BY_NAME["stock, exit 0.1 a quarter"], -2.0, "starts 2 sd fewer"),
]


def _seed(*parts) -> list[int]:
    """A seed per measurement, scenario and history length that does not depend on the order of the lists."""
    return [zlib.crc32(str(p).encode()) if isinstance(p, str) else int(p) for p in parts]


def simulate(sc: Scenario, rng, m: int, t: int, change_at=None, change=0.0) -> list[Panel]:
    """``m`` series in PHASES groups, each group starting in another quarter of the financial year."""
    sizes = np.full(PHASES, m // PHASES)
    sizes[: m % PHASES] += 1
    return [sc.make(rng, int(k), t, phase + 1, change_at, change) for phase, k in enumerate(sizes)]


def bounds(unit: str) -> tuple[float, float | None]:
    return 0.0, (100.0 if unit == "percentage" else None)


# --- the engines -------------------------------------------------------------------------------------------------
class HeadlineEngine:
    """The engine as it was applied before issue 7: forecast the headline values themselves, and judge the
    curve on them. Only calls that engine's API had (forecast_many, freeze_baseline, curve_turned)."""

    name = "headline"

    def __init__(self, forecast_module):
        self.fc = forecast_module

    def intervals(self, sc: Scenario, panel: Panel, n: int):
        lo, hi = bounds(sc.unit)
        b = self.fc.forecast_many(panel.headline[:, :n], HORIZON, lower_bound=lo, upper_bound=hi)
        return b.lo80, b.hi80, b.lo95, b.hi95

    def verdicts(self, sc: Scenario, panel: Panel, n: int, polarities) -> dict[str, np.ndarray]:
        """Per polarity, (m, HORIZON) verdicts after 1..HORIZON quarters since a freeze at column n - 1."""
        lo, hi = bounds(sc.unit)
        out = {p: np.empty((panel.headline.shape[0], HORIZON), dtype=object) for p in polarities}
        for i, y in enumerate(panel.headline):
            base = self.fc.freeze_baseline(y[:n], n - 1, horizon=HORIZON, lower_bound=lo, upper_bound=hi)
            for k in range(1, HORIZON + 1):
                for p in polarities:
                    out[p][i, k - 1] = self.fc.curve_turned(base, y[n : n + k], p).verdict
        return out


class CalibratedEngine:
    """The engine of issue 7: forecast each quarter's own value (the headline for flows and stocks), build the
    headline from those forecasts, and judge the curve by the cumulative test on the quarters' own values."""

    name = "calibrated"

    def __init__(self, forecast_module):
        self.fc = forecast_module

    def forecast(self, sc: Scenario, panel: Panel, n: int):
        lo, hi = bounds(sc.unit)
        w = None if panel.weights is None else panel.weights[:, :n]
        return self.fc.forecast_many(panel.quarterly[:, :n], HORIZON, lower_bound=lo, upper_bound=hi,
                                     kind=sc.kind, weights=w, year_quarter=panel.year_quarter[:n])

    def intervals(self, sc: Scenario, panel: Panel, n: int):
        b = self.forecast(sc, panel, n)
        return b.lo80, b.hi80, b.lo95, b.hi95

    def verdicts(self, sc: Scenario, panel: Panel, n: int, polarities) -> dict[str, np.ndarray]:
        b = self.forecast(sc, panel, n)
        actual = panel.quarterly[:, n : n + HORIZON]
        return {p: self.fc.curve_evidence(b.quarter_point, b.quarter_cov, b.df, actual, p)["verdict"]
                for p in polarities}


def load_forecast_module(indicators_from: Path | None):
    """indicators.forecast from this checkout, or from another one (its root given: the indicators package
    already imported is set aside, so that one is imported instead)."""
    if indicators_from is None:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        return importlib.import_module("indicators.forecast")
    sys.path.insert(0, str(indicators_from))
    for name in [k for k in sys.modules if k == "indicators" or k.startswith("indicators.")]:
        del sys.modules[name]
    return importlib.import_module("indicators.forecast")


# --- the measurements ----------------------------------------------------------------------------------------------
def coverage_rows(engine, seed: int, m: int) -> list[dict]:
    rows = []
    for sc in COVERAGE:
        for n in HISTORIES:
            rng = np.random.default_rng(_seed(seed, 1, sc.name, n))
            inside80 = np.zeros(HORIZON)
            inside95 = np.zeros(HORIZON)
            counted = np.zeros(HORIZON)
            for panel in simulate(sc, rng, m, n + HORIZON):
                lo80, hi80, lo95, hi95 = engine.intervals(sc, panel, n)
                actual = panel.headline[:, n : n + HORIZON]
                ok = np.isfinite(actual) & np.isfinite(lo80)
                inside80 += (ok & (actual >= lo80) & (actual <= hi80)).sum(axis=0)
                inside95 += (ok & (actual >= lo95) & (actual <= hi95)).sum(axis=0)
                counted += ok.sum(axis=0)
            for h in range(HORIZON):
                rows.append({"measure": "coverage", "series": sc.name, "kind": sc.kind, "history": n,
                             "step": h + 1, "cover80": inside80[h] / max(counted[h], 1),
                             "cover95": inside95[h] / max(counted[h], 1), "n": int(counted[h])})
    return rows


def _verdict_rates(engine, sc: Scenario, n: int, rng, m: int, change: float = 0.0, polarities=None):
    """Per polarity: the share of series with "turned" at any look up to k (k = 1..HORIZON), and with
    "turning" at look 1."""
    polarities = polarities or (sc.polarity,)
    turned = {p: np.zeros(HORIZON) for p in polarities}
    turning = dict.fromkeys(polarities, 0.0)
    total = 0
    for panel in simulate(sc, rng, m, n + HORIZON, change_at=n if change else None, change=change):
        for p, v in engine.verdicts(sc, panel, n, polarities).items():
            turned[p] += np.cumsum(v == "turned", axis=1).clip(0, 1).sum(axis=0)
            turning[p] += (v[:, 0] == "turning").sum()
        total += panel.headline.shape[0]
    return {p: (turned[p] / total, turning[p] / total) for p in polarities}


def curve_rows(engine, seed: int, m: int) -> list[dict]:
    """No change: both polarities (a series trending one way is a false "turned" risk for one of them and a
    false "worsened" risk for the other). Power: the scenario's polarity, the change in its good direction."""
    rows = []
    for sc in COVERAGE:
        for n in HISTORIES:
            rng = np.random.default_rng(_seed(seed, 2, sc.name, n))
            rates = _verdict_rates(engine, sc, n, rng, m, polarities=("higher_better", "lower_better"))
            for polarity, (turned, turning) in rates.items():
                rows.append({"measure": "no_change", "series": sc.name, "kind": sc.kind, "history": n,
                             "polarity": polarity,
                             **{f"turned_within_{k + 1}": turned[k] for k in range(HORIZON)},
                             "turning_after_1": turning})
    for sc, change, what in POWER:
        for n in HISTORIES:
            rng = np.random.default_rng(_seed(seed, 3, sc.name, what, n))
            turned, _ = _verdict_rates(engine, sc, n, rng, m, change)[sc.polarity]
            rows.append({"measure": "power", "series": sc.name, "kind": sc.kind, "history": n, "change": what,
                         "polarity": sc.polarity, **{f"turned_within_{k + 1}": turned[k] for k in range(HORIZON)}})
    return rows


def run(seed: int = 20261101, n_series: int = 2000, engine=None, curve_series: int | None = None) -> list[dict]:
    """Every measurement, as rows of dicts (``measure``: coverage, no_change or power)."""
    if engine is None:
        engine = make_engine("calibrated", None)
    rows = coverage_rows(engine, seed, n_series)
    rows += curve_rows(engine, seed, curve_series or n_series)
    for r in rows:
        r["engine"] = engine.name
        r.update({k: float(v) for k, v in r.items() if isinstance(v, np.floating)})
    return rows


def make_engine(name: str, indicators_from: Path | None):
    module = load_forecast_module(indicators_from)
    if name == "headline":
        return HeadlineEngine(module)
    if name == "calibrated":
        return CalibratedEngine(module)
    raise ValueError(f"unknown engine {name!r}")


# --- the table --------------------------------------------------------------------------------------------------
def _pct(x: float) -> str:
    return f"{100 * x:5.1f}"


def print_table(rows: list[dict], title: str) -> None:
    print(f"\n== {title}")
    cov = [r for r in rows if r["measure"] == "coverage"]
    print("\nCoverage of the headline's intervals on held-out quarters (%; goal 80 +/- 5 and 95 +/- 5)")
    print(f"{'series':36} {'hist':>4}  {'80% at steps 1-4':>27}  {'95% at steps 1-4':>27}")
    for key in dict.fromkeys((r["series"], r["history"]) for r in cov):
        rs = [r for r in cov if (r["series"], r["history"]) == key]
        c80 = " ".join(_pct(r["cover80"]) for r in rs)
        c95 = " ".join(_pct(r["cover95"]) for r in rs)
        print(f"{key[0]:36} {key[1]:>4}  {c80:>27}  {c95:>27}")
    nc = [r for r in rows if r["measure"] == "no_change"]
    print("\nNo change: 'turned' within 1-4 quarters of the freeze (goal <= 5 within 4) and 'turning' after 1 "
          "(goal <= 20), %")
    for r in nc:
        t = " ".join(_pct(r[f"turned_within_{k}"]) for k in range(1, HORIZON + 1))
        pol = {"higher_better": "higher is better", "lower_better": "lower is better"}[r["polarity"]]
        print(f"{r['series']:36} {r['history']:>4}  {pol:16}  turned {t}   turning {_pct(r['turning_after_1'])}")
    pw = [r for r in rows if r["measure"] == "power"]
    print("\nPower: 'turned' within 1-4 quarters after a real improvement, %")
    for r in pw:
        t = " ".join(_pct(r[f"turned_within_{k}"]) for k in range(1, HORIZON + 1))
        print(f"{r['series'] + ', ' + r['change']:52} {r['history']:>4}  turned {t}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="calibrated", choices=["calibrated", "headline"])
    ap.add_argument("--indicators-from", type=Path, default=None,
                    help="root of another checkout whose indicators package to use")
    ap.add_argument("--series", type=int, default=2000, help="series per scenario and history length")
    ap.add_argument("--curve-series", type=int, default=None,
                    help="series per scenario for the curve verdicts (default: --series)")
    ap.add_argument("--seed", type=int, default=20261101)
    ap.add_argument("--save", type=Path, default=None, help="also write the rows to this JSON file")
    ap.add_argument("--no-before", action="store_true", help=f"do not print the figures recorded in {BEFORE.name}")
    args = ap.parse_args(argv)
    if not args.no_before and BEFORE.exists():
        recorded = json.loads(BEFORE.read_text())
        print_table(recorded["rows"], f"BEFORE issue 7, recorded once: {recorded['how']}")
    engine = make_engine(args.engine, args.indicators_from)
    t0 = time.perf_counter()
    rows = run(args.seed, args.series, engine, args.curve_series)
    print_table(rows, f"NOW: engine {engine.name}, {args.series} series per row "
                      f"({args.curve_series or args.series} for the verdicts), {time.perf_counter() - t0:.0f} s")
    if args.save:
        how = (f"python benchmarks/sim_forecast.py --engine {args.engine} --series {args.series} "
               f"--curve-series {args.curve_series or args.series} --seed {args.seed}"
               + (f" --indicators-from <checkout at {args.indicators_from.name}>" if args.indicators_from else ""))
        args.save.write_text(json.dumps({"how": how, "rows": rows}, indent=1, default=float) + "\n")


if __name__ == "__main__":
    main()
