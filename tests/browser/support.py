"""What the browser tests share: the Chromium settings, serving the dashboard in a background process, and a
page wrapper that records console errors and saves screenshots."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artefacts" / "screenshots"
DEMO_BOARD = ROOT / "data" / "demo" / "board.yaml"
DESKTOP = {"width": 1440, "height": 900}
PROJECTOR = {"width": 1024, "height": 768}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = Path(proc.log_path).read_text(errors="replace") if hasattr(proc, "log_path") else ""
            raise RuntimeError(f"the dashboard exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the dashboard did not answer on {url} within {timeout} s")


def serve_in_background(db: str, board: Path = DEMO_BOARD):
    """Start the dashboard in its own process (Dash keeps one app per process); return (base url, process)."""
    port = _free_port()
    code = ("import sys; from dashboard.app import serve; "
            f"serve(db={db!r}, board_path={str(board)!r}, host='127.0.0.1', port={port})")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    # The server's log goes to a file: an unread pipe would fill up and stall the server.
    log = tempfile.NamedTemporaryFile(prefix="oba-dashboard-", suffix=".log", delete=False)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=log, stderr=subprocess.STDOUT, env=env)
    proc.log_path = log.name
    base = f"http://127.0.0.1:{port}"
    _wait_for(base + "/", proc)
    return base, proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    Path(proc.log_path).unlink(missing_ok=True)


class Browser:
    """A page plus the console errors it has logged, and helpers the tests share."""

    def __init__(self, page, base: str):
        self.page = page
        self.base = base
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.ready()

    def ready(self) -> None:
        """Wait until the page's content (not Dash's loading placeholder) is in and the network is quiet."""
        self.page.wait_for_selector("#main-content h1", timeout=20_000)
        self.page.wait_for_load_state("networkidle")

    def text(self, selector: str = "#main-content") -> str:
        return " ".join(self.page.inner_text(selector).split())

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        vp = self.page.viewport_size
        path = SCREENSHOTS / f"{name}_{vp['width']}x{vp['height']}.png"
        self.page.wait_for_timeout(300)  # let plotly finish drawing
        self.page.screenshot(path=str(path), full_page=full_page)
        return path
