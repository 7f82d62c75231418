"""`oba serve` and `oba demo` check the port before saying anything, and say the URL only once it answers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

import dashboard.server
from dashboard.server import choose_port, next_free_port, url_for
from etl.cli import main
from etl.paths import DEMO_BOARD


@pytest.fixture
def taken_port():
    """A port another program listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_a_free_port_is_used_as_asked():
    port = next_free_port("127.0.0.1", 20000)
    assert choose_port("127.0.0.1", port, explicit=True) == (port, None)


def test_the_default_port_taken_moves_to_the_next_free_one(taken_port):
    alt = next_free_port("127.0.0.1", taken_port + 1)
    assert choose_port("127.0.0.1", taken_port, explicit=False) == (alt, (
        f"Port {taken_port} on 127.0.0.1 is already in use by another program; using port {alt} instead "
        "(choose one with --port, or make run PORT=…)."))


def test_serve_on_a_taken_port_says_so_before_anything_else(tmp_path, taken_port, monkeypatch):
    seen = {}
    monkeypatch.setattr(dashboard.server, "serve", lambda **kw: seen.update(kw))
    alt = next_free_port("127.0.0.1", taken_port + 1)
    r = CliRunner().invoke(main, ["--db", str(tmp_path / "x.sqlite"), "serve", "--port", str(taken_port)])
    assert r.exit_code == 1 and seen == {}
    assert r.output == (f"Store sqlite:///{tmp_path / 'x.sqlite'}; board {DEMO_BOARD} (the demo's: there is no "
                        f"data/board.yaml in {Path.cwd()})\n"
                        f"Error: port {taken_port} on 127.0.0.1 is already in use by another program (another "
                        f"dashboard?): choose a free port, e.g. --port {alt} (with make: make run PORT={alt}), or "
                        "stop the program using it\n")


def test_serve_on_the_default_port_taken_says_which_it_takes(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(dashboard.server, "serve", lambda **kw: seen.update(kw))
    monkeypatch.setattr(dashboard.server, "port_is_free", lambda host, port: port not in (8050, 8051))
    db = tmp_path / "x.sqlite"
    r = CliRunner().invoke(main, ["--db", str(db), "serve"])
    assert r.exit_code == 0, r.output
    assert seen["port"] == 8052
    assert r.stdout == ("Port 8050 on 127.0.0.1 is already in use by another program; using port 8052 instead "
                        "(choose one with --port, or make run PORT=…).\n"
                        "Starting the dashboard on port 8052 with waitress, 8 threads…\n")
    assert r.stderr.startswith(f"Store sqlite:///{db}; board ")


def test_demo_on_a_taken_port_stops_before_building(tmp_path, taken_port):
    db = tmp_path / "demo.sqlite"
    r = CliRunner().invoke(main, ["--db", str(db), "demo", "--port", str(taken_port)])
    assert r.exit_code == 1 and r.output.startswith(f"Error: port {taken_port} on 127.0.0.1 is already in use")
    assert not db.exists()


def test_make_run_passes_port():
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert "$(BIN)/oba demo $(if $(PORT),--port $(PORT))" in makefile


@pytest.mark.parametrize("host, url", [("127.0.0.1", "http://127.0.0.1:8050"), ("0.0.0.0", "http://127.0.0.1:8050"),
                                       ("::", "http://[::1]:8050"), ("localhost", "http://localhost:8050")])
def test_the_url_a_browser_here_opens(host, url):
    assert url_for(host, 8050) == url


def test_the_url_is_announced_only_once_the_server_answers(tmp_path):
    root = Path(__file__).resolve().parent.parent
    oba = Path(sys.executable).with_name("oba")
    db = tmp_path / "x.sqlite"
    assert CliRunner().invoke(main, ["--db", str(db), "init"]).exit_code == 0
    port = next_free_port("127.0.0.1", 18170)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([str(oba), "--db", str(db), "serve", "--port", str(port)], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 90
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "ready" in line or time.monotonic() > deadline:
                break
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert lines[-1] == f"The dashboard is ready: open http://127.0.0.1:{port} in a browser (Ctrl+C to stop)."
    assert not any("http://" in line for line in lines[:-1])


def test_the_debug_reloaders_child_serves_on_the_port_its_parent_holds(tmp_path, taken_port, monkeypatch):
    seen = {}
    monkeypatch.setattr(dashboard.server, "serve", lambda **kw: seen.update(kw))
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")  # what the development server's reloader sets in its child
    r = CliRunner().invoke(main, ["--db", str(tmp_path / "x.sqlite"), "serve", "--debug", "--port", str(taken_port)])
    assert (r.exit_code, r.output) == (0, "")
    assert seen["port"] == taken_port and seen["debug"] is True
