"""The return template: generated from the definitions and the board, protected, validated, round-trips."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from etl.returns import layout as L
from etl.returns.load import load_file
from etl.returns.reader import check_file
from etl.returns.samples import sample_values
from etl.returns.status import return_status
from etl.returns.template import build_template, fill_values, previous_values, write_templates
from indicators.periods import Quarter

Q = Quarter(2025, 2)
TODAY = dt.date(2026, 1, 15)


def _header(ws) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[L.HEADER_ROW] if c.value}


@pytest.mark.parametrize("agency", ["CSC", "POL", "SCP", "YJS"])
def test_template_has_one_row_per_measure_in_board_order(board, library, agency, tmp_path):
    wb = build_template(board, library, agency, Q)
    assert wb.sheetnames == [L.ABOUT_SHEET, L.RETURN_SHEET]
    ws = wb[L.RETURN_SHEET]
    cols = _header(ws)
    assert {"Code", "Value", "Measure", "Definition", "Unit", "Note"} <= set(cols)
    assert "Last quarter (2025-26 Q1)" in cols
    codes = [ws.cell(r, cols["Code"]).value for r in range(L.HEADER_ROW + 1, ws.max_row + 1)]
    assert codes == board.agency(agency).measures
    for r, code in enumerate(codes, start=L.HEADER_ROW + 1):
        assert ws.cell(r, cols["Definition"]).value == library.measures[code].definition
        assert ws.cell(r, cols["Definition"]).alignment.wrap_text


def test_template_protection_only_value_and_note_unlocked(board, library):
    wb = build_template(board, library, "CSC", Q)
    ws = wb[L.RETURN_SHEET]
    cols = _header(ws)
    assert ws.protection.sheet and not ws.protection.password
    for r in range(1, ws.max_row + 1):
        for c in range(1, ws.max_column + 1):
            unlocked = not ws.cell(r, c).protection.locked
            expected = r > L.HEADER_ROW and c in (cols["Value"], cols["Note"])
            assert unlocked == expected, ws.cell(r, c).coordinate
    assert ws.freeze_panes == f"C{L.HEADER_ROW + 1}"
    assert wb[L.ABOUT_SHEET].protection.sheet


def test_template_validation_by_kind(board, library):
    ws = build_template(board, library, "SCP", Q)[L.RETURN_SHEET]
    cols = _header(ws)
    by_cell = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.errorStyle == "warning"  # a suppression marker can still be typed
        for rng in dv.sqref.ranges:
            by_cell[rng.coord] = (dv.type, dv.operator, dv.formula1, dv.formula2)
    for r in range(L.HEADER_ROW + 1, ws.max_row + 1):
        code = ws.cell(r, cols["Code"]).value
        ref = ws.cell(r, cols["Value"]).coordinate
        kind = library.measures[code].kind.value
        expected = {"count": ("whole", "greaterThanOrEqual", "0", None),
                    "snapshot": ("whole", "greaterThanOrEqual", "0", None),
                    "total": ("decimal", "greaterThanOrEqual", "0", None),
                    "percentage": ("decimal", "between", "0", "100")}[kind]
        assert by_cell[ref] == expected, code


def test_about_sheet_names_agency_period_contact(board, library):
    wb = build_template(board, library, "CSC", Q, contact="someone@example.org")
    about = wb[L.ABOUT_SHEET]
    pairs = {about.cell(r, 1).value: about.cell(r, 2).value for r in range(1, 20)}
    assert pairs[L.AGENCY_CODE_LABEL] == "CSC"
    assert pairs[L.PERIOD_LABEL] == "2025-26 Q2"
    assert pairs[L.CONTACT_LABEL] == "someone@example.org"
    assert "28 October 2025" in pairs["Return due by"]


def test_previous_values_shown_for_reference(board, library):
    ws = build_template(board, library, "POL", Q, previous={"POL_MISSING_EPISODES": 455.0})[L.RETURN_SHEET]
    cols = _header(ws)
    last = cols["Last quarter (2025-26 Q1)"]
    assert ws.cell(L.HEADER_ROW + 1, last).value == 455
    assert ws.cell(L.HEADER_ROW + 2, last).value is None


def test_fill_values_unknown_code(board, library):
    wb = build_template(board, library, "POL", Q)
    with pytest.raises(KeyError, match="CSC_REFERRALS"):
        fill_values(wb, {"CSC_REFERRALS": 1})


def test_round_trip_template_fill_check_load_status(board, library, engine, tmp_path):
    """template -> fill_values -> check -> load -> status, and the next template shows these figures."""
    values = sample_values(board, library, "EH", Q)
    wb = build_template(board, library, "EH", Q)
    fill_values(wb, values, notes={"EH_STEP_UP": "New step-up panel from August."})
    path = tmp_path / L.file_name("EH", Q)
    wb.save(path)

    checked = check_file(path, board, library, today=TODAY)
    assert checked.ok and checked.issues == []
    assert (checked.agency, checked.period) == ("EH", Q)
    assert {c: v.value for c, v in checked.values.items()} == {c: float(v) for c, v in values.items()}
    assert checked.values["EH_STEP_UP"].note == "New step-up panel from August."
    assert checked.contact is None  # EH has no contact in the demo board

    result = load_file(engine, board, library, path, "analyst", dt.date(2025, 10, 10), today=TODAY)
    assert (result.outcome, result.version) == ("loaded", 1)

    df = return_status(engine, board, [Q], today=TODAY)
    row = df[df.agency_code == "EH"].iloc[0]
    assert (row.status, row.received_on, row.warnings, row.missing_measures) == ("received", dt.date(2025, 10, 10), 0, [])

    nxt = previous_values(engine, "EH", Q + 1)
    assert nxt == {c: float(v) for c, v in values.items()}
    ws = build_template(board, library, "EH", Q + 1, nxt)[L.RETURN_SHEET]
    assert ws.cell(L.HEADER_ROW + 1, _header(ws)["Last quarter (2025-26 Q2)"]).value == values["EH_ASSESSMENTS"]


def test_write_templates_all_agencies(board, library, tmp_path):
    paths = write_templates(board, library, Q, tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{a.code}_2025-26_Q2.xlsx" for a in board.agencies)
    wb = openpyxl.load_workbook(paths[0])
    assert wb.sheetnames == [L.ABOUT_SHEET, L.RETURN_SHEET]
