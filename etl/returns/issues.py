"""What can be wrong with a quarterly return: every issue code, its level, its meaning and what to do.

The catalogue is data so the checker, the command line and ``docs/returns.md`` say the same thing, and a
test fails when a code is used but not catalogued. Codes are stable: the dashboard and people's notes
refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class IssueType:
    """One kind of problem a return can have."""

    code: str
    level: str
    meaning: str
    action: str


def _t(code: str, level: str, meaning: str, action: str) -> IssueType:
    return IssueType(code, level, meaning, action)


_TYPES = [
    # --- the file itself --------------------------------------------------------------------------------
    _t("file-not-found", ERROR, "There is no file at the path given, or it cannot be opened (no permission, "
       "locked by another program).", "Check the path and the file name, and that the file is not open elsewhere."),
    _t("empty-file", ERROR, "The file is empty (0 bytes): it was probably not saved or not copied fully.",
       "Save the workbook again in Excel and send the new copy."),
    _t("file-too-large", ERROR, "The file is larger than a quarterly return can be (20 MB).",
       "Remove pasted data, pictures and extra sheets, keep the About and Return sheets, and save again."),
    _t("not-a-workbook", ERROR, "The file is not an Excel workbook, whatever its name says (for example "
       "a CSV, PDF or web page renamed .xlsx).",
       "Open the return template in Excel, enter the figures there and save it as an Excel Workbook (.xlsx)."),
    _t("old-xls-format", ERROR, "The file is in the old Excel 97-2003 format (.xls).",
       "Open it in Excel and use File > Save As > Excel Workbook (.xlsx), or use the .xlsx template."),
    _t("password-protected", ERROR, "The workbook is encrypted with a password, so it cannot be read.",
       "Remove the password (File > Info > Protect Workbook > Encrypt with Password, clear it) and send the "
       "file by a secure route instead."),
    _t("unsupported-format", ERROR, "The file is another kind of document (Word, PowerPoint, OpenDocument or "
       "Excel binary .xlsb).", "Save it as an Excel Workbook (.xlsx)."),
    _t("corrupt-file", ERROR, "The file is damaged: its contents do not unpack correctly.",
       "Open it in Excel (which may offer to repair it), save it again and resend; or fill in a new template."),
    _t("too-many-parts", ERROR, "The workbook has an unreasonable number of internal parts (over 1,000).",
       "Copy the Return sheet's figures into a fresh template."),
    _t("unpacked-too-large", ERROR, "The workbook's contents would unpack to far more data than a return "
       "holds (a 'zip bomb' or a sheet with huge pasted data).",
       "Copy the figures into a fresh template and send that."),
    _t("unsafe-xml", ERROR, "The workbook contains XML declarations (DOCTYPE or ENTITY) that Excel never "
       "writes; such files can be used to attack the reader, so it is not opened.",
       "Fill in a fresh template in Excel."),
    _t("macros-ignored", WARNING, "The workbook contains macros. They were not run: only the typed values "
       "and the values formulas last calculated were read.",
       "Nothing, unless a macro was meant to fill in figures: then type them in and resend."),
    _t("sheet-too-large", ERROR, "A sheet the checker must read uses cells far outside the return table "
       "(for example something typed in a far column or row).",
       "Delete the contents outside the table (select the rows and columns beyond it, Delete) and save again."),
    # --- structure ---------------------------------------------------------------------------------------
    _t("no-return-sheet", ERROR, "No sheet has a header row with 'Code' and 'Value' columns, so the figures "
       "cannot be found.", "Use the template: keep the Return sheet and its header row."),
    _t("return-sheet-renamed", WARNING, "There is no sheet called 'Return'; the figures were read from the "
       "sheet named in the message, the first with 'Code' and 'Value' headings.",
       "Check that the right sheet was read; rename it 'Return' next time."),
    _t("extra-return-sheet", WARNING, "Another sheet looks like a copy of the return; it was not read.",
       "Make sure the figures are on the sheet called 'Return'; delete copies."),
    _t("about-missing", ERROR, "There is no About sheet, so the agency and period of the file are unknown.",
       "Use the template (it has an About sheet), or give --agency and --period when checking or loading."),
    _t("agency-missing", ERROR, "The About sheet has no agency code next to 'Agency code'.",
       "Use the template made for your agency; do not edit the About sheet."),
    _t("period-missing", ERROR, "The About sheet has no period next to 'Period'.",
       "Use the template made for this quarter; do not edit the About sheet."),
    _t("unknown-agency", ERROR, "The agency code on the About sheet is not an agency of this partnership.",
       "Use the template made for your agency."),
    _t("bad-period", ERROR, "The period on the About sheet is not a financial-year quarter.",
       "Use the template made for this quarter (the period reads like '2025-26 Q2')."),
    _t("wrong-agency", ERROR, "The file is for a different agency from the one it was expected to be for.",
       "Check that you are sending or loading the right agency's file."),
    _t("wrong-period", ERROR, "The file is for a different quarter from the one expected (often last "
       "quarter's file sent again).", "Send the return for the quarter asked for."),
    _t("period-not-ended", WARNING, "The quarter the file is for has not ended yet, so its figures cannot "
       "be final.", "Check the period; send the return after the quarter ends."),
    _t("merged-cells", ERROR, "Cells in the Code or Value column are merged across rows, so one entry "
       "covers more than one measure.", "Unmerge the cells (Home > Merge & Center > Unmerge) and give each "
       "measure its own figure."),
    # --- rows --------------------------------------------------------------------------------------------
    _t("unknown-code", ERROR, "A row has a code that is not a measure in the definitions.",
       "Use the code printed in the template; do not edit the Code column."),
    _t("other-agency-measure", ERROR, "A row has the code of a measure another agency returns.",
       "Check that you used your own agency's template; remove the row."),
    _t("duplicate-code", ERROR, "The same measure code appears on two rows, so it is not clear which figure "
       "is meant.", "Keep one row per measure; delete the other."),
    _t("value-without-code", ERROR, "A row has a figure but no measure code, so the figure cannot be "
       "assigned to a measure.", "Put the measure's code back in the Code column, or delete the figure."),
    _t("no-figures", ERROR, "Every measure is blank or missing: usually the blank template sent by mistake.",
       "Enter the figures and resend. If you cannot supply any this quarter, tell the partnership instead."),
    _t("measure-missing", WARNING, "A measure your agency returns has no row in the file (the row was "
       "deleted). It is stored as not supplied.", "Add the row back (use a fresh template) and resend if "
       "you can supply the figure."),
    # --- values ------------------------------------------------------------------------------------------
    _t("blank-value", WARNING, "The Value cell is blank. The measure is stored as not supplied and shows as "
       "missing data.", "Enter the figure if you have it and resend; add a note saying why if you cannot."),
    _t("suppressed", WARNING, "The figure was replaced by a suppression marker (c, [c], x, z, *, <5). It is "
       "stored as suppressed: the board sees that a figure exists but not its value.",
       "Nothing if intended: the board's own data is not published, so you may give the exact figure."),
    _t("number-as-text", WARNING, "The figure was typed as text (with spaces, thousands separators or an "
       "apostrophe). It was read as the number shown in the message.", "Check the number read is right."),
    _t("percent-sign", WARNING, "A percentage was typed with a % sign (e.g. '12%'); it was read as 12.",
       "Check the number read is right."),
    _t("percent-format", WARNING, "Excel stored a percentage typed as '12%' as 0.12 with a percent format; "
       "it was read as 12.", "Check the number read is right."),
    _t("small-percentage", WARNING, "A percentage between 0 and 1 was given: it may be a fraction "
       "(0.85 meaning 85%).", "If you meant 85%, type 85 and resend."),
    _t("not-a-number", ERROR, "The Value cell holds text (e.g. 'n/a', 'TBC') or TRUE/FALSE instead of a "
       "figure.", "Type the figure; use c if it is suppressed, or leave the cell blank (and add a note) if "
       "you cannot supply it."),
    _t("negative-value", ERROR, "The figure is below zero; counts and totals cannot be negative.",
       "Type the correct figure (0 or more)."),
    _t("not-whole-number", ERROR, "A count or snapshot has a fraction (e.g. 12.5); people and events are "
       "counted in whole numbers.", "Type the whole number; check it is not a rate or average."),
    _t("out-of-range", ERROR, "A percentage is above 100.", "Type a percentage from 0 to 100."),
    _t("date-value", ERROR, "The Value cell holds a date or time: Excel can turn a typed figure into a date "
       "(for example 3/4 or 1-12).", "Format the cell as Number, type the figure again and resend."),
    _t("formula-no-value", ERROR, "The Value cell holds a formula with no calculated value saved (the file "
       "was made by a program that does not calculate).",
       "Open the file in Excel so it calculates, save and resend; or type the figure instead."),
    _t("excel-error", ERROR, "The Value cell shows an Excel error such as #DIV/0!, #REF! or #N/A.",
       "Fix the formula or type the figure."),
    _t("numerator-exceeds-denominator", ERROR, "A part is larger than its whole: the numerator of a "
       "percentage indicator is above its denominator (e.g. assessments within 45 days above all "
       "assessments completed).", "Check both figures and correct the wrong one."),
    # --- found when loading ------------------------------------------------------------------------------
    _t("same-as-last-quarter", WARNING, "Every figure is identical to the previous quarter's return: it may "
       "be last quarter's figures sent again.", "Check the figures are this quarter's; resend if not."),
]

CATALOGUE: dict[str, IssueType] = {t.code: t for t in _TYPES}


@dataclass(frozen=True)
class Issue:
    """One problem found in one file: where it is, which measure, what was found and what is expected."""

    level: str  # "error" | "warning"
    code: str
    file: str
    sheet: str | None
    cell: str | None
    measure: str | None
    message: str

    @property
    def is_error(self) -> bool:
        return self.level == ERROR

    @property
    def where(self) -> str:
        """``file``, ``file Return!F7`` or ``file Return``."""
        if self.sheet and self.cell:
            return f"{self.file} {self.sheet}!{self.cell}"
        if self.sheet:
            return f"{self.file} {self.sheet}"
        return self.file

    def __str__(self) -> str:
        measure = f" {self.measure}:" if self.measure else ":"
        return f"{self.level.upper():7} {self.code:<20} {self.where}{measure} {self.message}"


def make_issue(code: str, file: str, message: str, *, sheet: str | None = None, cell: str | None = None,
               measure: str | None = None) -> Issue:
    """An issue of a catalogued type (its level comes from the catalogue)."""
    return Issue(CATALOGUE[code].level, code, file, sheet, cell, measure, message)
