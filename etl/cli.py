"""The ``oba`` command: one entry point for every job a user runs.

Exit codes: 0 success (warnings allowed), 1 the input or the store has a problem (the message says what),
2 the command was used wrongly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from etl.context import AppContext
from etl.errors import OBAError
from indicators.definitions import DefinitionError, check_library
from indicators.periods import PeriodError


class _Group(click.Group):
    """Turns domain errors into a clean message and exit code instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DefinitionError as exc:
            for issue in exc.issues:
                click.echo(str(issue), err=True)
            click.echo("The configuration has errors: fix the lines above and run the command again.", err=True)
            sys.exit(1)
        except PeriodError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except OBAError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted: nothing was half-written (each load is one transaction).", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
            raise
        except Exception as exc:  # the machine or the store failed, or something unforeseen
            _fault_exit(ctx, exc)


def _fault_exit(ctx: click.Context, exc: Exception) -> None:
    """One message and exit 1 for a fault of the disk or the store; a logged traceback for the unforeseen."""
    from etl.faults import file_fault, log_unexpected, store_fault

    app = ctx.obj
    where, url = "the store", None
    if isinstance(app, AppContext):
        try:
            where, url = f"the store at {app.safe_url}", app.url
        except Exception:
            pass
    fault = file_fault(exc) if isinstance(exc, OSError) else store_fault(exc, where, url) or file_fault(exc)
    if fault is not None:
        click.echo(f"Error: {fault}", err=True)
        sys.exit(1)
    path = log_unexpected(exc, ctx.invoked_subcommand or "")
    where_log = f"; the details are in {path}" if path else " (no log could be written: the disk may be full)"
    click.echo(f"Error: an unexpected {type(exc).__name__} stopped the command; nothing was half-written"
               f"{where_log} (they hold no data values: send the file to whoever supports this installation).",
               err=True)
    sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="OBA_DATABASE_URL", metavar="URL",
              help="Database URL or SQLite file path (default: data/oba.sqlite; env OBA_DATABASE_URL).")
@click.option("--board", "board_path", envvar="OBA_BOARD", type=click.Path(path_type=Path), metavar="FILE",
              help="Board configuration YAML (default: data/board.yaml, else the demo board; env OBA_BOARD).")
@click.version_option(package_name="oba-dashboard", prog_name="oba")
@click.pass_context
def main(ctx: click.Context, db: str | None, board_path: Path | None) -> None:
    """Outcome-Based Accountability dashboard for a safeguarding children partnership."""
    from click.core import ParameterSource

    from_env = tuple(name for name, param in (("db", "db"), ("board", "board_path"))
                     if ctx.get_parameter_source(param) == ParameterSource.ENVIRONMENT)
    ctx.obj = AppContext(db=db, board_path=board_path, from_env=from_env, announce=True)


@main.command("init")
@click.pass_obj
def init_cmd(app: AppContext) -> None:
    """Create the store, or upgrade it to the newest schema."""
    from etl.db import init_store

    before, after = init_store(app.engine(require_ready=False))
    if before == after:
        click.echo(f"The store at {app.safe_url} is up to date (schema {after}).")
    elif before is None:
        click.echo(f"Created the store at {app.safe_url} (schema {after}).")
    else:
        click.echo(f"Upgraded the store at {app.safe_url} from schema {before} to {after}.")


@main.group("indicators")
def indicators_group() -> None:
    """Check and list the measure and indicator definitions."""


@indicators_group.command("check")
@click.pass_obj
def indicators_check(app: AppContext) -> None:
    """Validate every definition file and the board configuration together."""
    from etl.context import default_board_path
    from indicators.board import check_board

    app.say_where()
    library, issues = check_library()
    board_path = app.board_path or default_board_path()
    board, board_issues = check_board(board_path, library)
    issues += board_issues
    if board is not None and board.neighbour_set:
        issues += _neighbour_set_issues(app, board, board_path)
    for issue in issues:
        click.echo(str(issue), err=issue.level == "error")
    errors = sum(i.level == "error" for i in issues)
    warnings = len(issues) - errors
    if library is not None:
        click.echo(f"{len(library.measures)} measures, {len(library.indicators)} indicators; "
                   f"board {board_path}: {errors} error(s), {warnings} warning(s).")
    if errors:
        sys.exit(1)


def _neighbour_set_issues(app: AppContext, board, board_path: Path) -> list:
    """A warning when the board names a statistical neighbour set the store does not hold (when it can be read)."""
    from etl.board_init import CURRENT_DFE_NEIGHBOUR_SET, stored_neighbour_sets
    from indicators._yaml import read_located_yaml
    from indicators.definitions import DefinitionIssue

    names = stored_neighbour_sets(app)
    if names is None or board.neighbour_set in names:
        return []
    if names:
        have = "the store holds " + ", ".join(names) + "; name one of them, or import the board's"
    else:
        have = (f"no set is stored yet: import DfE's list (`oba neighbours import "
                f"{CURRENT_DFE_NEIGHBOUR_SET}_long.csv`)")
    try:
        line = read_located_yaml(board_path).line_of(("neighbour_set",))
    except Exception:  # the board was read a moment ago; a line number is only a nicety
        line = None
    return [DefinitionIssue("warning", "neighbour-set-missing", str(board_path), line, "neighbour_set",
                            f"the statistical neighbour set '{board.neighbour_set}' is not in the store, so the "
                            f"dashboard shows no neighbour comparisons; {have}")]


@indicators_group.command("list")
@click.pass_obj
def indicators_list(app: AppContext) -> None:
    """List the indicators by board priority."""
    board, library = app.board(), app.library()
    for p in board.priorities:
        click.echo(f"{p.name}")
        for ind in library.for_priority(p.id):
            click.echo(f"  {ind.id:32} {ind.question.value:11} {ind.unit.value:15} {ind.label}")


def _register_subcommands() -> None:
    from dashboard.commands import serve_cmd
    from dashboard.exports.commands import export_group
    from etl.admin_commands import audit_group, backup_cmd, restore_cmd, users_group
    from etl.benchmarks.commands import benchmarks_group, neighbours_group
    from etl.board_init import board_group
    from etl.demo import demo_cmd
    from etl.doctor import doctor_cmd
    from etl.evidence import evidence_group
    from etl.exports import critical_messages_cmd, report_card_cmd
    from etl.governance import curve_group
    from etl.returns.commands import returns_group
    from etl.review import review_group

    for command in (board_group, doctor_cmd, returns_group, benchmarks_group, neighbours_group, curve_group,
                    review_group, export_group, evidence_group, demo_cmd, serve_cmd, users_group, audit_group,
                    backup_cmd, restore_cmd):
        main.add_command(command)
    for command in (critical_messages_cmd, report_card_cmd):
        export_group.add_command(command)


_register_subcommands()
