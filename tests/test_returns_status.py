"""Return status per agency and quarter: received, late, revised, missing, not yet due."""

from __future__ import annotations

import datetime as dt

from etl.returns.load import load_file
from etl.returns.samples import write_sample_return
from etl.returns.status import STATUS_COLUMNS, default_periods, return_status, stored_periods
from indicators.periods import Quarter

Q = Quarter(2025, 2)  # due dates: POL/CSC/EDU/YJS 28 Oct 2025, ICB/ACUTE 4 Nov, EH/SCP 21 Oct
TODAY = dt.date(2025, 11, 1)


def _load(engine, board, library, tmp_path, agency, received, quarter=Q, seed=0, values=None):
    path = write_sample_return(tmp_path / f"{agency}_{quarter.index}_{seed}.xlsx", board, library, agency, quarter,
                               values=values, seed=seed)
    res = load_file(engine, board, library, path, "tester", received, today=TODAY)
    assert res.ok, [str(i) for i in res.issues]
    return res


def test_status_rules(engine, board, library, tmp_path):
    _load(engine, board, library, tmp_path, "CSC", dt.date(2025, 10, 20))               # on time
    _load(engine, board, library, tmp_path, "POL", dt.date(2025, 10, 30))               # 2 days late
    _load(engine, board, library, tmp_path, "EH", dt.date(2025, 10, 1))                 # on time ...
    _load(engine, board, library, tmp_path, "EH", dt.date(2025, 10, 25), seed=1)        # ... then corrected late
    _load(engine, board, library, tmp_path, "EDU", dt.date(2025, 10, 29))               # late ...
    _load(engine, board, library, tmp_path, "EDU", dt.date(2025, 10, 31), seed=1)       # ... and revised
    _load(engine, board, library, tmp_path, "YJS", dt.date(2025, 10, 2), values={"YJS_FTE": "c"})
    df = return_status(engine, board, [Q], today=TODAY)
    assert list(df.columns) == STATUS_COLUMNS
    assert list(df.agency_code) == [a.code for a in board.agencies]
    got = {r.agency_code: (r.status, r.late, r.revised) for r in df.itertuples()}
    assert got == {
        "CSC": ("received", False, False), "POL": ("late", True, False), "ICB": ("not_yet_due", False, False),
        "ACUTE": ("not_yet_due", False, False), "EDU": ("late", True, True), "EH": ("revised", False, True),
        "YJS": ("received", False, False), "SCP": ("missing", False, False),
    }
    row = df.set_index("agency_code")
    assert row.loc["POL", "days_late"] == 2 and row.loc["POL", "due_date"] == dt.date(2025, 10, 28)
    assert (row.loc["EH", "received_on"], row.loc["EH", "current_received_on"]) == (dt.date(2025, 10, 1),
                                                                                  dt.date(2025, 10, 25))
    assert (row.loc["EDU", "version"], row.loc["EDU", "versions"]) == (2, 2)
    assert row.loc["SCP", "missing_measures"] == board.agency("SCP").measures
    assert row.loc["ICB", "missing_measures"] == []
    # A suppressed figure was supplied (the board sees it exists), so it is not a missing measure.
    assert row.loc["YJS", "missing_measures"] == [] and row.loc["YJS", "warnings"] == 1
    assert row.loc["YJS", "issue_codes"] == ["suppressed"]
    assert (row.loc["CSC", "file_name"], row.loc["CSC", "loaded_by"]) == ("CSC_8101_0.xlsx", "tester")


def test_blank_and_missing_measures_and_warnings(engine, board, library, tmp_path):
    values = {"POL_MISSING_EPISODES": 455, "POL_RHI_ELIGIBLE": 400, "POL_RHI_72H": 310, "POL_CSE_CRIMES": None,
              "POL_DA_CHILDREN": " 260 "}
    _load(engine, board, library, tmp_path, "POL", dt.date(2025, 10, 20), values=values)
    row = return_status(engine, board, [Q], today=TODAY).set_index("agency_code").loc["POL"]
    assert row["missing_measures"] == ["POL_CSE_CRIMES"]
    assert row["warnings"] == 2 and row["issue_codes"] == ["blank-value", "number-as-text"]
    assert all(isinstance(m, str) and m for m in row["issues"])


def test_several_quarters_and_default_periods(engine, board, library, tmp_path):
    assert stored_periods(engine) == []
    assert default_periods(engine, TODAY) == [Quarter(2025, 2)]
    _load(engine, board, library, tmp_path, "POL", dt.date(2025, 4, 20), quarter=Quarter(2024, 4))
    _load(engine, board, library, tmp_path, "POL", dt.date(2025, 10, 20))
    assert stored_periods(engine) == [Quarter(2024, 4), Q]
    assert default_periods(engine, TODAY) == [Quarter(2024, 4), Quarter(2025, 1), Q]
    df = return_status(engine, board, today=TODAY)
    assert len(df) == 3 * len(board.agencies)
    pol = df[df.agency_code == "POL"]
    assert list(pol.period) == ["2024-25 Q4", "2025-26 Q1", "2025-26 Q2"]
    assert list(pol.status) == ["received", "missing", "received"]
    assert list(pol.period_index) == [Quarter(2024, 4).index, Quarter(2025, 1).index, Q.index]
