"""Reading the store into the frames the indicator library works on.

The dashboard and every export fetch data through here: one place that knows the schema, so callbacks stay
thin and ``indicators/`` never sees SQL.
"""

from __future__ import annotations

import hashlib
import logging

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from etl.benchmarks.export import POPULATION_MEASURE, load_benchmarks
from etl.benchmarks.neighbours import NeighbourSetNotFound, neighbours_of
from etl.returns.status import return_status
from etl.store import (
    ActionPlanItem,
    Area,
    BenchmarkPlace,
    BenchmarkRelease,
    BenchmarkValue,
    CurveDecision,
    CurveStory,
    NeighbourSet,
    RebaseDecision,
    ReturnValue,
    ReturnVersion,
)
from indicators.benchmarking import BENCHMARK_COLUMNS
from indicators.board import Board
from indicators.dataset import Dataset, build_dataset
from indicators.definitions import POPULATION, Library

log = logging.getLogger(__name__)



def store_version(engine: Engine) -> str:
    """A short fingerprint that changes whenever returns, benchmarks, neighbours or governance records change."""
    parts = []
    with engine.connect() as conn:
        for model, col in ((ReturnVersion, ReturnVersion.id), (ReturnVersion, ReturnVersion.superseded_at),
                           (BenchmarkRelease, BenchmarkRelease.id), (NeighbourSet, NeighbourSet.imported_at),
                           (CurveStory, CurveStory.updated_at), (ActionPlanItem, ActionPlanItem.created_at),
                           (RebaseDecision, RebaseDecision.recorded_at), (CurveDecision, CurveDecision.id)):
            parts.append(str(conn.execute(select(func.count(), func.max(col)).select_from(model)).one()))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def read_measures(engine: Engine, board: Board) -> pd.DataFrame:
    """The current version of every return, as area_code, period, measure, value, status (+ agency_code)."""
    stmt = (select(ReturnVersion.agency_code, ReturnVersion.period, ReturnValue.measure_code, ReturnValue.value,
                   ReturnValue.status)
            .join(ReturnValue, ReturnValue.return_id == ReturnVersion.id)
            .where(ReturnVersion.is_current.is_(True)))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    df = pd.DataFrame(rows, columns=["agency_code", "period", "measure", "value", "status"])
    df["status"] = df["status"].replace({"blank": "missing"})
    df.insert(0, "area_code", board.local_authority.ons_code)
    return df


def read_benchmarks(engine: Engine, library: Library) -> pd.DataFrame:
    """The stored EES rows for every dataset and column the indicators are benchmarked against."""
    datasets, measures = set(), set()
    for ind in library.indicators.values():
        b = ind.benchmark
        if b is None:
            continue
        datasets.add(b.dataset)
        measures |= {b.measure} | {c for c in (b.numerator, b.denominator) if c and c != POPULATION}
    if not datasets:
        return pd.DataFrame(columns=BENCHMARK_COLUMNS)
    return load_benchmarks(engine, sorted(datasets), sorted(measures))[BENCHMARK_COLUMNS]


def read_population(engine: Engine) -> pd.DataFrame:
    """ONS mid-year estimates of children aged 0 to 17: area_code, la_number, year, population.

    Any imported dataset with a ``population_estimate`` column counts; where several age groups are stored,
    the 0 to 17 one is used. ``la_number`` is DfE's 3-digit LA number (empty for England and the regions):
    rates join on it and the year, because an authority's ONS code can change while its number does not
    (North Yorkshire and Somerset in 2023, Northumberland and Gateshead before 2020). Each LA's years are
    also given under its current ONS code (``current_codes``), so an area looked up by today's code (the
    board's own) finds its population for every year.
    """
    columns = ["area_code", "la_number", "year", "population"]
    df = load_benchmarks(engine, None, [POPULATION_MEASURE])
    if df.empty:
        return pd.DataFrame(columns=columns)
    children = df["filters"].str.contains("0 to 17", regex=False) | df["dataset"].str.contains("0_17", regex=False)
    df = df[children] if children.any() else df
    df = df.rename(columns={"time_period": "year", "value": "population"}).dropna(subset=["population"])
    df = df.drop_duplicates(["area_code", "year"])[columns]
    las = df[df["la_number"].notna()]
    if len(las):
        codes = current_codes(engine)
        current = las["la_number"].astype(int).map(codes)
        moved = las[current.notna().to_numpy() & (current.to_numpy(dtype=object) != las["area_code"].to_numpy())]
        if len(moved):
            extra = moved.assign(area_code=current[moved.index])
            df = pd.concat([df, extra], ignore_index=True).drop_duplicates(["area_code", "year"], keep="first")
    return df.reset_index(drop=True)


def read_areas(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(Area.code, Area.name, Area.geographic_level, Area.la_number,
                                   Area.region_code, Area.region_name)).all()
    return pd.DataFrame(rows, columns=["area_code", "area_name", "level", "la_number", "region_code", "region_name"])


def current_codes(engine: Engine) -> pd.Series:
    """DfE LA number → the ONS code it is published under most recently.

    Reorganisations give one LA number more than one code over time (e.g. North Yorkshire, 815); the code
    with the latest published year is the one current comparisons use.
    """
    latest = (select(BenchmarkValue.place_id, func.max(BenchmarkValue.time_period).label("latest"))
              .group_by(BenchmarkValue.place_id).subquery())
    stmt = (select(BenchmarkPlace.la_number, BenchmarkPlace.area_code, func.max(latest.c.latest))
            .join(latest, latest.c.place_id == BenchmarkPlace.id)
            .where(BenchmarkPlace.la_number.is_not(None))
            .group_by(BenchmarkPlace.la_number, BenchmarkPlace.area_code))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(), columns=["la_number", "area_code", "latest"])
    if df.empty:
        return pd.Series(dtype=object)
    df = df.sort_values(["la_number", "latest", "area_code"]).drop_duplicates("la_number", keep="last")
    return df.set_index(df["la_number"].astype(int))["area_code"]


def read_neighbours(engine: Engine, board: Board) -> pd.DataFrame:
    """The board's statistical neighbours as area_code, neighbour_code, neighbour_name, rank, closeness.

    Uses the neighbour set the board names, else the most recently imported one; none stored (or the named
    one missing) means no neighbour comparisons, not a failure of the whole dataset.
    """
    la = board.local_authority
    columns = ["area_code", "neighbour_code", "neighbour_name", "rank", "closeness"]
    try:
        df = neighbours_of(engine, la.la_number, board.neighbour_set)
    except NeighbourSetNotFound as exc:
        log.warning("no statistical neighbours: %s", exc)
        return pd.DataFrame(columns=columns)
    which = dict(df.attrs)
    df = df.rename(columns={"neighbour_la_name": "neighbour_name"})
    df["neighbour_code"] = df["neighbour_la_number"].astype(int).map(current_codes(engine))
    df["area_code"] = la.ons_code
    out = df.dropna(subset=["neighbour_code"])[columns]
    out.attrs = which  # which set, its file and when it was imported: the dashboard says so
    return out


def read_story(engine: Engine, indicator_id: str) -> tuple[dict | None, list[dict]]:
    """The latest story behind the baseline (with the quarter the baseline is frozen at now) and the action plan
    (each action with its standing, overdue when past its due date and not done, and its history), by due date."""
    from etl.governance import frozen_at, read_actions, story_versions

    versions = story_versions(engine, indicator_id)
    story = None
    if versions:
        story = dict(versions[0])
        story["baseline_frozen_at"] = frozen_at(engine, indicator_id)
        story["versions"] = versions
    return story, read_actions(engine, indicator_id)


def read_frozen_baselines(engine: Engine) -> dict:
    """indicator id → the quarter its baseline is frozen at: freezes from stories and recorded decisions, in time
    order, a recorded unfreeze undoing the freeze before it."""
    from etl.governance import _frozen_events
    from indicators.periods import PeriodError, Quarter

    out = {}
    for ind, at in _frozen_events(engine).items():
        if not at:
            continue
        try:
            out[ind] = Quarter.parse(at)
        except PeriodError:
            continue
    return out


def read_rebases(engine: Engine) -> dict:
    """indicator id → the quarters where a recorded decision starts a new SPC segment."""
    from indicators.periods import PeriodError, Quarter

    with engine.connect() as conn:
        rows = conn.execute(select(RebaseDecision.indicator_id, RebaseDecision.period)).all()
    out: dict[str, list] = {}
    for ind, period in rows:
        try:
            out.setdefault(ind, []).append(Quarter.parse(period))
        except PeriodError:
            continue
    return out


def read_target_changes(engine: Engine) -> dict:
    """indicator id → the recorded target and tolerance changes (``indicators.board.TargetChange``)."""
    from etl.governance import read_target_changes as read

    return read(engine)


def load_dataset(engine: Engine, board: Board, library: Library, period=None, forecasts: bool = True) -> Dataset:
    """Read everything the dataset needs from the store and build it."""
    areas = read_areas(engine)
    return build_dataset(
        measures=read_measures(engine, board).drop(columns=["agency_code"]),
        library=library,
        board=board,
        population=read_population(engine),
        benchmarks=read_benchmarks(engine, library),
        neighbours=read_neighbours(engine, board),
        areas=areas,
        returns=return_status(engine, board),
        period=period,
        forecasts=forecasts,
        frozen=read_frozen_baselines(engine),
        rebases=read_rebases(engine),
        target_changes=read_target_changes(engine),
    )


def agency_analysis(engine: Engine, agency_code: str, measures: list[str], upto_index: int | None = None) -> list[dict]:
    """An agency's own analysis beside its figures: per quarter (newest first, up to ``upto_index``), the
    commentary of its current return and the notes it wrote beside ``measures``. Quarters with neither are left
    out."""
    stmt = (select(ReturnVersion.id, ReturnVersion.period, ReturnVersion.period_index, ReturnVersion.version,
                   ReturnVersion.commentary)
            .where(ReturnVersion.agency_code == agency_code, ReturnVersion.is_current.is_(True))
            .order_by(ReturnVersion.period_index.desc()))
    if upto_index is not None:
        stmt = stmt.where(ReturnVersion.period_index <= upto_index)
    with engine.connect() as conn:
        versions = conn.execute(stmt).all()
        ids = [v.id for v in versions]
        notes: dict[int, dict[str, str]] = {}
        if ids and measures:
            for rid, code, note in conn.execute(select(ReturnValue.return_id, ReturnValue.measure_code,
                                                       ReturnValue.note)
                                                .where(ReturnValue.return_id.in_(ids),
                                                       ReturnValue.measure_code.in_(measures),
                                                       ReturnValue.note.is_not(None))):
                if (note or "").strip():
                    notes.setdefault(rid, {})[code] = note
    out = []
    for v in versions:
        if v.commentary or notes.get(v.id):
            out.append({"period": v.period, "version": v.version, "commentary": v.commentary,
                        "notes": notes.get(v.id, {})})
    return out
