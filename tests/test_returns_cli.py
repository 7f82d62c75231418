"""``oba returns template | check | load | status``: output and exit codes (0 ok, 1 errors, 2 usage)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from etl.cli import main
from etl.returns.samples import write_sample_return
from indicators.periods import Quarter

ROOT = Path(__file__).resolve().parent.parent
DEMO_BOARD = ROOT / "data" / "demo" / "board.yaml"
Q = Quarter(2025, 2)
POL = {"POL_MISSING_EPISODES": 455, "POL_RHI_ELIGIBLE": 400, "POL_RHI_72H": 310, "POL_CSE_CRIMES": 12,
       "POL_DA_CHILDREN": 260}


@pytest.fixture
def oba(tmp_path):
    """Run ``oba --db <tmp> --board <demo> ...``; returns (exit code, output)."""
    db = str(tmp_path / "oba.sqlite")
    runner = CliRunner()

    def run(*args: str, init: bool = False):
        if init:
            assert runner.invoke(main, ["--db", db, "--board", str(DEMO_BOARD), "init"]).exit_code == 0
        result = runner.invoke(main, ["--db", db, "--board", str(DEMO_BOARD), *args], env={"OBA_USER": "cli.tester"})
        assert "Traceback" not in result.output
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
        first, _, rest = result.output.partition("\n")
        if first.startswith("Store "):  # every command that reads the store or board names them first
            assert first == f"Store sqlite:///{db}; board {DEMO_BOARD}"
            return result.exit_code, rest
        return result.exit_code, result.output
    return run


def pol(tmp_path, board, library, name="POL.xlsx", **values) -> Path:
    return write_sample_return(tmp_path / name, board, library, "POL", Q, values=POL | values)


# --- template ------------------------------------------------------------------------------------------------

def test_template_one_agency(oba, tmp_path):
    out = tmp_path / "POL.xlsx"
    code, text = oba("returns", "template", "--agency", "pol", "--period", "2025/26 Q2", "-o", str(out))
    assert code == 0
    assert text.splitlines() == [
        f"Wrote {out} (POL, 2025-26 Q2, 5 measures)",
        "Last quarter's figures are not shown: there is no initialised store (run `oba init` and load returns "
        "to include them).",
    ]
    assert openpyxl.load_workbook(out).sheetnames == ["About", "Return"]
    assert not (tmp_path / "oba.sqlite").exists()  # making a template never creates a store
    code, text = oba("returns", "template", "--agency", "POL", "--period", "2025-26 Q2", "-o", str(out))
    assert code == 1 and "already exists; use --force" in text
    assert oba("returns", "template", "--agency", "POL", "--period", "2025-26 Q2", "-o", str(out), "--force")[0] == 0


def test_template_all_agencies_with_last_quarter_from_store(oba, tmp_path, board, library):
    oba("init")
    prev = write_sample_return(tmp_path / "q1.xlsx", board, library, "POL", Q - 1, values=POL)
    assert oba("returns", "load", str(prev), "--received", "2025-07-20", init=True)[0] == 0
    code, text = oba("returns", "template", "--all", "--period", "Q2 2025-26", "-o", str(tmp_path / "out"))
    assert code == 0 and text.count("Wrote ") == len(board.agencies)
    assert "not shown" not in text
    ws = openpyxl.load_workbook(tmp_path / "out" / "POL_2025-26_Q2.xlsx")["Return"]
    assert ws["E4"].value == "Last quarter (2025-26 Q1)" and ws["E5"].value == 455


@pytest.mark.parametrize("args, message", [
    (["--period", "2025-26 Q2", "-o", "x.xlsx"], "give either --agency CODE or --all"),
    (["--agency", "POL", "--all", "--period", "2025-26 Q2", "-o", "x"], "give either --agency CODE or --all"),
    (["--agency", "NOPE", "--period", "2025-26 Q2", "-o", "x.xlsx"], "no agency 'NOPE'"),
    (["--agency", "POL", "--period", "2025-26 Q5", "-o", "x.xlsx"], "is not a quarter"),
    (["--agency", "POL", "--period", "2025-26 Q2", "-o", "x.csv"], "ending .xlsx"),
    (["--agency", "POL", "-o", "x.xlsx"], "Missing option '--period'"),
])
def test_template_usage_errors_exit_2(oba, args, message):
    code, text = oba("returns", "template", *args)
    assert code == 2 and message in text


# --- check ---------------------------------------------------------------------------------------------------

def test_check_clean_file(oba, tmp_path, board, library):
    path = pol(tmp_path, board, library)
    code, text = oba("returns", "check", str(path))
    assert (code, text) == (0, f"OK    {path}: POL 2025-26 Q2, 5 measures, 0 warnings\n")


def test_check_prints_every_issue_and_exits_1(oba, tmp_path, board, library):
    bad = pol(tmp_path, board, library, "bad.xlsx", POL_CSE_CRIMES="n/a", POL_DA_CHILDREN="1,260",
              POL_RHI_72H=401)
    good = pol(tmp_path, board, library, "good.xlsx")
    code, text = oba("returns", "check", str(bad), str(good))
    assert code == 1
    lines = text.splitlines()
    assert lines[0] == f"FAIL  {bad}: 2 errors, 1 warning; it would not load"
    assert lines[1].startswith("  ERROR   not-a-number         bad.xlsx Return!F8 POL_CSE_CRIMES: found the text 'n/a'")
    assert lines[2].startswith("  WARNING number-as-text       bad.xlsx Return!F9 POL_DA_CHILDREN: the figure was "
                               "typed as text '1,260'; it was read as 1260")
    assert lines[3].startswith("  ERROR   numerator-exceeds-denominator bad.xlsx Return!F7 POL_RHI_72H: POL_RHI_72H")
    assert lines[4] == f"OK    {good}: POL 2025-26 Q2, 5 measures, 0 warnings"
    assert lines[5] == "2 files checked: 1 can be loaded, 1 has errors."


def test_check_expected_agency_and_period(oba, tmp_path, board, library):
    path = pol(tmp_path, board, library)
    code, text = oba("returns", "check", str(path), "--agency", "CSC", "--period", "2025-26 Q3")
    assert code == 1
    assert "ERROR   wrong-agency         POL.xlsx About!B4: the file is POL's return" in text
    assert "ERROR   wrong-period         POL.xlsx About!B6: the file is for 2025-26 Q2 but 2025-26 Q3 was " \
           "expected (perhaps last quarter's file sent again)" in text


def test_check_folder_missing_file_and_not_a_workbook(oba, tmp_path, board, library):
    folder = tmp_path / "in"
    folder.mkdir()
    pol(folder, board, library)
    (folder / "~$POL.xlsx").write_bytes(b"lock")  # Excel's lock file: skipped
    (folder / "notes.txt").write_text("ignored")
    code, text = oba("returns", "check", str(folder))
    assert code == 0 and text.startswith(f"OK    {folder / 'POL.xlsx'}")
    (tmp_path / "fake.xlsx").write_text("Code,Value\nPOL_CSE_CRIMES,12\n")
    code, text = oba("returns", "check", str(tmp_path / "fake.xlsx"), str(tmp_path / "absent.xlsx"))
    assert code == 1
    assert "ERROR   not-a-workbook       fake.xlsx: the file is a text file (perhaps CSV), although it is named " \
           ".xlsx" in text
    assert "ERROR   file-not-found       absent.xlsx: there is no such file" in text


def test_check_usage_errors_exit_2(oba, tmp_path):
    assert oba("returns", "check")[0] == 2
    assert oba("returns", "check", str(tmp_path), "--period", "Q9")[0] == 2
    code, text = oba("returns", "check", str(tmp_path))  # an empty folder
    assert code == 2 and "no workbook files found" in text


# --- load ----------------------------------------------------------------------------------------------------

def test_load_unchanged_revised_rejected(oba, tmp_path, board, library):
    v1 = pol(tmp_path, board, library, "v1.xlsx")
    code, text = oba("returns", "load", str(v1), "--received", "2025-10-20", init=True)
    assert (code, text) == (0, f"LOADED    {v1}: loaded POL 2025-26 Q2 as version 1\n")
    code, text = oba("returns", "load", str(v1))
    assert (code, text) == (0, f"UNCHANGED {v1}: unchanged: POL 2025-26 Q2 version 1 already holds the same file; "
                               "nothing was changed\n")
    v2 = pol(tmp_path, board, library, "v2.xlsx", POL_MISSING_EPISODES=478, POL_CSE_CRIMES="c")
    bad = pol(tmp_path, board, library, "bad.xlsx", POL_CSE_CRIMES="TBC")
    code, text = oba("returns", "load", str(v2), str(bad), "--received", "2025-11-02")
    assert code == 1
    assert text.splitlines() == [
        f"REVISED   {v2}: revised POL 2025-26 Q2: version 2 replaces version 1 (2 figures changed, 1 warning)",
        "    POL_MISSING_EPISODES from 455 to 478",
        "    POL_CSE_CRIMES from 12 to 'c' (suppressed)",
        "  WARNING suppressed           v2.xlsx Return!F8 POL_CSE_CRIMES: 'c' was read as a suppression marker: "
        "stored as suppressed, so the board sees that a figure exists but not its value",
        f"REJECTED  {bad}: rejected: 1 error, nothing loaded; fix the errors above and load it again",
        "  ERROR   not-a-number         bad.xlsx Return!F8 POL_CSE_CRIMES: found the text 'TBC' where a whole "
        "number, 0 or more is expected; use c if it is suppressed, or leave the cell blank (and say why in the "
        "Note) if you cannot supply it",
        "2 files: 0 loaded, 1 revised, 0 unchanged, 1 rejected.",
    ]


def test_load_needs_an_initialised_store(oba, tmp_path, board, library):
    code, text = oba("returns", "load", str(pol(tmp_path, board, library)))
    assert code == 1 and "has not been created yet: run `oba init` first" in text


@pytest.mark.parametrize("received, message", [
    ("20/10/2025", "Invalid value for '--received'"),
    ((dt.date.today() + dt.timedelta(days=3)).isoformat(), "is in the future"),
])
def test_load_bad_received_date_exit_2(oba, tmp_path, board, library, received, message):
    code, text = oba("returns", "load", str(pol(tmp_path, board, library)), "--received", received, init=True)
    assert code == 2 and message in text


# --- status --------------------------------------------------------------------------------------------------

def test_status_table(oba, tmp_path, board, library):
    oba("init")
    pol_v1 = pol(tmp_path, board, library, "v1.xlsx")
    pol_v2 = pol(tmp_path, board, library, "v2.xlsx", POL_CSE_CRIMES=None)
    assert oba("returns", "load", str(pol_v1), "--received", "2025-10-30")[0] == 0
    assert oba("returns", "load", str(pol_v2), "--received", "2025-11-03")[0] == 0
    csc = write_sample_return(tmp_path / "csc.xlsx", board, library, "CSC", Q)
    assert oba("returns", "load", str(csc), "--received", "2025-10-10")[0] == 0
    for period in ("2025-26 Q2", "2025/26 Q2", "Q2 2025-26", "latest"):
        code, text = oba("returns", "status", "--period", period, "--as-of", "2025-11-01")
        assert code == 0, text
        lines = text.splitlines()
        assert lines[0] == "Returns for 2025-26 Q2 (as of 1 November 2025)"
        assert lines[2].split() == ["Agency", "Name", "Period", "Status", "Due", "Received", "Version", "Warnings",
                                    "Missing"]
        rows = {line.split()[0]: line for line in lines[4:4 + len(board.agencies)]}
        assert "received" in rows["CSC"] and "2025-10-28  2025-10-10" in rows["CSC"]
        assert "late, revised" in rows["POL"] and "2025-10-28  2025-10-30  2" in rows["POL"]
        assert "not yet due" in rows["ICB"]
        assert "missing" in rows["EH"] and "2025-10-21  -" in rows["EH"]
        assert "  POL 2025-26 Q2 (Wessex Police (Harrowdale district)): received 2 days late; version 2 of 2; not " \
               "supplied: Crimes flagged as child sexual exploitation (POL_CSE_CRIMES)" in lines
        assert lines[-1] == "8 returns: 1 received, 1 late, 0 revised, 4 missing, 2 not yet due."
    code, text = oba("returns", "status", "--agency", "POL", "--all", "--as-of", "2025-11-01")
    assert code == 0 and text.count("2025-26 Q2") >= 2


def test_status_usage_errors(oba):
    oba("init")
    assert oba("returns", "status", "--period", "sometime")[0] == 2
    assert oba("returns", "status", "--period", "2025-26 Q2", "--all")[0] == 2
    assert oba("returns", "status", "--agency", "NOPE")[0] == 2


def test_status_empty_store(oba):
    code, text = oba("returns", "status", "--as-of", "2025-11-01", init=True)
    assert code == 0
    assert text.splitlines()[0] == "Returns for 2025-26 Q2 (as of 1 November 2025)"
    assert text.splitlines()[-1] == "8 returns: 0 received, 0 late, 0 revised, 6 missing, 2 not yet due."
