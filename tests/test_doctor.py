"""`oba doctor`: every line says what was found and what to do next; exit 1 when something must be fixed."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from etl.cli import main
from etl.db import head_revision
from etl.paths import DEMO_BOARD


@pytest.fixture
def folder(tmp_path, monkeypatch):
    for name in ("OBA_DATABASE_URL", "OBA_BOARD", "OBA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _oba(*args):
    return CliRunner().invoke(main, list(args))


def test_doctor_in_an_empty_folder(folder):
    r = _oba("doctor")
    store = f"sqlite:///{folder / 'data' / 'oba.sqlite'}"
    assert r.exit_code == 1
    assert r.stderr == f"Store {store}; board {DEMO_BOARD} (the demo's: there is no data/board.yaml in {folder})\n"
    assert r.stdout.splitlines() == [
        f"FAIL  store:       there is no store at {store} yet → run `oba init`",
        "WARN  board:       the demo's (Harrowdale, fictional): there is no data/board.yaml here → make your own "
        "with `oba board init --la \"YOUR AUTHORITY\"`",
        "WARN  neighbours:  not checked: it needs the store → fix the lines above first",
        "WARN  benchmarks:  not checked: it needs the store → fix the lines above first",
        "WARN  populations: not checked: it needs the store → fix the lines above first",
        "WARN  returns:     not checked: it needs the store → fix the lines above first",
        "1 to fix, 5 to look at.",
    ]


def test_doctor_with_a_broken_board(folder):
    (folder / "bad.yaml").write_text("name: [unclosed\n")
    r = _oba("--board", "bad.yaml", "init")
    assert r.exit_code == 0
    r = _oba("--board", "bad.yaml", "doctor")
    assert r.exit_code == 1
    assert r.stdout.splitlines()[1] == ("FAIL  board:       bad.yaml: 1 error(s) → run `oba --board bad.yaml indicators "
                                        "check` to see each one with its line")
    assert r.stdout.splitlines()[2] == "WARN  neighbours:  not checked: it needs a valid board file → fix the lines above first"


def test_doctor_on_an_older_schema(folder):
    import sqlite3

    assert _oba("init").exit_code == 0
    with sqlite3.connect(folder / "data" / "oba.sqlite") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0002'")
    r = _oba("doctor")
    assert r.stdout.splitlines()[0].endswith(f"is on an older schema (0002; this version uses {head_revision()}) → "
                                             "run `oba init` to upgrade it (back it up first with `oba backup`)")


def test_doctor_step_by_step_to_a_working_setup(folder, shared_dfe, library):
    from etl.returns.samples import write_sample_return
    from indicators.periods import Quarter

    assert _oba("init").exit_code == 0
    assert _oba("board", "init", "--la", "826").exit_code == 0
    r = _oba("doctor", "--as-of", "2026-11-01")
    lines = r.stdout.splitlines()
    assert r.exit_code == 1
    assert lines[0] == (f"OK    store:       sqlite:///{folder / 'data' / 'oba.sqlite'}, schema {head_revision()} "
                        "(the newest)")
    assert lines[1] == (f"OK    board:       {folder / 'data' / 'board.yaml'}: Milton Keynes (826, E06000042), 8 "
                        "agencies, 5 priorities")
    assert lines[2] == ("FAIL  neighbours:  no statistical neighbour set is stored, so there are no neighbour "
                        "comparisons → import DfE's list: `oba neighbours import "
                        "statistical_neighbours_may2025_long.csv`")
    assert lines[3].startswith("FAIL  benchmarks:  0 of 8 benchmarked indicators have their file; not yet: cin_rate, ")
    assert lines[4] == ("FAIL  populations: no ONS population is stored, so no rate per 10,000 can be worked out → "
                        "import ons_population_0_17_YYYY_YYYY.csv (`oba benchmarks import --help` says where)")
    assert lines[5] == ("WARN  returns:     2026-27 Q2: 0 of 8 received, 2 not due yet (the first on 4 November "
                        "2026), missing: CSC, POL, EDU, EH, YJS, SCP → ask those agencies for their return, then "
                        "`oba returns load FILE...`; `oba returns status` has the details")
    assert lines[6] == "3 to fix, 1 to look at."

    assert _oba("neighbours", "import", str(shared_dfe / "statistical_neighbours_may2025_long.csv")).exit_code == 0
    assert _oba("benchmarks", "import", str(shared_dfe / "ees_cin_d3_cpp_second_or_subsequent_2013_2025.csv"),
                str(shared_dfe / "ons_population_0_17_2012_2024.csv")).exit_code == 0
    ours = _board_for_826(folder)
    for agency in ours.agencies:
        path = write_sample_return(folder / f"{agency.code}.xlsx", ours, library, agency.code, Quarter(2026, 2))
        assert _oba("returns", "load", str(path), "--received", "2026-10-20").exit_code == 0
    r = _oba("doctor", "--as-of", "2026-11-01")
    lines = r.stdout.splitlines()
    assert r.exit_code == 0, r.output
    assert lines[2] == "OK    neighbours:  'statistical_neighbours_may2025': 10 neighbours of Milton Keynes"
    assert lines[3].startswith("WARN  benchmarks:  1 of 8 benchmarked indicators have their file; not yet: cin_rate, ")
    assert lines[4] == ("OK    populations: Milton Keynes: mid-2012 to mid-2024 (13 years) → rates for 2026-27 Q2 use "
                        "mid-2024 until ONS's mid-2026 estimate is imported")
    assert lines[5] == "OK    returns:     2026-27 Q2: 8 of 8 received"
    assert lines[6] == "Nothing to fix; 1 to look at."


def _board_for_826(folder):
    from indicators.board import load_board

    return load_board(folder / "data" / "board.yaml")
