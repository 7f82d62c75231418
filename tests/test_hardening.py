"""The server as an attacker on the network meets it: headers on every response, 413 above the body limit,
4xx (never 500) for malformed callbacks, no traceback anywhere, and `oba serve` refusing unsafe settings."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from web_support import ROUTER, add_accounts, post_callback, router_body, serving, sign_in, source_with_store

from dashboard import auth
from dashboard.app import create_app
from dashboard.hardening import MalformedCallback, check_callback_body, content_security_policy
from etl.cli import main
from etl.db import init_store
from etl.store import make_engine


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture
def signed_in(app, tmp_path):
    """A client signed in as an analyst, on a store with accounts."""
    from pathlib import Path

    url = f"sqlite:///{tmp_path / 'oba.sqlite'}"
    engine = make_engine(url)
    init_store(engine)
    add_accounts(engine)
    board = Path(__file__).resolve().parent.parent / "data" / "demo" / "board.yaml"
    with serving(source_with_store(url, board)):
        client = app.server.test_client()
        assert sign_in(client, "ann.analyst").status_code == 303
        yield client
    engine.dispose()


HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.mark.parametrize("path", ["/", "/login", "/assets/style.css", "/_dash-layout", "/no/such/page",
                                  "/_dash-update-component"])
def test_security_headers_on_every_response(signed_in, path):
    r = signed_in.get(path)
    for k, v in HEADERS.items():
        assert r.headers.get(k) == v, (path, k)
    csp = r.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["connect-src"] == "'self'"  # chart data cannot be sent anywhere else
    assert directives["frame-ancestors"] == "'none'"
    assert directives["img-src"] == "'self' data:"
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert all(src == "'self'" or src.startswith("'sha256-") for src in directives["script-src"].split())
    assert "http" not in csp  # no other origin is named anywhere


def test_csp_hashes_cover_the_inline_scripts_dash_writes(signed_in):
    import base64
    import hashlib
    import re

    r = signed_in.get("/")
    page = r.get_data(as_text=True)
    csp = r.headers["Content-Security-Policy"]
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>(.*?)</script>", page, re.S)
    assert inline
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp, script[:80]


def test_data_responses_are_not_cached(signed_in):
    assert signed_in.get("/_dash-layout").headers["Cache-Control"] == "no-store"
    assert "no-store" not in signed_in.get("/assets/style.css").headers.get("Cache-Control", "")


def test_a_body_above_the_limit_gets_413_and_is_not_echoed(signed_in):
    from dashboard.hardening import max_body_bytes

    big = b"x" * (max_body_bytes() + 1)
    r = signed_in.post("/_dash-update-component", data=big, content_type="application/json",
                       headers={auth.CSRF_HEADER: "x"})
    assert r.status_code == 413
    assert b"xxxxxxxx" not in r.data
    r = signed_in.post("/login", data=big, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 413


MALFORMED = [
    b"",
    b"not json",
    b"[]",
    b"null",
    b"42",
    b'"text"',
    b"{}",
    b'{"output": 5}',
    b'{"output": "no.such"}',
    json.dumps({"output": ROUTER}).encode(),  # no inputs
    json.dumps({"output": ROUTER, "inputs": "x"}).encode(),
    json.dumps({"output": ROUTER, "inputs": [1, 2]}).encode(),
    json.dumps({"output": ROUTER, "inputs": [{"id": "_pages_location"}, {"property": "search"}]}).encode(),
    json.dumps({"output": ROUTER, "inputs": [{"id": 1, "property": "pathname"},
                                              {"id": "_pages_location", "property": "search"}]}).encode(),
    json.dumps({**router_body("/"), "changedPropIds": "x"}).encode(),
    json.dumps({**router_body("/"), "changedPropIds": [1]}).encode(),
    json.dumps({**router_body("/"), "state": {"a": 1}}).encode(),
    json.dumps({**router_body("/"), "outputs": "x"}).encode(),
    json.dumps({**router_body("/"), "outputs": [1]}).encode(),
    json.dumps({"output": ".._pages_content.children..._pages_store.data..", "outputs": [],
                "inputs": [{"id": "_pages_location", "property": "pathname", "value": {"a": [1]}},
                           {"id": "_pages_location", "property": "search", "value": 12}]}).encode(),
    json.dumps({"output": "..{\"path\":[\"ALL\"],\"type\":\"nav-link\"}.href...{\"path\":[\"ALL\"],"
                          "\"type\":\"nav-link\"}.active..", "inputs": []}).encode(),  # a clientside callback
    json.dumps({"output": "_pages_location.search", "inputs": []}).encode(),
    json.dumps(router_body("/" + "x" * 5000)).encode(),
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_callback_requests_get_4xx_never_500(signed_in, body):
    from web_support import csrf

    r = signed_in.post("/_dash-update-component", data=body, content_type="application/json",
                       headers={auth.CSRF_HEADER: csrf(signed_in)})
    assert 400 <= r.status_code < 500 or r.status_code == 200, (r.status_code, r.data[:200])
    assert b"Traceback" not in r.data and b"File \"" not in r.data


def test_a_well_formed_but_odd_callback_still_gets_a_page(signed_in):
    r = post_callback(signed_in, router_body("/indicator/<script>alert(1)</script>", "?period=';DROP TABLE x;--"))
    assert r.status_code == 200
    assert "No returns have been loaded yet" in r.get_data(as_text=True)  # the page's own message, not a 500


def test_check_callback_body_names_the_problem():
    cbmap = {"a.b": {"callback": object(), "inputs": [{"id": "a", "property": "b"}], "state": []}}
    with pytest.raises(MalformedCallback, match="'inputs' must have 1"):
        check_callback_body({"output": "a.b", "inputs": []}, cbmap)
    assert check_callback_body({"output": "a.b", "inputs": [{"id": "a", "property": "b", "value": 1}]}, cbmap)


def test_unexpected_errors_are_a_short_page_without_a_traceback(app, signed_in, monkeypatch):
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setitem(app.server.view_functions, "/_dash-layout", boom)
    r = signed_in.get("/_dash-layout")
    assert r.status_code == 500
    assert b"secret internals" not in r.data and b"Traceback" not in r.data
    assert r.headers["X-Frame-Options"] == "DENY"


def test_csp_is_built_from_the_apps_origin_only():
    csp = content_security_policy(["'sha256-abc'"])
    assert "default-src 'self'" in csp and "script-src 'self' 'sha256-abc'" in csp and "object-src 'none'" in csp


# --- oba serve -----------------------------------------------------------------------------------------

def test_debug_is_refused_off_loopback(tmp_path):
    r = CliRunner().invoke(main, ["--db", str(tmp_path / "x.sqlite"), "serve", "--debug", "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "only allowed on 127.0.0.1" in r.output


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_a_public_address_is_refused_until_accounts_exist(tmp_path, monkeypatch, host):
    import dashboard.server

    seen = {}
    monkeypatch.setattr(dashboard.server, "serve", lambda **kw: seen.update(kw))
    monkeypatch.setattr(dashboard.server, "port_is_free", lambda host, port: True)  # 192.168.1.10 is not ours
    db = str(tmp_path / "x.sqlite")
    r = CliRunner().invoke(main, ["--db", db, "serve", "--host", host])
    assert r.exit_code == 1 and "there is no store" in r.output and "oba users add" in r.output
    assert not (tmp_path / "x.sqlite").exists()  # looking did not create it
    assert CliRunner().invoke(main, ["--db", db, "init"]).exit_code == 0
    r = CliRunner().invoke(main, ["--db", db, "serve", "--host", host])
    assert r.exit_code == 1 and "no accounts yet" in r.output and seen == {}
    r = CliRunner().invoke(main, ["--db", db, "users", "add", "ada", "--role", "admin", "--password-stdin"],
                           input="correct horse battery staple\n")
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["--db", db, "serve", "--host", host, "--workers", "2"])
    assert r.exit_code == 0, r.output
    assert seen["host"] == host and seen["workers"] == 2


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                           ("[::1]", True), ("127.0.0.2", True), ("0.0.0.0", False),
                                           ("10.0.0.1", False), ("localhost.evil.example", False), ("", False)])
def test_loopback_names(host, loopback):
    from dashboard.server import is_loopback

    assert is_loopback(host) is loopback
