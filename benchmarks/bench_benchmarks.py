"""Importing published benchmarks: the DfE children-in-need tables and the ONS 0–17 population.

Imports the five files from ../shared/data/dfe (the demo's generated EES-layout files when that folder is
not there) into a fresh SQLite store, then again unchanged, then exports everything; on PostgreSQL too when
OBA_TEST_POSTGRES_URL is set (in a schema of its own, dropped afterwards). Prints wall times and values.

Then a generated EES file near the 200 MB cap (``benchmarks/ees_generator.py``: every LA, four filters, six
measures, 1.2 million rows, 7.3 million values) is imported by ``oba benchmarks import`` in a process of its
own, first, unchanged and as a revision, on each backend: wall time and peak resident memory (``--no-large``
skips it).

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
        if "--no-large" not in sys.argv:
            _large(tmp)
    return 0


LARGE_MB = 199
"""The generated file's size in MiB, just under the importer's 200 MB cap."""


def _large(tmp: Path) -> None:
    """A generated EES file near the size cap: `oba benchmarks import` in a process of its own, first, unchanged
    and as a revision (a later file of the dataset with one figure changed), on each backend; wall time, the
    process's peak resident memory and, on SQLite, the store's size."""
    import subprocess

    from ees_generator import write

    path = tmp / "ees_large_2014_2025.csv"
    rows = write(path, LARGE_MB)
    revised = tmp / "ees_large_2014_2026.csv"  # the same dataset; its first figure revised
    with path.open("rb") as src, revised.open("wb") as out:
        out.write(src.readline())
        cells = src.readline().split(b",")
        cells[14] = str(int(cells[14]) + 1).encode()
        out.write(b",".join(cells))
        while chunk := src.read(1 << 24):
            out.write(chunk)
    print(f"A generated EES file of {path.stat().st_size / 2**20:.0f} MiB ({rows:,} rows x 6 measures), "
          "`oba benchmarks import` in its own process:")
    for backend in STORE_BACKENDS:
        with backend_url(backend, tmp / "large") if backend != "sqlite" else _sqlite(tmp) as url:
            subprocess.run([sys.executable, "-c", _OBA, "--db", url, "init"], check=True, capture_output=True,
                           cwd=ROOT)
            for label, file in (("first import", path), ("unchanged", path), ("a revision", revised)):
                t0 = time.perf_counter()
                run = subprocess.run([sys.executable, "-c", _OBA, "--db", url, "benchmarks", "import", str(file)],
                                     capture_output=True, text=True, cwd=ROOT)
                took = time.perf_counter() - t0
                assert run.returncode == 0, run.stdout + run.stderr
                peak = int(run.stderr.rsplit("PEAK_KB ", 1)[1].split()[0])
                print(f"  {backend:10}  {label:13} {took:6.1f} s   peak memory {peak / 1024:,.0f} MB"
                      f"   {run.stdout.splitlines()[0].split(': ', 1)[1][:60]}")
            if backend == "sqlite":
                print(f"  {'':10}  the store: {(tmp / 'large' / 'oba.sqlite').stat().st_size / 2**20:,.0f} MiB")


# `oba` in a child process that reports its own peak resident memory (kB on Linux) as it exits.
_OBA = ("import atexit, resource, sys; atexit.register(lambda: print('PEAK_KB', resource.getrusage("
        "resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)); sys.argv[0] = 'oba'; from etl.cli import main; main()")


def _sqlite(tmp: Path):
    from contextlib import nullcontext

    (tmp / "large").mkdir(exist_ok=True)
    return nullcontext(f"sqlite:///{tmp / 'large' / 'oba.sqlite'}")


if __name__ == "__main__":
    sys.exit(main())
