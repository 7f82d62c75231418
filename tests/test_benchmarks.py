"""Importing published EES / ONS files: spot values, revisions, unseen layouts, bad files, export, commands."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from store_backends import STORE_BACKENDS, backend_url

from etl.benchmarks import csvfile
from etl.benchmarks.csvfile import BenchmarkFileError, FilesError
from etl.benchmarks.ees import dataset_key, import_ees, read_ees
from etl.benchmarks.export import (
    EXPORT_COLUMNS,
    benchmark_rows,
    benchmark_summary,
    export_benchmarks,
    load_benchmarks,
)
from etl.cli import main
from etl.db import init_store
from etl.errors import InputFileError, OBAError
from etl.store import (
    Area,
    BenchmarkChange,
    BenchmarkMeasure,
    BenchmarkPlace,
    BenchmarkRelease,
    BenchmarkSeries,
    BenchmarkValue,
    make_engine,
)

ROOT = Path(__file__).resolve().parent.parent
SHARED_DFE = ROOT.parent / "shared" / "data" / "dfe"
BACKENDS = STORE_BACKENDS

B1 = "ees_cin_b1_children_in_need_2013_2025.csv"
C1 = "ees_cin_c1_referrals_rereferrals_2013_2025.csv"
D3 = "ees_cin_d3_cpp_second_or_subsequent_2013_2025.csv"
D5 = "ees_cin_d5_cpp_at31march_by_duration_2013_2025.csv"
POP = "ons_population_0_17_2012_2024.csv"
SHARED_FILES = [B1, C1, D3, D5, POP]
STANDARD = ("time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,"
            "old_la_code,new_la_code,la_name")


# --- helpers ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=BACKENDS)
def loaded(request, tmp_path_factory):
    """A store per backend holding the five shared files, imported once for the whole module."""
    if not SHARED_DFE.exists():
        pytest.skip(f"{SHARED_DFE} is not there")
    with backend_url(request.param, tmp_path_factory.mktemp("bench")) as url:
        eng = make_engine(url)
        init_store(eng)
        results = import_ees(eng, [SHARED_DFE / f for f in SHARED_FILES], "tester")
        yield eng, results
        eng.dispose()


def stored(engine, dataset: str, measure: str, area_name: str, year: int) -> tuple[float | None, str | None]:
    v = benchmark_rows()
    with engine.connect() as conn:
        rows = conn.execute(select(v.c.value, v.c.note).where(
            v.c.dataset == dataset, v.c.measure == measure, v.c.area_name == area_name,
            v.c.time_period == year)).all()
    assert len(rows) == 1, rows
    return rows[0][0], rows[0][1]


def snapshot(engine) -> dict:
    """Everything the benchmark importer writes, to show a rejected import changed nothing."""
    out = {}
    with engine.connect() as conn:
        for table in (BenchmarkRelease, BenchmarkMeasure, BenchmarkSeries, BenchmarkPlace, BenchmarkValue,
                      BenchmarkChange, Area):
            t = table.__table__
            out[t.name] = sorted(tuple(map(str, r)) for r in conn.execute(select(t)))
    return out


def ees_file(path: Path, rows: list[str], header: str = STANDARD + ",category,referral_count,rereferral_percent",
             encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


GOOD_ROWS = [
    "2025,Reporting year,National,E92000001,England,,,,,,Referrals,632830,22.6",
    "2025,Reporting year,Regional,E92000001,England,E12000008,South East,,,,Referrals,90000,21.5",
    "2025,Reporting year,Local authority,E92000001,England,E12000008,South East,826,E06000042,Milton Keynes,"
    "Referrals,3346,c",
]


# --- dataset keys -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, key", [
    ("ees_cin_c1_referrals_rereferrals_2013_2025.csv", "ees_cin_c1_referrals_rereferrals"),
    ("ons_population_0_17_2012_2024.csv", "ons_population_0_17"),
    ("EES_CIN_B1_Children_in_need_2025.csv", "ees_cin_b1_children_in_need"),
    ("/some/folder/cla_ceased_202324_202425.csv", "cla_ceased"),
    ("referrals.csv", "referrals"),
    ("2025.csv", "2025"),
])
def test_dataset_key(name, key):
    assert dataset_key(name) == key


# --- the shared published files -----------------------------------------------------------------------

SPOT_VALUES = [
    ("ees_cin_b1_children_in_need", "At31_episodes", "Milton Keynes", 2025, 2713, None),
    ("ees_cin_b1_children_in_need", "At31_episodes", "England", 2025, 402400, None),
    ("ees_cin_c1_referrals_rereferrals", "rereferral_percent", "Milton Keynes", 2024, 19.2, None),
    ("ees_cin_c1_referrals_rereferrals", "rereferral_percent", "England", 2025, 22.6, None),
    ("ees_cin_c1_referrals_rereferrals", "referral_count", "West Berkshire", 2019, 1686, None),
    ("ees_cin_d3_cpp_second_or_subsequent", "CPP_subsequent_percent", "Milton Keynes", 2025, 22.2, None),
    ("ees_cin_d3_cpp_second_or_subsequent", "CPP_subsequent_percent", "Milton Keynes", 2016, None, "c"),
    ("ees_cin_d3_cpp_second_or_subsequent", "CPP_subsequent_percent", "Gloucestershire", 2019, 28.5, None),
    ("ees_cin_d5_cpp_at31march_by_duration", "CPP_At31", "Milton Keynes", 2025, 327, None),
    ("ees_cin_d5_cpp_at31march_by_duration", "2_years_or_more_percent", "England", 2025, 2.3, None),
    ("ons_population_0_17", "population_estimate", "Milton Keynes", 2024, 74569, None),
    ("ons_population_0_17", "population_estimate", "England", 2024, 12183016, None),
]


@pytest.mark.parametrize("dataset, measure, area, year, value, note", SPOT_VALUES)
def test_spot_values_from_the_readme(loaded, dataset, measure, area, year, value, note):
    engine, _ = loaded
    assert stored(engine, dataset, measure, area, year) == (value, note)


def test_shared_files_import_every_row_measure_and_area(loaded):
    engine, results = loaded
    assert [(r.dataset, r.outcome, r.rows, len(r.measures), r.added, r.changed) for r in results] == [
        ("ees_cin_b1_children_in_need", "imported", 2132, 8, 17056, 0),
        ("ees_cin_c1_referrals_rereferrals", "imported", 2132, 10, 21320, 0),
        ("ees_cin_d3_cpp_second_or_subsequent", "imported", 2132, 3, 6396, 0),
        ("ees_cin_d5_cpp_at31march_by_duration", "imported", 2132, 11, 23452, 0),
        ("ons_population_0_17", "imported", 2132, 1, 2132, 0),
    ]
    assert results[2].measures == ("CPP_start", "CPP_subsequent", "CPP_subsequent_percent")
    assert results[2].filters == ("category",)
    assert (results[4].first_period, results[4].last_period) == (2012, 2024)
    v = benchmark_rows()
    with engine.connect() as conn:
        row = conn.execute(select(v.c.filters, v.c.geographic_level, v.c.area_code, v.c.la_number, v.c.region_code,
                                  v.c.time_identifier).where(v.c.dataset == "ons_population_0_17",
                                                             v.c.area_name == "Milton Keynes",
                                                             v.c.time_period == 2024)).one()
        assert tuple(row) == ("age_group=Children aged 0 to 17 years", "Local authority", "E06000042", 826,
                              "E12000008", "Reporting year")
        notes = {r[0] for r in conn.execute(select(v.c.note).distinct())}
        assert notes == {None, "c", "u", "x", "z"}
        areas = {r.code: r for r in conn.execute(select(Area.__table__))}
    assert tuple(areas["E06000042"])[1:] == ("Milton Keynes", "Local authority", 826, "E12000008", "South East")
    assert tuple(areas["E92000001"])[1:] == ("England", "National", None, None, None)
    assert tuple(areas["E13000001"])[1:3] == ("Inner London", "Regional")
    # Reorganised LAs keep each code they were published under, with the same DfE number.
    assert {c for c, a in areas.items() if a.la_number == 815} == {"E10000023", "E06000065"}


def test_every_stored_figure_has_its_measure_series_place_and_release(loaded):
    """The figures' keys are not declared foreign keys (see etl.store.BenchmarkValue): check they resolve."""
    engine, _ = loaded
    v, m, s, p, r = (t.__table__ for t in (BenchmarkValue, BenchmarkMeasure, BenchmarkSeries, BenchmarkPlace,
                                           BenchmarkRelease))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(v)).scalar()
        joined = conn.execute(select(func.count()).select_from(
            v.join(m, m.c.id == v.c.measure_id).join(s, s.c.id == v.c.series_id).join(p, p.c.id == v.c.place_id)
            .join(r, r.c.id == v.c.release_id)).where(m.c.dataset == s.c.dataset, p.c.area_code == s.c.area_code)
        ).scalar()
        # Names are stored once: 70,356 figures, a few thousand series, one place per area description.
        counts = [conn.execute(select(func.count()).select_from(t)).scalar() for t in (m, s, p)]
    assert total == joined == 70356
    assert counts[0] == 33 and counts[1] < 10000 and counts[2] < 200


def test_reimporting_the_same_files_changes_nothing(loaded):
    engine, _ = loaded
    before = snapshot(engine)
    again = import_ees(engine, [SHARED_DFE / D3, SHARED_DFE / POP], "someone else")
    assert [(r.outcome, r.added, r.changed, r.unchanged, r.release_id) for r in again] == [
        ("unchanged", 0, 0, 6396, None), ("unchanged", 0, 0, 2132, None)]
    assert snapshot(engine) == before


def test_export_round_trips_every_published_cell(loaded, tmp_path):
    engine, _ = loaded
    out = tmp_path / "out" / "benchmarks.csv"
    n = export_benchmarks(engine, out, dataset="ees_cin_d5_cpp_at31march_by_duration")
    exported = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(exported.columns) == EXPORT_COLUMNS and n == len(exported) == 23452
    assert set(exported["source_file"]) == {D5}
    published = pd.read_csv(SHARED_DFE / D5, dtype=str, keep_default_na=False)
    published["area_code"] = published["new_la_code"].where(published["new_la_code"] != "",
                                                             published["region_code"].where(
                                                                 published["region_code"] != "",
                                                                 published["country_code"]))
    measures = list(published.columns[11:])
    long = published.melt(id_vars=["area_code", "time_period"], value_vars=measures, var_name="measure",
                          value_name="published")
    exported["cell"] = exported["value"] + exported["note"]
    both = long.merge(exported, on=["area_code", "time_period", "measure"], how="outer", indicator=True)
    assert (both["_merge"] == "both").all()
    assert (both["published"] == both["cell"]).all(), both[both["published"] != both["cell"]].head()
    # All datasets at once: every stored value, England first within each measure.
    n_all = export_benchmarks(engine, out)
    assert n_all == 17056 + 21320 + 6396 + 23452 + 2132
    first = next(csv.DictReader(out.open()))
    assert (first["dataset"], first["geographic_level"], first["note"]) == (
        "ees_cin_b1_children_in_need", "National", "")


def test_loaders_for_the_indicator_layer(loaded):
    engine, _ = loaded
    frame = load_benchmarks(engine, ["ees_cin_b1_children_in_need"], ["At31_episodes"])
    mk = frame[(frame["la_number"] == 826) & (frame["time_period"] == 2025)]
    assert mk["value"].tolist() == [2713.0]
    from etl.access import read_population

    pop = read_population(engine)
    assert pop[(pop["area_code"] == "E06000042") & (pop["year"] == 2024)]["population"].tolist() == [74569.0]
    summary = benchmark_summary(engine).set_index("dataset")
    assert summary.loc["ons_population_0_17", "measures"] == ["population_estimate"]
    assert (summary.loc["ees_cin_c1_referrals_rereferrals", ["first_period", "last_period", "values"]].tolist()
            == [2013, 2025, 21320])
    assert summary.loc["ees_cin_b1_children_in_need", "file_name"] == B1


def test_export_of_an_unknown_dataset_is_refused(loaded, tmp_path):
    engine, _ = loaded
    with pytest.raises(OBAError, match="no dataset 'nope' is stored; stored datasets: ees_cin_b1"):
        export_benchmarks(engine, tmp_path / "x.csv", dataset="nope")
    assert not (tmp_path / "x.csv").exists()


def test_read_ees_validates_without_storing():
    if not SHARED_DFE.exists():
        pytest.skip("no shared data")
    frame, filters, measures = read_ees(SHARED_DFE / C1)
    assert filters == ["category"]
    assert measures[:3] == ["referral_count", "rereferral_count", "rereferral_percent"]
    assert frame.index.name == "line" and frame.index[0] == 2 and len(frame) == 2132


# --- revisions ----------------------------------------------------------------------------------------

def _revised_d3(tmp_path: Path) -> Path:
    """The D3 file as a later release might publish it: one value revised, one symbol changed, a new year."""
    text_in = (SHARED_DFE / D3).read_text()
    rows = list(csv.reader(io.StringIO(text_in)))
    header = rows[0]
    out = [header]
    for row in rows[1:]:
        rec = dict(zip(header, row, strict=True))
        if rec["la_name"] == "Milton Keynes" and rec["time_period"] == "2025":
            rec["CPP_subsequent_percent"] = "22.4"
        if rec["la_name"] == "Milton Keynes" and rec["time_period"] == "2016":
            rec["CPP_subsequent_percent"] = "x"
        out.append([rec[h] for h in header])
    england = next(r for r in rows[1:] if r[2] == "National")
    out.append(["2026", *england[1:11], "60000", "15000", "25"])
    path = tmp_path / "ees_cin_d3_cpp_second_or_subsequent_2013_2026.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(out)
    return path


def test_a_newer_release_updates_values_and_records_each_change(engine, shared_dfe, tmp_path):
    first = import_ees(engine, shared_dfe / D3, "analyst")[0]
    revised = _revised_d3(tmp_path)
    r = import_ees(engine, [revised], "analyst")[0]
    assert (r.dataset, r.outcome, r.added, r.changed, r.unchanged, r.kept) == (
        "ees_cin_d3_cpp_second_or_subsequent", "updated", 3, 2, 6394, 0)
    assert stored(engine, r.dataset, "CPP_subsequent_percent", "Milton Keynes", 2025) == (22.4, None)
    assert stored(engine, r.dataset, "CPP_subsequent_percent", "Milton Keynes", 2016) == (None, "x")
    assert stored(engine, r.dataset, "CPP_subsequent_percent", "England", 2026) == (25.0, None)
    rel, ch, v = BenchmarkRelease.__table__, BenchmarkChange.__table__, benchmark_rows()
    with engine.connect() as conn:
        releases = conn.execute(select(rel.c.id, rel.c.file_name, rel.c.rows, rel.c.values_added,
                                       rel.c.values_changed).order_by(rel.c.id)).all()
        changes = conn.execute(select(v.c.time_period, ch.c.old_value, ch.c.old_note, ch.c.new_value, ch.c.new_note,
                                      ch.c.release_id).join(v, v.c.id == ch.c.value_id)
                               .order_by(v.c.time_period)).all()
    assert [tuple(x) for x in releases] == [(first.release_id, D3, 2132, 6396, 0),
                                            (r.release_id, revised.name, 2133, 3, 2)]
    assert [tuple(x) for x in changes] == [(2016, None, "c", None, "x", r.release_id),
                                           (2025, 22.2, None, 22.4, None, r.release_id)]

    assert import_ees(engine, [revised], "analyst")[0].outcome == "unchanged"
    # Going back to the older file is itself a revision; the new year is kept, not deleted.
    back = import_ees(engine, [shared_dfe / D3], "analyst")[0]
    assert (back.outcome, back.changed, back.added, back.kept) == ("updated", 2, 0, 3)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ch)).scalar() == 4


def test_dry_run_reports_without_storing(engine, shared_dfe, tmp_path):
    import_ees(engine, shared_dfe / D3, "analyst")
    before = snapshot(engine)
    r = import_ees(engine, [_revised_d3(tmp_path)], "analyst", dry_run=True)[0]
    assert (r.outcome, r.changed, r.added, r.dry_run) == ("updated", 2, 3, True)
    assert snapshot(engine) == before


# --- files never seen before ----------------------------------------------------------------------------

ABSENCE_HEADER = STANDARD + ",lad_code,lad_name,school_type,sex,enrolments,sess_possible,sess_overall_percent"
ABSENCE_ROWS = [
    "202324,Academic year,National,E92000001,England,,,,,,,,Total,Total,7000000,2500000000,6.9",
    "202324,Academic year,National,E92000001,England,,,,,,,,Primary,Girls,2000000,low,5.1",
    "202324,Academic year,Regional,E92000001,England,E12000008,South East,,,,,,Total,Total,1100000,k,z",
    "202324,Academic year,Local authority,E92000001,England,E12000008,South East,826,E06000042,Milton Keynes,,,"
    "Total,Total,45000, ,6.5",
    "202324,Academic year,Local authority,E92000001,England,E12000008,South East,826,E06000042,Milton Keynes,,,"
    "Primary,Girls,12000,c,5.0",
    "202324,Academic year,Local authority district,E92000001,England,E12000008,South East,,,,E07000001,Somewhere,"
    "Total,Total,1000,2000,3",
    "202223,Academic year,Local authority,E92000001,England,E12000008,South East,826,E06000042,Milton Keynes,,,"
    "Total,Total,44000,100,6.1",
]


def test_an_unseen_ees_file_with_other_filters_and_measures(engine, tmp_path):
    path = ees_file(tmp_path / "ees_pupil_absence_2023_2024.csv", ABSENCE_ROWS, ABSENCE_HEADER)
    frame, filters, measures = read_ees(path)
    assert filters == ["school_type", "sex"]
    assert measures == ["enrolments", "sess_possible", "sess_overall_percent"]
    r = import_ees(engine, [path], "analyst")[0]
    assert (r.dataset, r.rows, r.added, r.skipped, r.first_period, r.last_period) == (
        "ees_pupil_absence", 6, 18, {"Local authority district": 1}, 202223, 202324)
    v = benchmark_rows()
    with engine.connect() as conn:
        rows = conn.execute(select(v.c.measure, v.c.filters, v.c.area_code, v.c.time_period, v.c.time_identifier,
                                   v.c.value, v.c.note).where(v.c.area_code == "E06000042",
                                                              v.c.time_period == 202324)
                            .order_by(v.c.measure, v.c.filters)).all()
        assert conn.execute(select(func.count()).select_from(v).where(v.c.area_code == "E07000001")).scalar() == 0
    assert [tuple(x) for x in rows] == [
        ("enrolments", "school_type=Primary; sex=Girls", "E06000042", 202324, "Academic year", 12000.0, None),
        ("enrolments", "school_type=Total; sex=Total", "E06000042", 202324, "Academic year", 45000.0, None),
        ("sess_overall_percent", "school_type=Primary; sex=Girls", "E06000042", 202324, "Academic year", 5.0, None),
        ("sess_overall_percent", "school_type=Total; sex=Total", "E06000042", 202324, "Academic year", 6.5, None),
        ("sess_possible", "school_type=Primary; sex=Girls", "E06000042", 202324, "Academic year", None, "c"),
        ("sess_possible", "school_type=Total; sex=Total", "E06000042", 202324, "Academic year", None, None),
    ]
    assert stored(engine, "ees_pupil_absence", "sess_possible", "South East", 202324) == (None, "k")
    assert stored(engine, "ees_pupil_absence", "sess_overall_percent", "South East", 202324) == (None, "z")


def test_a_meta_file_says_which_columns_are_filters(engine, tmp_path):
    header = STANDARD + ",age,count"
    rows = ["2025,Calendar year,National,E92000001,England,,,,,,5,100",
            "2025,Calendar year,National,E92000001,England,,,,,,6,n/a",
            "2025,Calendar year,National,E92000001,England,,,,,,7,suppressed"]
    path = ees_file(tmp_path / "ages_2025.csv", rows, header)
    # By content alone, "age" holds only numbers (a measure) and "count" holds words (a filter).
    assert read_ees(path)[1:] == (["count"], ["age"])
    (tmp_path / "ages_2025.meta.csv").write_text(
        "col_name,col_type,label,indicator_grouping,indicator_unit,indicator_dp,filter_hint,filter_grouping_column\n"
        "age,Filter,Age,,,,,\ncount,Indicator,Count,,,0,,\n")
    assert read_ees(path)[1:] == (["age"], ["count"])
    r = import_ees(engine, [path, tmp_path / "ages_2025.meta.csv"], "analyst")
    assert len(r) == 1 and r[0].added == 3
    v = benchmark_rows()
    with engine.connect() as conn:
        got = conn.execute(select(v.c.filters, v.c.value, v.c.note).order_by(v.c.filters)).all()
    assert [tuple(x) for x in got] == [("age=5", 100.0, None), ("age=6", None, "n/a"),
                                       ("age=7", None, "suppressed")]


def test_a_former_la_published_without_an_ons_code_is_keyed_by_its_number(engine, tmp_path):
    row = "2012,Reporting year,Local authority,E92000001,England,E12000009,South West,835,x,Dorset (old),R,10,5"
    r = import_ees(engine, [ees_file(tmp_path / "old_2012.csv", [row])], "analyst")[0]
    assert r.added == 2
    with engine.connect() as conn:
        area = conn.execute(select(Area.__table__).where(Area.__table__.c.la_number == 835)).one()
    assert tuple(area) == ("LA835", "Dorset (old)", "Local authority", 835, "E12000009", "South West")


# --- bad files ------------------------------------------------------------------------------------------

E = "an Explore Education Statistics (EES) CSV file"
HEADER_HINT = ("expected an Explore Education Statistics CSV whose header starts " + STANDARD)


def _bad_files():
    mk = "2025,Reporting year,Local authority,E92000001,England,E12000008,South East,826,E06000042,"
    return [
        ("not_csv", lambda p: p.write_bytes(b"PK\x03\x04\x14\x00\x06\x00 workbook"),
         f"bad.csv: is a ZIP archive or an Excel workbook, not a CSV file; expected {E}"),
        ("empty", lambda p: p.write_bytes(b""), f"bad.csv: is empty; expected {E}"),
        ("header_only", lambda p: p.write_text(STANDARD + ",category,count\n"),
         f"bad.csv: line 2: has a header but no data rows; expected {E}"),
        ("not_ees", lambda p: p.write_text("name,count\nMilton Keynes,3\n"),
         "bad.csv: line 1: missing the EES column(s) time_period, time_identifier, geographic_level, "
         f"country_code, country_name; {HEADER_HINT}"),
        ("no_la_columns", lambda p: ees_file(p, [GOOD_ROWS[2].replace(",826,E06000042,Milton Keynes", "")],
                                             STANDARD.rsplit(",", 3)[0] + ",category,referral_count,rereferral_percent"),
         "bad.csv: line 1: missing the EES column(s) old_la_code, new_la_code, la_name, needed for its Local "
         f"authority rows; {HEADER_HINT}"),
        ("cp1252", lambda p: ees_file(p, [GOOD_ROWS[0], mk + "Milton Keynés,Referrals,1,2"], encoding="cp1252"),
         "bad.csv: line 3, column la_name: byte 0xe9 at character 101 is not UTF-8 text; expected a CSV file "
         "saved as UTF-8 (in Excel: Save As, 'CSV UTF-8')"),
        ("ragged", lambda p: ees_file(p, [GOOD_ROWS[0], GOOD_ROWS[1] + ",99"]),
         "bad.csv: line 3: has 14 fields; expected 13, one per header column"),
        ("time_period", lambda p: ees_file(p, [GOOD_ROWS[0].replace("2025", "20x5", 1)]),
         "bad.csv: line 2, column time_period: found '20x5'; expected a year such as 2025, or 202425 for an "
         "academic or financial year"),
        ("blank_code", lambda p: ees_file(p, [GOOD_ROWS[2].replace("E06000042", "")]),
         "bad.csv: line 2, column new_la_code: is blank on a Local authority row; expected the area's ONS code, "
         "such as E06000042"),
        ("duplicate", lambda p: ees_file(p, [GOOD_ROWS[0], GOOD_ROWS[2], GOOD_ROWS[0]]),
         "bad.csv: line 4: repeats line 2: the same area E92000001, time period 2025 (Reporting year) and filters "
         "category=Referrals; expected one row for each"),
        ("no_measures", lambda p: ees_file(p, [GOOD_ROWS[0].replace("632830,22.6", "many,some")]),
         "bad.csv: line 1: has no measure columns: every column after the EES time and geography columns holds "
         "text; expected at least one column of numbers (or GSS symbols such as c, x, z)"),
        ("several", lambda p: ees_file(p, [GOOD_ROWS[0].replace("2025", "x", 1),
                                           GOOD_ROWS[2].replace("826", "8X6")]),
         "bad.csv: 2 problems:\n"
         "  line 2, column time_period: found 'x'; expected a year such as 2025, or 202425 for an academic or "
         "financial year\n"
         "  line 3, column old_la_code: found '8X6'; expected DfE's 3-digit local authority number such as 826"),
    ]


@pytest.mark.parametrize("maker, message", [(m, msg) for _, m, msg in _bad_files()],
                         ids=[i for i, _, _ in _bad_files()])
def test_a_bad_file_is_rejected_with_where_and_what_and_nothing_changes(engine, tmp_path, maker, message):
    good = ees_file(tmp_path / "good_2025.csv", GOOD_ROWS)
    import_ees(engine, [good], "analyst")
    before = snapshot(engine)
    bad = tmp_path / "bad.csv"
    maker(bad)
    with pytest.raises(BenchmarkFileError) as info:
        read_ees(bad)
    assert str(info.value) == message
    # Even the good file given alongside is not imported again or changed.
    ees_file(tmp_path / "good_2025.csv", [GOOD_ROWS[0].replace("632830", "632831"), *GOOD_ROWS[1:]])
    with pytest.raises(InputFileError) as info:
        import_ees(engine, [tmp_path / "good_2025.csv", bad], "analyst")
    assert str(info.value) == message
    assert snapshot(engine) == before


def test_a_too_large_file_is_refused_before_reading(tmp_path, monkeypatch):
    path = ees_file(tmp_path / "big.csv", GOOD_ROWS)
    monkeypatch.setattr(csvfile, "MAX_FILE_BYTES", 100)
    with pytest.raises(BenchmarkFileError) as info:
        read_ees(path)
    assert str(info.value) == (f"big.csv: is 0.0 MB; files over 0 MB are not imported (expected {E}, which is a "
                               "few MB: check it is the right file; if it is, split it, for example by year, keeping "
                               "the header line in each part, and import the parts together)")


def test_several_bad_files_are_all_reported(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"")
    with pytest.raises(FilesError) as info:
        import_ees(None, [tmp_path / "a.csv", tmp_path / "missing.csv"], "analyst")
    assert str(info.value) == (f"a.csv: is empty; expected {E}\n"
                               f"missing.csv: file not found (looked for {tmp_path / 'missing.csv'}); expected {E}")


def test_a_meta_file_that_names_unknown_columns_is_rejected(tmp_path):
    path = ees_file(tmp_path / "refs_2025.csv", GOOD_ROWS)
    (tmp_path / "refs_2025.meta.csv").write_text("col_name,col_type\nreferral_count,Indicator\nrate,Indicator\n"
                                                 "category,Group\n")
    with pytest.raises(BenchmarkFileError) as info:
        read_ees(path)
    assert str(info.value) == (
        "refs_2025.meta.csv: 2 problems:\n"
        "  line 3, column col_name: names column 'rate', which the data file does not have; expected a column of "
        "the data file\n"
        "  line 4, column col_type: found 'Group'; expected Filter or Indicator")


def test_a_meta_file_alone_is_not_data(tmp_path):
    (tmp_path / "refs_2025.meta.csv").write_text("col_name,col_type\n")
    with pytest.raises(BenchmarkFileError, match="is EES metadata, not data; import the data file refs_2025.csv"):
        read_ees(tmp_path / "refs_2025.meta.csv")


# --- the commands ---------------------------------------------------------------------------------------

def _oba(db_url, *args):
    """Run oba; the result's output without its first line naming the store and board (tested in test_paths.py)."""
    from types import SimpleNamespace

    from conftest import after_where

    r = CliRunner().invoke(main, ["--db", db_url, *args], catch_exceptions=False)
    return SimpleNamespace(exit_code=r.exit_code, output=after_where(r.output))


def test_commands_import_list_export(engine, db_url, shared_dfe, tmp_path, monkeypatch):
    monkeypatch.setenv("OBA_USER", "analyst")
    res = _oba(db_url, "benchmarks", "list")
    assert (res.exit_code, res.output.splitlines()[0]) == (
        0, "No benchmarks are stored yet: import EES files with `oba benchmarks import FILE...`.")

    res = _oba(db_url, "benchmarks", "import", str(shared_dfe / D3), str(shared_dfe / POP))
    assert res.exit_code == 0, res.output
    assert res.output == (
        f"{D3}: imported ees_cin_d3_cpp_second_or_subsequent: 2,132 rows, 3 measures, 2013–2025, 6,396 values.\n"
        f"{POP}: imported ons_population_0_17: 2,132 rows, 1 measure, 2012–2024, 2,132 values.\n")

    res = _oba(db_url, "benchmarks", "import", str(shared_dfe / D3))
    assert (res.exit_code, res.output) == (0, (
        f"{D3}: unchanged: the store already holds these 6,396 values of ees_cin_d3_cpp_second_or_subsequent "
        "(3 measures, 2013–2025); nothing written.\n"))

    revised = _revised_d3(tmp_path)
    res = _oba(db_url, "benchmarks", "import", "--dry-run", str(revised))
    assert (res.exit_code, res.output) == (0, (
        f"{revised.name}: would update ees_cin_d3_cpp_second_or_subsequent: 2 values would be changed, 3 added, "
        "6,394 unchanged.\nDry run: nothing was stored.\n"))
    res = _oba(db_url, "benchmarks", "import", str(revised))
    with engine.connect() as conn:
        release = conn.execute(select(func.max(BenchmarkRelease.__table__.c.id))).scalar()
    assert (res.exit_code, res.output) == (0, (
        f"{revised.name}: updated ees_cin_d3_cpp_second_or_subsequent: 2 values changed, 3 added, 6,394 unchanged; "
        f"the changes are recorded with release {release}.\n"))

    res = _oba(db_url, "benchmarks", "list")
    assert res.exit_code == 0
    lines = res.output.splitlines()
    assert lines[0].startswith("ees_cin_d3_cpp_second_or_subsequent: 3 measures, 2013–2026, 6,399 values; imported ")
    assert lines[0].endswith(f"UTC by analyst from {revised.name}, 2 releases")
    assert lines[1] == "  CPP_start, CPP_subsequent, CPP_subsequent_percent"
    assert lines[2].startswith("ons_population_0_17: 1 measure, 2012–2024, 2,132 values; imported ")

    out = tmp_path / "export.csv"
    res = _oba(db_url, "benchmarks", "export", "-o", str(out), "--dataset", "ons_population_0_17")
    assert (res.exit_code, res.output) == (0, f"Wrote 2,132 values to {out}.\n")
    res = _oba(db_url, "benchmarks", "export", "-o", str(out), "--dataset", "nope")
    assert res.exit_code == 1
    assert res.output == ("Error: no dataset 'nope' is stored; stored datasets: ees_cin_d3_cpp_second_or_subsequent, "
                          "ons_population_0_17\n")


def test_command_exit_codes_for_bad_files_and_usage(engine, db_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,count\n")
    res = _oba(db_url, "benchmarks", "import", str(bad))
    assert res.exit_code == 1
    assert res.output == ("Error: bad.csv: line 2: has a header but no data rows; expected "
                          f"{E}\nNothing was imported; the store is unchanged.\n")
    res = _oba(db_url, "benchmarks", "import")
    assert res.exit_code == 2 and "Missing argument 'FILES...'" in res.output
    res = _oba(db_url, "benchmarks", "export")
    assert res.exit_code == 2 and "Missing option '-o'" in res.output


def test_commands_need_an_initialised_store(tmp_path, shared_dfe):
    res = _oba(f"sqlite:///{tmp_path / 'none.sqlite'}", "benchmarks", "import", str(shared_dfe / D3))
    assert res.exit_code == 1 and "run `oba init` first" in res.output


def test_two_imports_at_once_queue_rather_than_collide(engine, shared_dfe):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: import_ees(engine, [shared_dfe / D3], "analyst")[0], range(2)))
    assert sorted(r.outcome for r in results) == ["imported", "unchanged"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(BenchmarkValue.__table__)).scalar() == 6396
        assert conn.execute(select(func.count()).select_from(BenchmarkRelease.__table__)).scalar() == 1


@pytest.mark.parametrize("backend", STORE_BACKENDS)
def test_the_0005_migration_moves_stored_figures_and_changes_across_and_back(backend, tmp_path):
    """A store made before figures were narrowed (schema 0004) keeps every figure, its id and its changes."""
    from alembic import command
    from sqlalchemy import text

    from etl.db import _config

    def migrate(engine, target, up=True):
        cfg = _config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            (command.upgrade if up else command.downgrade)(cfg, target)

    wide = ("INSERT INTO benchmark_value (id, dataset, measure, filters, geographic_level, area_code, area_name, "
            "la_number, region_code, time_period, time_identifier, value, note, release_id) VALUES ")
    with backend_url(backend, tmp_path) as url:
        engine = make_engine(url)
        migrate(engine, "0004")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO benchmark_release (id, dataset, file_name, sha256, imported_at, "
                              "imported_by, rows, values_added, values_changed) VALUES "
                              "(1, 'd', 'd_2024.csv', 'x', '2026-01-01', 'a', 2, 3, 0), "
                              "(2, 'd', 'd_2025.csv', 'y', '2026-02-01', 'a', 2, 0, 1)"))
            conn.execute(text(wide + "(7, 'd', 'count', 'sex=Boys', 'Local authority', 'E06000042', 'Milton Keynes', "
                              "826, 'E12000008', 2024, 'Reporting year', 12, NULL, 1), "
                              "(8, 'd', 'count', 'sex=Boys', 'Local authority', 'E06000042', 'Milton Keynes', "
                              "826, 'E12000008', 2025, 'Reporting year', NULL, 'c', 2), "
                              "(9, 'd', 'count', '', 'National', 'E92000001', 'England', "
                              "NULL, NULL, 2025, 'Reporting year', 400.5, NULL, 1)"))
            conn.execute(text("INSERT INTO benchmark_change (id, value_id, release_id, old_value, old_note, "
                              "new_value, new_note, changed_at) VALUES (1, 8, 2, 11, NULL, NULL, 'c', '2026-02-01')"))
            if backend == "postgresql":  # the rows above were given their ids
                for table in ("benchmark_release", "benchmark_value", "benchmark_change"):
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)"))
        migrate(engine, "head")
        v, ch = benchmark_rows(), BenchmarkChange.__table__
        columns = (v.c.id, v.c.dataset, v.c.measure, v.c.filters, v.c.geographic_level, v.c.area_code, v.c.area_name,
                   v.c.la_number, v.c.region_code, v.c.time_period, v.c.time_identifier, v.c.value, v.c.note,
                   v.c.release_id)
        expected = [(7, "d", "count", "sex=Boys", "Local authority", "E06000042", "Milton Keynes", 826, "E12000008",
                     2024, "Reporting year", 12.0, None, 1),
                    (8, "d", "count", "sex=Boys", "Local authority", "E06000042", "Milton Keynes", 826, "E12000008",
                     2025, "Reporting year", None, "c", 2),
                    (9, "d", "count", "", "National", "E92000001", "England", None, None, 2025, "Reporting year",
                     400.5, None, 1)]
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(select(*columns).order_by(v.c.id))] == expected
            assert conn.execute(select(v.c.time_period, ch.c.old_value).join(v, v.c.id == ch.c.value_id)).all() \
                == [(2025, 11.0)]
        # New figures carry on after the moved ids, and a later release of the same dataset matches them.
        (tmp_path / "d_2026.csv").write_text(
            "time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,"
            "old_la_code,new_la_code,la_name,sex,count\n"
            "2025,Reporting year,Local authority,E92000001,England,E12000008,South East,826,E06000042,"
            "Milton Keynes,Boys,c\n"
            "2026,Reporting year,Local authority,E92000001,England,E12000008,South East,826,E06000042,"
            "Milton Keynes,Boys,14\n")
        r = import_ees(engine, [tmp_path / "d_2026.csv"], "analyst")[0]
        assert (r.outcome, r.added, r.changed, r.unchanged, r.kept) == ("updated", 1, 0, 1, 2)
        with engine.connect() as conn:
            assert conn.execute(select(func.max(v.c.id))).scalar() > 9
            n_series = conn.execute(select(func.count()).select_from(BenchmarkSeries.__table__)).scalar()
        assert n_series == 2  # the new file's rows joined the moved series
        migrate(engine, "0004", up=False)
        with engine.connect() as conn:
            back = conn.execute(text("SELECT id, dataset, measure, filters, geographic_level, area_code, area_name, "
                                     "la_number, region_code, time_period, time_identifier, value, note, release_id "
                                     "FROM benchmark_value WHERE id <= 9 ORDER BY id")).all()
            assert [tuple(x) for x in back] == expected
            assert conn.execute(text("SELECT value_id, old_value FROM benchmark_change")).all() == [(8, 11.0)]
        engine.dispose()
