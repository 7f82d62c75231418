"""A catalogue of malformed returns, each built here: the exact issues (code and cell) it gets, and that
loading it is rejected and leaves the store exactly as it was — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select
from store_backends import STORE_BACKENDS, backend_url

from etl.db import init_store
from etl.returns.issues import CATALOGUE
from etl.returns.load import load_file
from etl.returns.package import MB, Limits
from etl.returns.reader import check_file
from etl.returns.template import build_template, fill_values
from etl.store import ReturnIssue, ReturnValue, ReturnVersion, make_engine
from indicators.periods import Quarter

Q = Quarter(2025, 2)
TODAY = dt.date(2026, 1, 15)
POL = {"POL_MISSING_EPISODES": 455, "POL_RHI_ELIGIBLE": 400, "POL_RHI_72H": 310, "POL_CSE_CRIMES": 12,
       "POL_DA_CHILDREN": 260}
# In POL's template: About!B4 agency code, About!B6 period; Return rows 5-9 in POL's board order, Code in A,
# Value in F, Note in G. Return is the second sheet (xl/worksheets/sheet2.xml).


# --- building bad files -----------------------------------------------------------------------------

def pol_workbook(values: dict | None = None, agency: str = "POL", quarter: Quarter = Q):
    wb = build_template(BOARD, LIBRARY, agency, quarter)
    fill_values(wb, POL | (values or {}) if agency == "POL" else (values or {}))
    return wb


def rewrite(path: Path, part: str, fn) -> Path:
    """Rewrite one part of a saved workbook (to make what Excel or openpyxl would not)."""
    with zipfile.ZipFile(path) as z:
        items = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items:
            z.writestr(name, fn(data) if name == part else data)
    return path


def saved(wb, path: Path) -> Path:
    wb.save(path)
    return path


def edit(values=None, fn=None):
    """A builder: POL's template with ``values`` filled in, then ``fn(workbook)`` applied."""
    def build(path: Path) -> Path:
        wb = pol_workbook(values)
        if fn:
            fn(wb)
        return saved(wb, path)
    return build


def _cell(sheet, ref, value, data_type=None):
    def fn(wb):
        wb[sheet][ref].value = value
        if data_type:
            wb[sheet][ref].data_type = data_type
    return fn


def _merge(ref):
    return lambda wb: wb["Return"].merge_cells(ref)


def _far_cell(wb):
    wb["Return"]["XFD60000"] = "stray"


def _delete_about(wb):
    del wb["About"]


def _delete_return(wb):
    del wb["Return"]


def _blank_all(wb):
    fill_values(wb, dict.fromkeys(POL))


def raw_bytes(data: bytes):
    def build(path: Path) -> Path:
        path.write_bytes(data)
        return path
    return build


def _zip_of(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _truncated(path: Path) -> Path:
    saved(pol_workbook(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _flipped(path: Path) -> Path:
    """Damage the compressed bytes of the Return sheet (CRC or inflate fails)."""
    saved(pol_workbook(), path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("xl/worksheets/sheet2.xml")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    for k in range(start + 20, start + 60):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


def _with_doctype(part: str, doctype: bytes):
    def build(path: Path) -> Path:
        saved(pol_workbook(), path)

        def add(data: bytes) -> bytes:
            head, sep, rest = data.partition(b"?>")
            return head + sep + doctype + rest if sep else doctype + data
        return rewrite(path, part, add)
    return build


LAUGHS = (b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
          b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
EXTERNAL = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _lying_sizes(path: Path) -> Path:
    """A part that declares 1,000 bytes but inflates to 2 MB (a zip bomb that lies in its headers)."""
    payload = b"0" * (2 * MB)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = comp.compress(payload) + comp.flush()
    saved(pol_workbook(), path)
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i in src.infolist():
            z.writestr(i.filename, src.read(i.filename))
        z.writestr("xl/media/bomb.xml", b"placeholder")
    data = bytearray(buf.getvalue())
    # Rebuild the placeholder entry by hand: the local header and the central record both say 1,000 bytes.
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("xl/media/bomb.xml")
    lh = info.header_offset
    name = b"xl/media/bomb.xml"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, zlib.crc32(payload[:1000]), len(deflated),
                        1000, len(name), 0) + name + deflated
    cd_start = data.index(b"PK\x01\x02")
    entries = bytes(data[:lh])
    central = bytearray(data[cd_start:data.index(b"PK\x05\x06")])
    pos = central.index(b"PK\x01\x02" + central[4:6])  # first record, then find ours by name
    out_central = bytearray()
    while pos < len(central):
        n, m, k = struct.unpack("<HHH", central[pos + 28:pos + 34])
        rec = bytearray(central[pos:pos + 46 + n + m + k])
        if rec[46:46 + n] == name:
            struct.pack_into("<L", rec, 16, zlib.crc32(payload[:1000]))
            struct.pack_into("<LL", rec, 20, len(deflated), 1000)
            struct.pack_into("<L", rec, 42, len(entries))
        out_central += rec
        pos += 46 + n + m + k
    end = bytearray(data[data.index(b"PK\x05\x06"):])
    struct.pack_into("<L", end, 12, len(out_central))
    struct.pack_into("<L", end, 16, len(entries) + len(local))
    path.write_bytes(entries + local + bytes(out_central) + bytes(end))
    return path


def _many_parts(path: Path) -> Path:
    saved(pol_workbook(), path)
    with zipfile.ZipFile(path, "a") as z:
        for k in range(1001):
            z.writestr(f"xl/custom/p{k}.xml", b"<a/>")
    return path


def _big_part(path: Path) -> Path:
    """101 MB of zeros (about 100 KB compressed) in one part: rejected from the central directory alone."""
    saved(pol_workbook(), path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z, z.open("xl/media/zeros.bin", "w", force_zip64=True) as f:
        block = bytes(MB)
        for _ in range(101):
            f.write(block)
    return path


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'

# id -> (builder, {check_file keyword arguments}, [(code, cell)] expected, in order)
ERROR_CASES = {
    "text-na": (edit({"POL_CSE_CRIMES": "n/a"}), {}, [("not-a-number", "F8")]),
    "text-tbc": (edit({"POL_CSE_CRIMES": "TBC"}), {}, [("not-a-number", "F8")]),
    "dash": (edit({"POL_CSE_CRIMES": "-"}), {}, [("not-a-number", "F8")]),
    "true": (edit({"POL_CSE_CRIMES": True}), {}, [("not-a-number", "F8")]),
    "percent-in-count": (edit({"POL_CSE_CRIMES": "12%"}), {}, [("not-a-number", "F8")]),
    "negative": (edit({"POL_CSE_CRIMES": -3}), {}, [("negative-value", "F8")]),
    "negative-text": (edit({"POL_CSE_CRIMES": "-3"}), {}, [("number-as-text", "F8"), ("negative-value", "F8")]),
    "fraction": (edit({"POL_CSE_CRIMES": 12.5}), {}, [("not-whole-number", "F8")]),
    "date": (edit({"POL_CSE_CRIMES": dt.date(2025, 3, 4)}), {}, [("date-value", "F8")]),
    "datetime": (edit({"POL_CSE_CRIMES": dt.datetime(2025, 3, 4, 10, 0)}), {}, [("date-value", "F8")]),
    "formula-no-value": (edit({"POL_CSE_CRIMES": "=F5-F6"}), {}, [("formula-no-value", "F8")]),
    "excel-error": (edit(fn=_cell("Return", "F8", "#DIV/0!", "e")), {}, [("excel-error", "F8")]),
    "part-above-whole": (edit({"POL_RHI_72H": 401}), {}, [("numerator-exceeds-denominator", "F7")]),
    "duplicate-code": (edit(fn=_cell("Return", "A9", "POL_CSE_CRIMES")), {},
                       [("duplicate-code", "A9"), ("measure-missing", None)]),
    "unknown-code": (edit(fn=_cell("Return", "A8", "POL_CSE_CRIME")), {},
                     [("unknown-code", "A8"), ("measure-missing", None)]),
    "other-agency-code": (edit(fn=_cell("Return", "A8", "CSC_REFERRALS")), {},
                          [("other-agency-measure", "A8"), ("measure-missing", None)]),
    "value-without-code": (edit(fn=_cell("Return", "A8", None)), {},
                           [("value-without-code", "F8"), ("measure-missing", None)]),
    "merged-values": (edit(fn=_merge("F7:F8")), {}, [("merged-cells", "F7:F8")]),
    # Merging in Excel keeps only the top cell, so the second code is gone too.
    "merged-codes": (edit(fn=_merge("A8:A9")), {}, [("merged-cells", "A8:A9"), ("measure-missing", None)]),
    "wrong-agency": (edit(), {"expected_agency": "CSC"}, [("wrong-agency", "B4")]),
    "wrong-period": (edit(), {"expected_period": "2025-26 Q3"}, [("wrong-period", "B6")]),
    "unknown-agency": (edit(fn=_cell("About", "B4", "XYZ")), {}, [("unknown-agency", "B4")]),
    "agency-missing": (edit(fn=_cell("About", "B4", None)), {}, [("agency-missing", "B4")]),
    "bad-period": (edit(fn=_cell("About", "B6", "Quarter two")), {}, [("bad-period", "B6")]),
    "period-as-date": (edit(fn=_cell("About", "B6", dt.date(2025, 9, 30))), {}, [("bad-period", "B6")]),
    "period-missing": (edit(fn=_cell("About", "B6", None)), {}, [("period-missing", "B6")]),
    "about-deleted": (edit(fn=_delete_about), {}, [("about-missing", None)]),
    "return-deleted": (edit(fn=_delete_return), {}, [("no-return-sheet", None)]),
    "header-renamed": (edit(fn=_cell("Return", "F4", "Figure")), {}, [("no-return-sheet", None)]),
    "all-blank": (edit(fn=_blank_all), {}, [("blank-value", f"F{r}") for r in range(5, 10)] + [("no-figures", None)]),
    "stray-far-cell": (edit(fn=_far_cell), {}, [("sheet-too-large", None)]),
    # --- files that are not (safe) workbooks ---
    "empty-file": (raw_bytes(b""), {}, [("empty-file", None)]),
    "csv-renamed": (raw_bytes(b"Code,Value\nPOL_MISSING_EPISODES,455\n"), {}, [("not-a-workbook", None)]),
    "pdf-renamed": (raw_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"), {}, [("not-a-workbook", None)]),
    "html-renamed": (raw_bytes(b"<html><body><table><tr><td>455</td></tr></table></body></html>"), {},
                     [("not-a-workbook", None)]),
    "random-bytes": (raw_bytes(bytes(range(256)) * 8), {}, [("not-a-workbook", None)]),
    "encrypted-ole": (raw_bytes(OLE + bytes(504) + "EncryptionInfo".encode("utf-16-le") + bytes(64)
                                + "EncryptedPackage".encode("utf-16-le") + bytes(512)), {},
                      [("password-protected", None)]),
    "xls-ole": (raw_bytes(OLE + bytes(504) + "Workbook".encode("utf-16-le") + bytes(512)), {},
                [("old-xls-format", None)]),
    "plain-zip": (raw_bytes(_zip_of({"figures.csv": b"a,b\n1,2\n"})), {}, [("not-a-workbook", None)]),
    "word-document": (raw_bytes(_zip_of({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": b"<w/>"})), {},
                      [("unsupported-format", None)]),
    "xlsb": (raw_bytes(_zip_of({"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.bin": b"\x00\x01"})), {},
             [("unsupported-format", None)]),
    "opendocument": (raw_bytes(_zip_of({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                        "content.xml": b"<office/>"})), {}, [("unsupported-format", None)]),
    "truncated": (_truncated, {}, [("corrupt-file", None)]),
    "damaged-bytes": (_flipped, {}, [("corrupt-file", None)]),
    "billion-laughs": (_with_doctype("xl/workbook.xml", LAUGHS), {}, [("unsafe-xml", None)]),
    "external-entity": (_with_doctype("xl/worksheets/sheet2.xml", EXTERNAL), {}, [("unsafe-xml", None)]),
    "utf16-doctype": (_with_doctype("docProps/app.xml", "<!DOCTYPE a>".encode("utf-16-le")), {},
                      [("unsafe-xml", None)]),
    "lying-zip-bomb": (_lying_sizes, {}, [("unpacked-too-large", None)]),
    "too-many-parts": (_many_parts, {}, [("too-many-parts", None)]),
    "huge-part": (_big_part, {}, [("unpacked-too-large", None)]),
    "missing-file": (lambda path: path.with_name("nowhere.xlsx"), {}, [("file-not-found", None)]),
}


# --- the store before and after ---------------------------------------------------------------------

def snapshot(engine) -> dict:
    """Everything the returns tables hold, comparable with ==."""
    out = {}
    with engine.connect() as conn:
        for model in (ReturnVersion, ReturnValue, ReturnIssue):
            t = model.__table__
            out[t.name] = sorted(tuple(r) for r in conn.execute(select(t)))
    return out


@pytest.fixture(scope="module", autouse=True)
def _definitions(board, library):
    global BOARD, LIBRARY
    BOARD, LIBRARY = board, library


@pytest.fixture(scope="module", params=STORE_BACKENDS)
def store(request, board, library, tmp_path_factory):
    """One store per backend for the whole catalogue, holding one good POL return (version 1). Sharing it is
    sound because a rejected load must change nothing; each case checks exactly that."""
    with backend_url(request.param, tmp_path_factory.mktemp("catalogue")) as url:
        engine = make_engine(url)
        init_store(engine)
        good = saved(pol_workbook(), tmp_path_factory.mktemp("good") / "good.xlsx")
        assert load_file(engine, board, library, good, "tester", dt.date(2025, 10, 20), today=TODAY).outcome == "loaded"
        yield engine, snapshot(engine)
        engine.dispose()


@pytest.mark.parametrize("case", list(ERROR_CASES), ids=list(ERROR_CASES))
def test_malformed_return_is_rejected_and_store_unchanged(case, store, board, library, tmp_path):
    engine, before = store
    build, kwargs, expected = ERROR_CASES[case]
    path = build(tmp_path / f"{case}.xlsx")
    result = load_file(engine, board, library, path, "tester", dt.date(2025, 10, 21), today=TODAY,
                       **kwargs)
    assert result.outcome == "rejected"
    assert [(i.code, i.cell) for i in result.issues] == expected, [str(i) for i in result.issues]
    for issue in result.issues:
        assert issue.code in CATALOGUE and issue.level == CATALOGUE[issue.code].level
        assert issue.file == path.name and issue.message
        if issue.cell:
            assert issue.sheet in ("About", "Return"), str(issue)
        if issue.measure:
            assert issue.measure in library.measures
    assert snapshot(engine) == before


def test_unreadable_files_are_rejected_with_bounded_memory(board, library, tmp_path):
    """Bombs and oversized parts are refused from the headers or after a bounded amount of inflating."""
    for build in (_big_part, _lying_sizes):
        path = build(tmp_path / f"{build.__name__}.xlsx")
        tracemalloc.start()
        res = check_file(path, board, library, today=TODAY)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert res.codes == ["unpacked-too-large"]
        assert peak < 8 * MB, peak


def test_file_size_limit(board, library, tmp_path):
    path = saved(pol_workbook(), tmp_path / "ok.xlsx")
    res = check_file(path, board, library, today=TODAY, limits=Limits(max_file_bytes=1000))
    assert res.codes == ["file-too-large"]
    assert "must be under" in res.issues[0].message


def test_sheet_xml_limit(board, library, tmp_path):
    path = saved(pol_workbook(), tmp_path / "ok.xlsx")
    res = check_file(path, board, library, today=TODAY, limits=Limits(max_sheet_xml_bytes=500))
    assert res.codes[0] == "sheet-too-large" and res.issues[0].sheet == "About"


def test_macros_are_never_run_values_read(board, library, tmp_path):
    path = saved(pol_workbook(), tmp_path / "macro.xlsm")
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/vbaProject.bin", OLE + b"Attribute VB_Name = \"Module1\"\nSub Auto_Open()\nEnd Sub\n")
    res = check_file(path, board, library, today=TODAY)
    assert res.ok and res.codes == ["macros-ignored"]
    assert res.values["POL_MISSING_EPISODES"].value == 455


def test_damaged_files_are_caught_by_the_rules(board, library, tmp_path):
    """Seeded random damage, to the bytes and inside well-formed parts: every file gets named issues from the
    checks themselves, never an exception and never the last-resort handler."""
    import random
    import re

    good = saved(pol_workbook(), tmp_path / "good.xlsx")
    data = good.read_bytes()
    with zipfile.ZipFile(good) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    rng = random.Random(20251)
    target = tmp_path / "damaged.xlsx"
    for n in range(150):
        if n % 2:
            damaged = bytearray(data)
            for _ in range(rng.randint(1, 12)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            target.write_bytes(bytes(damaged))
        else:
            sheet = parts["xl/worksheets/sheet2.xml"].decode()
            sheet = re.sub(r"<v>[^<]*</v>", lambda m: f"<v>{rng.choice(['x', '#REF!', '1e308', '', '-0'])}</v>"
                           if rng.random() < 0.3 else m.group(0), sheet)
            sheet = re.sub(r' t="n"', lambda m: f' t="{rng.choice(["e", "s", "b", "str", "d"])}"'
                           if rng.random() < 0.2 else m.group(0), sheet)
            ref = rng.choice(["F5:F7", "A1:XFD1048576", "B2", "F4:F5"])
            sheet = sheet.replace("</worksheet>", f'<mergeCells><mergeCell ref="{ref}"/></mergeCells></worksheet>')
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for name, content in parts.items():
                    z.writestr(name, sheet.encode() if name.endswith("sheet2.xml") else content)
            target.write_bytes(buf.getvalue())
        res = check_file(target, board, library, today=TODAY)
        assert res.unforeseen is None, (n, res.unforeseen)
        assert all(i.code in CATALOGUE for i in res.issues)
