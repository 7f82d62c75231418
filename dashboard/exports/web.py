"""The download buttons: the same files as ``oba export``, served by the app (``/export/...``).

Every route needs the ``read`` permission (``dashboard.policy.ROUTES``). A request that cannot be met (an
unknown quarter, priority, indicator, kind or format) gets a short page saying what is valid, never a
traceback. ``download_menu`` draws the buttons: the internal file and, beside it, the one for publication.
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from dash import html

log = logging.getLogger(__name__)

ENDPOINTS = ("oba_export_data", "oba_export_scorecard", "oba_export_chart", "oba_export_board_pack")
MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def href(what: str, fmt: str, publication: bool = False, **params) -> str:
    """The address of a download: href("data", "csv", period="2025-26 Q2", priority="neglect")."""
    clean = {k: str(v) for k, v in params.items() if v not in (None, "") and k != "indicator" and k != "kind"}
    if publication:
        clean["publication"] = "1"
    if what == "chart":
        path = f"/export/chart/{params['indicator']}/{params['kind']}.{fmt}"
    else:
        path = f"/export/{what}.{fmt}"
        if params.get("indicator"):
            clean["indicator"] = str(params["indicator"])
    return path + ("?" + urlencode(clean) if clean else "")


def download_menu(label: str, items: list[tuple[str, str, str, dict]], menu_id: str | None = None) -> html.Details:
    """A "Download" disclosure: per item (text, what, format, params) the internal file and one for publication."""
    rows = []
    for text, what, fmt, params in items:
        rows.append(html.Li([
            html.A(f"{text} ({fmt.upper()})", href=href(what, fmt, **params), className="download-link",
                   download=""),
            " · ",
            html.A(["for publication", html.Span(f": {text} ({fmt.upper()}) with small numbers withheld",
                                                 className="visually-hidden")],
                   href=href(what, fmt, publication=True, **params), className="download-link publication",
                   download=""),
        ]))
    kw = {"id": menu_id} if menu_id else {}
    return html.Details([
        html.Summary(label, className="btn btn-outline-secondary btn-sm download-summary"),
        html.Ul(rows, className="download-list"),
        html.P("Internal files show every figure (OFFICIAL-SENSITIVE); files for publication withhold small "
               "numbers and say what was withheld.", className="download-note"),
    ], className="download-menu", **kw)


def _flag(value) -> bool:
    return str(value or "").lower() in ("1", "true", "yes", "on")


def install(app) -> None:
    """Add the download routes to the app's server."""
    from flask import Response, request

    from dashboard import data
    from dashboard.exports.common import (
        ExportError,
        check_choice,
        resolve_indicator,
        resolve_period,
        resolve_priority,
    )
    from dashboard.hardening import error_page

    def respond(fmt: str, name: str, make):
        try:
            view = data.view()
        except data.DataUnavailable as exc:
            return error_page(503, exc.title, exc.message)
        try:
            with tempfile.TemporaryDirectory(prefix="oba-export-") as tmp:
                path = Path(tmp) / f"export.{fmt}"
                filename = make(view, path)
                body = path.read_bytes()
        except ExportError as exc:
            return error_page(400, "That file cannot be made", str(exc)[:1].upper() + str(exc)[1:])
        except Exception:
            log.exception("an export failed")
            return error_page(500, "The file could not be made",
                              "Something went wrong making the file; the details are in the dashboard's log.")
        return Response(body, mimetype=MIMETYPES[fmt],
                        headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                 "Cache-Control": "no-store"})

    def _suffix(pub: bool) -> str:
        return "-publication" if pub else ""

    def data_route(fmt: str):
        from dashboard.exports.data import dataset_rows, write_data

        def make(view, path):
            check_choice("format for the data", fmt, ("csv", "xlsx"))
            q = resolve_period(view, request.args.get("period")) if request.args.get("period") else None
            p = resolve_priority(view, request.args.get("priority"))
            ind_id = request.args.get("indicator")
            ind = resolve_indicator(view, ind_id) if ind_id else None
            pub = _flag(request.args.get("publication"))
            export = dataset_rows(view, q, p, pub, indicator=ind.id if ind else None)
            write_data(export, view, path, fmt)
            scope = "-".join(_slug(s) for s in (ind.id if ind else (p.id if p else "all"), str(q or "all-quarters")))
            return f"oba-data-{scope}{_suffix(pub)}.{fmt}"
        return respond(fmt, "data", make)

    def scorecard_route():
        from dashboard.exports.scorecard import export_scorecard

        def make(view, path):
            q = resolve_period(view, request.args.get("period"))
            pub = _flag(request.args.get("publication"))
            export_scorecard(view, path, q, pub)
            return f"oba-scorecard-{_slug(q)}{_suffix(pub)}.xlsx"
        return respond("xlsx", "scorecard", make)

    def chart_route(indicator_id: str, kind: str, fmt: str):
        from dashboard.exports.charts import FORMATS, KINDS, SIZES, export_chart

        if fmt not in FORMATS:
            return error_page(400, "That file cannot be made",
                              f"'{fmt}' is not a chart format. Choose one of: {', '.join(FORMATS)}.")

        def make(view, path):
            check_choice("chart kind", kind, KINDS)
            size = request.args.get("size") or "slide"
            check_choice("chart size", size, tuple(SIZES))
            ind = resolve_indicator(view, indicator_id)
            q = resolve_period(view, request.args.get("period"))
            pub = _flag(request.args.get("publication"))
            export_chart(view, ind, q, kind, fmt, path, size, pub)
            return f"{_slug(ind.id)}-{kind}-{_slug(q)}{_suffix(pub)}.{fmt}"
        return respond(fmt, "chart", make)

    def pack_route(fmt: str):
        from dashboard.exports.pack import FORMATS, export_board_pack

        def make(view, path):
            check_choice("board pack format", fmt, FORMATS)
            q = resolve_period(view, request.args.get("period"))
            p = resolve_priority(view, request.args.get("priority"))
            pub = _flag(request.args.get("publication"))
            export_board_pack(view, path, q, fmt, p.id if p else None, pub)
            return f"oba-board-pack-{_slug(q)}{'-' + p.id if p else ''}{_suffix(pub)}.{fmt}"
        if fmt not in MIMETYPES:
            return error_page(400, "That file cannot be made", "Choose one of: pptx, pdf.")
        return respond(fmt, "board-pack", make)

    server = app.server
    server.add_url_rule("/export/board-pack.<fmt>", "oba_export_board_pack", pack_route, methods=["GET"])
    server.add_url_rule("/export/data.<fmt>", "oba_export_data", data_route, methods=["GET"])
    server.add_url_rule("/export/scorecard.xlsx", "oba_export_scorecard", scorecard_route, methods=["GET"])
    server.add_url_rule("/export/chart/<indicator_id>/<kind>.<fmt>", "oba_export_chart", chart_route,
                        methods=["GET"])
