"""Dashboard speed: server-side callback timings and page loads in headless Chromium.

1. Callbacks on the demo data: every page's routing callback (which builds the page) and the period
   callback, called through Dash's own HTTP endpoint with Flask's test client, N times each: the first
   (cold) call, then p50 and p95. The goal is p95 under 150 ms.
2. The same on a national-scale dataset (153 areas × 40 indicators × 40 quarters, every area reporting
   quarterly; from ``benchmarks/bench_dataset.py``), served from memory.
3. Page loads in headless Chromium (Debian's /usr/bin/chromium), against the dashboard and, in the same run,
   a bare Dash page (one heading) as the floor: time until the page's heading is on screen and until every
   chart is drawn, median of N loads, and the ratio to the floor.

Run from the project root: ``python benchmarks/bench_dashboard.py`` (builds the demo into a temporary
directory). ``--quick`` does fewer repetitions.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

ROUTER = ".._pages_content.children..._pages_store.data.."
BUDGET_MS = 150.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


# --- callbacks ---------------------------------------------------------------------------------------

def _router_payload(path: str, search: str = "") -> dict:
    return {"output": ROUTER,
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}


def _period_payload(app, select_id: str, value: str, shown: str) -> dict:
    out = next(k for k, cb in app.callback_map.items()
               if k.startswith("_pages_location.search@") and any(i["id"] == select_id for i in cb["inputs"]))
    return {"output": out, "outputs": {"id": "_pages_location", "property": out.split(".", 1)[1]},
            "inputs": [{"id": select_id, "property": "value", "value": value}],
            "state": [{"id": f"{select_id}-shown", "property": "data", "value": shown},
                      {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": [f"{select_id}.value"]}


def time_callbacks(app, cases: list[tuple[str, dict]], repeat: int) -> list[tuple[str, float, float, float, int]]:
    """(name, first ms, p50 ms, p95 ms, response bytes) per case."""
    client = app.server.test_client()
    client.get("/")
    out = []
    for name, payload in cases:
        times, size = [], 0
        for _ in range(repeat):
            t = time.perf_counter()
            r = client.post("/_dash-update-component", json=payload)
            times.append((time.perf_counter() - t) * 1000)
            if r.status_code not in (200, 204):
                raise RuntimeError(f"{name}: HTTP {r.status_code}: {r.get_data(as_text=True)[:300]}")
            size = len(r.data)
        rest = times[1:] or times
        out.append((name, times[0], float(np.percentile(rest, 50)), float(np.percentile(rest, 95)), size))
    return out


def page_cases(view, app) -> list[tuple[str, dict]]:
    cur = view.current
    ind = "rereferral_rate" if "rereferral_rate" in view.indicators else next(iter(view.indicators))
    pri = view.board.priorities[0].id
    cases = [
        ("This quarter", _router_payload("/")),
        ("This quarter, earlier quarter", _router_payload("/", f"?period={str(cur - 2).replace(' ', '+')}")),
        ("Priorities", _router_payload("/priority")),
        (f"Priority ({pri})", _router_payload(f"/priority/{pri}")),
        (f"Indicator ({ind})", _router_payload(f"/indicator/{ind}")),
        (f"Indicator ({ind}), earlier quarter",
         _router_payload(f"/indicator/{ind}", f"?period={str(cur - 3).replace(' ', '+')}")),
        ("Agency returns", _router_payload("/returns")),
        ("About", _router_payload("/about")),
        ("Unknown indicator", _router_payload("/indicator/nope")),
        ("Period select (home)", _period_payload(app, "home-period", str(cur - 1), str(cur))),
        ("Period select (indicator)", _period_payload(app, "indicator-period", str(cur - 1), str(cur))),
    ]
    return cases


def print_callbacks(title: str, rows) -> bool:
    print(f"\n{title}")
    print(f"  {'callback':40} {'first':>8} {'p50':>8} {'p95':>8} {'size':>9}")
    ok = True
    for name, first, p50, p95, size in rows:
        flag = "" if p95 < BUDGET_MS else "  over budget"
        ok &= p95 < BUDGET_MS
        print(f"  {name:40} {first:7.1f}ms {p50:7.1f}ms {p95:7.1f}ms {size / 1024:7.1f}kB{flag}")
    return ok


# --- national scale ----------------------------------------------------------------------------------

def national_view():
    """A View over the national-scale dataset built by benchmarks/bench_dataset.py's generator."""
    from dashboard.data import View
    from etl.context import DEMO_BOARD
    from indicators.board import load_board
    from indicators.dataset import build_dataset

    spec = importlib.util.spec_from_file_location("bench_dataset", ROOT / "benchmarks" / "bench_dataset.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    library = bench.national_library()
    measures, population, neighbours, areas = bench.national_inputs(library)
    demo_board = load_board(DEMO_BOARD)
    own = areas["area_code"].iloc[0]
    la = demo_board.local_authority.model_copy(update={"ons_code": own, "region_code": areas["region_code"].iloc[0]})
    board = demo_board.model_copy(update={"local_authority": la, "targets": {}})
    t = time.perf_counter()
    ds = build_dataset(measures, library, board=board, population=population, neighbours=neighbours, areas=areas,
                       focal_areas=list(areas["area_code"]))
    built = time.perf_counter() - t
    t = time.perf_counter()
    view = View(ds, board, library, "national", neighbours=neighbours[neighbours["area_code"] == own],
                areas=areas.assign(area_name=areas["area_code"]))
    indexed = time.perf_counter() - t
    info = (f"{len(ds.frame):,} dataset rows for {ds.frame['area_code'].nunique()} areas, "
            f"{len(library.indicators)} indicators; {len(ds.comparators):,} comparator rows; "
            f"build_dataset {built:.1f} s, dashboard index {indexed * 1000:.0f} ms")
    return view, info


# --- page loads --------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(code: str, log: Path) -> tuple[str, subprocess.Popen]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen([sys.executable, "-c", code.replace("PORT", str(port))], stdout=log.open("w"),
                            stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/", timeout=2):
                return base, proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text()[-2000:]) from None
            time.sleep(0.1)
    raise RuntimeError(f"no answer from {base}")


_READY_JS = """(sel) => {
  const h = document.querySelector(sel);
  if (!h) return false;
  const graphs = document.querySelectorAll('.dash-graph');
  const drawn = document.querySelectorAll('.dash-graph .main-svg');
  return graphs.length === 0 || drawn.length >= graphs.length;
}"""


def time_loads(browser, base: str, paths: list[str], selector: str, repeat: int,
               cached: bool = False) -> dict[str, tuple[float, float]]:
    """Median ms until the heading shows, and until every chart is drawn, per path.

    ``cached=False``: a fresh browser context each load (nothing cached: a first visit). ``cached=True``: one
    context, so scripts come from the browser's cache (a return visit, as in a meeting).
    """
    out = {}
    shared = browser.new_context(viewport={"width": 1024, "height": 768}) if cached else None
    for path in paths:
        first, full = [], []
        for _ in range(repeat):
            context = shared or browser.new_context(viewport={"width": 1024, "height": 768})
            page = context.new_page()
            t = time.perf_counter()
            page.goto(base + path, wait_until="commit")
            page.wait_for_selector(selector, timeout=30_000)
            first.append((time.perf_counter() - t) * 1000)
            page.wait_for_function(_READY_JS, arg=selector, timeout=30_000, polling=20)
            full.append((time.perf_counter() - t) * 1000)
            page.close()
            if shared is None:
                context.close()
        out[path] = (statistics.median(first), statistics.median(full))
    if shared is not None:
        shared.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--no-browser", action="store_true", help="skip the page loads in Chromium")
    args = parser.parse_args()
    repeat = 10 if args.quick else 40
    loads = 3 if args.quick else 7

    from dashboard import data
    from dashboard.app import create_app
    from dashboard.data import DataSource
    from etl.context import DEMO_BOARD
    from etl.demo import build_demo
    from indicators.board import load_board
    from indicators.definitions import load_library

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    tmp = Path(tempfile.mkdtemp(prefix="oba-bench-"))
    db = f"sqlite:///{tmp / 'demo.sqlite'}"
    library = load_library()
    board = load_board(DEMO_BOARD, library)
    t = time.perf_counter()
    build_demo(db, board, library, workdir=tmp / "files")
    print(f"demo store built in {time.perf_counter() - t:.1f} s at {tmp}")

    app = create_app(db, DEMO_BOARD)
    app.server.test_client().get("/")  # the first request registers the pages' callbacks
    src = data.source()
    t = time.perf_counter()
    view = src.view()
    print(f"dataset for the dashboard built in {(time.perf_counter() - t):.2f} s (once per store version); "
          f"a version check costs {_time(src.version) * 1000:.1f} ms")
    ok = print_callbacks(f"Callbacks on the demo data ({repeat} calls each; first = cold, p50/p95 of the rest)",
                         time_callbacks(app, page_cases(view, app), repeat))

    if (ROOT / "benchmarks" / "bench_dataset.py").exists():
        nview, info = national_view()
        print(f"\nNational scale: {info}")
        data.use(DataSource.fixed(nview))
        ok &= print_callbacks(f"Callbacks on the national-scale dataset ({repeat} calls each)",
                              time_callbacks(app, page_cases(nview, app), repeat))
        data.configure(db, DEMO_BOARD)
    else:
        print("\nbenchmarks/bench_dataset.py (the national-scale generator) is missing: national scale not run")

    if not args.no_browser:
        if not Path(CHROMIUM).exists():
            print(f"\n{CHROMIUM} is missing: page loads not measured")
        else:
            _browser_loads(db, tmp, loads)
    print(f"\nall callbacks within {BUDGET_MS:.0f} ms at p95: {'yes' if ok else 'NO'}")
    src.engine().dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _browser_loads(db: str, tmp: Path, loads: int) -> None:
    from playwright.sync_api import sync_playwright

    bare_code = ("import dash; from dash import html; app = dash.Dash(__name__); "
                 "app.layout = html.Main(html.H1('A bare Dash page')); app.run(port=PORT)")
    dash_code = f"from dashboard.app import serve; serve(db={db!r}, port=PORT)"
    bare, p1 = _start(bare_code, tmp / "bare.log")
    dash_base, p2 = _start(dash_code, tmp / "dash.log")
    try:
        urllib.request.urlopen(dash_base + "/_dash-layout").read()
        paths = ["/", "/priority/neglect", "/indicator/rereferral_rate", "/returns", "/about"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # one load of each first, so the dataset is built and the server warm
            time_loads(browser, bare, ["/"], "h1", 1)
            time_loads(browser, dash_base, paths, "#main-content h1", 1)
            results = {}
            for cached in (False, True):
                floor = time_loads(browser, bare, ["/"], "h1", loads, cached)["/"]
                results[cached] = (floor, time_loads(browser, dash_base, paths, "#main-content h1", loads, cached))
            browser.close()
        for cached, (floor, pages) in results.items():
            kind = "return visit, scripts cached" if cached else "first visit, nothing cached"
            print(f"\nPage loads in headless Chromium at 1024×768, {kind} (median of {loads})")
            print(f"  {'page':32} {'heading':>9} {'charts':>9} {'× floor':>8}")
            print(f"  {'bare Dash page (floor)':32} {floor[0]:7.0f}ms {floor[1]:7.0f}ms {1.0:7.1f}×")
            for path, (first, full) in pages.items():
                print(f"  {path:32} {first:7.0f}ms {full:7.0f}ms {full / floor[1]:7.1f}×")
    finally:
        for proc in (p1, p2):
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
