"""A store that has not been created yet: a message saying what to run, not a traceback."""

from __future__ import annotations

from .support import DESKTOP, PROJECTOR, Browser, serve_in_background, stop


def test_emp001_no_store_says_run_oba_init(chromium, tmp_path):
    base, proc = serve_in_background(str(tmp_path / "not-created.sqlite"))
    try:
        context = chromium.new_context(viewport=DESKTOP)
        b = Browser(context.new_page(), base)
        b.open("/")
        assert b.page.inner_text("h1") == "There is no data store yet"
        assert "oba init" in b.text() and "make run" in b.text()
        b.screenshot("no_store")
        b.page.set_viewport_size(PROJECTOR)
        b.screenshot("no_store", full_page=False)
        context.close()
        assert b.errors == []
    finally:
        stop(proc)
    assert not (tmp_path / "not-created.sqlite").exists()
