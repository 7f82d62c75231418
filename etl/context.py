"""What every command needs: the store, the board configuration, the definitions and who is acting."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from etl.errors import StoreNotReady
from etl.store import PROJECT_ROOT, database_url, make_engine, redact
from indicators.board import Board, load_board
from indicators.definitions import Library, load_library

DEMO_BOARD = PROJECT_ROOT / "data" / "demo" / "board.yaml"


def default_board_path() -> Path:
    """``OBA_BOARD``, else ``data/board.yaml`` when a board has set one up, else the demo board."""
    env = os.environ.get("OBA_BOARD")
    if env:
        return Path(env)
    own = PROJECT_ROOT / "data" / "board.yaml"
    return own if own.exists() else DEMO_BOARD


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

    @property
    def url(self) -> str:
        return database_url(self.db)

    @property
    def safe_url(self) -> str:
        return redact(self.url)

    def engine(self, require_ready: bool = True) -> Engine:
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
        if self._board is None:
            self._board = load_board(self.board_path or default_board_path(), self.library())
        return self._board

    @property
    def user(self) -> str:
        return current_user()
