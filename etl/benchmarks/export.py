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
from etl.store import BenchmarkMeasure, BenchmarkPlace, BenchmarkRelease, BenchmarkSeries, BenchmarkValue

EXPORT_COLUMNS = ["dataset", "source_file", "measure", "filters", "area_code", "area_name", "geographic_level",
                  "la_number", "region_code", "time_period", "time_identifier", "value", "note"]
"""The tidy export, one row per stored figure. ``source_file`` is the file its value came from."""

POPULATION_MEASURE = "population_estimate"


class UnknownDataset(OBAError):
    """The dataset asked for is not stored."""


def _level_order(column):
    return case({"National": 0, "Regional": 1, "Local authority": 2}, value=column, else_=3)


def _joined(*columns):
    """A select of ``columns`` over every stored figure joined to its measure, series and place."""
    v, m = BenchmarkValue.__table__, BenchmarkMeasure.__table__
    s, p = BenchmarkSeries.__table__, BenchmarkPlace.__table__
    return select(*columns).select_from(v.join(m, m.c.id == v.c.measure_id).join(s, s.c.id == v.c.series_id)
                                        .join(p, p.c.id == v.c.place_id))


def benchmark_rows():
    """Every stored figure in its long form, as a subquery with the names: id, dataset, measure, filters,
    geographic_level, area_code, area_name, la_number, region_code, time_period, time_identifier, value, note,
    release_id. (The store keeps names once in small tables; this puts them back beside each figure.)"""
    v, m = BenchmarkValue.__table__, BenchmarkMeasure.__table__
    s, p = BenchmarkSeries.__table__, BenchmarkPlace.__table__
    return _joined(v.c.id, m.c.dataset, m.c.measure, s.c.filters, p.c.geographic_level, s.c.area_code,
                   p.c.area_name, p.c.la_number, p.c.region_code, v.c.time_period, s.c.time_identifier, v.c.value,
                   v.c.note, v.c.release_id).subquery("benchmark_rows")


def _select(datasets: list[str] | None = None, measures: list[str] | None = None):
    v, r, m = BenchmarkValue.__table__, BenchmarkRelease.__table__, BenchmarkMeasure.__table__
    s, p = BenchmarkSeries.__table__, BenchmarkPlace.__table__
    stmt = _joined(m.c.dataset, r.c.file_name.label("source_file"), m.c.measure, s.c.filters, s.c.area_code,
                   p.c.area_name, p.c.geographic_level, p.c.la_number, p.c.region_code, v.c.time_period,
                   s.c.time_identifier, v.c.value, v.c.note).join(r, r.c.id == v.c.release_id)
    if datasets:
        stmt = stmt.where(m.c.dataset.in_(datasets))
    if measures:
        stmt = stmt.where(m.c.measure.in_(measures))
    return stmt.order_by(m.c.dataset, m.c.measure, s.c.filters, _level_order(p.c.geographic_level), s.c.area_code,
                         v.c.time_period, s.c.time_identifier)


def _check_dataset(engine: Engine, dataset: str | None) -> None:
    if not dataset:
        return
    m = BenchmarkMeasure.__table__
    with engine.connect() as conn:
        if conn.execute(select(m.c.id).where(m.c.dataset == dataset).limit(1)).first() is None:
            known = [r[0] for r in conn.execute(select(m.c.dataset).distinct().order_by(m.c.dataset))]
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
    v, r, m = BenchmarkValue.__table__, BenchmarkRelease.__table__, BenchmarkMeasure.__table__
    with engine.connect() as conn:
        counts = select(v.c.measure_id, func.count().label("n"), func.min(v.c.time_period).label("first"),
                        func.max(v.c.time_period).label("last")).group_by(v.c.measure_id).subquery()
        per_measure = conn.execute(select(m.c.dataset, m.c.measure, counts.c.n, counts.c.first, counts.c.last)
                                   .join(counts, counts.c.measure_id == m.c.id).order_by(m.c.dataset, m.c.id)).all()
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
