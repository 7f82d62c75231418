"""Browser tests: headless Debian Chromium driven by Playwright, against the dashboard served in a background
process on a free port, on the synthetic demo database built once per session.

Skipped (not failed) when /usr/bin/chromium or Playwright is missing. Screenshots go to artefacts/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PROJECTOR, Browser, serve_in_background, stop


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory, library, board) -> str:
    """The synthetic demo store, built once per session into a temporary directory."""
    from etl.demo import build_demo

    work = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{work / 'demo.sqlite'}"
    build_demo(url, board, library, workdir=work / "files")
    return url


@pytest.fixture(scope="session")
def demo(demo_db, library, board):
    """What the demo data implies, computed here from the store (not by the dashboard)."""
    from etl.access import load_dataset
    from etl.returns.status import return_status
    from etl.store import make_engine

    engine = make_engine(demo_db)
    ds = load_dataset(engine, board, library)
    status = return_status(engine, board)
    yield {"engine": engine, "dataset": ds, "returns": status}
    engine.dispose()


@pytest.fixture(scope="session")
def server(demo_db, chromium):
    base, proc = serve_in_background(demo_db)
    yield base
    stop(proc)


# Playwright's wait_for_function evaluates its predicate with eval, which the dashboard's Content-Security-Policy
# forbids; these fixtures let the test harness do that. test_security.py drives the pages with the policy on.
@pytest.fixture
def browser(chromium, server):
    context = chromium.new_context(viewport=DESKTOP, bypass_csp=True)
    b = Browser(context.new_page(), server)
    yield b
    context.close()
    assert b.errors == [], "the page logged errors"


@pytest.fixture
def projector(chromium, server):
    context = chromium.new_context(viewport=PROJECTOR, bypass_csp=True)
    b = Browser(context.new_page(), server)
    yield b
    context.close()
    assert b.errors == [], "the page logged errors"
