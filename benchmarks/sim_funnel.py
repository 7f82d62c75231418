"""Funnel plots and neighbour comparisons: on DfE's real 2025 files, before and after, and by simulation.

Run from the project root: ``python benchmarks/sim_funnel.py`` (about half a minute: the real files are
imported into a temporary SQLite store through the importer). ``run()`` returns the rows the table prints, for
``benchmarks/bench_statistics.py``.

1. **Real files** (``../shared/data/dfe``; skipped when absent): every local authority's published 2025 value is
   put through ``indicators.compare.compare`` as if it were the area being reported on, against DfE's England
   value and its ten May 2025 statistical neighbours. "Before" is the method used until now (exact funnel limits
   with no allowance for over-dispersion; the neighbours' mean treated as a fixed number inside the area's 95%
   interval); "after" is Spiegelhalter's additive random-effects z* where the indicator is over-dispersed, and
   the neighbours' 95% prediction interval. Printed: share of LAs outside the 99.8% and 95% funnels and
   significantly different from their neighbours, phi and tau².
2. **Simulation with no real difference** (fixed seeds): areas drawn from one random-effects population
   (between-area spread tau, plus binomial or Poisson noise, sizes as varied as real LAs). Printed: how often
   the neighbours test calls an area different (goal close to 5% after), and the share outside the 95% and 99.8%
   funnels (goal close to 5% and 0.2% after).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indicators.intervals import (  # noqa: E402
    additive_funnel_limits,
    compare_with_interval,
    funnel_position,
    neighbours_prediction_interval,
    null_standard_error,
    overdispersion,
    significance_vs,
    wilson_interval,
)

SHARED = ROOT.parent / "shared" / "data" / "dfe"
YEAR = 2025
INDICATORS = [("cin_rate", "CIN"), ("cpp_rate", "CPP"), ("referral_rate", "referrals"),
              ("rereferral_rate", "re-referrals"), ("cpp_second_subsequent", "second CPP"),
              ("cpp_two_years", "CPP 2 years+"), ("s47_rate", "S47"), ("cla_rate", "CLA")]
FILES = ["ees_cin_b1_children_in_need_2013_2025.csv", "ees_cin_c1_referrals_rereferrals_2013_2025.csv",
         "ees_cin_d3_cpp_second_or_subsequent_2013_2025.csv", "ees_cin_d5_cpp_at31march_by_duration_2013_2025.csv",
         "ees_cin_c4_section47_icpc_2013_2025.csv", "ees_cla_number_and_rate_per_10k_2021_2025.csv",
         "ons_population_0_17_2012_2024.csv"]
SIM_SEED = 20261201
SIM_REPS = 20_000


def _real_inputs():
    """Published values and neighbours from the real files, through the importer and etl.access."""
    from etl.access import current_codes, read_benchmarks, read_population
    from etl.benchmarks.ees import import_ees
    from etl.benchmarks.neighbours import read_neighbours
    from etl.db import init_store
    from etl.store import make_engine
    from indicators.benchmarking import published_values
    from indicators.definitions import load_library

    library = load_library()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/store.sqlite")
        init_store(engine)
        import_ees(engine, [SHARED / f for f in FILES], "sim_funnel")
        pub = published_values(read_benchmarks(engine, library), library, read_population(engine))
        codes = current_codes(engine)
        engine.dispose()
    nbf, _layout = read_neighbours(SHARED / "statistical_neighbours_may2025_long.csv")
    nb = pd.DataFrame({"area_code": nbf["la_number"].astype(int).map(codes),
                       "neighbour_code": nbf["neighbour_la_number"].astype(int).map(codes),
                       "rank": nbf["rank"]}).dropna()
    return library, pub, nb


def real_rows() -> list[dict]:
    """Before/after shares on the real 2025 files, one row per indicator."""
    from indicators.compare import COMPARATOR_COLUMNS, compare, with_dispersion
    from indicators.periods import Quarter

    library, pub, nb = _real_inputs()
    comp = pub.rename(columns={"year": "key"}).assign(key_kind="year")[COMPARATOR_COLUMNS]
    comp = with_dispersion(comp, library)
    quarter = Quarter(YEAR, 2)  # 2025-26 Q2: the first quarter the 2025 figures were available in
    la = pub[(pub["level"] == "la") & (pub["year"] == YEAR)]
    focal = la[["indicator_id", "area_code", "value", "lower", "upper", "numerator", "denominator"]] \
        .assign(period=quarter.label, period_index=quarter.index).reset_index(drop=True)
    regions = la.drop_duplicates("area_code").set_index("area_code")["region_code"].to_dict()
    out = compare(focal, comp, nb, regions, library)
    rows = []
    for ind_id, label in INDICATORS:
        g = out[(out["indicator_id"] == ind_id) & out["england_value"].notna() & out["value"].notna()
                & (out["denominator"] > 0)]
        if g.empty:
            continue
        ind = library.indicator(ind_id)
        kind, scale = ("proportion", 100.0) if ind.unit.value == "percentage" else ("rate", 10_000.0)
        before = np.asarray(funnel_position(g["value"] / scale, g["denominator"], g["england_value"] / scale,
                                            kind=kind), dtype=object)
        nb_before = np.asarray(significance_vs(g["lower"], g["upper"], g["neighbours_mean"]), dtype=object)
        nb_before = nb_before[nb_before != "not_compared"]
        nb_after = g["vs_neighbours"].to_numpy(dtype=object)
        nb_after = nb_after[nb_after != "not_compared"]
        after = g["funnel"].to_numpy(dtype=object)
        eng_after = g["vs_england"].to_numpy(dtype=object)
        eng_before = np.asarray(significance_vs(g["lower"], g["upper"], g["england_value"]), dtype=object)
        rows.append({
            "indicator": label, "indicator_id": ind_id, "las": len(g),
            "phi": float(g["overdispersion_phi"].iloc[0]), "tau2": float(g["random_effects_tau2"].iloc[0]),
            "adjustment": str(g["funnel_adjustment"].iloc[0]),
            "outside_998_before": float(np.mean([str(p).endswith("99_8") for p in before])),
            "outside_998_after": float(np.mean([str(p).endswith("99_8") for p in after])),
            "outside_95_before": float(np.mean(before != "within")),
            "outside_95_after": float(np.mean(after != "within")),
            "vs_england_before": float(np.mean(eng_before[eng_before != "not_compared"] != "similar")),
            "vs_england_after": float(np.mean(eng_after[eng_after != "not_compared"] != "similar")),
            "neighbours_before": float(np.mean(nb_before != "similar")) if len(nb_before) else np.nan,
            "neighbours_after": float(np.mean(nb_after != "similar")) if len(nb_after) else np.nan,
        })
    return rows


# --- simulation: no real difference -------------------------------------------------------------------------
SCENARIOS = [
    # name, kind, England's value, between-area sd (tau, on the value's scale), denominators (low, high)
    ("percentage like re-referrals, tau 3 points", "proportion", 22.0, 3.0, (300, 6000)),
    ("percentage, no over-dispersion", "proportion", 22.0, 0.0, (300, 6000)),
    ("rate like CIN, tau 60 per 10,000", "rate", 330.0, 60.0, (20_000, 250_000)),
    ("rate, no over-dispersion", "rate", 330.0, 0.0, (20_000, 250_000)),
]


def _draw(rng, kind, theta, tau, dens, size):
    """Observed values (on the value's scale), numerators and denominators from one random-effects population."""
    den = np.exp(rng.uniform(np.log(dens[0]), np.log(dens[1]), size)).round()
    scale = 100.0 if kind == "proportion" else 10_000.0
    true = np.clip(rng.normal(theta, tau, size), 0.01, scale * 0.99 if kind == "proportion" else None) / scale
    num = rng.binomial(den.astype(np.int64), true) if kind == "proportion" else rng.poisson(true * den)
    return scale * num / den, num.astype(float), den, scale


def simulation_rows(reps: int = SIM_REPS, seed: int = SIM_SEED) -> list[dict]:
    """False-positive rates with no real difference: the neighbours test, and the funnel before/after."""
    from indicators.intervals import rate_interval

    rows = []
    for i, (name, kind, theta, tau, dens) in enumerate(SCENARIOS):
        rng = np.random.default_rng(seed + i)
        # the neighbours test: one area and its 10 neighbours, all from the same population
        value, num, den, scale = _draw(rng, kind, theta, tau, dens, (reps, 11))
        area, nbrs = value[:, 0], value[:, 1:]
        if kind == "proportion":
            lo, hi = wilson_interval(num[:, 0], den[:, 0], 0.95)
            lo, hi = 100 * np.asarray(lo), 100 * np.asarray(hi)
        else:
            lo, hi = rate_interval(num[:, 0], den[:, 0], per=10_000, level=0.95)
        before = np.asarray(significance_vs(lo, hi, nbrs.mean(axis=1)), dtype=object)
        p_lo, p_hi, _mean, _k = neighbours_prediction_interval(nbrs, level=0.95)
        after = np.asarray(compare_with_interval(area, p_lo, p_hi), dtype=object)
        # the funnel: 150 LAs a year against England's value, 400 years
        years, n_las = 400, 150
        fv, _fn, fd, _ = _draw(rng, kind, theta, tau, dens, (years, n_las))
        out95_b = out998_b = out95_a = out998_a = declared = out95_raw = out998_raw = 0.0
        for y in range(years):
            s = np.asarray(null_standard_error(theta, fd[y], kind, scale))
            od = overdispersion(fv[y], s, theta, consistent=True)  # as the dataset does
            declared += od.overdispersed
            pos = np.asarray(funnel_position(fv[y] / scale, fd[y], theta / scale, kind=kind), dtype=object)
            out95_b += np.mean(pos != "within")
            out998_b += np.mean([p.endswith("99_8") for p in pos])
            tau2 = od.tau2 if od.overdispersed else 0.0
            if od.overdispersed:
                lo95, hi95 = additive_funnel_limits(theta, s, tau2, 0.95)
                lo998, hi998 = additive_funnel_limits(theta, s, tau2, 0.998)
                out95_a += np.mean((fv[y] < lo95) | (fv[y] > hi95))
                out998_a += np.mean((fv[y] < lo998) | (fv[y] > hi998))
            else:
                out95_a += np.mean(pos != "within")
                out998_a += np.mean([p.endswith("99_8") for p in pos])
            # Spiegelhalter's recipe as published (winsorised phi without the consistency correction), to show
            # what the correction buys when tau is large
            raw = overdispersion(fv[y], s, theta)
            lo95, hi95 = additive_funnel_limits(theta, s, raw.tau2 if raw.overdispersed else 0.0, 0.95)
            lo998, hi998 = additive_funnel_limits(theta, s, raw.tau2 if raw.overdispersed else 0.0, 0.998)
            out95_raw += np.mean((fv[y] < lo95) | (fv[y] > hi95))
            out998_raw += np.mean((fv[y] < lo998) | (fv[y] > hi998))
        rows.append({
            "scenario": name, "reps": reps,
            "neighbours_before": float(np.mean(before != "similar")),
            "neighbours_after": float(np.mean(after != "similar")),
            "funnel_years": years, "las": n_las, "declared_overdispersed": declared / years,
            "outside_95_before": out95_b / years, "outside_95_after": out95_a / years,
            "outside_998_before": out998_b / years, "outside_998_after": out998_a / years,
            "outside_95_uncorrected": out95_raw / years, "outside_998_uncorrected": out998_raw / years,
        })
    return rows


def run() -> list[dict]:
    """Every row: ``section`` "real 2025" (one per indicator) or "simulation" (one per scenario)."""
    rows = []
    if SHARED.exists():
        rows += [{"section": "real 2025", **r} for r in real_rows()]
    rows += [{"section": "simulation", **r} for r in simulation_rows()]
    return rows


def _pct(x) -> str:
    return "   –  " if x is None or x != x else f"{100 * x:5.1f}%"


def main() -> None:
    t0 = time.perf_counter()
    rows = run()
    real = [r for r in rows if r["section"] == "real 2025"]
    sim = [r for r in rows if r["section"] == "simulation"]
    if real:
        print(f"DfE published {YEAR}, every LA against England and its May 2025 statistical neighbours "
              "(before = exact limits, neighbours' mean fixed; after = over-dispersion z*, prediction interval)")
        print(f"{'indicator':14} {'LAs':>4} {'phi':>7} {'tau2':>9} {'adjust':>8} | {'out 99.8%':>15} | "
              f"{'out 95%':>15} | {'vs England':>15} | {'vs neighbours':>15}")
        print(f"{'':14} {'':>4} {'':>7} {'':>9} {'':>8} | {'before':>7} {'after':>7} | {'before':>7} {'after':>7} | "
              f"{'before':>7} {'after':>7} | {'before':>7} {'after':>7}")
        for r in real:
            print(f"{r['indicator']:14} {r['las']:4d} {r['phi']:7.1f} {r['tau2']:9.2f} {r['adjustment']:>8} | "
                  f"{_pct(r['outside_998_before'])} {_pct(r['outside_998_after'])} | "
                  f"{_pct(r['outside_95_before'])} {_pct(r['outside_95_after'])} | "
                  f"{_pct(r['vs_england_before'])} {_pct(r['vs_england_after'])} | "
                  f"{_pct(r['neighbours_before'])} {_pct(r['neighbours_after'])}")
        print("tau2 is on the indicator's scale: (per 10,000)² for rates, percentage points² for percentages.")
    else:
        print(f"({SHARED} is not there: the real-file table is skipped)")
    print()
    print(f"Simulation, no real difference (seed {SIM_SEED}): neighbours test on {SIM_REPS:,} areas with 10 "
          "neighbours each; funnel on 400 years x 150 LAs")
    print(f"{'scenario':44} | {'neighbours differ':>17} | {'declared OD':>11} | {'out 95%':>23} | {'out 99.8%':>23}")
    print(f"{'':44} | {'before':>8} {'after':>8} | {'':>11} | {'before':>7} {'after':>7} {'as-pub':>7} | "
          f"{'before':>7} {'after':>7} {'as-pub':>7}")
    for r in sim:
        print(f"{r['scenario']:44} | {_pct(r['neighbours_before']):>8} {_pct(r['neighbours_after']):>8} | "
              f"{_pct(r['declared_overdispersed']):>11} | {_pct(r['outside_95_before'])} "
              f"{_pct(r['outside_95_after'])} {_pct(r['outside_95_uncorrected'])} | "
              f"{_pct(r['outside_998_before'])} {_pct(r['outside_998_after'])} {_pct(r['outside_998_uncorrected'])}")
    print("Goals after: neighbours close to 5%; outside 95% close to 5%, outside 99.8% close to 0.2%.")
    print("as-pub: the additive adjustment with Spiegelhalter's winsorised phi as published, without the consistency\n"
          "correction the dataset applies (for comparison; not used).")
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
