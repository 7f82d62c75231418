"""Periods, definitions, board configuration, store creation and the `oba` entry point."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from etl.cli import main
from etl.db import current_revision, head_revision, init_store
from indicators.board import add_working_days, bank_holidays, check_board
from indicators.definitions import check_library
from indicators.periods import PeriodError, Quarter, parse_period


@pytest.mark.parametrize("text", ["2025-26 Q2", "2025/26 Q2", "Q2 2025-26", "Q2 2025/26", " q2  2025-2026 ",
                                  "2025/2026 Quarter 2"])
def test_period_spellings(text):
    q = Quarter.parse(text)
    assert (q.fy, q.q, q.label) == (2025, 2, "2025-26 Q2")


@pytest.mark.parametrize("text", ["2025-27 Q2", "2025-26 Q5", "Q2", "July 2025", ""])
def test_period_rejects(text):
    with pytest.raises(PeriodError):
        Quarter.parse(text)


def test_period_dates_and_arithmetic():
    q4 = Quarter.parse("2025-26 Q4")
    assert (q4.start, q4.end, q4.year_ending) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31), 2026)
    assert str(q4 + 1) == "2026-27 Q1" and str(q4 - 4) == "2024-25 Q4"
    assert Quarter.containing(dt.date(2025, 12, 31)) == Quarter(2025, 3)
    assert parse_period("latest", [Quarter(2024, 1), Quarter(2025, 3)]) == Quarter(2025, 3)
    with pytest.raises(PeriodError):
        parse_period("latest", [])


def test_bank_holidays_and_working_days():
    # 2027: Christmas is a Saturday, so the holidays move to Monday 27 and Tuesday 28 December.
    assert {dt.date(2027, 12, 27), dt.date(2027, 12, 28)} <= bank_holidays(2027)
    assert dt.date(2025, 4, 18) in bank_holidays(2025)  # Good Friday 2025
    # 20 working days after 30 Sep 2025 (no holidays in October) is Tuesday 28 October 2025.
    assert add_working_days(dt.date(2025, 9, 30), 20) == dt.date(2025, 10, 28)


def test_shipped_definitions_are_valid_and_broad(library, board):
    _, issues = check_library()
    assert [str(i) for i in issues if i.level == "error"] == []
    assert len(library.indicators) >= 30
    assert {i.question.value for i in library.indicators.values()} == {"how_much", "how_well", "better_off"}
    assert len({i.agency for i in library.indicators.values()}) >= 6
    for pid in ["early_help", "neglect", "cse_missing", "domestic_abuse", "voice_of_child"]:
        assert library.for_priority(pid), pid


def test_board_errors_are_all_reported_with_lines(tmp_path, library):
    bad = tmp_path / "board.yaml"
    bad.write_text(
        "name: Test\n"
        "local_authority: {name: X, la_number: 42, ons_code: E06000001, region_code: E12000001, region_name: R}\n"
        "agencies:\n"
        "  - code: CSC\n"
        "    name: Social care\n"
        "    type: csc\n"
        "    measures: [CSC_REFERRALS]\n"
        "    due: next Tuesday\n"
        "priorities: [{id: early_help, name: Early Help}]\n"
        "colour: blue\n"
    )
    board, issues = check_board(bad, library)
    assert board is None
    found = {(i.field, i.line) for i in issues}
    assert ("local_authority.la_number", 2) in found
    assert ("agencies.0.due", 8) in found
    assert ("colour", 10) in found


def test_board_cross_checks(tmp_path, library):
    text = (tmp_path / "b.yaml")
    text.write_text(
        "name: Test\n"
        "local_authority: {name: X, la_number: 990, ons_code: E06000001, region_code: E12000001, region_name: R}\n"
        "agencies:\n"
        "  - {code: CSC, name: SC, type: csc, measures: [CSC_REFERRALS, NOT_A_MEASURE]}\n"
        "priorities: [{id: early_help, name: Early Help}]\n"
    )
    _, issues = check_board(text, library)
    codes = {i.code for i in issues if i.level == "error"}
    assert {"unknown-measure", "measure-not-returned"} <= codes


def test_init_creates_and_is_idempotent(engine):
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"return_version", "return_value", "benchmark_value", "neighbour", "curve_story"} <= tables
    assert init_store(engine) == (head_revision(), head_revision())


def test_cli_init_and_check(tmp_path):
    db = tmp_path / "x.sqlite"
    r = CliRunner().invoke(main, ["--db", str(db), "init"])
    assert r.exit_code == 0 and "Created the store" in r.output
    r = CliRunner().invoke(main, ["--db", str(db), "init"])
    assert r.exit_code == 0 and "up to date" in r.output
    r = CliRunner().invoke(main, ["indicators", "check"])
    assert r.exit_code == 0 and "33 indicators" in r.output and "0 error(s)" in r.output


def test_cli_reports_uninitialised_store_cleanly(tmp_path):
    r = CliRunner().invoke(main, ["--db", str(tmp_path / "none.sqlite"), "indicators", "list"])
    assert r.exit_code == 0  # list reads definitions only
    from etl.context import AppContext
    from etl.errors import StoreNotReady

    with pytest.raises(StoreNotReady, match="oba init"):
        AppContext(db=str(tmp_path / "none.sqlite")).engine()


def test_a_quarters_rate_cannot_be_benchmarked_against_an_annual_one(tmp_path):
    import shutil

    from indicators.definitions import LIBRARY_DIR

    lib = tmp_path / "library"
    shutil.copytree(LIBRARY_DIR, lib)
    path = lib / "indicators" / "referral_rate.yaml"
    path.write_text(path.read_text().replace("period_type: rolling_12m", "period_type: flow"))
    _, issues = check_library(lib)
    found = [(i.code, i.field) for i in issues if i.level == "error"]
    assert found == [("benchmark-period", "period_type")]


def test_last_ended_quarter():
    assert Quarter.last_ended(dt.date(2026, 11, 21)) == Quarter(2026, 2)
    assert Quarter.last_ended(dt.date(2026, 4, 1)) == Quarter(2025, 4)


def _library_with(tmp_path, name: str, old: str, new: str):
    import shutil

    from indicators.definitions import LIBRARY_DIR

    lib = tmp_path / "library"
    if not lib.exists():
        shutil.copytree(LIBRARY_DIR, lib)
    path = lib / "indicators" / f"{name}.yaml"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    return lib


@pytest.mark.parametrize("name, old, new, field, words", [
    ("rereferral_rate", "  plots: quarter", "  plots: headline", "control_chart.plots", "share three quarters"),
    ("training_attendance", "  plots: quarter", "  plots: headline", "control_chart.plots", "resets every April"),
    ("cin_rate", "  plots: run_chart", "  plots: headline", "control_chart.plots", "carries most of its children"),
    ("cin_rate", "  plots: run_chart", "  plots: quarter", "control_chart.plots", "the stock itself"),
    ("cpp_rate", "  numerator: CSC_CPP_STARTS", "  numerator: CSC_CPP_AT_END", "control_chart.numerator",
     "is a snapshot, not a flow"),
    ("cpp_rate", "  numerator: CSC_CPP_STARTS", "  numerator: CSC_CPP_BEGUN", "control_chart.numerator",
     "not defined in measures.yaml"),
    ("cpp_rate", "  denominator: population_0_17\n  title", "  title", "control_chart.denominator",
     "needs a denominator"),
])
def test_definitions_check_refuses_a_control_chart_on_dependent_points(tmp_path, name, old, new, field, words):
    _, issues = check_library(_library_with(tmp_path, name, old, new))
    found = [i for i in issues if i.level == "error"]
    assert [(i.code, i.field) for i in found] == [("chart-series", field)]
    assert words in found[0].message and found[0].line is not None


def test_a_run_chart_must_say_why(tmp_path):
    import re

    from indicators.definitions import LIBRARY_DIR

    text = (LIBRARY_DIR / "indicators" / "cla_rate.yaml").read_text()
    reason = re.search(r"\n  reason: .*", text).group(0)
    _, issues = check_library(_library_with(tmp_path, "cla_rate", reason, ""))
    errors = [i for i in issues if i.level == "error"]
    assert [(i.code, i.field) for i in errors] == [("invalid-field", "control_chart")]
    assert "say why" in errors[0].message and errors[0].file.endswith("cla_rate.yaml")


def test_control_chart_defaults_by_period_type(library):
    from indicators.definitions import ChartSeries

    stripped = {i.id: i.model_copy(update={"control_chart": None}) for i in library.indicators.values()}
    assert stripped["cin_rate"].chart.plots == ChartSeries.run_chart and stripped["cin_rate"].chart.reason
    assert stripped["rereferral_rate"].chart.plots == ChartSeries.quarter
    assert stripped["return_home_interviews"].chart.plots == ChartSeries.quarter
    # a quarter's rate is a quarter of the 12-month one: the target does not apply to the chart
    assert not library.indicator("s47_rate").chart_on_headline_scale
    assert library.indicator("rereferral_rate").chart_on_headline_scale
