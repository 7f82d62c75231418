"""``oba export``: the governance records in the seed templates' layouts, for the business management group
and the board."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("export")
def export_group() -> None:
    """Export governance records: the critical message log, a sub-group's report card."""


@export_group.command("critical-messages")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True, help="File to write.")
@click.option("--to-board", is_flag=True, help="Only the messages the BMG decided go to the board.")
@click.pass_obj
def critical_messages_cmd(app, fmt, output, to_board) -> None:
    """The critical message log in the template's layout (seed 000, appendix 3)."""
    from etl.messages import export_messages

    n = export_messages(app.engine(), app.board(), app.library(), output, fmt, to_board=True if to_board else None)
    click.echo(f"Wrote {n} critical message{'s' * (n != 1)} to {output}.")
