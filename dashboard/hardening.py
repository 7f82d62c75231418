"""What every response and request goes through, whoever is signed in: security headers, a body size limit,
well-formed callback requests only, and error pages that never show a traceback.

- Every response carries a Content-Security-Policy that lets the page load scripts, styles, images and data
  only from the app's own origin (so no chart data can be sent anywhere else), refuses framing, and the
  usual ``X-Content-Type-Options``, ``Referrer-Policy``, ``Cross-Origin-*`` and ``Cache-Control`` headers.
- A request body above ``max_body_bytes`` gets 413 before anything reads it.
- A callback request (``/_dash-update-component``) must be a JSON object naming a callback the app has, with
  the inputs and state that callback declares; anything else gets 400. Should a callback still fail on what it
  was sent, the client gets 400 and the log the traceback.
- Errors are short pages (or JSON for the app's own requests) saying what happened and what to do.
"""

from __future__ import annotations

import html
import logging
import os
from typing import Any

from dash.exceptions import PreventUpdate
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

log = logging.getLogger(__name__)

CALLBACK_PATH = "/_dash-update-component"
MB = 1024 * 1024


def max_body_bytes() -> int:
    """The largest request body accepted: OBA_MAX_REQUEST_MB (default 16 MB; an uploaded return is at most 10)."""
    try:
        return int(float(os.environ.get("OBA_MAX_REQUEST_MB", "16")) * MB)
    except ValueError:
        return 16 * MB


def content_security_policy(script_hashes: list[str]) -> str:
    """Only the app's own origin, for everything; inline scripts only the few Dash writes, by their hashes.

    Styles allow 'unsafe-inline' because Plotly and React set them on elements; with images, fonts and
    connections limited to 'self' (and data: images for the sparklines) a style cannot send anything out.
    Images may also be ``blob:``: the chart toolbar's "Download plot as a PNG" draws the chart into a blob in
    the browser and saves it from there (a blob lives in the page; it is never sent anywhere).
    """
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{k} {' '.join(v)}" for k, v in directives.items())


def security_headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",  # "no-referrer" makes browsers send "Origin: null" on forms
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    }


# --- callback requests -------------------------------------------------------------------------------

class MalformedCallback(ValueError):
    """A callback request that the app's own pages would never send."""


def _check_dependency(item: Any, where: str) -> None:
    if isinstance(item, list):  # a pattern-matching (ALL) input: a list of plain ones
        for sub in item:
            if not isinstance(sub, dict):
                raise MalformedCallback(f"{where}: each item must be an object")
            _check_dependency(sub, where)
        return
    if not isinstance(item, dict):
        raise MalformedCallback(f"{where}: each item must be an object with id and property")
    if not isinstance(item.get("id"), (str, dict)) or not isinstance(item.get("property"), str):
        raise MalformedCallback(f"{where}: each item needs an id and a property")
    if isinstance(item["id"], dict) and not all(isinstance(k, str) for k in item["id"]):
        raise MalformedCallback(f"{where}: an id's keys must be text")


def check_callback_body(body: Any, callback_map: dict) -> dict:
    """The callback the body asks for, if the body is well formed; else MalformedCallback saying why."""
    if not isinstance(body, dict):
        raise MalformedCallback("the body must be a JSON object")
    output = body.get("output")
    if not isinstance(output, str):
        raise MalformedCallback("'output' must name the callback's output")
    cb = callback_map.get(output)
    if cb is None or "callback" not in cb:
        raise MalformedCallback("there is no such callback")
    outputs = body.get("outputs")
    if outputs is not None and not isinstance(outputs, (dict, list)):
        raise MalformedCallback("'outputs' must be an object or a list")
    if isinstance(outputs, list):
        for o in outputs:
            if not isinstance(o, (dict, list)):
                raise MalformedCallback("'outputs' items must be objects")
    for key, declared in (("inputs", cb.get("inputs", [])), ("state", cb.get("state", []))):
        got = body.get(key, [])
        if not isinstance(got, list):
            raise MalformedCallback(f"'{key}' must be a list")
        if len(got) != len(declared):
            raise MalformedCallback(f"'{key}' must have {len(declared)} item(s)")
        for item in got:
            _check_dependency(item, key)
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise MalformedCallback("'changedPropIds' must be a list of text")
    return cb


def _wants_json() -> bool:
    return request.path.startswith("/_dash-") or request.path.startswith("/_oba/") or request.is_json


def error_page(status: int, title: str, message: str) -> Response:
    """A short error page (JSON for the app's own requests) with no detail of the server's inside."""
    if _wants_json():
        resp = jsonify({"error": title, "message": message})
    else:
        body = (f"<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}"
                "</title><link rel=\"stylesheet\" href=\"/assets/bootstrap.min.css\"><link rel=\"stylesheet\" "
                "href=\"/assets/style.css\"></head><body><main class=\"container py-5\" id=\"main-content\">"
                f"<h1 class=\"page-title\">{html.escape(title)}</h1><p class=\"lead\">{html.escape(message)}</p>"
                "<p><a href=\"/\">Go to the dashboard</a></p></main></body></html>")
        resp = Response(body, mimetype="text/html")
    resp.status_code = status
    return resp


_MESSAGES = {
    400: ("Bad request", "The request was not one this dashboard understands."),
    401: ("Please sign in", "Sign in to see this page."),
    403: ("Not allowed", "Your account may not see this page or do this."),
    404: ("Page not found", "There is nothing at this address."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "The request is larger than this dashboard accepts (an uploaded return must be under "
                       "10 MB)."),
    415: ("Bad request", "The request's content type is not one this dashboard accepts."),
    429: ("Too many requests", "Wait a little and try again."),
    500: ("Something went wrong", "The dashboard could not answer; the details are in its log."),
    503: ("Not available", "The dashboard cannot reach its data store just now; try again in a minute."),
}


def install(app) -> None:
    """Add the headers, the limit, the callback checks and the error pages to a Dash app's server."""
    server: Flask = app.server
    limit = max_body_bytes()
    server.config["MAX_CONTENT_LENGTH"] = limit
    server.config["PROPAGATE_EXCEPTIONS"] = False

    @server.before_request
    def _limit():
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()
        return None

    @server.after_request
    def _headers(resp: Response) -> Response:
        # Hashed per response: Dash adds its pages' inline script on the first request.
        for k, v in security_headers(content_security_policy(list(app.csp_hashes()))).items():
            resp.headers.setdefault(k, v)
        if request.is_secure:
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if not (request.path.startswith("/assets/") or request.path.startswith("/_dash-component-suites/")
                or request.path.startswith("/_icons/")):
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        title, message = _MESSAGES.get(code, (exc.name, "The request could not be answered."))
        resp = error_page(code, title, message)
        if code == 405 and getattr(exc, "valid_methods", None):
            resp.headers["Allow"] = ", ".join(exc.valid_methods)
        return resp

    @server.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error answering %s %s", request.method, request.path)
        return error_page(500, *_MESSAGES[500])



def check_callbacks(app) -> None:
    """Refuse malformed callback requests (400), and answer 400 when a callback fails on what it was sent.

    Installed after the sign-in check, so that nobody learns anything about the callbacks before signing in.
    """
    server: Flask = app.server

    @server.before_request
    def _well_formed():
        if request.path == CALLBACK_PATH and request.method == "POST":
            body = request.get_json(silent=True, cache=True)
            try:
                check_callback_body(body, app.callback_map)
            except MalformedCallback as exc:
                return error_page(400, "Bad request", f"Not a callback request this dashboard sends: {exc}.")
        return None

    endpoint = CALLBACK_PATH
    dispatch = server.view_functions.get(endpoint)
    if dispatch is not None:
        def _dispatch_or_400(*args, **kwargs):
            try:
                return dispatch(*args, **kwargs)
            except (HTTPException, PreventUpdate):
                raise
            except Exception:
                # The body was well formed (checked above) but the callback could not use what it was sent:
                # the client's input, not a page the server failed to build (pages catch their own errors).
                log.warning("a callback failed on its input", exc_info=True)
                return error_page(400, "Bad request", "The callback could not use the values it was sent.")

        _dispatch_or_400.__name__ = getattr(dispatch, "__name__", "dispatch")
        server.view_functions[endpoint] = _dispatch_or_400
