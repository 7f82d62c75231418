"""What to download for the benchmarks, from where, and which indicators each stored file serves."""

from __future__ import annotations

from click.testing import CliRunner
from conftest import after_where

from etl.benchmarks.sources import CIN_URL, ONS_URL, POPULATION_DATASET, SOURCES, serves, unbenchmarked
from etl.cli import main

D3 = "ees_cin_d3_cpp_second_or_subsequent_2013_2025.csv"
POP = "ons_population_0_17_2012_2024.csv"


def test_every_dataset_the_definitions_name_has_a_source(library):
    assert set(serves(library)) == {s.dataset for s in SOURCES}
    assert serves(library)["ees_cin_c1_referrals_rereferrals"] == ["referral_rate", "rereferral_rate"]
    assert "cin_rate" in serves(library)[POPULATION_DATASET]
    assert len(unbenchmarked(library)) == len(library.indicators) - 8


def test_import_help_names_the_files_and_where_to_get_them():
    r = CliRunner().invoke(main, ["benchmarks", "import", "--help"])
    assert r.exit_code == 0
    for s in SOURCES:
        assert f"    {s.example}\n      {s.what}\n" in r.output
    assert CIN_URL in r.output and ONS_URL in r.output
    assert "not an EES file" in r.output
    assert "Which files to download (save each under the name shown, keeping its years):" in r.output


def test_list_on_an_empty_store_says_what_to_import(tmp_path):
    db = str(tmp_path / "x.sqlite")
    assert CliRunner().invoke(main, ["--db", db, "init"]).exit_code == 0
    r = CliRunner().invoke(main, ["--db", db, "benchmarks", "list"])
    lines = after_where(r.output).splitlines()
    assert r.exit_code == 0
    assert lines[:4] == [
        "No benchmarks are stored yet: import EES files with `oba benchmarks import FILE...`.",
        "Not stored yet, so these indicators have no benchmark:",
        "  ees_cin_b1_children_in_need (cin_rate): DfE, Characteristics of children in need, table B1: children "
        "in need",
        f"    {CIN_URL}"]
    assert lines[-2].startswith("No published benchmark (25 indicators): advocacy_offered, assessment_duration, ")
    assert lines[-1] == "`oba benchmarks import --help` says which files to download and from where."


def test_list_says_what_each_file_serves_and_what_is_missing(tmp_path, shared_dfe):
    db = str(tmp_path / "x.sqlite")
    assert CliRunner().invoke(main, ["--db", db, "init"]).exit_code == 0
    renamed = tmp_path / "b1_children_in_need_2013_2025.csv"  # saved under EES's own name, not the one shown
    renamed.write_bytes((shared_dfe / "ees_cin_b1_children_in_need_2013_2025.csv").read_bytes())
    r = CliRunner().invoke(main, ["--db", db, "benchmarks", "import", str(shared_dfe / D3), str(shared_dfe / POP),
                                  str(renamed)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["--db", db, "benchmarks", "list"])
    lines = after_where(r.output).splitlines()
    assert "ees_cin_d3_cpp_second_or_subsequent serves cpp_second_subsequent" in lines
    assert ("ons_population_0_17 serves the population for the rates of cin_rate, cla_rate, cpp_rate, "
            "early_help_assessment_rate, referral_rate, s47_rate, self_harm_admissions") in lines
    assert ("b1_children_in_need serves no indicator; if it is ees_cin_b1_children_in_need, save the file as "
            "ees_cin_b1_children_in_need_2013_2025.csv and import it again") in lines
    missing = lines[lines.index("Not stored yet, so these indicators have no benchmark:") + 1:]
    assert [ln.split()[0] for ln in missing if not ln.startswith("    ")][:5] == [
        "ees_cin_b1_children_in_need", "ees_cla_number_and_rate_per_10k", "ees_cin_d5_cpp_at31march_by_duration",
        "ees_cin_c1_referrals_rereferrals", "ees_cin_c4_section47_icpc"]


def test_a_pattern_that_matches_nothing_says_to_download_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "x.sqlite")
    assert CliRunner().invoke(main, ["--db", db, "init"]).exit_code == 0
    r = CliRunner().invoke(main, ["--db", db, "benchmarks", "import", "ees_cin_*.csv"])
    assert (r.exit_code, after_where(r.output)) == (1, (
        f"Error: no file here matches ees_cin_*.csv (in {tmp_path}): download the files first; `oba benchmarks "
        "import --help` lists which files and where to download them\nNothing was imported; the store is "
        "unchanged.\n"))
    r = CliRunner().invoke(main, ["--db", db, "neighbours", "import", "statistical_neighbours_*_long.csv"])
    assert r.exit_code == 1
    assert after_where(r.output).startswith("Error: no file here matches statistical_neighbours_*_long.csv")
