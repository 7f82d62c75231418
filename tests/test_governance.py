"""Recording stories, action plans and rebase decisions, and their effect on the dataset."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import after_where

from etl.access import load_dataset, read_frozen_baselines, read_rebases, read_story
from etl.cli import main
from etl.errors import OBAError
from etl.governance import add_action, record_rebase, record_story
from etl.store import make_engine
from indicators.periods import Quarter


def test_story_action_and_rebase_are_stored(engine, library):
    record_story(engine, library, "cla_rate", "Placements rose after two sibling groups came into care.", "analyst",
                 partners="Fostering service", frozen_at="Q1 2025/26")
    record_story(engine, library, "cla_rate", "Second version of the story.", "analyst", frozen_at="2025-26 Q2")
    add_action(engine, library, "cla_rate", "Review every placement over 12 months.", "Head of service", "analyst",
               due=dt.date(2026, 3, 31))
    record_rebase(engine, library, "cla_rate", "2025/26 Q3", "New edge-of-care service from October.", "PQA")
    story, actions = read_story(engine, "cla_rate")
    assert story["story"] == "Second version of the story." and story["baseline_frozen_at"] == "2025-26 Q2"
    assert [(a["owner"], a["due"], a["status"]) for a in actions] == [("Head of service", dt.date(2026, 3, 31), "open")]
    assert read_frozen_baselines(engine) == {"cla_rate": Quarter(2025, 2)}
    assert read_rebases(engine) == {"cla_rate": [Quarter(2025, 3)]}


@pytest.mark.parametrize("call, message", [
    (lambda e, lib: record_story(e, lib, "no_such_thing", "text", "a"), "there is no indicator 'no_such_thing'"),
    (lambda e, lib: record_story(e, lib, "cla_rate", "  ", "a"), "the story is empty"),
    (lambda e, lib: add_action(e, lib, "cla_rate", "x", "y", "a", status="maybe"), "status 'maybe' is not one of"),
    (lambda e, lib: record_rebase(e, lib, "cla_rate", "2025-26 Q3", "", "a"), "a rebase needs its reason"),
])
def test_bad_records_are_refused(engine, library, call, message):
    with pytest.raises(OBAError, match=message):
        call(engine, library)
    assert read_story(engine, "cla_rate") == (None, [])


def test_the_same_rebase_twice_is_refused(engine, library):
    record_rebase(engine, library, "cla_rate", "2025-26 Q3", "reason", "PQA")
    with pytest.raises(OBAError, match="already rebased at 2025-26 Q3"):
        record_rebase(engine, library, "cla_rate", "2025-26 Q3", "again", "PQA")


def test_cli_records_and_shows(tmp_path):
    db = str(tmp_path / "oba.sqlite")
    run = CliRunner().invoke
    assert run(main, ["--db", db, "init"]).exit_code == 0
    r = run(main, ["--db", db, "curve", "story", "rereferral_rate", "--story", "Cases closed without step-down.",
                   "--frozen-at", "2026-27 Q1"])
    assert r.exit_code == 0 and after_where(r.output) == "Recorded the story behind rereferral_rate; baseline frozen at 2026-27 Q1.\n"
    r = run(main, ["--db", db, "curve", "action", "rereferral_rate", "--action", "Audit 20 closures a quarter.",
                   "--owner", "Head of the front door", "--due", "2026-12-31"])
    assert r.exit_code == 0
    r = run(main, ["--db", db, "curve", "rebase", "rereferral_rate", "--period", "2026-27 Q1", "--reason",
                   "New front door.", "--decided-on", "2026-07-01"])
    assert r.exit_code == 0 and "new process limits from that quarter" in r.output
    r = run(main, ["--db", db, "curve", "show", "rereferral_rate"])
    assert r.exit_code == 0
    assert "baseline frozen at 2026-27 Q1" in r.output and "[open] Audit 20 closures a quarter." in r.output
    assert "Rebased at 2026-27 Q1" in r.output
    r = run(main, ["--db", db, "curve", "story", "nope", "--story", "x"])
    assert r.exit_code == 1 and "there is no indicator 'nope'" in r.output
    r = run(main, ["--db", db, "curve", "rebase", "cla_rate", "--period", "2025-26 Q9", "--reason", "x"])
    assert r.exit_code == 2 and "is not a quarter" in r.output


def test_recorded_rebase_changes_the_dataset(tmp_path, board, library):
    from etl.demo import build_demo

    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    build_demo(url, board, library, workdir=tmp_path)
    engine = make_engine(url)
    before = load_dataset(engine, board, library).series("assessments_45_days", forecast=False)
    record_rebase(engine, library, "assessments_45_days", "2024-25 Q4", "Staffing changed.", "PQA")
    after = load_dataset(engine, board, library).series("assessments_45_days", forecast=False)
    engine.dispose()
    assert set(before["spc_segment"]) == {0} and list(after["spc_segment"]) == [0] * 5 + [1] * 7
    new = after[after["spc_segment"] == 1]
    assert new["spc_mean"].iat[0] == pytest.approx(new["value"].mean())
    assert not pd.Series(before["spc_mean"].to_numpy()).equals(pd.Series(after["spc_mean"].to_numpy()))
