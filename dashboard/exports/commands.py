"""``oba export``: the board's outputs from the command line (thin: the work is in ``dashboard.exports``)."""

from __future__ import annotations

from pathlib import Path

import click

PUBLICATION_HELP = ("Publication mode: withhold counts from 1 up to each indicator's threshold and everything they "
                    "could be worked out from (GSS secondary suppression); the file says what was withheld.")


def _view(app):
    from dashboard.exports.common import open_view

    return open_view(app.db, app.board_path)


@click.group("export")
def export_group() -> None:
    """Export the dataset, the scorecard and charts as files."""


@export_group.command("data")
@click.option("--period", metavar="PERIOD", help="One quarter's rows (default: every quarter and the forecast).")
@click.option("--priority", metavar="ID", help="Only the indicators serving this board priority.")
@click.option("--format", "fmt", default="csv", show_default=True, metavar="csv|xlsx",
              help="csv, or xlsx with definitions, columns and notes sheets.")
@click.option("--publication", is_flag=True, help=PUBLICATION_HELP)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), metavar="FILE")
@click.pass_obj
def data_cmd(app, period, priority, fmt, publication, output) -> None:
    """The multi-agency dataset's rows, as docs/dataset.md documents them."""
    from dashboard.exports.common import check_choice, check_writable, resolve_period, resolve_priority
    from dashboard.exports.data import export_data

    check_choice("format for the data", fmt, ("csv", "xlsx"))
    check_writable(output, (fmt,))
    view = _view(app)
    q = resolve_period(view, period) if period else None
    p = resolve_priority(view, priority)
    export = export_data(view, output, fmt, q, p, publication)
    extra = f"; {len(export.withheld)} figure(s) withheld (publication mode)" if publication else ""
    click.echo(f"Wrote {output}: {len(export.frame)} rows{extra}.")


@export_group.command("scorecard")
@click.option("--period", metavar="PERIOD", help="The quarter (default: the latest).")
@click.option("--publication", is_flag=True, help=PUBLICATION_HELP)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), metavar="FILE.xlsx")
@click.pass_obj
def scorecard_cmd(app, period, publication, output) -> None:
    """The multi-agency scorecard: the summary matrix per priority, as the board sees it (Excel)."""
    from dashboard.exports.common import check_writable, resolve_period
    from dashboard.exports.scorecard import export_scorecard

    check_writable(output, ("xlsx",))
    view = _view(app)
    q = resolve_period(view, period)
    sheets = export_scorecard(view, output, q, publication)
    click.echo(f"Wrote {output}: the {q} scorecard, {sheets} sheet(s).")


@export_group.command("chart")
@click.argument("indicator")
@click.option("--period", metavar="PERIOD", help="The quarter (default: the latest).")
@click.option("--kind", default="spc", show_default=True, metavar="baseline|spc|neighbours|funnel")
@click.option("--format", "fmt", default="png", show_default=True, metavar="png|svg|pdf")
@click.option("--size", default="slide", show_default=True, metavar="slide|a4",
              help="slide: 16:9 for a presentation; a4: A4 landscape for a paper.")
@click.option("--publication", is_flag=True, help=PUBLICATION_HELP)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), metavar="FILE")
@click.pass_obj
def chart_cmd(app, indicator, period, kind, fmt, size, publication, output) -> None:
    """One indicator's chart, titled and sourced, rendered on this computer."""
    from dashboard.exports.charts import KINDS, SIZES, export_chart
    from dashboard.exports.common import check_choice, check_writable, resolve_indicator, resolve_period

    check_choice("chart kind", kind, KINDS)
    check_choice("chart format", fmt, ("png", "svg", "pdf"))
    check_choice("chart size", size, tuple(SIZES))
    check_writable(output, (fmt,))
    view = _view(app)
    ind = resolve_indicator(view, indicator)
    q = resolve_period(view, period)
    w, h = export_chart(view, ind, q, kind, fmt, output, size, publication)
    click.echo(f"Wrote {output}: {ind.label}, {kind} chart for {q} ({w}×{h} {'px' if fmt == 'png' else 'pt'}).")


@export_group.command("board-pack")
@click.option("--period", metavar="PERIOD", help="The quarter (default: the latest).")
@click.option("--format", "fmt", default="pptx", show_default=True, metavar="pptx|pdf")
@click.option("--priority", metavar="ID", help="Only this board priority's section.")
@click.option("--publication", is_flag=True, help=PUBLICATION_HELP)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), metavar="FILE")
@click.pass_obj
def board_pack_cmd(app, period, fmt, priority, publication, output) -> None:
    """The board pack: cover, contents, summary matrix, exceptions, positives, critical messages, annex."""
    from dashboard.exports.common import check_choice, check_writable, resolve_period, resolve_priority
    from dashboard.exports.pack import FORMATS, export_board_pack

    check_choice("board pack format", fmt, FORMATS)
    check_writable(output, (fmt,))
    view = _view(app)
    q = resolve_period(view, period)
    p = resolve_priority(view, priority)
    n = export_board_pack(view, output, q, fmt, p.id if p else None, publication)
    click.echo(f"Wrote {output}: the {q} board pack, {n} {'slides' if fmt == 'pptx' else 'pages'}.")


@export_group.command("annual-report")
@click.option("--year", required=True, metavar="YYYY-YY", help="The financial year, e.g. 2025-26.")
@click.option("--format", "fmt", default="xlsx", show_default=True, metavar="xlsx|pdf")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), metavar="FILE")
@click.pass_obj
def annual_report_cmd(app, year, fmt, output) -> None:
    """The annual report annex: each indicator's year against earlier years, neighbours and England (published,
    so always in publication mode)."""
    from dashboard.exports.annual import FORMATS, export_annual_report, parse_year
    from dashboard.exports.common import check_choice, check_writable

    check_choice("annual report format", fmt, FORMATS)
    parse_year(year)
    check_writable(output, (fmt,))
    n = export_annual_report(_view(app), output, year, fmt)
    click.echo(f"Wrote {output}: {n} indicators for {year} (publication mode).")
