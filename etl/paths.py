"""Where the store and the board file are looked for: the current folder's ``data/``, or ``OBA_HOME``'s.

Never the install's: a partnership that runs ``oba`` from its own folder gets its own ``data/oba.sqlite`` and
``data/board.yaml``, and every command's first line (on stderr) names the store and board it uses.
"""

from __future__ import annotations

import os
from pathlib import Path

INSTALL_ROOT = Path(__file__).resolve().parent.parent
DEMO_BOARD = INSTALL_ROOT / "data" / "demo" / "board.yaml"
"""The demo's board file, shipped with the install (used when no board is set up)."""


def home() -> Path:
    """``OBA_HOME`` when set, else the current folder: the folder whose ``data/`` holds the store and board."""
    env = os.environ.get("OBA_HOME")
    return Path(env).expanduser().resolve() if env else Path.cwd()


def data_dir() -> Path:
    return home() / "data"


def default_db_path() -> Path:
    """``data/oba.sqlite`` under home()."""
    return data_dir() / "oba.sqlite"


def default_board_path() -> Path:
    """``OBA_BOARD``, else ``data/board.yaml`` under home() when it exists, else the demo board."""
    env = os.environ.get("OBA_BOARD")
    if env:
        return Path(env)
    own = data_dir() / "board.yaml"
    return own if own.exists() else DEMO_BOARD


def board_source(board_path: Path | None) -> str:
    """How the board file was chosen, for the first line: empty when given, else where it came from."""
    if board_path is not None:
        return ""
    if os.environ.get("OBA_BOARD"):
        return " (OBA_BOARD)"
    if default_board_path() == DEMO_BOARD:
        return f" (the demo's: there is no data/board.yaml in {home()})"
    return ""
