"""National scale: the whole multi-agency dataset for 153 local authorities × 40 indicators × 40 quarters.

Every area reports quarterly (as in a national or regional deployment), so comparisons use other areas' values
for the same quarter, with England and the regions as sums of their parts. Prints wall time by stage and peak
memory. Goal: under 5 s and under 1 GB on the 2-core reference machine.

Run from the project root: ``python benchmarks/bench_dataset.py``.
"""

from __future__ import annotations

import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indicators.dataset import build_dataset  # noqa: E402
from indicators.definitions import Library, load_library  # noqa: E402
from indicators.periods import Quarter  # noqa: E402

N_AREAS, N_INDICATORS, N_QUARTERS = 153, 40, 40


def national_library() -> Library:
    """The shipped indicators, plus copies with new ids up to 40."""
    lib = load_library()
    indicators = dict(lib.indicators)
    base = list(lib.indicators.values())
    k = 0
    while len(indicators) < N_INDICATORS:
        ind = base[k % len(base)]
        copy = ind.model_copy(update={"id": f"{ind.id}_copy{k}"})
        indicators[copy.id] = copy
        k += 1
    return Library(lib.measures, indicators, {i: Path(f"{i}.yaml") for i in indicators})


def national_inputs(library: Library, seed: int = 7):
    rng = np.random.default_rng(seed)
    areas = [f"E0609{i:04d}" for i in range(N_AREAS)]
    quarters = [Quarter(2016, 3) + k for k in range(N_QUARTERS)]
    measures = sorted({m for i in library.indicators.values() for m in i.measures})
    size = rng.uniform(0.3, 2.5, N_AREAS)
    rows_a, rows_p, rows_m, rows_v = [], [], [], []
    level = {m: rng.uniform(50, 2000) for m in measures}
    for m in measures:
        base = level[m] * size[:, None] * (1 + 0.004 * np.arange(N_QUARTERS))[None, :]
        vals = np.round(rng.poisson(base))
        rows_a.append(np.repeat(areas, N_QUARTERS))
        rows_p.append(np.tile([q.label for q in quarters], N_AREAS))
        rows_m.append(np.full(N_AREAS * N_QUARTERS, m, dtype=object))
        rows_v.append(vals.ravel())
    df = pd.DataFrame({"area_code": np.concatenate(rows_a), "period": np.concatenate(rows_p),
                       "measure": np.concatenate(rows_m), "value": np.concatenate(rows_v).astype(float)})
    # numerators must not exceed their denominators: cap every percentage numerator at its denominator
    wide = df.pivot_table(index=["area_code", "period"], columns="measure", values="value")
    for ind in library.indicators.values():
        if ind.unit.value == "percentage" and ind.denominator and ind.denominator in wide:
            wide[ind.numerator] = np.minimum(wide[ind.numerator], wide[ind.denominator] * rng.uniform(0.5, 0.95))
    df = wide.stack().rename("value").reset_index()
    df["value"] = df["value"].round()
    df["status"] = "ok"
    population = pd.DataFrame([(a, y, int(30_000 * s)) for a, s in zip(areas, size, strict=True)
                               for y in range(2015, 2027)], columns=["area_code", "year", "population"])
    nb = []
    for i, a in enumerate(areas):
        for r, j in enumerate(rng.choice([k for k in range(N_AREAS) if k != i], 10, replace=False), start=1):
            nb.append((a, areas[j], r))
    neighbours = pd.DataFrame(nb, columns=["area_code", "neighbour_code", "rank"])
    region = {a: f"E1200000{1 + i % 9}" for i, a in enumerate(areas)}
    area_frame = pd.DataFrame({"area_code": areas, "area_name": areas, "level": "la",
                               "region_code": [region[a] for a in areas]})
    return df[["area_code", "period", "measure", "value", "status"]], population, neighbours, area_frame


def main() -> None:
    library = national_library()
    t0 = time.perf_counter()
    measures, population, neighbours, areas = national_inputs(library)
    t_gen = time.perf_counter() - t0
    timings = {}
    import indicators.dataset as ds

    # time the stages by wrapping the functions build_dataset calls
    for name in ("compute_values", "published_values", "compare", "_spc", "_forecasts", "_exceptions",
                 "reporting_comparators", "with_dispersion"):
        fn = getattr(ds, name)

        def timed(*a, _fn=fn, _name=name, **k):
            s = time.perf_counter()
            try:
                return _fn(*a, **k)
            finally:
                timings[_name] = timings.get(_name, 0.0) + time.perf_counter() - s
        setattr(ds, name, timed)
    t1 = time.perf_counter()
    dataset = build_dataset(measures, library, population=population, neighbours=neighbours, areas=areas)
    total = time.perf_counter() - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    f = dataset.frame
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {__import__('os').cpu_count()} cores, "
          f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}")
    print(f"input: {N_AREAS} areas x {len(library.indicators)} indicators x {N_QUARTERS} quarters; "
          f"{len(measures):,} measure rows (generated in {t_gen:.1f} s)")
    print(f"dataset: {len(f):,} rows x {f.shape[1]} columns; {len(dataset.exceptions):,} exception reasons")
    for name, secs in sorted(timings.items(), key=lambda kv: -kv[1]):
        print(f"  {name:24} {secs:6.2f} s")
    print(f"build_dataset total: {total:.2f} s (goal < 5 s)")
    print(f"peak resident memory: {peak_mb:.0f} MB (goal < 1024 MB)")


if __name__ == "__main__":
    main()
