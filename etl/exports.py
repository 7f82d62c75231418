"""``oba export critical-messages`` and ``oba export report-card``: the governance records in the seed templates'
layouts, for the business management group and the board (added to the ``oba export`` group of
:mod:`dashboard.exports.commands`)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("critical-messages")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True, help="File to write.")
@click.option("--to-board", is_flag=True, help="Only the messages the BMG decided go to the board.")
@click.pass_obj
def critical_messages_cmd(app, fmt, output, to_board) -> None:
    """The critical message log in the template's layout (seed 000, appendix 3)."""
    from etl.messages import export_messages

    n = export_messages(app.engine(), app.board(), app.library(), output, fmt, to_board=True if to_board else None)
    click.echo(f"Wrote {n} critical message{'s' * (n != 1)} to {output}.")


@click.command("report-card")
@click.option("--group", required=True, metavar="ID", help="The sub-group's id in the board file.")
@click.option("--meeting", required=True, metavar="DATE", help="The meeting's date, YYYY-MM-DD.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "docx"]), default="pdf", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True, help="File to write.")
@click.pass_obj
def report_card_cmd(app, group, meeting, fmt, output) -> None:
    """A sub-group's report card for a meeting, in the template's layout (seed 000, appendix 2)."""
    from etl.report_cards import export_card

    content = export_card(app.engine(), app.board(), app.library(), group, meeting, output, fmt)
    data = content["data"]
    period = f" with the data for {data['period']}" if data["period"] else " (no quarter's data before the meeting)"
    click.echo(f"Wrote the {content['group']} report card for {content['meeting']}{period} to {output}.")
