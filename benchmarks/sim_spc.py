"""Simulation: how often a stable process's latest quarter is flagged special cause.

Every shipped indicator is simulated as it would be returned by a partnership whose services do not change:
the measures' levels are the demo's (fictional Harrowdale), counts are Poisson with a little extra variation
from quarter to quarter, parts of a whole are binomial, and stocks (children on a plan at quarter end) are
carried over from quarter to quarter (each member leaves with a fixed probability, new members arrive at the
rate that keeps the stock level). The series go through ``build_dataset``, so what is measured is exactly what
the board would see. For each indicator we count the series whose latest quarter is flagged special cause:

* **before**: an XmR chart of the headline value (rolling 12 months, year to date or snapshot included), as
  the product charted until issue 7;
* **after**: the control chart the indicator declares (its quarters, a related flow or a run chart), with
  Laney's p′/u′ where denominators vary materially, under the default two-in-three rule and under the rule as
  Making Data Count's tools count it since November 2023.

A second part compares XmR and Laney's p′ on percentages whose denominators vary widely (20 to 500), with and
without extra-binomial variation. Fixed seeds; ``run()`` returns the rows, ``__main__`` prints them.
Goal (issue 7): at most 3% on average and 5% for every shipped indicator.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from etl.demo import _number, demo_returns  # noqa: E402
from indicators.board import load_board  # noqa: E402
from indicators.dataset import build_dataset  # noqa: E402
from indicators.definitions import Library, MeasureKind, load_library  # noqa: E402
from indicators.periods import Quarter, quarter_range  # noqa: E402
from indicators.spc import xmr_frame  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SPECIAL = ("special_cause_improvement", "special_cause_concern", "special_cause_neutral_high",
           "special_cause_neutral_low")
#: quarterly probability that a member of a stock leaves it (children in need, on a plan, looked after...)
EXIT = {"CSC_CPP_AT_END": 0.30, "CSC_CIN_AT_END": 0.35, "CSC_CLA_AT_END": 0.10, "EDU_CME_AT_END": 0.35,
        "EDU_CIN_PUPILS": 0.35}
EXTRA_CV = 0.04  #: quarter-to-quarter variation of a count's expected level beyond Poisson (coefficient of variation)
SHARE_PERSISTENCE = 0.8  #: AR(1) coefficient of the share behind a snapshot part (e.g. plans open two years)
BURN_IN = 24


def demo_levels() -> dict[str, float]:
    """Each measure's average over the demo's quarters: realistic magnitudes for one local authority."""
    values: dict[str, list[float]] = {}
    for agencies in demo_returns().values():
        for measures in agencies.values():
            for code, v in measures.items():
                x = _number(v)
                if x is not None:
                    values.setdefault(code, []).append(x)
    return {k: float(np.mean(v)) for k, v in values.items()}


def _parents(library: Library) -> dict[str, str]:
    """Part → whole for every pair of returned measures an indicator divides (the part is binomial in it)."""
    out: dict[str, str] = {}
    for (part, whole), _ in library.part_whole_pairs.items():
        out.setdefault(part, whole)
    for ind in library.indicators.values():  # totals of days over cases
        m = library.measures.get(ind.numerator)
        if m is not None and m.kind == MeasureKind.total and ind.denominator:
            out.setdefault(ind.numerator, ind.denominator)
    return out


def simulate_measures(library: Library, n_series: int, n_quarters: int, rng: np.random.Generator,
                      levels: dict[str, float]) -> np.ndarray:
    """{measure: (n_series, n_quarters) array} of stable processes at the demo's levels."""
    parents = _parents(library)
    out: dict[str, np.ndarray] = {}
    total = n_quarters + BURN_IN

    def make(code: str) -> np.ndarray:
        if code in out:
            return out[code]
        m = library.measures[code]
        level = levels[code]
        parent = parents.get(code)
        if m.kind == MeasureKind.percentage:
            x = np.clip(rng.normal(level, 1.8, (n_series, total)), 0, 100)
        elif m.kind == MeasureKind.total:
            whole = make(parent)
            x = whole * rng.normal(level / levels[parent], 0.8, (n_series, total))
        elif parent is not None and m.kind == MeasureKind.snapshot:
            whole = make(parent)
            p0 = level / levels[parent]
            share = np.empty((n_series, total))
            share[:, 0] = p0
            sd = 0.1 * p0 * np.sqrt(1 - SHARE_PERSISTENCE ** 2)
            for t in range(1, total):
                share[:, t] = p0 + SHARE_PERSISTENCE * (share[:, t - 1] - p0) + rng.normal(0, sd, n_series)
            x = rng.binomial(whole.astype(int), np.clip(share, 0, 1)).astype(float)
        elif parent is not None:
            whole = make(parent)
            p = np.clip(level / levels[parent] * (1 + rng.normal(0, EXTRA_CV / 2, (n_series, total))), 0, 1)
            x = rng.binomial(whole.astype(int), p).astype(float)
        elif m.kind == MeasureKind.snapshot:
            exit_p = EXIT.get(code, 0.35)
            stock = np.empty((n_series, total))
            stock[:, 0] = rng.poisson(level, n_series)
            for t in range(1, total):
                stay = rng.binomial(stock[:, t - 1].astype(int), 1 - exit_p)
                stock[:, t] = stay + rng.poisson(level * exit_p, n_series)
            x = stock
        else:
            lam = level * np.exp(rng.normal(0, EXTRA_CV, (n_series, total)) - EXTRA_CV ** 2 / 2)
            x = rng.poisson(lam).astype(float)
        out[code] = x
        return x

    for code in library.measures:
        if code in levels:
            make(code)
    return {k: v[:, BURN_IN:] for k, v in out.items()}


def _measure_frame(sim: dict[str, np.ndarray], quarters: list[Quarter]) -> tuple[pd.DataFrame, list[str]]:
    n_series = next(iter(sim.values())).shape[0]
    areas = [f"S{i:05d}" for i in range(n_series)]
    parts = []
    labels = np.array([q.label for q in quarters], dtype=object)
    for code, x in sim.items():
        parts.append(pd.DataFrame({"area_code": np.repeat(areas, len(quarters)), "period": np.tile(labels, n_series),
                                   "measure": code, "value": x.ravel(), "status": "ok"}))
    return pd.concat(parts, ignore_index=True), areas


def _flagged(frame: pd.DataFrame, value: str, chart: str | None, beyond: bool, library: Library) -> pd.Series:
    """Share of series whose latest observed point is special cause, per indicator."""
    f = frame[["indicator_id", "area_code", "period_index", value]].copy()
    f["improvement"] = f["indicator_id"].map({k: i.polarity.improvement for k, i in library.indicators.items()})
    kw = {}
    if chart:
        f["chart"] = frame["spc_chart"].to_numpy()
        f["den"] = frame["chart_denominator"].to_numpy()
        f["scale"] = frame["indicator_id"].map({k: {"percentage": 100.0, "rate_per_10000": 10_000.0}.get(
            i.unit.value, 1.0) for k, i in library.indicators.items()})
        kw = {"chart_col": "chart", "denominator_col": "den", "scale_col": "scale"}
    res = xmr_frame(f, by=["indicator_id", "area_code"], order="period_index", value=value,
                    improvement_col="improvement", two_in_three_includes_beyond=beyond, **kw)
    s = res.series
    return s["variation"].isin(SPECIAL).groupby(s["indicator_id"]).mean()


def shipped_indicators(seed: int = 2026, n_series: int = 2000, n_quarters: int = 12, chunk: int = 500) -> pd.DataFrame:
    """Per shipped indicator: share of stable series whose latest quarter is flagged, before and after."""
    library = load_library()
    board = load_board(ROOT / "data" / "demo" / "board.yaml", library)
    levels = demo_levels()
    quarters = quarter_range(Quarter(2022, 1), Quarter(2022, 1) + (n_quarters - 1))
    rng = np.random.default_rng(seed)
    sums: dict[str, pd.Series] = {}
    done = 0
    while done < n_series:
        n = min(chunk, n_series - done)
        measures, areas = _measure_frame(simulate_measures(library, n, n_quarters, rng, levels), quarters)
        population = pd.DataFrame({"area_code": np.repeat(areas, 10), "year": np.tile(range(2018, 2028), n),
                                   "population": 85_200})
        ds = build_dataset(measures, library, board, population=population, focal_areas=areas, forecasts=False)
        f = ds.frame[~ds.frame["is_forecast"]]
        parts = {
            "before": _flagged(f, "value", None, False, library),
            "after": f.assign(latest=f["spc_point_type"].isin(SPECIAL))
                     .sort_values("period_index").groupby(["indicator_id", "area_code"]).tail(1)
                     .groupby("indicator_id")["latest"].mean(),
            "after_mdc_2023": _flagged(f, "chart_value", "chart", True, library),
        }
        for k, v in parts.items():
            sums[k] = sums.get(k, 0) + v * n
        done += n
    chart = ds.frame.drop_duplicates("indicator_id").set_index("indicator_id")["spc_chart"]
    out = pd.DataFrame({k: v / n_series for k, v in sums.items()})
    out.insert(0, "chart", chart.reindex(out.index))
    out.insert(0, "period_type", [library.indicator(i).period_type.value for i in out.index])
    return out.sort_values(["period_type", "chart"])


def varying_denominators(seed: int = 2027, n_series: int = 4000, n_quarters: int = 12) -> pd.DataFrame:
    """XmR against Laney's p′ on stable percentages whose denominators vary from 20 to 500 a quarter."""
    rng = np.random.default_rng(seed)
    rows = []
    for label, extra in (("binomial", 0.0), ("extra-binomial (sd 2 points)", 0.02)):
        n = rng.integers(20, 501, (n_series, n_quarters))
        p = np.clip(0.3 + rng.normal(0, extra, (n_series, n_quarters)), 0, 1)
        pct = 100 * rng.binomial(n, p) / n
        f = pd.DataFrame({"s": np.repeat(np.arange(n_series), n_quarters), "t": np.tile(np.arange(n_quarters), n_series),
                          "v": pct.ravel(), "n": n.ravel().astype(float)})
        for chart in ("xmr", "p_prime"):
            res = xmr_frame(f, by="s", order="t", value="v", chart=chart, denominator_col="n", scale=100,
                            improvement="decrease")
            rows.append({"process": label, "chart": chart,
                         "latest_flagged": float(res.series["variation"].isin(SPECIAL).mean())})
    return pd.DataFrame(rows)


def run(seed: int = 2026) -> dict[str, pd.DataFrame]:
    return {"shipped_12": shipped_indicators(seed, n_quarters=12),
            "shipped_20": shipped_indicators(seed + 1, n_series=1000, n_quarters=20),
            "varying_denominators": varying_denominators(seed + 2)}


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def report(results: dict[str, pd.DataFrame]) -> str:
    lines = []
    for key, title in (("shipped_12", "12 quarters"), ("shipped_20", "20 quarters")):
        t = results[key]
        lines.append(f"Stable processes, {title}: share of series whose latest quarter is flagged special cause")
        lines.append(f"{'indicator':28} {'period type':12} {'chart':8} {'before':>7} {'after':>7} {'MDC 2023':>9}")
        for ind, r in t.iterrows():
            lines.append(f"{ind:28} {r['period_type']:12} {r['chart']:8} {_pct(r['before']):>7} {_pct(r['after']):>7}"
                         f" {_pct(r['after_mdc_2023']):>9}")
        lines.append(f"{'average':28} {'':12} {'':8} {_pct(t['before'].mean()):>7} {_pct(t['after'].mean()):>7}"
                     f" {_pct(t['after_mdc_2023'].mean()):>9}")
        lines.append(f"{'highest':28} {'':12} {'':8} {_pct(t['before'].max()):>7} {_pct(t['after'].max()):>7}"
                     f" {_pct(t['after_mdc_2023'].max()):>9}")
        lines.append("")
    lines.append("Percentages with denominators from 20 to 500, 12 quarters: latest quarter flagged")
    for _, r in results["varying_denominators"].iterrows():
        lines.append(f"  {r['process']:30} {r['chart']:8} {_pct(r['latest_flagged'])}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
