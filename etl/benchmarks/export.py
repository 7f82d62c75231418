"""Reading stored benchmarks back: as a tidy CSV, as a DataFrame, and as a summary per dataset."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from etl.benchmarks.csvfile import quote
from etl.errors import OBAError
from etl.faults import file_fault
from etl.safe_cells import escape_cell
from etl.store import BenchmarkRelease, BenchmarkValue

EXPORT_COLUMNS = ["dataset", "source_file", "measure", "filters", "area_code", "area_name", "geographic_level",
                  "la_number", "region_code", "time_period", "time_identifier", "value", "note"]
"""The tidy export, one row per stored figure. ``source_file`` is the file its value came from."""

POPULATION_MEASURE = "population_estimate"


class UnknownDataset(OBAError):
    """The dataset asked for is not stored."""


def _level_order(column):
    return case({"National": 0, "Regional": 1, "Local authority": 2}, value=column, else_=3)


def _select(datasets: list[str] | None = None, measures: list[str] | None = None):
    v, r = BenchmarkValue.__table__, BenchmarkRelease.__table__
    stmt = select(v.c.dataset, r.c.file_name.label("source_file"), v.c.measure, v.c.filters, v.c.area_code,
                  v.c.area_name, v.c.geographic_level, v.c.la_number, v.c.region_code, v.c.time_period,
                  v.c.time_identifier, v.c.value, v.c.note).join(r, r.c.id == v.c.release_id)
    if datasets:
        stmt = stmt.where(v.c.dataset.in_(datasets))
    if measures:
        stmt = stmt.where(v.c.measure.in_(measures))
    return stmt.order_by(v.c.dataset, v.c.measure, v.c.filters, _level_order(v.c.geographic_level), v.c.area_code,
                         v.c.time_period, v.c.time_identifier)


def _check_dataset(engine: Engine, dataset: str | None) -> None:
    if not dataset:
        return
    v = BenchmarkValue.__table__
    with engine.connect() as conn:
        if conn.execute(select(v.c.id).where(v.c.dataset == dataset).limit(1)).first() is None:
            known = [r[0] for r in conn.execute(select(v.c.dataset).distinct().order_by(v.c.dataset))]
            raise UnknownDataset(f"no dataset {quote(dataset)} is stored; stored datasets: "
                                 f"{', '.join(known) or 'none (import files with `oba benchmarks import`)'}")


def format_value(value: float | None) -> str:
    """A value as published: whole numbers without a decimal point, others in their shortest exact form."""
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def export_benchmarks(engine: Engine, path: Path | str, dataset: str | None = None) -> int:
    """Write the stored benchmarks (or one dataset) to ``path`` as one tidy CSV; returns the number of rows.

    Columns are ``EXPORT_COLUMNS``; a suppressed figure has a blank value and its symbol in ``note``. The file
    is written to a temporary name and moved into place, so a failed export leaves no half-written file.
    """
    _check_dataset(engine, dataset)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh, engine.connect() as conn:
            out = csv.writer(fh)
            out.writerow(EXPORT_COLUMNS)
            result = conn.execution_options(stream_results=True, yield_per=5000).execute(
                _select([dataset] if dataset else None))
            for row in result:
                rec = list(row)
                rec[7] = "" if rec[7] is None else rec[7]
                rec[8] = rec[8] or ""
                rec[11] = format_value(rec[11])
                rec[12] = rec[12] or ""
                # Text from published files (names, filters, notes) is escaped so a spreadsheet never runs it
                # as a formula; values are numbers as text, which escape_cell keeps numeric (-2.5 stays -2.5).
                out.writerow([escape_cell(v) for v in rec])
                n += 1
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        fault = file_fault(exc, path) if isinstance(exc, OSError) else None
        if fault is not None:
            raise fault from exc
        raise
    return n


def load_benchmarks(engine: Engine, datasets: list[str] | None = None,
                    measures: list[str] | None = None) -> pd.DataFrame:
    """Stored benchmarks as a DataFrame in ``EXPORT_COLUMNS`` (value float, NaN when blank or suppressed)."""
    with engine.connect() as conn:
        rows = conn.execute(_select(datasets, measures)).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=EXPORT_COLUMNS)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame["la_number"] = frame["la_number"].astype("Int64")
    frame["time_period"] = frame["time_period"].astype("int64")
    return frame


def benchmark_summary(engine: Engine) -> pd.DataFrame:
    """One row per stored dataset: measures, first and last period, values, releases, latest file and import."""
    v, r = BenchmarkValue.__table__, BenchmarkRelease.__table__
    with engine.connect() as conn:
        per_measure = conn.execute(select(v.c.dataset, v.c.measure, func.count(), func.min(v.c.time_period),
                                          func.max(v.c.time_period))
                                   .group_by(v.c.dataset, v.c.measure).order_by(v.c.dataset, func.min(v.c.id))).all()
        releases = conn.execute(select(r.c.dataset, r.c.file_name, r.c.imported_at, r.c.imported_by, r.c.id)
                                .order_by(r.c.dataset, r.c.imported_at, r.c.id)).all()
    latest: dict[str, tuple] = {}
    count: dict[str, int] = {}
    for ds, file_name, at, by, _ in releases:
        latest[ds] = (file_name, at, by)
        count[ds] = count.get(ds, 0) + 1
    out: dict[str, dict] = {}
    for ds, measure, n, first, last in per_measure:
        row = out.setdefault(ds, {"dataset": ds, "measures": [], "values": 0, "first_period": first,
                                  "last_period": last})
        row["measures"].append(measure)
        row["values"] += n
        row["first_period"] = min(row["first_period"], first)
        row["last_period"] = max(row["last_period"], last)
    for ds, row in out.items():
        file_name, at, by = latest.get(ds, (None, None, None))
        row.update(releases=count.get(ds, 0), file_name=file_name, imported_at=at, imported_by=by)
    columns = ["dataset", "measures", "first_period", "last_period", "values", "releases", "file_name",
               "imported_at", "imported_by"]
    return pd.DataFrame(list(out.values()), columns=columns)
