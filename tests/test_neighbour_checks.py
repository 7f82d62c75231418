"""Statistical neighbour lists checked against the reference list of English LAs: a catalogue of damaged lists.

Each case asserts the message naming the row, exit code 1 and that the stored set is unchanged.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import after_where
from sqlalchemy import select

from etl.benchmarks.csvfile import BenchmarkFileError
from etl.benchmarks.neighbours import import_neighbours, read_neighbours
from etl.cli import main
from etl.store import Neighbour, NeighbourSet

HEAD = "la_number,la_name,region_name,rank,neighbour_la_number,neighbour_la_name,closeness"
# Eleven Inner London boroughs, each with the other ten as neighbours (real numbers, made-up ranking).
LAS = [(202, "Camden"), (203, "Greenwich"), (204, "Hackney"), (205, "Hammersmith and Fulham"), (206, "Islington"),
       (207, "Kensington and Chelsea"), (208, "Lambeth"), (209, "Lewisham"), (210, "Southwark"),
       (211, "Tower Hamlets"), (212, "Wandsworth")]


def good_rows() -> list[list[str]]:
    rows = []
    for number, name in LAS:
        others = [o for o in LAS if o[0] != number]
        for rank, (nb, nb_name) in enumerate(others, start=1):
            rows.append([str(number), name, "Inner London", str(rank), str(nb), nb_name, "Close"])
    return rows


def write(path, rows) -> None:
    path.write_text("\n".join([HEAD, *(",".join(r) for r in rows)]) + "\n")


def stored(engine) -> list[tuple]:
    sets, nb = NeighbourSet.__table__, Neighbour.__table__
    with engine.connect() as conn:
        return sorted(tuple(map(str, r)) for r in conn.execute(
            select(sets.c.name, sets.c.file_name, nb.c.la_number, nb.c.rank, nb.c.neighbour_la_number)
            .join(nb, nb.c.set_id == sets.c.id)))


def test_a_good_list_imports(tmp_path, engine):
    path = tmp_path / "inner_london.csv"
    write(path, good_rows())
    r = import_neighbours(engine, path, "analyst")
    assert (r.outcome, r.las, r.rows) == ("imported", 11, 110)


def _row(rows, la: int, rank: int) -> list[str]:
    return next(r for r in rows if r[0] == str(la) and r[3] == str(rank))


def _line(rows, la: int, rank: int) -> int:
    return 2 + rows.index(_row(rows, la, rank))


def _set(rows, la, rank, column, value):
    _row(rows, la, rank)[column] = value
    return rows


def _unknown(n: int) -> str:
    return (f"found {n}, which is not the DfE number of an English local authority; expected a number from DfE's "
            "LA list (such as 826 for Milton Keynes)")


def _case_unknown_la(rows):
    line = _line(rows, 204, 3)
    _set(rows, 204, 3, 0, "9999")
    return rows, f"line {line}, column la_number: {_unknown(9999)}"


def _case_zero(rows):
    line = _line(rows, 205, 1)
    _set(rows, 205, 1, 4, "0")
    return rows, f"line {line}, column neighbour_la_number: {_unknown(0)}"


def _case_twelve(rows):
    line = _line(rows, 206, 2)
    _set(rows, 206, 2, 4, "12")
    return rows, f"line {line}, column neighbour_la_number: {_unknown(12)}"


def _case_one(rows):
    line = _line(rows, 206, 2)
    _set(rows, 206, 2, 4, "1")
    return rows, f"line {line}, column neighbour_la_number: {_unknown(1)}"


def _case_self(rows):
    line = _line(rows, 208, 4)
    _set(rows, 208, 4, 4, "208")
    return rows, (f"line {line}, column neighbour_la_number: gives Lambeth (208) as its own neighbour at rank 4; "
                  "expected other authorities only")


def _case_twice(rows):
    line = _line(rows, 209, 7)
    first = _line(rows, 209, 1)
    _set(rows, 209, 7, 4, _row(rows, 209, 1)[4])
    _set(rows, 209, 7, 5, _row(rows, 209, 1)[5])
    return rows, (f"line {line}, column neighbour_la_number: gives Camden (202) as a neighbour of LA 209 at rank 7 "
                  f"and at rank 1 (line {first}); expected each neighbour once per LA")


def _case_three_of_ten(rows):
    line = _line(rows, 210, 1)
    rows = [r for r in rows if not (r[0] == "210" and int(r[3]) > 3)]
    return rows, f"line {line}: Southwark (210) has 3 neighbours; expected 10, as most LAs in the file have"


def _case_gap(rows):
    line = _line(rows, 211, 1)
    _set(rows, 211, 5, 3, "11")
    return rows, (f"line {line}, column rank: Tower Hamlets (211) has ranks 1, 2, 3, 4, 6, 7, 8, 9, 10, 11: rank 5 "
                  "missing; expected ranks 1 to 10 with none missing")


CASES = {"unknown_la": _case_unknown_la, "zero": _case_zero, "twelve": _case_twelve, "one": _case_one,
         "self": _case_self, "same_neighbour_twice": _case_twice, "three_of_ten": _case_three_of_ten,
         "rank_gap": _case_gap}


@pytest.mark.parametrize("case", list(CASES))
def test_a_damaged_list_is_refused_naming_the_row_and_the_stored_set_is_kept(case, tmp_path, engine, db_url):
    good = tmp_path / "inner_london.csv"
    write(good, good_rows())
    import_neighbours(engine, good, "analyst")
    before = stored(engine)
    rows, message = CASES[case](good_rows())
    bad = tmp_path / "damaged" / "inner_london.csv"
    bad.parent.mkdir()
    write(bad, rows)
    with pytest.raises(BenchmarkFileError) as info:
        read_neighbours(bad)
    assert str(info.value) == f"inner_london.csv: {message}"
    res = CliRunner().invoke(main, ["--db", db_url, "neighbours", "import", str(bad)], catch_exceptions=False)
    assert (res.exit_code, after_where(res.output)) == (
        1, f"Error: inner_london.csv: {message}\nNothing was imported; the store is unchanged.\n")
    assert stored(engine) == before


def test_every_problem_is_listed_at_once(tmp_path):
    rows, m1 = _case_unknown_la(good_rows())
    rows, m2 = _case_self(rows)
    path = tmp_path / "two.csv"
    write(path, rows)
    with pytest.raises(BenchmarkFileError) as info:
        read_neighbours(path)
    assert str(info.value) == f"two.csv: 2 problems:\n  {m1}\n  {m2}"


def test_the_real_dfe_lists_pass(shared_dfe):
    for name, rows in (("statistical_neighbours_may2025_long.csv", 1580),
                       ("statistical_neighbours_may2025_wide.csv", 1580),
                       ("statistical_neighbours_april2021_long.csv", 1560)):
        frame, _ = read_neighbours(shared_dfe / name)
        assert len(frame) == rows
        assert set(frame.groupby("la_number").size()) == {10}
