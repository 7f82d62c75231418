"""Importing DfE statistical neighbour lists: long and wide layouts, replacement, bad files, commands."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from etl.benchmarks.csvfile import BenchmarkFileError
from etl.benchmarks.ees import import_ees
from etl.benchmarks.neighbours import (
    NeighbourSetNotFound,
    import_neighbours,
    neighbour_sets,
    neighbours_of,
    normalise_closeness,
    read_neighbours,
    set_name,
)
from etl.cli import main
from etl.store import Neighbour, NeighbourSet

LONG = "statistical_neighbours_may2025_long.csv"
WIDE = "statistical_neighbours_may2025_wide.csv"
OLD = "statistical_neighbours_april2021_long.csv"

MILTON_KEYNES = [
    (1, 822, "Bedford Borough"), (2, 303, "Bexley"), (3, 882, "Southend-on-Sea"), (4, 870, "Reading"),
    (5, 839, "Bournemouth, Christchurch and Poole"), (6, 311, "Havering"), (7, 919, "Hertfordshire"),
    (8, 886, "Kent"), (9, 319, "Sutton"), (10, 383, "Leeds"),
]


def _stored(engine, name: str) -> list[tuple]:
    sets, nb = NeighbourSet.__table__, Neighbour.__table__
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(nb.c.la_number, nb.c.la_name, nb.c.rank, nb.c.neighbour_la_number, nb.c.neighbour_la_name,
                   nb.c.closeness).join(sets, sets.c.id == nb.c.set_id).where(sets.c.name == name)
            .order_by(nb.c.la_number, nb.c.rank))]


@pytest.mark.parametrize("label, expected", [("Very Close", "Very close"), ("very  close ", "Very close"),
                                             ("Extremely Close", "Extremely close"), ("Not Close", "Not close"),
                                             ("", None)])
def test_closeness_labels_are_normalised(label, expected):
    assert normalise_closeness(label) == expected


def test_set_name_defaults_to_the_stem_without_layout():
    assert set_name(f"/x/{LONG}") == set_name(WIDE) == "statistical_neighbours_may2025"
    assert set_name("my_neighbours.csv") == "my_neighbours"


def test_long_and_wide_files_give_the_same_rows(shared_dfe):
    long, layout_l = read_neighbours(shared_dfe / LONG)
    wide, layout_w = read_neighbours(shared_dfe / WIDE)
    assert (layout_l, layout_w) == ("long", "wide")
    assert len(long) == 1580 and long["la_number"].nunique() == 158
    assert long.equals(wide)
    assert set(long["closeness"]) == {"Extremely close", "Very close", "Close", "Somewhat close", "Not close"}


def test_import_both_layouts_and_look_up_milton_keynes(engine, shared_dfe):
    r_long = import_neighbours(engine, shared_dfe / LONG, "analyst")
    r_wide = import_neighbours(engine, shared_dfe / WIDE, "analyst", name="may2025 (wide)")
    assert (r_long.name, r_long.layout, r_long.las, r_long.rows, r_long.outcome) == (
        "statistical_neighbours_may2025", "long", 158, 1580, "imported")
    assert (r_wide.name, r_wide.layout, r_wide.outcome) == ("may2025 (wide)", "wide", "imported")
    assert _stored(engine, "statistical_neighbours_may2025") == _stored(engine, "may2025 (wide)")
    for name in ("statistical_neighbours_may2025", "may2025 (wide)"):
        mk = neighbours_of(engine, 826, name)
        assert list(zip(mk["rank"], mk["neighbour_la_number"], mk["neighbour_la_name"], strict=True)) == MILTON_KEYNES
        assert set(mk["la_name"]) == {"Milton Keynes"}
        assert mk["closeness"].tolist() == ["Very close"] * 6 + ["Close"] * 4
    # The wide file of the same release, imported under the same name, changes nothing.
    again = import_neighbours(engine, shared_dfe / WIDE, "someone")
    assert (again.outcome, again.name) == ("unchanged", "statistical_neighbours_may2025")


def test_reimport_replaces_the_set_and_a_bad_file_leaves_it_alone(engine, shared_dfe, tmp_path):
    import_neighbours(engine, shared_dfe / OLD, "analyst")
    import_neighbours(engine, shared_dfe / LONG, "analyst")
    before = _stored(engine, "statistical_neighbours_may2025")
    rows = list(csv.reader((shared_dfe / LONG).open()))
    # A corrected release: Milton Keynes' first two neighbours swap places, and Leeds drops out.
    for row in rows:
        if row[0] == "826" and row[3] in ("1", "2"):
            row[3] = "2" if row[3] == "1" else "1"
    rows = [r for r in rows if not (r[0] == "826" and r[3] == "10")]
    fixed = tmp_path / LONG
    with fixed.open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    r = import_neighbours(engine, fixed, "analyst")
    assert (r.outcome, r.rows) == ("replaced", 1579)
    mk = neighbours_of(engine, 826, "statistical_neighbours_may2025")
    assert mk["neighbour_la_name"].tolist()[:2] == ["Bexley", "Bedford Borough"] and len(mk) == 9
    with engine.connect() as conn:
        files = {n: f for n, f in conn.execute(select(NeighbourSet.__table__.c.name, NeighbourSet.__table__.c.file_name))}
    assert files == {"statistical_neighbours_may2025": LONG, "statistical_neighbours_april2021": OLD}
    # The older set is untouched.
    assert len(_stored(engine, "statistical_neighbours_april2021")) == 1560

    after = _stored(engine, "statistical_neighbours_may2025")
    bad = tmp_path / "broken" / LONG
    bad.parent.mkdir()
    bad.write_text("la_number,la_name,region_name,rank,neighbour_la_number,neighbour_la_name,closeness\n"
                   "826,Milton Keynes,South East,1,822,Bedford Borough,Very close\n"
                   "826,Milton Keynes,South East,one,303,Bexley,Very close\n"
                   "82x,Milton Keynes,South East,1,303,Bexley,Very close\n"
                   "826,Milton Keynes,South East,1,303,Bexley,Very close\n")
    with pytest.raises(BenchmarkFileError) as info:
        import_neighbours(engine, bad, "analyst")
    assert str(info.value) == (
        f"{LONG}: 3 problems:\n"
        "  line 3, column rank: found 'one'; expected a rank 1, 2, 3 ...\n"
        "  line 4, column la_number: found '82x'; expected DfE's 3-digit LA number such as 826\n"
        "  line 5: repeats LA 826 rank 1 from line 2; expected each rank once per LA")
    assert _stored(engine, "statistical_neighbours_may2025") == after != before


def test_a_wide_file_with_fewer_neighbours_and_a_file_of_another_kind(tmp_path):
    wide = tmp_path / "sn_wide.csv"
    wide.write_text("la_number,la_name,sn1_la_number,sn1_la_name,sn1_closeness,sn2_la_number,sn2_la_name,sn2_closeness\n"
                    "826,Milton Keynes,822,Bedford Borough,Very Close,,,\n")
    frame, layout = read_neighbours(wide)
    assert layout == "wide"
    assert [tuple(r) for r in frame.itertuples(index=False)] == [
        (826, "Milton Keynes", 1, 822, "Bedford Borough", "Very close")]
    other = tmp_path / "ees_2025.csv"
    other.write_text("time_period,geographic_level,count\n2025,National,3\n")
    with pytest.raises(BenchmarkFileError) as info:
        read_neighbours(other)
    assert str(info.value) == (
        "ees_2025.csv: line 1: is not a statistical neighbours file (found columns time_period, geographic_level, "
        "count); expected the long layout (la_number, la_name, region_name, rank, neighbour_la_number, "
        "neighbour_la_name, closeness) or the wide layout (la_number, la_name, sn1_la_number, sn1_la_name, "
        "sn1_closeness, ... sn10_closeness)")


def test_lookups_before_anything_is_stored(engine):
    assert neighbour_sets(engine).empty
    with pytest.raises(NeighbourSetNotFound, match="no statistical neighbour lists are stored yet"):
        neighbours_of(engine, 826)


def _oba(db_url, *args):
    """Run oba; the result's output without its first line naming the store and board (tested in test_paths.py)."""
    from types import SimpleNamespace

    from conftest import after_where

    r = CliRunner().invoke(main, ["--db", db_url, *args], catch_exceptions=False)
    return SimpleNamespace(exit_code=r.exit_code, output=after_where(r.output))


def test_neighbour_commands(engine, db_url, shared_dfe, tmp_path, monkeypatch):
    monkeypatch.setenv("OBA_USER", "analyst")
    res = _oba(db_url, "neighbours", "list")
    assert (res.exit_code, res.output) == (
        0, "No statistical neighbour lists are stored yet: import one with `oba neighbours import FILE`.\n")
    res = _oba(db_url, "neighbours", "import", str(shared_dfe / WIDE))
    assert (res.exit_code, res.output) == (
        0, f"{WIDE}: imported set statistical_neighbours_may2025 (wide layout): 158 LAs, 1,580 neighbours.\n")
    res = _oba(db_url, "neighbours", "import", str(shared_dfe / LONG))
    assert (res.exit_code, res.output) == (
        0, f"{LONG}: unchanged: set statistical_neighbours_may2025 already holds these 1,580 neighbours of 158 LAs; "
           "nothing written.\n")
    res = _oba(db_url, "neighbours", "list")
    assert res.exit_code == 0
    assert res.output.startswith("statistical_neighbours_may2025: 158 LAs, 1,580 neighbours; imported ")
    assert res.output.endswith(f" UTC by analyst from {WIDE}\n")
    # ONS codes are known from the areas of imported benchmark files.
    import_ees(engine, [shared_dfe / "ons_population_0_17_2012_2024.csv"], "analyst")
    for la in ("826", "E06000042", "milton keynes"):
        res = _oba(db_url, "neighbours", "list", "--la", la)
        assert res.exit_code == 0
        lines = res.output.splitlines()
        assert lines[0] == "Statistical neighbours of Milton Keynes (826) in statistical_neighbours_may2025:"
        assert lines[1] == "  1  822  Bedford Borough                          Very close"
        assert lines[10] == " 10  383  Leeds                                    Close"
    res = _oba(db_url, "neighbours", "list", "--la", "999")
    assert (res.exit_code, res.output) == (1, (
        "Error: LA '999' is not in the statistical neighbour set statistical_neighbours_may2025; give its DfE "
        "number (e.g. 826), ONS code (E06000042) or exact name\n"))
    res = _oba(db_url, "neighbours", "list", "--la", "826", "--set", "nope")
    assert (res.exit_code, res.output) == (1, (
        "Error: no statistical neighbour set is called 'nope'; stored sets: statistical_neighbours_may2025\n"))
    bad = tmp_path / "sn.csv"
    bad.write_bytes(b"\xff\xfe l\x00a\x00")
    res = _oba(db_url, "neighbours", "import", str(bad))
    assert res.exit_code == 1
    assert res.output == ("Error: sn.csv: line 1: contains binary data (a NUL byte), not CSV text; expected a DfE "
                          "statistical neighbours CSV file\nNothing was imported; the store is unchanged.\n")
    res = _oba(db_url, "neighbours", "import")
    assert res.exit_code == 2


def test_neighbour_rows_match_the_files_exactly(shared_dfe):
    """Every row of the long file, as published apart from closeness case."""
    frame, _ = read_neighbours(shared_dfe / LONG)
    published = list(csv.DictReader((shared_dfe / LONG).open()))
    got = {(r.la_number, r.rank): (r.neighbour_la_number, r.neighbour_la_name, r.closeness)
           for r in frame.itertuples(index=False)}
    want = {(int(p["la_number"]), int(p["rank"])): (int(p["neighbour_la_number"]), p["neighbour_la_name"],
                                                   p["closeness"].capitalize()) for p in published}
    assert got == want

