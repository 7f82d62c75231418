"""RAG, direction of travel, trend runs and exception reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.exceptions import exception_reasons, format_value, rag_rating, sort_key, travel


def test_rag_by_polarity_and_tolerance():
    assert list(rag_rating([20, 21.5, 23, np.nan], 20, 2, "lower_better")) == ["green", "amber", "red", ""]
    assert list(rag_rating([90, 84, 83.9], 88, 4, "higher_better")) == ["green", "amber", "red"]
    assert list(rag_rating([5], None, None, "higher_better")) == [""]
    assert list(rag_rating([5], 3, 1, "context")) == [""]


def trend_run(values) -> tuple[str, int]:
    """The rule stated plainly for one series (the reference the vectorised ``trend_runs`` is checked against)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2 or not np.isfinite(v[-1]) or not np.isfinite(v[-2]):
        return "", 0
    d = np.sign(np.round(np.diff(v), 9))
    n = 0
    for x in d[::-1]:
        if x != d[-1] or np.isnan(x):
            break
        n += 1
    return {1.0: "↑", -1.0: "↓", 0.0: "→"}[float(d[-1])], n


def test_travel_and_trend_run():
    assert list(travel([1.0, -1.0, 0.0, np.nan], "lower_better")) == ["worsening", "improving", "no_change", ""]
    assert list(travel([1.0], "context")) == ["up"]
    assert trend_run([1, 2, 3, 3.5, 4]) == ("↑", 4)
    assert trend_run([5, 4, 4.5, 3, 2]) == ("↓", 2)
    assert trend_run([1, 1]) == ("→", 1)
    assert trend_run([1, np.nan]) == ("", 0)


def test_reasons_name_what_happened(library):
    ind = library.indicator("rereferral_rate")
    row = pd.Series({"period": "2026-27 Q2", "value": 25.04, "status": "ok", "rag": "red", "target": 20.0,
                     "spc_point_type": "special_cause_concern", "spc_rule": "trend", "spc_direction": 1.0,
                     "assurance": "consistent_fail", "vs_neighbours": "worse", "neighbours_mean": 21.3,
                     "vs_england": "similar", "quartile": "D", "trial_limits": False})
    reasons = exception_reasons(row, ind)
    codes = [c for c, _, _ in reasons]
    # quartile D but similar to England: no quartile reason (a quarter of areas are always in quartile D)
    assert codes == ["missed-target-red", "spc-concern", "assurance-fail", "worse-than-neighbours"]
    assert [s for _, s, _ in reasons] == ["high", "high", "high", "medium"]
    sentences = dict((c, s) for c, _, s in reasons)
    assert sentences["missed-target-red"] == ("Re-referrals is 25.0%, worse than the target of 20.0% by more than "
                                             "the tolerance.")
    assert sentences["spc-concern"] == "Re-referrals: six consecutive rises (a trend of seven quarters); a cause for concern."
    assert sentences["worse-than-neighbours"] == ("Re-referrals is 25.0%, above its statistical neighbours' range: "
                                                  "significantly worse than the neighbours.")
    banded = exception_reasons(row.to_dict() | {"neighbours_lower": 19.44, "neighbours_upper": 23.19,
                                                "vs_england": "worse", "england_value": 22.6,
                                                "funnel_adjustment": "additive"}, ind)
    sentences = dict((c, s) for c, _, s in banded)
    assert "above the range its statistical neighbours' values make plausible (19.4% to 23.2%)" in \
        sentences["worse-than-neighbours"]
    assert "worse-than-england" not in sentences
    assert sentences["bottom-quartile"] == ("Re-referrals is 25.0%, in the bottom quarter of local authorities and "
                                            "significantly worse than England (22.6%), allowing for the usual spread "
                                            "between local authorities.")
    assert sorted(codes, key=lambda c: sort_key(dict((c, s) for c, s, _ in reasons)[c], c))[0] == "missed-target-red"


def test_trial_limit_signals_are_at_most_medium_and_say_so(library):
    ind = library.indicator("rereferral_rate")
    row = pd.Series({"period": "2026-27 Q2", "value": 25.04, "status": "ok", "target": 20.0,
                     "spc_point_type": "special_cause_concern", "spc_rule": "astronomical", "spc_direction": 1.0,
                     "assurance": "consistent_fail", "trial_limits": True})
    reasons = {c: (sev, s) for c, sev, s in exception_reasons(row, ind)}
    assert reasons["spc-concern"][0] == "medium" and reasons["assurance-fail"][0] == "medium"
    assert "trial limits (fewer than 13 quarters)" in reasons["spc-concern"][1]


def test_late_and_revised_returns_are_data_notes_not_exceptions(library):
    from indicators.exceptions import data_notes

    ind = library.indicator("rereferral_rate")
    row = pd.Series({"period": "2026-27 Q2", "value": 19.0, "status": "ok", "rag": "green", "target": 20.0})
    flags = {"status": "late", "late": True, "revised": True, "agency_name": "Children's Social Care"}
    assert exception_reasons(row, ind, flags) == []
    notes = data_notes(row, ind, flags)
    assert [(c, s) for c, s, _ in notes] == [("data-late", "low"), ("data-revised", "low")]
    assert "Children's Social Care" in notes[0][2] and "after its due date" in notes[0][2]


def test_a_return_not_yet_due_is_awaited_not_missing(library):
    import datetime as dt

    from indicators.exceptions import data_notes

    ind = library.indicator("self_harm_admissions")
    row = pd.Series({"period": "2026-27 Q2", "value": np.nan, "status": "missing"})
    awaited = data_notes(row, ind, {"status": "not_yet_due", "agency_name": "Acute trust",
                                    "due_date": dt.date(2026, 10, 28)})
    assert [(c, s) for c, s, _ in awaited] == [("data-not-due", "info")]
    assert awaited[0][2] == ("Self-harm admissions: the return from Acute trust for 2026-27 Q2 is not due yet, "
                             "due 28 October 2026.")
    overdue = data_notes(row, ind, {"status": "missing", "agency_name": "Acute trust"})
    assert [c for c, _, _ in overdue] == ["data-missing"]


def test_positive_exceptions(library):
    ind = library.indicator("return_home_interviews")
    row = pd.Series({"period": "2026-27 Q2", "value": 84.0, "status": "ok", "rag": "green", "target": 80.0,
                     "spc_point_type": "special_cause_improvement", "spc_rule": "shift", "spc_direction": 1.0,
                     "vs_neighbours": "better", "neighbours_mean": 70.0})
    reasons = exception_reasons(row, ind)
    assert [(c, s) for c, s, _ in reasons] == [("spc-improvement", "positive"), ("better-than-neighbours", "positive")]


def test_missing_and_suppressed(library):
    from indicators.exceptions import data_notes

    ind = library.indicator("self_harm_admissions")
    row = pd.Series({"period": "2026-27 Q2", "value": np.nan, "status": "missing"})
    assert exception_reasons(row, ind) == []
    assert [c for c, _, _ in data_notes(row, ind)] == ["data-missing"]
    row = pd.Series({"period": "2026-27 Q2", "value": np.nan, "status": "suppressed"})
    assert [c for c, _, _ in data_notes(row, ind)] == ["data-suppressed"]


def test_format_value(library):
    assert format_value(1234.4, library.indicator("missing_episodes")) == "1,234"
    assert format_value(363.84, library.indicator("cin_rate")) == "363.8 per 10,000"
    assert format_value(np.nan, library.indicator("cin_rate")) == "no value"
    assert format_value(32.46, library.indicator("assessment_duration")) == "32.5 days"


def test_vectorised_trend_runs_match_the_single_series_rule():
    from indicators.dataset import trend_runs

    rng = np.random.default_rng(1)
    rows = []
    for s in range(40):
        v = np.round(rng.normal(0, 1, 12), 0)
        v[rng.integers(0, 12)] = np.nan
        rows += [(f"i{s % 3}", f"a{s}", i, x) for i, x in enumerate(v)]
    f = pd.DataFrame(rows, columns=["indicator_id", "area_code", "period_index", "value"])
    f = f.sort_values(["indicator_id", "area_code", "period_index"]).reset_index(drop=True)
    f["change_quarter"] = f["value"] - f.groupby(["indicator_id", "area_code"])["value"].shift(1)
    arrows, lengths = trend_runs(f)
    for _, g in f.groupby(["indicator_id", "area_code"]):
        vals = g["value"].to_numpy()
        for k, ix in enumerate(g.index):
            assert (arrows[ix], lengths[ix]) == trend_run(vals[: k + 1])


def test_every_exception_code_is_worded_and_documented():
    from pathlib import Path

    from dashboard.formatting import EXCEPTION_SHORT
    from indicators.exceptions import DATA_NOTE_CODES, EXCEPTION_CODES

    doc = (Path(__file__).resolve().parent.parent / "docs" / "dataset.md").read_text()
    codes = EXCEPTION_CODES + DATA_NOTE_CODES
    assert [c for c in codes if c not in EXCEPTION_SHORT] == []
    assert [c for c in codes if f"| `{c}` |" not in doc] == []
    assert len(set(codes)) == len(codes)
