"""Loading returns: provenance, versions, idempotency, all-or-nothing, concurrent loads and a killed load."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from etl.returns import load as load_module
from etl.returns.load import PAUSE_ENV, Change, StoreWriteError, load_file, load_files
from etl.returns.samples import sample_values
from etl.returns.template import build_template, fill_values
from etl.store import ReturnIssue, ReturnValue, ReturnVersion, make_engine
from indicators.periods import Quarter

ROOT = Path(__file__).resolve().parent.parent
DEMO_BOARD = ROOT / "data" / "demo" / "board.yaml"
Q = Quarter(2025, 2)
TODAY = dt.date(2026, 1, 15)
POL = {"POL_MISSING_EPISODES": 455, "POL_RHI_ELIGIBLE": 400, "POL_RHI_72H": 310, "POL_CSE_CRIMES": 12,
       "POL_DA_CHILDREN": 260}


def write(path: Path, board, library, values=None, notes=None, agency="POL", quarter=Q, fn=None) -> Path:
    wb = build_template(board, library, agency, quarter)
    fill_values(wb, values if values is not None else POL, notes)
    if fn:
        fn(wb)
    wb.save(path)
    return path


def snapshot(engine) -> dict:
    out = {}
    with engine.connect() as conn:
        for model in (ReturnVersion, ReturnValue, ReturnIssue):
            out[model.__tablename__] = sorted(tuple(r) for r in conn.execute(select(model.__table__)))
    return out


def versions(engine, agency="POL", period=Q) -> list[ReturnVersion]:
    with Session(engine) as session:
        return list(session.scalars(select(ReturnVersion).where(ReturnVersion.agency_code == agency,
                                                                ReturnVersion.period == period.label)
                                    .order_by(ReturnVersion.version)))


def current_values(engine, agency="POL", period=Q) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(select(ReturnValue.measure_code, ReturnValue.value, ReturnValue.status, ReturnValue.raw,
                                   ReturnValue.note)
                            .join(ReturnVersion, ReturnValue.return_id == ReturnVersion.id)
                            .where(ReturnVersion.agency_code == agency, ReturnVersion.period == period.label,
                                   ReturnVersion.is_current.is_(True))).all()
    return {r.measure_code: (r.value, r.status, r.raw, r.note) for r in rows}


def test_first_load_stores_figures_warnings_and_provenance(engine, board, library, tmp_path):
    values = POL | {"POL_CSE_CRIMES": "c", "POL_DA_CHILDREN": None, "POL_MISSING_EPISODES": "1,455"}
    path = write(tmp_path / "POL.xlsx", board, library, values, notes={"POL_CSE_CRIMES": "Fewer than 5."})
    res = load_file(engine, board, library, path, "a.analyst", dt.date(2025, 10, 20), today=TODAY)
    assert (res.outcome, res.agency, res.period, res.version, res.changes) == ("loaded", "POL", Q, 1, [])
    assert res.message == "loaded POL 2025-26 Q2 as version 1, 3 warnings"
    [v] = versions(engine)
    assert (v.file_name, v.sha256, v.loaded_by, v.received_on, v.is_current, v.superseded_at, v.period_index) == (
        "POL.xlsx", hashlib.sha256(path.read_bytes()).hexdigest(), "a.analyst", dt.date(2025, 10, 20), True,
        None, Q.index)
    assert v.loaded_at is not None
    assert current_values(engine) == {
        "POL_MISSING_EPISODES": (1455.0, "ok", "1,455", None), "POL_RHI_ELIGIBLE": (400.0, "ok", None, None),
        "POL_RHI_72H": (310.0, "ok", None, None), "POL_CSE_CRIMES": (None, "suppressed", "c", "Fewer than 5."),
        "POL_DA_CHILDREN": (None, "blank", None, None),
    }
    with engine.connect() as conn:
        issues = conn.execute(select(ReturnIssue.level, ReturnIssue.code, ReturnIssue.sheet, ReturnIssue.cell,
                                     ReturnIssue.measure_code).order_by(ReturnIssue.id)).all()
    assert [tuple(i) for i in issues] == [
        ("warning", "number-as-text", "Return", "F5", "POL_MISSING_EPISODES"),
        ("warning", "suppressed", "Return", "F8", "POL_CSE_CRIMES"),
        ("warning", "blank-value", "Return", "F9", "POL_DA_CHILDREN"),
    ]


def test_same_file_again_changes_nothing(engine, board, library, tmp_path):
    path = write(tmp_path / "POL.xlsx", board, library)
    load_file(engine, board, library, path, "tester", dt.date(2025, 10, 20), today=TODAY)
    before = snapshot(engine)
    res = load_file(engine, board, library, path, "someone.else", dt.date(2025, 11, 1), today=TODAY)
    assert (res.outcome, res.version, res.same_file) == ("unchanged", 1, True)
    assert res.message == "unchanged: POL 2025-26 Q2 version 1 already holds the same file; nothing was changed"
    assert snapshot(engine) == before


def test_same_figures_in_another_file_changes_nothing(engine, board, library, tmp_path):
    load_file(engine, board, library, write(tmp_path / "a.xlsx", board, library), "tester", today=TODAY)
    before = snapshot(engine)

    def extra(wb):
        wb.create_sheet("Working")["A1"] = "scratch"
    other = write(tmp_path / "b.xlsx", board, library, fn=extra)
    res = load_file(engine, board, library, other, "tester", today=TODAY)
    assert (res.outcome, res.same_file) == ("unchanged", False)
    assert "the same figures" in res.message
    assert snapshot(engine) == before


def test_resubmission_is_a_new_version_with_changes(engine, board, library, tmp_path):
    first = write(tmp_path / "v1.xlsx", board, library)
    load_file(engine, board, library, first, "tester", dt.date(2025, 10, 20), today=TODAY)
    fixed = POL | {"POL_MISSING_EPISODES": 478, "POL_CSE_CRIMES": "c", "POL_DA_CHILDREN": None}
    second = write(tmp_path / "v2.xlsx", board, library, fixed)
    res = load_file(engine, board, library, second, "tester", dt.date(2025, 11, 30), today=TODAY)
    assert (res.outcome, res.version, res.previous_version) == ("revised", 2, 1)
    assert res.changes == [Change("POL_MISSING_EPISODES", 455.0, 478.0), Change("POL_CSE_CRIMES", 12.0, "c"),
                           Change("POL_DA_CHILDREN", 260.0, None)]
    assert [tuple(c) for c in res.changes][0] == ("POL_MISSING_EPISODES", 455.0, 478.0)
    assert [str(c) for c in res.changes] == ["POL_MISSING_EPISODES from 455 to 478",
                                             "POL_CSE_CRIMES from 12 to 'c' (suppressed)",
                                             "POL_DA_CHILDREN from 260 to not supplied"]
    assert res.message == "revised POL 2025-26 Q2: version 2 replaces version 1 (3 figures changed, 2 warnings)"
    v1, v2 = versions(engine)
    assert (v1.is_current, v2.is_current) == (False, True)
    assert v1.superseded_at is not None and v2.superseded_at is None
    assert (v1.file_name, v2.file_name) == ("v1.xlsx", "v2.xlsx")
    assert current_values(engine)["POL_MISSING_EPISODES"][0] == 478.0

    # Sending the first file again is a change back, so a third version; nothing is ever deleted.
    res = load_file(engine, board, library, first, "tester", today=TODAY)
    assert (res.outcome, res.version) == ("revised", 3)
    assert len(versions(engine)) == 3 and current_values(engine)["POL_MISSING_EPISODES"][0] == 455.0


def test_notes_only_change_is_a_revision_without_figure_changes(engine, board, library, tmp_path):
    load_file(engine, board, library, write(tmp_path / "a.xlsx", board, library), "tester", today=TODAY)
    res = load_file(engine, board, library,
                    write(tmp_path / "b.xlsx", board, library, notes={"POL_RHI_72H": "New provider from July."}),
                    "tester", today=TODAY)
    assert (res.outcome, res.changes) == ("revised", [])
    assert "only notes, the commentary or the contact changed" in res.message
    assert current_values(engine)["POL_RHI_72H"][3] == "New provider from July."


def test_same_figures_as_last_quarter_warns(engine, board, library, tmp_path):
    load_file(engine, board, library, write(tmp_path / "q1.xlsx", board, library, quarter=Q - 1), "t", today=TODAY)
    res = load_file(engine, board, library, write(tmp_path / "q2.xlsx", board, library), "t", today=TODAY)
    assert res.outcome == "loaded"
    assert [i.code for i in res.issues] == ["same-as-last-quarter"]
    with engine.connect() as conn:
        assert conn.execute(select(ReturnIssue.code)).scalars().all() == ["same-as-last-quarter"]


def test_load_files_each_file_on_its_own(engine, board, library, tmp_path):
    good = write(tmp_path / "POL.xlsx", board, library)
    bad = write(tmp_path / "bad.xlsx", board, library, POL | {"POL_CSE_CRIMES": "TBC"}, agency="POL",
                quarter=Q + 1)
    other = write(tmp_path / "YJS.xlsx", board, library, {"YJS_FTE": 7}, agency="YJS")
    results = load_files(engine, board, library, [good, bad, other], "tester", dt.date(2025, 10, 22), today=TODAY)
    assert [r.outcome for r in results] == ["loaded", "rejected", "loaded"]
    assert results[1].message.startswith("rejected: 1 error, nothing loaded")
    assert len(versions(engine, "POL", Q + 1)) == 0


def test_failure_inside_the_transaction_changes_nothing(engine, board, library, tmp_path, monkeypatch):
    load_file(engine, board, library, write(tmp_path / "v1.xlsx", board, library), "tester", today=TODAY)
    before = snapshot(engine)

    def explode():
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))
    monkeypatch.setattr(load_module, "_pause_for_tests", explode)
    v2 = write(tmp_path / "v2.xlsx", board, library, POL | {"POL_CSE_CRIMES": 13})
    with pytest.raises(StoreWriteError, match="nothing from this file was stored"):
        load_file(engine, board, library, v2, "tester", today=TODAY)
    assert snapshot(engine) == before  # v1 still current, no half-written v2


# --- more than one process ----------------------------------------------------------------------------------

def _load_in_process(url: str, path: str, pause: str | None) -> str:
    """Runs in a separate process: load one file, return the outcome."""
    if pause:
        os.environ[PAUSE_ENV] = pause
        os.environ[PAUSE_ENV + "_SECONDS"] = "1.5"
    from etl.returns.load import load_file
    from indicators.board import load_board
    from indicators.definitions import load_library

    library = load_library()
    board = load_board(DEMO_BOARD, library)
    engine = make_engine(url)
    try:
        return load_file(engine, board, library, path, "worker", dt.date(2025, 10, 20)).outcome
    finally:
        engine.dispose()


@pytest.mark.parametrize("same_return", [False, True], ids=["two-agencies", "two-corrections-of-one-return"])
def test_two_processes_loading_at_once_both_succeed(engine, board, library, tmp_path, same_return):
    """The second load waits for the first's transaction (held open 1.5 s) instead of failing; two corrections
    of the same return become versions 2 and 3, one of them current."""
    url = engine.url.render_as_string(hide_password=False)
    if same_return:
        load_file(engine, board, library, write(tmp_path / "v1.xlsx", board, library), "tester", today=TODAY)
        a = write(tmp_path / "a.xlsx", board, library, POL | {"POL_CSE_CRIMES": 13})
        b = write(tmp_path / "b.xlsx", board, library, POL | {"POL_CSE_CRIMES": 14})
        expected = ("revised", "revised")
    else:
        a = write(tmp_path / "POL.xlsx", board, library)
        b = write(tmp_path / "CSC.xlsx", board, library, sample_values(board, library, "CSC", Q), agency="CSC")
        expected = ("loaded", "loaded")
    marker = str(tmp_path / "pause")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        first = pool.apply_async(_load_in_process, (url, str(a), marker))
        deadline = time.monotonic() + 30
        while not Path(marker + ".ready").exists():
            assert time.monotonic() < deadline, "the first load never reached its transaction"
            time.sleep(0.02)
        second = pool.apply_async(_load_in_process, (url, str(b), None))
        assert (first.get(60), second.get(60)) == expected
    if same_return:
        vs = versions(engine)
        assert [(v.version, v.is_current, v.file_name) for v in vs] == [(1, False, "v1.xlsx"), (2, False, "a.xlsx"),
                                                                        (3, True, "b.xlsx")]
        assert current_values(engine)["POL_CSE_CRIMES"][0] == 14
    else:
        assert len(versions(engine, "POL")) == 1 and len(versions(engine, "CSC")) == 1


def test_killed_load_leaves_the_store_as_it_was(engine, board, library, tmp_path):
    url = engine.url.render_as_string(hide_password=False)
    load_file(engine, board, library, write(tmp_path / "v1.xlsx", board, library), "tester", today=TODAY)
    before = snapshot(engine)
    v2 = write(tmp_path / "v2.xlsx", board, library, POL | {"POL_CSE_CRIMES": 14})
    marker = tmp_path / "pause"
    env = os.environ | {PAUSE_ENV: str(marker), "OBA_USER": "killed"}
    proc = subprocess.Popen([sys.executable, "-c", "from etl.cli import main; main()", "--db", url, "--board",
                             str(DEMO_BOARD), "returns", "load", str(v2)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not Path(str(marker) + ".ready").exists():
            assert proc.poll() is None, "the load ended before reaching its transaction"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)  # mid-transaction: version 1 already marked superseded, v2 written
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert snapshot(engine) == before
    res = load_file(engine, board, library, v2, "tester", today=TODAY)  # the store is usable and unlocked
    assert (res.outcome, res.version) == ("revised", 2)
