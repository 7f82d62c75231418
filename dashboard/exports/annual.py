"""The annual report annex: each indicator's financial year against the years before, its statistical neighbours
and England, with a sentence each. Published, so it is always in publication mode.

A year's value is its fourth quarter's headline for indicators already measured over a year or at a point in
time (rolling 12 months, year to date, snapshot); for quarterly flows it is built from the year's four quarters
(the counts added up; a percentage or average from the summed numerators and denominators; a rate from the
summed count over the year's population). A year with a quarter missing is not available (``x``); a count from
1 up to the indicator's threshold is withheld (``c``) with the value built on it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.data import View
from dashboard.exports.common import ExportError, produced_on, sources_line, write_error
from dashboard.formatting import COMPARISON_WORDS, format_indicator_value, is_number, word
from etl.safe_cells import atomic_path, escape_cell
from indicators.definitions import Indicator, Polarity, Unit
from indicators.periods import Quarter
from indicators.suppression import CONFIDENTIAL, NOT_AVAILABLE, SYMBOLS, is_small

FORMATS = ("xlsx", "pdf")
YEARS_SHOWN = 4


def parse_year(text: str) -> int:
    """The financial year's starting calendar year from "2025-26" (or "2025/26")."""
    m = re.fullmatch(r"\s*(\d{4})\s*[-/]\s*(\d{2}|\d{4})\s*", str(text or ""))
    if not m or (int(m.group(2)) % 100) != (int(m.group(1)) + 1) % 100:
        raise ExportError(f"'{text}' is not a financial year. Write it like 2025-26.")
    return int(m.group(1))


def fy_label(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


@dataclass
class YearValue:
    value: float | None
    numerator: float | None
    status: str  # ok | withheld | not_available


@dataclass
class AnnualRow:
    indicator: Indicator
    years: dict[int, YearValue]
    neighbours: float | None
    england: float | None
    vs_neighbours: str
    vs_england: str
    comparator_year: int | None
    sentence: str
    priorities: list[str] = field(default_factory=list)


def _quarters_of(start: int) -> list[Quarter]:
    return [Quarter.parse(f"{fy_label(start)} Q{q}") for q in (1, 2, 3, 4)]


def year_value(view: View, ind: Indicator, start: int) -> YearValue:
    rows = {r["period"]: r for r in view.history(ind.id)}
    qs = [rows.get(str(q)) for q in _quarters_of(start)]
    if ind.period_type.value in ("rolling_12m", "fytd", "snapshot"):
        r = qs[3]
        if r is None or not is_number(r.get("value")):
            return YearValue(None, None, "not_available")
        return _checked(ind, view, float(r["value"]), r.get("numerator"))
    if any(r is None or not is_number(r.get("quarter_value")) for r in qs):
        return YearValue(None, None, "not_available")
    nums = [r.get("quarter_numerator") for r in qs]
    dens = [r.get("quarter_denominator") for r in qs]
    num = sum(float(n) for n in nums) if all(is_number(n) for n in nums) else None
    if ind.unit == Unit.count:
        value = sum(float(r["quarter_value"]) for r in qs)
        num = value
    elif num is not None and all(is_number(d) for d in dens) and sum(float(d) for d in dens) > 0:
        if ind.unit == Unit.rate_per_10000:  # a year's count over the year's population (not four of them)
            value = num / (sum(float(d) for d in dens) / 4) * 10_000
        else:
            value = num / sum(float(d) for d in dens) * (100 if ind.unit == Unit.percentage else 1)
    else:
        return YearValue(None, None, "not_available")
    return _checked(ind, view, value, num)


def _checked(ind: Indicator, view: View, value: float, numerator) -> YearValue:
    measure = view.library.measures.get(ind.numerator)
    counts = measure is not None and measure.whole_number
    if counts and is_small(numerator, ind.suppress_below):
        return YearValue(None, None, "withheld")
    return YearValue(value, float(numerator) if is_number(numerator) else None, "ok")


def _text(ind: Indicator, yv: YearValue) -> str:
    if yv.status == "withheld":
        return CONFIDENTIAL
    if yv.status != "ok":
        return NOT_AVAILABLE
    return format_indicator_value(yv.value, ind)


def sentence(ind: Indicator, start: int, years: dict[int, YearValue], nb, eng, vs_nb: str, vs_eng: str) -> str:
    this = years.get(start)
    label = ind.label
    if this is None or this.status == "withheld":
        return (f"{label} in {fy_label(start)} is withheld: it rests on a small number (from 1 to "
                f"{ind.suppress_below - 1}).")
    if this.status != "ok":
        return f"{label} is not available for {fy_label(start)}: not every quarter of the year was returned."
    out = f"{label} was {format_indicator_value(this.value, ind)} in {fy_label(start)}"
    prev = years.get(start - 1)
    if prev is not None and prev.status == "ok":
        diff = this.value - prev.value
        if abs(diff) < 10 ** -(ind.decimals) / 2:
            move = "the same as"
        elif ind.polarity == Polarity.context:
            move = "higher than" if diff > 0 else "lower than"
        else:
            better = (diff > 0) == (ind.polarity == Polarity.higher_better)
            move = ("better than" if better else "worse than")
        out += f", {move} {format_indicator_value(prev.value, ind)} in {fy_label(start - 1)}"
    out += "."
    comps = []
    if is_number(nb):
        comps.append(f"its statistical neighbours' average was {format_indicator_value(nb, ind)} "
                     f"({word(COMPARISON_WORDS, vs_nb).lower()})")
    if is_number(eng):
        comps.append(f"England's {format_indicator_value(eng, ind)} ({word(COMPARISON_WORDS, vs_eng).lower()})")
    if comps:
        out += " Compared with the published figures, " + " and ".join(comps) + "."
    return out


def annual_rows(view: View, start: int) -> list[AnnualRow]:
    q4 = _quarters_of(start)[3]
    if q4 not in view.periods:
        have = sorted({q.fy for q in view.periods if q.q == 4})
        valid = ", ".join(fy_label(y) for y in have) or "none yet"
        raise ExportError(f"there is no data for the end of {fy_label(start)} ({q4}). Years with a fourth "
                          f"quarter: {valid}.")
    pv = view.at_period(q4)
    names = {p.id: p.name for p in view.board.priorities}
    rows = []
    for ind_id, ind in pv.indicators.items():
        years = {y: year_value(pv, ind, y) for y in range(start - YEARS_SHOWN + 1, start + 1)}
        r = pv.row(ind_id, q4) or {}
        nb = r.get("neighbours_mean") if is_number(r.get("neighbours_mean")) else None
        eng = r.get("england_value") if is_number(r.get("england_value")) else None
        vs_nb, vs_eng = str(r.get("vs_neighbours") or "not_compared"), str(r.get("vs_england") or "not_compared")
        if years[start].status != "ok":  # a withheld value must not be compared in words either
            vs_nb = vs_eng = "not_compared"
        rows.append(AnnualRow(ind, years, nb, eng, vs_nb, vs_eng,
                              int(r["comparator_year"]) if is_number(r.get("comparator_year")) else None,
                              sentence(ind, start, years, nb, eng, vs_nb, vs_eng),
                              [names[p] for p in ind.priorities if p in names]))
    return rows


def _notes(view: View, start: int, rows: list[AnnualRow]) -> list[tuple[str, str]]:
    withheld = sum(1 for r in rows for y in r.years.values() if y.status == "withheld")
    return [("Annex", f"{view.board.name}: the partnership's indicators for {fy_label(start)}, for the annual "
                      "report"),
            ("Produced", produced_on()),
            ("Mode", "Publication: counts from 1 up to each indicator's threshold are withheld (c), with the value "
                     "built on them; the comparison words are left out for a withheld value."),
            ("Withheld", f"{withheld} yearly value(s) withheld."),
            ("Years", "A year's value: the fourth quarter's headline for 12-month, year-to-date and point-in-time "
                      "indicators; for quarterly flows, built from the year's four quarters."),
            ("Comparisons", "Neighbours' average and England: the latest published DfE year available at the "
                            "year's end (its year is in the table)."),
            ("Source", sources_line(view))] + [(f"Symbol {k}", v) for k, v in SYMBOLS.items()]


def export_annual_report(view: View, path: str | Path, year: str, fmt: str) -> int:
    """Write the annex; returns the number of indicators in it."""
    if fmt not in FORMATS:
        raise ExportError(f"'{fmt}' is not an annual report format. Choose one of: {', '.join(FORMATS)}.")
    start = parse_year(year)
    rows = annual_rows(view, start)
    years = list(range(start - YEARS_SHOWN + 1, start + 1))
    target = Path(path)
    try:
        if fmt == "xlsx":
            _xlsx(view, rows, years, start, target)
        else:
            _pdf(view, rows, years, start, target)
    except OSError as exc:
        raise write_error(target, exc) from exc
    return len(rows)


HEADERS = ["Indicator", "Priorities", "Polarity"]


def _xlsx(view: View, rows: list[AnnualRow], years: list[int], start: int, target: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Annual report"
    ws.cell(1, 1, escape_cell(f"{view.board.name}: indicators for {fy_label(start)}")).font = Font(bold=True, size=14)
    heads = HEADERS + [fy_label(y) for y in years] + ["Neighbours' average", "England", "Published year",
                                                      "In a sentence"]
    for c, h in enumerate(heads, 1):
        ws.cell(3, c, escape_cell(h)).font = Font(bold=True)
    for r, row in enumerate(rows, 4):
        ind = row.indicator
        vals = [ind.label, "; ".join(row.priorities), ind.polarity.value.replace("_", " ")]
        vals += [_text(ind, row.years[y]) for y in years]
        vals += [format_indicator_value(row.neighbours, ind) if row.neighbours is not None else NOT_AVAILABLE,
                 format_indicator_value(row.england, ind) if row.england is not None else NOT_AVAILABLE,
                 fy_label(row.comparator_year - 1) if row.comparator_year else NOT_AVAILABLE, row.sentence]
        for c, v in enumerate(vals, 1):
            ws.cell(r, c, escape_cell(v)).alignment = Alignment(wrap_text=True, vertical="top")
    for c, w in enumerate([30, 24, 14] + [11] * len(years) + [14, 12, 11, 90], 1):
        ws.column_dimensions[ws.cell(3, c).column_letter].width = w
    ws.freeze_panes = "B4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:3"
    notes = wb.create_sheet("Notes")
    for r, (k, v) in enumerate(_notes(view, start, rows), 1):
        notes.cell(r, 1, escape_cell(k))
        notes.cell(r, 2, escape_cell(v))
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 120
    with atomic_path(target, ".xlsx") as tmp:
        wb.save(tmp)


def _pdf(view: View, rows: list[AnnualRow], years: list[int], start: int, target: Path) -> None:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise ExportError("the PDF annex needs WeasyPrint and Pango: `pip install weasyprint` and "
                          "`apt-get install libpango-1.0-0 libpangoft2-1.0-0`.") from exc
    e = html.escape
    head = "".join(f"<th>{e(fy_label(y))}</th>" for y in years)
    body = "".join(
        f"<tr><td><b>{e(r.indicator.label)}</b><br><span class='s'>{e('; '.join(r.priorities))}</span></td>"
        + "".join(f"<td>{e(_text(r.indicator, r.years[y]))}</td>" for y in years)
        + f"<td>{e(format_indicator_value(r.neighbours, r.indicator) if r.neighbours is not None else 'x')}</td>"
        f"<td>{e(format_indicator_value(r.england, r.indicator) if r.england is not None else 'x')}</td>"
        f"<td class='s'>{e(r.sentence)}</td></tr>" for r in rows)
    notes = "".join(f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in _notes(view, start, rows))
    doc = (f"<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'><title>{e(view.board.name)} "
           f"{fy_label(start)}</title><style>@page {{ size: A4 landscape; margin: 12mm; @bottom-right {{ content: "
           "'Page ' counter(page) ' of ' counter(pages); font-size: 8pt; }} }} body {{ font-family: 'DejaVu Sans', "
           "sans-serif; font-size: 9pt; }} table {{ border-collapse: collapse; width: 100%; }} th, td {{ border-bottom:"
           " .5pt solid #999; padding: 2pt 4pt; vertical-align: top; text-align: left; }} th {{ background: #1f3a5f; "
           "color: #fff; }} thead {{ display: table-header-group; }} tr {{ page-break-inside: avoid; }} .s {{ "
           f"font-size: 8pt; }}</style></head><body><h1>{e(view.board.name)}: indicators for {fy_label(start)}</h1>"
           f"<p>Annex to the annual report. For publication.</p><table><thead><tr><th>Indicator</th>{head}"
           f"<th>Neighbours' average</th><th>England</th><th>In a sentence</th></tr></thead><tbody>{body}</tbody>"
           f"</table><h2>Notes</h2><ul>{notes}</ul></body></html>")
    rendered = HTML(string=doc).render()
    with atomic_path(target, ".pdf") as tmp:
        rendered.write_pdf(str(tmp))
