"""In Chromium with the Content-Security-Policy enforced: every page draws with no policy violation; the open
demo says so; with accounts, people sign in, see only what their role allows, send a return and sign out."""

from __future__ import annotations

import shutil

import pytest

from .support import DESKTOP, PROJECTOR, Browser, serve_in_background, stop

PASSWORD = "correct horse battery staple"
PAGES = ["/", "/priority/neglect", "/indicator/rereferral_rate", "/returns", "/about"]


@pytest.fixture
def strict(chromium, server):
    """A page with the dashboard's CSP in force (no bypass): a violation is a console error."""
    context = chromium.new_context(viewport=PROJECTOR)
    b = Browser(context.new_page(), server)
    yield b
    context.close()
    assert b.errors == [], "the page logged errors (a CSP violation shows here)"


def test_sec001_every_page_draws_under_the_policy(strict):
    for path in PAGES:
        strict.open(path)
        assert "Open on this computer, with no accounts" in strict.text("#access-banner")
    strict.open("/indicator/rereferral_rate")
    strict.page.wait_for_selector(".chart .main-svg", timeout=20_000)
    assert strict.page.locator(".chart .main-svg").count() >= 3
    strict.screenshot("sec001_open_demo_indicator")


@pytest.fixture(scope="module")
def accounts_server(demo_db, chromium, tmp_path_factory):
    """The demo store copied, with accounts: a viewer, a submitter for the police and an admin."""
    from etl.store import make_engine
    from etl.users import add_user

    work = tmp_path_factory.mktemp("accounts")
    src = demo_db.removeprefix("sqlite:///")
    dst = work / "demo.sqlite"
    shutil.copy(src, dst)
    url = f"sqlite:///{dst}"
    engine = make_engine(url)
    for name, role, agency in (("vera", "viewer", None), ("sam", "submitter", "POL"), ("ada", "admin", None)):
        add_user(engine, name, role, PASSWORD, agency)
    engine.dispose()
    base, proc = serve_in_background(url)
    yield base
    stop(proc)


@pytest.fixture
def person(chromium, accounts_server):
    context = chromium.new_context(viewport=DESKTOP)
    b = Browser(context.new_page(), accounts_server)
    yield b
    context.close()
    assert b.errors == [], "the page logged errors"


def _sign_in(b: Browser, name: str, next_path: str = "/") -> None:
    b.page.goto(b.base + next_path)
    assert "/login" in b.page.url
    b.page.fill("#name", name)
    b.page.fill("#password", PASSWORD)
    b.page.click("button[type=submit]")
    b.ready()


def test_sec002_a_viewer_signs_in_reads_and_signs_out(person):
    person.page.goto(person.base + "/")
    assert person.page.inner_text("h1") == "Sign in"
    person.page.fill("#name", "vera")
    person.page.fill("#password", "wrong password, surely")
    person.page.click("button[type=submit]")
    assert "not right" in person.page.inner_text(".alert-danger")
    person.errors.clear()  # the browser logs the 401 of the failed sign-in
    _sign_in(person, "vera", "/priority/neglect")
    assert person.page.inner_text("h1") == "Neglect"
    assert "vera (viewer)" in person.text(".site-header")
    nav = person.page.locator(".main-nav a").all_inner_texts()
    assert "Upload" not in nav and "This quarter" in nav
    person.open("/admin/users")
    assert "Not available to your account" in person.text()
    person.screenshot("sec002_viewer_refused")
    person.page.click("text=Sign out")
    person.page.click("button[type=submit]")
    assert "You have signed out" in person.page.inner_text("main")
    person.page.goto(person.base + "/")
    assert "/login" in person.page.url


def test_sec003_a_submitter_sends_their_return(person, tmp_path, board, library):
    from etl.returns.samples import write_sample_return
    from indicators.periods import Quarter

    _sign_in(person, "sam", "/upload")
    nav = person.page.locator(".main-nav a").all_inner_texts()
    assert [n for n in nav if n in ("This quarter", "Priorities")] == []
    assert "Upload" in nav and "Agency returns" in nav
    assert "You send Police" in person.text() or "(POL)" in person.text()
    path = write_sample_return(tmp_path / "police.xlsx", board, library, "POL", Quarter(2026, 3))
    person.page.set_input_files("#upload-file input[type=file]", str(path))
    person.page.wait_for_selector("text=It can be loaded", timeout=20_000)
    person.screenshot("sec003_upload_checked")
    person.page.click("#upload-load")
    person.page.wait_for_selector("text=In the returns grid now", timeout=20_000)
    assert "loaded POL 2026-27 Q3" in person.text()
    person.screenshot("sec003_upload_loaded")
    person.open("/returns")
    rows = person.page.locator("table.returns-grid tbody tr").count()
    assert rows == 1  # their own agency only


def test_sec004_an_admin_reads_the_audit_trail(person):
    _sign_in(person, "ada", "/admin/audit")
    assert person.page.inner_text("h1") == "Audit trail"
    text = person.text()
    assert "signin" in text and "ada" in text
    person.screenshot("sec004_audit")
    person.open("/admin/users")
    assert "vera" in person.text("#users-table") and "submitter" in person.text("#users-table")
