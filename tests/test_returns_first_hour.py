"""The returns commands as a new analyst meets them: a quarter that has not ended, blank templates, names."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from conftest import DEMO_BOARD, after_where

from etl.cli import main
from etl.returns.samples import write_sample_return
from indicators.periods import Quarter

POL = {"POL_MISSING_EPISODES": 455, "POL_RHI_ELIGIBLE": 400, "POL_RHI_72H": 310, "POL_CSE_CRIMES": 12,
       "POL_DA_CHILDREN": 260}


@pytest.fixture
def oba(tmp_path):
    db = str(tmp_path / "oba.sqlite")

    def run(*args: str):
        r = CliRunner().invoke(main, ["--db", db, "--board", str(DEMO_BOARD), *args], env={"OBA_USER": "tester"})
        assert "Traceback" not in r.output
        return r
    return run


def test_a_template_for_a_quarter_not_ended_is_warned_about(oba, tmp_path):
    future = Quarter.containing(dt.date.today()) + 2
    last = Quarter.last_ended()
    out = tmp_path / "POL.xlsx"
    r = oba("returns", "template", "--agency", "POL", "--period", future.label, "-o", str(out))
    assert r.exit_code == 0 and out.exists()
    assert after_where(r.stderr) == (
        f"Warning: {future.label} has not ended yet (it ends on {future.end.day} {future.end:%B %Y}), so its "
        f"figures cannot be complete until then. The last quarter that has ended is {last.label}: "
        f"--period \"{last.label}\" (or --period latest).\n")
    r = oba("returns", "template", "--agency", "POL", "--period", "latest", "-o", str(tmp_path / "ok.xlsx"))
    assert r.exit_code == 0 and "has not ended" not in r.output


def test_blank_templates_get_one_line_each_and_real_problems_stand_out(oba, tmp_path, board, library):
    q = Quarter(2025, 2)
    folder = tmp_path / "returns"
    assert oba("returns", "template", "--all", "--period", q.label, "-o", str(folder)).exit_code == 0
    filled = folder / "POL_2025-26_Q2.xlsx"
    write_sample_return(filled, board, library, "POL", q, values=POL | {"POL_CSE_CRIMES": "n/a"})
    r = oba("returns", "check", str(folder))
    assert r.exit_code == 1
    lines = after_where(r.output).splitlines()
    blank = [ln for ln in lines if ln.startswith("BLANK")]
    assert len(blank) == len(board.agencies) - 1
    assert f"BLANK {folder / 'CSC_2025-26_Q2.xlsx'}: CSC 2025-26 Q2, nothing filled in yet (20 measures blank); " \
           "fill it in and check it again" in blank
    assert f"BLANK {folder / 'YJS_2025-26_Q2.xlsx'}: YJS 2025-26 Q2, nothing filled in yet (1 measure blank); " \
           "fill it in and check it again" in blank
    fail = lines.index(f"FAIL  {filled}: 1 error, 0 warnings; it would not load")
    assert lines[fail + 1].startswith("  ERROR   not-a-number         POL_2025-26_Q2.xlsx Return!F8 POL_CSE_CRIMES")
    assert lines[-1] == "8 files checked: 0 can be loaded, 1 has errors, 7 not filled in yet."
    assert len(lines) == 8 + 1 + 1  # a line per file, the one problem, the summary


def test_blank_templates_alone_are_not_an_error_and_load_nothing(oba, tmp_path):
    q = Quarter(2025, 2)
    folder = tmp_path / "returns"
    assert oba("returns", "template", "--agency", "YJS", "--period", q.label, "-o",
               str(folder / "YJS.xlsx")).exit_code == 0
    r = oba("returns", "check", str(folder / "YJS.xlsx"))
    assert (r.exit_code, after_where(r.output)) == (0, (
        f"BLANK {folder / 'YJS.xlsx'}: YJS 2025-26 Q2, nothing filled in yet (1 measure blank); fill it in and "
        "check it again\n"))
    assert oba("init").exit_code == 0
    r = oba("returns", "load", str(folder / "YJS.xlsx"))
    assert (r.exit_code, after_where(r.output)) == (0, (
        f"BLANK {folder / 'YJS.xlsx'}: YJS 2025-26 Q2, nothing filled in yet (1 measure blank); fill it in and "
        "load it again\n"))
    r = oba("returns", "status", "--period", q.label, "--agency", "YJS", "--as-of", "2025-12-01")
    assert "missing" in r.output


def test_status_all_shows_every_quarter_and_names_measures(oba, tmp_path, board, library):
    assert oba("init").exit_code == 0
    path = write_sample_return(tmp_path / "pol.xlsx", board, library, "POL", Quarter(2025, 1),
                               values=POL | {"POL_CSE_CRIMES": None})
    assert oba("returns", "load", str(path), "--received", "2025-07-20").exit_code == 0
    r = oba("returns", "status", "--all", "--agency", "POL", "--as-of", "2026-02-15")
    assert r.exit_code == 0
    lines = after_where(r.output).splitlines()
    assert lines[0] == "Returns for 2025-26 Q1, 2025-26 Q2, 2025-26 Q3 (as of 15 February 2026)"
    assert [ln.split()[0] for ln in lines[4:7]] == ["POL"] * 3
    assert "  POL 2025-26 Q1 (Wessex Police (Harrowdale district)): not supplied: Crimes flagged as child sexual " \
           "exploitation (POL_CSE_CRIMES)" in lines
    assert lines[-1] == "3 returns: 1 received, 0 late, 0 revised, 2 missing, 0 not yet due."
