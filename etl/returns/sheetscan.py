"""What calamine does not say about a sheet, read by streaming its XML once with bounded memory.

calamine gives cell values, but a formula with no saved result and an Excel error both come back as an
empty cell, and a percentage typed as "12%" comes back as 0.12 with no hint of its format. This scan
records, for the cells that need it, the formula and whether a value was saved, error values and the
style, plus the merged ranges and the sheet's true extent (calamine builds a dense grid, so a stray entry
in cell XFD1048576 must be caught before calamine is asked for the sheet).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from defusedxml import ElementTree as SafeET
from openpyxl.utils.cell import column_index_from_string

from etl.returns.package import Package, Unreadable

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")


@dataclass
class CellInfo:
    """What the XML says about one cell: formula text, whether a result was saved, error value, style."""

    formula: str | None = None
    has_value: bool = True
    error: str | None = None
    style: int = 0


@dataclass
class SheetScan:
    max_row: int = 0
    max_col: int = 0
    cells: dict[tuple[int, int], CellInfo] = field(default_factory=dict)  # 1-based (row, col)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 1-based r1, c1, r2, c2

    def far_cell(self) -> str:
        from openpyxl.utils import get_column_letter

        return f"{get_column_letter(min(max(self.max_col, 1), 16384))}{self.max_row}"


def parse_ref(ref: str) -> tuple[int, int] | None:
    m = _REF.match(ref or "")
    if not m:
        return None
    return int(m[2]), column_index_from_string(m[1].upper())


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def scan_sheet(pkg: Package, part: str) -> SheetScan:
    """Stream a worksheet part: extent, formulas, errors, styles of numeric cells, merged ranges."""
    scan = SheetScan()
    row_no = 0
    col_no = 0
    try:
        with pkg.open_part(part) as fh:
            for event, el in SafeET.iterparse(fh, events=("start", "end"), forbid_dtd=True):
                tag = _local(el.tag)
                if event == "start":
                    if tag == "row":
                        r = el.get("r")
                        row_no = int(r) if r and r.isdigit() else row_no + 1
                        col_no = 0
                    continue
                if tag == "c":
                    ref = parse_ref(el.get("r", ""))
                    if ref:
                        row_no, col_no = ref
                    else:
                        col_no += 1
                    scan.max_row = max(scan.max_row, row_no)
                    scan.max_col = max(scan.max_col, col_no)
                    t = el.get("t", "n")
                    f = v = None
                    for child in el:
                        ctag = _local(child.tag)
                        if ctag == "f":
                            f = child
                        elif ctag == "v":
                            v = child
                    has_value = v is not None and (v.text or "") != ""
                    if f is not None or t == "e" or (t == "n" and has_value and el.get("s")):
                        scan.cells[(row_no, col_no)] = CellInfo(
                            formula=(f.text or "(shared formula)") if f is not None else None,
                            has_value=has_value or t == "inlineStr",
                            error=(v.text if v is not None else "#ERROR") if t == "e" else None,
                            style=int(el.get("s", "0") or 0),
                        )
                    el.clear()
                elif tag == "row":
                    el.clear()
                elif tag == "mergeCell":
                    a, _, b = el.get("ref", "").partition(":")
                    p, q = parse_ref(a), parse_ref(b or a)
                    if p and q:
                        scan.merges.append((min(p[0], q[0]), min(p[1], q[1]), max(p[0], q[0]), max(p[1], q[1])))
                elif tag == "sheetData":
                    el.clear()
    except Unreadable:
        raise
    except Exception as exc:  # malformed XML, a DTD, a damaged part
        raise Unreadable("corrupt-file", f"the sheet part {part} cannot be read ({exc}); open the file in "
                         "Excel, save it again and resend") from None
    return scan


def percent_styles(pkg: Package) -> set[int]:
    """Indices of the cell styles whose number format shows a percentage (built-in 9, 10 or a '%' format)."""
    if not pkg.styles_part:
        return set()
    try:
        root = SafeET.fromstring(pkg.read_part(pkg.styles_part), forbid_dtd=True)
    except Exception:
        return set()
    percent_ids = {9, 10}
    for el in root.iter():
        if _local(el.tag) == "numFmt":
            code = re.sub(r'"[^"]*"|\\.', "", el.get("formatCode", ""))
            if "%" in code:
                try:
                    percent_ids.add(int(el.get("numFmtId", "-1")))
                except ValueError:
                    pass
    out: set[int] = set()
    for el in root.iter():
        if _local(el.tag) == "cellXfs":
            for k, xf in enumerate(x for x in el if _local(x.tag) == "xf"):
                try:
                    if int(xf.get("numFmtId", "0")) in percent_ids:
                        out.add(k)
                except ValueError:
                    pass
            break
    return out
