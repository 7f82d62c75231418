"""The one place the dashboard's pages and callbacks get data from.

``DataSource`` opens the store, builds the multi-agency dataset with ``etl.access.load_dataset`` and keeps it,
with a few indexes over it, for as long as the store's data does not change (``etl.access.store_version``).
Callbacks ask for a ``View`` (the dataset for one store version) and only look things up in it, so they stay
thin and fast. When there is nothing to show, ``DataSource.view()`` raises ``DataUnavailable`` with a message
that says what to do (create the store, load returns, fix the board file).
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from indicators.board import Board
from indicators.definitions import DefinitionError, Indicator, Library, Question
from indicators.exceptions import SEVERITY_ORDER
from indicators.periods import Quarter

log = logging.getLogger(__name__)

READY_SECONDS = 2.0  # how long the store's schema, once checked, is taken as current

QUESTION_ORDER = [Question.how_much, Question.how_well, Question.better_off]
ATTENTION = ("high", "medium", "low")


class DataUnavailable(Exception):
    """There is nothing to show yet; ``title`` and ``message`` say why and what to do, for the page."""

    def __init__(self, title: str, message: str, details: list[str] | None = None):
        super().__init__(f"{title}: {message}")
        self.title = title
        self.message = message
        self.details = details or []


@dataclass(frozen=True)
class Reason:
    """One reason an indicator is an exception (or good news), in plain English."""

    code: str
    severity: str
    sentence: str

    @property
    def needs_attention(self) -> bool:
        return self.severity in ATTENTION


@dataclass
class MatrixRow:
    """One indicator in one period, as the summary matrix and the priority page show it."""

    indicator: Indicator
    row: dict[str, Any] | None
    reasons: list[Reason] = field(default_factory=list)
    notes: list[Reason] = field(default_factory=list)
    """What to know about the data (missing, late, revised, not yet due): beside the figure, never an exception."""

    @property
    def attention(self) -> list[Reason]:
        return [r for r in self.reasons if r.needs_attention]

    @property
    def good_news(self) -> list[Reason]:
        return [r for r in self.reasons if not r.needs_attention]

    @property
    def is_exception(self) -> bool:
        return bool(self.attention)

    @property
    def sort_key(self) -> tuple:
        worst = min((SEVERITY_ORDER.get(r.severity, 9) for r in self.reasons), default=9)
        return (0 if self.is_exception else (1 if self.reasons else 2), worst,
                QUESTION_ORDER.index(self.indicator.question), self.indicator.label.lower())


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return df.to_dict("records") if df is not None and len(df) else []


class View:
    """The dataset for one store version, with the look-ups the pages need. Read-only; safe to share."""

    #: how many earlier quarters' views are kept at once (each is a whole dataset)
    PERIOD_VIEWS = 4

    def __init__(self, dataset: Any, board: Board, library: Library, version: str = "",
                 neighbours: pd.DataFrame | None = None, areas: pd.DataFrame | None = None,
                 returns_loader: Callable[[], pd.DataFrame] | None = None,
                 story_loader: Callable[[str], tuple[dict | None, list[dict]]] | None = None,
                 parent: View | None = None):
        self.dataset = dataset
        self.parent = parent
        self._period_views: OrderedDict[int, View] = OrderedDict()
        self._period_lock = threading.Lock()
        self.board = board
        self.library = library
        self.version = version
        self.area_code: str = dataset.area_code or board.local_authority.ons_code
        self.area_name: str = board.local_authority.name
        self.region_name: str = board.local_authority.region_name
        self.current: Quarter | None = dataset.period
        self._neighbours = neighbours
        self._areas = areas
        self._returns_loader = returns_loader
        self._story_loader = story_loader
        self._lock = threading.Lock()
        self._memo: dict[tuple, Any] = {}

        frame = dataset.frame
        local = frame[frame["area_code"] == self.area_code] if len(frame) else frame
        local = local.sort_values(["indicator_id", "period_index"], kind="stable")
        self.frame = local
        # Plain records, grouped once: look-ups in callbacks are then dictionary reads, not pandas filters.
        self._series: dict[str, list[dict]] = {}
        self._by_period: dict[int, dict[str, dict]] = {}
        for rec in _records(local):
            rec["is_forecast"] = bool(rec.get("is_forecast"))
            self._series.setdefault(rec["indicator_id"], []).append(rec)
            if not rec["is_forecast"]:
                self._by_period.setdefault(int(rec["period_index"]), {})[rec["indicator_id"]] = rec
        self.periods: list[Quarter] = sorted(Quarter.from_index(i) for i in self._by_period)
        ex = dataset.exceptions
        self.exceptions = ex[ex["area_code"] == self.area_code] if len(ex) else ex
        self._notes: dict[str, list[Reason]] = {}
        notes = getattr(dataset, "data_notes", None)
        if notes is not None and len(notes):
            for r in _records(notes[notes["area_code"] == self.area_code].sort_values("sort_key", kind="stable")):
                self._notes.setdefault(r["indicator_id"], []).append(Reason(r["code"], r["severity"], r["sentence"]))
        # "has the curve turned?": the forecast frozen when an action plan started, against each actual since
        self._curves: dict[str, list[dict]] = {}
        curves = getattr(dataset, "curves", None)
        if curves is not None and len(curves):
            mine = curves[curves["area_code"] == self.area_code].sort_values(["indicator_id", "period_index"])
            for rec in _records(mine):
                self._curves.setdefault(rec["indicator_id"], []).append(rec)
        # the indicators the dataset has, in the library's definitions
        present = set(self._series)
        self.indicators: dict[str, Indicator] = {i: library.indicators[i] for i in library.indicators if i in present}

    # --- memo ---------------------------------------------------------------------------------------
    def memo(self, key: tuple, make: Callable[[], Any]) -> Any:
        """``make()``, computed once per view (so once per store version) for ``key``."""
        if key in self._memo:
            return self._memo[key]
        value = make()
        with self._lock:
            self._memo[key] = value
        return value

    # --- periods ------------------------------------------------------------------------------------
    def resolve_period(self, text: Any) -> tuple[Quarter | None, str]:
        """The quarter a URL asks for, or the current one; and a note when the ask could not be honoured."""
        from dashboard.formatting import parse_quarter

        if text in (None, "", "latest"):
            return self.current, ""
        q = parse_quarter(text)
        if q is None:
            return self.current, f"'{text}' is not a quarter (write it like 2025-26 Q2); showing {self.current}."
        if q not in self.periods:
            return self.current, f"There is no data for {q}; showing {self.current}."
        return q, ""

    def period_options(self) -> list[Quarter]:
        if self.parent is not None:
            return self.parent.period_options()
        return sorted(self.periods, reverse=True)

    def at_period(self, period: Quarter | None) -> View:
        """The view of the dataset as it stood at ``period`` (built from the data up to it; see
        ``Dataset.as_of``): its SPC, forecast, curve verdict, comparisons and exceptions are that quarter's.
        The current quarter is this view itself; a few earlier ones are kept once built."""
        if period is None or period == self.current or not hasattr(self.dataset, "as_of"):
            return self
        with self._period_lock:
            cached = self._period_views.get(period.index)
            if cached is not None:
                self._period_views.move_to_end(period.index)
                return cached
            sub = View(self.dataset.as_of(period), self.board, self.library, self.version, self._neighbours,
                       self._areas, self._returns_loader, self._story_loader, parent=self)
            self._period_views[period.index] = sub
            while len(self._period_views) > self.PERIOD_VIEWS:
                self._period_views.popitem(last=False)
            return sub

    # --- one indicator ------------------------------------------------------------------------------
    def indicator(self, indicator_id: str) -> Indicator | None:
        return self.library.indicators.get(indicator_id)

    def series(self, indicator_id: str, forecast: bool = True) -> list[dict]:
        """The indicator's rows for this area in period order (with the forecast quarters unless asked not to)."""
        rows = self._series.get(indicator_id, [])
        return list(rows) if forecast else [r for r in rows if not r["is_forecast"]]

    def history(self, indicator_id: str, upto: Quarter | None = None) -> list[dict]:
        """The actual (not forecast) rows, up to and including ``upto``."""
        return [r for r in self._series.get(indicator_id, []) if not r["is_forecast"]
                and (upto is None or r["period_index"] <= upto.index)]

    def curve(self, indicator_id: str) -> list[dict]:
        """The frozen baseline's quarters (forecast then, actual since, verdict), or [] when none is frozen."""
        return list(self._curves.get(indicator_id, []))

    def forecast(self, indicator_id: str) -> list[dict]:
        return [r for r in self._series.get(indicator_id, []) if r["is_forecast"]]

    def row(self, indicator_id: str, period: Quarter | None = None) -> dict | None:
        """The indicator's row for a period (default: the current one), or None."""
        period = period or self.current
        if period is None:
            return None
        rec = self._at(period).get(indicator_id)
        return dict(rec) if rec is not None else None

    def _at(self, period: Quarter) -> dict[str, dict]:
        return self._by_period.get(period.index, {})

    # --- exceptions ---------------------------------------------------------------------------------
    def reasons(self, indicator_id: str, priority_id: str | None = None,
                period: Quarter | None = None) -> list[Reason]:
        """Why an indicator needs attention (or is good news) in a period, most severe first: the exceptions
        of the dataset as it stood then (``at_period``)."""
        period = period or self.current
        if period is None:
            return []
        if period != self.current:
            return self.at_period(period).reasons(indicator_id, priority_id)
        ex = self.memo(("reasons",), self._reasons_by_key)
        key = (indicator_id, priority_id) if priority_id else indicator_id
        return list(ex.get(key, []))

    def _reasons_by_key(self) -> dict:
        out: dict = {}
        ex = self.exceptions
        if not len(ex):
            return out
        for r in _records(ex.sort_values(["sort_key"], kind="stable")):
            reason = Reason(r["code"], r["severity"], r["sentence"])
            out.setdefault((r["indicator_id"], r["priority_id"]), []).append(reason)
            lst = out.setdefault(r["indicator_id"], [])
            if all(x.code != reason.code for x in lst):
                lst.append(reason)
        return out

    def notes(self, indicator_id: str, period: Quarter | None = None) -> list[Reason]:
        """What to know about the data behind an indicator in a period (missing, late, revised, not yet due)."""
        period = period or self.current
        if period is not None and period != self.current:
            return self.at_period(period).notes(indicator_id)
        return list(self._notes.get(indicator_id, []))

    # --- priorities ---------------------------------------------------------------------------------
    def priority_indicators(self, priority_id: str) -> list[Indicator]:
        return [i for i in self.library.for_priority(priority_id) if i.id in self.indicators]

    def matrix(self, priority_id: str, period: Quarter | None = None) -> list[MatrixRow]:
        """The priority's indicators in a period: exceptions first (most severe first), then the rest."""
        period = period or self.current

        if period is not None and period != self.current:
            return self.at_period(period).matrix(priority_id)

        def make():
            rows = [MatrixRow(ind, self.row(ind.id, period), self.reasons(ind.id, priority_id, period),
                              self.notes(ind.id, period))
                    for ind in self.priority_indicators(priority_id)]
            return sorted(rows, key=lambda r: r.sort_key)
        return self.memo(("matrix", priority_id, period.index if period else None), make)

    # --- comparisons --------------------------------------------------------------------------------
    @cached_property
    def neighbour_set_note(self) -> str:
        """Which statistical neighbour set the comparisons use and when it was imported, or "" when none."""
        nb = self._neighbours
        attrs = getattr(nb, "attrs", {}) or {}
        name = attrs.get("set")
        if not name:
            return ""
        at = attrs.get("set_imported_at")
        when = f", imported {at.day} {at:%B %Y}" if at is not None else ""
        source = f" from {attrs['set_file']}" if attrs.get("set_file") else ""
        why = "named by the board file" if attrs.get("set_named") else "the newest imported; the board file names none"
        return f"Statistical neighbours: set {name}{source}{when} ({why})."

    @cached_property
    def neighbour_codes(self) -> list[str]:
        nb = self._neighbours
        if nb is None or not len(nb):
            return []
        nb = nb[nb["area_code"] == self.area_code] if "area_code" in nb else nb
        order = nb.sort_values("rank") if "rank" in nb else nb
        return [str(c) for c in order["neighbour_code"].tolist()]

    @cached_property
    def area_names(self) -> dict[str, str]:
        names = {}
        comp = self.dataset.comparators
        if comp is not None and len(comp):
            names.update(comp.drop_duplicates("area_code").set_index("area_code")["area_name"].astype(str).to_dict())
        if self._areas is not None and len(self._areas):
            names.update(self._areas.set_index("area_code")["area_name"].astype(str).to_dict())
        names[self.area_code] = self.area_name
        return names

    def comparator_values(self, indicator_id: str, period: Quarter | None = None) -> tuple[pd.DataFrame, Any]:
        """Every area's comparable value used for this indicator at ``period``: (rows, key), else (empty, None).

        Rows carry a column ``role``: ``self``, ``neighbour``, ``la``, ``region`` or ``england``. The published
        year is the one the dataset's comparisons used (``comparator_year``); otherwise the same quarter's values.
        """
        period = period or self.current

        def make():
            comp = self.dataset.comparators
            empty = pd.DataFrame(columns=list(comp.columns) + ["role"]) if comp is not None else pd.DataFrame()
            if comp is None or not len(comp):
                return empty, None
            c = comp[comp["indicator_id"] == indicator_id]
            if not len(c):
                return empty, None
            row = self.row(indicator_id, period) or {}
            year = row.get("comparator_year")
            if year is not None and year == year and "key_kind" in c:
                pick = c[(c["key_kind"] == "year") & (c["key"].astype(float) == float(year))]
                key = ("year", int(year))
            else:
                pick = c.iloc[0:0]
                key = None
            if not len(pick) and "key_kind" in c:
                quarterly = c[(c["key_kind"] == "quarter") & (c["key"].astype(float) == float(period.index))] \
                    if period else c.iloc[0:0]
                if len(quarterly):
                    pick, key = quarterly, ("quarter", period.label)
            pick = pick.copy()
            nb = set(self.neighbour_codes)
            pick["role"] = [
                "self" if a == self.area_code else ("neighbour" if a in nb else lvl)
                for a, lvl in zip(pick["area_code"], pick["level"], strict=True)
            ]
            return pick, key
        return self.memo(("comparators", indicator_id, period.index if period else None), make)

    # --- store records --------------------------------------------------------------------------------
    def story(self, indicator_id: str) -> tuple[dict | None, list[dict]]:
        """The story behind the baseline and the action plan, as stored."""
        if self._story_loader is None:
            return None, []
        return self.memo(("story", indicator_id), lambda: self._story_loader(indicator_id))

    def returns(self) -> pd.DataFrame:
        """Every agency's return status per quarter (see ``etl.returns.status.return_status``)."""
        if self._returns_loader is None:
            return pd.DataFrame(columns=["agency_code", "agency_name", "period", "period_index", "status",
                                         "due_date", "received_on", "version", "warnings", "missing_measures",
                                         "issues"])
        return self.memo(("returns", dt.date.today()), self._returns_loader)


class DataSource:
    """Opens the store on demand and keeps one ``View`` per store version."""

    def __init__(self, db: str | None = None, board_path: str | Path | None = None, ttl: float = 1.0):
        self.db = db
        self.board_path = Path(board_path) if board_path else None
        self.ttl = ttl
        self._lock = threading.Lock()
        self._setup_lock = threading.RLock()
        self._engine = None
        self._pid = os.getpid()
        self._ready_at = float("-inf")  # when the schema was last found current
        self._board: Board | None = None
        self._library: Library | None = None
        self._view: View | None = None
        self._checked_at = 0.0
        self._version: str | None = None

    @classmethod
    def fixed(cls, view: View) -> DataSource:
        """A source that always serves one view (for tests and benchmarks without a store)."""
        src = cls()
        settle()
        src._view = view
        src._version = view.version or "fixed"
        src._checked_at = float("inf")
        src.ttl = float("inf")
        return src

    # --- configuration ----------------------------------------------------------------------------
    def _context(self):
        from etl.context import AppContext

        return AppContext(db=self.db, board_path=self.board_path)

    def library(self) -> Library:
        if self._library is None:
            with self._setup_lock:  # first requests arrive together: read the definitions once
                if self._library is None:
                    self._library = self._context().library()
        return self._library

    def board(self) -> Board:
        if self._board is None:
            try:
                with self._setup_lock:
                    if self._board is None:
                        self._board = load_board_for(self._context(), self.library())
            except DefinitionError as exc:
                raise DataUnavailable(
                    "The board configuration has errors",
                    "Fix the board file and restart the dashboard. `oba indicators check` lists every problem.",
                    [str(i) for i in exc.issues if i.level == "error"],
                ) from exc
        return self._board

    @property
    def url(self) -> str:
        from etl.store import database_url

        return database_url(self.db)

    def engine(self):
        from etl.store import make_engine, redact

        url = self.url
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            if not path.exists():  # do not create an empty file just by looking
                raise DataUnavailable(
                    "There is no data store yet",
                    f"No store was found at {path}. Run `oba init` to create it and load the agencies' returns, "
                    "or `make run` to build and open the demo.")
        if self._engine is None or self._pid != os.getpid():
            with self._setup_lock:
                if self._engine is not None and self._pid != os.getpid():
                    # a worker forked from the process that opened it: its pooled connections are the parent's
                    self._engine.dispose(close=False)
                    self._engine = None
                if self._engine is None:
                    self._engine = make_engine(self.db)
                    self._pid = os.getpid()
        if time.monotonic() - self._ready_at < READY_SECONDS:
            return self._engine
        from etl.db import current_revision, head_revision

        try:
            rev = current_revision(self._engine)
        except Exception as exc:  # the server is down, the file is not a database...
            raise DataUnavailable("The data store cannot be opened",
                                  f"{redact(url)}: {type(exc).__name__}. Check --db / OBA_DATABASE_URL.") from exc
        if rev is None:
            raise DataUnavailable("The data store has not been created yet",
                                  f"Run `oba init` to create the store at {redact(url)}, then load returns "
                                  "(or run `make run` for the demo).")
        if rev != head_revision():
            raise DataUnavailable("The data store is on an older schema",
                                  f"Run `oba init` to upgrade the store at {redact(url)}.")
        self._ready_at = time.monotonic()
        return self._engine

    # --- the view ---------------------------------------------------------------------------------
    def version(self) -> str:
        from etl.access import store_version

        return store_version(self.engine())

    def view(self) -> View:
        """The current view, rebuilt only when the store's data has changed (checked at most every ``ttl`` s).

        The first build is waited for (there is nothing else to show). After that, a change in the store is
        rebuilt in the background while the view already built keeps being served, so a load does not stall
        every page of every worker for the second a rebuild takes; the new view replaces it when it is ready.
        """
        now = time.monotonic()
        view = self._view
        if view is not None and now - self._checked_at < self.ttl:
            return view
        version = self.version()
        if view is not None and version == self._version:
            self._checked_at = now
            return view
        if view is not None:
            self._checked_at = now
            self._rebuild_in_background(version)
            return view
        with self._lock:
            if self._view is not None:
                return self._view
            return self._build_and_keep(version)

    def _build_and_keep(self, version: str) -> View:
        t0 = time.perf_counter()
        new = self._build(version)
        log.info("dataset built for store version %s in %.2f s", version, time.perf_counter() - t0)
        self._view, self._version, self._checked_at = new, version, time.monotonic()
        settle()
        return new

    def _rebuild_in_background(self, version: str) -> None:
        if not self._lock.acquire(blocking=False):
            return  # a rebuild is already running
        def run():
            try:
                if self._version != version:
                    self._build_and_keep(self.version())
            except Exception:
                # Let the next request build in the open, so it shows what is wrong instead of old figures.
                log.warning("the dataset could not be rebuilt", exc_info=True)
                self._view = None
            finally:
                self._lock.release()
        threading.Thread(target=run, name="oba-rebuild", daemon=True).start()

    def warm(self) -> threading.Thread:
        """Build the view in the background, so the first visitor does not wait for it."""
        def run():
            try:
                self.view().returns()  # the return status too: earlier quarters' exceptions use it
            except Exception:  # the page will say what is wrong when someone asks for it
                log.info("the dataset could not be built yet", exc_info=True)
        t = threading.Thread(target=run, name="oba-warm", daemon=True)
        t.start()
        return t

    def _build(self, version: str) -> View:
        from etl import access

        engine = self.engine()
        board, library = self.board(), self.library()
        no_returns = DataUnavailable(
            "No returns have been loaded yet",
            "The store exists but holds no agency returns. Make templates with `oba returns template`, "
            "load the completed workbooks with `oba returns load`, and this page will fill in.")
        dataset = access.load_dataset(engine, board, library)
        if dataset.period is None or not len(dataset.frame):
            raise no_returns

        def returns_loader() -> pd.DataFrame:
            from etl.returns.status import return_status

            return return_status(engine, board)

        return View(dataset, board, library, version, neighbours=dataset.neighbours, areas=dataset.areas,
                    returns_loader=returns_loader,
                    story_loader=lambda ind_id: access.read_story(engine, ind_id))


def load_board_for(context, library: Library) -> Board:
    """The board file of ``context`` (an ``etl.context.AppContext``), read with ``library``."""
    from etl.context import default_board_path
    from indicators.board import load_board

    return load_board(context.board_path or default_board_path(), library)


def settle() -> None:
    """Keep the long-lived dataset out of Python's cyclic garbage collector.

    A view holds hundreds of thousands of objects (frames, records) that live until the store changes. Every
    full collection would scan them all again, which showed as 150 ms pauses in otherwise 25 ms callbacks;
    freezing what exists now (after collecting what is already garbage) takes them out of those scans.
    Reference counting still frees an old view when it is replaced.
    """
    gc.collect()
    gc.freeze()



def configure(db: str | None = None, board_path: str | Path | None = None, ttl: float = 1.0) -> DataSource:
    """Point the dashboard at a store and board file (called by ``create_app``)."""
    global _SOURCE
    _SOURCE = DataSource(db, board_path, ttl)
    return _SOURCE


def use(source: DataSource) -> None:
    """Serve from a given source (tests and benchmarks)."""
    global _SOURCE
    _SOURCE = source


def source() -> DataSource:
    return _SOURCE


def view() -> View:
    """The current view of the store; raises DataUnavailable when there is nothing to show."""
    return _SOURCE.view()
