"""Files the project writes are safe to open in a spreadsheet: returns templates and the audit export escape
text that a spreadsheet would run as a formula (OWASP CSV injection), and numbers stay numbers. (The
benchmark export is checked in test_benchmark_shapes.py.)"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from etl.audit import write_csv
from etl.returns import layout as L
from etl.returns.load import load_file
from etl.returns.samples import sample_values
from etl.returns.template import build_template, fill_values
from indicators.periods import Quarter

Q = Quarter(2025, 2)
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _board_with_formulas(board):
    agencies = [a.model_copy(update={"name": "=HYPERLINK(\"http://example.invalid\",\"Children's services\")"})
                if a.code == "CSC" else a for a in board.agencies]
    return board.model_copy(update={"name": "@SUM(1+1) partnership", "agencies": agencies})


def test_the_returns_template_escapes_text_typed_by_people(board, library, tmp_path):
    hostile = _board_with_formulas(board)
    wb = build_template(hostile, library, "CSC", Q, contact="-cmd|' /C calc'!A0", previous={})
    path = tmp_path / "CSC.xlsx"
    wb.save(path)
    saved = openpyxl.load_workbook(path)
    formulas = [c.coordinate for ws in saved.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []
    about = saved[L.ABOUT_SHEET]
    pairs = {about.cell(r, 1).value: about.cell(r, 2).value for r in range(1, 20)}
    assert about["A1"].value == "'@SUM(1+1) partnership"
    assert pairs[L.AGENCY_NAME_LABEL] == "'=HYPERLINK(\"http://example.invalid\",\"Children's services\")"
    assert pairs[L.CONTACT_LABEL] == "'-cmd|' /C calc'!A0"
    text = [c.value for ws in saved.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert [t for t in text if t.startswith(TRIGGERS)] == []


def test_an_escaped_template_still_loads(board, library, engine, tmp_path):
    wb = build_template(board, library, "CSC", Q, contact="=not a formula")
    fill_values(wb, sample_values(board, library, "CSC", Q))
    path = tmp_path / "CSC_2025-26_Q2.xlsx"
    wb.save(path)
    result = load_file(engine, board, library, path, user="analyst", received_on=dt.date(2025, 10, 20))
    assert result.outcome == "loaded", [str(i) for i in result.issues]


def test_the_audit_export_escapes_text_and_keeps_signed_numbers():
    out = io.StringIO()
    write_csv([{"action": "returns.load", "target": "=cmd", "detail": "-12.5", "actor": "@ann"}], out)
    lines = out.getvalue().splitlines()
    row = lines[1].split(",")
    assert "'=cmd" in row and "-12.5" in row and "'@ann" in row
