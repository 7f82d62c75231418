"""``oba benchmarks ...`` and ``oba neighbours ...`` commands."""

from __future__ import annotations

from pathlib import Path

import click

from etl.benchmarks.csvfile import BenchmarkFileError, FilesError
from etl.context import AppContext
from etl.errors import InputFileError, OBAError


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def _period(tp: int | None) -> str:
    return "" if tp is None else str(tp)


def _years(first: int | None, last: int | None) -> str:
    if first is None:
        return ""
    return _period(first) if first == last else f"{first}–{last}"


@click.group("benchmarks")
def benchmarks_group() -> None:
    """Import and export published benchmark files (DfE EES CSV, ONS populations)."""


@benchmarks_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=True))
@click.option("--dry-run", is_flag=True, help="Check the files and say what would change, storing nothing.")
@click.option("--accept-column-changes", is_flag=True,
              help="Import a release whose columns changed kind (measure/filter) or whose filters changed.")
@click.pass_obj
def benchmarks_import(app: AppContext, files: tuple[Path, ...], dry_run: bool, accept_column_changes: bool) -> None:
    """Import EES CSV files (and ONS populations in the same layout) as published.

    Each FILE is one EES table for England, regions and local authorities; its dataset is the file name
    without the year range (ees_cin_b1_children_in_need_2013_2025.csv -> ees_cin_b1_children_in_need).
    An EES NAME.meta.csv beside NAME.csv says which columns are filters and which are measures.
    Importing a file again changes nothing; a newer release updates the values that changed and records
    each change. If any file has a problem, nothing is imported. A release whose columns change kind
    (a measure read as a filter) or whose filters change is refused unless --accept-column-changes.
    """
    from etl.benchmarks.ees import PartialImport, import_ees

    _unmatched_patterns(files, "`oba benchmarks import --help` lists which files and where to download them")
    engine = app.engine()
    try:
        results = import_ees(engine, list(files), app.user, dry_run=dry_run,
                             accept_column_changes=accept_column_changes)
    except (BenchmarkFileError, FilesError) as exc:
        raise InputFileError(f"{exc}\nNothing was imported; the store is unchanged.") from exc
    except PartialImport as exc:
        _echo_results(exc.results, dry_run)
        raise _fault(app, exc.cause, f"{exc.failed}: ", exc.summary()) from exc.cause
    _echo_results(results, dry_run)
    if dry_run:
        click.echo("Dry run: nothing was stored.")


def _fault(app: AppContext, cause: Exception, prefix: str, summary: str) -> OBAError:
    """The error to show for a fault that stopped a multi-file import: what happened, then the summary."""
    from etl.faults import file_fault, log_unexpected, store_fault

    fault = store_fault(cause, f"the store at {app.safe_url}", app.url) or file_fault(cause)
    if fault is None:
        path = log_unexpected(cause, "benchmarks import")
        where = f"the details are in {path} (no data values)" if path else "no log could be written"
        return OBAError(f"{prefix}an unexpected {type(cause).__name__} stopped the import; {where}.\n{summary}")
    return OBAError(f"{prefix}{fault}\n{summary}")


def _echo_results(results, dry_run: bool) -> None:
    would = "would be " if dry_run else ""
    for r in results:
        years = _years(r.first_period, r.last_period)
        if r.outcome == "unchanged":
            click.echo(f"{r.file}: unchanged: the store already holds these {r.unchanged:,} values of {r.dataset} "
                       f"({_n(len(r.measures), 'measure')}, {years}); nothing {'would be ' if dry_run else ''}written.")
        elif r.outcome == "imported":
            click.echo(f"{r.file}: {'would import' if dry_run else 'imported'} {r.dataset}: {_n(r.rows, 'row')}, "
                       f"{_n(len(r.measures), 'measure')}, {years}, {_n(r.added, 'value')}.")
        else:
            click.echo(f"{r.file}: {'would update' if dry_run else 'updated'} {r.dataset}: {_n(r.changed, 'value')} "
                       f"{would}changed, {r.added:,} added, {r.unchanged:,} unchanged"
                       + ("." if dry_run else f"; the changes are recorded with release {r.release_id}."))
        if r.skipped:
            levels = ", ".join(f"{level} {n:,}" for level, n in sorted(r.skipped.items()))
            click.echo(f"  skipped {sum(r.skipped.values()):,} rows at other geographic levels ({levels}).")
        if r.kept:
            click.echo(f"  kept {r.kept:,} stored values of {r.dataset} that this file does not have.")
        for w in r.warnings:
            click.echo(f"Warning: {r.file}: {w}", err=True)


def _unmatched_patterns(files, where: str) -> None:
    """A pattern the shell could not expand (ees_cin_*.csv with no such file here) means nothing is downloaded yet:
    say so, rather than "file not found"."""
    for f in files:
        if not f.exists() and any(c in str(f) for c in "*?["):
            raise InputFileError(f"no file here matches {f} (in {Path.cwd()}): download the files first; {where}\n"
                                 "Nothing was imported; the store is unchanged.")


def _import_help() -> str:
    import inspect

    from etl.benchmarks.sources import download_help

    return inspect.cleandoc(benchmarks_import.help) + "\n\n" + download_help()


benchmarks_import.help = _import_help()


def _coverage_lines(library, stored: list[str]) -> list[str]:
    """Which indicators each stored dataset serves, which indicators' benchmarks are not stored yet (with where to
    get them), which have none, and stored datasets that no indicator uses."""
    from etl.benchmarks.sources import POPULATION_DATASET, nearest_dataset, serves, source_for, unbenchmarked

    served = serves(library)
    out = []
    for ds in stored:
        if ds in served:
            what = "the population for the rates of " if ds == POPULATION_DATASET else ""
            out.append(f"{ds} serves {what}{', '.join(served[ds])}")
    unused = [ds for ds in stored if ds not in served]
    for ds in unused:
        near = nearest_dataset(ds, served)
        hint = (f"; if it is {near}, save the file as {source_for(near).example if source_for(near) else near + '_YEARS.csv'} "
                "and import it again") if near else ""
        out.append(f"{ds} serves no indicator{hint}")
    missing = [ds for ds in served if ds not in stored]
    if missing:
        out.append("Not stored yet, so these indicators have no benchmark:")
        for ds in missing:
            src = source_for(ds)
            out.append(f"  {ds} ({', '.join(served[ds])})" + (f": {src.what}" if src else ""))
            if src:
                out.append(f"    {src.where}")
    none = unbenchmarked(library)
    if none:
        out.append(f"No published benchmark ({len(none)} indicators): {', '.join(none)}")
    return out


@benchmarks_group.command("list")
@click.option("--measures", "show_measures", is_flag=True, help="List every measure of each dataset.")
@click.pass_obj
def benchmarks_list(app: AppContext, show_measures: bool) -> None:
    """List the stored datasets: measures, years, values, when imported and from which file."""
    from etl.benchmarks.export import benchmark_summary

    summary = benchmark_summary(app.engine())
    coverage = _coverage_lines(app.library(), list(summary["dataset"]))
    if summary.empty:
        click.echo("No benchmarks are stored yet: import EES files with `oba benchmarks import FILE...`.")
        for line in coverage:
            click.echo(line)
        click.echo("`oba benchmarks import --help` says which files to download and from where.")
        return
    for row in summary.itertuples(index=False):
        at = row.imported_at.strftime("%Y-%m-%d %H:%M") if row.imported_at is not None else "?"
        releases = f", {row.releases} releases" if row.releases > 1 else ""
        click.echo(f"{row.dataset}: {_n(len(row.measures), 'measure')}, {_years(row.first_period, row.last_period)}, "
                   f"{row.values:,} values; imported {at} UTC by {row.imported_by} from {row.file_name}{releases}")
        if show_measures:
            for m in row.measures:
                click.echo(f"  {m}")
        else:
            click.echo(f"  {', '.join(row.measures)}")
    for line in coverage:
        click.echo(line)


@benchmarks_group.command("export")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The CSV file to write.")
@click.option("--dataset", metavar="KEY", help="Only this dataset (see `oba benchmarks list`).")
@click.pass_obj
def benchmarks_export(app: AppContext, output: Path, dataset: str | None) -> None:
    """Write the stored benchmarks as one tidy CSV (one row per figure, symbols in the note column)."""
    from etl.benchmarks.export import export_benchmarks

    n = export_benchmarks(app.engine(), output, dataset)
    click.echo(f"Wrote {n:,} values to {output}.")


@click.group("neighbours")
def neighbours_group() -> None:
    """Import DfE statistical neighbour lists."""


@neighbours_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--name", help="The set's name (default: the file name without _long/_wide).")
@click.pass_obj
def neighbours_import(app: AppContext, file: Path, name: str | None) -> None:
    """Import a DfE statistical neighbours CSV (long or wide layout); an existing set is replaced."""
    from etl.benchmarks.neighbours import import_neighbours
    from etl.benchmarks.sources import NEIGHBOURS_URL

    _unmatched_patterns((file,), f"DfE publishes the list at {NEIGHBOURS_URL}")
    try:
        r = import_neighbours(app.engine(), file, app.user, name=name)
    except BenchmarkFileError as exc:
        raise InputFileError(f"{exc}\nNothing was imported; the store is unchanged.") from exc
    if r.outcome == "unchanged":
        click.echo(f"{r.file}: unchanged: set {r.name} already holds these {r.rows:,} neighbours of {r.las} LAs; "
                   "nothing written.")
    else:
        click.echo(f"{r.file}: {r.outcome} set {r.name} ({r.layout} layout): {r.las} LAs, {r.rows:,} neighbours.")


@neighbours_group.command("list")
@click.option("--la", metavar="LA", help="An LA's DfE number (826), ONS code or name: show its neighbours.")
@click.option("--set", "set_name", metavar="NAME", help="The set to show (default: the latest imported).")
@click.pass_obj
def neighbours_list(app: AppContext, la: str | None, set_name: str | None) -> None:
    """List the stored neighbour sets, or one LA's ranked neighbours."""
    from etl.benchmarks.neighbours import find_la, neighbour_sets, neighbours_of

    engine = app.engine()
    if la is None:
        sets = neighbour_sets(engine)
        if set_name:
            sets = sets[sets["name"] == set_name]
        if sets.empty:
            click.echo("No statistical neighbour lists are stored yet: import one with "
                       "`oba neighbours import FILE`." if not set_name else f"No set called {set_name}.")
            return
        for s in sets.itertuples(index=False):
            click.echo(f"{s.name}: {s.las} LAs, {s.rows:,} neighbours; imported "
                       f"{s.imported_at:%Y-%m-%d %H:%M} UTC by {s.imported_by} from {s.file_name}")
        return
    number, la_name = find_la(engine, la, set_name)
    rows = neighbours_of(engine, number, set_name)
    click.echo(f"Statistical neighbours of {la_name} ({number}) in {rows.attrs['set']}:")
    for r in rows.itertuples(index=False):
        click.echo(f"{r.rank:>3}  {r.neighbour_la_number}  {r.neighbour_la_name:40} {r.closeness or ''}".rstrip())
