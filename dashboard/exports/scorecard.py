"""The multi-agency scorecard in Excel: the summary matrix as the board sees it, one sheet per priority.

Every icon is a word (variation, assurance), the RAG rating is text *and* a conditional format (so it stays
right when someone edits the value), the last quarters' values stand beside each row as its trend, the header
is frozen, and each sheet prints on A4 landscape, one page wide, with the header repeated on every page.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from dashboard.data import View
from dashboard.exports.common import produced_on, sources_line, write_error
from dashboard.exports.content import BoardRow, board_rows
from dashboard.exports.data import MODE_WORDS
from etl.safe_cells import atomic_path, escape_cell
from indicators.periods import Quarter
from indicators.suppression import SYMBOLS

HEADERS = ["Indicator", "Question", "Value", "Target", "RAG (against the target)", "Variation (SPC)",
           "Assurance (will the target be met?)", "Compared with neighbours", "Compared with England",
           "Since last quarter", "Over a year", "Data"]
RAG_FILL = {"Red": ("F4C7C3", "7A0000"), "Amber": ("FCE8B2", "5C3B00"), "Green": ("C8E6C9", "0B3D0B")}
NUMBER_FORMATS = {"percentage": '0.0"%"', "rate_per_10000": '#,##0.0" per 10,000"', "days": '0.0" days"',
                  "count": '#,##0'}
HEADER_ROW = 4


def _sheet_name(name: str, used: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", " ", name).strip() or "Priority"
    if len(clean) > 31:  # "Child Sexual Exploitation and Missing" → "CSE and Missing"
        words = clean.split()
        lead = list(itertools.takewhile(lambda w: w[:1].isupper(), words))
        if len(lead) > 1:
            clean = "".join(w[0] for w in lead) + " " + " ".join(words[len(lead):])
    clean = clean.strip()[:31]
    base, n = clean, 2
    while clean.lower() in used:
        clean = f"{base[:28]} {n}"
        n += 1
    used.add(clean.lower())
    return clean


def _number_format(unit: str, decimals: int) -> str:
    fmt = NUMBER_FORMATS.get(unit, "General")
    if decimals != 1 and unit != "count":
        fmt = fmt.replace("0.0", "0" if decimals == 0 else "0." + "0" * decimals)
    return fmt


def _write_sheet(wb, title: str, subtitle: str, rows: list[BoardRow], trend_labels: list[str],
                 with_priorities: bool = False) -> None:
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    headers = list(HEADERS)
    if with_priorities:
        headers.insert(1, "Priorities it serves")
    headers += [f"Trend {t}" for t in trend_labels] + ["Why it is an exception / good news"]
    ws.cell(1, 1, escape_cell(subtitle.split(" | ")[0])).font = Font(bold=True, size=14)
    ws.cell(2, 1, escape_cell(" | ".join(subtitle.split(" | ")[1:])))
    thin = Side(style="thin", color="999999")
    for c, h in enumerate(headers, 1):
        cell = ws.cell(HEADER_ROW, c, escape_cell(h))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F3A5F")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    rag_col = headers.index("RAG (against the target)") + 1
    first_trend = len(headers) - len(trend_labels)
    for r, row in enumerate(rows, HEADER_ROW + 1):
        values = [row.label]
        if with_priorities:
            values.append("; ".join(row.priorities))
        values += [row.question, row.value, row.target, row.rag_text, row.variation_text, row.assurance_text,
                   row.neighbours_text, row.england_text, row.travel_text, row.travel_year_text, row.data_text]
        trend = dict(row.trend)
        values += [trend.get(t) for t in trend_labels]
        values.append(" ".join(row.reasons or row.good_news))
        fmt = _number_format(row.unit, row.decimals)
        for c, v in enumerate(values, 1):
            if v is None and headers[c - 1] == "Value":
                v = row.value_text
            cell = ws.cell(r, c, escape_cell(v))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = Border(bottom=thin)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                cell.number_format = fmt
        if row.is_exception:
            ws.cell(r, 1).font = Font(bold=True)
    last = HEADER_ROW + max(len(rows), 1)
    col = get_column_letter(rag_col)
    for text, (fill, ink) in RAG_FILL.items():
        ws.conditional_formatting.add(
            f"{col}{HEADER_ROW + 1}:{col}{last}",
            CellIsRule(operator="equal", formula=[f'"{text}"'], fill=PatternFill("solid", bgColor=fill),
                       font=Font(color=ink, bold=True)))
    widths = {"Indicator": 34, "Priorities it serves": 26, "Question": 16, "Value": 12, "Target": 9,
              "RAG (against the target)": 10, "Variation (SPC)": 22, "Assurance (will the target be met?)": 22,
              "Compared with neighbours": 12, "Compared with England": 12, "Since last quarter": 13,
              "Over a year": 11, "Data": 16, "Why it is an exception / good news": 60}
    for c, h in enumerate(headers, 1):
        ws.column_dimensions[get_column_letter(c)].width = widths.get(h, 9 if c >= first_trend else 12)
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 2)
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.oddFooter.center.text = "&P of &N"
    ws.oddHeader.right.text = escape_cell(subtitle.split(" | ")[0])[:200]


def scorecard_workbook(view: View, period: Quarter, publication: bool = False):
    from openpyxl import Workbook

    per_priority = board_rows(view, period, publication=publication)
    wb = Workbook()
    wb.remove(wb.active)
    pv = view.at_period(period)
    labels = [q.short for q in pv.periods if q <= period][-6:]
    produced = produced_on()
    mode = "Publication" if publication else "Internal (OFFICIAL-SENSITIVE)"
    # the summary: every indicator once, exceptions first, with the priorities it serves
    seen, summary = set(), []
    for rows in per_priority.values():
        for row in rows:
            if row.indicator_id not in seen:
                seen.add(row.indicator_id)
                summary.append(row)
    summary.sort(key=lambda r: (not r.is_exception, not r.good_news, r.label.lower()))
    used: set[str] = set()
    _write_sheet(wb, _sheet_name("Summary", used),
                 f"{view.area_name} multi-agency scorecard, {period} | {produced} | {mode}", summary, labels,
                 with_priorities=True)
    for p in view.board.priorities:
        _write_sheet(wb, _sheet_name(p.name, used),
                     f"{p.name}: {view.area_name} scorecard, {period} | {produced} | {mode}",
                     per_priority.get(p.id, []), labels)
    ws = wb.create_sheet("Notes")
    notes = [("Scorecard", f"{view.area_name} multi-agency scorecard for {period}"), ("Produced", produced),
             ("Mode", MODE_WORDS[publication]), ("Source", sources_line(view)),
             ("Reading it", "Exceptions come first (indicator in bold) with their reasons; RAG compares the value "
                            "with the target (Green meets it; Amber misses it within the tolerance; Red misses it "
                            "by more). Variation and assurance are the NHS Making Data Count icons in words."),
             ("Trend", "The last quarters' values up to this one, oldest first.")]
    if publication:
        from dashboard.exports.content import Published

        withheld = Published(pv).withheld
        shown = sum(1 for w in withheld if w["column"] == "value")
        notes.append(("Withheld", f"{shown} quarterly value(s) of this partnership's indicators are withheld "
                                  "(shown as c) because they rest on a count from 1 up to the indicator's "
                                  "threshold, or would let one be worked out; reasons quoting them are withheld "
                                  "too."))
        for sym, meaning in SYMBOLS.items():
            notes.append((f"Symbol {sym}", meaning))
    for r, (k, v) in enumerate(notes, 1):
        ws.cell(r, 1, escape_cell(k))
        ws.cell(r, 2, escape_cell(v))
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 120
    return wb


def export_scorecard(view: View, path: str | Path, period: Quarter, publication: bool = False) -> int:
    """Write the scorecard workbook (atomically); returns the number of sheets."""
    target = Path(path)
    wb = scorecard_workbook(view, period, publication)
    try:
        with atomic_path(target, ".xlsx") as tmp:
            wb.save(tmp)
    except OSError as exc:
        raise write_error(target, exc) from exc
    return len(wb.sheetnames)
