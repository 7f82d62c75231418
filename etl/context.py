"""What every command needs: the store, the board configuration, the definitions and who is acting."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from etl.errors import StoreNotReady
from etl.paths import DEMO_BOARD, board_source, default_board_path
from etl.store import database_url, make_engine, redact
from indicators.board import Board, load_board
from indicators.definitions import Library, load_library

__all__ = ["DEMO_BOARD", "AppContext", "current_user", "default_board_path"]


def current_user() -> str:
    """Who is acting, for provenance: OBA_USER, else the login name."""
    try:
        return os.environ.get("OBA_USER") or getpass.getuser()
    except Exception:
        return "unknown"


@dataclass
class AppContext:
    db: str | None = None
    board_path: Path | None = None
    _engine: Engine | None = field(default=None, repr=False)
    _library: Library | None = field(default=None, repr=False)
    _board: Board | None = field(default=None, repr=False)
    from_env: tuple[str, ...] = ()
    """Which of --db and --board came from OBA_DATABASE_URL and OBA_BOARD, to say so."""
    announce: bool = False
    """Say which store and board are used (on stderr) the first time either is asked for: the command line."""
    _announced: bool = field(default=False, repr=False)

    def describe(self) -> str:
        """One line naming the store and the board file this command uses."""
        board = self.board_path or default_board_path()
        db_note = " (OBA_DATABASE_URL)" if "db" in self.from_env else ""
        board_note = " (OBA_BOARD)" if "board" in self.from_env else board_source(self.board_path)
        return f"Store {self.safe_url}{db_note}; board {board}{board_note}"

    def say_where(self) -> None:
        """Print describe() on stderr once, when this context speaks for a command."""
        if self.announce and not self._announced:
            import click

            self._announced = True
            click.echo(self.describe(), err=True)

    @property
    def url(self) -> str:
        return database_url(self.db)

    @property
    def safe_url(self) -> str:
        return redact(self.url)

    def engine(self, require_ready: bool = True) -> Engine:
        self.say_where()
        if self._engine is None:
            self._engine = make_engine(self.db)
        if require_ready:
            from etl.db import current_revision, head_revision

            rev = current_revision(self._engine)
            if rev is None:
                raise StoreNotReady(f"the store at {self.safe_url} has not been created yet: run `oba init` first")
            if rev != head_revision():
                raise StoreNotReady(f"the store at {self.safe_url} is on an older schema ({rev}): run `oba init` to upgrade it")
        return self._engine

    def library(self) -> Library:
        if self._library is None:
            self._library = load_library()
        return self._library

    def board(self) -> Board:
        self.say_where()
        if self._board is None:
            self._board = load_board(self.board_path or default_board_path(), self.library())
        return self._board

    @property
    def user(self) -> str:
        return current_user()
