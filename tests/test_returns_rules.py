"""Each validation rule on its own (``parse_figure``), and the lenient cases: files that load, with warnings."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from etl.returns.reader import check_file, parse_figure
from etl.returns.template import build_template, fill_values
from indicators.periods import Quarter

Q = Quarter(2025, 2)
TODAY = dt.date(2026, 1, 15)
POL = {"POL_MISSING_EPISODES": 455, "POL_RHI_ELIGIBLE": 400, "POL_RHI_72H": 310, "POL_CSE_CRIMES": 12,
       "POL_DA_CHILDREN": 260}


# --- one rule at a time ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, value, status, raw_kept, codes", [
    (12, 12.0, "ok", None, []),
    (12.0, 12.0, "ok", None, []),
    (0, 0.0, "ok", None, []),
    ("12", 12.0, "ok", "12", ["number-as-text"]),
    (" 1,234 ", 1234.0, "ok", "1,234", ["number-as-text"]),
    ("1 234", 1234.0, "ok", "1 234", ["number-as-text"]),
    ("1\u00a0234", 1234.0, "ok", "1 234", ["number-as-text"]),
    ("+7", 7.0, "ok", "+7", ["number-as-text"]),
    ("c", None, "suppressed", "c", ["suppressed"]),
    ("[c]", None, "suppressed", "[c]", ["suppressed"]),
    ("C", None, "suppressed", "C", ["suppressed"]),
    ("x", None, "suppressed", "x", ["suppressed"]),
    ("z", None, "suppressed", "z", ["suppressed"]),
    ("*", None, "suppressed", "*", ["suppressed"]),
    ("<5", None, "suppressed", "<5", ["suppressed"]),
    ("< 6", None, "suppressed", "< 6", ["suppressed"]),
    (None, None, "blank", None, ["blank-value"]),
    ("", None, "blank", None, ["blank-value"]),
    ("   ", None, "blank", None, ["blank-value"]),
])
def test_count_figures_accepted(library, raw, value, status, raw_kept, codes):
    out = parse_figure(raw, library.measures["CSC_REFERRALS"])
    assert (out.value, out.status, out.raw, out.valid) == (value, status, raw_kept, True)
    assert [c for c, _ in out.issues] == codes


@pytest.mark.parametrize("raw, code", [
    ("n/a", "not-a-number"), ("TBC", "not-a-number"), ("N/A ", "not-a-number"), ("-", "not-a-number"),
    ("1.234,5", "not-a-number"), ("12 34", "not-a-number"), ("twelve", "not-a-number"), (True, "not-a-number"),
    ("12%", "not-a-number"), (-1, "negative-value"), ("-1", "negative-value"), (12.5, "not-whole-number"),
    ("12.5", "not-whole-number"), (dt.date(2025, 1, 3), "date-value"), (dt.datetime(2025, 1, 3, 9), "date-value"),
    (dt.time(10, 30), "date-value"), (float("inf"), "not-a-number"),
])
def test_count_figures_rejected(library, raw, code):
    out = parse_figure(raw, library.measures["CSC_REFERRALS"])
    assert not out.valid
    assert [c for c, _ in out.issues][-1] == code
    message = out.issues[-1][1]
    assert "whole number" in message or "found" in message or "date" in message


def test_messages_say_what_was_found_and_what_is_expected(library):
    out = parse_figure("n/a", library.measures["CSC_REFERRALS"])
    assert out.issues[0][1].startswith("found the text 'n/a' where a whole number, 0 or more is expected")
    assert "use c if it is suppressed" in out.issues[0][1]
    out = parse_figure(2.5, library.measures["CSC_CPP_AT_END"])
    assert "found 2.5" in out.issues[0][1] and "whole numbers" in out.issues[0][1]


def test_totals_allow_decimals_but_not_negatives(library):
    days = library.measures["CSC_ASSESS_DAYS"]
    assert parse_figure(1234.5, days).value == 1234.5 and parse_figure(1234.5, days).valid
    assert [c for c, _ in parse_figure(-0.5, days).issues] == ["negative-value"]


@pytest.mark.parametrize("raw, pct_format, value, codes, valid", [
    (85, False, 85.0, [], True),
    (85.5, False, 85.5, [], True),
    ("85%", False, 85.0, ["percent-sign"], True),
    ("85.5 %", False, 85.5, ["percent-sign"], True),
    (0.85, True, 85.0, ["percent-format"], True),
    (1.2, True, 120.0, ["percent-format", "out-of-range"], False),
    (0.5, False, 0.5, ["small-percentage"], True),
    (100, False, 100.0, [], True),
    (120, False, 120.0, ["out-of-range"], False),
    ("120%", False, 120.0, ["percent-sign", "out-of-range"], False),
    (-5, False, -5.0, ["negative-value"], False),
])
def test_percentage_figures(library, raw, pct_format, value, codes, valid):
    out = parse_figure(raw, library.measures["SCP_EVAL_GOOD_PCT"], percent_format=pct_format)
    assert (out.value, [c for c, _ in out.issues], out.valid) == (value, codes, valid)


# --- files that load, with warnings --------------------------------------------------------------------------

def _pol(tmp_path: Path, board, library, values=None, fn=None, agency="POL", name="r.xlsx") -> Path:
    wb = build_template(board, library, agency, Q)
    fill_values(wb, (POL if agency == "POL" else {}) | (values or {}))
    if fn:
        fn(wb)
    wb.save(tmp_path / name)
    return tmp_path / name


def _delete_row(wb):
    wb["Return"].delete_rows(8)


def _reverse_rows(wb):
    ws = wb["Return"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=5, max_row=9)]
    for r, values in zip(range(5, 10), reversed(rows), strict=True):
        for c, v in enumerate(values, start=1):
            ws.cell(r, c).value = v


def _extra_sheets(wb):
    wb.create_sheet("Notes")["A1"] = "Our own working: 455 - 3 duplicates"
    copy = wb.copy_worksheet(wb["Return"])
    copy.title = "Return (2)"


def _rename_return(wb):
    wb["Return"].title = "Sheet1"


def _decorative_merges(wb):
    ws = wb["Return"]
    ws.merge_cells("A1:G1")
    ws.merge_cells("B5:B6")  # measure names, not codes or values
    ws.merge_cells("F9:G9")  # value and note of one row: the value stays in F9


def _rows_inserted_above(wb):
    wb["Return"].insert_rows(1, amount=3)


def _lowercase_code(wb):
    wb["Return"]["A8"] = " pol_cse_crimes "


def _footnote(wb):
    wb["Return"]["A12"] = "Figures from the Niche extract of 3 October."


@pytest.mark.parametrize("case, values, fn, expected", [
    ("thousands", {"POL_MISSING_EPISODES": "1,455", "POL_RHI_ELIGIBLE": "1 400"}, None,
     [("number-as-text", "F5"), ("number-as-text", "F6")]),
    ("suppressed", {"POL_CSE_CRIMES": "[c]", "POL_DA_CHILDREN": "<5"}, None,
     [("suppressed", "F8"), ("suppressed", "F9")]),
    ("blank", {"POL_CSE_CRIMES": None}, None, [("blank-value", "F8")]),
    ("deleted-row", None, _delete_row, [("measure-missing", None)]),
    ("reordered-rows", None, _reverse_rows, []),
    ("extra-sheets", None, _extra_sheets, [("extra-return-sheet", None)]),
    ("renamed-return-sheet", None, _rename_return, [("return-sheet-renamed", None)]),
    ("decorative-merges", None, _decorative_merges, []),
    ("header-moved-down", None, _rows_inserted_above, []),
    ("lowercase-code", None, _lowercase_code, []),
    ("footnote-below-table", None, _footnote, []),
])
def test_lenient_cases_load_with_warnings(board, library, tmp_path, case, values, fn, expected):
    res = check_file(_pol(tmp_path, board, library, values, fn), board, library, today=TODAY)
    assert res.ok, [str(i) for i in res.issues]
    assert [(i.code, i.cell) for i in res.issues] == expected
    assert list(res.values) == list(POL)  # always every measure, in the board's order
    expected_values = {**POL, **{k: v for k, v in (values or {}).items()}}
    if case == "thousands":
        assert res.values["POL_MISSING_EPISODES"].value == 1455 and res.values["POL_RHI_ELIGIBLE"].value == 1400
    elif case == "suppressed":
        assert (res.values["POL_CSE_CRIMES"].status, res.values["POL_CSE_CRIMES"].raw) == ("suppressed", "[c]")
        assert res.values["POL_DA_CHILDREN"].value is None
    elif case in ("blank", "deleted-row"):
        assert res.values["POL_CSE_CRIMES"].status == "blank"
    else:
        assert {c: v.value for c, v in res.values.items()} == {c: float(v) for c, v in expected_values.items()}


def test_header_moved_down_reports_shifted_cells(board, library, tmp_path):
    res = check_file(_pol(tmp_path, board, library, {"POL_CSE_CRIMES": "n/a"}, _rows_inserted_above), board,
                     library, today=TODAY)
    assert [(i.code, i.cell) for i in res.issues] == [("not-a-number", "F11")]


def test_percent_typed_in_excel_is_read_as_percentage(board, library, tmp_path):
    from etl.returns.samples import sample_values

    values = sample_values(board, library, "SCP", Q) | {"SCP_EVAL_GOOD_PCT": 0.875}

    def pct_format(wb):
        wb["Return"]["F9"].number_format = "0.0%"
    res = check_file(_pol(tmp_path, board, library, values, pct_format, agency="SCP"), board, library, today=TODAY)
    assert [(i.code, i.cell) for i in res.issues] == [("percent-format", "F9")]
    assert res.values["SCP_EVAL_GOOD_PCT"].value == 87.5


def test_formula_with_saved_value_is_read(board, library, tmp_path):
    path = _pol(tmp_path, board, library)
    with zipfile.ZipFile(path) as z:
        items = {i.filename: z.read(i.filename) for i in z.infolist()}
    xml = items["xl/worksheets/sheet2.xml"].decode()
    start = xml.index('<c r="F8"')
    end = xml.index("</c>", start) + 4
    xml = xml[:start] + '<c r="F8"><f>6+6</f><v>12</v></c>' + xml[end:]
    items["xl/worksheets/sheet2.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in items.items():
            z.writestr(name, data)
    res = check_file(path, board, library, today=TODAY)
    assert res.ok and res.issues == []
    assert res.values["POL_CSE_CRIMES"].value == 12


def test_period_not_ended_is_a_warning(board, library, tmp_path):
    res = check_file(_pol(tmp_path, board, library), board, library, today=dt.date(2025, 9, 1))
    assert [(i.code, i.cell) for i in res.issues] == [("period-not-ended", "B6")]
    assert res.ok


def test_about_missing_with_expected_agency_and_period_is_a_warning(board, library, tmp_path):
    def drop(wb):
        del wb["About"]
    path = _pol(tmp_path, board, library, fn=drop)
    res = check_file(path, board, library, "POL", "2025-26 Q2", today=TODAY)
    assert [(i.level, i.code) for i in res.issues] == [("warning", "about-missing")]
    assert (res.agency, res.period) == ("POL", Q)


def test_notes_and_contact_are_read(board, library, tmp_path):
    def note(wb):
        wb["Return"]["G8"] = "Two crimes re-flagged after audit."
        wb["About"]["B9"] = "analyst@police.example"
    res = check_file(_pol(tmp_path, board, library, fn=note), board, library, today=TODAY)
    assert res.values["POL_CSE_CRIMES"].note == "Two crimes re-flagged after audit."
    assert res.contact == "analyst@police.example"
