"""What every export shares: the view to export from, checked choices, and writing a file safely."""

from __future__ import annotations

import datetime as dt
import errno
import os
from pathlib import Path

from dashboard.data import DataSource, DataUnavailable, View
from etl.errors import OBAError
from indicators.definitions import Indicator
from indicators.periods import PeriodError, Quarter

FORMATS = {"data": ("csv", "xlsx"), "chart": ("png", "svg", "pdf")}


class ExportError(OBAError):
    """A request for an export that cannot be met (unknown choice, nothing to export, unwritable path)."""


def open_view(db: str | None = None, board_path: str | Path | None = None) -> View:
    """The dataset of the store at ``db`` for the board file ``board_path``, as the dashboard sees it."""
    src = DataSource(db, board_path, ttl=float("inf"))
    try:
        view = src.view()
    except DataUnavailable as exc:
        detail = "; ".join(exc.details)
        raise ExportError(f"{exc.title}. {exc.message}" + (f" ({detail})" if detail else "")) from exc
    view.engine_getter = src.engine  # for the governance records the outputs show (critical messages)
    view.board_path = board_path
    return view


def board_file(view: View) -> Path:
    """The board file the view was read with (for paths in it, such as the pack template)."""
    from etl.context import default_board_path

    given = getattr(view, "board_path", None)
    if given is None:
        from dashboard import data

        given = data.source().board_path
    return Path(given) if given else default_board_path()


def _choices(items: list[str], limit: int = 40) -> str:
    shown = items[:limit]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown) + more


def resolve_period(view: View, text: str | None) -> Quarter:
    """The quarter asked for (default or ``latest``: the current one), or ExportError naming the valid ones."""
    valid = [str(q) for q in view.period_options()]
    if text in (None, "", "latest"):
        if view.current is None:
            raise ExportError("there is no quarter with data to export yet: load returns first")
        return view.current
    try:
        q = Quarter.parse(str(text))
    except (PeriodError, ValueError):
        raise ExportError(f"'{text}' is not a quarter. Write it like 2025-26 Q2. "
                          f"Quarters with data: {_choices(valid)} (or latest).") from None
    if q not in view.periods:
        raise ExportError(f"there is no data for {q}. Quarters with data: {_choices(valid)} (or latest).")
    return q


def resolve_priority(view: View, priority_id: str | None):
    """The board priority with this id (None: all of them), or ExportError naming the valid ids."""
    if priority_id in (None, ""):
        return None
    for p in view.board.priorities:
        if p.id == priority_id:
            return p
    valid = [p.id for p in view.board.priorities]
    raise ExportError(f"there is no board priority '{priority_id}'. Priorities: {_choices(valid)}.")


def resolve_indicator(view: View, indicator_id: str) -> Indicator:
    ind = view.indicator(indicator_id)
    if ind is None or ind.id not in view.indicators:
        raise ExportError(f"there is no indicator '{indicator_id}' with data. Indicators: "
                          f"{_choices(sorted(view.indicators), 60)}.")
    return ind


def check_choice(what: str, value: str, valid: tuple[str, ...] | list[str]) -> str:
    if value not in valid:
        article = "an" if what[:1].lower() in "aeiou" else "a"
        raise ExportError(f"'{value}' is not {article} {what}. Choose one of: {', '.join(valid)}.")
    return value


def check_writable(path: str | Path, suffixes: tuple[str, ...] = ()) -> Path:
    """``path`` if a file can be written there (its folder exists and is writable), else ExportError saying why."""
    target = Path(path)
    if suffixes and target.suffix.lower().lstrip(".") not in suffixes:
        raise ExportError(f"{target}: the file name should end in {' or '.join('.' + s for s in suffixes)} "
                          "for this format.")
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise ExportError(f"{target} is a folder: give a file name, e.g. {target / 'export'}")
    if not folder.exists():
        raise ExportError(f"cannot write {target}: the folder {folder} does not exist. Create it or choose "
                          "another place.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {target}: permission denied on the folder {folder}. Choose a folder "
                          "you may write to.")
    if target.exists() and not os.access(target, os.W_OK):
        raise ExportError(f"cannot write {target}: the file exists and may not be changed (read-only).")
    return target


def write_error(target: Path, exc: OSError) -> ExportError:
    """An OSError met while writing, said plainly."""
    reason = {errno.EACCES: "permission denied", errno.ENOSPC: "the disk is full",
              errno.EROFS: "the disk is read-only"}.get(exc.errno, exc.strerror or type(exc).__name__)
    return ExportError(f"cannot write {target}: {reason}. Nothing was written under that name.")


def produced_on(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now()
    return f"Produced on {now:%-d %B %Y at %H:%M}"


def sources_line(view: View) -> str:
    """Where the figures come from, for a file's notes and a chart's footer."""
    return (f"Source: {view.area_name} partnership agencies' quarterly returns; DfE and ONS published statistics "
            "for the neighbours, region and England.")
