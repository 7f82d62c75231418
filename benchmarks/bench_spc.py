"""Benchmark: XmR SPC over 9,000 series of 40 points, vectorised (xmr_frame) against a loop of xmr calls.

Run from the project root: ``python benchmarks/bench_spc.py``. The loop is timed on a subset of the
series and scaled up (it says so), to keep the script well under a minute. Goal: xmr_frame under 2 s
and at least 10 times faster than the loop.
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indicators.spc import xmr, xmr_frame  # noqa: E402

N_SERIES = 9_000
N_POINTS = 40
LOOP_SUBSET = 900
GOAL_SECONDS = 2.0
GOAL_RATIO = 10.0


def make_panel(seed: int = 2024) -> pd.DataFrame:
    """9,000 series of 40 quarters: noise, level shifts, some trends, 1% missing, some rebases and targets."""
    rng = np.random.default_rng(seed)
    n = N_SERIES * N_POINTS
    series = np.repeat(np.arange(N_SERIES), N_POINTS)
    period = np.tile(np.arange(N_POINTS), N_SERIES)
    level = rng.normal(50, 10, N_SERIES)[series]
    step_at = rng.integers(0, N_POINTS * 2, N_SERIES)[series]  # half the series shift part way
    drift = np.where(rng.random(N_SERIES) < 0.1, rng.normal(0, 1, N_SERIES), 0.0)[series]
    value = level + rng.normal(0, 3, n) + np.where(period >= step_at, 6.0, 0.0) + drift * period
    value = value.round(1)
    value[rng.random(n) < 0.01] = np.nan
    rebase = (period == rng.integers(13, N_POINTS, N_SERIES)[series]) & (rng.random(N_SERIES) < 0.2)[series]
    return pd.DataFrame(
        {
            "indicator": series // 60,
            "area": series % 60,
            "period": period,
            "value": value,
            "rebased": rebase,
            "improvement": np.array(["increase", "decrease", "neutral"])[series % 3],
            "target": np.where(rng.random(N_SERIES) < 0.5, rng.normal(55, 10, N_SERIES).round(), np.nan)[
                series
            ],
        }
    )


def run_frame(df: pd.DataFrame):
    return xmr_frame(
        df,
        by=["indicator", "area"],
        order="period",
        value="value",
        improvement_col="improvement",
        target_col="target",
        rebase_col="rebased",
    )


def run_loop(df: pd.DataFrame) -> list:
    results = []
    for _, rows in df.groupby(["indicator", "area"], sort=False):
        results.append(
            xmr(
                rows["value"].to_numpy(),
                improvement=rows["improvement"].iloc[0],
                target=rows["target"].iloc[0],
                rebase=np.flatnonzero(rows["rebased"].to_numpy()).tolist(),
            )
        )
    return results


def main() -> int:
    df = make_panel()
    print(f"{N_SERIES:,} series x {N_POINTS} points = {len(df):,} rows")

    run_frame(df.head(2_000))  # warm-up: imports, first-call costs
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        points, series = run_frame(df)
        timings.append(time.perf_counter() - start)
    frame_seconds = min(timings)

    tracemalloc.start()  # a separate run: tracing slows allocation down
    run_frame(df)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    subset = df[(df["indicator"] * 60 + df["area"]) < LOOP_SUBSET]
    start = time.perf_counter()
    loop_results = run_loop(subset)
    subset_seconds = time.perf_counter() - start
    loop_seconds = subset_seconds * N_SERIES / LOOP_SUBSET

    # the two must agree on the subset
    frame_subset = points.loc[subset.index, "point_type"].tolist()
    loop_subset = [t for r in loop_results for t in r.points["point_type"].tolist()]
    agree = frame_subset == loop_subset

    ratio = loop_seconds / frame_seconds
    print(f"xmr_frame, all {N_SERIES:,} series:        {frame_seconds:7.3f} s  (best of 3)")
    print(f"xmr loop, {LOOP_SUBSET} series:               {subset_seconds:7.3f} s")
    print(
        f"xmr loop, scaled to {N_SERIES:,} series:     {loop_seconds:7.3f} s  "
        f"(measured on {LOOP_SUBSET} series x {N_SERIES // LOOP_SUBSET})"
    )
    print(f"speed-up:                             {ratio:7.1f} x")
    max_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    print(f"peak traced memory in xmr_frame:      {peak / 2**20:7.1f} MiB (tracemalloc, input excluded)")
    print(f"peak resident memory of the process:  {max_rss_mib:7.1f} MiB")
    print(f"signals: {series['variation'].value_counts().to_dict()}")
    print(f"frame and loop agree on the subset: {agree}")
    ok = frame_seconds < GOAL_SECONDS and ratio >= GOAL_RATIO and agree
    verdict = "met" if ok else "NOT met"
    print(f"goal (< {GOAL_SECONDS} s and >= {GOAL_RATIO:.0f}x, identical results): {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
