"""EES files that change shape: measure or filter decided once, stray text cells, time conventions, column order.

A catalogue of damaged and unusual benchmark files built here; each case asserts the message, the exit code
and, when the file is refused, that the store is unchanged.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import after_where
from sqlalchemy import func, select

from etl.benchmarks.csvfile import BenchmarkFileError
from etl.benchmarks.ees import column_kind, import_ees, read_ees
from etl.benchmarks.export import benchmark_rows
from etl.cli import main
from etl.store import (
    Area,
    AuditEvent,
    BenchmarkChange,
    BenchmarkMeasure,
    BenchmarkPlace,
    BenchmarkRelease,
    BenchmarkSeries,
    BenchmarkValue,
)

HEAD = ("time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,"
        "old_la_code,new_la_code,la_name")
# Fictional-free: real LA numbers and codes of English authorities, made-up figures.
LAS = [(826, "E06000042", "Milton Keynes"), (825, "E06000060", "Buckinghamshire"),
       (869, "E06000037", "West Berkshire"), (872, "E06000041", "Wokingham"), (867, "E06000036", "Bracknell Forest"),
       (868, "E06000040", "Windsor and Maidenhead"), (870, "E06000038", "Reading"), (871, "E06000039", "Slough"),
       (931, "E10000025", "Oxfordshire"), (886, "E10000016", "Kent")]


def _row(year: int, la: tuple[int, str, str] | None, *cells: object, ident: str = "Reporting year") -> str:
    if la is None:
        geo = "National,E92000001,England,,,,,"
    else:
        geo = f"Local authority,E92000001,England,E12000008,South East,{la[0]},{la[1]},{la[2]}"
    return ",".join([str(year), ident, geo, *map(str, cells)])


def referrals(path: Path, years=range(2015, 2025), bump: int = 0, cell=None, extra_filter: str | None = None) -> Path:
    """A C1-like file: England and ten LAs over ten years, filter ``category``, measures count and percent.

    ``cell`` = (year, LA index, text) puts a text cell in ``referral_count``.
    """
    head = HEAD + (f",{extra_filter}" if extra_filter else "") + ",category,referral_count,rereferral_percent"
    rows = []
    for y in years:
        for i, la in enumerate([None, *LAS]):
            count = 1000 + 10 * i + (y - 2015) + bump
            if cell and cell[0] == y and cell[1] == i:
                count = cell[2]
            extra = ["All"] if extra_filter else []
            rows.append(_row(y, la, *extra, "Referrals", count, f"{20 + i / 10:.1f}"))
    path.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    return path


def snapshot(engine) -> dict:
    out = {}
    with engine.connect() as conn:
        for table in (BenchmarkRelease, BenchmarkMeasure, BenchmarkSeries, BenchmarkPlace, BenchmarkValue,
                      BenchmarkChange, Area, AuditEvent):
            t = table.__table__
            out[t.name] = sorted(tuple(map(str, r)) for r in conn.execute(select(t)))
    return out


def _oba(db_url, *args):
    return CliRunner().invoke(main, ["--db", db_url, *args], catch_exceptions=False)


# --- the rule without metadata -------------------------------------------------------------------------------

@pytest.mark.parametrize("cells, kind", [
    (["1", "2", "3"], "measure"),
    (["1", "c", "x", "", "low", "[z]", "1,234", "-2.5e3"], "measure"),
    ([], "measure"),
    (["12"] * 99 + ["see note"], "measure"),          # one stray text cell in 100
    (["12"] * 9 + ["n/a?"], "measure"),                # one in ten: still allowed (at least one cell)
    (["12"] * 4 + ["see note"], "filter"),             # one in five is more than a stray
    (["12"] * 198 + ["see note", "see note", "revised"], "filter"),  # three in 200: more than 1%
    (["1", "2", "3", "Total"], "filter"),              # an age filter: numbers and Total
    (["Referrals"] * 3, "filter"),
    (["Girls", "Boys", "Total"], "filter"),
])
def test_column_kind_rule(cells, kind):
    assert column_kind(pd.Series(cells, dtype=object)) == kind


def test_a_stray_text_cell_stays_a_measure_with_a_warning(engine, db_url, tmp_path):
    path = referrals(tmp_path / "refs_2015_2024.csv", cell=(2019, 3, "see note"))
    frame, filters, measures = read_ees(path)
    assert (filters, measures) == (["category"], ["referral_count", "rereferral_percent"])
    res = _oba(db_url, "benchmarks", "import", str(path))
    assert res.exit_code == 0, after_where(res.output)
    assert after_where(res.output) == (
        "refs_2015_2024.csv: imported refs: 110 rows, 2 measures, 2015–2024, 220 values.\n"
        "Warning: refs_2015_2024.csv: line 49, column referral_count: found 'see note', which is neither a number "
        "nor a GSS symbol; stored as a note with no value (check the figure with the publisher)\n")
    v = benchmark_rows()
    with engine.connect() as conn:
        assert conn.execute(select(v.c.value, v.c.note).where(
            v.c.measure == "referral_count", v.c.la_number == 869, v.c.time_period == 2019)).one() == (None,
                                                                                                       "see note")
        assert conn.execute(select(func.count()).where(v.c.filters != "category=Referrals")).scalar() == 0


def test_a_new_release_that_turns_a_measure_into_a_filter_is_refused(engine, db_url, tmp_path):
    assert _oba(db_url, "benchmarks", "import", str(referrals(tmp_path / "refs_2015_2024.csv"))).exit_code == 0
    before = snapshot(engine)
    # The next release: "n/a" in a column of numbers for a whole year of LAs (11 of 121 cells).
    new = tmp_path / "refs_2015_2025.csv"
    referrals(new, years=range(2015, 2026), bump=1)
    text = new.read_text().splitlines()
    text = [line.replace(",Referrals,1", ",Referrals,n/a-1", 1) if line.startswith("2025,") else line
            for line in text]
    new.write_text("\n".join(text) + "\n")
    res = _oba(db_url, "benchmarks", "import", str(new))
    assert res.exit_code == 1
    assert after_where(res.output) == (
        "Error: refs_2015_2025.csv: the columns of dataset refs differ from the release stored: column "
        "referral_count was a measure and would now be a filter (11 of its 121 cells are text, first at line 112: "
        "'n/a-1011'). If the publisher really changed the table, import it again with --accept-column-changes "
        "(figures stored under the old columns are kept); if not, correct the file (a stray text cell in a column "
        "of numbers, or a missing .meta.csv)\nNothing was imported; the store is unchanged.\n")
    assert snapshot(engine) == before
    # A dry run says the same.
    assert _oba(db_url, "benchmarks", "import", "--dry-run", str(new)).exit_code == 1
    # Confirmed: imported with the new columns, the old figures kept.
    res = _oba(db_url, "benchmarks", "import", "--accept-column-changes", str(new))
    assert res.exit_code == 0, after_where(res.output)
    assert after_where(res.output).startswith("refs_2015_2025.csv: updated refs: 0 values changed, 121 added, 0 unchanged")
    assert "kept 220 stored values of refs that this file does not have." in after_where(res.output)


def test_a_new_release_with_a_different_set_of_filters_is_refused(engine, tmp_path):
    import_ees(engine, [referrals(tmp_path / "refs_2015_2024.csv")], "analyst")
    before = snapshot(engine)
    new = referrals(tmp_path / "refs_2015_2025.csv", years=range(2015, 2026), extra_filter="sex")
    with pytest.raises(BenchmarkFileError) as info:
        import_ees(engine, [new], "analyst")
    assert str(info.value) == (
        "refs_2015_2025.csv: the columns of dataset refs differ from the release stored: the filters would change: "
        "new filter column(s) sex (stored: category). If the publisher really changed the table, import it again "
        "with --accept-column-changes (figures stored under the old columns are kept); if not, correct the file "
        "(a stray text cell in a column of numbers, or a missing .meta.csv)")
    assert snapshot(engine) == before
    # Fewer filters, or a filter that became a measure, are refused the same way.
    fewer = tmp_path / "refs_2026.csv"
    fewer.write_text(HEAD + ",referral_count,rereferral_percent\n" + _row(2026, None, 1, 2) + "\n")
    with pytest.raises(BenchmarkFileError, match="no longer filter column[(]s[)] category [(]stored: category[)]"):
        import_ees(engine, [fewer], "analyst")
    as_measure = tmp_path / "refs_2027.csv"
    as_measure.write_text(HEAD + ",category,referral_count,rereferral_percent\n" + _row(2027, None, 7, 1, 2) + "\n")
    with pytest.raises(BenchmarkFileError, match="column category was a filter and would now be a measure"):
        import_ees(engine, [as_measure], "analyst")
    assert snapshot(engine) == before
    [r] = import_ees(engine, [new], "analyst", accept_column_changes=True)
    assert (r.outcome, r.filters, r.added, r.kept) == ("updated", ("sex", "category"), 242, 220)
    # The new set of filters is now the stored one: the same release again is unchanged, not refused.
    assert import_ees(engine, [new], "analyst")[0].outcome == "unchanged"


def test_the_metadata_file_decides_over_the_rule(engine, tmp_path):
    path = tmp_path / "ages_2024.csv"
    rows = [_row(2024, la, age, 10 + age) for la in [None, *LAS[:2]] for age in range(5)]
    path.write_text(HEAD + ",age,children\n" + "\n".join(rows) + "\n")
    with pytest.raises(BenchmarkFileError) as info:  # numbers only: the rule says measure, so rows repeat
        read_ees(path)
    assert str(info.value).splitlines()[:3] == [
        "ages_2024.csv: 12 problems:",
        "  line 3: repeats line 2: the same area E92000001, time period 2024 (Reporting year); expected one row "
        "for each (if one of the columns age, children is a filter, such as an age of 5, 6, 7, put the file's EES "
        ".meta.csv beside it: without one, a column of numbers is read as a measure)",
        "  line 4: repeats line 2: the same area E92000001, time period 2024 (Reporting year); expected one row "
        "for each"]
    (tmp_path / "ages_2024.meta.csv").write_text("col_name,col_type\nage,Filter\nchildren,Indicator\n")
    assert read_ees(path)[1:] == (["age"], ["children"])
    [r] = import_ees(engine, [path], "analyst")
    assert (r.filters, r.measures, r.added) == (("age",), ("children",), 15)


# --- time conventions and column order --------------------------------------------------------------------

TIMES = [("202425", "Financial year"), ("202425", "Academic year"), ("202324", "Tax year"),
         ("202425", "Academic year Q1"), ("202425", "Financial year Q1-Q2"), ("202425", "Autumn term"),
         ("202425", "Autumn and spring term"), ("2024", "Calendar year"), ("2024", "Calendar year Q3"),
         ("2025", "Reporting year"), ("2024", "January"), ("2024", "Week 12"), ("2024", "Year to date")]


def test_every_ees_time_convention_is_stored_as_published(engine, tmp_path):
    path = tmp_path / "times.csv"
    rows = [_row(int(tp), la, n, ident=ident) for n, (tp, ident) in enumerate(TIMES) for la in (None, LAS[0])]
    path.write_text(HEAD + ",pupils\n" + "\n".join(rows) + "\n")
    [r] = import_ees(engine, [path], "analyst")
    assert (r.added, r.first_period, r.last_period) == (26, 2024, 202425)
    v = benchmark_rows()
    with engine.connect() as conn:
        got = conn.execute(select(v.c.time_period, v.c.time_identifier, v.c.value).where(v.c.la_number == 826)
                           .order_by(v.c.value)).all()
    assert [(str(tp), ident) for tp, ident, _ in got] == TIMES
    assert [value for *_, value in got] == list(range(len(TIMES)))


@pytest.mark.parametrize("tp, ident, message", [
    ("2024", "Financial year", "found '2024' with time_identifier 'Financial year'; expected a six-digit year such "
                               "as 202425 (2024/25)"),
    ("2024", "Academic year Q2", "found '2024' with time_identifier 'Academic year Q2'; expected a six-digit year "
                                 "such as 202425 (2024/25)"),
    ("202425", "Calendar year", "found '202425' with time_identifier 'Calendar year'; expected a four-digit year "
                                "such as 2024"),
    ("202425", "March", "found '202425' with time_identifier 'March'; expected a four-digit year such as 2024"),
    ("202426", "Financial year", "found '202426'; expected a year such as 2025, or 202425 for an academic or "
                                 "financial year"),
])
def test_a_time_period_that_does_not_fit_its_identifier_is_refused(engine, tmp_path, tp, ident, message):
    path = tmp_path / "times.csv"
    path.write_text(HEAD + ",pupils\n" + _row(2024, None, 5).replace("2024,Reporting year", f"{tp},{ident}") + "\n")
    before = snapshot(engine)
    with pytest.raises(BenchmarkFileError) as info:
        import_ees(engine, [path], "analyst")
    assert str(info.value) == f"times.csv: line 2, column time_period: {message}"
    assert snapshot(engine) == before


def test_any_column_order_reads_the_same(engine, tmp_path):
    canonical = referrals(tmp_path / "refs_2024.csv", years=[2024])
    frame = pd.read_csv(canonical, dtype=str, keep_default_na=False)
    columns = list(frame.columns)
    random.Random(8).shuffle(columns)
    assert columns[:3] != list(frame.columns[:3])
    shuffled = tmp_path / "shuffled" / "refs_2024.csv"
    shuffled.parent.mkdir()
    frame[columns].to_csv(shuffled, index=False)
    a, fa, ma = read_ees(canonical)
    b, fb, mb = read_ees(shuffled)
    assert (fa, sorted(ma)) == (fb, sorted(mb))
    [r] = import_ees(engine, [canonical], "analyst")
    assert import_ees(engine, [shuffled], "analyst")[0].outcome == "unchanged"
    assert r.added == 22


# --- re-importing writes nothing at all --------------------------------------------------------------------

def test_reimporting_an_unchanged_file_writes_nothing_not_even_area_names(engine, tmp_path):
    a = tmp_path / "a_2024.csv"
    a.write_text(HEAD + ",pupils\n" + _row(2024, (801, "E06000023", '"Bristol, City of"'), 5) + "\n")
    b = tmp_path / "b_2024.csv"
    b.write_text(HEAD + ",pupils\n" + _row(2024, (801, "E06000023", "Bristol"), 5) + "\n")
    import_ees(engine, [a, b], "analyst")
    before = snapshot(engine)
    assert dict(before["area"] and [(r[0], r[1]) for r in before["area"]])["E06000023"] == "Bristol"
    writes = []
    from sqlalchemy import event

    def count(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SELECT", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT",
                                                      "RELEASE", "SET", "SHOW")):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert [r.outcome for r in import_ees(engine, [a, b, a], "analyst")] == ["unchanged"] * 3
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert [w for w in writes if "pg_advisory_xact_lock" not in w] == []
    assert snapshot(engine) == before


# --- exports safe to open --------------------------------------------------------------------------------

def test_benchmarks_export_escapes_formula_text_and_keeps_negative_numbers(engine, db_url, tmp_path):
    path = tmp_path / "refs_2024.csv"
    evil = (869, "E06000037", '"=HYPERLINK(""http://example.invalid"",""x"")"')
    path.write_text(HEAD + ",category,change,@risk\n"
                    + _row(2024, None, "All", "-2.5", 1) + "\n"
                    + _row(2024, LAS[0], "All", "-3", "-0.5") + "\n"
                    + _row(2024, evil, "All", "+4", "c") + "\n")
    import_ees(engine, [path], "analyst")
    out = tmp_path / "export.csv"
    res = _oba(db_url, "benchmarks", "export", "-o", str(out))
    assert (res.exit_code, after_where(res.output)) == (0, f"Wrote 6 values to {out}.\n")
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    cells = [c for col in frame.columns for c in frame[col]]
    assert [c for c in cells if c[:1] in ("=", "@", "\t", "\r") or (c[:1] != "" and c[:1] in "+-" and not _signed(c))] == []
    assert set(frame["measure"]) == {"change", "'@risk"}
    assert "'=HYPERLINK(\"http://example.invalid\",\"x\")" in set(frame["area_name"])
    values = frame.set_index(["measure", "area_code"])["value"].to_dict()
    assert values == {("change", "E92000001"): "-2.5", ("change", "E06000042"): "-3", ("change", "E06000037"): "4",
                      ("'@risk", "E92000001"): "1", ("'@risk", "E06000042"): "-0.5", ("'@risk", "E06000037"): ""}


def _signed(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
