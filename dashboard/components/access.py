"""Who is signed in, on every page: the account and a sign-out link, or the open demo's warning."""

from __future__ import annotations

from typing import Any

from dash import html


def access_bar(ident: Any) -> tuple[Any, Any]:
    """(what goes in the header, a notice under it) for the request's identity (``dashboard.auth.Identity``)."""
    if ident is None:
        return None, None
    if ident.mode == "open":
        note = html.Div(
            html.Div([
                html.Strong("Open on this computer, with no accounts. "),
                "Anyone using this computer can see every figure, including small counts. Before sharing the "
                "dashboard, add accounts (", html.Code("oba users add NAME --role admin"), "); it then asks "
                "everyone to sign in.",
            ], className="container-fluid"),
            className="access-banner", role="note", id="access-banner")
        return None, note  # the notice says it all; the header keeps its room for the pages
    role = ident.role or ""
    agency = f", {ident.agency}" if ident.agency else ""
    account = html.Div([
        html.Span([html.Span("Signed in as ", className="visually-hidden"), f"{ident.name} ",
                   html.Span(f"({role}{agency})", className="account-role")], className="account-name"),
        html.A("Sign out", href="/logout", className="account-signout ms-3"),
    ], className="account ms-auto text-light small d-flex align-items-center")
    return account, None
