"""The dashboard under load: 50 signed-in people browsing and 2 sending returns at once, on loopback only.

For each server — ``oba serve`` (waitress, one process, 8 threads) and gunicorn (the documented command,
2 workers x 8 threads) — and each store (SQLite; PostgreSQL when OBA_TEST_POSTGRES_URL is set, in a schema of
its own that is dropped afterwards), this script:

1. builds the synthetic demo store and gives it 50 viewer accounts and 2 submitters (children's social care
   and the police), all with real Argon2id password hashes;
2. starts the server on 127.0.0.1 on a free port (gunicorn as docs/deployment.md gives it: ``--preload``,
   ``dashboard.wsgi:server``) and begins as soon as the sign-in page answers;
3. signs everyone in through the form (spread over 10 s; timed, but not part of the page figures), then
   runs, for ``--duration`` seconds: 50 browsing users loading pages as a browser does (a full load — the
   page, ``_dash-layout``, ``_dash-dependencies`` and the page's callback, with the CSRF header — first and
   for one page in five; otherwise a click in the navigation, which is the page's callback alone), reading
   each for 2–6 s (seeded, uniform) before the next; and 2 uploading users, each
   dropping a workbook of their agency's latest return with new figures (the check callback), then loading
   it (the load callback), then taking 10–20 s to find the next (every upload changes the store, so every
   worker rebuilds its dataset: far more often than a partnership's 8 returns a quarter would);
4. checks every answer (status, and no "could not be read" page), and at the end that every upload the
   server said it loaded is in the store as a version of its own (no lost upload).

It prints p50/p95/p99 per kind of request and overall, the errors, and the uploads. Goal: p95 under 300 ms,
zero errors, no lost upload. Traffic goes only to 127.0.0.1; every request has a 30 s time-out and every user
stops at the deadline, so a run is bounded.

Run from the project root: ``python benchmarks/bench_load.py`` (``--duration 60`` by default; ``--quick``
for 20 s; ``--only waitress-sqlite`` for one scenario).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from store_backends import STORE_BACKENDS, backend_url  # noqa: E402

BOARD = ROOT / "data" / "demo" / "board.yaml"
PASSWORD = "a shared benchmark passphrase"
ROUTER = ".._pages_content.children..._pages_store.data.."
HOST = "127.0.0.1"  # loopback only, always
PAGES = ["/", "/?period=2025-26+Q4", "/priority/early_help", "/priority/neglect", "/priority/cse_missing",
         "/indicator/rereferral_rate", "/indicator/cpp_rate", "/indicator/return_home_interviews",
         "/indicator/assessments_45_days", "/returns", "/about"]
BAD_PAGE = ("could not be read", "could not be shown", "Not available to your account")
GOAL_P95_MS = 300.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --- an HTTP client that keeps cookies, one connection per simulated person ------------------------------

class Person:
    def __init__(self, port: int, name: str):
        self.port = port
        self.name = name
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        return self.conn

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        hdrs = {"Host": f"{HOST}:{self.port}", "Accept-Encoding": "identity", **(headers or {})}
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (0, 1):
            conn = self._connect()
            try:
                t0 = time.perf_counter()
                conn.request(method, path, body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
                elapsed = time.perf_counter() - t0
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn = None  # a kept-alive connection the server closed: reconnect once
                if attempt:
                    raise
        for h, v in resp.getheaders():
            if h.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if "Max-Age=0" in v or value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        return resp.status, data, elapsed

    def sign_in(self) -> tuple[bool, float]:
        status, page, t1 = self.request("GET", "/login", headers={"Accept": "text/html"})
        m = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if status != 200 or not m:
            return False, t1
        form = urllib.parse.urlencode({"name": self.name, "password": PASSWORD, "csrf_token": m.group(1).decode(),
                                       "next": "/"}).encode()
        status, _, t2 = self.request("POST", "/login", form, {
            "Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://{HOST}:{self.port}"})
        return status == 303 and "oba_session" in self.cookies, t1 + t2

    def callback(self, body: dict):
        return self.request("POST", "/_dash-update-component", json.dumps(body).encode(), {
            "Content-Type": "application/json", "X-CSRFToken": self.cookies.get("_csrf_token", ""),
            "Origin": f"http://{HOST}:{self.port}"})


def router_body(path: str) -> dict:
    pathname, _, query = path.partition("?")
    return {"output": ROUTER,
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                       {"id": "_pages_location", "property": "search", "value": f"?{query}" if query else ""}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    page_views: int = 0
    uploads_tried: int = 0
    uploads_loaded: list[tuple[str, str, str]] = field(default_factory=list)  # (agency, period, sha256)

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text[:300])


@dataclass
class Phase:
    """Everyone signs in first (spread over a few seconds); the measured browsing starts when all have."""

    people: int
    signed: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    begin: threading.Event = field(default_factory=threading.Event)
    deadline: float = 0.0

    def signed_in(self) -> None:
        self.signed.release()

    def wait(self) -> float:
        self.begin.wait(timeout=300)
        return self.deadline


def _sign_in(p: Person, res: Results, phase: Phase, start_at: float) -> bool:
    time.sleep(max(0.0, start_at - time.monotonic()))
    try:
        ok, t = p.sign_in()
    except Exception as exc:  # noqa: BLE001
        ok, t = False, 0.0
        res.error(f"{p.name}: sign-in {type(exc).__name__}: {exc}")
    res.add("sign in (form + Argon2id)", t)
    if not ok:
        res.error(f"{p.name}: sign-in failed")
    phase.signed_in()
    return ok


def browse(port: int, name: str, seed: int, phase: Phase, res: Results, start_at: float) -> None:
    rng = random.Random(seed)
    p = Person(port, name)
    if not _sign_in(p, res, phase, start_at):
        return
    deadline = phase.wait()
    time.sleep(rng.uniform(0.0, 4.0))  # people do not all click at the same instant
    try:
        full = True
        while time.monotonic() < deadline:
            path = rng.choice(PAGES)
            # The first page is a full load; after that a click in the navigation is the page's callback only
            # (Dash routes in the browser), and one page in five is opened afresh (a link, a refresh).
            for kind, method, target, body, headers in ((
                ("page (HTML)", "GET", path, None, {"Accept": "text/html", "Sec-Fetch-Dest": "document"}),
                ("_dash-layout", "GET", "/_dash-layout", None, {"Accept": "application/json"}),
                ("_dash-dependencies", "GET", "/_dash-dependencies", None, {"Accept": "application/json"}),
            ) if full else ()):
                status, data, t = p.request(method, target, body, headers)
                res.add(kind, t)
                if status != 200:
                    res.error(f"{name}: {kind} {target} -> {status}")
            full = rng.random() < 0.2
            status, data, t = p.callback(router_body(path))
            res.add("page callback", t)
            text = data.decode("utf-8", "replace")
            if status != 200:
                res.error(f"{name}: callback {path} -> {status} {text[:120]}")
            elif any(b in text for b in BAD_PAGE):
                res.error(f"{name}: {path} drew an error page: {text[:160]}")
            with res.lock:
                res.page_views += 1
            time.sleep(min(rng.uniform(2.0, 6.0), max(0.0, deadline - time.monotonic())))
    except Exception as exc:  # noqa: BLE001 - a benchmark reports every failure
        res.error(f"{name}: {type(exc).__name__}: {exc}")


def _upload_callbacks(p: Person) -> tuple[dict, dict]:
    status, data, _ = p.request("GET", "/_dash-dependencies")
    deps = json.loads(data)
    check = next(d for d in deps if "upload-report.children" in d["output"] and "@" not in d["output"])
    load = next(d for d in deps if "upload-file.contents" in d["output"] and "upload-result" in d["output"])
    return check, load


def _body(dep: dict, values: dict, changed: str) -> dict:
    def item(d):
        return {"id": d["id"], "property": d["property"], "value": values.get(f"{d['id']}.{d['property']}")}

    outs = []
    for part in dep["output"].strip(".").split("..."):
        ident, prop = part.rsplit(".", 1)
        outs.append({"id": ident, "property": prop.split("@")[0]})
    return {"output": dep["output"], "outputs": outs, "inputs": [item(d) for d in dep["inputs"]],
            "state": [item(d) for d in dep.get("state", [])], "changedPropIds": [changed]}


def upload(port: int, name: str, workbooks: list[tuple[bytes, str]], seed: int, phase: Phase,
           res: Results, agency: str, period: str) -> None:
    rng = random.Random(seed)
    p = Person(port, name)
    if not _sign_in(p, res, phase, time.monotonic()):
        return
    deadline = phase.wait()
    try:
        check, load = _upload_callbacks(p)
        for data, file_name in workbooks:
            if time.monotonic() > deadline:
                break
            url = "data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64," + \
                base64.b64encode(data).decode()
            with res.lock:
                res.uploads_tried += 1
            status, body, t = p.callback(_body(check, {"upload-file.contents": url, "upload-file.filename": file_name},
                                               "upload-file.contents"))
            res.add("upload: check", t)
            answer = json.loads(body) if status == 200 else {}
            checked = answer.get("response", {}).get("upload-checked", {}).get("data")
            if status != 200 or not checked:
                res.error(f"{name}: check -> {status} {body[:160]!r}")
                continue
            time.sleep(1.0)  # reads the report, then presses Load
            status, body, t = p.callback(_body(load, {"upload-load.n_clicks": 1, "upload-file.contents": url,
                                                      "upload-checked.data": checked}, "upload-load.n_clicks"))
            res.add("upload: load", t)
            text = body.decode("utf-8", "replace")
            if status == 200 and (f"revised {agency} {period}" in text or f"loaded {agency} {period}" in text):
                with res.lock:
                    res.uploads_loaded.append((agency, period, hashlib.sha256(data).hexdigest()))
            else:
                res.error(f"{name}: load -> {status} {text[:200]}")
            time.sleep(min(rng.uniform(10.0, 20.0), max(0.0, deadline - time.monotonic())))
    except Exception as exc:  # noqa: BLE001
        res.error(f"{name}: {type(exc).__name__}: {exc}")


# --- the store and the servers -------------------------------------------------------------------------

def build_store(url: str, work: Path, n_viewers: int) -> tuple[str, list]:
    """The demo store with accounts; returns the latest quarter's label."""
    import etl.users
    from etl.demo import build_demo
    from etl.store import make_engine
    from etl.users import add_user
    from indicators.board import load_board
    from indicators.definitions import load_library

    library = load_library()
    board = load_board(BOARD, library)
    build_demo(url, board, library, workdir=work / "files")
    real = etl.users.hash_password(PASSWORD)  # one real Argon2id hash, shared by every benchmark account
    orig = etl.users.hash_password
    etl.users.hash_password = lambda _pw: real
    try:
        engine = make_engine(url)
        for i in range(n_viewers):
            add_user(engine, f"viewer{i:02d}", "viewer", PASSWORD)
        add_user(engine, "submitter-csc", "submitter", PASSWORD, "CSC")
        add_user(engine, "submitter-pol", "submitter", PASSWORD, "POL")
        from etl.returns.status import stored_periods

        latest = stored_periods(engine)[-1]
        engine.dispose()
    finally:
        etl.users.hash_password = orig
    return latest, [board, library]


def make_workbooks(board, library, agency: str, quarter, n: int, work: Path) -> list[tuple[bytes, str]]:
    from etl.returns.samples import write_sample_return

    out = []
    for i in range(n):
        path = write_sample_return(work / f"{agency}-{i}.xlsx", board, library, agency, quarter, seed=1000 + i)
        out.append((path.read_bytes(), f"{agency} {quarter.label}.xlsx"))
    return out


def start_server(kind: str, url: str, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "OBA_DATABASE_URL": url, "OBA_BOARD": str(BOARD),
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    bindir = Path(sys.executable).parent
    if kind == "waitress":
        cmd = [str(bindir / "oba"), "--db", url, "--board", str(BOARD), "serve", "--host", HOST, "--port", str(port)]
    else:
        cmd = [str(bindir / "gunicorn"), "--preload", "--workers", "2", "--threads", "8", "--worker-class",
               "gthread", "--bind", f"{HOST}:{port}", "--log-level", "warning", "dashboard.wsgi:server"]
    log = open(log_path, "wb")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                            start_new_session=True)


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 120.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                return time.monotonic() - t0
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in the server's process group (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def stop_server(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def run_scenario(kind: str, backend: str, args, work: Path) -> dict:
    with backend_url(backend, work) as url:
        latest, (board, library) = build_store(url, work / f"{kind}-{backend}", args.users)
        uploads = {a: make_workbooks(board, library, a, latest, 40, work) for a in ("CSC", "POL")}
        port = _free_port()
        log_path = work / f"{kind}-{backend}.log"
        proc = start_server(kind, url, port, log_path)
        try:
            up = wait_until_up(port, proc)
            res = Results()
            people = args.users + args.uploaders
            phase = Phase(people)
            t_start = time.monotonic()
            threads = [threading.Thread(target=browse, args=(port, f"viewer{i:02d}", i, phase, res,
                                                             t_start + 10.0 * i / max(1, args.users)), daemon=True)
                       for i in range(args.users)]
            for j, agency in enumerate(("CSC", "POL")[: args.uploaders]):
                threads.append(threading.Thread(target=upload, args=(
                    port, f"submitter-{agency.lower()}", uploads[agency], 100 + j, phase, res, agency,
                    latest.label), daemon=True))
            for t in threads:
                t.start()
            for _ in range(people):  # everyone has signed in (or failed to), within a bound
                phase.signed.acquire(timeout=max(1.0, t_start + 180 - time.monotonic()))
            signing = time.monotonic() - t_start
            cpu_server0, cpu_client0 = group_cpu_seconds(proc.pid), time.process_time()
            t0 = time.monotonic()
            phase.deadline = t0 + args.duration
            phase.begin.set()
            for t in threads:
                t.join(timeout=args.duration + 60)
            wall = time.monotonic() - t0
            cpu_server = group_cpu_seconds(proc.pid) - cpu_server0
            cpu_client = time.process_time() - cpu_client0
        finally:
            stop_server(proc)
        lost = check_uploads(url, res)
        server_errors = [ln for ln in log_path.read_text(errors="replace").splitlines()
                         if "Traceback" in ln or "ERROR" in ln]
    return {"kind": kind, "backend": backend, "up": up, "wall": wall, "res": res, "lost": lost,
            "server_errors": server_errors, "signing": signing, "cpu_server": cpu_server,
            "cpu_client": cpu_client}


def check_uploads(url: str, res: Results) -> list[str]:
    """Every upload the server said it loaded is a stored version of its own."""
    from sqlalchemy import select

    from etl.store import ReturnVersion, make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            stored = {(a, p, s) for a, p, s in conn.execute(
                select(ReturnVersion.agency_code, ReturnVersion.period, ReturnVersion.sha256))}
    finally:
        engine.dispose()
    return [f"{a} {p} {s[:12]}" for a, p, s in res.uploads_loaded if (a, p, s) not in stored]


def report(out: dict) -> bool:
    res: Results = out["res"]
    label = {"waitress": "oba serve (waitress, 1 process x 8 threads)",
             "gunicorn": "gunicorn --preload (2 workers x 8 threads, gthread)"}[out["kind"]]
    print(f"\n== {label}, {out['backend']}: answered {out['up']:.1f} s after start; everyone signed in "
          f"{out['signing']:.1f} s later; then {out['wall']:.0f} s of load")
    every = [t for kind, ts in res.times.items() if not kind.startswith("sign in") for t in ts]
    print(f"   {'request':28} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind in ["page (HTML)", "_dash-layout", "_dash-dependencies", "page callback", "upload: check",
                 "upload: load", "sign in (form + Argon2id)"]:
        ts = res.times.get(kind, [])
        if ts:
            print(f"   {kind:28} {len(ts):6d} {_pct(ts, 50):8.1f} {_pct(ts, 95):8.1f} {_pct(ts, 99):8.1f} "
                  f"{max(ts) * 1000:8.1f}")
    p95 = _pct(every, 95)
    print(f"   {'every request (not sign-in)':28} {len(every):6d} {_pct(every, 50):8.1f} {p95:8.1f} "
          f"{_pct(every, 99):8.1f} {max(every) * 1000 if every else 0:8.1f}")
    print(f"   page views {res.page_views} ({res.page_views / max(out['wall'], 1):.1f}/s); "
          f"uploads tried {res.uploads_tried}, loaded {len(res.uploads_loaded)}, lost {len(out['lost'])}")
    print(f"   CPU during the load: server {out['cpu_server']:.1f} s ({out['cpu_server'] / max(out['wall'], 1):.2f} "
          f"cores; {out['cpu_server'] / max(res.page_views, 1) * 1000:.0f} ms per page view), load generator "
          f"{out['cpu_client']:.1f} s; machine load average {os.getloadavg()[0]:.1f}")
    print(f"   errors: {len(res.errors)}" + "".join(f"\n     - {e}" for e in res.errors[:8]))
    if out["server_errors"]:
        print(f"   server log: {len(out['server_errors'])} error lines, e.g. {out['server_errors'][0][:200]}")
    met = p95 < GOAL_P95_MS and not res.errors and not out["lost"] and res.uploads_tried == len(res.uploads_loaded)
    print(f"   goal (p95 < {GOAL_P95_MS:.0f} ms, zero errors, no lost upload): {'met' if met else 'NOT met'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per scenario (max 300)")
    parser.add_argument("--users", type=int, default=50, help="browsing users (max 200)")
    parser.add_argument("--uploaders", type=int, default=2, choices=[0, 1, 2])
    parser.add_argument("--quick", action="store_true", help="20 s per scenario")
    parser.add_argument("--only", help="one scenario: waitress-sqlite, gunicorn-sqlite, waitress-postgresql, ...")
    args = parser.parse_args()
    args.duration = min(20.0 if args.quick else args.duration, 300.0)
    args.users = max(1, min(args.users, 200))
    if not shutil.which("gunicorn", path=str(Path(sys.executable).parent)):
        print("gunicorn is not installed in this environment: `pip install gunicorn` (Linux)")
        return 1
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the start")
    print(f"{args.users} browsing users (2-6 s reading each page) and {args.uploaders} uploading (10-20 s between "
          f"returns), {args.duration:.0f} s per scenario, on {HOST} only")
    all_met = True
    with tempfile.TemporaryDirectory(prefix="oba-load-") as tmp:
        for backend in STORE_BACKENDS:
            for kind in ("waitress", "gunicorn"):
                if args.only and args.only != f"{kind}-{backend}":
                    continue
                work = Path(tmp) / f"{kind}-{backend}"
                work.mkdir()
                all_met &= report(run_scenario(kind, backend, args, work))
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f}")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
