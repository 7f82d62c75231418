"""The store and board come from data/ in the current folder (or OBA_HOME), never the install's, and every
command names them on its first line."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from etl.cli import main
from etl.db import head_revision
from etl.paths import DEMO_BOARD, INSTALL_ROOT


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A folder of the user's own, outside the install, with no settings in the environment."""
    for name in ("OBA_DATABASE_URL", "OBA_BOARD", "OBA_HOME"):
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "partnership"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_the_store_is_made_in_the_current_folder_not_the_install(elsewhere):
    r = CliRunner().invoke(main, ["init"])
    store = elsewhere / "data" / "oba.sqlite"
    assert r.exit_code == 0, r.output
    assert r.output == (f"Store sqlite:///{store}; board {DEMO_BOARD} (the demo's: there is no data/board.yaml in "
                        f"{elsewhere})\n"
                        f"Created the store at sqlite:///{store} (schema {head_revision()}).\n")
    assert store.exists()
    assert INSTALL_ROOT not in store.parents


def test_the_current_folders_board_is_used_and_named(elsewhere):
    (elsewhere / "data").mkdir()
    shutil.copy(DEMO_BOARD, elsewhere / "data" / "board.yaml")
    r = CliRunner().invoke(main, ["indicators", "list"])
    assert r.exit_code == 0
    assert r.stderr == f"Store sqlite:///{elsewhere / 'data' / 'oba.sqlite'}; board {elsewhere / 'data' / 'board.yaml'}\n"
    assert r.stdout.splitlines()[0] == "Early Help"


def test_oba_home_and_oba_board(elsewhere, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("OBA_HOME", str(home))
    r = CliRunner().invoke(main, ["init"])
    assert r.exit_code == 0 and (home / "data" / "oba.sqlite").exists()
    assert not (elsewhere / "data").exists()
    monkeypatch.setenv("OBA_BOARD", str(DEMO_BOARD))
    r = CliRunner().invoke(main, ["returns", "status"])
    assert r.output.splitlines()[0] == f"Store sqlite:///{home / 'data' / 'oba.sqlite'}; board {DEMO_BOARD} (OBA_BOARD)"


def test_the_flags_win_and_are_named(elsewhere, tmp_path):
    db = tmp_path / "other.sqlite"
    r = CliRunner().invoke(main, ["--db", str(db), "--board", str(DEMO_BOARD), "init"])
    assert r.exit_code == 0
    assert r.output.splitlines()[0] == f"Store sqlite:///{db}; board {DEMO_BOARD}"


def test_help_names_nothing(elsewhere):
    r = CliRunner().invoke(main, ["returns", "--help"])
    assert r.exit_code == 0 and not r.output.startswith("Store ")


def test_a_store_from_the_environment_is_named_so(elsewhere, tmp_path, monkeypatch):
    db = tmp_path / "env.sqlite"
    monkeypatch.setenv("OBA_DATABASE_URL", str(db))
    r = CliRunner().invoke(main, ["init"])
    assert r.output.splitlines()[0].startswith(f"Store sqlite:///{db} (OBA_DATABASE_URL); board {DEMO_BOARD} (the demo's")
