"""Importing published benchmarks: the DfE children-in-need tables and the ONS 0–17 population.

Imports the five files from ../shared/data/dfe (the demo's generated EES-layout files when that folder is
not there) into a fresh SQLite store, then again unchanged, then exports everything; on PostgreSQL too when
OBA_TEST_POSTGRES_URL is set (in a schema of its own, dropped afterwards). Prints wall times and values.

Run from the project root: ``python benchmarks/bench_benchmarks.py``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from store_backends import STORE_BACKENDS, backend_url  # noqa: E402

from etl.benchmarks.ees import import_ees  # noqa: E402
from etl.benchmarks.export import export_benchmarks  # noqa: E402
from etl.db import init_store  # noqa: E402
from etl.store import make_engine  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "dfe"
FILES = ["ees_cin_b1_children_in_need_2013_2025.csv", "ees_cin_c1_referrals_rereferrals_2013_2025.csv",
         "ees_cin_d3_cpp_second_or_subsequent_2013_2025.csv",
         "ees_cin_d5_cpp_at31march_by_duration_2013_2025.csv", "ons_population_0_17_2012_2024.csv"]


def _files(tmp: Path) -> tuple[list[Path], str]:
    if all((SHARED / f).exists() for f in FILES):
        return [SHARED / f for f in FILES], f"the five shared DfE/ONS files in {SHARED}"
    from etl.demo import demo_returns, write_benchmark_files

    return write_benchmark_files(tmp / "demo", demo_returns()), "the demo's generated EES-layout files"


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files, what = _files(tmp)
        print(f"Importing {what}")
        for backend in STORE_BACKENDS:
            with backend_url(backend, tmp) as url:
                engine = make_engine(url)
                init_store(engine)
                first, t_first = _timed(lambda e=engine: import_ees(e, files, "bench"))
                again, t_again = _timed(lambda e=engine: import_ees(e, files, "bench"))
                rows, t_export = _timed(lambda e=engine: export_benchmarks(e, tmp / "export.csv"))
                engine.dispose()
            added = sum(r.added for r in first)
            assert all(r.outcome == "unchanged" for r in again)
            print(f"  {backend:10}  first import {t_first:5.2f} s ({added:,} values)   unchanged re-import "
                  f"{t_again:5.2f} s   export {t_export:5.2f} s ({rows:,} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
