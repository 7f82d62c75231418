"""Cells that are safe to open in a spreadsheet.

A CSV or Excel cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel and LibreOffice as a formula (OWASP, "CSV Injection"). Every CSV and Excel file the project writes passes
its text cells through :func:`escape_cell`, which puts a single quote in front of such text so the spreadsheet
shows it as typed. Numbers stay numbers: a float or int is never touched, and text that is just a signed number
(``-12.5``, ``+3``) is left alone so that a negative figure still reads as a number.

Files are written to a temporary name beside the target and renamed into place, so a failed write never leaves
half a file under the name the user asked for.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def escape_cell(value):
    """``value`` made safe for a spreadsheet cell; anything but text starting with a trigger is returned as is."""
    if not isinstance(value, str) or not value.startswith(TRIGGERS):
        return value
    if _SIGNED_NUMBER.fullmatch(value):
        return value
    return "'" + value


def escape_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and column name) escaped; numeric columns untouched."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(escape_cell)
    out.columns = [escape_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


@contextmanager
def atomic_path(path: Path | str, suffix: str = ""):
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``, on failure removed."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or ".part", dir=target.parent or ".")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_rows(path: Path | str, header: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write a CSV (UTF-8 with BOM, so Excel reads accents) atomically; returns the number of data rows."""
    count = 0
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([escape_cell(h) for h in header])
        for row in rows:
            writer.writerow([escape_cell(v) for v in row])
            count += 1
    return count


def write_csv(frame: pd.DataFrame, path: Path | str, **to_csv) -> None:
    """Write ``frame`` as an escaped CSV, atomically (``to_csv`` keywords go to pandas)."""
    to_csv.setdefault("index", False)
    to_csv.setdefault("encoding", "utf-8-sig")
    with atomic_path(path) as tmp:
        escape_frame(frame).to_csv(tmp, **to_csv)
