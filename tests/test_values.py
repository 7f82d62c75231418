"""Indicator values from measures, and published values reproduced from the real DfE files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicators.benchmarking import published_values
from indicators.values import compute_values

Q = ["2024-25 Q1", "2024-25 Q2", "2024-25 Q3", "2024-25 Q4", "2025-26 Q1", "2025-26 Q2"]


def _measures(rows):
    return pd.DataFrame(rows, columns=["area_code", "period", "measure", "value", "status"])


def _pop():
    return pd.DataFrame({"area_code": ["A", "A"], "year": [2024, 2025], "population": [74_569, 80_000]})


def test_flow_percentage_with_wilson_interval(library):
    m = _measures([("A", Q[0], "CSC_ASSESS_COMPLETED", 263, "ok"), ("A", Q[0], "CSC_ASSESS_45WD", 81, "ok")])
    v = compute_values(m, library, indicators=["assessments_45_days"]).iloc[0]
    assert v["value"] == pytest.approx(100 * 81 / 263)
    # Wilson 95% for 81/263 (Newcombe 1998, example): 0.2553 to 0.3662
    assert (v["lower"], v["upper"]) == pytest.approx((25.53, 36.62), abs=0.01)
    assert v["status"] == "ok"


def test_rolling_twelve_months_needs_four_quarters_and_sums_them(library):
    rows = []
    for i, p in enumerate(Q):
        rows += [("A", p, "CSC_REFERRALS", 1000 + 10 * i, "ok"), ("A", p, "CSC_REREFERRALS", 200 + i, "ok")]
    v = compute_values(_measures(rows), library, indicators=["rereferral_rate"]).set_index("period")
    assert list(v.loc[Q[:3], "status"]) == ["partial"] * 3
    assert v.loc[Q[:3], "value"].isna().all()
    # Q4 2024-25: referrals 1000+1010+1020+1030, re-referrals 200+201+202+203
    assert v.loc[Q[3], "numerator"] == 806 and v.loc[Q[3], "denominator"] == 4060
    assert v.loc[Q[3], "value"] == pytest.approx(100 * 806 / 4060)
    assert v.loc[Q[5], "numerator"] == 202 + 203 + 204 + 205


def test_rate_uses_mid_year_before_the_financial_year_ends(library):
    rows = [("A", p, "CSC_CIN_AT_END", 2713, "ok") for p in Q]
    v = compute_values(_measures(rows), library, _pop(), indicators=["cin_rate"]).set_index("period")
    # 2024-25 ends March 2025: mid-2024 population (the DfE rule; Milton Keynes 2713 / 74569 = 363.8)
    assert round(v.loc[Q[3], "value"], 1) == 363.8
    # 2025-26 ends March 2026: mid-2025
    assert v.loc[Q[4], "value"] == pytest.approx(2713 / 80_000 * 10_000)
    lo, hi = v.loc[Q[3], ["lower", "upper"]]
    assert lo < 363.8 < hi and hi - lo == pytest.approx(2 * 1.96 * np.sqrt(2713) / 74_569 * 10_000, rel=0.02)


def test_suppressed_numerator_gives_suppressed_value_never_zero(library):
    rows = [("A", Q[0], "CSC_REFERRALS", 1000, "ok"), ("A", Q[0], "CSC_REFERRALS_DA", None, "suppressed"),
            ("A", Q[1], "CSC_REFERRALS", 1000, "ok")]
    v = compute_values(_measures(rows), library, indicators=["da_referrals"]).set_index("period")
    assert v.loc[Q[0], "status"] == "suppressed" and np.isnan(v.loc[Q[0], "value"])
    assert v.loc[Q[1], "status"] == "missing" and np.isnan(v.loc[Q[1], "value"])


def test_year_to_date_restarts_each_april(library):
    rows = [("A", p, "SCP_TRAINING_ATTENDED", 100 * (i + 1), "ok") for i, p in enumerate(Q)]
    v = compute_values(_measures(rows), library, indicators=["training_attendance"]).set_index("period")
    assert list(v["value"]) == [100, 300, 600, 1000, 500, 1100]


def test_small_counts_flagged_for_public_suppression(library):
    rows = [("A", Q[0], "POL_CSE_CRIMES", 3, "ok"), ("A", Q[1], "POL_CSE_CRIMES", 0, "ok"),
            ("A", Q[2], "POL_CSE_CRIMES", 12, "ok")]
    v = compute_values(_measures(rows), library, indicators=["cse_crimes"])
    assert list(v["display_suppressed"]) == [True, False, False]


def test_mean_days_and_returned_percentage(library):
    rows = [("A", Q[0], "CSC_ASSESS_DAYS", 33_000, "ok"), ("A", Q[0], "CSC_ASSESS_COMPLETED", 1000, "ok"),
            ("A", Q[0], "SCP_EVAL_GOOD_PCT", 91.5, "ok")]
    v = compute_values(_measures(rows), library, indicators=["assessment_duration", "training_rated_good"])
    v = v.set_index("indicator_id")
    assert v.loc["assessment_duration", "value"] == 33.0
    assert v.loc["training_rated_good", "value"] == 91.5 and np.isnan(v.loc["training_rated_good", "lower"])


def _ees_rows(path, dataset, measures):
    raw = pd.read_csv(path, dtype=str)
    rows = []
    for m in measures:
        for _, r in raw.iterrows():
            level = r["geographic_level"]
            code = r["new_la_code"] if level == "Local authority" else (r["region_code"] if level == "Regional" else r["country_code"])
            val = pd.to_numeric(r[m], errors="coerce")
            rows.append({"dataset": dataset, "measure": m, "filters": "", "area_code": code, "area_name": r["la_name"],
                         "geographic_level": level, "la_number": r["old_la_code"], "region_code": r["region_code"],
                         "time_period": int(r["time_period"]), "value": val,
                         "note": None if pd.notna(val) else r[m]})
    return pd.DataFrame(rows)


def test_published_rates_reproduce_dfe(shared_dfe, library):
    b1 = _ees_rows(shared_dfe / "ees_cin_b1_children_in_need_2013_2025.csv", "ees_cin_b1_children_in_need",
                   ["At31_episodes"])
    pop_raw = _ees_rows(shared_dfe / "ons_population_0_17_2012_2024.csv", "ons", ["population_estimate"])
    pop = pop_raw.rename(columns={"time_period": "year", "value": "population"})[["area_code", "year", "population"]]
    pub = published_values(b1, library, pop)
    cin = pub[pub["indicator_id"] == "cin_rate"].set_index(["area_code", "year"])
    assert round(cin.loc[("E06000042", 2025), "value"], 1) == 363.8  # Milton Keynes, as DfE publishes
    # England 2025: 402,400 / 12,183,016 (mid-2024) x 10,000 = 330.3
    assert round(cin.loc[("E92000001", 2025), "value"], 1) == round(402_400 / 12_183_016 * 10_000, 1) == 330.3


def test_published_percentages_keep_symbols(shared_dfe, library):
    d3 = _ees_rows(shared_dfe / "ees_cin_d3_cpp_second_or_subsequent_2013_2025.csv",
                   "ees_cin_d3_cpp_second_or_subsequent", ["CPP_subsequent_percent", "CPP_subsequent", "CPP_start"])
    pub = published_values(d3, library)
    sub = pub[pub["indicator_id"] == "cpp_second_subsequent"].set_index(["area_code", "year"])
    assert sub.loc[("E06000042", 2025), "value"] == 22.2
    assert np.isnan(sub.loc[("E06000042", 2016), "value"]) and sub.loc[("E06000042", 2016), "note"] == "c"
    lo, hi = sub.loc[("E06000042", 2025), ["lower", "upper"]]
    assert lo < 22.2 < hi


def test_rate_without_population_says_so(library):
    rows = [("A", Q[0], "CSC_CIN_AT_END", 2713, "ok")]
    v = compute_values(_measures(rows), library, None, indicators=["cin_rate"]).iloc[0]
    assert v["status"] == "no_population" and np.isnan(v["value"])


def test_no_measures_gives_an_empty_frame(library):
    assert compute_values(_measures([]), library).empty


def test_quarter_own_figures_behind_a_rolling_headline(library):
    rows = []
    for i, p in enumerate(Q):
        rows += [("A", p, "CSC_REFERRALS", 1000 + 10 * i, "ok"), ("A", p, "CSC_REREFERRALS", 200 + i, "ok")]
    v = compute_values(_measures(rows), library, indicators=["rereferral_rate"]).set_index("period")
    # the first three quarters have no rolling headline, but each has its own figures
    assert list(v.loc[Q[:3], "quarter_status"]) == ["ok"] * 3
    assert v.loc[Q[1], "quarter_numerator"] == 201 and v.loc[Q[1], "quarter_denominator"] == 1010
    assert v.loc[Q[1], "quarter_value"] == pytest.approx(100 * 201 / 1010)


def test_quarter_own_rate_is_not_annualised_and_year_to_date_resets(library):
    rows = [("A", p, "CSC_S47", 100 + i, "ok") for i, p in enumerate(Q)]
    v = compute_values(_measures(rows), library, _pop(), indicators=["s47_rate"]).set_index("period")
    assert v.loc[Q[2], "quarter_value"] == pytest.approx(102 / 74_569 * 10_000)
    assert v.loc[Q[3], "value"] == pytest.approx((100 + 101 + 102 + 103) / 74_569 * 10_000)
    rows = [("A", p, "SCP_TRAINING_ATTENDED", 10 * (i + 1), "ok") for i, p in enumerate(Q)]
    v = compute_values(_measures(rows), library, indicators=["training_attendance"]).set_index("period")
    assert list(v["value"]) == [10, 30, 60, 100, 50, 110]  # year to date, from April
    assert list(v["quarter_value"]) == [10, 20, 30, 40, 50, 60]


def test_quarter_own_figures_of_a_flow_and_a_snapshot_are_the_headline(library):
    rows = [("A", Q[0], "CSC_CIN_AT_END", 2713, "ok"), ("A", Q[0], "CSC_ASSESS_COMPLETED", 263, "ok"),
            ("A", Q[0], "CSC_ASSESS_45WD", 81, "ok")]
    v = compute_values(_measures(rows), library, _pop(), indicators=["cin_rate", "assessments_45_days"])
    assert (v["quarter_value"] == v["value"]).all() and (v["quarter_status"] == v["status"]).all()


def test_chart_series_follows_the_indicators_declaration(library):
    rows = []
    for i, p in enumerate(Q):
        rows += [("A", p, "CSC_CPP_AT_END", 350 + i, "ok"), ("A", p, "CSC_CPP_STARTS", 100 + i, "ok"),
                 ("A", p, "CSC_REFERRALS", 1000, "ok"), ("A", p, "CSC_REREFERRALS", 200 + i, "ok")]
    v = compute_values(_measures(rows), library, _pop(), indicators=["cpp_rate", "rereferral_rate", "cin_rate"])
    v = v.set_index(["indicator_id", "period"])
    # the stock of plans is charted through the plans that started in each quarter (plots: flow)
    assert v.loc[("cpp_rate", Q[1]), "chart_value"] == pytest.approx(101 / 74_569 * 10_000)
    assert v.loc[("cpp_rate", Q[1]), "value"] == pytest.approx(351 / 74_569 * 10_000)
    assert v.loc[("cpp_rate", Q[1]), "chart_denominator"] == 74_569
    # re-referrals behind a rolling headline: each quarter on its own
    assert v.loc[("rereferral_rate", Q[0]), "chart_value"] == pytest.approx(20.0)
    assert v.loc[("rereferral_rate", Q[0]), "chart_denominator"] == 1000
    # children in need at quarter end: a run chart of the headline (missing here: nothing was returned)
    assert (v.loc["cin_rate", "chart_status"] == "missing").all()
