"""`oba board init --la …`: a board file for a real local authority, valid as written, and the neighbour-set check."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from etl.board_init import CURRENT_DFE_NEIGHBOUR_SET, board_text
from etl.cli import main
from indicators import local_authorities as las
from indicators.board import check_board, load_board


@pytest.fixture
def folder(tmp_path, monkeypatch):
    for name in ("OBA_DATABASE_URL", "OBA_BOARD", "OBA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("given", ["Milton Keynes", "milton keynes", "826", "E06000042"])
def test_board_init_for_milton_keynes(folder, library, given):
    r = CliRunner().invoke(main, ["board", "init", "--la", given])
    board_file = folder / "data" / "board.yaml"
    assert r.exit_code == 0, r.output
    assert r.stderr == f"Store sqlite:///{folder / 'data' / 'oba.sqlite'}; board {board_file} (new)\n"
    assert r.stdout == (
        f"Wrote {board_file} for Milton Keynes (DfE 826, ONS E06000042, South East).\n"
        f"Neighbour set: {CURRENT_DFE_NEIGHBOUR_SET} (not stored yet: import it with `oba neighbours import FILE`).\n"
        "Next: change the lines marked CHANGE (agency names, contacts, chairs), then run "
        f"`oba --board {board_file} indicators check`.\n")
    board = load_board(board_file, library)
    la = board.local_authority
    assert (la.name, la.la_number, la.ons_code, la.region_code, la.region_name) == (
        "Milton Keynes", 826, "E06000042", "E12000008", "South East")
    assert board.name == "Milton Keynes Safeguarding Children Partnership"
    assert board.neighbour_set == CURRENT_DFE_NEIGHBOUR_SET
    assert [p.id for p in board.priorities] == ["early_help", "neglect", "cse_missing", "domestic_abuse",
                                                "voice_of_child"]
    assert [s.id for s in board.subgroups] == ["pqa", "exploitation", "learning"]
    assert board.agency("CSC").name == "Milton Keynes Children's Social Care"
    assert board.agency("POL").name == "Police (Milton Keynes area)"
    assert not any("Harrowdale" in a.name or "Wessex" in a.name for a in board.agencies)
    text = board_file.read_text(encoding="utf-8")
    assert text.count("# CHANGE") >= 9 and "Harrowdale" not in text


def test_every_current_authority_gets_a_valid_board(tmp_path, library):
    path = tmp_path / "board.yaml"
    for la in las.all_authorities(current_only=True):
        path.write_text(board_text(la, CURRENT_DFE_NEIGHBOUR_SET, dt.date(2026, 12, 1)), encoding="utf-8")
        board, issues = check_board(path, library)
        assert [str(i) for i in issues] == [], la.name
        assert (board.local_authority.la_number, board.local_authority.region_code) == (la.number, la.region[0])


def test_a_london_borough_is_in_the_london_region(folder):
    r = CliRunner().invoke(main, ["board", "init", "--la", "Camden", "-o", "camden.yaml"])
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0] == "Wrote camden.yaml for Camden (DfE 202, ONS E09000007, London)."
    assert "region_code: E12000007" in (folder / "camden.yaml").read_text()


def test_an_unknown_authority_suggests_the_nearest(folder):
    r = CliRunner().invoke(main, ["board", "init", "--la", "Milton Keyns"])
    assert r.exit_code == 2
    assert r.output.splitlines()[-1] == (
        "Error: Invalid value for --la: no English local authority is called or numbered 'Milton Keyns'; did you "
        "mean Milton Keynes (826, E06000042)? Give the name, the DfE 3-digit LA number or the ONS code (E06000042).")
    assert not (folder / "data" / "board.yaml").exists()


def test_an_existing_board_is_not_overwritten(folder):
    (folder / "data").mkdir()
    (folder / "data" / "board.yaml").write_text("name: ours\n")
    r = CliRunner().invoke(main, ["board", "init", "--la", "826"])
    assert r.exit_code == 1
    assert r.stderr.splitlines()[-1] == (
        f"Error: {folder / 'data' / 'board.yaml'} already exists; use --force to overwrite it (your board settings "
        "would be lost), or give another file with -o")
    assert (folder / "data" / "board.yaml").read_text() == "name: ours\n"
    assert CliRunner().invoke(main, ["board", "init", "--la", "826", "--force"]).exit_code == 0


def test_the_neighbour_set_is_checked_against_the_store(folder, shared_dfe):
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    assert CliRunner().invoke(main, ["board", "init", "--la", "826"]).exit_code == 0
    r = CliRunner().invoke(main, ["indicators", "check"])
    board_file = folder / "data" / "board.yaml"
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        f"WARNING neighbour-set-missing {board_file}:122 neighbour_set: the statistical neighbour set "
        f"'{CURRENT_DFE_NEIGHBOUR_SET}' is not in the store, so the dashboard shows no neighbour comparisons; no set "
        f"is stored yet: import DfE's list (`oba neighbours import {CURRENT_DFE_NEIGHBOUR_SET}_long.csv`)",
        f"44 measures, 33 indicators; board {board_file}: 0 error(s), 1 warning(s)."]
    r = CliRunner().invoke(main, ["neighbours", "import", str(shared_dfe / "statistical_neighbours_april2021_long.csv")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["indicators", "check"])
    assert r.stdout.splitlines()[0].endswith(
        "so the dashboard shows no neighbour comparisons; the store holds statistical_neighbours_april2021; name one "
        "of them, or import the board's")
    r = CliRunner().invoke(main, ["neighbours", "import", str(shared_dfe / "statistical_neighbours_may2025_long.csv")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["indicators", "check"])
    assert r.stdout == f"44 measures, 33 indicators; board {board_file}: 0 error(s), 0 warning(s).\n"
    # a board made once the list is stored names the newest stored set
    r = CliRunner().invoke(main, ["board", "init", "--la", "826", "-o", "again.yaml"])
    assert f"Neighbour set: {CURRENT_DFE_NEIGHBOUR_SET} (stored)." in r.stdout
