"""``oba board init``: a board file for a real English local authority, to start from instead of the demo's.

The authority comes from the reference list (indicators/local_authorities.py: DfE number, ONS code, region). The
agencies are the standard eight the definitions expect (the demo board's, with the measures each returns),
named for the area; the five default priorities and three sub-groups are the demo's. Every line someone has to
check carries a ``# CHANGE`` comment.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from functools import cache
from pathlib import Path

import click

from etl.context import AppContext
from etl.paths import DEMO_BOARD
from indicators.local_authorities import LocalAuthority, UnknownAuthority, find

CURRENT_DFE_NEIGHBOUR_SET = "statistical_neighbours_may2025"
"""DfE's children's services statistical neighbours, revised May 2025, as `oba neighbours import` names the set
from its file (statistical_neighbours_may2025_long.csv or _wide.csv)."""

# How each standard agency is named for an area, and what to check. {la} is the authority's name.
_AGENCY_NAMES = {
    "CSC": ("{la} Children's Social Care", "the name of the council's children's social care service"),
    "POL": ("Police ({la} area)", "the police force covering {la}, e.g. 'Thames Valley Police ({la})'"),
    "ICB": ("Integrated Care Board for {la}", "the NHS integrated care board for {la}"),
    "ACUTE": ("Acute hospital trust for {la}", "the NHS trust running {la}'s main hospital"),
    "EDU": ("{la} Education and Schools", "the council's education service"),
    "EH": ("{la} Early Help Service", "the council's early help service"),
    "YJS": ("{la} Youth Justice Service", "the youth justice service (it may cover more than {la})"),
    "SCP": ("{la} Safeguarding Children Partnership Business Unit", "the partnership's business unit"),
}


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's quoting is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


@cache
def _standard_board():
    """The demo board, read once: its agencies, measures, priorities and sub-groups are the standard set."""
    from indicators.board import load_board

    return load_board(DEMO_BOARD)


def _wrapped(head: str, items: list[str], width: int = 110) -> list[str]:
    """``head[a, b, c]`` as a YAML flow list over as many lines as it needs."""
    import textwrap

    lines = textwrap.wrap(", ".join(items) + "]", width=width - len(head) - 1, break_on_hyphens=False)
    pad = " " * (len(head) + 1)
    return [head + "[" + lines[0]] + [pad + line for line in lines[1:]]


def board_text(la: LocalAuthority, neighbour_set: str, today: dt.date | None = None) -> str:
    """The board file for ``la`` as YAML text, with comments saying what to change."""
    demo = _standard_board()
    today = today or dt.date.today()
    region_code, region_name = la.region
    name = f"{la.name} Safeguarding Children Partnership"
    out = [
        f"# Board configuration for {la.name}, made by `oba board init` on {today.isoformat()}.",
        "# The local authority's number, codes and region come from the reference list of English local",
        "# authorities (DfE's LA lookup; Open Government Licence v3.0).",
        "# Check every line marked CHANGE, then run `oba indicators check`.",
        f"name: {_q(name)}  # CHANGE if the partnership has another name",
        "local_authority:",
        f"  name: {_q(la.name)}",
        f"  la_number: {la.number}  # DfE 3-digit LA number",
        f"  ons_code: {la.ons_code}  # ONS (GSS) code",
        f"  region_code: {region_code}",
        f"  region_name: {_q(region_name)}",
        "",
        "# The agencies that send a quarterly return, and the measures each returns (the standard set the",
        "# indicator definitions expect). Change the names and contacts; keep the codes and measures unless you",
        "# also change the definitions. `due` counts England's bank holidays.",
        "agencies:",
    ]
    for agency in demo.agencies:
        pattern, what = _AGENCY_NAMES.get(agency.code, ("{la} " + agency.name, "the agency's name"))
        out += [
            f"  - code: {agency.code}",
            f"    name: {_q(pattern.format(la=la.name))}  # CHANGE to {what.format(la=la.name)}",
            f"    type: {agency.type}",
            f"    due: {agency.due}",
            "    # contact: performance@example.org  # who sends the return (shown on the agency returns page)",
            *_wrapped("    measures: ", agency.measures),
        ]
    out += ["", "# The sub-groups that own the priorities. CHANGE the names and chairs to your own.", "subgroups:"]
    for s in demo.subgroups:
        out += [f"  - id: {s.id}", f"    name: {_q(s.name)}"]
        out.append(f"    chair: {_q(s.chair)}" if s.chair else "    # chair: Head of Quality Assurance")
    out += ["", "# The board's priorities: the five the indicator definitions serve. Rename or describe them as your",
            "# board does; an id can only change together with the indicators' `priorities:`.", "priorities:"]
    for p in demo.priorities:
        out += [f"  - id: {p.id}", f"    name: {_q(p.name)}", f"    description: {_q(p.description)}"]
        if p.subgroup:
            out.append(f"    subgroup: {p.subgroup}")
    out += [
        "",
        "# Targets, tolerances and minimum meaningful differences that override the definitions' defaults,",
        "# in the indicator's units (a percentage 0-100). `oba indicators list` shows the indicator ids.",
        "targets: {}",
        "# targets:",
        "#   rereferral_rate: {target: 20, tolerance: 2}",
        "",
        "# How exceptions are raised (these are the defaults).",
        "thresholds:",
        "  significance: 0.95",
        "  funnel_warning: 0.95",
        "  funnel_alarm: 0.998",
        "  bottom_quartile: true",
        "",
        "# The stored statistical neighbour list the comparisons use. Import DfE's file first:",
        f"#   oba neighbours import {neighbour_set}_long.csv",
        "# `oba neighbours list` shows the sets stored; CHANGE this when DfE publishes a new grouping.",
        f"neighbour_set: {neighbour_set}",
        "",
    ]
    return "\n".join(out)


@click.group("board")
def board_group() -> None:
    """Set up the board configuration file."""


@board_group.command("init")
@click.option("--la", "la_text", required=True, metavar="NAME|NUMBER|ONS-CODE",
              help="The local authority: its name ('Milton Keynes'), DfE LA number (826) or ONS code (E06000042).")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="FILE",
              help="The board file to write (default: data/board.yaml in the current folder, or OBA_HOME).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_obj
def board_init_cmd(app: AppContext, la_text: str, output: Path | None, force: bool) -> None:
    """Write a board file for an English local authority: its codes, region and DfE neighbour set, the standard
    agencies named for the area, the five default priorities and sub-groups, with comments saying what to change.
    """
    from etl.paths import data_dir
    from indicators.board import check_board

    try:
        la = find(la_text)
    except UnknownAuthority as exc:
        raise click.BadParameter(str(exc), param_hint="--la") from None
    output = output or data_dir() / "board.yaml"
    if output.exists() and not force:
        click.echo(f"Error: {output} already exists; use --force to overwrite it (your board settings would be "
                   "lost), or give another file with -o", err=True)
        sys.exit(1)
    click.echo(f"Store {app.safe_url}; board {output} (new)", err=True)
    app.announce = False  # named just now, with the board being made
    neighbour_set, stored = _neighbour_set(app)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(board_text(la, neighbour_set), encoding="utf-8")
    tmp.replace(output)
    _, issues = check_board(output, app.library())
    errors = [i for i in issues if i.level == "error"]
    if errors:  # the reference list and the definitions disagree: say so rather than leave a broken file
        for issue in errors:
            click.echo(str(issue), err=True)
        sys.exit(1)
    region = la.region[1]
    click.echo(f"Wrote {output} for {la.name} (DfE {la.number}, ONS {la.ons_code}, {region}).")
    if not la.current:
        click.echo(f"Warning: {la.name} last reported in {la.last_year}; it has since been reorganised. Check the "
                   "authority is the one you mean.", err=True)
    where = "stored" if stored else "not stored yet: import it with `oba neighbours import FILE`"
    click.echo(f"Neighbour set: {neighbour_set} ({where}).")
    click.echo("Next: change the lines marked CHANGE (agency names, contacts, chairs), then run "
               f"`oba --board {output} indicators check`.")


def _neighbour_set(app: AppContext) -> tuple[str, bool]:
    """The newest neighbour set in the store, else DfE's current one; and whether it is stored."""
    names = stored_neighbour_sets(app)
    if names:
        return names[0], True
    return CURRENT_DFE_NEIGHBOUR_SET, False


def stored_neighbour_sets(app: AppContext) -> list[str] | None:
    """The names of the stored statistical neighbour sets, newest first; None when the store cannot be read
    (not created yet, on an older schema, unreachable)."""
    from sqlalchemy.exc import SQLAlchemyError

    from etl.errors import OBAError

    url = app.url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    try:
        from etl.benchmarks.neighbours import neighbour_sets

        return list(neighbour_sets(app.engine())["name"])
    except (OBAError, SQLAlchemyError):
        return None
