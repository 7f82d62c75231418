"""Benchmark: are the statistics right? Fixed-seed simulations of processes with no change, and the real DfE files.

Run from the project root: ``python benchmarks/bench_statistics.py`` (a few minutes; ``make bench`` runs it).
Each part is its own module, runnable alone, whose ``run()`` returns the figures and ``report()``/``main()``
prints them; the methods, references and these figures are in docs/methods-statistics.md.

* ``sim_spc``: the share of stable series whose latest quarter a control chart flags, per shipped indicator and
  chart type (goal: at most 3% on average and 5% for every indicator);
* ``sim_funnel``: funnels and neighbour comparisons on the real 2025 files before and after the adjustment for
  over-dispersion, and their false-positive rates with no real difference;
* ``sim_forecast``: coverage of the forecasts' 80% and 95% intervals and the "has the curve turned?" verdict's
  error rate and power.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PARTS = ("sim_spc", "sim_funnel", "sim_forecast")


def main() -> int:
    for name in PARTS:
        t0 = time.perf_counter()
        print(f"--- {name}")
        module = importlib.import_module(name)
        if hasattr(module, "report"):
            print(module.report(module.run()))
        else:
            module.main()
        print(f"({name}: {time.perf_counter() - t0:.0f} s)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
