"""Quarterly returns at scale: 12 agencies × 12 quarters = 144 workbooks made, checked and loaded.

The board is the demo board's 8 agencies plus 4 synthetic ones: each a copy of children's social care (20
measures, the biggest return) under new measure codes (``X1_REFERRALS`` ...) with copies of its percentage
indicators, so the part-and-whole checks run for them too. That is 124 measures a quarter, 1,488 in all.

Prints, for each stage, wall time in total and per file: making the templates (openpyxl), checking every file,
and checking + loading every file into a fresh SQLite store (each file its own transaction). Then compares
reading a return's figures with python-calamine against ``pandas.read_excel(engine="openpyxl")`` on the same
files, and reports peak memory (the process's peak RSS and the Python-heap peak of a traced check pass).
Goals on the 2-core reference machine: all 144 checked and loaded in under 10 s; reading at least 5× faster than
openpyxl.

Run from the project root: ``python benchmarks/bench_returns.py``.
"""

from __future__ import annotations

import datetime as dt
import gc
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd  # noqa: E402
from python_calamine import CalamineWorkbook  # noqa: E402

from etl.db import init_store  # noqa: E402
from etl.returns.load import load_file  # noqa: E402
from etl.returns.reader import check_file  # noqa: E402
from etl.returns.samples import sample_values  # noqa: E402
from etl.returns.template import build_template, fill_values  # noqa: E402
from etl.store import make_engine  # noqa: E402
from indicators._yaml import read_located_yaml  # noqa: E402
from indicators.board import Board  # noqa: E402
from indicators.definitions import Library, Unit, load_library  # noqa: E402
from indicators.periods import Quarter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
N_SYNTHETIC, N_QUARTERS = 4, 12
FIRST = Quarter(2023, 1)
GOAL_LOAD_S, GOAL_RATIO = 10.0, 5.0


def twelve_agency_board() -> tuple[Board, Library]:
    """The demo board plus 4 copies of children's social care with their own measure codes."""
    lib = load_library()
    data = read_located_yaml(ROOT / "data" / "demo" / "board.yaml").data
    csc = next(a for a in data["agencies"] if a["code"] == "CSC")
    measures, indicators = dict(lib.measures), dict(lib.indicators)
    for k in range(1, N_SYNTHETIC + 1):
        rename = {code: f"X{k}_{code.removeprefix('CSC_')}" for code in csc["measures"]}
        for old, new in rename.items():
            measures[new] = lib.measures[old].model_copy(update={"code": new})
        for ind in lib.indicators.values():
            if ind.unit == Unit.percentage and ind.numerator in rename and ind.denominator in rename:
                copy = ind.model_copy(update={"id": f"x{k}_{ind.id}", "numerator": rename[ind.numerator],
                                              "denominator": rename[ind.denominator]})
                indicators[copy.id] = copy
        data["agencies"].append({"code": f"LA{k}_CSC", "name": f"Synthetic children's social care {k}",
                                 "type": "children_social_care", "due": "20 working days after quarter end",
                                 "measures": list(rename.values())})
    library = Library(measures, indicators, {i: Path(f"{i}.yaml") for i in indicators})
    return Board.model_validate(data), library


def timed(label: str, n: int, fn):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    s = time.perf_counter() - t0
    print(f"  {label:<44} {s:7.2f} s   {1000 * s / n:7.1f} ms per file")
    return out, s


def main() -> int:
    board, library = twelve_agency_board()
    quarters = [FIRST + k for k in range(N_QUARTERS)]
    jobs = [(a.code, q) for q in quarters for a in board.agencies]
    n = len(jobs)
    n_values = sum(len(board.agency(a).measures) for a, _ in jobs)
    today = (quarters[-1] + 1).end
    print(f"Returns benchmark: {len(board.agencies)} agencies × {N_QUARTERS} quarters = {n} workbooks, "
          f"{n_values:,} figures ({platform.python_version()}, {platform.machine()})")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def make_all() -> list[Path]:
            paths = []
            for code, q in jobs:
                wb = build_template(board, library, code, q, previous=None)
                fill_values(wb, sample_values(board, library, code, q))
                path = tmp / f"{code}_{q.fy_label}_Q{q.q}.xlsx"
                wb.save(path)
                paths.append(path)
            return paths

        paths, t_make = timed("make templates and fill them (openpyxl)", n, make_all)
        size_kb = sum(p.stat().st_size for p in paths) / n / 1024
        print(f"  (average workbook {size_kb:.1f} KB)")

        checks, t_check = timed("check every file (no store)", n,
                                lambda: [check_file(p, board, library, today=today) for p in paths])
        bad = [c for c in checks if not c.ok]
        assert not bad, [str(i) for c in bad for i in c.errors]

        engine = make_engine(f"sqlite:///{tmp / 'bench.sqlite'}")
        init_store(engine)
        received = dt.date.today()
        results, t_load = timed("check + load every file (fresh SQLite store)", n, lambda: [
            load_file(engine, board, library, p, "bench", received, today=today) for p in paths])
        assert all(r.outcome == "loaded" for r in results), {r.outcome for r in results}
        again, t_again = timed("load them all again (all unchanged)", n, lambda: [
            load_file(engine, board, library, p, "bench", received, today=today) for p in paths])
        assert all(r.outcome == "unchanged" for r in again)
        engine.dispose()

        # Reading the figures: calamine (what the checker uses) against pandas with openpyxl, same files.
        def calamine_read():
            for p in paths:
                CalamineWorkbook.from_path(str(p)).get_sheet_by_name("Return").to_python()

        def openpyxl_read():
            for p in paths:
                pd.read_excel(p, sheet_name="Return", header=3, engine="openpyxl")

        def pandas_calamine_read():
            for p in paths:
                pd.read_excel(p, sheet_name="Return", header=3, engine="calamine")

        _, t_cal = timed("read Return sheets: python-calamine", n, calamine_read)
        _, t_pdcal = timed("read Return sheets: pandas + calamine", n, pandas_calamine_read)
        _, t_opx = timed("read Return sheets: pandas + openpyxl", n, openpyxl_read)

        gc.collect()
        tracemalloc.start()
        for p in paths:
            check_file(p, board, library, today=today)
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    ratio = t_opx / t_cal
    ratio_check = t_opx / t_check
    print()
    print(f"  all {n} checked and loaded: {t_load:.2f} s (goal < {GOAL_LOAD_S:.0f} s): "
          f"{'met' if t_load < GOAL_LOAD_S else 'NOT MET'}")
    print(f"  reading, openpyxl ÷ calamine: {ratio:.1f}× (goal ≥ {GOAL_RATIO:.0f}×): "
          f"{'met' if ratio >= GOAL_RATIO else 'NOT MET'}; pandas+openpyxl read ÷ full check: {ratio_check:.1f}×")
    print(f"  peak memory: process RSS {rss_mb:.0f} MB; Python heap during a check pass {heap_peak / 1e6:.1f} MB")
    print(f"  templates: {t_make:.2f} s for {n}")
    return 0 if t_load < GOAL_LOAD_S and ratio >= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
