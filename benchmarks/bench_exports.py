"""Export speed: the demo's board pack in PowerPoint and PDF, one chart warm, and the data export at national
scale.

Goals (issue 11): each board pack under 15 s (charts rendered with one kept browser), one chart export warm
under 0.5 s. The data export at national scale (153 areas × 40 indicators × 40 quarters, from
``benchmarks/bench_dataset.py``'s generator) is reported as CSV and Excel, internal and in publication mode.

Run from the project root: ``python benchmarks/bench_exports.py`` (builds the demo into a temporary directory;
``--no-national`` skips the national scale). Each figure is one run (the machine is shared: see
docs/performance.md for how to read them); the chart is the median of 5 warm exports after a first one.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _time(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def national_view():
    spec = importlib.util.spec_from_file_location("bench_dashboard", ROOT / "benchmarks" / "bench_dashboard.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.national_view()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-national", action="store_true")
    args = ap.parse_args()
    from dashboard.exports import charts
    from dashboard.exports.common import open_view
    from dashboard.exports.data import export_data
    from dashboard.exports.pack import export_board_pack
    from etl.context import DEMO_BOARD
    from etl.demo import build_demo
    from indicators.board import load_board
    from indicators.definitions import load_library

    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()} "
          "(shared with other work: read ratios, not absolute times)")
    ok = True
    with tempfile.TemporaryDirectory(prefix="oba-bench-exports-") as tmp:
        tmp = Path(tmp)
        library = load_library()
        board = load_board(DEMO_BOARD, library)
        url = f"sqlite:///{tmp / 'demo.sqlite'}"
        build_demo(url, board, library, workdir=tmp / "files")
        t_view, view = _time(lambda: open_view(url, DEMO_BOARD))
        print(f"\nDemo dataset opened in {t_view:.1f} s")
        q = view.current
        t_start, _ = _time(charts.renderer)
        print(f"Chart renderer (one Chromium, kept): started in {t_start:.1f} s")
        ind = view.library.indicators["rereferral_rate"]
        first, _ = _time(lambda: charts.export_chart(view, ind, q, "spc", "png", tmp / "c.png"))
        warm = [_time(lambda: charts.export_chart(view, ind, q, "spc", "png", tmp / "c.png"))[0] for _ in range(5)]
        med = statistics.median(warm)
        ok &= med < 0.5
        print(f"One chart (SPC, PNG 3200×1800): first {first:.2f} s, warm median {med:.2f} s of 5 "
              f"(goal < 0.5 s: {'met' if med < 0.5 else 'NOT met'})")
        svg = statistics.median([_time(lambda: charts.export_chart(view, ind, q, "funnel", "svg", tmp / "f.svg"))[0]
                                 for _ in range(3)])
        print(f"One chart (funnel, SVG): warm median {svg:.2f} s of 3")
        for fmt in ("pptx", "pdf"):
            t, n = _time(lambda fmt=fmt: export_board_pack(view, tmp / f"pack.{fmt}", q, fmt))
            ok &= t < 15
            unit = "slides" if fmt == "pptx" else "pages"
            print(f"Board pack {fmt.upper()}: {n} {unit} in {t:.1f} s (goal < 15 s: {'met' if t < 15 else 'NOT met'}), "
                  f"{(tmp / f'pack.{fmt}').stat().st_size / 1e6:.1f} MB")
        t, _ = _time(lambda: export_data(view, tmp / "d.xlsx", "xlsx"))
        print(f"Data export, demo, every quarter: Excel {t:.2f} s")
        charts.close()
        if not args.no_national:
            t_nat, (nview, info) = _time(national_view)
            print(f"\nNational scale: {info} (built in {t_nat:.0f} s)")
            for fmt, pub in (("csv", False), ("xlsx", False), ("csv", True)):
                t, export = _time(lambda fmt=fmt, pub=pub: export_data(nview, tmp / f"n.{fmt}", fmt,
                                                                        publication=pub))
                size = (tmp / f"n.{fmt}").stat().st_size / 1e6
                extra = f", {len(export.withheld):,} cells withheld" if pub else ""
                print(f"Data export, national, every quarter: {fmt.upper()}{' publication' if pub else ''} "
                      f"{len(export.frame):,} rows in {t:.1f} s ({size:.0f} MB{extra})")
    print("\nAll goals met." if ok else "\nSome goals were NOT met (see above).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
