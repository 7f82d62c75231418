"""Who may open what: the role matrix route by route and callback by callback, with and without a session;
sign-in and sign-out, CSRF, session expiry, rate limits, the open demo, and single sign-on behind a proxy."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from test_dashboard_sample import NEIGHBOURS, sample_dataset
from web_support import (
    ACCOUNTS,
    PASSWORD,
    add_accounts,
    callback_body,
    csrf,
    page_text,
    post_callback,
    router_body,
    serving,
    sign_in,
    source_with_store,
)

from dashboard import auth, policy
from dashboard.app import create_app
from dashboard.data import View
from etl.db import init_store
from etl.store import AuditEvent, UserSession, make_engine

DEMO_BOARD = "data/demo/board.yaml"


@pytest.fixture(scope="module")
def app():
    return create_app()


def _returns(board) -> pd.DataFrame:
    rows = []
    for a in board.agencies:
        rows.append({"agency_code": a.code, "agency_name": a.name, "period": "2026-27 Q1", "period_index": 0,
                     "status": "received", "late": False, "revised": False, "due_date": dt.date(2026, 7, 28),
                     "received_on": dt.date(2026, 7, 20), "version": 1, "warnings": 1,
                     "missing_measures": [], "issues": [f"secret-of-{a.code}"]})
    return pd.DataFrame(rows)


@pytest.fixture
def site(app, db_url, library, board, tmp_path):
    """The app on a store with one account per role, pages drawn from a sample dataset."""
    from pathlib import Path

    engine = make_engine(db_url)
    init_store(engine)
    add_accounts(engine)
    ds = sample_dataset(library, board)
    nb = pd.DataFrame({"area_code": ds.area_code, "neighbour_code": NEIGHBOURS, "rank": range(1, 11)})
    status = _returns(board)
    view = View(ds, board, library, "test", neighbours=nb, returns_loader=lambda: status)
    board_path = Path(__file__).resolve().parent.parent / DEMO_BOARD
    with serving(source_with_store(db_url, board_path, view)) as src:
        yield {"app": app, "engine": engine, "source": src}
    engine.dispose()


def _client(site, name: str | None):
    client = site["app"].server.test_client()
    if name is not None:
        r = sign_in(client, name)
        assert r.status_code == 303, r.get_data(as_text=True)[:300]
    return client


PAGES = {  # path: who may open it (None: nobody signed out)
    "/": {"viewer", "analyst", "admin"},
    "/priority": {"viewer", "analyst", "admin"},
    "/priority/neglect": {"viewer", "analyst", "admin"},
    "/indicator/rereferral_rate": {"viewer", "analyst", "admin"},
    "/board": {"viewer", "analyst", "admin"},
    "/present": {"viewer", "analyst", "admin"},
    "/review": {"viewer", "analyst", "admin"},
    "/messages": {"viewer", "analyst", "admin"},
    "/report-cards": {"viewer", "analyst", "admin"},
    "/returns": {"viewer", "analyst", "admin", "submitter"},
    "/upload": {"analyst", "admin", "submitter"},
    "/about": {"viewer", "analyst", "admin", "submitter"},
    "/admin/users": {"admin"},
    "/admin/audit": {"admin"},
}
CALLBACK_ROLES = {  # callback modules outside the pages: who may use them
    "dashboard.components.curve_forms": {"analyst", "admin"},
    "dashboard.components.review_forms": {"analyst", "admin"},
    "dashboard.components.message_forms": {"analyst", "admin"},
    "dashboard.components.card_forms": {"analyst", "admin"},
    "dashboard.components.evidence_forms": {"analyst", "admin"},
}
REFUSED = "Not available to your account"


@pytest.mark.parametrize("name", [None, *ACCOUNTS])
def test_role_matrix_pages(site, name):
    client = _client(site, name)
    role = ACCOUNTS[name][0] if name else None
    for path, roles in PAGES.items():
        r = post_callback(client, router_body(path))
        if name is None:
            assert r.status_code == 401, path
            assert client.get(path).status_code == 303  # a browser is sent to sign in
            continue
        assert r.status_code == 200, (path, r.get_data(as_text=True)[:300])
        text = page_text(r)
        if role in roles:
            assert REFUSED not in text, (role, path)
        else:
            assert REFUSED in text, (role, path)
            assert "Exception" not in text and "secret-of" not in text


def test_every_page_and_callback_has_a_rule(app):
    import dash

    for page in dash.page_registry.values():
        assert page["module"] in policy.PAGES, page["module"]
    for output, cb in app.callback_map.items():
        if "callback" in cb:
            module = policy.callback_module(cb)
            assert module in policy.PAGES or module in policy.CALLBACK_MODULES, (output, module)


@pytest.mark.parametrize("name", [None, *ACCOUNTS])
def test_role_matrix_callbacks(site, name):
    app = site["app"]
    client = _client(site, name)
    client.get("/")
    role = ACCOUNTS[name][0] if name else None
    checked = 0
    for output, cb in list(app.callback_map.items()):
        if "callback" not in cb or output.startswith(".._pages_content"):
            continue
        module = policy.callback_module(cb)
        if module in CALLBACK_ROLES:  # forms drawn on pages everyone reads, usable by fewer
            roles = CALLBACK_ROLES[module]
        else:
            page = next(p for p in __import__("dash").page_registry.values() if p["module"] == module)
            path = page["path"] if "<" not in (page.get("path_template") or "") else page["path_template"]
            allowed = {p: r for p, r in PAGES.items()}
            roles = next((r for p, r in allowed.items() if p == path or
                          (path.startswith(p.rsplit("/", 1)[0] + "/") and "<" in path)), None)
            assert roles is not None, (module, path)
        r = post_callback(client, callback_body(output, cb))
        if name is None:
            assert r.status_code == 401, output
        elif role in roles:
            assert r.status_code != 403, (role, output, r.get_data(as_text=True)[:200])
        else:
            assert r.status_code == 403, (role, output)
        checked += 1
    assert checked >= 8


def test_submitter_sees_their_own_agency_only(site):
    client = _client(site, "sam.submitter")
    text = page_text(post_callback(client, router_body("/returns")))
    assert "secret-of-POL" in text
    for a in ("CSC", "ICB", "EDU", "YJS"):
        assert f"secret-of-{a}" not in text
    assert "1 of 1 agency" in text


def test_routes_need_a_session_and_the_audit_export_an_admin(site):
    signed_out = _client(site, None)
    for path in ("/_dash-layout", "/_dash-dependencies", "/_icons/variation-concern-H.svg", "/admin/audit.csv"):
        assert signed_out.get(path).status_code in (401, 303), path
    assert signed_out.get("/login").status_code == 200
    assert signed_out.get("/assets/style.css").status_code == 200
    viewer = _client(site, "vera.viewer")
    assert viewer.get("/_dash-layout").status_code == 200
    assert viewer.get("/admin/audit.csv").status_code == 403
    admin = _client(site, "ada.admin")
    r = admin.get("/admin/audit.csv?action=signin")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    lines = r.get_data(as_text=True).splitlines()
    assert lines[0].startswith("id,at,actor") and any(",signin,ada.admin," in x for x in lines[1:])


def test_downloads_need_the_read_permission(site):
    path = "/export/data.csv?indicator=rereferral_rate"
    assert _client(site, None).get(path).status_code in (401, 303)
    assert _client(site, "sam.submitter").get(path).status_code == 403
    r = _client(site, "vera.viewer").get(path)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.get_data(as_text=True).lstrip("\ufeff").startswith("indicator_id,area_code,period,")


def test_the_header_says_who_is_signed_in(site):
    client = _client(site, "ann.analyst")
    layout = json.dumps(client.get("/_dash-layout").get_json())
    assert '"Signed in as "' in layout and '"ann.analyst "' in layout and "(analyst" in layout
    assert '"/logout"' in layout
    assert "Open on this computer" not in layout
    assert '"/upload"' in layout and '"/returns"' in layout
    admin = json.dumps(_client(site, "ada.admin").get("/_dash-layout").get_json())
    submitter = json.dumps(_client(site, "sam.submitter").get("/_dash-layout").get_json())
    assert '"/priority"' not in submitter and '"/returns"' in submitter and "(submitter, POL)" in submitter
    assert '"/priority"' in admin


def test_csrf_is_required_for_callbacks_and_forms(site):
    client = _client(site, "vera.viewer")
    body = router_body("/about")
    assert post_callback(client, body, token=None).status_code == 403
    assert post_callback(client, body, token="forged").status_code == 403
    assert post_callback(client, body).status_code == 200
    r = client.post("/logout", data={"csrf_token": "forged"})
    assert r.status_code == 403
    other = client.post("/_dash-update-component", json=body, headers={
        auth.CSRF_HEADER: csrf(client), "Origin": "http://evil.example"})
    assert other.status_code == 403


def test_login_form_needs_its_own_token_and_origin(site):
    client = site["app"].server.test_client()
    r = client.post("/login", data={"name": "vera.viewer", "password": PASSWORD, "csrf_token": "x"})
    assert r.status_code == 403 and client.get_cookie(auth.SESSION_COOKIE) is None


def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_the_session(site):
    client = site["app"].server.test_client()
    r = sign_in(client, "vera.viewer", next_path="/priority/neglect?period=2026-27+Q1")
    assert r.status_code == 303 and r.headers["Location"] == "/priority/neglect?period=2026-27+Q1"
    cookie = [h for h in r.headers.getlist("Set-Cookie") if h.startswith(auth.SESSION_COOKIE + "=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    token = client.get_cookie(auth.SESSION_COOKIE).value
    assert len(token) >= 40
    with site["engine"].connect() as conn:
        stored = conn.execute(UserSession.__table__.select()).all()
    assert token not in {s.token_hash for s in stored}  # only the hash is kept
    client.get("/")
    page = client.get("/logout").get_data(as_text=True)
    assert "Sign out" in page
    r = client.post("/logout", data={"csrf_token": csrf(client)})
    assert r.status_code == 303 and r.headers["Location"].startswith("/login")
    auth.CACHE.clear()
    again = site["app"].server.test_client()
    again.set_cookie(auth.SESSION_COOKIE, token)
    assert post_callback(again, router_body("/about"), token=None).status_code == 401


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:x"])
def test_sign_in_never_redirects_off_site(site, target):
    client = site["app"].server.test_client()
    r = sign_in(client, "vera.viewer", next_path=target)
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_wrong_passwords_are_refused_recorded_and_rate_limited(site):
    from etl.users import MAX_FAILURES_PER_USER

    client = site["app"].server.test_client()
    for _ in range(MAX_FAILURES_PER_USER):
        r = sign_in(client, "ann.analyst", "not the password at all")
        assert r.status_code == 401 and "not right" in r.get_data(as_text=True)
    r = sign_in(client, "ann.analyst")  # the right password, but too many failures first
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in r.get_data(as_text=True)
    assert sign_in(client, "vera.viewer").status_code == 303  # another account is unaffected
    with site["engine"].connect() as conn:
        actions = [a for (a,) in conn.execute(AuditEvent.__table__.select().with_only_columns(
            AuditEvent.action).where(AuditEvent.target == "ann.analyst"))]
    assert actions.count("signin.failed") == MAX_FAILURES_PER_USER and "signin.refused" in actions


def test_failures_from_one_address_are_limited_across_names(site):
    from etl.users import MAX_FAILURES_PER_ADDRESS

    client = site["app"].server.test_client()
    env = {"REMOTE_ADDR": "127.0.0.9"}
    for i in range(MAX_FAILURES_PER_ADDRESS):
        token = _token(client)
        client.post("/login", data={"name": f"nobody{i}", "password": "x" * 12, "csrf_token": token},
                    environ_base=env)
    token = _token(client)
    r = client.post("/login", data={"name": "vera.viewer", "password": PASSWORD, "csrf_token": token},
                    environ_base=env)
    assert r.status_code == 429


def _token(client):
    from web_support import login_token

    return login_token(client)


def test_sessions_expire_when_idle_and_when_old(site, monkeypatch):
    from etl import sessions
    from etl.users import get_user

    user = get_user(site["engine"], "vera.viewer")
    start = dt.datetime(2026, 12, 1, 9, 0)
    token, _ = sessions.create_session(site["engine"], user, "127.0.0.1", now=start)
    assert sessions.find_session(site["engine"], token, now=start + dt.timedelta(minutes=59)) is not None
    # used at 59 minutes, so idle only from then
    assert sessions.find_session(site["engine"], token, now=start + dt.timedelta(minutes=59 + 61)) is None
    token, _ = sessions.create_session(site["engine"], user, "127.0.0.1", now=start)
    t = start
    for _ in range(13 * 2):  # used every half hour: never idle, but at most 12 hours in all
        t += dt.timedelta(minutes=30)
        found = sessions.find_session(site["engine"], token, now=t)
        if t - start >= sessions.LIFETIME:
            assert found is None
            break
        assert found is not None
    else:
        raise AssertionError("the session never expired")


def test_disabling_an_account_signs_it_out_everywhere(site):
    from etl.users import disable_user

    client = _client(site, "vera.viewer")
    assert post_callback(client, router_body("/about")).status_code == 200
    disable_user(site["engine"], "vera.viewer")
    auth.CACHE.clear()  # another worker's cache would expire within CACHE_SECONDS
    assert post_callback(client, router_body("/about")).status_code == 401
    assert sign_in(site["app"].server.test_client(), "vera.viewer").status_code == 401


def test_open_demo_answers_this_computer_only(app, tmp_path, board):
    from pathlib import Path

    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    init_store(make_engine(url))
    board_path = Path(__file__).resolve().parent.parent / DEMO_BOARD
    with serving(source_with_store(url, board_path)):
        client = app.server.test_client()
        layout = client.get("/_dash-layout").get_data(as_text=True)
        assert "Open on this computer, with no accounts" in layout
        assert client.get("/", environ_base={"REMOTE_ADDR": "192.168.1.20"}).status_code == 403
        # a page elsewhere that rebinds its name to 127.0.0.1 still sends its own Host
        assert client.get("/", headers={"Host": "evil.example:8050"}).status_code == 403
        assert client.get("/", headers={"Host": "127.0.0.1:8050"}).status_code == 200
        assert "nothing to sign in to" in client.get("/login").get_data(as_text=True)


# --- single sign-on ------------------------------------------------------------------------------------

@pytest.fixture
def sso_site(site, tmp_path):
    """The same site with a board file that trusts a proxy at 10.0.0.5 to name the user in X-Remote-User."""
    import yaml

    from dashboard.data import DataSource

    src: DataSource = site["source"]
    text = yaml.safe_load(open(src.board_path or "data/demo/board.yaml"))
    text["single_sign_on"] = {"header": "X-Remote-User", "proxies": ["10.0.0.5"]}
    path = tmp_path / "board_sso.yaml"
    path.write_text(yaml.safe_dump(text))
    src.board_path = path
    src._board = None
    auth.CACHE.clear()
    yield site


def test_single_sign_on_from_the_proxy_only(sso_site):
    app = sso_site["app"]
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    client = app.server.test_client()
    r = client.get("/_dash-layout", headers={"X-Remote-User": "Ann.Analyst"}, environ_base=proxy)
    assert r.status_code == 200 and '"ann.analyst "' in json.dumps(r.get_json())
    body = router_body("/admin/users")
    r = client.post("/_dash-update-component", json=body, environ_base=proxy,
                    headers={"X-Remote-User": "ann.analyst", auth.CSRF_HEADER: csrf(client)})
    assert r.status_code == 200 and REFUSED in page_text(r)  # the role comes from the account
    # the same header from anywhere else means nothing
    other = app.server.test_client()
    r = other.get("/_dash-layout", headers={"X-Remote-User": "ada.admin"}, environ_base={"REMOTE_ADDR": "10.0.0.6"})
    assert r.status_code == 401
    # an unknown or disabled name is refused even from the proxy
    r = app.server.test_client().get("/_dash-layout", headers={"X-Remote-User": "mallory"}, environ_base=proxy)
    assert r.status_code == 403
    with sso_site["engine"].connect() as conn:
        via = conn.execute(UserSession.__table__.select().with_only_columns(UserSession.via)).scalars().all()
    assert "sso" in via


def test_single_sign_on_is_off_without_the_board_section(site):
    r = site["app"].server.test_client().get("/_dash-layout", headers={"X-Remote-User": "ada.admin"},
                                             environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert r.status_code == 401


def test_the_request_user_is_the_signed_in_one(site):
    from dashboard.auth import request_user

    app = site["app"]
    client = _client(site, "ada.admin")
    token = client.get_cookie(auth.SESSION_COOKIE).value
    with app.server.test_request_context("/", headers={"Cookie": f"{auth.SESSION_COOKIE}={token}"}):
        app.server.preprocess_request()
        user = request_user()
        assert user is not None and user.name == "ada.admin" and user.role == "admin"
    assert request_user() is None


def test_injection_strings_are_stored_and_shown_inert(site):
    nasty = "<img src=x onerror=alert(1)>' OR '1'='1' --"
    client = site["app"].server.test_client()
    r = sign_in(client, nasty, "whatever it is")
    assert r.status_code == 401
    page = r.get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page  # escaped in the form
    admin = _client(site, "ada.admin")
    r = post_callback(admin, router_body("/admin/audit", "?action=signin.failed"))
    body = r.get_json()
    text = json.dumps(body)
    assert nasty.lower()[:80].replace("'", "") in text.replace("\\u0027", "").replace("'", "")
    assert '"type": "Img"' not in text and '"type":"Img"' not in text  # text, never an element
    with site["engine"].connect() as conn:
        n = conn.execute(AuditEvent.__table__.select().where(AuditEvent.action == "signin.failed")).all()
    assert len(n) == 1


def test_the_audit_page_filters_and_exports_what_it_shows(site):
    from etl import audit
    from etl.users import disable_user

    with audit.acting_as(audit.Actor("ada.admin", "admin", "web", "127.0.0.1")):
        disable_user(site["engine"], "vera.viewer")
    admin = _client(site, "ada.admin")
    text = page_text(post_callback(admin, router_body("/admin/audit", "?action=user.disable")))
    assert "user.disable" in text and "vera.viewer" in text and "user.add" not in text.split("Export")[-1]
    text = page_text(post_callback(admin, router_body("/admin/audit", "?actor=nobody")))
    assert "No events match" in text
    csv_text = admin.get("/admin/audit.csv?action=user.").get_data(as_text=True)
    rows = csv_text.strip().splitlines()[1:]
    assert len(rows) == len(ACCOUNTS) + 1 and all(",user." in r for r in rows)
