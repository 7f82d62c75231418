"""Turning the curve in the app: story versions, action updates, freezes and their undoing, target changes, and
two people editing the same record."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from conftest import after_where

from etl.access import read_frozen_baselines, read_story
from etl.audit import read_events
from etl.cli import main
from etl.governance import (
    Conflict,
    InvalidField,
    action_history,
    action_standing,
    add_action,
    change_target,
    curve_decisions,
    freeze_baseline,
    read_target_changes,
    record_story,
    story_versions,
    unfreeze_baseline,
    update_action,
)
from indicators.board import TargetChange, target_in_effect
from indicators.periods import Quarter

T0 = dt.datetime(2026, 5, 1, 9, 0)


def test_story_versions_are_kept_with_author_time_and_quarter(engine, library):
    first = record_story(engine, library, "cla_rate", "First story.", "ana", period="2026-27 Q1", at=T0, expected=None)
    record_story(engine, library, "cla_rate", "Second story.", "ben", period="2026-27 Q2",
                 at=T0 + dt.timedelta(days=90), expected=first.id)
    versions = story_versions(engine, "cla_rate")
    assert [(v["story"], v["author"], v["period"]) for v in versions] == [
        ("Second story.", "ben", "2026-27 Q2"), ("First story.", "ana", "2026-27 Q1")]
    assert versions[0]["replaces_id"] == first.id
    story, _ = read_story(engine, "cla_rate")
    assert story["story"] == "Second story." and len(story["versions"]) == 2


def test_the_second_editor_of_a_story_is_told_and_nothing_is_lost(engine, library):
    first = record_story(engine, library, "cla_rate", "Opened by both.", "ana", expected=None)
    record_story(engine, library, "cla_rate", "Ana's edit.", "ana", expected=first.id)
    with pytest.raises(Conflict, match="saved a new version of this story") as err:
        record_story(engine, library, "cla_rate", "Ben's edit.", "ben", expected=first.id)
    assert err.value.theirs["story"] == "Ana's edit." and err.value.theirs["author"] == "ana"
    assert [v["story"] for v in story_versions(engine, "cla_rate")] == ["Ana's edit.", "Opened by both."]


def test_actions_are_updated_not_duplicated_and_keep_their_history(engine, library):
    a = add_action(engine, library, "cla_rate", "Review every placement over 12 months.", "Head of service", "ana",
                   due=dt.date(2025, 12, 31), status="on_track", how_we_know="Fewer placements over 12 months",
                   at=T0)
    with pytest.raises(InvalidField, match="already in the plan") as err:
        add_action(engine, library, "cla_rate", "  review every placement over 12 MONTHS. ", "Someone", "ben")
    assert err.value.field == "action"
    update_action(engine, a.id, 1, by="ben", note="Half reviewed; two moved home.", owner="Service manager",
                  at=T0 + dt.timedelta(days=30))
    done = update_action(engine, a.id, 2, by="ana", status="done", completed_on=dt.date(2026, 2, 1),
                         at=T0 + dt.timedelta(days=60))
    assert (done.version, done.status, done.completed_on, done.owner) == (3, "done", dt.date(2026, 2, 1),
                                                                           "Service manager")
    hist = action_history(engine, a.id)
    assert [(h["version"], h["status"], h["owner"], h["by"], h["note"]) for h in hist] == [
        (1, "on_track", "Head of service", "ana", "Added to the plan."),
        (2, "on_track", "Service manager", "ben", "Half reviewed; two moved home."),
        (3, "done", "Service manager", "ana", None)]
    _, actions = read_story(engine, "cla_rate")
    assert len(actions) == 1 and actions[0]["standing"] == "done" and len(actions[0]["history"]) == 3
    assert [e["action"] for e in reversed(read_events(engine, action="curve."))] == [
        "curve.action", "curve.action.update", "curve.action.update"]


def test_the_second_editor_of_an_action_is_told(engine, library):
    a = add_action(engine, library, "cla_rate", "Audit closures.", "Head of service", "ana")
    update_action(engine, a.id, 1, by="ana", status="on_track")
    with pytest.raises(Conflict, match="now version 2") as err:
        update_action(engine, a.id, 1, by="ben", status="late")
    assert err.value.theirs["status"] == "on_track" and err.value.theirs["version"] == 2


@pytest.mark.parametrize("status, due, standing", [
    ("on_track", dt.date(2025, 12, 31), "overdue"),
    ("open", dt.date(2026, 1, 1), "overdue"),
    ("done", dt.date(2025, 12, 31), "done"),
    ("on_track", dt.date(2026, 1, 2), "on_track"),
    ("late", None, "late"),
])
def test_an_action_past_its_due_date_and_not_done_is_overdue(status, due, standing):
    assert action_standing(status, due, today=dt.date(2026, 1, 2)) == standing


@pytest.mark.parametrize("kwargs, field, message", [
    ({"action": " "}, "action", "an action needs what will be done"),
    ({"owner": ""}, "owner", "an action needs what will be done"),
    ({"due": "31/12/2026"}, "due", "is not a date: write it like 2026-03-31"),
    ({"completed_on": "2026-01-01"}, "completed_on", "only a done action has a completion date"),
    ({"action": "x" * 4001}, "action", "is 4001 characters long; keep it to 4000"),
])
def test_bad_actions_name_the_field(engine, library, kwargs, field, message):
    args = {"action": "Do a thing.", "owner": "Someone"} | kwargs
    with pytest.raises(InvalidField, match=message) as err:
        add_action(engine, library, "cla_rate", args.pop("action"), args.pop("owner"), "ana", **args)
    assert err.value.field == field
    assert read_story(engine, "cla_rate") == (None, [])


def test_freezing_and_undoing_a_freeze_are_recorded_decisions(engine, library):
    record_story(engine, library, "cla_rate", "Story.", "ana", frozen_at="2025-26 Q1", at=T0)
    assert read_frozen_baselines(engine) == {"cla_rate": Quarter(2025, 1)}
    unfreeze_baseline(engine, library, "cla_rate", "The plan was started a quarter too early.", "ana",
                      at=T0 + dt.timedelta(days=1))
    assert read_frozen_baselines(engine) == {}
    story, _ = read_story(engine, "cla_rate")
    assert story["baseline_frozen_at"] is None
    with pytest.raises(InvalidField, match="the baseline is not frozen"):
        unfreeze_baseline(engine, library, "cla_rate", "again", "ana")
    freeze_baseline(engine, library, "cla_rate", "2025-26 Q2", decided_by="ben", at=T0 + dt.timedelta(days=2))
    assert read_frozen_baselines(engine) == {"cla_rate": Quarter(2025, 2)}
    with pytest.raises(InvalidField, match="already frozen at 2025-26 Q2"):
        freeze_baseline(engine, library, "cla_rate", "2025-26 Q2", decided_by="ben")
    kinds = [(d["kind"], d["period"], d["decided_by"]) for d in curve_decisions(engine, "cla_rate")]
    assert kinds == [("freeze", "2025-26 Q2", "ben"), ("unfreeze", None, "ana")]
    # a new version of the story does not undo the freeze
    record_story(engine, library, "cla_rate", "Story, revised.", "ana", at=T0 + dt.timedelta(days=3))
    assert read_frozen_baselines(engine) == {"cla_rate": Quarter(2025, 2)}


def test_target_changes_are_recorded_with_their_quarter(engine, library):
    change_target(engine, library, "cla_rate", "2026-27 Q1", "Board agreed a stretch target.", target=60,
                  decided_by="ana")
    change_target(engine, library, "cla_rate", "2026-27 Q3", "Tolerance widened.", tolerance=5, decided_by="ana")
    assert read_target_changes(engine) == {"cla_rate": [
        TargetChange(Quarter(2026, 1), 60.0, None, "Board agreed a stretch target."),
        TargetChange(Quarter(2026, 3), None, 5.0, "Tolerance widened.")]}
    for kwargs, field in (({}, "target"), ({"tolerance": -1}, "tolerance"), ({"target": "lots"}, "target")):
        with pytest.raises(InvalidField) as err:
            change_target(engine, library, "cla_rate", "2026-27 Q1", "why", **kwargs)
        assert err.value.field == field
    with pytest.raises(InvalidField, match="the reason for the change is required"):
        change_target(engine, library, "cla_rate", "2026-27 Q1", " ", target=1)


def test_the_target_in_effect_in_each_quarter():
    changes = [TargetChange(Quarter(2026, 1), 60.0, None), TargetChange(Quarter(2026, 3), None, 5.0)]
    base = (50.0, 2.0)
    assert target_in_effect(base, changes, Quarter(2025, 4)) == (50.0, 2.0)
    assert target_in_effect(base, changes, Quarter(2026, 1)) == (60.0, 2.0)
    assert target_in_effect(base, changes, Quarter(2026, 3)) == (60.0, 5.0)
    assert target_in_effect(base, changes, None) == (50.0, 2.0)


def test_cli_updates_freezes_and_changes_targets(tmp_path):
    db = str(tmp_path / "oba.sqlite")
    run = CliRunner().invoke
    assert run(main, ["--db", db, "init"]).exit_code == 0
    r = run(main, ["--db", db, "curve", "action", "rereferral_rate", "--action", "Audit 20 closures a quarter.",
                   "--owner", "Head of the front door", "--due", "2025-12-31", "--status", "on_track"])
    assert r.exit_code == 0
    r = run(main, ["--db", db, "curve", "action", "rereferral_rate", "--action", "Audit 20 closures a quarter.",
                   "--owner", "Someone else"])
    assert r.exit_code == 1 and after_where(r.output) == ("Error: this action is already in the plan (number 1, owned by Head of "
                                             "the front door): update that one instead of adding it again\n")
    r = run(main, ["--db", db, "curve", "show", "rereferral_rate"])
    assert "  1. [overdue] Audit 20 closures a quarter. — Head of the front door, due 31 Dec 2025" in after_where(r.output)
    r = run(main, ["--db", db, "curve", "update", "1", "--status", "done", "--completed-on", "2025-12-20",
                   "--note", "20 audited."])
    assert r.exit_code == 0 and after_where(r.output) == "Updated action 1 of rereferral_rate: done (version 2).\n"
    r = run(main, ["--db", db, "curve", "show", "rereferral_rate"])
    assert "  1. [done] Audit 20 closures a quarter. — Head of the front door, due 31 Dec 2025, done 20 Dec 2025" \
        in after_where(r.output)
    r = run(main, ["--db", db, "curve", "freeze", "rereferral_rate", "--period", "2026-27 Q1"])
    assert r.exit_code == 0 and after_where(r.output) == "Froze the baseline of rereferral_rate at 2026-27 Q1.\n"
    r = run(main, ["--db", db, "curve", "unfreeze", "rereferral_rate", "--reason", "Plan postponed."])
    assert r.exit_code == 0
    r = run(main, ["--db", db, "curve", "target", "rereferral_rate", "--from", "2026-27 Q2", "--target", "18",
                   "--reason", "Board raised the ambition."])
    assert r.exit_code == 0 and after_where(r.output) == "Recorded a change of rereferral_rate's target 18 from 2026-27 Q2.\n"
    r = run(main, ["--db", db, "curve", "show", "rereferral_rate"])
    assert "Freeze undone" in after_where(r.output) and "Plan postponed." in after_where(r.output)
    assert "Target changed from 2026-27 Q2" in after_where(r.output) and "target 18. Board raised the ambition." in after_where(r.output)
    r = run(main, ["--db", db, "curve", "target", "rereferral_rate", "--from", "someday", "--target", "1",
                   "--reason", "x"])
    assert r.exit_code == 2 and "is not a quarter" in after_where(r.output)
    r = run(main, ["--db", db, "curve", "update", "9", "--status", "done"])
    assert r.exit_code == 1 and after_where(r.output) == "Error: there is no action number 9; nothing was changed\n"


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory, board, library):
    from etl.demo import build_demo
    from etl.store import make_engine

    work = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{work / 'demo.sqlite'}"
    build_demo(url, board, library, workdir=work)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_a_target_change_applies_from_its_quarter_and_earlier_quarters_keep_theirs(demo_engine, board, library):
    from etl.access import load_dataset

    ind = "rereferral_rate"  # board target 20, tolerance 2; the demo changes neither
    before = load_dataset(demo_engine, board, library, forecasts=False).series(ind, forecast=False)
    assert set(before["target"]) == {20.0}
    change_target(demo_engine, library, ind, "2025-26 Q3", "Board accepted a higher ceiling while the plan beds in.",
                  target=25, tolerance=3, decided_by="PQA")
    try:
        after = load_dataset(demo_engine, board, library, forecasts=False).series(ind, forecast=False)
    finally:
        with demo_engine.begin() as conn:
            from sqlalchemy import text
            conn.execute(text("DELETE FROM curve_decision WHERE kind = 'target' AND indicator_id = :i"), {"i": ind})
    from indicators.exceptions import rag_rating

    cut = Quarter(2025, 3).index
    early, late = after[after["period_index"] < cut], after[after["period_index"] >= cut]
    assert set(early["target"]) == {20.0} and set(early["tolerance"]) == {2.0}
    assert set(late["target"]) == {25.0} and set(late["tolerance"]) == {3.0}
    assert list(early["rag"]) == list(before[before["period_index"] < cut]["rag"])
    expected = [rag_rating([v], 25.0, 3.0, library.indicator(ind).polarity, decimals=library.indicator(ind).decimals)[0]
                for v in late["value"]]
    assert list(late["rag"]) == expected and list(late["rag"]) != list(before[before["period_index"] >= cut]["rag"])


def test_accepting_the_proposed_rebase_is_recorded_as_such(engine, library):
    from etl.governance import record_rebase

    record_rebase(engine, library, "cla_rate", "2025-26 Q3", "The library's proposal: a sustained shift.", "ann",
                  source="proposal")
    record_rebase(engine, library, "cla_rate", "2026-27 Q1", "A new edge-of-care service.", "ann")
    assert [(d["period"], d["source"]) for d in curve_decisions(engine, "cla_rate")
            if d["kind"] == "rebase"] == [("2026-27 Q1", "analyst"), ("2025-26 Q3", "proposal")]
    with pytest.raises(InvalidField, match="already rebased at 2025-26 Q3"):
        record_rebase(engine, library, "cla_rate", "2025-26 Q3", "again", "ann", source="proposal")
