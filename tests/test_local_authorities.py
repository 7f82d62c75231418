"""The reference list of local authorities and the cells that are safe in a spreadsheet."""

import csv
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from etl import la_reference
from etl.safe_cells import escape_cell, escape_frame, write_csv, write_rows
from indicators import local_authorities as las

LOOKUP = Path(__file__).resolve().parents[2] / "shared" / "data" / "dfe" / "la_lookup.csv"
needs_lookup = pytest.mark.skipif(not LOOKUP.exists(), reason="../shared/data/dfe is not here")


@needs_lookup
def test_the_shipped_list_is_what_the_build_makes_from_dfe_lookup():
    shipped = (Path(las.__file__).parent / "data" / "local_authorities.csv").read_text(encoding="utf-8")
    assert la_reference.build(LOOKUP) == shipped


def test_the_list_holds_every_authority_once_with_its_codes():
    everyone = las.all_authorities()
    assert len(everyone) == 158
    assert len(las.all_authorities(current_only=True)) == 153
    assert las.latest_year() == 2025
    mk = las.by_number(826)
    assert (mk.name, mk.ons_code, mk.region, mk.la_type) == ("Milton Keynes", "E06000042",
                                                             ("E12000008", "South East"), "UA")
    ny = las.by_number(815)
    assert [(c.ons_code, c.first_year, c.last_year) for c in ny.codes] == [
        ("E10000023", 2013, 2023), ("E06000065", 2024, 2025)]
    assert ny.code_in(2023) == "E10000023" and ny.code_in(2024) == "E06000065" and ny.code_in(2012) is None
    assert las.by_code("e10000023") is ny
    assert las.by_number(837).current is False  # Bournemouth, merged into BCP in 2020
    assert las.by_number(202).region == las.LONDON
    assert 999 not in las.numbers() and 837 in las.numbers() and 837 not in las.numbers(2021)


@pytest.mark.parametrize("text, number", [
    ("Milton Keynes", 826), ("milton keynes", 826), ("826", 826), ("E06000042", 826), (" e06000042 ", 826),
    ("E10000027", 933), ("Dorset", 838), ("Kingston upon Hull", 810), ("Kingston upon Hull, City of", 810),
    ("Bournemouth, Christchurch & Poole", 839), ("Westmorland and Furness", 943)])
def test_find_takes_a_name_number_or_code(text, number):
    assert las.find(text).number == number


@pytest.mark.parametrize("text, suggestion", [("Milton Keynse", "Milton Keynes (826, E06000042)"),
                                              ("Glocestershire", "Gloucestershire (916, E10000013)")])
def test_find_suggests_the_closest_names(text, suggestion):
    with pytest.raises(las.UnknownAuthority) as caught:
        las.find(text)
    assert f"did you mean {suggestion}" in str(caught.value)


@pytest.mark.parametrize("text", ["999", "E06999999", "Atlantis"])
def test_find_names_what_to_give_when_nothing_matches(text):
    with pytest.raises(las.UnknownAuthority, match="Give the name, the DfE 3-digit LA number or the ONS code"):
        las.find(text)


def _lookup(tmp_path, rows):
    path = tmp_path / "la_lookup.csv"
    header = "old_la_code,new_la_code,la_name,region_code,region_name,first_year,last_year,lait_la_name,la_type\n"
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_build_names_every_bad_row(tmp_path):
    path = _lookup(tmp_path, ["826,E06000042,Milton Keynes,E12000008,South East,2013,2025,MK,UA",
                              "82,E06000042,Short,E12000008,South East,2013,2025,x,UA",
                              "827,W06000001,Wales,E12000008,South East,2013,2025,x,UA",
                              "828,E06000043,Later,E12000008,South East,2025,2013,x,UA",
                              "826,E06000042,Milton Keynes,E12000008,South East,2013,2025,MK,UA"])
    with pytest.raises(la_reference.LookupFileError) as caught:
        la_reference.build(path)
    assert str(caught.value).splitlines() == [
        f"{path}, line 3: LA number '82' is not three digits",
        f"{path}, line 4: 'W06000001' is not an ONS code of an English local authority",
        f"{path}, line 5: first_year 2025 is after last_year 2013",
        f"{path}, line 6: LA 826 with code E06000042 appears twice"]


def test_build_command_refuses_another_file_and_writes_nothing(tmp_path):
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(la_reference.main, [str(bad), "-o", str(out)])
    assert result.exit_code == 1
    assert "not DfE's LA lookup: the columns old_la_code" in result.output
    assert not out.exists()
    good = _lookup(tmp_path, ["826,E06000042,Milton Keynes,E12000008,South East,2013,2025,MK,UA"])
    result = CliRunner().invoke(la_reference.main, [str(good), "-o", str(out)])
    assert result.exit_code == 0 and "Wrote 1 rows" in result.output
    assert out.read_text().splitlines()[1] == "826,Milton Keynes,E06000042,E12000008,South East,UA,2013,2025"


@pytest.mark.parametrize("value, expected", [
    ("=SUM(A1:A2)", "'=SUM(A1:A2)"), ("+44 1234", "'+44 1234"), ("-x", "'-x"), ("@cmd", "'@cmd"),
    ("\tTab", "'\tTab"), ("\rCR", "'\rCR"), ("-12.5", "-12.5"), ("+3", "+3"), ("-1e3", "-1e3"),
    ("Milton Keynes", "Milton Keynes"), ("", ""), (-12.5, -12.5), (-3, -3), (None, None)])
def test_escape_cell_neutralises_formulas_but_keeps_numbers(value, expected):
    assert escape_cell(value) == expected


def test_csv_and_excel_files_open_as_typed(tmp_path):
    frame = pd.DataFrame({"area": ["=HYPERLINK(\"http://x\")", "Camden"], "value": [-4.5, 12.0]})
    assert escape_frame(frame)["area"].tolist() == ["'=HYPERLINK(\"http://x\")", "Camden"]
    path = tmp_path / "out.csv"
    write_csv(frame, path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows == [["area", "value"], ["'=HYPERLINK(\"http://x\")", "-4.5"], ["Camden", "12.0"]]
    assert write_rows(tmp_path / "rows.csv", ["a"], [["@x"], [-1]]) == 2
    assert (tmp_path / "rows.csv").read_text(encoding="utf-8-sig").splitlines() == ["a", "'@x", "-1"]
    book = openpyxl.Workbook()
    book.active.append([escape_cell("=1+1"), escape_cell(-2)])
    book.save(tmp_path / "x.xlsx")
    cells = openpyxl.load_workbook(tmp_path / "x.xlsx").active[1]
    assert (cells[0].value, cells[0].data_type, cells[1].value) == ("'=1+1", "s", -2)


def test_a_failed_write_leaves_no_file(tmp_path):
    def rows():
        yield ["ok"]
        raise RuntimeError("disk gone")
    with pytest.raises(RuntimeError):
        write_rows(tmp_path / "half.csv", ["a"], rows())
    assert list(tmp_path.iterdir()) == []
