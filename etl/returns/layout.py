"""The shape of a return workbook, shared by the template writer and the checker so they cannot disagree."""

from __future__ import annotations

import re

from indicators.definitions import Measure, MeasureKind

ABOUT_SHEET = "About"
RETURN_SHEET = "Return"

# Return sheet headings. The checker finds the header row by the Code and Value labels, never by position.
CODE = "Code"
MEASURE = "Measure"
DEFINITION = "Definition"
UNIT = "Unit"
LAST_QUARTER = "Last quarter"
VALUE = "Value"
NOTE = "Note"
COLUMNS = [CODE, MEASURE, DEFINITION, UNIT, LAST_QUARTER, VALUE, NOTE]
HEADER_ROW = 4  # where the template puts it; the checker searches the first HEADER_SEARCH_ROWS rows
HEADER_SEARCH_ROWS = 50

# About sheet labels (column A); the value is the next filled cell to the right.
AGENCY_CODE_LABEL = "Agency code"
AGENCY_NAME_LABEL = "Agency"
PERIOD_LABEL = "Period"
CONTACT_LABEL = "Contact"
COMMENTARY_LABEL = "Commentary"  # the agency's own analysis of its quarter (optional), shown beside its figures
COMMENTARY_LIMIT = 4000

TEMPLATE_VERSION = "oba-return-1"

# Suppression markers (Government Statistical Service symbols and common local ones). "<5", "< 6" etc. too.
SUPPRESSION_MARKERS = frozenset({"c", "[c]", "x", "[x]", "z", "[z]", "*", "**", "[k]", "k"})
SMALL_NUMBER_MARKER = re.compile(r"^<\s*\d{1,2}$")


def is_suppression_marker(text: str) -> bool:
    t = text.strip().lower()
    return t in SUPPRESSION_MARKERS or bool(SMALL_NUMBER_MARKER.match(t))


def unit_text(measure: Measure) -> str:
    """What the Unit column says for a measure."""
    return {
        MeasureKind.count: "Number (whole)",
        MeasureKind.snapshot: "Number at quarter end (whole)",
        MeasureKind.total: "Total (decimals allowed)",
        MeasureKind.percentage: "Percentage, 0 to 100",
    }[measure.kind]


def expected_text(measure: Measure) -> str:
    """What a Value cell should hold, for messages."""
    return {
        MeasureKind.count: "a whole number, 0 or more",
        MeasureKind.snapshot: "a whole number, 0 or more",
        MeasureKind.total: "a number, 0 or more",
        MeasureKind.percentage: "a percentage from 0 to 100 (without the % sign)",
    }[measure.kind]


def file_name(agency_code: str, quarter) -> str:
    """The template's file name, e.g. ``CSC_2025-26_Q2.xlsx``."""
    return f"{agency_code}_{quarter.fy_label}_Q{quarter.q}.xlsx"


def fmt_number(value: float | None) -> str:
    """A figure as people write it: 12, 12.5, 1234 (no trailing .0)."""
    if value is None:
        return "blank"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}"
