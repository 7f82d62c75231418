"""``oba returns ...`` commands: template, check, load, status.

Exit codes: 0 no errors (warnings allowed); 1 a file has errors or the store cannot be used; 2 the command was
used wrongly (unknown option, bad date or period, unknown agency).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from etl.context import AppContext
from indicators.periods import Quarter, parse_period

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}


@click.group("returns")
def returns_group() -> None:
    """Make templates for, check, load and track agencies' quarterly returns."""


def _period_arg(text: str | None, available: list[Quarter] | None = None) -> Quarter | None:
    if text is None:
        return None
    return parse_period(text, available if available else [Quarter.last_ended()])


def _store_if_ready(app: AppContext):
    """The store when it exists and is initialised, else None (templates then show no last-quarter figures)."""
    from sqlalchemy.exc import SQLAlchemyError

    from etl.errors import OBAError

    url = app.url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    try:
        return app.engine()
    except (OBAError, SQLAlchemyError):
        return None


def _expand(files: tuple[Path, ...]) -> list[Path]:
    """Files as given; a folder stands for the workbooks in it (Excel's ~$ lock files skipped)."""
    out: list[Path] = []
    for f in files:
        if f.is_dir():
            out.extend(sorted(p for p in f.iterdir() if p.suffix.lower() in WORKBOOK_SUFFIXES
                              and not p.name.startswith("~$") and p.is_file()))
        else:
            out.append(f)
    return out


# --- template ----------------------------------------------------------------------------------------------

@returns_group.command("template")
@click.option("--agency", "agency_code", metavar="CODE", help="The agency whose template to make.")
@click.option("--all", "all_agencies", is_flag=True, help="Make one template per agency (then -o is a folder).")
@click.option("--period", required=True, metavar="PERIOD",
              help="The quarter, e.g. '2025-26 Q2' or 'Q2 2025/26'; 'latest' is the last quarter that has ended.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), metavar="PATH",
              help="The .xlsx file to write (or, with --all, the folder).")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.pass_obj
def template_cmd(app: AppContext, agency_code: str | None, all_agencies: bool, period: str, output: Path,
                 force: bool) -> None:
    """Make the return workbook for an agency and quarter, from the definitions and the board."""
    from etl.returns import layout as L
    from etl.returns.template import write_template

    if bool(agency_code) == all_agencies:
        raise click.UsageError("give either --agency CODE or --all")
    board, library = app.board(), app.library()
    quarter = _period_arg(period)
    not_ended = _not_ended_warning(quarter, dt.date.today())
    if all_agencies:
        codes = [a.code for a in board.agencies]
        targets = [output / L.file_name(c, quarter) for c in codes]
    else:
        code = agency_code.strip().upper()
        try:
            board.agency(code)
        except KeyError:
            raise click.BadParameter(f"no agency '{agency_code}' in {board.name}; agencies are "
                                     f"{', '.join(a.code for a in board.agencies)}", param_hint="--agency") from None
        if output.suffix.lower() != ".xlsx":
            raise click.BadParameter("the template is an Excel workbook: give a file name ending .xlsx",
                                     param_hint="-o")
        codes, targets = [code], [output]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        click.echo(f"Error: {', '.join(str(t) for t in existing)} already exist{'s' * (len(existing) == 1)}; "
                   "use --force to overwrite (a filled-in return would be lost)", err=True)
        sys.exit(1)
    engine = _store_if_ready(app)
    for code, target in zip(codes, targets, strict=True):
        write_template(board, library, code, quarter, target, engine)
        click.echo(f"Wrote {target} ({code}, {quarter.label}, {len(board.agency(code).measures)} measures)")
    if engine is None:
        click.echo("Last quarter's figures are not shown: there is no initialised store (run `oba init` and load "
                   "returns to include them).")
    if not_ended:
        click.echo(not_ended, err=True)


def _not_ended_warning(quarter: Quarter, today: dt.date) -> str | None:
    """A warning when ``quarter`` has not ended by ``today``, suggesting the last quarter that has."""
    if quarter.end < today:
        return None
    last = Quarter.last_ended(today)
    return (f"Warning: {quarter.label} has not ended yet (it ends on {_long_date(quarter.end)}), so its figures "
            f"cannot be complete until then. The last quarter that has ended is {last.label}: "
            f"--period \"{last.label}\" (or --period latest).")


def _blank_template(res) -> bool:
    """Whether a checked (or rejected) file is a template nobody has filled in yet: no figure at all, nothing
    else wrong. It then gets one line, not a warning per blank cell."""
    return ([i.code for i in res.issues if i.is_error] == ["no-figures"]
            and all(i.code in ("blank-value", "period-not-ended") for i in res.issues if not i.is_error))


def _blank_line(path: Path, res, then: str) -> str:
    what = f"{res.agency} {res.period.label}, " if res.agency and res.period else ""
    n = sum(i.code == "blank-value" for i in res.issues)
    return f"BLANK {path}: {what}nothing filled in yet ({_count(n, 'measure')} blank); fill it in and {then} it again"


# --- check and load ------------------------------------------------------------------------------------------

def _files_argument(f):
    return click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="FILE...")(f)


def _expect_options(f):
    f = click.option("--period", "expected_period", metavar="PERIOD",
                     help="Expect every file to be for this quarter (else error wrong-period).")(f)
    return click.option("--agency", "expected_agency", metavar="CODE",
                        help="Expect every file to be this agency's (else error wrong-agency).")(f)


def _print_issues(issues) -> None:
    for issue in issues:
        click.echo(f"  {issue}")


@returns_group.command("check")
@_files_argument
@_expect_options
@click.pass_obj
def check_cmd(app: AppContext, files: tuple[Path, ...], expected_agency: str | None,
              expected_period: str | None) -> None:
    """Check return workbooks without loading them; print every problem found.

    Exit code 0 when no file has errors (warnings allowed), 1 when any has.
    """
    from etl.returns.reader import check_file

    board, library = app.board(), app.library()
    period = _period_arg(expected_period)
    paths = _expand(files)
    if not paths:
        raise click.UsageError("no workbook files found in the folder(s) given")
    failed = blank = 0
    for path in paths:
        res = check_file(path, board, library, expected_agency, period)
        what = f"{res.agency} {res.period.label}" if res.agency and res.period else "return"
        n_err, n_warn = len(res.errors), len(res.warnings)
        if _blank_template(res):
            blank += 1
            click.echo(_blank_line(path, res, "check"))
            continue
        if res.ok:
            click.echo(f"OK    {path}: {what}, {len(res.values)} measures, {_count(n_warn, 'warning')}")
        else:
            failed += 1
            click.echo(f"FAIL  {path}: {_count(n_err, 'error')}, {_count(n_warn, 'warning')}; it would not load")
        _print_issues(res.issues)
    if len(paths) > 1:
        unfilled = f", {blank} not filled in yet" if blank else ""
        click.echo(f"{len(paths)} files checked: {len(paths) - failed - blank} can be loaded, {failed} "
                   f"{'has' if failed == 1 else 'have'} errors{unfilled}.")
    if failed:
        sys.exit(1)


@returns_group.command("load")
@_files_argument
@click.option("--received", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="The date the returns were received (default: today). Decides whether a return was late.")
@_expect_options
@click.pass_obj
def load_cmd(app: AppContext, files: tuple[Path, ...], received: dt.datetime | None,
             expected_agency: str | None, expected_period: str | None) -> None:
    """Check return workbooks and load those without errors; each file is all or nothing.

    A file identical to the one already loaded changes nothing; a different file for the same agency and
    quarter becomes a new version and every changed figure is listed. Exit code 1 if any file was rejected.
    """
    from etl.returns.load import load_file

    received_on = received.date() if received else None
    if received_on and received_on > dt.date.today():
        raise click.BadParameter(f"{received_on} is in the future", param_hint="--received")
    board, library = app.board(), app.library()
    period = _period_arg(expected_period)
    paths = _expand(files)
    if not paths:
        raise click.UsageError("no workbook files found in the folder(s) given")
    engine = app.engine()
    tally: dict[str, int] = {"loaded": 0, "revised": 0, "unchanged": 0, "rejected": 0}
    blank = 0
    for path in paths:
        res = load_file(engine, board, library, path, app.user, received_on, expected_agency=expected_agency,
                        expected_period=period)
        if res.outcome == "rejected" and _blank_template(res):  # nothing wrong but that it is not done yet
            blank += 1
            click.echo(_blank_line(path, res, "load"))
            continue
        tally[res.outcome] += 1
        click.echo(f"{res.outcome.upper():9} {path}: {res.message}")
        for change in res.changes:
            click.echo(f"    {change}")
        _print_issues(res.issues)
    if len(paths) > 1:
        unfilled = f", {blank} not filled in yet" if blank else ""
        click.echo(f"{len(paths)} files: " + ", ".join(f"{n} {k}" for k, n in tally.items()) + unfilled + ".")
    if tally["rejected"]:
        sys.exit(1)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


# --- status ----------------------------------------------------------------------------------------------

@returns_group.command("status")
@click.option("--period", "periods", multiple=True, metavar="PERIOD",
              help="A quarter to show ('2025-26 Q2', 'Q2 2025/26', 'latest'); repeatable. Default: the latest "
                   "quarter with returns stored.")
@click.option("--all", "all_periods", is_flag=True, help="Every quarter from the first stored to the last ended.")
@click.option("--agency", "agencies", multiple=True, metavar="CODE", help="Only this agency; repeatable.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Judge due and late as on this date (default: today).")
@click.pass_obj
def status_cmd(app: AppContext, periods: tuple[str, ...], all_periods: bool, agencies: tuple[str, ...],
               as_of: dt.datetime | None) -> None:
    """Show, per agency and quarter, whether the return was received, late, revised or is missing."""
    from etl.returns.status import default_periods, return_status, stored_periods

    board, library = app.board(), app.library()
    engine = app.engine()
    today = as_of.date() if as_of else dt.date.today()
    if periods and all_periods:
        raise click.UsageError("give --period or --all, not both")
    if all_periods:
        quarters = default_periods(engine, today)
    else:
        stored = stored_periods(engine)
        quarters = [parse_period(p, stored or [Quarter.last_ended(today)]) for p in (periods or ("latest",))]
    df = return_status(engine, board, quarters, today)
    if agencies:
        wanted = {a.strip().upper() for a in agencies}
        unknown = wanted - {a.code for a in board.agencies}
        if unknown:
            raise click.BadParameter(f"no agency {', '.join(sorted(unknown))} in {board.name}", param_hint="--agency")
        df = df[df["agency_code"].isin(wanted)]
    labels = sorted({q for q in quarters}, key=lambda q: q.index)
    click.echo(f"Returns for {', '.join(q.label for q in labels)} (as of {_long_date(today)})")
    click.echo("")
    click.echo(_status_table(df))
    details = [r for r in df.itertuples() if r.warnings or r.missing_measures]
    if details:
        click.echo("")
        click.echo("Details")
        for r in details:
            bits = []
            if r.status == "missing":
                bits.append(f"no return; it was due on {_long_date(r.due_date)}")
            else:
                if r.late:
                    bits.append(f"received {_count(int(r.days_late), 'day')} late")
                if r.revised:
                    bits.append(f"version {r.version} of {r.versions}")
                if r.missing_measures:
                    bits.append("not supplied: " + ", ".join(_measure_name(library, m) for m in r.missing_measures))
            click.echo(f"  {r.agency_code} {r.period} ({r.agency_name}): " + "; ".join(bits))
            for code, message in zip(r.issue_codes, r.issues, strict=True):
                if code not in ("blank-value", "measure-missing"):  # already listed as not supplied
                    click.echo(f"    warning: {message}")
    counts = df["status"].value_counts()
    order = ["received", "late", "revised", "missing", "not_yet_due"]
    click.echo("")
    click.echo(f"{_count(len(df), 'return')}: " + ", ".join(f"{int(counts.get(s, 0))} {s.replace('_', ' ')}" for s in order)
               + ".")


def _status_table(df) -> str:
    import pandas as pd

    headers = ["Agency", "Name", "Period", "Status", "Due", "Received", "Version", "Warnings", "Missing"]
    lines = []
    for r in df.itertuples():
        flags = [f for f, on in (("late", r.late), ("revised", r.revised)) if on]
        status = ", ".join(flags) if flags else r.status.replace("_", " ")
        lines.append([
            r.agency_code, _clip(r.agency_name, 28), r.period, status, r.due_date.isoformat(),
            r.received_on.isoformat() if r.received_on else "-",
            "-" if pd.isna(r.version) else str(r.version),
            str(r.warnings) if r.status not in ("missing", "not_yet_due") else "-",
            str(len(r.missing_measures)),
        ])
    widths = [max(len(h), *(len(row[k]) for row in lines)) if lines else len(h) for k, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*row) for row in lines]
    return "\n".join(line.rstrip() for line in out)


def _measure_name(library, code: str) -> str:
    """'CSE crimes recorded (POL_CSE_CRIMES)': the name people know, and the code on the workbook's row."""
    m = library.measures.get(code)
    return f"{m.name} ({code})" if m is not None else code


def _long_date(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
