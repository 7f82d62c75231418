"""Build the Dash app. Pages live in ``dashboard/pages`` and register themselves; this module only assembles.

``create_app(db, board_path)`` points the data source at a store and board file and returns the app; the
module attribute ``server`` is the Flask server for a WSGI server (``gunicorn dashboard.app:server``, with the
store given by ``OBA_DATABASE_URL`` and the board by ``OBA_BOARD``); ``serve()`` runs it for ``oba serve``.

Dash keeps its page registry and ``@callback`` registrations per process, so there is one app per process:
calling ``create_app`` again re-points the data source and returns the same app.
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import ALL, Input, Output, State, html

from dashboard import data
from dashboard.components.layout import shell

PACKAGE_DIR = Path(__file__).parent

INDEX = """<!DOCTYPE html>
<html lang="en-GB">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <div class="dash-scripts">
            {%config%}
            {%scripts%}
            {%renderer%}
        </div>
    </body>
</html>"""

# Navigation links keep the chosen quarter, and mark the current page, without a round trip to the server.
_NAV_JS = """
function(pathname, search, ids) {
    const period = new URLSearchParams(search || "").get("period");
    const q = period ? "?" + new URLSearchParams({period: period}).toString() : "";
    const path = pathname || "/";
    const hrefs = ids.map(i => i.path + q);
    const active = ids.map(i => i.path === "/" ? path === "/" : (path === i.path || path.startsWith(i.path + "/")));
    return [hrefs, active];
}
"""

_APP: dash.Dash | None = None


def _board_name() -> str:
    try:
        return data.source().board().name
    except Exception:
        return "Safeguarding partnership"


def _layout() -> html.Div:
    from dashboard import policy
    from dashboard.auth import request_identity
    from dashboard.components.access import access_bar

    ident = request_identity()
    return shell(dash.page_container, _board_name(), banner=access_bar(ident),
                 visible=lambda page: policy.page_allowed(page, ident))


def create_app(db: str | None = None, board_path: str | Path | None = None) -> dash.Dash:
    """The dashboard app, reading the store at ``db`` (default: OBA_DATABASE_URL, else data/oba.sqlite)."""
    global _APP
    data.configure(db, board_path)
    if _APP is not None:
        return _APP
    app = dash.Dash(
        "dashboard",
        use_pages=True,
        pages_folder=str(PACKAGE_DIR / "pages"),
        assets_folder=str(PACKAGE_DIR / "assets"),
        title="OBA dashboard",
        update_title=None,
        suppress_callback_exceptions=True,  # page layouts are built per request
        index_string=INDEX,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.layout = _layout
    app.clientside_callback(
        _NAV_JS,
        Output({"type": "nav-link", "path": ALL}, "href"),
        Output({"type": "nav-link", "path": ALL}, "active"),
        Input("_pages_location", "pathname"),
        Input("_pages_location", "search"),
        State({"type": "nav-link", "path": ALL}, "id"),
    )
    _add_icon_route(app)
    _secure(app)
    _APP = app
    return app


def _secure(app: dash.Dash) -> None:
    """Headers and limits, then who is asking, then well-formed callbacks, then what their role allows."""
    from dashboard import auth, hardening, policy

    hardening.install(app)
    auth.install(app)
    hardening.check_callbacks(app)
    policy.install(app)
    from dashboard.pages.admin_audit import add_export_route

    add_export_route(app)
    from dashboard.exports import web

    web.install(app)


def _add_icon_route(app: dash.Dash) -> None:
    from flask import Response, abort

    from dashboard.components.icons import ICON_ROUTE, icon_svg

    @app.server.route(f"{ICON_ROUTE}/<name>.svg")
    def _icon(name: str):
        svg = icon_svg(name)
        if svg is None:
            abort(404)
        return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


def serve(db: str | None = None, board_path: str | Path | None = None, host: str = "127.0.0.1", port: int = 8050,
          debug: bool = False, workers: int = 1, threads: int = 8) -> None:
    """Run the dashboard on http://host:port (waitress; see ``dashboard.server.serve``)."""
    from dashboard.server import serve as run

    run(db, board_path, host, port, debug=debug, workers=workers, threads=threads)


def __getattr__(name: str):
    if name == "server":  # built on first use, so importing this module has no side effects
        return create_app().server if _APP is None else _APP.server
    raise AttributeError(name)
