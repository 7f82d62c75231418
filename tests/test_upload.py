"""Returns sent on the web: the same checks as `oba returns check`, load or cancel, a submitter only for their
own agency, malicious files refused, and the result in the status grid and the audit trail at once."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from web_support import (
    add_accounts,
    callback_body,
    callback_named,
    post_callback,
    serving,
    sign_in,
    source_with_store,
)

from dashboard.app import create_app
from etl import audit
from etl.db import init_store
from etl.returns.samples import write_sample_return
from etl.store import ReturnVersion, make_engine
from indicators.periods import Quarter

MODULE = "dashboard.pages.upload"
Q = Quarter(2025, 2)
BOARD = Path(__file__).resolve().parent.parent / "data" / "demo" / "board.yaml"


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture
def store(app, db_url):
    engine = make_engine(db_url)
    init_store(engine)
    add_accounts(engine)
    with serving(source_with_store(db_url, BOARD)):
        yield engine
    engine.dispose()


def _data_url(data: bytes) -> str:
    return "data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64," + \
        base64.b64encode(data).decode()


def _workbook(tmp_path, board, library, agency: str, seed: int = 0) -> bytes:
    return write_sample_return(tmp_path / f"{agency}-{seed}.xlsx", board, library, agency, Q, seed=seed).read_bytes()


def _client(app, name):
    client = app.server.test_client()
    assert sign_in(client, name).status_code == 303
    client.get("/")
    return client


def _check(app, client, data: bytes, filename: str = "return.xlsx"):
    output, cb = callback_named(app, MODULE, "check_upload")
    body = callback_body(output, cb, {"upload-file.contents": _data_url(data), "upload-file.filename": filename})
    r = post_callback(client, body)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return json.loads(r.get_data(as_text=True))["response"]


def _load(app, client, data: bytes, checked):
    output, cb = callback_named(app, MODULE, "load_or_cancel")
    body = callback_body(output, cb, {"upload-load.n_clicks": 1, "upload-file.contents": _data_url(data),
                                      "upload-checked.data": checked})
    body["changedPropIds"] = ["upload-load.n_clicks"]
    r = post_callback(client, body)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return json.loads(r.get_data(as_text=True))["response"]


def _versions(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(ReturnVersion.__table__.select().with_only_columns(
            ReturnVersion.agency_code, ReturnVersion.period, ReturnVersion.version, ReturnVersion.loaded_by)).all()


def test_a_submitter_checks_and_loads_their_own_return(app, store, tmp_path, board, library):
    client = _client(app, "sam.submitter")
    data = _workbook(tmp_path, board, library, "POL")
    res = _check(app, client, data, "POL Q2.xlsx")
    text = json.dumps(res)
    assert "It can be loaded" in text and res["upload-load"]["disabled"] is False
    assert _versions(store) == []  # checking stores nothing
    checked = res["upload-checked"]["data"]
    res = _load(app, client, data, checked)
    text = json.dumps(res)
    assert "loaded POL 2025-26 Q2 as version 1" in text and "In the returns grid now" in text
    assert "Received" in text or "Late" in text
    assert _versions(store) == [("POL", "2025-26 Q2", 1, "sam.submitter")]
    event = audit.read_events(store, action="returns.load")[0]
    assert (event["actor"], event["role"], event["source"]) == ("sam.submitter", "submitter", "web")
    # a corrected file for the same quarter becomes version 2
    data2 = _workbook(tmp_path, board, library, "POL", seed=7)
    res = _load(app, client, data2, _check(app, client, data2)["upload-checked"]["data"])
    assert "version 2 replaces version 1" in json.dumps(res)


def test_a_submitter_cannot_send_another_agencys_return(app, store, tmp_path, board, library):
    client = _client(app, "sam.submitter")
    data = _workbook(tmp_path, board, library, "CSC")
    res = _check(app, client, data)
    text = json.dumps(res)
    assert "wrong-agency" in text and "cannot be loaded" in text and res["upload-load"]["disabled"] is True
    assert res["upload-checked"]["data"] is None
    # asking the server to load it anyway (bypassing the page) stores nothing
    import hashlib

    res = _load(app, client, data, {"sha256": hashlib.sha256(data).hexdigest(), "name": "x.xlsx"})
    assert "rejected" in json.dumps(res) and _versions(store) == []


def test_an_analyst_may_send_any_agencys_return(app, store, tmp_path, board, library):
    client = _client(app, "ann.analyst")
    data = _workbook(tmp_path, board, library, "CSC")
    res = _load(app, client, data, _check(app, client, data)["upload-checked"]["data"])
    assert "loaded CSC 2025-26 Q2" in json.dumps(res)


def test_a_viewer_may_not_upload(app, store, tmp_path, board, library):
    client = _client(app, "vera.viewer")
    output, cb = callback_named(app, MODULE, "check_upload")
    data = _workbook(tmp_path, board, library, "CSC")
    r = post_callback(client, callback_body(output, cb, {"upload-file.contents": _data_url(data)}))
    assert r.status_code == 403 and _versions(store) == []


MALICIOUS = {
    "a CSV renamed .xlsx": (b"agency,value\nCSC,=cmd|' /C calc'!A0\n", "not-a-workbook"),
    "a web page": (b"<html><script>alert(1)</script></html>", "not-a-workbook"),
    "a PDF": (b"%PDF-1.7\n" + b"x" * 100, "not-a-workbook"),
    "an empty zip": (b"PK\x05\x06" + b"\x00" * 18, "not-a-workbook"),
    "a damaged zip": (b"PK\x03\x04" + b"\x00" * 200, "corrupt-file"),
}


@pytest.mark.parametrize("what", list(MALICIOUS))
def test_malicious_files_are_refused_by_their_content(app, store, what):
    data, code = MALICIOUS[what]
    client = _client(app, "ann.analyst")
    res = _check(app, client, data, "return.xlsx")
    assert code in json.dumps(res) and res["upload-load"]["disabled"] is True
    assert _versions(store) == []


def test_a_zip_bomb_is_refused(app, store, tmp_path):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\x00" * (300 * 1024 * 1024))
    client = _client(app, "ann.analyst")
    res = _check(app, client, buf.getvalue())
    assert res["upload-load"]["disabled"] is True and "cannot be loaded" in json.dumps(res)


def test_a_file_over_the_limit_is_refused_before_it_is_read(app, store):
    client = _client(app, "ann.analyst")
    from dashboard.pages.upload import MAX_UPLOAD_BYTES

    res = _check(app, client, b"PK\x03\x04" + b"\x00" * (MAX_UPLOAD_BYTES + 10))
    assert "larger than 10 MB" in json.dumps(res)


def test_the_file_name_is_shown_inert(app, store, tmp_path, board, library):
    client = _client(app, "ann.analyst")
    data = _workbook(tmp_path, board, library, "CSC")
    res = _check(app, client, data, "../../etc/<img src=x onerror=alert(1)>.xlsx")
    text = json.dumps(res)
    assert "<img" not in text and "../" not in text
    from dashboard.pages.upload import safe_name

    assert safe_name("C:\\Users\\jo\\POL Q2.xlsx") == "POL Q2.xlsx"
    assert safe_name("") == "return.xlsx"


def test_a_file_changed_after_checking_is_not_loaded(app, store, tmp_path, board, library):
    client = _client(app, "ann.analyst")
    data = _workbook(tmp_path, board, library, "CSC")
    checked = _check(app, client, data)["upload-checked"]["data"]
    other = _workbook(tmp_path, board, library, "EDU")
    res = _load(app, client, other, checked)
    assert "changed since it was checked" in json.dumps(res) and _versions(store) == []


def test_cancel_loads_nothing(app, store, tmp_path, board, library):
    client = _client(app, "ann.analyst")
    data = _workbook(tmp_path, board, library, "CSC")
    _check(app, client, data)
    output, cb = callback_named(app, MODULE, "load_or_cancel")
    body = callback_body(output, cb, {"upload-cancel.n_clicks": 1, "upload-file.contents": _data_url(data)})
    body["changedPropIds"] = ["upload-cancel.n_clicks"]
    r = post_callback(client, body)
    assert "Cancelled" in r.get_data(as_text=True) and _versions(store) == []
