"""The agency returns grid: agencies × quarters, each cell's status in words, expandable to its details."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from dash import html

from dashboard.formatting import is_number, plural
from indicators.periods import Quarter

STATUS = {
    # status: (symbol, words, css)
    "received": ("✓", "Received", "received"),
    "late": ("!", "Late", "late"),
    "missing": ("✕", "Missing", "missing"),
    "revised": ("↻", "Revised", "revised"),
    "not_yet_due": ("…", "Not yet due", "notdue"),
    "": ("–", "No return recorded", "none"),
}


def _items(x: Any) -> list:
    """Lists, tuples, ';'-separated text or a single value, as a list (empty for blanks and NaN)."""
    if x is None or (isinstance(x, float) and x != x):
        return []
    if isinstance(x, (list, tuple, set)):
        return list(x)
    if hasattr(x, "tolist"):
        return list(x.tolist())
    if isinstance(x, str):
        return [s.strip() for s in x.split(";") if s.strip()] if x.strip() else []
    return [x]


def _issue_text(issue: Any) -> str:
    if isinstance(issue, dict):
        where = ", ".join(str(issue[k]) for k in ("sheet", "cell", "measure_code", "measure") if issue.get(k))
        msg = issue.get("message") or issue.get("code") or ""
        level = issue.get("level")
        head = f"{level.capitalize()}: " if isinstance(level, str) and level else ""
        return f"{head}{msg}" + (f" ({where})" if where else "")
    return str(issue)


def _date(x: Any) -> str:
    if isinstance(x, (dt.date, dt.datetime)):
        return x.strftime("%-d %b %Y")
    if x is None or (isinstance(x, float) and x != x):
        return "–"
    try:
        return dt.date.fromisoformat(str(x)[:10]).strftime("%-d %b %Y")
    except ValueError:
        return str(x)


def cell_summary(rec: dict | None) -> tuple[str, str, str, int]:
    """(symbol, words, css class, number of warnings) for one agency's return in one quarter."""
    status = str(rec.get("status") or "") if rec else ""
    symbol, words, css = STATUS.get(status, STATUS[""])
    if rec and status == "late" and bool(rec.get("revised")):
        words += ", revised"
    warnings = rec.get("warnings") if rec else None
    n = int(warnings) if is_number(warnings) else len(_items(warnings))
    return symbol, words, css, n


def return_cell(rec: dict | None, agency_name: str, period: str) -> html.Td:
    symbol, words, css, n_warn = cell_summary(rec)
    issues = _items(rec.get("issues")) if rec else []
    missing = _items(rec.get("missing_measures")) if rec else []
    label = [html.Span(symbol, className="sym", **{"aria-hidden": "true"}), words]
    if n_warn:
        label.append(html.Span(f" · {plural(n_warn, 'warning')}", className="warn-count"))
    details: list[Any] = []
    if rec:
        details.append(html.Li(f"Due {_date(rec.get('due_date'))}; received {_date(rec.get('received_on'))}"))
        version = rec.get("version")
        if is_number(version) and int(version) > 1:
            details.append(html.Li(f"Version {int(version)}: resubmitted with changes"))
        if missing:
            details.append(html.Li(f"Measures not returned: {', '.join(map(str, missing))}"))
        warnings = rec.get("warnings")
        if not is_number(warnings):
            issues = _items(warnings) + [i for i in issues if i not in _items(warnings)]
        for issue in issues:
            details.append(html.Li(_issue_text(issue)))
        if not missing and not issues and not n_warn:
            details.append(html.Li("No warnings or issues."))
    else:
        details.append(html.Li("Nothing has been received or recorded for this quarter."))
    return html.Td(
        html.Details([
            html.Summary(label, **{"aria-label": f"{agency_name}, {period}: {words}"
                                                 + (f", {plural(n_warn, 'warning')}" if n_warn else "")}),
            html.Ul(details, className="cell-details"),
        ]),
        className=f"ret ret-{css}")


def returns_grid(status: Any, agencies: Sequence[tuple[str, str]], periods: Sequence[Quarter]) -> html.Div:
    """``status`` is the return-status frame; ``agencies`` (code, name) in board order; ``periods`` oldest first."""
    recs: dict[tuple[str, str], dict] = {}
    if status is not None and len(status):
        for r in status.to_dict("records"):
            recs[(str(r["agency_code"]), str(r["period"]))] = r
    head = html.Thead(html.Tr([html.Th("Agency", scope="col")] +
                              [html.Th(q.label, scope="col", className="ret-period") for q in periods]))
    body = []
    for code, name in agencies:
        body.append(html.Tr([html.Th(name, scope="row", className="ret-agency")] +
                            [return_cell(recs.get((code, q.label)), name, q.label) for q in periods]))
    return html.Div(html.Table([
        html.Caption("Each agency's quarterly return: open a cell to see its dates, warnings and issues"),
        head, html.Tbody(body)], className="table returns-grid align-middle"), className="table-responsive")


def returns_counts(status: Any, period: Quarter, agencies: Sequence[tuple[str, str]]) -> dict[str, int]:
    """How many agencies' returns for ``period`` are in each status (agencies with no record count as '')."""
    counts = {k: 0 for k in STATUS}
    recs = {}
    if status is not None and len(status):
        s = status[status["period"] == period.label]
        recs = {str(r["agency_code"]): str(r.get("status") or "") for r in s.to_dict("records")}
    for code, _ in agencies:
        counts[recs.get(code, "")] = counts.get(recs.get(code, ""), 0) + 1
    return counts
