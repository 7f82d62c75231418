"""What each indicator's control chart plots in the dataset, which chart it gets, and the rebase it proposes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicators.dataset import build_dataset
from indicators.periods import Quarter, quarter_range
from indicators.spc import xmr

AREA = "E06099001"
QUARTERS = quarter_range(Quarter(2023, 1), Quarter(2026, 2))  # 14 quarters


def _measures(series: dict[str, list]) -> pd.DataFrame:
    rows = [(AREA, q.label, code, v, "ok") for code, vals in series.items() for q, v in zip(QUARTERS, vals, strict=True)]
    return pd.DataFrame(rows, columns=["area_code", "period", "measure", "value", "status"])


def _population():
    return pd.DataFrame({"area_code": AREA, "year": range(2020, 2028), "population": 85_200})


def _build(series, board, library, **kw):
    return build_dataset(_measures(series), library, board, population=_population(), forecasts=False, **kw)


def test_rolling_headline_is_charted_by_its_quarters(board, library):
    refs = [1000, 1040, 980, 1010, 1030, 990, 1005, 1020, 995, 1015, 1000, 1025, 985, 1010]
    rerefs = [200, 214, 190, 205, 209, 197, 201, 206, 196, 207, 199, 210, 192, 204]
    s = _build({"CSC_REFERRALS": refs, "CSC_REREFERRALS": rerefs}, board, library).series("rereferral_rate")
    # the chart plots each quarter's own percentage; the headline stays the 12 months DfE publishes
    assert list(s["spc_value"]) == pytest.approx([100 * a / b for a, b in zip(rerefs, refs, strict=True)])
    assert s["value"].iloc[-1] == pytest.approx(100 * sum(rerefs[-4:]) / sum(refs[-4:]))
    expected = xmr(s["spc_value"].to_numpy(), "decrease", target=20.0)
    assert list(s["spc_upl"]) == pytest.approx(list(expected.points["upl"]))
    assert set(s["spc_chart"]) == {"xmr"} and s["variation"].iloc[-1] == expected.variation


def test_varying_denominators_get_laneys_chart(board, library):
    eligible = [400, 120, 380, 90, 410, 150, 390, 100, 420, 130, 370, 110, 400, 95]
    rates = [0.80, 0.78, 0.83, 0.76, 0.81, 0.79, 0.82, 0.77, 0.80, 0.84, 0.79, 0.75, 0.81, 0.80]
    on_time = [round(r * n) for r, n in zip(rates, eligible, strict=True)]
    s = _build({"POL_RHI_ELIGIBLE": eligible, "POL_RHI_72H": on_time}, board, library).series("return_home_interviews")
    assert set(s["spc_chart"]) == {"p_prime"}
    expected = xmr(s["spc_value"].to_numpy(), "increase", chart="p_prime", denominators=eligible, scale=100)
    assert list(s["spc_lpl"]) == pytest.approx(list(expected.points["lpl"]))
    assert s["spc_lpl"].nunique() > 1  # point by point: narrower where the denominator is larger
    steady = [400 + 10 * (i % 3) for i in range(14)]
    s = _build({"POL_RHI_ELIGIBLE": steady, "POL_RHI_72H": [round(r * n) for r, n in zip(rates, steady, strict=True)]}, board,
               library).series("return_home_interviews")
    assert set(s["spc_chart"]) == {"xmr"}


def test_a_stock_is_a_run_chart_or_its_related_flow(board, library):
    cin = [2790 + 6 * i for i in range(14)]
    starts = [118, 124, 111, 120, 115, 122, 119, 113, 126, 117, 121, 116, 119, 123]
    ds = _build({"CSC_CIN_AT_END": cin, "CSC_CPP_AT_END": [352] * 14, "CSC_CPP_STARTS": starts}, board, library)
    cin_rate = ds.series("cin_rate")
    assert set(cin_rate["spc_chart"]) == {"run"} and (cin_rate["spc_point_type"] == "").all()
    assert cin_rate["spc_mean"].iloc[0] == pytest.approx(np.median(cin) / 85_200 * 10_000)
    assert (cin_rate["variation"] == "").all() and cin_rate["spc_upl"].isna().all()
    cpp = ds.series("cpp_rate")
    assert list(cpp["spc_value"]) == pytest.approx([n / 85_200 * 10_000 for n in starts])
    assert cpp["value"].iloc[-1] == pytest.approx(352 / 85_200 * 10_000)


def test_no_assurance_when_the_chart_is_not_on_the_targets_scale(board, library):
    targets = dict(board.targets)
    targets["s47_rate"] = board.targets.get("s47_rate", None) or type(next(iter(board.targets.values())))(target=150)
    with_target = board.model_copy(update={"targets": targets})
    s47 = [362, 380, 350, 371, 366, 355, 359, 377, 348, 369, 362, 358, 372, 351]
    s = _build({"CSC_S47": s47}, with_target, library).series("s47_rate")
    # a quarter's rate is about a quarter of the 12-month rate the target is for: no assurance icon
    assert (s["assurance"] == "").all() and s["spc_upl"].notna().all()


def test_a_sustained_shift_proposes_a_rebase_at_its_start(board, library):
    done = [1060] * 14
    within = [970, 975, 968, 972, 966, 974, 880, 872, 885, 878, 869, 882, 876, 871]  # drops at the 7th quarter
    ds = _build({"CSC_ASSESS_COMPLETED": done, "CSC_ASSESS_45WD": within}, board, library)
    s = ds.series("assessments_45_days")
    assert (s["spc_rebase_proposal"] == QUARTERS[6].label).all()
    # a recorded rebase there: new limits from the shift, and nothing more to propose
    rebased = _build({"CSC_ASSESS_COMPLETED": done, "CSC_ASSESS_45WD": within}, board, library,
                     rebases={"assessments_45_days": [QUARTERS[6]]}).series("assessments_45_days")
    assert (rebased["spc_rebase_proposal"] == "").all() and rebased["spc_segment"].iloc[-1] == 1
    stable = [970, 975, 968, 972, 966, 974, 969, 971, 967, 975, 970, 973, 968, 972]
    s = _build({"CSC_ASSESS_COMPLETED": done, "CSC_ASSESS_45WD": stable}, board, library).series("assessments_45_days")
    assert (s["spc_rebase_proposal"] == "").all()


def test_two_in_three_beyond_the_limits_is_a_board_setting(board, library):
    # the latest point is beyond the upper limit and the one before beyond the 2-sigma line
    values = [50, 52, 48, 51, 49, 50, 52, 48, 51, 49, 50, 53, 57.5, 62]
    places = [400] * 14
    series = {"SCP_TRAINING_PLACES": places, "SCP_TRAINING_ATTENDED": [round(4 * v) for v in values]}
    plain = _build(series, board, library).series("training_take_up")
    mdc = board.model_copy(update={"spc": board.spc.model_copy(update={"two_in_three_counts_beyond_limits": True})})
    current = _build(series, mdc, library).series("training_take_up")
    assert plain["spc_rule"].iloc[-2] != "two_in_three" and current["spc_rule"].iloc[-2] == "two_in_three"


def test_after_a_recorded_rebase_the_forecast_is_fitted_to_the_new_level(board, library):
    done = [1060] * 14
    within = [970, 975, 968, 972, 966, 974, 880, 872, 885, 878, 869, 882, 876, 871]  # drops at the 7th quarter
    series = {"CSC_ASSESS_COMPLETED": done, "CSC_ASSESS_45WD": within}
    kw = {"population": _population()}
    before = build_dataset(_measures(series), library, board, **kw).series("assessments_45_days")
    after = build_dataset(_measures(series), library, board, rebases={"assessments_45_days": [QUARTERS[6]]},
                          **kw).series("assessments_45_days")
    new_level = 100 * np.mean(within[6:]) / 1060
    fc_before = before[before["is_forecast"]]["forecast"].to_numpy()
    fc_after = after[after["is_forecast"]]["forecast"].to_numpy()
    # fitted to all 14 quarters the line runs on downwards through the drop; from the rebase it stays level
    assert abs(fc_after[0] - new_level) < 0.6 < abs(fc_before[-1] - new_level)
    assert "8 quarters" in after["forecast_method"].iloc[0]
