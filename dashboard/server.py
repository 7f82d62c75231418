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


def _listen_check(host: str, port: int) -> None:
    """Fail with a clear message (not a traceback) when the port is taken or the address is not this computer's."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host.strip("[]"), port))
        except OSError as exc:
            raise ServeRefused(f"cannot listen on {host}:{port} ({exc.strerror or exc}): another program may be "
                               "using the port (try --port 8051), or the address is not this computer's") from None


def serve(db: str | None = None, board_path: str | Path | None = None, host: str = "127.0.0.1", port: int = 8050,
          debug: bool = False, workers: int = 1, threads: int = 8) -> None:
    """Check the settings, build the app, warm its dataset and serve until interrupted."""
    check_settings(db, host, debug, workers)
    _listen_check(host, port)
    from dashboard import data
    from dashboard.app import create_app
    from dashboard.hardening import max_body_bytes

    app = create_app(db, board_path)
    if debug:
        data.source().warm()
        app.run(host=host, port=port, debug=True)
        return
    if workers > 1:
        data.source().warm().join()  # built once here, then shared by the workers (copy-on-write)
        _gunicorn(app.server, host, port, workers, threads)
        return
    import waitress

    data.source().warm()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" under load is expected
    waitress.serve(app.server, host=host.strip("[]"), port=port, threads=threads, ident="oba",
                   max_request_body_size=max_body_bytes() + 64 * 1024, channel_timeout=60,
                   connection_limit=200)


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
