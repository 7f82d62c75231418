"""The dashboard's pure parts: formatting, the sentences under the charts, icons, badges and chart figures."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.components.badges import comparison_badge, rag_badge, status_badge
from dashboard.components.charts import (
    baseline_figure,
    benchmark_figure,
    funnel_limits_for,
    ranked_comparators,
    sparkline_svg,
    sparkline_title,
    spc_figure,
    svg_data_uri,
)
from dashboard.components.icons import (
    MDC,
    assurance_icon,
    icon_svg,
    row_point_type,
    variation_icon,
    variation_letter,
)
from dashboard.components.layout import period_search, query
from dashboard.components.returns_grid import cell_summary, returns_counts
from dashboard.formatting import format_change, format_value, parse_quarter, year_label
from dashboard.summaries import (
    baseline_summary,
    benchmark_summary,
    funnel_summary,
    latest_sentence,
    priority_summary,
    spc_summary,
    trend_summary,
)
from indicators.definitions import Polarity, Unit
from indicators.periods import Quarter

NAN = float("nan")


def _text(component) -> str:
    """All the text in a component tree, as a screen reader would meet it."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return "".join(_text(c) for c in component)
    return _text(getattr(component, "children", None))


@pytest.fixture(scope="module")
def rereferrals(library):
    return library.indicator("rereferral_rate")  # percentage, lower is better, target 20


@pytest.fixture(scope="module")
def cpp_rate(library):
    return library.indicator("cpp_rate")  # rate per 10,000, context


# --- formatting ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value,unit,decimals,status,expected", [
    (24.04, Unit.percentage, 1, "ok", "24.0%"),
    (412.345, Unit.rate_per_10000, 1, "ok", "412.3 per 10,000"),
    (1204.0, Unit.count, 0, "ok", "1,204"),
    (31.46, Unit.days, 1, "ok", "31.5 days"),
    (0.0, Unit.count, 0, "ok", "0"),
    (NAN, Unit.count, 0, "suppressed", "suppressed"),
    (0.0, Unit.count, 0, "suppressed", "suppressed"),  # a suppressed count is never shown as 0
    (NAN, Unit.percentage, 1, "missing", "not returned"),
    (None, Unit.percentage, 1, "ok", "no data"),
])
def test_format_value(value, unit, decimals, status, expected):
    assert format_value(value, unit, decimals, status) == expected


def test_format_value_short_rate_and_changes():
    assert format_value(412.3, Unit.rate_per_10000, 1, short=True) == "412.3 per 10k"
    assert format_change(2.14, Unit.percentage) == "+2.1 points"
    assert format_change(-3, Unit.count) == "−3"
    assert format_change(NAN, Unit.count) == ""


def test_periods_from_urls():
    assert parse_quarter("2025-26 Q2") == Quarter(2025, 2)
    assert parse_quarter("Q2 2025/26") == Quarter(2025, 2)
    assert parse_quarter("not a quarter") is None
    assert parse_quarter("") is None
    assert year_label(2026) == "2025-26"
    assert year_label(NAN) == ""


def test_query_strings_keep_the_period():
    assert query(period="2025-26 Q2") == "?period=2025-26+Q2"
    assert query(period=None) == ""
    # the select reports its value when it appears: no change, no navigation
    assert period_search("2025-26 Q2", "2025-26 Q2", "") is None
    assert period_search("2025-26 Q1", "2025-26 Q2", "") == "?period=2025-26+Q1"
    assert period_search("2025-26 Q1", "2025-26 Q2", "?priority=neglect", priority="neglect") == \
        "?priority=neglect&period=2025-26+Q1"


# --- sentences ---------------------------------------------------------------------------------------

def _row(**kw):
    base = {"period": "2025-26 Q2", "value": 24.0, "status": "ok", "change_quarter": 1.5,
            "neighbours_mean": 21.0, "comparator_year": 2025, "england_value": 22.0, "target": 20.0}
    return {**base, **kw}


def test_latest_sentence_names_value_direction_and_neighbours(rereferrals):
    assert latest_sentence(rereferrals, _row()) == (
        "Re-referrals rose to 24.0% in 2025-26 Q2, above the statistical neighbours' average of 21.0% (2024-25).")
    assert latest_sentence(rereferrals, _row(change_quarter=-2.0, neighbours_mean=NAN)) == (
        "Re-referrals fell to 24.0% in 2025-26 Q2, above England's 22.0% (2024-25).")
    assert latest_sentence(rereferrals, _row(change_quarter=0.01, neighbours_mean=NAN, england_value=NAN)) == (
        "Re-referrals stayed at 24.0% in 2025-26 Q2, against a target of 20.0%.")
    assert latest_sentence(rereferrals, _row(change_quarter=NAN, neighbours_mean=24.04)).startswith(
        "Re-referrals was 24.0% in 2025-26 Q2, level with")


def test_latest_sentence_for_suppressed_and_missing(rereferrals):
    s = latest_sentence(rereferrals, _row(value=NAN, status="suppressed"))
    assert "suppressed" in s and "not zero" in s and "0%" not in s
    assert "was not returned" in latest_sentence(rereferrals, _row(value=NAN, status="missing"))
    assert latest_sentence(rereferrals, None) == "There is no data for Re-referrals yet."


def test_baseline_summary_states_the_forecast_and_target(rereferrals):
    fc = [{"period": "2026-27 Q2", "forecast": 26.0, "forecast_lo80": 24.5, "forecast_hi80": 27.5}]
    s = baseline_summary(rereferrals, _row(), fc)
    assert s.endswith("If nothing changes, it is forecast to be 26.0% by 2026-27 Q2 (80% range 24.5% to 27.5%), "
                      "which misses the target of 20.0%.")
    assert "too few quarters" in baseline_summary(rereferrals, _row(), [])


def test_spc_summary_names_the_rule(rereferrals):
    rows = [_row(value=v, spc_point_type="common_cause", spc_mean=20, spc_lpl=18, spc_upl=22, trial_limits=True)
            for v in (19, 20, 21)]
    rows[-1] |= {"value": 25.0, "spc_point_type": "special_cause_concern", "spc_rule": "astronomical",
                 "spc_direction": 1.0, "assurance": "consistent_fail"}
    s = spc_summary(rereferrals, rows)
    assert s.startswith("The latest value (25.0% in 2025-26 Q2) is special cause concern because of a quarter "
                        "outside the process limits, above the upper limit; a cause for concern.")
    assert "18.0% to 22.0%" in s and "trial limits" in s and "consistently miss" in s
    assert "only common cause" in spc_summary(rereferrals, rows[:1])
    # a suppressed latest quarter: the sentence describes the last quarter with a value, in the same words
    suppressed = rows + [_row(value=float("nan"), status="suppressed", period="2025-26 Q3")]
    assert spc_summary(rereferrals, suppressed) == s


def test_benchmark_and_funnel_summaries(rereferrals, cpp_rate):
    ranked = [{"area_code": "A", "value": 19.0, "is_self": False}, {"area_code": "B", "value": 24.0, "is_self": True}]
    s = benchmark_summary(rereferrals, "Harrowdale", ranked, 2025, 22.1, 21.5, "Wessex")
    assert s == ("Harrowdale ranks 2nd of 2 (1st is best) among itself and its statistical neighbours in 2024-25, "
                 "at 24.0%; England 22.1%; Wessex 21.5%. Too few neighbours have a value to test whether it "
                 "differs from them.")
    assert benchmark_summary(rereferrals, "Harrowdale", ranked, 2025, 22.1, own_period="2025-26 Q2").startswith(
        "Harrowdale, at 24.0% in 2025-26 Q2, ranks 2nd of 2 (1st is best) against its statistical neighbours' "
        "published figures for 2024-25; England 22.1%.")
    assert "highest value" in benchmark_summary(cpp_rate, "Harrowdale", ranked)
    assert "no published value" in benchmark_summary(rereferrals, "X", [{"area_code": "A", "value": 1.0,
                                                                         "is_self": False}])
    assert "outside the 99.8% funnel" in funnel_summary(rereferrals, "Harrowdale", "above_99_8", 152, 2025)
    assert "could not be placed" in funnel_summary(rereferrals, "Harrowdale", "", 152)
    wide = funnel_summary(rereferrals, "Harrowdale", "within", 152, 2025, adjustment="additive", phi=27.08, tau2=11.16)
    assert "over-dispersion φ = 27.1" in wide and "τ² = 11.16" in wide and "widened" in wide


def test_the_neighbours_test_is_said_and_drawn(rereferrals):
    from dashboard.components.charts import benchmark_figure

    # ten neighbours 15..24: 19.5 ± 2.262 x 3.028 x sqrt(1.1) = 12.3 to 26.7
    ranked = [{"area_code": f"N{k}", "value": 15.0 + k, "is_self": False, "role": "neighbour"} for k in range(10)]
    inside = benchmark_summary(rereferrals, "Harrowdale", ranked + [{"area_code": "H", "value": 24.0, "is_self": True}])
    assert inside.endswith("Harrowdale is within 12.3% to 26.7%, the 95% range one more area like its 10 neighbours "
                           "would fall in, from their average of 19.5% and their spread: not significantly different "
                           "from them.")
    worse = benchmark_summary(rereferrals, "Harrowdale", ranked + [{"area_code": "H", "value": 28.0, "is_self": True}])
    assert worse.endswith("Harrowdale is above 12.3% to 26.7%, the 95% range one more area like its 10 neighbours "
                          "would fall in, from their average of 19.5% and their spread: significantly worse than them.")
    fig = benchmark_figure(rereferrals, ranked + [{"area_code": "H", "value": 28.0, "is_self": True}], {})
    band = [sh for sh in fig["layout"]["shapes"] if sh["type"] == "rect"]
    assert sum(sh["type"] == "line" and sh["line"]["color"] == "#D55E00" for sh in fig["layout"]["shapes"]) == 2
    assert len(band) == 1 and (band[0]["x0"], band[0]["x1"]) == pytest.approx((12.3167, 26.6833), abs=1e-3)
    assert any(t.get("name", "").startswith("Neighbours' 95% range 12.3%–26.7%") for t in fig["data"])


def test_funnel_draws_the_adjusted_limits_and_says_so(cpp_rate):
    from dashboard.components.charts import funnel_figure, funnel_limits_for
    from indicators.intervals import null_standard_error

    rows = [{"area_code": f"L{k}", "role": "la", "value": 30.0 + k, "denominator": 20_000.0 + 5_000 * k,
             "funnel_adjustment": "additive", "overdispersion_phi": 25.6, "random_effects_tau2": 125.0}
            for k in range(20)]
    exact = funnel_limits_for(cpp_rate, 40.0, [r["denominator"] for r in rows])
    fig = funnel_figure(cpp_rate, rows, 40.0, {}, exact)
    hi95 = next(t for t in fig["data"] if t.get("name") == "95% limits (adjusted)")
    x0 = hi95["x"][0]
    s = float(null_standard_error(40.0, x0, "rate", 10_000))
    assert hi95["y"][0] == pytest.approx(40.0 + 1.959964 * np.sqrt(s * s + 125.0), rel=1e-6)
    assert hi95["y"][0] > exact["hi95"][0]  # wider than the exact limits it replaces
    note = fig["layout"]["annotations"][0]["text"]
    assert "over-dispersion" in note and "φ = 25.6" in note and "τ² = 125" in note
    plain = funnel_figure(cpp_rate, [{**r, "funnel_adjustment": "none", "overdispersion_phi": 0.8} for r in rows],
                          40.0, {}, exact)
    assert next(t for t in plain["data"] if t.get("name") == "95% limits")["y"] == exact["hi95"]


def test_trend_and_priority_summaries(rereferrals):
    rows = [_row(period="2024-25 Q2", value=20.0), _row(value=24.0, change_year=4.0)]
    assert trend_summary(rereferrals, rows) == "Re-referrals: 24.0% in 2025-26 Q2, up from 20.0% a year before."
    assert trend_summary(rereferrals, [_row(value=NAN, status="suppressed")]) == \
        "Re-referrals: suppressed in 2025-26 Q2."
    assert priority_summary("Neglect", 9, 3, "2025-26 Q2") == \
        "3 of the 9 indicators for Neglect are exceptions in 2025-26 Q2."
    assert priority_summary("Neglect", 9, 1, "2025-26 Q2").endswith("is an exception in 2025-26 Q2.")
    assert priority_summary("Neglect", 0, 0, "x") == "No indicator serves Neglect yet."


# --- icons and badges: never colour alone ---------------------------------------------------------------

@pytest.mark.parametrize("point_type,polarity,letter", [
    ("special_cause_improvement", Polarity.higher_better, "H"),
    ("special_cause_improvement", Polarity.lower_better, "L"),
    ("special_cause_concern", Polarity.higher_better, "L"),
    ("special_cause_concern", Polarity.lower_better, "H"),
    ("special_cause_neutral_high", Polarity.context, "H"),
    ("special_cause_neutral_low", Polarity.context, "L"),
    ("common_cause", Polarity.lower_better, ""),
])
def test_variation_letters(point_type, polarity, letter):
    assert variation_letter(point_type, polarity) == letter


def test_icons_differ_by_shape_and_letter_not_only_colour():
    shapes = {name: icon_svg(name) for name in ("variation-improvement-H", "variation-concern-H",
                                                "variation-neutral-H", "variation-common")}
    assert "<circle" in shapes["variation-improvement-H"] and MDC["improvement"] in shapes["variation-improvement-H"]
    assert "<polygon" in shapes["variation-concern-H"] and MDC["concern"] in shapes["variation-concern-H"]
    assert "<rect" in shapes["variation-neutral-H"] and MDC["neutral"] in shapes["variation-neutral-H"]
    assert ">H</text>" in shapes["variation-concern-H"]
    assert "<path" in shapes["variation-common"] and MDC["common_cause"] in shapes["variation-common"]
    assert ">F</text>" in icon_svg("assurance-fail") and ">P</text>" in icon_svg("assurance-pass")
    assert icon_svg("nonsense") is None


def test_icons_carry_their_meaning_as_alt_text():
    img = variation_icon("special_cause_concern", Polarity.lower_better)
    assert img.alt == "Variation: Special cause: concern (high values)"
    assert img.src.endswith("/_icons/variation-concern-H.svg")
    assert variation_icon("", Polarity.lower_better).alt == "Variation: no data"
    assert assurance_icon("consistent_fail").alt == "Assurance: Will consistently miss the target"
    assert "no target" in getattr(assurance_icon(""), "aria-label")
    assert row_point_type({"value": NAN, "spc_point_type": "", "variation": "common_cause"}) == ""
    assert row_point_type({"value": 3.0, "spc_point_type": "special_cause_concern"}) == "special_cause_concern"


def test_badges_have_words():
    assert _text(rag_badge("red")) == "✕Red"
    assert _text(rag_badge(NAN)) == "–No target"
    assert _text(comparison_badge("worse", "England")) == "▼Worse than England"
    assert _text(comparison_badge("not_compared", "England", compact=True)) == "–Not compared with England"
    assert _text(status_badge("suppressed", ["Late"])) == "Suppressed; Late"
    assert _text(status_badge("ok")) == "Complete"


def test_return_cells(board):
    assert cell_summary({"status": "late", "revised": True, "warnings": 2})[1:] == ("Late, revised", "late", 2)
    assert cell_summary({"status": "received", "warnings": ["a", "b", "c"]})[3] == 3
    assert cell_summary(None)[1] == "No return recorded"
    import pandas as pd

    status = pd.DataFrame([{"agency_code": "CSC", "period": "2025-26 Q2", "status": "late"}])
    counts = returns_counts(status, Quarter(2025, 2), [(a.code, a.name) for a in board.agencies])
    assert counts["late"] == 1 and counts[""] == len(board.agencies) - 1  # the rest never returned


# --- charts ---------------------------------------------------------------------------------------------

def _history(n=6, **kw):
    out = []
    for i in range(n):
        q = Quarter(2024, 1) + i
        out.append({"period": q.label, "period_index": q.index, "value": 20.0 + i, "target": 20.0,
                    "spc_mean": 22.5, "spc_lpl": 19.0, "spc_upl": 26.0, "neighbours_mean": 21.0,
                    "england_value": 22.0, "spc_point_type": "common_cause", "trial_limits": True, **kw})
    return out


def test_baseline_figure_has_forecast_ranges_target_and_comparators(rereferrals):
    fc = [{"period": (Quarter(2025, 3) + h).label, "forecast": 26.0 + h, "forecast_lo80": 25.0, "forecast_hi80": 28.0,
           "forecast_lo95": 24.0, "forecast_hi95": 29.0, "target": 20.0} for h in range(4)]
    fig = baseline_figure(rereferrals, _history(), fc)
    names = [t["name"] for t in fig["data"]]
    assert names == ["95% forecast range", "80% forecast range", "Forecast if nothing changes", "Actual", "Target",
                     "Neighbours' average", "England"]
    actual = fig["data"][3]
    assert actual["y"] == [20.0, 21.0, 22.0, 23.0, 24.0, 25.0] and actual["text"][-1] == "25.0%"
    assert fig["layout"]["xaxis"]["categoryarray"][-1] == "Q2 26-27"


def test_baseline_figure_shows_the_frozen_baseline(rereferrals):
    frozen = [{"period": (Quarter(2025, 2) + h).label, "frozen_at": "2025-26 Q1", "forecast": 24.0 + h,
               "forecast_lo80": 23.0, "forecast_hi80": 26.0} for h in range(3)]
    fig = baseline_figure(rereferrals, _history(), [], frozen=frozen)
    names = [t["name"] for t in fig["data"]]
    assert "Baseline frozen at 2025-26 Q1" in names and "80% range of the frozen baseline" in names
    assert fig["layout"]["xaxis"]["categoryarray"][-1] == "Q4 25-26"


def test_spc_lines_break_between_segments(rereferrals):
    rows = _history()
    for i, r in enumerate(rows):
        r["spc_segment"] = 0 if i < 3 else 1
    mean = next(t for t in spc_figure(rereferrals, rows)["data"] if t["name"] == "Average")
    assert mean["x"][3] is None and mean["y"][3] is None and len(mean["x"]) == 7


def test_spc_figure_colours_and_shapes_special_causes(rereferrals):
    rows = _history()
    rows[-1]["spc_point_type"] = "special_cause_concern"
    fig = spc_figure(rereferrals, rows)
    concern = next(t for t in fig["data"] if t["name"] == "Concern")
    assert concern["marker"]["color"] == MDC["concern"] and concern["marker"]["symbol"] == "diamond"
    assert concern["x"] == ["Q2 25-26"]
    assert any(a["text"].startswith("Trial limits") for a in fig["layout"]["annotations"])


def test_benchmark_ranking_follows_polarity(rereferrals, cpp_rate):
    rows = [{"area_code": c, "value": v, "role": r} for c, v, r in
            (("ME", 24.0, "self"), ("N1", 20.0, "neighbour"), ("N2", 26.0, "neighbour"), ("E", 22.0, "england"))]
    assert [r["area_code"] for r in ranked_comparators(rereferrals, rows)] == ["N1", "ME", "N2"]  # lower is better
    assert [r["area_code"] for r in ranked_comparators(cpp_rate, rows)] == ["N2", "ME", "N1"]  # highest first
    fig = benchmark_figure(rereferrals, ranked_comparators(rereferrals, rows), {"ME": "Harrowdale"}, 22.0)
    assert fig["data"][0]["y"][::-1] == ["N1", "Harrowdale (this area)", "N2"]
    assert fig["data"][1]["name"] == "England 22.0%"


def test_funnel_limits_narrow_as_areas_grow(rereferrals):
    lim = funnel_limits_for(rereferrals, 22.0, [100, 1000, 10000])
    widths = [hi - lo for lo, hi in zip(lim["lo95"], lim["hi95"], strict=True)]
    assert widths[0] > widths[-1] > 0
    assert all(a <= b for a, b in zip(lim["hi95"], lim["hi998"], strict=True))
    assert funnel_limits_for(rereferrals, NAN, [100]) is None


def test_sparklines_are_small_pictures_with_their_ends_in_words(rereferrals):
    assert sparkline_title(rereferrals, _history(3)) == "Trend: 20.0% in 2024-25 Q1 → 22.0% in 2024-25 Q3"
    assert sparkline_title(rereferrals, []) == "Trend: no values yet"
    rows = _history(5)
    rows[2]["value"] = NAN  # a gap (suppressed or missing) breaks the line rather than joining across it
    svg = sparkline_svg(rereferrals, rows)
    assert svg.count('stroke="#0072B2" stroke-width="3"') == 2 and 'stroke-dasharray' in svg
    assert svg_data_uri(svg).startswith("data:image/svg+xml")
    assert "<polyline" not in sparkline_svg(rereferrals, [])


def test_no_population_is_named_not_called_unreturned():
    from dashboard.formatting import STATUS_WORDS, format_value
    from dashboard.summaries import latest_sentence
    from indicators.definitions import load_library

    ind = load_library().indicator("cin_rate")
    assert format_value(float("nan"), ind.unit, status="no_population") == "no population"
    assert STATUS_WORDS["no_population"] == "No ONS population stored"
    text = latest_sentence(ind, {"period": "2026-27 Q1", "status": "no_population", "value": float("nan")})
    assert "no ONS population" in text and "not returned" not in text


def test_benchmark_sentence_uses_the_datasets_rank_on_ties():
    from dashboard.summaries import benchmark_summary
    from indicators.definitions import load_library

    ind = load_library().indicator("rereferral_rate")
    # a tie with N2: the chart happens to draw N2 first, the dataset's rank counts only those strictly better
    ranked = [{"area_code": "N1", "value": 20.0}, {"area_code": "N2", "value": 22.0},
              {"area_code": "ME", "value": 22.0, "is_self": True}]
    assert "ranks 3rd of 3" in benchmark_summary(ind, "Harrowdale", ranked)
    assert "ranks 2nd of 3" in benchmark_summary(ind, "Harrowdale", ranked, rank=2)


def test_spc_figure_plots_the_charted_series_and_a_run_chart_has_no_limits(rereferrals, library):
    rows = _history()
    for r in rows:
        r["spc_value"] = r["value"] + 1.5  # the quarter's own value, not the rolling headline
        r["spc_chart"] = "xmr"
    fig = spc_figure(rereferrals, rows)
    points = next(t for t in fig["data"] if t["name"] == "Value")
    assert points["y"] == [r["value"] + 1.5 for r in rows]
    cin = library.indicator("cin_rate")
    run_rows = [dict(r, spc_chart="run", spc_upl=None, spc_lpl=None, spc_point_type="") for r in rows]
    fig = spc_figure(cin, run_rows)
    names = [t["name"] for t in fig["data"]]
    assert "Median" in names and "Process limits" not in names and "Average" not in names
    assert not any(a["text"].startswith("Trial limits") for a in fig["layout"]["annotations"])


def test_run_chart_values_say_so_instead_of_a_variation_icon(library):
    from dashboard.components.icons import row_point_type
    from dashboard.components.tables import data_table

    cin = library.indicator("cin_rate")
    row = {"value": 330.0, "spc_chart": "run", "spc_point_type": "", "period": "2026-27 Q2", "period_index": 1}
    icon = variation_icon(row_point_type(row), cin.polarity)
    assert _text(icon) == "Run chart" and "no special-cause rules" in icon.title
    table = _text(data_table(cin, [dict(row, status="ok", spc_value=330.0)]))
    assert "Run chart" in table and "Common cause" not in table
    # a rolling headline's table shows the quarter's own value the SPC chart plots
    rr = library.indicator("rereferral_rate")
    table = data_table(rr, [{"period": "2026-27 Q2", "period_index": 1, "value": 25.6, "spc_value": 26.7,
                             "spc_chart": "xmr", "spc_point_type": "common_cause", "status": "ok"}])
    assert "On the SPC chart" in _text(table) and "26.7%" in _text(table)
