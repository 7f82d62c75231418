"""Check a quarterly return workbook: every problem at once, each naming the file, sheet, cell and measure.

Lenient where the meaning is certain (with a warning): spaces, thousands separators, "12%" in a percentage
measure, suppression markers. Strict where a figure would be wrong (an error, and nothing is loaded): other
text, negative counts, fractions of people, dates, formulas with no saved result, a part larger than its
whole, unknown or repeated codes, the wrong agency or quarter. Nothing is written here; ``load`` does that.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils import get_column_letter
from python_calamine import CalamineWorkbook

from etl.returns import layout as L
from etl.returns.issues import ERROR, WARNING, Issue, make_issue
from etl.returns.package import LIMITS, Limits, Package, Unreadable, open_package
from etl.returns.sheetscan import CellInfo, SheetScan, percent_styles, scan_sheet
from indicators.board import Agency, Board
from indicators.definitions import Library, Measure, MeasureKind
from indicators.periods import PeriodError, Quarter

__all__ = ["CheckResult", "ParsedValue", "check_file", "parse_figure"]

_CODE_SHAPE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")
_SPACES = re.compile(r"[\s\u00a0\u2007\u2009\u202f\u200b\ufeff]+")
_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$")
_COMMAS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SPACED = re.compile(r"^[+-]?\d{1,3}( \d{3})+(\.\d+)?$")
_PERCENT = re.compile(r"^(?P<n>.+?)\s*%$")
_EPS = 1e-9


@dataclass
class ParsedValue:
    """One measure's figure as read: ``status`` is ok, suppressed or blank; ``raw`` is the text typed when it
    was not a plain number; ``cell`` is None when the measure's row is missing."""

    code: str
    value: float | None
    status: str
    raw: str | None = None
    note: str | None = None
    cell: str | None = None
    valid: bool = True  # False when the figure has an error (the file will not load)


@dataclass
class CheckResult:
    """Everything found in one file. ``ok`` means no errors (warnings allowed): the file can be loaded."""

    file: str
    path: Path
    issues: list[Issue] = field(default_factory=list)
    agency: str | None = None
    period: Quarter | None = None
    values: dict[str, ParsedValue] = field(default_factory=dict)
    contact: str | None = None
    commentary: str | None = None  # the agency's own analysis of the quarter (About sheet)
    sha256: str | None = None
    sheet: str | None = None  # the sheet the figures were read from
    unforeseen: str | None = None  # set when damage no rule foresaw was caught by the last-resort handler

    @property
    def ok(self) -> bool:
        return not any(i.level == ERROR for i in self.issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == WARNING]

    @property
    def codes(self) -> list[str]:
        """The issue codes found, in order (handy in tests)."""
        return [i.code for i in self.issues]

    def add(self, code: str, message: str, *, sheet: str | None = None, cell: str | None = None,
            measure: str | None = None, level: str | None = None) -> Issue:
        issue = make_issue(code, self.file, message, sheet=sheet, cell=cell, measure=measure)
        if level is not None and level != issue.level:
            issue = Issue(level, issue.code, issue.file, issue.sheet, issue.cell, issue.measure, issue.message)
        self.issues.append(issue)
        return issue


@dataclass
class _Grid:
    """A sheet's values as calamine read them (0-based rows from A1) plus the XML scan."""

    name: str
    rows: list[list]
    scan: SheetScan

    def get(self, r: int, c: int):
        """Value at 0-based (r, c), "" when outside the grid."""
        if 0 <= r < len(self.rows):
            row = self.rows[r]
            if 0 <= c < len(row):
                return row[c]
        return ""

    def info(self, r: int, c: int) -> CellInfo | None:
        return self.scan.cells.get((r + 1, c + 1))


def _ref(r: int, c: int) -> str:
    """Excel reference of 0-based (row, col)."""
    return f"{get_column_letter(c + 1)}{r + 1}"


def _norm_label(v) -> str:
    return _SPACES.sub(" ", str(v)).strip().rstrip(":").strip().lower() if isinstance(v, str) else ""


def check_file(path: Path | str, board: Board, library: Library, expected_agency: str | None = None,
               expected_period: Quarter | str | None = None, *, today: dt.date | None = None,
               limits: Limits | None = None) -> CheckResult:
    """Validate one return workbook without writing anything; return every issue found."""
    path = Path(path)
    expected_period = Quarter.parse(expected_period) if expected_period else None  # PeriodError: caller's mistake
    result = CheckResult(file=path.name, path=path)
    try:
        pkg = open_package(path, limits)
    except Unreadable as exc:
        result.add(exc.code, exc.message)
        return result
    except Exception as exc:  # noqa: BLE001 - damage no check foresaw: still a message, never a traceback
        result.unforeseen = f"{type(exc).__name__}: {exc}"
        result.add("corrupt-file", f"the file is damaged and cannot be read ({type(exc).__name__}: {_short(exc)}); "
                   "open it in Excel, save it again and resend")
        return result
    result.sha256 = pkg.sha256
    try:
        _Checker(pkg, board, library, result, limits, today).run(expected_agency, expected_period)
    except Unreadable as exc:
        result.add(exc.code, exc.message)
    except Exception as exc:  # noqa: BLE001 - a file no rule foresaw must still get a message, not a traceback
        result.unforeseen = f"{type(exc).__name__}: {exc}"
        result.add("corrupt-file", f"the workbook could not be read ({type(exc).__name__}: {_short(exc)}); if "
                   "Excel opens it normally, save it again and resend, and tell the analysts")
    finally:
        pkg.zip.close()
    return result


class _Checker:
    def __init__(self, pkg: Package, board: Board, library: Library, result: CheckResult,
                 limits: Limits | None, today: dt.date | None):
        self.pkg = pkg
        self.board = board
        self.library = library
        self.res = result
        self.limits = limits or LIMITS
        self.today = today or dt.date.today()
        self._percent_styles: set[int] | None = None
        try:
            self.book = CalamineWorkbook.from_filelike(io.BytesIO(pkg.data))
        except Exception as exc:  # calamine's own errors: a damaged or odd workbook
            raise Unreadable("corrupt-file", f"the workbook cannot be read ({_short(exc)}); open it in Excel, "
                             "save it again and resend") from None

    # --- sheets ------------------------------------------------------------------------------------------
    def _read(self, name: str) -> _Grid | None:
        part = self.pkg.sheet_part(name)
        if part is None:
            return None
        size = self.pkg.sizes.get(part, 0)
        if size > self.limits.max_sheet_xml_bytes:
            self.res.add("sheet-too-large", f"sheet '{name}' holds {size / 1e6:,.0f} MB of data; a return sheet "
                         "is a few kilobytes. Delete what is outside the table and save again", sheet=name)
            return None
        scan = scan_sheet(self.pkg, part)
        if scan.max_row * scan.max_col > self.limits.max_sheet_cells:
            self.res.add("sheet-too-large", f"sheet '{name}' uses cells as far as {scan.far_cell()}; delete "
                         "everything outside the return table and save again", sheet=name)
            return None
        try:
            rows = self.book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:
            raise Unreadable("corrupt-file", f"sheet '{name}' cannot be read ({_short(exc)}); open the file in "
                             "Excel, save it again and resend") from None
        return _Grid(name, rows, scan)

    def run(self, expected_agency: str | None, expected_period) -> None:
        res = self.res
        if self.pkg.has_macros:
            res.add("macros-ignored", "the workbook contains macros; they were not run, only the values saved "
                    "in the cells were read")
        names = [n for n, _ in self.pkg.sheets]
        exp_agency = expected_agency.strip().upper() if expected_agency else None
        exp_period = expected_period

        about_name = next((n for n in names if n.strip().lower() == L.ABOUT_SHEET.lower()), None)
        about = self._read(about_name) if about_name else None
        agency_code, period = self._about(about, about_name, exp_agency, exp_period)

        agency: Agency | None = None
        if agency_code:
            try:
                agency = self.board.agency(agency_code)
            except KeyError:
                known = ", ".join(a.code for a in self.board.agencies)
                res.add("unknown-agency", f"the agency code is '{agency_code}', which is not an agency of "
                        f"{self.board.name} (agencies: {known}); use the template made for your agency",
                        sheet=about_name, cell=self._about_cells.get("agency"))
        if agency and exp_agency and agency.code != exp_agency:
            res.add("wrong-agency", f"the file is {agency.code}'s return ({agency.name}) but {exp_agency}'s was "
                    "expected; check you are sending or loading the right file", sheet=about_name,
                    cell=self._about_cells.get("agency"))
        if period and exp_period and period != exp_period:
            hint = " (perhaps last quarter's file sent again)" if period < exp_period else ""
            res.add("wrong-period", f"the file is for {period.label} but {exp_period.label} was expected{hint}; "
                    "send the return for the quarter asked for", sheet=about_name,
                    cell=self._about_cells.get("period"))
        if period and period.end >= self.today:
            res.add("period-not-ended", f"{period.label} ends on {period.end:%d %B %Y}, so its figures cannot "
                    "be final yet; check the period", sheet=about_name, cell=self._about_cells.get("period"))
        res.agency = agency.code if agency else None
        res.period = period

        grid, header = self._return_sheet(names, about_name)
        if grid is None or header is None:
            return
        res.sheet = grid.name
        self._rows(grid, header, agency)

    # --- About -------------------------------------------------------------------------------------------
    def _about(self, about: _Grid | None, name: str | None, exp_agency, exp_period):
        res = self.res
        self._about_cells: dict[str, str] = {}
        if about is None:
            if name is None:
                if exp_agency and exp_period:
                    res.add("about-missing", f"there is no About sheet; the file was taken to be "
                            f"{exp_agency}'s return for {exp_period.label} as given", level=WARNING)
                else:
                    res.add("about-missing", "there is no About sheet, so the agency and period are unknown; use "
                            "the template, or give the agency and period (--agency, --period)")
            return exp_agency, exp_period
        found: dict[str, tuple[object, str]] = {}
        for r in range(min(len(about.rows), 60)):
            for c in range(min(len(about.rows[r]), 10)):
                label = _norm_label(about.get(r, c))
                key = {"agency code": "agency", "period": "period"}.get(label)
                if key is None and label.startswith("contact"):
                    key = "contact"
                if key is None and label.startswith("commentary"):
                    key = "commentary"
                if key is None or key in found:
                    continue
                value, ref = "", _ref(r, c + 1)
                for k in range(c + 1, len(about.rows[r])):
                    if about.get(r, k) not in ("", None):
                        value, ref = about.get(r, k), _ref(r, k)
                        break
                found[key] = (value, ref)
        for key, (_, ref) in found.items():
            self._about_cells[key] = ref

        agency_code = None
        if "agency" not in found or found["agency"][0] in ("", None):
            if exp_agency:
                agency_code = exp_agency
            else:
                res.add("agency-missing", f"the About sheet has no agency code next to '{L.AGENCY_CODE_LABEL}'; "
                        "use the template made for your agency", sheet=name, cell=found.get("agency", ("", None))[1])
        else:
            agency_code = _SPACES.sub("", str(found["agency"][0])).upper()

        period = None
        if "period" not in found or found["period"][0] in ("", None):
            if exp_period:
                period = exp_period
            else:
                res.add("period-missing", f"the About sheet has no period next to '{L.PERIOD_LABEL}'; use the "
                        "template made for this quarter", sheet=name, cell=found.get("period", ("", None))[1])
        else:
            raw = found["period"][0]
            try:
                if isinstance(raw, dt.date | dt.datetime):
                    raise PeriodError("a date, not a quarter")
                period = Quarter.parse(str(raw))
            except PeriodError:
                what = "a date" if isinstance(raw, dt.date | dt.datetime) else f"'{_clip(str(raw))}'"
                res.add("bad-period", f"the period is {what}, which is not a financial-year quarter; it should "
                        "read like '2025-26 Q2' (use the template made for this quarter)", sheet=name,
                        cell=found["period"][1])
        if "contact" in found and found["contact"][0] not in ("", None):
            self.res.contact = str(found["contact"][0]).strip()[:255]
        if "commentary" in found and str(found["commentary"][0] or "").strip():
            self.res.commentary = str(found["commentary"][0]).strip()[:L.COMMENTARY_LIMIT]
        return agency_code, period

    # --- Return ------------------------------------------------------------------------------------------
    def _return_sheet(self, names: list[str], about_name: str | None):
        res = self.res
        named = next((n for n in names if n.strip().lower() == L.RETURN_SHEET.lower()), None)
        if named is not None:
            grid = self._read(named)
            if grid is None:
                return None, None
            header = _find_header(grid)
            if header is None:
                res.add("no-return-sheet", f"sheet '{named}' has no header row with '{L.CODE}' and '{L.VALUE}' in "
                        f"its first {L.HEADER_SEARCH_ROWS} rows, so the figures cannot be found; use the template",
                        sheet=named)
                return None, None
            for other in names:
                if other != named and "return" in other.lower():
                    res.add("extra-return-sheet", f"sheet '{other}' looks like a copy of the return and was not "
                            f"read; the figures were read from sheet '{named}'", sheet=other)
            return grid, header
        for other in names:
            if other == about_name:
                continue
            grid = self._read(other)
            if grid is None:
                continue
            header = _find_header(grid)
            if header is not None:
                res.add("return-sheet-renamed", f"there is no sheet called '{L.RETURN_SHEET}'; the figures were read "
                        f"from sheet '{other}', the first with '{L.CODE}' and '{L.VALUE}' headings", sheet=other)
                return grid, header
        res.add("no-return-sheet", f"no sheet has a header row with '{L.CODE}' and '{L.VALUE}' (sheets: "
                f"{', '.join(repr(n) for n in names) or 'none'}), so the figures cannot be found; use the template")
        return None, None

    def _rows(self, grid: _Grid, header: tuple[int, int, int, int | None], agency: Agency | None) -> None:
        res, library = self.res, self.library
        sheet = grid.name
        h, code_col, value_col, note_col = header

        # Cells merged across rows in the Code or Value column: one entry standing for several measures.
        # The rows are reported once, as a whole, and their measures taken as present but unusable.
        covered: set[int] = set()
        seen: dict[str, str] = {}
        for r1, c1, r2, c2 in grid.scan.merges:
            r1, c1, r2, c2 = r1 - 1, c1 - 1, r2 - 1, c2 - 1
            if r2 <= h or r1 == r2 or not (c1 <= code_col <= c2 or c1 <= value_col <= c2):
                continue
            r1, r2 = max(r1, h + 1), min(r2, max(len(grid.rows) - 1, h + 1))  # rows past the grid are empty
            codes = [str(grid.get(r, code_col)).strip() for r in range(r1, r2 + 1) if grid.get(r, code_col)]
            which = f" (measures {', '.join(codes)})" if codes else ""
            span = f"{_ref(r1, c1)}:{_ref(r2, c2)}"
            res.add("merged-cells", f"cells {span} are merged across rows {r1 + 1} to {r2 + 1}{which}, so one "
                    "entry stands for several measures; unmerge them and give each measure its own figure",
                    sheet=sheet, cell=span[:16])
            for r in range(r1, r2 + 1):
                covered.add(r)
                code = _code(grid.get(r, code_col))
                if code in library.measures and code not in seen:
                    seen[code] = _ref(r, code_col)
                    res.values[code] = ParsedValue(code, None, "blank", cell=_ref(r, value_col), valid=False)

        for r in range(h + 1, len(grid.rows)):
            if r in covered:
                continue
            code_raw, value_raw = grid.get(r, code_col), grid.get(r, value_col)
            info = grid.info(r, value_col)
            has_value = not _is_empty(value_raw) or (info is not None and (info.formula or info.error))
            code = _code(code_raw)
            value_ref, code_ref = _ref(r, value_col), _ref(r, code_col)
            if not code:
                if has_value:
                    res.add("value-without-code", f"row {r + 1} has a figure ({_show(value_raw, info)}) but no "
                            f"measure code in {code_ref}; put the code back or delete the figure",
                            sheet=sheet, cell=value_ref)
                continue
            if not _CODE_SHAPE.match(code) and not has_value:
                continue  # free text under the table, e.g. a footnote
            measure = library.measures.get(code)
            if measure is None:
                pool = agency.measures if agency else list(library.measures)
                close = difflib.get_close_matches(code, pool, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                res.add("unknown-code", f"found the code '{_clip(str(code_raw))}', which is not a measure{hint}; use "
                        "the codes printed in the template", sheet=sheet, cell=code_ref)
                continue
            if agency and code not in agency.measures:
                owner = self.board.agency_for_measure(code)
                who = f"{owner.code} ({owner.name})" if owner else "no agency of this partnership"
                res.add("other-agency-measure", f"{code} is returned by {who}, not by {agency.code}; is this the "
                        "right template? Remove the row", sheet=sheet, cell=code_ref, measure=code)
                continue
            if code in seen:
                res.add("duplicate-code", f"{code} appears again (first in {seen[code]}); keep one row per "
                        "measure and delete the other", sheet=sheet, cell=code_ref, measure=code)
                continue
            seen[code] = code_ref
            note = grid.get(r, note_col) if note_col is not None else ""
            pv = self._value(measure, value_raw, info, sheet, value_ref)
            pv.note = None if _is_empty(note) else str(note).strip()
            res.values[code] = pv

        expected = agency.measures if agency else list(res.values)
        for code in expected:
            if code not in res.values:
                m = library.measures[code]
                res.add("measure-missing", f"measure {code} ({m.name}) is not in the return: its row was deleted, "
                        "so it is stored as not supplied", sheet=sheet, measure=code)
                res.values[code] = ParsedValue(code, None, "blank")
        # Keep the agency's order (the board's list), whatever the order of the rows.
        res.values = {c: res.values[c] for c in expected} | {c: v for c, v in res.values.items() if c not in expected}
        if res.values and all(v.status == "blank" and v.valid for v in res.values.values()):
            res.add("no-figures", f"the return has no figures at all ({len(res.values)} measures blank or missing): "
                    "is this the blank template? Enter the figures and resend", sheet=sheet)
        self._parts_and_wholes(sheet)

    def _value(self, measure: Measure, raw, info: CellInfo | None, sheet: str, ref: str) -> ParsedValue:
        res, code = self.res, measure.code
        if info is not None and info.formula and not info.has_value:
            res.add("formula-no-value", f"holds the formula ={_clip(info.formula)} with no calculated value saved; "
                    "open the file in Excel so it calculates, save and resend, or type the figure",
                    sheet=sheet, cell=ref, measure=code)
            return ParsedValue(code, None, "blank", raw=_clip("=" + info.formula, 255), cell=ref, valid=False)
        if info is not None and info.error:
            res.add("excel-error", f"shows the Excel error {info.error} instead of {L.expected_text(measure)}; fix "
                    "the formula or type the figure", sheet=sheet, cell=ref, measure=code)
            return ParsedValue(code, None, "blank", raw=info.error, cell=ref, valid=False)
        is_percent_style = (info is not None and measure.kind == MeasureKind.percentage
                            and info.style in self.percent_styles())
        outcome = parse_figure(raw, measure, percent_format=is_percent_style)
        for level_code, message in outcome.issues:
            res.add(level_code, message, sheet=sheet, cell=ref, measure=code)
        return ParsedValue(code, outcome.value, outcome.status, raw=outcome.raw, cell=ref, valid=outcome.valid)

    def percent_styles(self) -> set[int]:
        if self._percent_styles is None:
            self._percent_styles = percent_styles(self.pkg)
        return self._percent_styles

    def _parts_and_wholes(self, sheet: str) -> None:
        """For each percentage indicator whose numerator and denominator are both in this return: part <= whole."""
        values = self.res.values
        for (num, den), ind_id in self.library.part_whole_pairs.items():
            a, b = values.get(num), values.get(den)
            if not (a and b and a.valid and b.valid and a.status == "ok" and b.status == "ok"):
                continue
            if a.value > b.value + _EPS:
                mn, md = self.library.measures[num], self.library.measures[den]
                self.res.add("numerator-exceeds-denominator",
                             f"{num} ({mn.name}) is {L.fmt_number(a.value)} but {den} ({md.name}, in {b.cell}) is "
                             f"{L.fmt_number(b.value)}: the part cannot be larger than the whole (indicator "
                             f"{ind_id}); check both figures", sheet=sheet, cell=a.cell, measure=num)


@dataclass
class FigureOutcome:
    value: float | None
    status: str
    raw: str | None
    valid: bool
    issues: list[tuple[str, str]]  # (issue code, message)


def parse_figure(raw, measure: Measure, percent_format: bool = False) -> FigureOutcome:
    """Read what was typed in a Value cell for ``measure``: a pure function, one rule per branch."""
    expected = L.expected_text(measure)
    hint = "; use c if it is suppressed, or leave the cell blank (and say why in the Note) if you cannot supply it"
    issues: list[tuple[str, str]] = []

    def fail(code: str, message: str, text: str | None = None, value: float | None = None) -> FigureOutcome:
        return FigureOutcome(value, "blank" if value is None else "ok", text, False, [(code, message)])

    if _is_empty(raw):
        return FigureOutcome(None, "blank", None, True, [("blank-value", f"{measure.name} is blank, so it is "
                             f"stored as not supplied; enter {expected} if you have it")])
    if isinstance(raw, bool):
        return fail("not-a-number", f"found {str(raw).upper()} where {expected} is expected{hint}", str(raw))
    if isinstance(raw, dt.date | dt.datetime | dt.time | dt.timedelta):
        return fail("date-value", f"holds a date or time ({raw}) instead of {expected}: Excel may have turned "
                    "the figure into a date; format the cell as Number and type the figure again", str(raw))
    text: str | None = None
    if isinstance(raw, str):
        text = _SPACES.sub(" ", raw).strip()
        if not text:
            return FigureOutcome(None, "blank", None, True, [("blank-value", f"{measure.name} holds only spaces, "
                                 f"so it is stored as not supplied; enter {expected} if you have it")])
        if L.is_suppression_marker(text):
            return FigureOutcome(None, "suppressed", text[:255], True, [("suppressed", f"'{text}' was read as a "
                                 "suppression marker: stored as suppressed, so the board sees that a figure "
                                 "exists but not its value")])
        pct = _PERCENT.match(text)
        if pct:
            number = _number(pct["n"])
            if number is None:
                return fail("not-a-number", f"found the text '{_clip(text)}' where {expected} is expected{hint}",
                            text[:255])
            if measure.kind != MeasureKind.percentage:
                return fail("not-a-number", f"found the percentage '{text}' but {measure.name} is a count, not a "
                            f"percentage; type {expected}", text[:255])
            issues.append(("percent-sign", f"'{text}' was read as {L.fmt_number(number)} (a percentage, without "
                           "the % sign)"))
        else:
            number = _number(text)
            if number is None:
                return fail("not-a-number", f"found the text '{_clip(text)}' where {expected} is expected{hint}",
                            text[:255])
            issues.append(("number-as-text", f"the figure was typed as text '{_clip(text)}'; it was read as "
                           f"{L.fmt_number(number)}"))
    elif isinstance(raw, int | float):
        number = float(raw)
        if percent_format:  # the cell shows number x 100 with a % sign: what the agency saw is what counts
            number = round(number * 100, 9)
            text = f"{L.fmt_number(number)}%"
            issues.append(("percent-format", f"Excel holds {L.fmt_number(float(raw))} shown as {text}; it was "
                           f"read as {L.fmt_number(number)}"))
    else:
        return fail("not-a-number", f"found {type(raw).__name__} where {expected} is expected", _clip(str(raw), 255))

    if not math.isfinite(number):
        return fail("not-a-number", f"found '{text or raw}' where {expected} is expected", text)
    shown = L.fmt_number(number)
    if number < 0:
        return FigureOutcome(number, "ok", text, False, issues + [(
            "negative-value", f"found {shown}; {measure.name} cannot be below zero (expected {expected})")])
    if measure.whole_number and abs(number - round(number)) > _EPS:
        return FigureOutcome(number, "ok", text, False, issues + [(
            "not-whole-number", f"found {shown}; {measure.name} is counted in whole numbers (expected "
            f"{expected}): check it is not a rate or an average")])
    if measure.kind == MeasureKind.percentage and number > 100 + _EPS:
        return FigureOutcome(number, "ok", text, False, issues + [(
            "out-of-range", f"found {shown}; a percentage cannot be above 100 (expected {expected})")])
    if measure.kind == MeasureKind.percentage and 0 < number < 1 and not percent_format:
        issues.append(("small-percentage", f"found {shown}, which is less than 1%; if you meant "
                       f"{L.fmt_number(number * 100)}%, type {L.fmt_number(number * 100)}"))
    if measure.whole_number:
        number = float(round(number))
    return FigureOutcome(number, "ok", text[:255] if text else None, True, issues)


def _number(text: str) -> float | None:
    """A number typed as text: '12', ' 1,234 ', '1 234', '12.5', '+3', '-3'. None when it is not one."""
    t = text.strip().replace("\u00a0", " ")
    if _PLAIN.match(t):
        return float(t)
    if _COMMAS.match(t):
        return float(t.replace(",", ""))
    if _SPACED.match(t):
        return float(t.replace(" ", ""))
    return None


def _find_header(grid: _Grid) -> tuple[int, int, int, int | None] | None:
    """(row, code col, value col, note col) of the first row with Code and Value labels (0-based)."""
    for r in range(min(len(grid.rows), L.HEADER_SEARCH_ROWS)):
        labels = [_norm_label(v) for v in grid.rows[r]]
        if L.CODE.lower() in labels and L.VALUE.lower() in labels:
            note = next((k for k, lab in enumerate(labels) if lab in ("note", "notes", "comment", "comments")), None)
            return r, labels.index(L.CODE.lower()), labels.index(L.VALUE.lower()), note
    return None


def _code(raw) -> str:
    if isinstance(raw, str):
        return _SPACES.sub("", raw).upper()
    if isinstance(raw, bool) or raw in ("", None):
        return ""
    if isinstance(raw, float | int):
        return L.fmt_number(float(raw))
    return str(raw).strip().upper()


def _is_empty(v) -> bool:
    return v is None or (isinstance(v, str) and v == "")


def _show(raw, info: CellInfo | None) -> str:
    if info is not None and info.formula:
        return f"={_clip(info.formula)}"
    if isinstance(raw, float):
        return L.fmt_number(raw)
    return f"'{_clip(str(raw))}'"


def _clip(text: str, n: int = 40) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def _short(exc: Exception) -> str:
    return _clip(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 120)
