"""What each role may open, enforced on the server for every page and every callback.

Pages and callbacks are governed by the page module they belong to (``PAGES``): a page's layout is wrapped
so that it draws a refusal instead of itself for anyone not allowed, and a callback request is refused (403)
before it runs when its page module would be. Anything not listed is refused to everyone: a new page or
callback stays closed until it is given a rule here (a test checks every page and callback has one).

Submitters see their own agency only: the returns page draws just their row (``visible_agencies``), and the
pages built from the multi-agency dataset are closed to them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import request

from dashboard.auth import Identity, request_identity

log = logging.getLogger(__name__)

ANYONE: tuple[str, ...] = ()
PAGES: dict[str, tuple[str, ...]] = {
    # page module: the permissions that open it (any one of them); ANYONE = every signed-in person
    "dashboard.pages.home": ("read",),
    "dashboard.pages.priority": ("read",),
    "dashboard.pages.priority_index": ("read",),
    "dashboard.pages.indicator": ("read",),
    "dashboard.pages.board": ("read",),
    "dashboard.pages.present": ("read",),
    "dashboard.pages.review": ("read",),
    "dashboard.pages.messages": ("read",),
    "dashboard.pages.report_cards": ("read",),
    "dashboard.pages.returns": ("read", "returns_own"),
    "dashboard.pages.upload": ("upload_any", "upload_own"),
    "dashboard.pages.admin_users": ("admin",),
    "dashboard.pages.admin_audit": ("admin",),
    "dashboard.pages.about": ANYONE,
    "dashboard.pages.not_found_404": ANYONE,
}
# Callbacks outside the pages: Dash's page router (the page it draws checks itself), and the forms that write
# governance records (drawn on pages everyone reads, but only those who may govern may use them).
CALLBACK_MODULES: dict[str, tuple[str, ...]] = {"dash.dash": ANYONE, "dashboard.components.curve_forms": ("govern",),
                                               "dashboard.components.review_forms": ("govern",),
                                               "dashboard.components.message_forms": ("govern",),
                                               "dashboard.components.card_forms": ("govern",),
                                               "dashboard.components.evidence_forms": ("govern",)}
# Flask routes of the app's own, by endpoint: the permission each needs.
ROUTES: dict[str, tuple[str, ...]] = {"oba_audit_csv": ("admin",), "oba_export_data": ("read",),
                                      "oba_export_scorecard": ("read",), "oba_export_chart": ("read",),
                                      "oba_export_board_pack": ("read",)}


def allowed(ident: Identity | None, module: str, rules: dict[str, tuple[str, ...]] | None = None) -> bool:
    """Whether ``ident`` may use what belongs to ``module`` (unknown modules: nobody)."""
    if ident is None:
        return False
    table = rules if rules is not None else PAGES
    if module not in table:
        return False
    needs = table[module]
    return not needs or any(ident.can(p) for p in needs)


def page_allowed(page: dict, ident: Identity | None = None) -> bool:
    return allowed(ident if ident is not None else request_identity(), page.get("module", ""))


def visible_agencies(board) -> list:
    """The board's agencies this request may see: a submitter's own, else all of them."""
    ident = request_identity()
    agency = ident.agency if ident else None
    if ident is not None and ident.mode == "accounts" and ident.role == "submitter":
        return [a for a in board.agencies if a.code == agency]
    return list(board.agencies)


def _refusal() -> Any:
    from dashboard.components.layout import problem

    ident = request_identity()
    who = f"Your account ({ident.name}, {ident.role})" if ident and ident.user else "Your account"
    return problem("Not available to your account",
                   f"{who} may not open this page. If you need it, ask the dashboard's administrator.")


def guard_layout(module: str, layout: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(**kwargs):
        if not allowed(request_identity(), module):
            return _refusal()
        return layout(**kwargs)

    guarded.__name__ = getattr(layout, "__name__", "layout")
    guarded.__wrapped__ = layout
    return guarded


def guard_title(module: str, title: Any) -> Any:
    if not callable(title):
        return title

    def guarded(**kwargs):
        if not allowed(request_identity(), module):
            return "Not available – OBA dashboard"
        return title(**kwargs)

    return guarded


def callback_module(cb: dict) -> str:
    func = cb.get("callback")
    inner = getattr(func, "__wrapped__", func)
    return getattr(inner, "__module__", "") or ""


def callback_allowed(ident: Identity | None, cb: dict) -> bool:
    module = callback_module(cb)
    if module in CALLBACK_MODULES:
        return allowed(ident, module, CALLBACK_MODULES)
    return allowed(ident, module)


def install(app) -> None:
    """Wrap every page's layout and title; refuse callbacks and routes the request's role may not use."""
    import dash

    from dashboard.hardening import CALLBACK_PATH, error_page

    for page in dash.page_registry.values():
        module = page["module"]
        if not getattr(page["layout"], "__wrapped__", None):
            page["layout"] = guard_layout(module, page["layout"])
            page["title"] = guard_title(module, page["title"])

    server = app.server

    @server.before_request
    def _check_permission():
        ident = request_identity()
        if ident is None:  # public paths; everything else was refused already
            return None
        if request.path == CALLBACK_PATH and request.method == "POST":
            body = request.get_json(silent=True, cache=True) or {}
            cb = app.callback_map.get(body.get("output"), {})
            if not callback_allowed(ident, cb):
                log.info("refused callback %s from %s (%s)", callback_module(cb), ident.name, ident.role)
                return error_page(403, "Not allowed", "Your account may not do this.")
        rule = ROUTES.get(request.endpoint or "")
        if rule is not None and not (not rule or any(ident.can(p) for p in rule)):
            return error_page(403, "Not allowed", "Your account may not open this.")
        return None
