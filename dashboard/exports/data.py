"""The multi-agency dataset as a file: its rows as ``docs/dataset.md`` documents them, in CSV or Excel.

The Excel file has the data, a *definitions* sheet (each indicator's definition, source, polarity, period type
and suppression threshold), a *columns* sheet (what each column means), a *notes* sheet (what the file is, when
it was produced, what was withheld) and, in publication mode, a *withheld* sheet listing every withheld cell and
why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dashboard.data import View
from dashboard.exports.common import ExportError, check_choice, produced_on, sources_line, write_error
from etl.safe_cells import atomic_path, escape_cell, write_csv
from indicators import columns
from indicators.periods import Quarter
from indicators.suppression import SYMBOLS, Publication, publication_frame

MODE_WORDS = {
    False: "Internal: every figure is shown, small numbers included. OFFICIAL-SENSITIVE: do not publish.",
    True: "Publication: counts from 1 up to each indicator's threshold, and every figure they could be worked out "
          "from, are withheld (c), as the GSS convention asks.",
}


@dataclass
class DataExport:
    """The rows to write and what to say about them."""

    frame: pd.DataFrame
    title: str
    notes: list[tuple[str, str]]
    withheld: list[dict] = field(default_factory=list)
    publication: bool = False


def _indicator_ids(view: View, priority) -> list[str]:
    if priority is None:
        return list(view.indicators)
    return [i.id for i in view.priority_indicators(priority.id)]


def dataset_rows(view: View, period: Quarter | None = None, priority=None, publication: bool = False,
                 now=None, indicator: str | None = None) -> DataExport:
    """The dataset's rows: one quarter's as they stood then (``period``), else every quarter and the forecast.

    Every area in the store is included (several areas may report into one store); ``priority`` keeps the
    indicators serving that board priority.
    """
    if period is not None:
        pv = view.at_period(period)
        frame = pv.dataset.frame
        frame = frame[(frame["period"] == period.label) & ~frame["is_forecast"].astype(bool)]
    else:
        frame = view.dataset.frame
    ids = _indicator_ids(view, priority)
    if indicator is not None:
        ids = [i for i in ids if i == indicator]
    frame = frame[frame["indicator_id"].isin(ids)]
    order = {i: n for n, i in enumerate(ids)}
    frame = frame.assign(_o=frame["indicator_id"].map(order)).sort_values(
        ["_o", "area_code", "period_index"], kind="stable").drop(columns="_o")
    keep = [c for c in columns.names(columns.FRAME) if c in frame.columns]
    frame = frame[keep].reset_index(drop=True)
    withheld: list[dict] = []
    if publication:
        pub = publication_frame(frame, view.library)
        frame, withheld = pub.frame, pub.withheld
        per_row: dict[tuple, list[str]] = {}
        for w in withheld:
            per_row.setdefault((w["indicator_id"], w["area_code"], w["period"]), []).append(w["column"])
        frame["publication_note"] = [
            ("withheld (c): " + ", ".join(per_row[k]) + "; see the notes") if k in per_row else ""
            for k in zip(frame["indicator_id"], frame["area_code"], frame["period"], strict=True)]
    scope = f"{period}" if period else "every quarter, with the forecast"
    if priority is not None:
        scope += f", {priority.name}"
    if indicator is not None:
        scope += f", {view.library.indicators[indicator].label}"
    title = f"{view.area_name} multi-agency dataset: {scope}"
    notes = [
        ("File", title),
        ("Partnership", f"{view.area_name} ({view.board.local_authority.ons_code})"),
        ("Quarter", str(period) if period else f"every quarter up to {view.current}, and 4 forecast quarters"),
        ("Board priority", priority.name if priority is not None else "all"),
        ("Produced", produced_on(now)),
        ("Mode", MODE_WORDS[publication]),
        ("Source", sources_line(view)),
        ("Columns", "As documented in docs/dataset.md (the columns sheet of the Excel file)."),
        ("Rows", f"{len(frame)}"),
    ]
    if publication:
        for n, line in enumerate(Publication(frame, withheld).summary(), 1):
            notes.append((f"Withheld {n}", line))
        for sym, meaning in SYMBOLS.items():
            notes.append((f"Symbol {sym}", meaning))
    return DataExport(frame, title, notes, withheld, publication)


def definitions_frame(view: View, ids: list[str]) -> pd.DataFrame:
    rows = []
    agencies = {a.code: a.name for a in view.board.agencies}
    for ind_id in ids:
        ind = view.library.indicators[ind_id]
        target, tolerance = view.board.target_for(ind)
        bench = ind.benchmark
        rows.append({
            "indicator_id": ind.id, "title": ind.title, "definition": ind.definition,
            "question": ind.question.title, "unit": ind.unit.value, "period_type": ind.period_type.value,
            "polarity": ind.polarity.value, "priorities": "; ".join(
                p.name for p in view.board.priorities if p.id in ind.priorities),
            "source": f"{agencies.get(ind.agency, ind.agency)} quarterly return"
                      + (f"; benchmarked against DfE's published {bench.dataset} ({bench.measure})"
                         if bench is not None else "; no published benchmark"),
            "numerator": ind.numerator, "denominator": ind.denominator or "",
            "target": target, "tolerance": tolerance,
            "suppression": f"counts from 1 to {ind.suppress_below - 1} are withheld in publication mode"
                           if ind.suppress_below > 1 else "no small-number suppression",
        })
    return pd.DataFrame(rows)


def columns_frame(extra: bool = False) -> pd.DataFrame:
    rows = [{"column": n, "type": c.dtype, "meaning": c.meaning} for c in columns.FRAME for n in c.names]
    if extra:
        rows.append({"column": "publication_note", "type": "str",
                     "meaning": "in publication mode: which of the row's figures were withheld (c)"})
    return pd.DataFrame(rows)


def write_data(export: DataExport, view: View, path: str | Path, fmt: str) -> Path:
    """Write ``export`` as CSV or Excel at ``path`` (atomically); returns the path."""
    check_choice("format", fmt, ("csv", "xlsx"))
    target = Path(path)
    try:
        if fmt == "csv":
            write_csv(_csv_ready(export.frame), target)
        else:
            _write_xlsx(export, view, target)
    except OSError as exc:
        raise write_error(target, exc) from exc
    return target


def _csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == bool or (out[c].dtype == object and out[c].map(type).eq(bool).any()):
            out[c] = out[c].map(lambda v: {True: "true", False: "false"}.get(v, v) if isinstance(v, bool) else v)
    return out


def _cell(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item") and not isinstance(v, str):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, pd.Timestamp):
        return v.date()
    return escape_cell(v)


def _write_xlsx(export: DataExport, view: View, target: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)

    def header(ws, names):
        cells = []
        for n in names:
            c = WriteOnlyCell(ws, value=escape_cell(n))
            c.font = bold
            cells.append(c)
        ws.append(cells)

    ws = wb.create_sheet("data")
    ws.freeze_panes = "A2"
    names = list(export.frame.columns)
    header(ws, names)
    for rec in export.frame.itertuples(index=False, name=None):
        ws.append([_cell(v) for v in rec])

    ids = list(dict.fromkeys(export.frame["indicator_id"])) if len(export.frame) else list(view.indicators)
    for name, frame in (("definitions", definitions_frame(view, ids)),
                        ("columns", columns_frame(export.publication))):
        ws = wb.create_sheet(name)
        ws.freeze_panes = "A2"
        header(ws, list(frame.columns))
        for rec in frame.itertuples(index=False, name=None):
            ws.append([_cell(v) for v in rec])

    ws = wb.create_sheet("notes")
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 120
    header(ws, ["note", "text"])
    for k, v in export.notes:
        c = WriteOnlyCell(ws, value=escape_cell(v))
        c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.append([escape_cell(k), c])
    if export.publication:
        ws = wb.create_sheet("withheld")
        ws.freeze_panes = "A2"
        header(ws, ["indicator_id", "area_code", "period", "column", "reason"])
        for w in export.withheld:
            ws.append([escape_cell(w[k]) for k in ("indicator_id", "area_code", "period", "column", "reason")])
    with atomic_path(target, ".xlsx") as tmp:
        wb.save(tmp)


def export_data(view: View, path: str | Path, fmt: str, period: Quarter | None = None, priority=None,
                publication: bool = False) -> DataExport:
    """Build and write the data export; returns what was written."""
    if fmt not in ("csv", "xlsx"):
        raise ExportError(f"'{fmt}' is not a format for the data. Choose one of: csv, xlsx.")
    export = dataset_rows(view, period, priority, publication)
    write_data(export, view, path, fmt)
    return export
