"""Build the package's list of local authorities from DfE's published LA lookup.

    python -m etl.la_reference path/to/la_lookup.csv [-o indicators/data/local_authorities.csv]

The input is the ``la_lookup.csv`` DfE publishes with the Local Authority Interactive Tool (columns
``old_la_code, new_la_code, la_name, region_code, region_name, first_year, last_year, la_type``). The output
keeps one row per LA number and ONS code, with DfE's names, regions and years unchanged, sorted so that a
rebuild from the same lookup gives the same bytes. Run it when DfE publishes a new lookup (after a
reorganisation) and commit the result.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import click

from indicators.local_authorities import COLUMNS, LA_TYPES

REQUIRED = ("old_la_code", "new_la_code", "la_name", "region_code", "region_name", "first_year", "last_year",
            "la_type")
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "indicators" / "data" / "local_authorities.csv"


class LookupFileError(ValueError):
    """The lookup file is not DfE's LA lookup, or a row in it is malformed."""


def build(source: Path) -> str:
    """The package file's text built from DfE's lookup at ``source``; every malformed row is named."""
    try:
        text = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LookupFileError(f"{source}: cannot be read as a UTF-8 CSV ({exc.__class__.__name__}); "
                              "download la_lookup.csv again from DfE") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise LookupFileError(f"{source}: not DfE's LA lookup: the columns {', '.join(missing)} are missing")
    problems, rows, seen = [], [], set()
    for line, row in enumerate(reader, start=2):
        where = f"{source}, line {line}"
        number, code = row["old_la_code"].strip(), row["new_la_code"].strip().upper()
        if not re.fullmatch(r"\d{3}", number):
            problems.append(f"{where}: LA number {number!r} is not three digits")
            continue
        if not re.fullmatch(r"E0[6-9]\d{6}|E10\d{6}", code):
            problems.append(f"{where}: {code!r} is not an ONS code of an English local authority")
            continue
        if not re.fullmatch(r"E1[23]\d{6}", row["region_code"].strip()):
            problems.append(f"{where}: region code {row['region_code']!r} is not an English region")
            continue
        if row["la_type"].strip() not in LA_TYPES:
            problems.append(f"{where}: authority type {row['la_type']!r} is not one of {', '.join(LA_TYPES)}")
            continue
        try:
            first, last = int(row["first_year"]), int(row["last_year"])
        except ValueError:
            problems.append(f"{where}: first_year and last_year must be years")
            continue
        if first > last:
            problems.append(f"{where}: first_year {first} is after last_year {last}")
            continue
        if (number, code) in seen:
            problems.append(f"{where}: LA {number} with code {code} appears twice")
            continue
        seen.add((number, code))
        rows.append([number, row["la_name"].strip(), code, row["region_code"].strip(), row["region_name"].strip(),
                     row["la_type"].strip(), str(first), str(last)])
    if problems:
        raise LookupFileError("\n".join(problems))
    if not rows:
        raise LookupFileError(f"{source}: has no rows")
    rows.sort(key=lambda r: (int(r[0]), int(r[6])))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


@click.command()
@click.argument("lookup", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_OUTPUT,
              show_default=True, help="Where to write the package file.")
def main(lookup: Path, output: Path) -> None:
    """Build the list of local authorities from DfE's LA lookup CSV."""
    try:
        text = build(lookup)
    except LookupFileError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    tmp = output.with_name(output.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(output)
    except OSError as exc:
        click.echo(f"Error: cannot write {output}: {exc.strerror}", err=True)
        sys.exit(1)
    click.echo(f"Wrote {text.count(chr(10)) - 1} rows to {output}")


if __name__ == "__main__":
    main()
