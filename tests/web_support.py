"""What the web tests share: a store with one account per role behind the one Dash app, signing in as a browser
does (the form's CSRF token included), and callback requests built from the app's own callback map."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager

from dashboard import auth, data
from dashboard.data import DataSource, View

PASSWORD = "correct horse battery staple"
ROUTER = ".._pages_content.children..._pages_store.data.."
ACCOUNTS = {  # name: (role, agency)
    "vera.viewer": ("viewer", None),
    "ann.analyst": ("analyst", None),
    "sam.submitter": ("submitter", "POL"),
    "ada.admin": ("admin", None),
}


def source_with_store(url: str, board_path, view: View | None = None) -> DataSource:
    """A DataSource on the store at ``url`` (accounts, sessions, audit) serving ``view`` for the pages."""
    src = DataSource(url, board_path)
    if view is not None:
        src._view = view
        src._version = view.version or "fixed"
        src._checked_at = float("inf")
        src.ttl = float("inf")
    return src


@contextmanager
def serving(src: DataSource):
    before = data.source()
    data.use(src)
    auth.CACHE.clear()
    try:
        yield src
    finally:
        data.use(before)
        auth.CACHE.clear()


def add_accounts(engine, accounts=ACCOUNTS) -> None:
    from etl.users import add_user

    for name, (role, agency) in accounts.items():
        add_user(engine, name, role, PASSWORD, agency)


def login_token(client) -> str:
    page = client.get("/login").get_data(as_text=True)
    m = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert m, page[:500]
    return m.group(1)


def sign_in(client, name: str, password: str = PASSWORD, next_path: str = "/"):
    token = login_token(client)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": next_path})


def csrf(client) -> str | None:
    c = client.get_cookie(auth.CSRF_COOKIE)
    return c.value if c else None


def router_body(path: str, search: str = "") -> dict:
    return {"output": ROUTER,
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}


def callback_body(output: str, cb: dict, values: dict | None = None) -> dict:
    """A well-formed request for callback ``output``: every input and state None unless ``values`` names it."""
    values = values or {}

    def dep(d):
        key = f"{d['id']}.{d['property']}"
        dep_id = json.loads(d["id"]) if d["id"].startswith("{") else d["id"]
        return {"id": dep_id, "property": d["property"], "value": values.get(key)}

    outs = []
    for part in output.strip(".").split("..."):
        ident, prop = part.rsplit(".", 1)
        outs.append({"id": ident, "property": prop.split("@")[0]})
    return {"output": output, "outputs": outs if len(outs) > 1 else outs[0],
            "inputs": [dep(d) for d in cb["inputs"]], "state": [dep(d) for d in cb.get("state", [])],
            "changedPropIds": [f"{cb['inputs'][0]['id']}.{cb['inputs'][0]['property']}"] if cb["inputs"] else []}


def post_callback(client, body: dict, token: str | None = "auto"):
    headers = {}
    if token == "auto":
        token = csrf(client)
    if token:
        headers[auth.CSRF_HEADER] = token
    return client.post("/_dash-update-component", json=body, headers=headers)


def page_text(response) -> str:
    body = json.loads(response.get_data(as_text=True))
    out: list[str] = []

    def walk(node):
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, list):
            for n in node:
                walk(n)
        elif isinstance(node, dict):
            walk(node.get("props", {}).get("children"))

    walk(body["response"]["_pages_content"]["children"])
    return " ".join(" ".join(out).split())


def callback_named(app, module: str, name: str) -> tuple[str, dict]:
    """(output key, callback map entry) of the callback function ``name`` defined in ``module``."""
    from dashboard.policy import callback_module

    for output, cb in app.callback_map.items():
        func = cb.get("callback")
        inner = getattr(func, "__wrapped__", func)
        if func is not None and callback_module(cb) == module and getattr(inner, "__name__", "") == name:
            return output, cb
    raise KeyError(f"{module}.{name}")
