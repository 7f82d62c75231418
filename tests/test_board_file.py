"""The board file as hostile input: alias bombs, size, encodings, targets out of range, every problem in one pass."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DEMO_BOARD

from etl.cli import main
from indicators.board import check_board
from indicators.definitions import Polarity, Unit, check_library, target_issues

GOOD_LA = "local_authority: {name: X, la_number: 990, ons_code: E06000001, region_code: E12000001, region_name: R}\n"


def _errors(issues, *, skip=("measure-not-returned",)):
    return [(i.code, i.field) for i in issues if i.level == "error" and i.code not in skip]


def _demo_with(tmp_path, old: str, new: str, name: str = "board.yaml"):
    text = DEMO_BOARD.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_an_alias_bomb_fails_fast_with_a_message(tmp_path, library):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("name: *i")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    board, issues = check_board(path, library)
    assert time.perf_counter() - started < 5
    assert board is None
    assert [(i.code, i.line) for i in issues] == [("yaml-aliases", 6)]
    assert "would expand to more than 100,000 values" in issues[0].message


def test_too_many_aliases_and_a_recursive_alias_are_refused(tmp_path, library):
    many = tmp_path / "many.yaml"
    many.write_text("x: &x 1\nname: [" + ", ".join(["*x"] * 201) + "]\n")
    _, issues = check_board(many, library)
    assert [i.code for i in issues] == ["yaml-aliases"]
    assert issues[0].message.startswith("uses more than 200 aliases")
    recursive = tmp_path / "rec.yaml"
    recursive.write_text("name: &a [1, *a]\n")
    _, issues = check_board(recursive, library)
    assert [(i.code, i.line) for i in issues] == [("yaml-aliases", 1)]
    assert "refers to the value it stands in" in issues[0].message


def test_a_few_aliases_are_fine(tmp_path, library):
    path = _demo_with(tmp_path, "  - code: POL\n", "  - code: POL\n    due: &due 20 working days after quarter end\n")
    text = path.read_text().replace("    due: 20 working days after quarter end\n    measures: [POL_", "    measures: [POL_")
    path.write_text(text.replace("  - code: EDU\n    name: Harrowdale Education and Schools\n    type: education\n"
                                 "    due: 20 working days after quarter end\n",
                                 "  - code: EDU\n    name: Harrowdale Education and Schools\n    type: education\n"
                                 "    due: *due\n"))
    board, issues = check_board(path, library)
    assert _errors(issues, skip=()) == [] and board.agency("EDU").due == "20 working days after quarter end"


def test_a_file_far_too_large_is_refused_before_parsing(tmp_path, library, monkeypatch):
    path = tmp_path / "big.yaml"
    path.write_text(DEMO_BOARD.read_text() + "# " + "x" * 1_000_000 + "\n")
    _, issues = check_board(path, library)
    assert [i.code for i in issues] == ["too-large"]
    assert issues[0].message.startswith("is 1.0 MB; a board or definition file is a few KB")


def test_deep_nesting_is_refused(tmp_path, library):
    path = tmp_path / "deep.yaml"
    path.write_text("name: " + "[" * 5000 + "]" * 5000 + "\n")
    _, issues = check_board(path, library)
    assert [i.code for i in issues] == ["yaml-nesting"]


def test_a_windows_1252_board_is_reported_with_what_to_do(tmp_path):
    path = tmp_path / "board.yaml"
    text = DEMO_BOARD.read_text(encoding="utf-8").replace("name: Harrowdale Safeguarding", "name: Harrowdale Café Safeguarding")
    path.write_bytes(text.encode("cp1252"))
    r = CliRunner().invoke(main, ["--board", str(path), "indicators", "check"])
    assert r.exit_code == 1
    assert r.output == (
        f"Store sqlite:///{Path.cwd() / 'data' / 'oba.sqlite'}; board {path}\n"
        f"ERROR encoding {path}:3 is not UTF-8: byte 0xE9 ('é' in Windows-1252) on line 3 — the file looks saved as "
        "Windows-1252 or Latin-1; save it as UTF-8 (Notepad: File > Save as > Encoding: UTF-8; VS Code: the encoding "
        "in the status bar > Save with encoding > UTF-8) and run the command again\n"
        f"44 measures, 33 indicators; board {path}: 1 error(s), 0 warning(s).\n")


def test_utf16_is_reported_and_a_utf8_byte_order_mark_is_fine(tmp_path, library):
    utf16 = tmp_path / "utf16.yaml"
    utf16.write_bytes(DEMO_BOARD.read_text(encoding="utf-8").encode("utf-16"))
    _, issues = check_board(utf16, library)
    assert [i.code for i in issues] == ["encoding"] and issues[0].message.startswith("is saved as UTF-16")
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbf" + DEMO_BOARD.read_bytes())
    board, issues = check_board(bom, library)
    assert board is not None and _errors(issues, skip=()) == []


def test_the_dashboard_and_commands_refuse_a_bad_board_without_a_traceback(tmp_path):
    path = tmp_path / "board.yaml"
    path.write_bytes("name: Caf\xe9\n".encode("cp1252"))
    r = CliRunner().invoke(main, ["--board", str(path), "indicators", "list"])
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert r.output.splitlines()[-1] == "The configuration has errors: fix the lines above and run the command again."


@pytest.mark.parametrize("target, found", [
    ("{target: 150}", ("target-range", "targets.rereferral_rate.target")),
    ("{target: -20}", ("target-range", "targets.rereferral_rate.target")),
    ("{target: .nan}", ("invalid-field", "targets.rereferral_rate.target")),
    ("{target: .inf}", ("invalid-field", "targets.rereferral_rate.target")),
    ("{target: 20, tolerance: 120}", ("target-range", "targets.rereferral_rate.tolerance")),
    ("{target: 20, tolerance: -1}", ("invalid-field", "targets.rereferral_rate.tolerance")),
    ("{minimum_difference: 101}", ("target-range", "targets.rereferral_rate.minimum_difference")),
])
def test_percentage_targets_are_checked_against_the_unit(tmp_path, library, target, found):
    path = _demo_with(tmp_path, "rereferral_rate: {target: 20, tolerance: 2}", f"rereferral_rate: {target}")
    _, issues = check_board(path, library)
    assert _errors(issues) == [found]


def test_a_nan_target_says_finite(tmp_path, library):
    path = _demo_with(tmp_path, "rereferral_rate: {target: 20, tolerance: 2}", "rereferral_rate: {target: .nan}")
    _, issues = check_board(path, library)
    assert [i.message for i in issues if i.level == "error"] == ["must be a finite number (found nan)"]


def test_count_targets_cannot_be_negative_and_context_targets_are_never_rated(tmp_path, library):
    path = _demo_with(tmp_path, "  assessments_45_days: {target: 88, tolerance: 4}\n",
                      "  assessments_45_days: {target: 88, tolerance: 4}\n  missing_episodes: {target: -3}\n"
                      "  cse_crimes: {target: 10}\n")
    _, issues = check_board(path, library)
    assert [(i.level, i.field, i.message) for i in issues if i.code == "target-range"] == [
        ("error", "targets.missing_episodes.target",
         "missing_episodes: a count cannot be negative, so neither can its target (found -3)"),
        ("warning", "targets.cse_crimes.target",
         "cse_crimes: the indicator's polarity is context (neither higher nor lower is better), so the target is "
         "never rated: remove it, or give the indicator a polarity"),
    ]


@pytest.mark.parametrize("unit, polarity, target, tolerance, expected", [
    (Unit.percentage, Polarity.higher_better, 90, 5, []),
    (Unit.percentage, Polarity.higher_better, 100.5, None,
     [("error", "target", "the target of a percentage must be between 0 and 100 (found 100.5)")]),
    (Unit.percentage, Polarity.lower_better, 98, 5,
     [("warning", "tolerance", "a tolerance of 5 above a target of 98% reaches past 100%, so the indicator can "
                               "never be red")]),
    (Unit.percentage, Polarity.lower_better, 100, None,
     [("warning", "target", "every value meets a target of 100% when lower is better, so the indicator is always "
                            "green")]),
    (Unit.count, Polarity.higher_better, 0, None,
     [("warning", "target", "every value meets a target of 0 when higher is better, so the indicator is always "
                            "green")]),
    (Unit.rate_per_10000, Polarity.higher_better, 3, 5,
     [("warning", "tolerance", "a tolerance of 5 below a target of 3 reaches below zero, so the indicator can "
                               "never be red")]),
    (Unit.days, Polarity.lower_better, -1, None,
     [("error", "target", "a number of days cannot be negative, so neither can its target (found -1)")]),
    (Unit.days, Polarity.lower_better, None, 3, [("error", "tolerance", "a tolerance needs a target")]),
])
def test_target_issues(unit, polarity, target, tolerance, expected):
    assert target_issues(unit, polarity, target, tolerance) == expected


def test_every_board_problem_in_one_pass_with_did_you_mean(tmp_path, library):
    path = tmp_path / "board.yaml"
    path.write_text(
        "name: Test\n" + GOOD_LA +
        "agencies:\n"
        "  - {code: CSC, name: SC, type: csc, due: next Tuesday, measures: [CSC_REFERRALS, CSC_CPP_STRATS]}\n"
        "priorities:\n"
        "  - {id: early_help, name: Early Help, subgroup: pqq}\n"
        "subgroups: [{id: pqa, name: PQA}]\n"
        "targets:\n"
        "  rereferral_rate: {target: 150, tolerance: .nan}\n"
        "  rereferal_rate: {target: 20}\n"
        "neighbor_set: x\n")
    board, issues = check_board(path, library)
    assert board is None
    assert [str(i) for i in issues if i.level == "error" and i.code != "measure-not-returned"] == [
        f"ERROR invalid-field {path}:4 agencies.0.due: write the due rule like '20 working days after quarter end' "
        "or '30 days after quarter end' (found 'next Tuesday')",
        f"ERROR invalid-field {path}:9 targets.rereferral_rate.tolerance: must be a finite number (found nan)",
        f"ERROR invalid-field {path}:11 neighbor_set: is not a known field (did you mean neighbour_set?)",
        f"ERROR unknown-measure {path}:4 agencies.0.measures.1: measure CSC_CPP_STRATS is not defined in "
        "measures.yaml (did you mean CSC_CPP_STARTS?)",
        f"ERROR unknown-subgroup {path}:6 priorities.0.subgroup: sub-group pqq is not defined under subgroups "
        "(did you mean pqa?)",
        f"ERROR target-range {path}:9 targets.rereferral_rate.target: rereferral_rate: the target of a percentage "
        "must be between 0 and 100 (found 150)",
        f"ERROR unknown-indicator {path}:10 targets.rereferal_rate: no indicator 'rereferal_rate' to set a target "
        "for (did you mean rereferral_rate?)",
    ]
    # the measures the (invalid) agency returns still count: CSC_REFERRALS is not reported as not returned
    assert not any("CSC_REFERRALS " in i.message for i in issues if i.code == "measure-not-returned")


def test_a_misspelt_measure_in_the_demo_board_through_the_command(tmp_path):
    path = _demo_with(tmp_path, "CSC_CPP_STARTS, CSC_CPP_SUBSEQUENT", "CSC_CPP_STRATS, CSC_CPP_SUBSEQUENT")
    r = CliRunner().invoke(main, ["--board", str(path), "indicators", "check"])
    assert r.exit_code == 1
    lines = r.output.splitlines()[1:]  # after "Store …; board …"
    assert lines[0] == (f"ERROR unknown-measure {path}:18 agencies.0.measures.9: measure CSC_CPP_STRATS is not defined "
                        "in measures.yaml (did you mean CSC_CPP_STARTS?)")
    assert lines[-1] == f"44 measures, 33 indicators; board {path}: 3 error(s), 0 warning(s)."


def test_definitions_report_a_bad_field_and_an_unknown_measure_together(tmp_path):
    import shutil

    from indicators.definitions import LIBRARY_DIR

    lib = tmp_path / "library"
    shutil.copytree(LIBRARY_DIR, lib)
    path = lib / "indicators" / "cpp_rate.yaml"
    text = path.read_text()
    assert "numerator: CSC_CPP_AT_END" in text
    path.write_text(text.replace("numerator: CSC_CPP_AT_END", "numerator: CSC_CPP_AT_ED").replace("unit:", "units:", 1))
    _, issues = check_library(lib)
    found = [(i.code, i.field, i.message) for i in issues if i.level == "error" and i.file.endswith("cpp_rate.yaml")]
    assert ("invalid-field", "units", "is not a known field (did you mean unit?)") in found
    assert ("unknown-measure", "numerator",
            "measure CSC_CPP_AT_ED is not defined in measures.yaml (did you mean CSC_CPP_AT_END?)") in found


def test_definition_targets_are_checked_too(tmp_path):
    import shutil

    from indicators.definitions import LIBRARY_DIR

    lib = tmp_path / "library"
    shutil.copytree(LIBRARY_DIR, lib)
    path = lib / "indicators" / "rereferral_rate.yaml"
    path.write_text(path.read_text().replace("target: 20", "target: 120"))
    _, issues = check_library(lib)
    assert [(i.code, i.field, i.message) for i in issues if i.level == "error"] == [
        ("target-range", "target", "the target of a percentage must be between 0 and 100 (found 120)")]



@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_that_never_ends_is_refused(library):
    _, issues = check_board(Path("/dev/zero"), library)
    assert [(i.code, i.message) for i in issues] == [
        ("too-large", "holds more than 1 MB; a board or definition file is a few KB, so this is probably not the "
                      "right file")]
