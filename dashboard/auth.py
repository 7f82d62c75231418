"""Who is asking: sign-in, sign-out, sessions, single sign-on and CSRF, for every request the server answers.

Two modes, decided per request from the store (so every worker agrees within seconds):

- **open** — the store has no accounts. The dashboard works as a demo on this computer does, with no sign-in,
  and says so on every page; it answers only requests from loopback addressed to a loopback name (so neither
  the network nor a web page rebinding its name to 127.0.0.1 can read it).
- **accounts** — once any account exists, every page, callback and file except the sign-in page and its
  style sheets needs a signed-in user. A session is a random cookie (HttpOnly, SameSite=Lax, Secure behind
  TLS) looked up in the store; it expires when idle or old and ends at sign-out or when the account is
  disabled. Every state-changing request must carry the session's CSRF token (Dash's renderer sends the
  ``_csrf_token`` cookie as ``X-CSRFToken``; forms post it as ``csrf_token``) and, when it has an Origin,
  come from this origin.

Single sign-on: when the board file has a ``single_sign_on`` section, a request from one of its proxies'
addresses is signed in as the enabled account its header names; the header is ignored from anywhere else.

``request_user()`` is the signed-in user of this request (None on the open demo): the one function the rest of
the dashboard asks.
"""

from __future__ import annotations

import hmac
import html
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from flask import Response, g, redirect, request

from etl import audit
from etl.sessions import IDLE, LIFETIME, Session, create_session, end_session, find_session, token_hash
from etl.users import PERMISSIONS, User, accounts_exist, authenticate, get_user

log = logging.getLogger(__name__)

SESSION_COOKIE = "oba_session"
CSRF_COOKIE = "_csrf_token"  # the cookie Dash's renderer copies into the X-CSRFToken header
CSRF_HEADER = "X-CSRFToken"
LOGIN_COOKIE = "oba_login"
PUBLIC_PATHS = ("/login", "/favicon.ico")
PUBLIC_PREFIXES = ("/assets/",)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CACHE_SECONDS = 2.0  # how long a worker trusts what it read about accounts and sessions


@dataclass(frozen=True)
class Identity:
    """Who a request comes from: the open demo (no accounts), or a signed-in account."""

    mode: str  # open | accounts
    user: User | None = None
    session: Session | None = None
    address: str | None = None

    @property
    def name(self) -> str:
        return self.user.name if self.user else "this computer"

    @property
    def role(self) -> str | None:
        return self.user.role if self.user else None

    @property
    def agency(self) -> str | None:
        """The one agency a submitter may see; None for everyone else."""
        return self.user.agency_code if self.user and self.user.role == "submitter" else None

    def can(self, permission: str) -> bool:
        if self.mode == "open":  # the demo on this computer: everything, as before accounts existed
            return any(permission in p for p in PERMISSIONS.values())
        return self.user is not None and self.user.can(permission)


def request_identity() -> Identity | None:
    """The identity of the request being answered (None outside a request or before sign-in)."""
    try:
        return g.get("oba_identity")
    except RuntimeError:  # no request
        return None


def request_user() -> User | None:
    """The signed-in user of this request; None on the open demo and outside a request."""
    ident = request_identity()
    return ident.user if ident else None


# --- what the store says, cached briefly per process --------------------------------------------------

class _Cache:
    def __init__(self):
        self._lock = threading.Lock()
        self._accounts: tuple[float, bool | None, str | None] = (0.0, None, None)
        self._sessions: dict[str, tuple[float, Session | None]] = {}

    def clear(self) -> None:
        with self._lock:
            self._accounts = (0.0, None, None)
            self._sessions.clear()

    def accounts(self) -> tuple[bool | None, str | None]:
        """(accounts exist, error): None and a message when the store cannot be read."""
        at, value, error = self._accounts
        if time.monotonic() - at < CACHE_SECONDS:
            return value, error
        value, error = _read_accounts()
        self._accounts = (time.monotonic(), value, error)
        return value, error

    def session(self, token: str) -> Session | None:
        key = token_hash(token)
        hit = self._sessions.get(key)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        found = find_session(_engine(), token)
        with self._lock:
            if len(self._sessions) > 10_000:
                self._sessions.clear()
            self._sessions[key] = (time.monotonic(), found)
        return found

    def forget(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(token_hash(token), None)


CACHE = _Cache()


def _engine():
    from dashboard import data

    return data.source().engine()


def _read_accounts() -> tuple[bool | None, str | None]:
    from dashboard import data

    try:
        engine = _engine()
    except data.DataUnavailable as exc:
        if "cannot be opened" in exc.title:
            return None, exc.message
        return False, None  # no store, or not created yet: no accounts can exist
    try:
        return accounts_exist(engine), None
    except Exception as exc:  # e.g. an older schema without accounts, or the server went away
        from etl.db import is_current

        try:
            if not is_current(engine):
                return False, None
        except Exception:
            pass
        log.warning("could not count the accounts: %s", type(exc).__name__)
        return None, "The data store could not be read."


def _sign_on():
    from dashboard import data

    try:
        return data.source().board().single_sign_on
    except Exception:
        return None


# --- addresses and origins ----------------------------------------------------------------------------

def client_address() -> str | None:
    """The address the request comes from; behind a trusted proxy, the one it forwards for."""
    remote = request.remote_addr
    sso = _sign_on()
    if sso is not None and sso.trusts(remote):
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:64]
    return remote


def _secure() -> bool:
    if request.is_secure or os.environ.get("OBA_SECURE_COOKIES", "").lower() in ("1", "true", "yes"):
        return True
    sso = _sign_on()
    return bool(sso and sso.trusts(request.remote_addr)
                and request.headers.get("X-Forwarded-Proto", "").lower() == "https")


def is_local_request() -> bool:
    """From this computer, to a name for this computer (what a browser here sends to 127.0.0.1:PORT)."""
    from dashboard.server import is_loopback

    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    return is_loopback(request.remote_addr) and is_loopback(host)


def same_origin() -> bool:
    """No Origin header (not a browser's cross-site request), or this server's own."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another site, never '//host')."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target \
            or any(ord(c) < 32 for c in target) or len(target) > 500:
        return "/"
    return target


# --- resolving who is asking ---------------------------------------------------------------------------

def _from_sso(engine, sso) -> Identity | Response | None:
    header = request.headers.get(sso.header)
    if not header or not sso.trusts(request.remote_addr):
        return None
    name = header.strip().lower()
    token = request.cookies.get(SESSION_COOKIE)
    session = CACHE.session(token) if token else None
    if session is not None and session.user.name == name:
        return Identity("accounts", session.user, session, client_address())
    user = get_user(engine, name)
    if user is None or user.disabled:
        from dashboard.hardening import error_page

        return error_page(403, "No account", "You are signed in to your organisation, but this dashboard has no "
                          "enabled account for you. Ask its administrator to add one.")
    token, session = create_session(engine, user, client_address(), via="sso")
    g.oba_new_session = token
    return Identity("accounts", user, session, client_address())


def resolve() -> Identity | Response | None:
    """The identity of this request, a response refusing it, or None (accounts exist; nobody signed in)."""
    from dashboard.hardening import error_page

    exist, error = CACHE.accounts()
    if exist is None:
        return error_page(503, "Not available", error or "The dashboard cannot reach its data store just now.")
    if not exist:
        if is_local_request():
            return Identity("open", address=request.remote_addr)
        return error_page(403, "Only on this computer",
                          "This dashboard has no accounts yet, so it answers only on the computer it runs on. "
                          "An administrator adds the first account with `oba users add NAME --role admin`.")
    sso = _sign_on()
    if sso is not None:
        found = _from_sso(_engine(), sso)
        if found is not None:
            return found
    token = request.cookies.get(SESSION_COOKIE)
    session = CACHE.session(token) if token else None
    if session is None:
        return None
    return Identity("accounts", session.user, session, client_address())


def _is_public() -> bool:
    return request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES) \
        or request.path == "/_favicon.ico"


def _is_page_request() -> bool:
    """A browser asking for a page to show (not a script, image or the app's data)."""
    if request.path.startswith(("/_dash-", "/_oba/", "/_icons/")):
        return False
    dest = request.headers.get("Sec-Fetch-Dest")
    if dest is not None:
        return dest == "document"
    return "text/html" in request.headers.get("Accept", "text/html")


def _before_request():
    from dashboard.hardening import error_page

    g.oba_identity = None
    if _is_public():
        return None
    try:
        ident = resolve()
    except Exception as exc:  # the store failed half-way: refuse, never answer as if signed in
        log.warning("could not check the session: %s", type(exc).__name__)
        return error_page(503, "Not available", "The dashboard cannot reach its data store just now; try again "
                          "in a minute.")
    if isinstance(ident, Response):
        return ident
    if ident is None:
        if request.method == "GET" and _is_page_request():
            target = request.full_path if request.query_string else request.path
            return redirect(f"/login?next={quote(safe_next(target), safe='/')}", code=303)
        return error_page(401, "Please sign in", "Your session has ended: reload the page to sign in again.")
    g.oba_identity = ident
    if request.method not in SAFE_METHODS:
        if not same_origin():
            return error_page(403, "Not allowed", "This request came from another web site.")
        if ident.mode == "accounts":
            sent = request.headers.get(CSRF_HEADER) or (request.form.get("csrf_token") if not request.is_json
                                                        else None)
            if not sent or not hmac.compare_digest(sent, ident.session.csrf_token):
                return error_page(403, "Please reload", "This page has expired (its security token is not "
                                  "right): reload it and try again.")
    g.oba_actor_token = audit.set_actor(audit.Actor(ident.user.name if ident.user else _local_name(),
                                                    ident.role, "web", ident.address))
    return None


def _local_name() -> str:
    from etl.context import current_user

    return current_user()


def _cookie(resp: Response, name: str, value: str, http_only: bool = True, same_site: str = "Lax",
            max_age: int | None = None) -> None:
    resp.set_cookie(name, value, httponly=http_only, samesite=same_site, secure=_secure(), path="/",
                    max_age=max_age)


def _after_request(resp: Response) -> Response:
    token = g.get("oba_new_session")
    if token:
        _cookie(resp, SESSION_COOKIE, token)
    ident = request_identity()
    if ident is not None and ident.session is not None and request.cookies.get(CSRF_COOKIE) != ident.session.csrf_token:
        _cookie(resp, CSRF_COOKIE, ident.session.csrf_token, http_only=False, same_site="Strict")
    return resp


def _teardown(_exc):
    token = g.pop("oba_actor_token", None)
    if token is not None:
        try:
            audit.reset_actor(token)
        except ValueError:  # set in another context (cannot happen with Flask's request handling)
            pass


# --- the sign-in and sign-out pages ----------------------------------------------------------------------

def _board_name() -> str:
    from dashboard import data

    try:
        return data.source().board().name
    except Exception:
        return "Safeguarding partnership"


def _page(title: str, body: str, status: int = 200) -> Response:
    doc = f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} – OBA dashboard</title>
<link rel="stylesheet" href="/assets/bootstrap.min.css"><link rel="stylesheet" href="/assets/style.css"></head>
<body><header class="site-header"><div class="navbar navbar-dark bg-dark py-1"><div class="container-fluid">
<span class="navbar-brand"><span class="brand-mark">OBA</span><span class="board-name">{html.escape(_board_name())}</span>
</span></div></div></header>
<main id="main-content" class="container page auth-page" style="max-width: 34rem">{body}</main></body></html>"""
    return Response(doc, status=status, mimetype="text/html")


def _login_form(message: str = "", name: str = "", next_path: str = "/", status: int = 200,
                info: str = "") -> Response:
    # One token per browser, kept while it is valid, so two sign-in tabs (or a stray request) do not spoil it.
    token = request.cookies.get(LOGIN_COOKIE, "")
    if not (20 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()):
        token = secrets.token_urlsafe(24)
    alert = f'<div class="alert alert-danger" role="alert">{html.escape(message)}</div>' if message else ""
    note = f'<div class="alert alert-info" role="status">{html.escape(info)}</div>' if info else ""
    body = f"""<h1 class="page-title">Sign in</h1>{note}{alert}
<form method="post" action="/login" class="login-form">
<input type="hidden" name="csrf_token" value="{token}"><input type="hidden" name="next" value="{html.escape(next_path)}">
<div class="mb-3"><label class="form-label fw-semibold" for="name">Name</label>
<input class="form-control" id="name" name="name" autocomplete="username" required value="{html.escape(name)}"></div>
<div class="mb-3"><label class="form-label fw-semibold" for="password">Password</label>
<input class="form-control" id="password" name="password" type="password" autocomplete="current-password" required></div>
<button class="btn btn-primary" type="submit">Sign in</button></form>
<p class="mt-4 text-secondary">Sessions end after {int(IDLE.total_seconds() // 60)} minutes without use and after
{int(LIFETIME.total_seconds() // 3600)} hours at most. Forgotten your password? Ask the dashboard's administrator.</p>"""
    resp = _page("Sign in", body, status)
    _cookie(resp, LOGIN_COOKIE, token, same_site="Strict", max_age=3600)
    return resp


def login():
    exist, error = CACHE.accounts()
    if exist is None:
        return _page("Not available", f"<h1 class=\"page-title\">Not available</h1><p>{html.escape(error or '')}</p>",
                     503)
    if not exist:
        return _page("No accounts", "<h1 class=\"page-title\">No accounts yet</h1><p class=\"lead\">This dashboard "
                     "has no accounts, so there is nothing to sign in to: it is open on the computer it runs on. "
                     "An administrator adds accounts with <code>oba users add NAME --role admin</code>.</p>"
                     "<p><a href=\"/\">Go to the dashboard</a></p>")
    next_path = safe_next(request.values.get("next"))
    if request.method == "GET":
        info = "You have signed out." if request.args.get("signed_out") else ""
        return _login_form(next_path=next_path, info=info)
    if not same_origin():
        return _login_form("This sign-in came from another web site; sign in here instead.", next_path=next_path,
                           status=403)
    sent, expected = request.form.get("csrf_token", ""), request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        return _login_form("The sign-in form had expired; please sign in again.", next_path=next_path, status=403)
    name = request.form.get("name", "")[:200]
    result = authenticate(_engine(), name, request.form.get("password", "")[:1024], client_address())
    if result.user is None:
        status = 429 if result.retry_after else 401
        resp = _login_form(result.reason, name=name, next_path=next_path, status=status)
        if result.retry_after:
            resp.headers["Retry-After"] = str(result.retry_after)
        return resp
    token, session = create_session(_engine(), result.user, client_address())
    resp = redirect(next_path, code=303)
    _cookie(resp, SESSION_COOKIE, token)
    _cookie(resp, CSRF_COOKIE, session.csrf_token, http_only=False, same_site="Strict")
    resp.delete_cookie(LOGIN_COOKIE, path="/")
    return resp


def logout():
    ident = request_identity()
    if ident is None or ident.mode == "open":
        return redirect("/", code=303)
    if request.method == "GET":
        body = f"""<h1 class="page-title">Sign out</h1><p class="lead">Signed in as {html.escape(ident.name)}.</p>
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="{html.escape(ident.session.csrf_token)}">
<button class="btn btn-primary" type="submit">Sign out</button> <a class="btn btn-link" href="/">Back to the dashboard</a></form>"""
        return _page("Sign out", body)
    token = request.cookies.get(SESSION_COOKIE)
    end_session(_engine(), token, client_address())
    CACHE.forget(token)
    resp = redirect("/login?signed_out=1", code=303)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        resp.delete_cookie(name, path="/")
    return resp


def install(app) -> None:
    """Check who is asking on every request of a Dash app's server; add /login and /logout."""
    server = app.server
    server.before_request(_before_request)
    server.after_request(_after_request)
    server.teardown_request(_teardown)
    server.add_url_rule("/login", "oba_login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "oba_logout", logout, methods=["GET", "POST"])
