"""The multi-agency dataset built from the demo store: values, comparisons, forecasts and exceptions.

Expected figures are worked out here from the demo's raw inputs (its returns as typed and its benchmark files),
independently of the indicator library.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl.access import load_dataset, store_version
from etl.demo import DEMO_USER, FIRST, LAST, _number, build_demo, demo_returns
from etl.store import make_engine
from indicators.periods import Quarter


@pytest.fixture(scope="module")
def demo(tmp_path_factory, board, library):
    work = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{work / 'demo.sqlite'}"
    counts = build_demo(url, board, library, workdir=work)
    engine = make_engine(url)
    yield engine, work, counts
    engine.dispose()


@pytest.fixture(scope="module")
def dataset(demo, board, library):
    return load_dataset(demo[0], board, library)


def _sum(measure, quarters, returns=None):
    returns = returns or demo_returns()
    agency = measure.split("_")[0]
    return sum(_number(returns[q][agency][measure]) for q in quarters)


def test_demo_went_in_through_the_loaders(demo):
    engine, _, counts = demo
    assert counts["returns"] == 95  # 8 agencies x 12 quarters, less the acute trust's missing latest return
    assert counts["resubmission"] == "revised"
    from sqlalchemy import text

    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from return_version")).scalar() == 96
        assert conn.execute(text("select count(*) from return_version where not is_current")).scalar() == 1
        assert conn.execute(text("select count(distinct loaded_by) from return_version")).scalar() == 1
        assert conn.execute(text("select loaded_by from return_version limit 1")).scalar() == DEMO_USER


def test_latest_period_and_rolling_value(dataset):
    assert dataset.period == LAST
    row = dataset.at().set_index("indicator_id").loc["rereferral_rate"]
    window = [LAST - k for k in range(4)]
    num, den = _sum("CSC_REREFERRALS", window), _sum("CSC_REFERRALS", window)
    assert (row["numerator"], row["denominator"]) == (num, den)
    assert row["value"] == pytest.approx(100 * num / den)
    assert row["rag"] == "red" and row["status"] == "ok"


def test_resubmitted_figures_are_the_ones_used(dataset):
    prev = LAST - 1
    row = dataset.series("missing_episodes").set_index("period").loc[prev.label]
    assert row["value"] == _sum("POL_MISSING_EPISODES", [prev]) + 23


def test_neighbour_comparison_matches_the_published_file(dataset, demo):
    _, work, _ = demo
    c1 = pd.read_csv(next((work / "benchmarks").glob("ees_cin_c1_*.csv")), dtype={"old_la_code": "Int64"})
    nb = pd.read_csv(work / "benchmarks" / "harrowdale_neighbours_long.csv")
    mine = nb[nb["la_number"] == 990]["neighbour_la_number"]
    latest = c1["time_period"].max()
    assert latest == 2026
    vals = c1[(c1["time_period"] == latest) & c1["old_la_code"].isin(mine)]["rereferral_percent"].astype(float)
    row = dataset.at().set_index("indicator_id").loc["rereferral_rate"]
    assert row["comparator_year"] == 2026
    assert row["neighbours_mean"] == pytest.approx(vals.mean())
    assert row["neighbours_n"] == 10
    eng = c1[(c1["time_period"] == latest) & (c1["geographic_level"] == "National")]["rereferral_percent"].iat[0]
    assert row["england_value"] == pytest.approx(float(eng))
    assert row["vs_neighbours"] == "worse" and row["quartile"] == "D"
    # worse means outside the neighbours' 95% prediction interval, worked out here from the file
    from scipy import stats
    half = stats.t.ppf(0.975, 9) * vals.std(ddof=1) * np.sqrt(1 + 1 / 10)
    assert (row["neighbours_lower"], row["neighbours_upper"]) == pytest.approx((vals.mean() - half, vals.mean() + half))
    assert row["value"] > row["neighbours_upper"]


def test_stories_surface_as_exceptions(dataset):
    ex = dataset.exceptions
    def codes(ind, pid):
        return set(ex[(ex["indicator_id"] == ind) & (ex["priority_id"] == pid)]["code"])
    assert {"missed-target-red", "spc-concern", "worse-than-neighbours"} <= codes("rereferral_rate", "early_help")
    assert {"missed-target-red", "spc-concern"} <= codes("assessments_45_days", "early_help")
    assert "curve-turned" in codes("return_home_interviews", "cse_missing")
    assert "spc-improvement" in codes("cla_health_assessments", "neglect")
    # data quality is beside the figures, not an exception
    assert not ex["code"].str.startswith("data-").any()
    notes = dataset.data_notes
    def noted(ind):
        return set(notes[notes["indicator_id"] == ind]["code"])
    assert noted("self_harm_admissions") == {"data-missing"}
    assert "data-late" in noted("children_missing_education")
    # most severe first within each priority
    for _, g in ex.groupby("priority_id"):
        assert list(g["sort_key"]) == sorted(g["sort_key"])
    cur = dataset.at().set_index("indicator_id")
    assert cur.loc["rereferral_rate", "exception_severity"] == "high"
    assert "spc-concern" in cur.loc["rereferral_rate", "exception_codes"].split(";")


def test_suppressed_small_counts_are_never_zero(dataset):
    s = dataset.series("cse_crimes", forecast=False)
    raw = demo_returns()
    suppressed = [q.label for q in sorted(raw) if raw[q]["POL"]["POL_CSE_CRIMES"] == "<5"]
    assert suppressed, "the demo should have suppressed small counts"
    rows = s.set_index("period").loc[suppressed]
    assert (rows["status"] == "suppressed").all() and rows["value"].isna().all()


def test_forecast_rows(dataset):
    s = dataset.series("rereferral_rate")
    fc = s[s["is_forecast"]]
    assert list(fc["period"]) == [(LAST + k).label for k in range(1, 5)]
    assert fc["forecast"].notna().all() and (fc["forecast_lo95"] <= fc["forecast_lo80"]).all()
    assert (fc["forecast_hi80"] <= fc["forecast_hi95"]).all()
    assert fc["forecast_method"].iat[0] and fc["forecast_method"].iat[0] == s["forecast_method"].iat[0]


def test_spc_icons_for_the_shift(dataset):
    row = dataset.at().set_index("indicator_id").loc["assessments_45_days"]
    assert row["variation"] == "special_cause_concern"
    assert row["trial_limits"]  # 12 quarters: fewer than 13 points


def test_curve_turned_against_the_frozen_baseline(dataset):
    c = dataset.curves[dataset.curves["indicator_id"] == "return_home_interviews"]
    assert set(c["frozen_at"]) == {"2025-26 Q1"}
    assert list(c["period"]) == [(Quarter(2025, 1) + k).label for k in range(1, 6)]
    assert (c["actual"] > c["forecast_hi80"]).all() and set(c["verdict"]) == {"turned"}
    assert "The curve has turned." in c["sentence"].iat[0]


def test_recorded_rebase_starts_new_limits(dataset):
    s = dataset.series("return_home_interviews", forecast=False).set_index("period")
    assert list(s["spc_segment"]) == [0] * 7 + [1] * 5
    new = s.loc["2025-26 Q2":, "value"]
    assert s.loc["2026-27 Q2", "spc_mean"] == pytest.approx(new.mean())
    assert s.loc["2023-24 Q3", "spc_mean"] == pytest.approx(s.loc[:"2025-26 Q1", "value"].mean())


def test_deterministic(demo, board, library, dataset):
    again = load_dataset(demo[0], board, library)
    pd.testing.assert_frame_equal(again.frame, dataset.frame)
    pd.testing.assert_frame_equal(again.exceptions, dataset.exceptions)


def test_store_version_changes_with_data(demo, board, library):
    engine = demo[0]
    before = store_version(engine)
    assert before == store_version(engine)
    from sqlalchemy.orm import Session

    from etl.store import CurveStory

    with Session(engine) as s, s.begin():
        s.add(CurveStory(indicator_id="cla_rate", story="test", author="test"))
    assert store_version(engine) != before


def test_one_quarter_of_data(library, board):
    from indicators.dataset import build_dataset

    m = pd.DataFrame([("E06099001", "2026-27 Q1", "CSC_REFERRALS", 1000, "ok"),
                      ("E06099001", "2026-27 Q1", "CSC_REREFERRALS", 210, "ok")],
                     columns=["area_code", "period", "measure", "value", "status"])
    ds = build_dataset(m, library, board)
    assert ds.period == Quarter(2026, 1)
    row = ds.at().set_index("indicator_id").loc["rereferral_rate"]
    assert row["status"] == "partial" and np.isnan(row["value"])
    assert ds.exceptions.empty and set(ds.data_notes["code"]) == {"data-missing"}


def test_same_dataset_on_postgresql(postgres_url, board, library, dataset, tmp_path):
    build_demo(postgres_url, board, library, workdir=tmp_path)
    engine = make_engine(postgres_url)
    try:
        pg = load_dataset(engine, board, library)
    finally:
        engine.dispose()
    pd.testing.assert_frame_equal(pg.frame, dataset.frame, check_dtype=False)


def test_board_thresholds_set_the_interval_level(library, board):
    from indicators.dataset import build_dataset

    m = pd.DataFrame([("E06099001", "2026-27 Q1", "CSC_ASSESS_COMPLETED", 263, "ok"),
                      ("E06099001", "2026-27 Q1", "CSC_ASSESS_45WD", 81, "ok")],
                     columns=["area_code", "period", "measure", "value", "status"])
    row95 = build_dataset(m, library, board).at().set_index("indicator_id").loc["assessments_45_days"]
    strict = board.model_copy(update={"thresholds": board.thresholds.model_copy(update={"significance": 0.99})})
    row99 = build_dataset(m, library, strict).at().set_index("indicator_id").loc["assessments_45_days"]
    assert (row95["lower"], row95["upper"]) == pytest.approx((25.53, 36.62), abs=0.01)  # Wilson 95%, 81/263
    assert row99["lower"] < row95["lower"] and row99["upper"] > row95["upper"]


def test_reorganised_la_uses_its_latest_code(engine, shared_dfe):
    from etl.access import current_codes
    from etl.benchmarks.ees import import_ees

    import_ees(engine, [shared_dfe / "ees_cin_b1_children_in_need_2013_2025.csv"], user="test")
    codes = current_codes(engine)
    assert codes.loc[826] == "E06000042"  # Milton Keynes, never reorganised
    assert codes.loc[815] == "E06000065"  # North Yorkshire: new ONS code from 2024


def test_empty_store_gives_an_empty_dataset(engine, board, library):
    ds = load_dataset(engine, board, library)
    assert ds.period is None and ds.frame.empty and ds.exceptions.empty


def test_missing_population_is_its_own_exception(library, board):
    from indicators.dataset import build_dataset

    m = pd.DataFrame([("E06099001", "2026-27 Q1", "CSC_CIN_AT_END", 2800, "ok")],
                     columns=["area_code", "period", "measure", "value", "status"])
    notes = build_dataset(m, library, board).data_notes
    assert set(notes[notes["indicator_id"] == "cin_rate"]["code"]) == {"data-no-population"}


def test_demo_never_overwrites_a_store_with_real_returns(tmp_path, board, library):
    from click.testing import CliRunner

    from etl.cli import main
    from etl.db import init_store
    from etl.returns.load import load_file
    from etl.returns.samples import write_sample_return

    db = tmp_path / "ours.sqlite"
    engine = make_engine(str(db))
    init_store(engine)
    path = write_sample_return(tmp_path / "pol.xlsx", board, library, "POL", Quarter(2025, 2))
    assert load_file(engine, board, library, path, "an analyst").outcome == "loaded"
    engine.dispose()
    r = CliRunner().invoke(main, ["--db", str(db), "demo", "--no-serve"])
    assert r.exit_code == 1 and "will not overwrite them" in r.output
    engine = make_engine(str(db))
    from sqlalchemy import text

    with engine.connect() as conn:
        assert conn.execute(text("select loaded_by from return_version")).scalars().all() == ["an analyst"]
    engine.dispose()


def test_a_multi_area_store_keeps_dfe_s_england_and_pools_the_reporting_areas_apart(demo, board, library):
    """Two areas reporting into one store: England, region and neighbours stay DfE's published figures; the
    areas' own pooled value is reporting_value (it used to replace England's and flip Harrowdale's verdicts)."""
    from etl.access import read_areas, read_benchmarks, read_measures, read_neighbours, read_population
    from indicators.dataset import build_dataset

    engine = demo[0]
    own = read_measures(engine, board).drop(columns=["agency_code"])
    other = own.assign(area_code="E06099002")  # Kestrel Vale: the same figures, but half the re-referrals
    rereferrals = other["measure"] == "CSC_REREFERRALS"
    other.loc[rereferrals, "value"] = pd.to_numeric(other.loc[rereferrals, "value"], errors="coerce") * 0.5
    inputs = dict(library=library, board=board, population=read_population(engine),
                  benchmarks=read_benchmarks(engine, library), neighbours=read_neighbours(engine, board),
                  areas=read_areas(engine), forecasts=False)
    alone = build_dataset(own, **inputs).at().set_index("indicator_id")
    both = build_dataset(pd.concat([own, other]), focal_areas=[board.local_authority.ons_code], **inputs)
    row = both.at().set_index("indicator_id").loc["rereferral_rate"]
    cols = ["england_value", "region_value", "neighbours_mean", "quartile", "vs_england", "vs_neighbours", "funnel"]
    assert row[cols].tolist() == alone.loc["rereferral_rate", cols].tolist()
    f = both.frame
    mine = f[(f["indicator_id"] == "rereferral_rate") & (f["period"] == both.period.label) & ~f["is_forecast"]].iloc[0]
    # the pooled value: both areas' numerators (ours and half of ours) over both denominators (twice ours)
    assert row["reporting_n"] == 2 and row["reporting_value"] == pytest.approx(
        100 * (mine["numerator"] * 1.5) / (mine["denominator"] * 2))
    assert np.isnan(alone.loc["rereferral_rate", "reporting_value"]) and alone.loc["rereferral_rate", "reporting_n"] == 0
    reporting = both.comparators[both.comparators["level"] == "reporting"]
    assert len(reporting) and set(reporting["area_code"]) == {"reporting"}


def test_the_demo_stories_hold_and_the_stable_series_show_nothing(dataset):
    f = dataset.frame[~dataset.frame["is_forecast"]]
    signals = set(f[f["spc_point_type"].str.startswith("special")]["indicator_id"])
    # the designed stories: worsening re-referrals, the shift in assessments (and their duration), the lasting
    # gain in health assessments; every other series is generated stable and shows no special cause anywhere
    assert signals == {"rereferral_rate", "assessments_45_days", "assessment_duration", "cla_health_assessments"}
    cur = dataset.at().set_index("indicator_id")
    shift_start = (FIRST + 5).label  # the demo's shift starts in its sixth quarter
    assert cur.loc["assessments_45_days", "spc_rebase_proposal"] == shift_start
    assert cur.loc["rereferral_rate", "spc_point_type"] == "special_cause_concern"
    assert cur.loc["rereferral_rate", "rag"] == "red" and cur.loc["rereferral_rate", "vs_neighbours"] == "worse"
    # the rolling and stock headlines are charted by their quarters, a flow, or a run chart
    assert cur.loc["s47_rate", "spc_point_type"] == "common_cause"
    assert cur.loc["cin_rate", "spc_chart"] == "run" and cur.loc["cpp_rate", "spc_chart"] == "xmr"
    # data quality is beside the figures: the late and missing returns are notes, not exceptions
    assert set(dataset.exceptions["indicator_id"]) >= {"rereferral_rate", "assessments_45_days"}
    assert "self_harm_admissions" not in set(dataset.exceptions["indicator_id"])
