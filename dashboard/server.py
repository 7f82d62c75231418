"""Running the dashboard: waitress by default, gunicorn for several worker processes, Flask's development server
only for ``--debug`` on this computer.

Refusals, before anything listens:

- ``--debug`` on an address other than loopback (the debugger runs any code a visitor sends it);
- any address other than loopback while the store has no accounts (everyone on the network would see
  unsuppressed small counts): add an admin with ``oba users add NAME --role admin`` first.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
from pathlib import Path

from etl.errors import OBAError

log = logging.getLogger(__name__)


class ServeRefused(OBAError):
    """The dashboard will not start with these settings; the message says why and what to do."""


class ServeUsage(OBAError):
    """The options cannot go together."""

    exit_code = 2


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 and 'localhost' (the names a browser on this computer uses)."""
    if not host:
        return False
    name = host.strip().strip("[]").lower()
    if name in ("localhost", "localhost.localdomain") or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _accounts_state(db: str | None) -> tuple[bool, str]:
    """(accounts exist, why not when they cannot be counted)."""
    from etl.context import AppContext
    from etl.store import database_url
    from etl.users import accounts_exist

    url = database_url(db)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return False, f"there is no store at {url.removeprefix('sqlite:///')} yet (run `oba init`)"
    try:
        engine = AppContext(db=db).engine()
    except OBAError as exc:
        return False, str(exc)
    try:
        return accounts_exist(engine), ""
    except Exception as exc:  # the server is down or refuses us: say so, do not start open
        return False, f"the store could not be read ({type(exc).__name__})"
    finally:
        engine.dispose()


def check_settings(db: str | None, host: str, debug: bool, workers: int) -> None:
    """Raise ServeRefused / ServeUsage when these settings must not run."""
    if debug and not is_loopback(host):
        raise ServeUsage(f"--debug serves Flask's interactive debugger, which runs any code sent to it: it is only "
                         f"allowed on 127.0.0.1 or localhost, not {host}")
    if debug and workers > 1:
        raise ServeUsage("--debug runs one development server; drop --workers")
    if workers > 1 and sys.platform == "win32":
        raise ServeUsage("--workers needs gunicorn, which does not run on Windows; waitress's threads (--threads) "
                         "serve many people from one process")
    if not is_loopback(host):
        exist, why = _accounts_state(db)
        if not exist:
            reason = why or "the store has no accounts yet"
            raise ServeRefused(
                f"not serving on {host}: {reason}, so everyone who can reach this computer would see every "
                "figure. Add an administrator first (`oba users add NAME --role admin`), then the accounts "
                "people need; or serve on 127.0.0.1 for yourself only.")


PORT_TRIES = 20
"""How many ports after a taken one are tried for a free one."""


def port_is_free(host: str, port: int) -> bool:
    """Whether this computer can listen on host:port now: False when another program listens there.

    Raises ServeRefused when it cannot listen there for another reason (the address is not this computer's,
    a port below 1024 without the right to it).
    """
    import errno

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host.strip("[]"), port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return False
        raise ServeRefused(f"cannot listen on {host}:{port} ({exc.strerror or exc}): check the address is this "
                           "computer's (--host) and the port is 1024 or above (--port)") from None
    return True


def next_free_port(host: str, port: int, tries: int = PORT_TRIES) -> int | None:
    """The first free port from ``port`` on, trying ``tries`` of them; None when none is."""
    for candidate in range(port, min(port + tries, 65536)):
        if port_is_free(host, candidate):
            return candidate
    return None


def choose_port(host: str, port: int, explicit: bool) -> tuple[int, str | None]:
    """The port to serve on and what to say about it.

    When ``port`` is taken: with the default port, the next free one is used and the note says so; a port the
    user asked for (``--port``, ``make run PORT=``) is refused, naming a free one. Raises ServeRefused.
    """
    if port_is_free(host, port):
        return port, None
    alt = next_free_port(host, port + 1)
    if alt is None:
        raise ServeRefused(f"port {port} on {host} is already in use by another program, and so are the "
                           f"{PORT_TRIES} after it: choose a free port with --port (with make: make run PORT=…), "
                           "or stop the program using it")
    if explicit:
        raise ServeRefused(f"port {port} on {host} is already in use by another program (another dashboard?): "
                           f"choose a free port, e.g. --port {alt} (with make: make run PORT={alt}), or stop the "
                           "program using it")
    return alt, (f"Port {port} on {host} is already in use by another program; using port {alt} instead "
                 "(choose one with --port, or make run PORT=…).")


def _listen_check(host: str, port: int) -> None:
    """Fail with a clear message (not a traceback) when the port is taken or the address is not this computer's."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host.strip("[]"), port))
        except OSError as exc:
            raise ServeRefused(f"cannot listen on {host}:{port} ({exc.strerror or exc}): another program may be "
                               f"using the port (choose another with --port, e.g. --port {port + 1}; with make: "
                               f"make run PORT={port + 1}), or the address is not this computer's") from None


def in_reloader_child() -> bool:
    """Whether this process is the development server's reloader child (``--debug``): its parent has bound the
    port, checked it and says when the dashboard is ready."""
    return os.environ.get("WERKZEUG_RUN_MAIN") == "true"


def url_for(host: str, port: int) -> str:
    """The address a browser on this computer opens for a server listening on host:port."""
    name = host.strip("[]")
    if name in ("0.0.0.0", ""):
        name = "127.0.0.1"
    elif name == "::":
        name = "::1"
    return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"


def announce_when_ready(url: str, say=None, timeout: float = 180.0, interval: float = 0.25):
    """Start a thread that says the dashboard is ready once ``url`` answers (any HTTP status), not before.

    Returns the thread. When nothing answers within ``timeout`` seconds it says that instead.
    """
    import threading
    import time
    import urllib.error
    import urllib.request

    def _say(text: str) -> None:
        (say or (lambda t: print(t, flush=True)))(text)

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with opener.open(url + "/", timeout=5):
                    pass
            except urllib.error.HTTPError:
                pass  # a sign-in redirect or an error page is still the server answering
            except OSError:
                time.sleep(interval)
                continue
            _say(f"The dashboard is ready: open {url} in a browser (Ctrl+C to stop).")
            return
        _say(f"The dashboard has not answered on {url} after {timeout:.0f} s; see the messages above.")

    thread = threading.Thread(target=watch, name="oba-ready", daemon=True)
    thread.start()
    return thread


def serve(db: str | None = None, board_path: str | Path | None = None, host: str = "127.0.0.1", port: int = 8050,
          debug: bool = False, workers: int = 1, threads: int = 8, say=None) -> None:
    """Check the settings, build the app, warm its dataset and serve until interrupted.

    Says "The dashboard is ready: open http://… in a browser" (through ``say``, else on stdout) once the server
    answers, never before.
    """
    check_settings(db, host, debug, workers)
    reloaded = debug and in_reloader_child()
    if not reloaded:  # the development server's reloader child serves on the socket its parent bound
        _listen_check(host, port)
    from dashboard import data
    from dashboard.app import create_app
    from dashboard.hardening import max_body_bytes

    app = create_app(db, board_path)
    url = url_for(host, port)
    if debug:
        data.source().warm()
        if not reloaded:
            announce_when_ready(url, say)
        app.logger.setLevel(logging.WARNING)  # not Dash's "Dash is running on …" before anything answers
        app.run(host=host, port=port, debug=True)
        return
    if workers > 1:
        data.source().warm().join()  # built once here, then shared by the workers (copy-on-write)
        announce_when_ready(url, say)
        _gunicorn(app.server, host, port, workers, threads)
        return
    import waitress

    data.source().warm()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" under load is expected
    try:
        server = waitress.create_server(app.server, host=host.strip("[]"), port=port, threads=threads, ident="oba",
                                        max_request_body_size=max_body_bytes() + 64 * 1024, channel_timeout=60,
                                        connection_limit=200)
    except OSError as exc:  # taken between the check and now
        raise ServeRefused(f"cannot listen on {host}:{port} ({exc.strerror or exc}): another program has just "
                           f"taken the port; choose another with --port") from None
    announce_when_ready(url, say)
    server.run()


def _gunicorn(wsgi, host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    from dashboard.hardening import max_body_bytes

    bind = f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"

    class _App(BaseApplication):
        def load_config(self):
            for k, v in {"bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
                         "timeout": 60, "graceful_timeout": 10, "limit_request_line": 8190,
                         "accesslog": None, "errorlog": "-", "loglevel": "warning"}.items():
                self.cfg.set(k, v)

        def load(self):
            return wsgi

    os.environ.setdefault("OBA_MAX_REQUEST_MB", str(max_body_bytes() / (1024 * 1024)))
    _App().run()
