"""``oba doctor``: a guided check of everything the dashboard needs, each line with what to do next.

In order: the store (reachable, created, on the newest schema), the board file (valid, not still the demo's),
the statistical neighbour set (stored, with the board's authority in it), the benchmark files (which indicators
they cover), the populations (which years, for the board's authority) and the returns (due and missing for the
last quarter that has ended). A check that cannot run because an earlier one failed says so.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from etl.context import AppContext

OK, WARN, FAIL = "OK", "WARN", "FAIL"


@dataclass(frozen=True)
class Finding:
    """One line of the check: its level, what it is about, what was found, and what to do (empty when nothing)."""

    level: str
    topic: str
    found: str
    todo: str = ""

    def __str__(self) -> str:
        todo = f" → {self.todo}" if self.todo else ""
        return f"{self.level:<4}  {self.topic + ':':<12} {self.found}{todo}"


def _store(app: AppContext) -> tuple[Finding, object | None]:
    from sqlalchemy.exc import SQLAlchemyError

    from etl.db import current_revision, head_revision
    from etl.store import make_engine

    url = app.url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return Finding(FAIL, "store", f"there is no store at {app.safe_url} yet", "run `oba init`"), None
    try:
        engine = make_engine(app.db)
        rev = current_revision(engine)
    except SQLAlchemyError as exc:
        return Finding(FAIL, "store", f"cannot open {app.safe_url} ({type(exc).__name__})",
                       "check the address (--db or OBA_DATABASE_URL) and that the database server is running"), None
    head = head_revision()
    if rev is None:
        return Finding(FAIL, "store", f"{app.safe_url} has not been created yet", "run `oba init`"), None
    if rev != head:
        return Finding(FAIL, "store", f"{app.safe_url} is on an older schema ({rev}; this version uses {head})",
                       "run `oba init` to upgrade it (back it up first with `oba backup`)"), None
    return Finding(OK, "store", f"{app.safe_url}, schema {rev} (the newest)"), engine


def _board(app: AppContext):
    from etl.paths import DEMO_BOARD, default_board_path
    from indicators.board import check_board
    from indicators.definitions import check_library

    path = app.board_path or default_board_path()
    library, lib_issues = check_library()
    board, issues = check_board(path, library)
    errors = [i for i in lib_issues + issues if i.level == "error"]
    if errors or board is None:
        return Finding(FAIL, "board", f"{path}: {len(errors)} error(s)",
                       f"run `oba --board {path} indicators check` to see each one with its line"), None, library
    if Path(path).resolve() == DEMO_BOARD.resolve():
        return Finding(WARN, "board", f"the demo's ({board.local_authority.name}, fictional): there is no "
                       "data/board.yaml here", "make your own with `oba board init --la \"YOUR AUTHORITY\"`"), \
            board, library
    la = board.local_authority
    return Finding(OK, "board", f"{path}: {la.name} ({la.la_number}, {la.ons_code}), {len(board.agencies)} "
                   f"agencies, {len(board.priorities)} priorities"), board, library


def _neighbours(engine, board) -> Finding:
    from etl.benchmarks.neighbours import NeighbourSetNotFound, neighbour_sets, neighbours_of

    sets = list(neighbour_sets(engine)["name"])
    if not sets:
        return Finding(FAIL, "neighbours", "no statistical neighbour set is stored, so there are no neighbour "
                       "comparisons", "import DfE's list: `oba neighbours import statistical_neighbours_may2025_long.csv`")
    wanted = board.neighbour_set
    if wanted and wanted not in sets:
        return Finding(FAIL, "neighbours", f"the board names '{wanted}', which is not stored (stored: "
                       f"{', '.join(sets)})", f"set neighbour_set: {sets[0]} in the board file, or import '{wanted}'")
    name = wanted or sets[0]
    try:
        df = neighbours_of(engine, board.local_authority.la_number, name)
    except NeighbourSetNotFound:
        df = None
    if df is None or df.empty:
        return Finding(FAIL, "neighbours", f"{board.local_authority.name} ({board.local_authority.la_number}) is "
                       f"not in '{name}'", "check la_number in the board file, or import a set that has it")
    how = "" if wanted else " (the newest; the board names none)"
    return Finding(OK, "neighbours", f"'{name}'{how}: {len(df)} neighbours of {board.local_authority.name}")


def _benchmarks(engine, library) -> Finding:
    from etl.benchmarks.export import benchmark_summary
    from etl.benchmarks.sources import POPULATION_DATASET, serves

    stored = set(benchmark_summary(engine)["dataset"])
    served = {ds: ids for ds, ids in serves(library).items() if ds != POPULATION_DATASET}
    wanted = sorted({i for ids in served.values() for i in ids})
    covered = sorted({i for ds, ids in served.items() if ds in stored for i in ids})
    missing = [ds for ds in served if ds not in stored]
    if not missing:
        return Finding(OK, "benchmarks", f"all {len(wanted)} benchmarked indicators have their file")
    level = WARN if covered else FAIL
    lacking = sorted(set(wanted) - set(covered))
    return Finding(level, "benchmarks", f"{len(covered)} of {len(wanted)} benchmarked indicators have their file; "
                   f"not yet: {', '.join(lacking)}",
                   f"download {', '.join(missing)} (`oba benchmarks list` says from where) and "
                   "`oba benchmarks import` them")


def _populations(engine, board, today: dt.date) -> Finding:
    from etl.access import read_population
    from indicators.periods import Quarter

    pop = read_population(engine)
    if pop.empty:
        return Finding(FAIL, "populations", "no ONS population is stored, so no rate per 10,000 can be worked out",
                       "import ons_population_0_17_YYYY_YYYY.csv (`oba benchmarks import --help` says where)")
    own = pop[pop["area_code"] == board.local_authority.ons_code]
    if own.empty:
        return Finding(FAIL, "populations", f"none for {board.local_authority.name} ({board.local_authority.ons_code})",
                       "check ons_code in the board file, or import a population file that has it")
    years = sorted(int(y) for y in own["year"].unique())
    span = f"mid-{years[0]}" if len(years) == 1 else f"mid-{years[0]} to mid-{years[-1]}"
    found = f"{board.local_authority.name}: {span} ({len(years)} years)"
    quarter = Quarter.last_ended(today)
    wanted = quarter.year_ending - 1  # DfE's rule: the year ending 31 March Y divides by mid-(Y-1)
    if years[-1] < wanted:
        return Finding(OK, "populations", found, f"rates for {quarter.label} use mid-{years[-1]} until ONS's "
                       f"mid-{wanted} estimate is imported")
    return Finding(OK, "populations", found)


def _returns(engine, board, today: dt.date) -> Finding:
    from etl.returns.status import return_status
    from indicators.periods import Quarter

    quarter = Quarter.last_ended(today)
    df = return_status(engine, board, [quarter], today)
    counts = df["status"].value_counts()
    missing = list(df.loc[df["status"] == "missing", "agency_code"])
    not_due = df[df["status"] == "not_yet_due"]
    received = len(df) - len(missing) - len(not_due)
    found = f"{quarter.label}: {received} of {len(df)} received"
    if len(not_due):
        first_due = min(not_due["due_date"])
        found += f", {len(not_due)} not due yet (the first on {first_due.day} {first_due:%B %Y})"
    if int(counts.get("late", 0)):
        found += f", {int(counts.get('late', 0))} late"
    if missing:
        return Finding(WARN, "returns", f"{found}, missing: {', '.join(missing)}",
                       "ask those agencies for their return, then `oba returns load FILE...`; `oba returns status` "
                       "has the details")
    if len(not_due):
        return Finding(OK, "returns", found, "send the templates: `oba returns template --all --period latest -o "
                       "returns/`" if received == 0 else "")
    return Finding(OK, "returns", found)


def diagnose(app: AppContext, today: dt.date | None = None) -> list[Finding]:
    """Every check, in order; later checks that need the store or the board say when they cannot run."""
    today = today or dt.date.today()
    store, engine = _store(app)
    board_finding, board, library = _board(app)
    out = [store, board_finding]
    skipped = []
    if engine is None:
        skipped.append("the store")
    if board is None:
        skipped.append("a valid board file")
    if skipped:
        why = " and ".join(skipped)
        for topic in ("neighbours", "benchmarks", "populations", "returns"):
            out.append(Finding(WARN, topic, f"not checked: it needs {why}", "fix the lines above first"))
        return out
    try:
        out += [_neighbours(engine, board), _benchmarks(engine, library), _populations(engine, board, today),
                _returns(engine, board, today)]
    finally:
        engine.dispose()
    return out


@click.command("doctor")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Judge which returns are due as on this date (default: today).")
@click.pass_obj
def doctor_cmd(app: AppContext, as_of: dt.datetime | None) -> None:
    """Check the store, board file, neighbour set, benchmark files, populations and returns, each with what to
    do next. Exit code 1 when anything must be fixed (FAIL), else 0."""
    app.say_where()
    findings = diagnose(app, as_of.date() if as_of else None)
    for f in findings:
        click.echo(str(f))
    fails = sum(f.level == FAIL for f in findings)
    warns = sum(f.level == WARN for f in findings)
    if fails:
        click.echo(f"{fails} to fix, {warns} to look at.")
        sys.exit(1)
    click.echo("Everything the dashboard needs is in place." if not warns else f"Nothing to fix; {warns} to look at.")
