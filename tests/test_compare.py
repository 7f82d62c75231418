"""Comparisons with neighbours, region and England; quartiles, ranks and significance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicators.compare import COMPARATOR_COLUMNS, compare, quartile_band
from indicators.intervals import significance_vs


def _comparators(rows):
    return pd.DataFrame(rows, columns=COMPARATOR_COLUMNS)


def _focal(value, lower, upper, period="2025-26 Q2", indicator="rereferral_rate", num=240.0, den=1000.0):
    from indicators.periods import Quarter

    q = Quarter.parse(period)
    return pd.DataFrame([{"indicator_id": indicator, "area_code": "OWN", "period": q.label, "period_index": q.index,
                          "value": value, "lower": lower, "upper": upper, "numerator": num, "denominator": den}])


def _world(year=2025):
    rows = [("rereferral_rate", "E92000001", "England", "england", None, "year", year, 22.0, 1e5, 4.5e5, np.nan, np.nan),
            ("rereferral_rate", "R1", "Region", "region", None, "year", year, 21.0, 1e4, 4.7e4, np.nan, np.nan)]
    # ten neighbours with values 15..24, and 20 other LAs 10..29
    for k in range(10):
        rows.append(("rereferral_rate", f"N{k}", f"N{k}", "la", "R1", "year", year, 15.0 + k, np.nan, np.nan, np.nan, np.nan))
    for k in range(20):
        rows.append(("rereferral_rate", f"L{k}", f"L{k}", "la", "R2", "year", year, 10.0 + k, np.nan, np.nan, np.nan, np.nan))
    nb = pd.DataFrame({"area_code": "OWN", "neighbour_code": [f"N{k}" for k in range(10)], "rank": range(1, 11)})
    return _comparators(rows), nb


def test_neighbours_region_england_rank_and_quartile(library):
    comp, nb = _world()
    out = compare(_focal(24.0, 23.0, 25.0), comp, nb, {"OWN": "R1"}, library).iloc[0]
    assert out["comparator_year"] == 2025  # 2025-26 Q2 uses the latest year published up to March 2026
    assert out["neighbours_mean"] == pytest.approx(19.5) and out["neighbours_median"] == pytest.approx(19.5)
    assert out["neighbours_n"] == 10
    assert (out["england_value"], out["region_value"]) == (22.0, 21.0)
    # lower is better: 9 neighbours (15..23) beat 24.0; 24.0 ties the tenth
    assert (out["rank"], out["rank_of"]) == (10, 11)
    # of the 30 LAs (neighbours and others), those below 24: 15..23 (9) and 10..23 (14) = 23 → 23/30 better → D
    assert out["quartile"] == "D"
    assert out["vs_england"] == "worse"
    # the neighbours' own spread: 19.5 ± t(0.975, 9) x 3.028 x sqrt(1.1) = 12.32 to 26.68, and 24.0 is inside it
    assert (out["neighbours_lower"], out["neighbours_upper"]) == pytest.approx((12.3167, 26.6833), abs=1e-4)
    assert out["vs_neighbours"] == "similar"
    # the other LAs have no denominators here, so no over-dispersion estimate: the exact method stands
    assert out["funnel_adjustment"] == "none" and np.isnan(out["overdispersion_phi"])


def test_outside_the_neighbours_prediction_interval(library):
    comp, nb = _world()
    out = compare(_focal(27.0, 26.0, 28.0), comp, nb, {}, library).iloc[0]
    assert out["vs_neighbours"] == "worse"
    out = compare(_focal(12.0, 11.0, 13.0), comp, nb, {}, library).iloc[0]
    assert out["vs_neighbours"] == "better"


def test_too_few_neighbours_with_values_are_not_compared(library):
    comp, nb = _world()
    keep = ~comp["area_code"].isin([f"N{k}" for k in range(2, 10)])
    out = compare(_focal(30.0, 29.0, 31.0), comp[keep], nb, {}, library).iloc[0]
    assert out["neighbours_n"] == 2 and out["vs_neighbours"] == "not_compared"
    assert np.isnan(out["neighbours_lower"]) and out["neighbours_mean"] == pytest.approx(15.5)


def test_similar_when_comparator_inside_interval(library):
    comp, nb = _world()
    out = compare(_focal(21.0, 19.0, 23.5), comp, nb, {}, library).iloc[0]
    assert out["vs_england"] == "similar" and np.isnan(out["region_value"])


def test_the_year_that_was_available_in_the_quarter(library):
    both = pd.concat([_world(y)[0] for y in (2025, 2026, 2027)])
    nb = _world()[1]

    def year(period):
        return compare(_focal(24.0, 23.0, 25.0, period=period), both, nb, {}, library).iloc[0]["comparator_year"]

    # DfE publishes the year to March 2026 in the autumn of 2026: used from 2026-27 Q2, not before
    assert year("2026-27 Q1") == 2025
    assert year("2026-27 Q2") == 2026 and year("2026-27 Q4") == 2026
    assert year("2027-28 Q2") == 2027 and year("2030-31 Q3") == 2027
    # 2024-25 Q4: the year to March 2025 was not out yet, and nothing earlier is stored
    out = compare(_focal(24.0, 23.0, 25.0, period="2024-25 Q4"), both, nb, {}, library).iloc[0]
    assert np.isnan(out["comparator_year"]) and out["vs_england"] == "not_compared"
    assert out["vs_neighbours"] == "not_compared" and out["funnel_adjustment"] == ""


def test_latest_published_year_rule():
    from indicators.benchmarking import FIRST_QUARTER_PUBLISHED, latest_published_year
    from indicators.periods import Quarter

    assert FIRST_QUARTER_PUBLISHED == 2
    assert latest_published_year(Quarter(2026, 1).index) == 2025
    assert latest_published_year(Quarter(2026, 2).index) == 2026
    assert latest_published_year(Quarter(2026, 4).index) == 2026  # January to March 2027
    assert list(latest_published_year(np.array([Quarter(2025, q).index for q in (1, 2, 3, 4)]))) == [2024, 2025, 2025, 2025]


def _overdispersed_world(year=2025):
    """England 20% and 40 LAs of 1,000 cases each spread from 10% to 30%: far more than binomial noise."""
    rows = [("rereferral_rate", "E92000001", "England", "england", None, "year", year, 20.0, 8e3, 4e4, np.nan, np.nan)]
    for k in range(40):
        v = 10.0 + 20.0 * k / 39
        rows.append(("rereferral_rate", f"L{k}", f"L{k}", "la", "R1", "year", year, v, v * 10, 1000.0, np.nan, np.nan))
    nb = pd.DataFrame({"area_code": "OWN", "neighbour_code": [f"L{k}" for k in range(10, 20)], "rank": range(1, 11)})
    return _comparators(rows), nb


def test_over_dispersed_indicator_uses_the_random_effects_z(library):
    from indicators.intervals import null_standard_error, overdispersion

    comp, nb = _overdispersed_world()
    # an area of 1,000 cases at 26%: z = 6 / 1.265 = 4.74 would be far outside the 99.8% funnel,
    # but the LAs themselves spread with sd about 6 points, so with tau² it is within
    out = compare(_focal(26.0, 23.4, 28.8, num=260, den=1000), comp, nb, {}, library).iloc[0]
    la = comp[comp["level"] == "la"]
    od = overdispersion(la["value"], null_standard_error(20, la["denominator"], "proportion", 100), 20,
                        consistent=True)
    assert od.overdispersed and out["funnel_adjustment"] == "additive"
    assert out["overdispersion_phi"] == pytest.approx(od.phi) and out["random_effects_tau2"] == pytest.approx(od.tau2)
    s = np.sqrt(0.2 * 0.8 / 1000) * 100
    assert out["funnel_z"] == pytest.approx(6 / np.sqrt(s * s + od.tau2))
    assert out["funnel"] == "within" and out["vs_england"] == "similar"
    # before the adjustment this area would have been outside both limits and significantly worse
    from indicators.intervals import funnel_position, significance_vs
    assert funnel_position(0.26, 1000, 0.20) == "above_99_8" and significance_vs(23.4, 28.8, 20, "lower_better") == "worse"
    # far enough out, it is still flagged
    out = compare(_focal(45.0, 42.0, 48.0, num=450, den=1000), comp, nb, {}, library).iloc[0]
    assert out["funnel"] == "above_99_8" and out["vs_england"] == "worse"


def test_comparators_carry_the_dispersion_of_their_year(library):
    from indicators.compare import with_dispersion

    comp, _ = _overdispersed_world()
    both = with_dispersion(pd.concat([comp, _world(2024)[0]]), library)
    y25 = both[both["key"] == 2025]
    assert set(y25["funnel_adjustment"]) == {"additive"} and y25["overdispersion_n"].iloc[0] == 40
    assert set(both[both["key"] == 2024]["funnel_adjustment"]) == {""}  # no denominators: no estimate


def test_reporting_areas_are_a_separate_comparison_not_england(library):
    from indicators.compare import reporting_comparators

    values = pd.DataFrame([
        {"indicator_id": "rereferral_rate", "area_code": a, "period_index": 8101, "value": 100 * n / d,
         "numerator": n, "denominator": d, "lower": np.nan, "upper": np.nan, "status": "ok"}
        for a, n, d in (("OWN", 240.0, 1000.0), ("B", 100.0, 1000.0), ("C", 60.0, 500.0))])
    rep = reporting_comparators(values, library, None)
    pooled = rep[rep["level"] == "reporting"].iloc[0]
    assert pooled["value"] == pytest.approx(100 * 400 / 2500) and pooled["area_code"] != "E92000001"
    comp, nb = _world()
    focal = _focal(24.0, 23.0, 25.0)
    focal["period_index"] = 8101  # 2025-26 Q2
    out = compare(focal, pd.concat([comp, rep]), nb, {}, library).iloc[0]
    # England stays DfE's published 22.0; the three reporting areas pool to 16.0%
    assert out["england_value"] == 22.0 and out["vs_england"] == "worse"
    assert out["reporting_value"] == pytest.approx(16.0) and out["reporting_n"] == 3


def test_counts_are_not_compared(library):
    comp, nb = _world()
    comp = comp.assign(indicator_id="missing_episodes")
    out = compare(_focal(400, 360, 440, indicator="missing_episodes"), comp, nb, {}, library).iloc[0]
    assert np.isnan(out["england_value"]) and out["vs_england"] == "not_compared" and out["quartile"] == ""


def test_significance_and_quartile_band():
    assert list(significance_vs([10, 10, 10, np.nan], [12, 12, 12, 1], [9, 13, 11, 5], "higher_better")) == \
        ["better", "worse", "similar", "not_compared"]
    assert list(significance_vs([10], [12], [9])) == ["higher"]
    assert list(quartile_band([0.0, 0.24, 0.25, 0.6, 0.99, np.nan])) == ["A", "A", "B", "C", "D", ""]
