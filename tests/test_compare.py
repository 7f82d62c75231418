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
    assert out["vs_england"] == "worse" and out["vs_neighbours"] == "worse"


def test_similar_when_comparator_inside_interval(library):
    comp, nb = _world()
    out = compare(_focal(21.0, 19.0, 23.5), comp, nb, {}, library).iloc[0]
    assert out["vs_england"] == "similar" and np.isnan(out["region_value"])


def test_latest_year_not_after_the_quarter(library):
    comp, nb = _world(2025)
    comp2, _ = _world(2027)
    both = pd.concat([comp, comp2])
    out = compare(_focal(24.0, 23.0, 25.0, period="2024-25 Q4"), both, nb, {}, library).iloc[0]
    assert out["comparator_year"] == 2025
    out = compare(_focal(24.0, 23.0, 25.0, period="2023-24 Q4"), both, nb, {}, library).iloc[0]
    assert np.isnan(out["comparator_year"]) and out["vs_england"] == "not_compared"


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
