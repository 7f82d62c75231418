"""Publication mode: small counts withheld, and nothing withheld can be worked out from what is shown."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from indicators.suppression import (
    CONFIDENTIAL,
    NOT_AVAILABLE,
    Line,
    Withheld,
    is_small,
    primary,
    publication_frame,
    secondary,
    suppress_table,
)


def test_small_counts_are_one_up_to_the_threshold():
    assert [is_small(n, 5) for n in (0, 1, 4, 5, 12)] == [False, True, True, False, False]
    assert not is_small(None, 5) and not is_small(float("nan"), 5) and not is_small(3, 0)
    assert primary({"a": 0, "b": 3, "c": 7, "d": None}, 5) == {"b"}
    assert primary({"a": 3, "b": 3}, {"a": 5, "b": 3}) == {"a"}


def _lines_safe(table, withheld, lines):
    return all(sum(m in withheld for m in ln.members) != 1 for ln in lines)


def test_secondary_table_one_small_cell_needs_a_second_in_its_row_and_column():
    # agencies × quarters with totals; the police's Q2 is 3 (primary)
    t = {("police", "Q1"): 20, ("police", "Q2"): 3, ("police", "total"): 23,
         ("health", "Q1"): 15, ("health", "Q2"): 9, ("health", "total"): 24,
         ("total", "Q1"): 35, ("total", "Q2"): 12, ("total", "total"): 47}
    w = suppress_table(t, 5)
    assert w.reasons[("police", "Q2")] == "primary: a count from 1 to 4"
    # the smallest other cell of the police row is its Q1 (20) or total (23): Q1 is smaller and goes
    assert ("police", "Q1") in w and w.reasons[("police", "Q1")].startswith("secondary: the row total")
    # then each column has one withheld cell: health's Q2 (9, smaller than the total 12) and health's Q1 (15)
    assert ("health", "Q2") in w and ("health", "Q1") in w
    assert ("total", "total") not in w and ("police", "total") not in w
    from indicators.suppression import table_lines
    assert _lines_safe(t, w.cells, table_lines(["health", "police"], ["Q1", "Q2"]))


def test_secondary_cannot_be_undone_by_arithmetic():
    """Brute force: for every withheld cell, the shown cells and the line equations leave it undetermined."""
    t = {("a", "x"): 2, ("a", "y"): 30, ("a", "z"): 41, ("a", "total"): 73,
         ("b", "x"): 12, ("b", "y"): 1, ("b", "z"): 40, ("b", "total"): 53,
         ("c", "x"): 25, ("c", "y"): 18, ("c", "z"): 22, ("c", "total"): 65,
         ("total", "x"): 39, ("total", "y"): 49, ("total", "z"): 103, ("total", "total"): 191}
    w = suppress_table(t, 5)
    assert {("a", "x"), ("b", "y")} <= w.cells
    from indicators.suppression import table_lines
    lines = table_lines(["a", "b", "c"], ["x", "y", "z"])
    assert _lines_safe(t, w.cells, lines)
    # solving the line equations for the withheld cells: the system has more unknowns than independent
    # equations in every component, so no withheld cell is fixed by them (rank test)
    unknown = sorted(w.cells, key=str)
    rows = []
    for ln in lines:
        members = [m for m in ln.members if m[0] != "total" and m[1] != "total"]
        total = next(m for m in ln.members if m not in members)
        row = [(1 if u in members else 0) - (1 if u == total else 0) for u in unknown]
        if any(row):
            rows.append(row)
    a = np.array(rows, float)
    rank = np.linalg.matrix_rank(a)
    for k in range(len(unknown)):
        e = np.zeros(len(unknown))
        e[k] = 1
        # a cell is determined iff its unit vector lies in the row space of the equations
        assert np.linalg.matrix_rank(np.vstack([a, e])) > rank, f"{unknown[k]} could be worked out"


def test_a_line_whose_other_members_are_unknown_needs_nothing_more():
    w = Withheld()
    w.add("q4", "primary")
    secondary({"q1": None, "q2": None, "q3": None, "q4": 3, "total": None}, w,
              [Line(("q1", "q2", "q3", "q4", "total"))])
    assert w.cells == {"q4"}


def test_preferred_complement_and_zeros():
    w = Withheld()
    w.add("num", "primary")
    secondary({"num": 2, "rate": 12.5, "den": 1600}, w, [Line(("num", "rate"), prefer=("rate",))])
    assert w.cells == {"num", "rate"}
    # a withheld cell whose line partners are all zero is still protected (the zero goes)
    w = Withheld()
    w.add("a", "primary")
    secondary({"a": 3, "b": 0, "total": 3}, w, [Line(("a", "b", "total"))])
    assert len(w.cells) >= 2


def _series(library, ind_id, nums, dens=None, start=100):
    ind = library.indicators[ind_id]
    rows = []
    for k, n in enumerate(nums):
        d = dens[k] if dens else 1000.0
        rows.append({"indicator_id": ind_id, "area_code": "E09000001", "period": f"P{k}", "period_index": start + k,
                     "is_forecast": False, "numerator": n, "denominator": d, "value": 100 * n / d,
                     "lower": 100 * n / d - 1, "upper": 100 * n / d + 1, "quarter_numerator": n,
                     "quarter_denominator": d, "quarter_value": 100 * n / d, "chart_value": 100 * n / d,
                     "spc_value": 100 * n / d, "funnel_z": 0.1,
                     "change_quarter": (100 * (n - nums[k - 1]) / d) if k else np.nan,
                     "change_year": np.nan, "unit": ind.unit.value})
    return pd.DataFrame(rows)


def test_publication_frame_withholds_the_rate_and_the_changes_around_a_small_count(library):
    flow = next(i for i in library.indicators.values()
                if i.period_type.value == "flow" and library.measures[i.numerator].whole_number
                and i.suppress_below == 5)
    f = _series(library, flow.id, [40, 38, 3, 41, 44])
    pub = publication_frame(f, library)
    row = pub.frame.iloc[2]
    for col in ("numerator", "quarter_numerator", "value", "lower", "upper", "quarter_value", "chart_value",
                "spc_value", "funnel_z", "change_quarter"):
        assert row[col] == CONFIDENTIAL, col
    # the change into the next quarter would give the withheld value back: withheld too
    assert pub.frame.iloc[3]["change_quarter"] == CONFIDENTIAL
    assert pub.frame.iloc[3]["value"] == f.iloc[3]["value"]  # the next quarter's own value is shown
    assert pub.frame.iloc[0]["change_quarter"] == NOT_AVAILABLE  # no earlier quarter: not available
    assert pub.frame.iloc[0]["numerator"] == 40
    reasons = {w["column"]: w["reason"] for w in pub.withheld if w["period"] == "P2"}
    assert reasons["numerator"] == "primary: a count from 1 to 4"
    assert reasons["value"].startswith("secondary")
    assert any("small count" in s for s in pub.summary())


def test_publication_frame_protects_a_rolling_total(library):
    rolling = [i for i in library.indicators.values()
               if i.period_type.value == "rolling_12m" and library.measures[i.numerator].whole_number]
    if not rolling:
        return
    ind = rolling[0]
    q = [10, 12, 9, 2, 11, 10]
    f = _series(library, ind.id, q)
    f["quarter_numerator"] = q
    f["numerator"] = [np.nan, np.nan, np.nan] + [sum(q[k - 3:k + 1]) for k in range(3, 6)]
    pub = publication_frame(f, library)
    fr = pub.frame
    assert fr.iloc[3]["quarter_numerator"] == CONFIDENTIAL
    # the 12-month total ending Q3 is 33 = 10+12+9+2: with it and the other quarters shown, 2 would follow
    members = [fr.iloc[k]["quarter_numerator"] for k in range(0, 4)] + [fr.iloc[3]["numerator"]]
    assert sum(m == CONFIDENTIAL for m in members) >= 2
    for end in (4, 5):  # each later 12-month window holding the small quarter is protected too
        members = [fr.iloc[k]["quarter_numerator"] for k in range(end - 3, end + 1)] + [fr.iloc[end]["numerator"]]
        assert sum(m == CONFIDENTIAL for m in members) != 1


def test_publication_leaves_a_series_without_small_counts_alone(library):
    flow = next(i for i in library.indicators.values()
                if i.period_type.value == "flow" and library.measures[i.numerator].whole_number)
    f = _series(library, flow.id, [40, 38, 36])
    pub = publication_frame(f, library)
    assert pub.withheld == []
    assert list(pub.frame["numerator"]) == [40, 38, 36]
    assert pub.summary()[0].startswith("No figure needed withholding")


def test_brute_force_tables_are_always_safe():
    rng = np.random.default_rng(11)
    from indicators.suppression import table_lines
    for _ in range(60):
        r, c = rng.integers(2, 5), rng.integers(2, 5)
        cells = {(f"r{i}", f"c{j}"): int(rng.choice([0, 1, 2, 3, 4, 6, 9, 15, 30])) for i, j in
                 itertools.product(range(r), range(c))}
        for i in range(r):
            cells[(f"r{i}", "total")] = sum(cells[(f"r{i}", f"c{j}")] for j in range(c))
        for j in range(c):
            cells[("total", f"c{j}")] = sum(cells[(f"r{i}", f"c{j}")] for i in range(r))
        cells[("total", "total")] = sum(cells[(f"r{i}", "total")] for i in range(r))
        w = suppress_table(cells, 5)
        lines = table_lines([f"r{i}" for i in range(r)], [f"c{j}" for j in range(c)])
        assert _lines_safe(cells, w.cells, lines)
        assert all(k in w for k, v in cells.items() if 0 < v < 5)
