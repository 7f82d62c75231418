"""The quarterly return workbook, generated from the measure definitions and the board configuration.

An "About" sheet says whose return it is and for which quarter (the checker reads the agency code and period
from it), and how to fill it in. A "Return" sheet has one row per measure the agency returns, with the
definition, the unit, last quarter's figure for reference, and the two cells an agency may type in: Value
and Note. Everything else is locked (sheet protection without a password: it prevents accidents, not
determined edits, and the checker does not rely on it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.engine import Engine

from etl.returns import layout as L
from etl.safe_cells import escape_cell
from indicators.board import Board
from indicators.definitions import Library, MeasureKind
from indicators.periods import Quarter

__all__ = ["build_template", "fill_values", "previous_values", "write_template", "write_templates"]

_NAVY = "1F3864"
_INPUT = "FFF2CC"  # pale yellow: "type here"
_GREY = "F2F2F2"
_thin = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
_HEADER_FONT = Font(bold=True, color="FFFFFF", size=11)
_HEADER_FILL = PatternFill("solid", fgColor=_NAVY)
_INPUT_FILL = PatternFill("solid", fgColor=_INPUT)
_REF_FILL = PatternFill("solid", fgColor=_GREY)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_UNLOCKED = Protection(locked=False)

_WIDTHS = {L.CODE: 24, L.MEASURE: 34, L.DEFINITION: 62, L.UNIT: 17, L.LAST_QUARTER: 13, L.VALUE: 13, L.NOTE: 40}

_INSTRUCTIONS = [
    "Type each figure in the yellow Value cell of the Return sheet. Only the Value and Note cells can be "
    "edited; do not add, delete or reorder rows, and do not change the codes.",
    "Counts and snapshots are whole numbers, 0 or more. Totals (e.g. days) may have decimals. Percentages "
    "are 0 to 100, typed without the % sign.",
    "Give the exact figure even when it is small: the board's data is not published. If your agency's rules "
    "require it, type c instead (suppressed).",
    "If you cannot supply a figure, leave the Value cell blank and say why in the Note cell. Do not type "
    "n/a, TBC or 0 for 'not known'.",
    "The Contact (yellow, on this sheet) is who the partnership should ask about these figures; change it if "
    "needed.",
    "Use the Note cell to explain anything unusual (a change of recording, a system problem, a sharp rise).",
    "Last quarter's figure, as the partnership holds it, is shown for reference. If it was wrong, say so in "
    "the Note and send a corrected return for that quarter.",
    "Save as an Excel Workbook (.xlsx) and send it by the due date. A corrected return can be sent at any "
    "time: it replaces the earlier one and the change is recorded.",
]


def build_template(board: Board, library: Library, agency_code: str, quarter: Quarter,
                   previous: dict[str, float | None] | None = None, contact: str | None = None) -> Workbook:
    """The return workbook for one agency and quarter; ``previous`` gives last quarter's figures by code."""
    agency = board.agency(agency_code)
    quarter = Quarter.parse(quarter)
    measures = [library.measures[code] for code in agency.measures]
    previous = previous or {}
    contact = contact if contact is not None else agency.contact

    wb = Workbook()
    about = wb.active
    about.title = L.ABOUT_SHEET
    ws = wb.create_sheet(L.RETURN_SHEET)
    _about_sheet(about, board, agency, quarter, contact, len(measures))
    _return_sheet(ws, agency, quarter, measures, previous)
    wb.properties.title = f"{board.name}: quarterly return, {agency.name}, {quarter.label}"
    wb.properties.creator = "oba"
    wb.properties.subject = f"{agency.code} {quarter.label}"
    wb.properties.keywords = L.TEMPLATE_VERSION
    wb.active = 0
    _escape_text(wb)
    return wb


def _escape_text(wb: Workbook) -> None:
    """Make every text cell safe to open: board, agency, contact and measure text are typed by people, and
    openpyxl would save text beginning with "=" as a formula (OWASP CSV/formula injection; ``etl.safe_cells``).
    The template has no formulas of its own; numbers are not touched."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = escape_cell(cell.value)


def _about_sheet(ws, board: Board, agency, quarter: Quarter, contact: str | None, n_measures: int) -> None:
    ws.sheet_properties.tabColor = _NAVY
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 90
    ws["A1"] = board.name
    ws["A1"].font = Font(bold=True, size=16, color=_NAVY)
    ws["A2"] = f"Quarterly return for {quarter.label}"
    ws["A2"].font = Font(bold=True, size=13)
    due = agency.due_date(quarter)
    rows = [
        (L.AGENCY_CODE_LABEL, agency.code),
        (L.AGENCY_NAME_LABEL, agency.name),
        (L.PERIOD_LABEL, quarter.label),
        ("Quarter covers", f"{_long_date(quarter.start)} to {_long_date(quarter.end)}"),
        ("Return due by", f"{_long_date(due)} ({agency.due})"),
        (L.CONTACT_LABEL, contact or ""),
        (L.COMMENTARY_LABEL, ""),
        ("Measures", f"{n_measures} on the Return sheet"),
        ("Template", f"{L.TEMPLATE_VERSION}, made {dt.date.today().isoformat()}"),
    ]
    for n, (label, value) in enumerate(rows, start=4):
        a, b = ws.cell(n, 1, label), ws.cell(n, 2, value)
        a.font = Font(bold=True)
        for c in (a, b):
            c.border = _BORDER
            c.alignment = Alignment(vertical="top")
        if label in (L.CONTACT_LABEL, L.COMMENTARY_LABEL):
            b.fill = _INPUT_FILL
            b.protection = _UNLOCKED
        if label == L.COMMENTARY_LABEL:  # the agency's own analysis of its figures this quarter, optional
            b.alignment = _WRAP_TOP
            ws.row_dimensions[n].height = 60
    start = 4 + len(rows) + 1
    ws.cell(start, 1, "How to fill it in").font = Font(bold=True, size=13, color=_NAVY)
    for k, text in enumerate(_INSTRUCTIONS, start=1):
        ws.cell(start + k, 1, f"{k}.").alignment = Alignment(horizontal="right", vertical="top")
        cell = ws.cell(start + k, 2, text)
        cell.alignment = _WRAP_TOP
        ws.row_dimensions[start + k].height = 32
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.sheet_view.showGridLines = False


def _return_sheet(ws, agency, quarter: Quarter, measures, previous: dict[str, float | None]) -> None:
    ws.sheet_properties.tabColor = "C00000"
    ws["A1"] = f"{agency.name}: {quarter.label}"
    ws["A1"].font = Font(bold=True, size=14, color=_NAVY)
    ws["A2"] = ("Type each figure in the yellow Value column; add a note where it helps. Codes, names and "
                "definitions are locked. See the About sheet for instructions.")
    ws["A2"].font = Font(italic=True, color="595959")
    header = L.HEADER_ROW
    labels = {L.LAST_QUARTER: f"{L.LAST_QUARTER} ({(quarter - 1).label})"}
    for col, name in enumerate(L.COLUMNS, start=1):
        cell = ws.cell(header, col, labels.get(name, name))
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cell.border = _BORDER
        ws.column_dimensions[get_column_letter(col)].width = _WIDTHS[name]
    ws.row_dimensions[header].height = 30
    col = {name: k for k, name in enumerate(L.COLUMNS, start=1)}

    validations = _validations()
    for row, m in enumerate(measures, start=header + 1):
        ws.cell(row, col[L.CODE], m.code)
        ws.cell(row, col[L.MEASURE], m.name)
        ws.cell(row, col[L.DEFINITION], m.definition)
        ws.cell(row, col[L.UNIT], L.unit_text(m))
        prev = previous.get(m.code)
        ws.cell(row, col[L.LAST_QUARTER], prev)
        for name in L.COLUMNS:
            c = ws.cell(row, col[name])
            c.border = _BORDER
            c.alignment = _WRAP_TOP
        ws.cell(row, col[L.CODE]).font = Font(name="Consolas", size=10)
        ws.cell(row, col[L.MEASURE]).font = Font(bold=True)
        ws.cell(row, col[L.LAST_QUARTER]).fill = _REF_FILL
        ws.cell(row, col[L.LAST_QUARTER]).number_format = "#,##0.##" if not m.whole_number else "#,##0"
        value = ws.cell(row, col[L.VALUE])
        value.fill = _INPUT_FILL
        value.protection = _UNLOCKED
        value.number_format = "0.0" if m.kind == MeasureKind.percentage else "General"
        value.alignment = Alignment(vertical="top", horizontal="right")
        note = ws.cell(row, col[L.NOTE])
        note.fill = _INPUT_FILL
        note.protection = _UNLOCKED
        validations[m.kind].add(value.coordinate)
        # Definitions wrap; give each row room for them so nothing is cut off when printed.
        ws.row_dimensions[row].height = max(30, 15 * (len(m.definition) // 70 + 1))
    for dv in validations.values():
        if dv.sqref:
            ws.add_data_validation(dv)

    ws.freeze_panes = ws.cell(header + 1, col[L.DEFINITION])
    ws.print_title_rows = f"{header}:{header}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _validations() -> dict[MeasureKind, DataValidation]:
    """Excel's own checks as the agency types. 'Warning' style: a suppression marker can still be typed."""
    hint = " Type c if the figure is suppressed; leave blank (and add a note) if you cannot supply it."

    def dv(type_: str, operator: str, f1: str, f2: str | None, title: str, message: str) -> DataValidation:
        return DataValidation(type=type_, operator=operator, formula1=f1, formula2=f2, allow_blank=True,
                              showErrorMessage=True, showInputMessage=True, errorStyle="warning",
                              errorTitle=title, error=message + hint, promptTitle=title, prompt=message)

    whole = dv("whole", "greaterThanOrEqual", "0", None, "Whole number", "A whole number, 0 or more.")
    return {
        MeasureKind.count: whole,
        MeasureKind.snapshot: dv("whole", "greaterThanOrEqual", "0", None, "Whole number at quarter end",
                                 "A whole number, 0 or more, on the last day of the quarter."),
        MeasureKind.total: dv("decimal", "greaterThanOrEqual", "0", None, "Total",
                              "A number, 0 or more; decimals are allowed."),
        MeasureKind.percentage: dv("decimal", "between", "0", "100", "Percentage",
                                   "A percentage from 0 to 100, without the % sign."),
    }


def _long_date(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def _return_columns(ws) -> tuple[int, dict[str, int]]:
    """(header row, {label: column}) of a template's Return sheet, found by the labels."""
    for row in ws.iter_rows(min_row=1, max_row=L.HEADER_SEARCH_ROWS):
        labels = {str(c.value).strip().lower(): c.column for c in row if isinstance(c.value, str)}
        if L.CODE.lower() in labels and L.VALUE.lower() in labels:
            return row[0].row, labels
    raise ValueError("the workbook has no Return sheet header row with Code and Value")


def fill_values(workbook: Workbook, values: dict[str, object], notes: dict[str, str] | None = None) -> None:
    """Write figures (anything a person might type: numbers, 'c', 'n/a', '=A1') into the Value cells by code."""
    ws = workbook[L.RETURN_SHEET]
    header, labels = _return_columns(ws)
    code_col, value_col = labels[L.CODE.lower()], labels[L.VALUE.lower()]
    note_col = labels.get(L.NOTE.lower())
    rows = {}
    for r in range(header + 1, ws.max_row + 1):
        code = ws.cell(r, code_col).value
        if isinstance(code, str) and code.strip():
            rows[code.strip()] = r
    for code, value in values.items():
        if code not in rows:
            raise KeyError(f"the Return sheet has no row for {code}")
        ws.cell(rows[code], value_col).value = value
    for code, note in (notes or {}).items():
        if code not in rows:
            raise KeyError(f"the Return sheet has no row for {code}")
        if note_col is None:
            raise KeyError("the Return sheet has no Note column")
        ws.cell(rows[code], note_col).value = note


def previous_values(engine: Engine, agency_code: str, quarter: Quarter) -> dict[str, float | None]:
    """The figures of the agency's current return for the quarter before ``quarter`` (empty if none)."""
    from etl.store import ReturnValue, ReturnVersion

    prev = Quarter.parse(quarter) - 1
    stmt = (select(ReturnValue.measure_code, ReturnValue.value)
            .join(ReturnVersion, ReturnValue.return_id == ReturnVersion.id)
            .where(ReturnVersion.agency_code == agency_code, ReturnVersion.period == prev.label,
                   ReturnVersion.is_current.is_(True)))
    with engine.connect() as conn:
        return {code: value for code, value in conn.execute(stmt)}


def write_template(board: Board, library: Library, agency_code: str, quarter: Quarter, path: Path,
                   engine: Engine | None = None) -> Path:
    """Build and save one template; last quarter's figures come from ``engine`` when given."""
    previous = previous_values(engine, agency_code, quarter) if engine is not None else None
    wb = build_template(board, library, agency_code, quarter, previous)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_templates(board: Board, library: Library, quarter: Quarter, directory: Path,
                    engine: Engine | None = None) -> list[Path]:
    """One template per agency of the board, named like ``CSC_2025-26_Q2.xlsx``."""
    return [write_template(board, library, a.code, quarter, Path(directory) / L.file_name(a.code, quarter), engine)
            for a in board.agencies]
