"""The board's outputs as files, opened and read back: the dataset (CSV, Excel), the scorecard, charts, and
the `oba export` commands' errors."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import copy_demo

from etl.cli import main

ROOT = Path(__file__).resolve().parent.parent
BOARD = ROOT / "data" / "demo" / "board.yaml"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory, demo_sqlite) -> str:
    return copy_demo(demo_sqlite, tmp_path_factory.mktemp("exports-demo"))


@pytest.fixture(scope="module")
def view(demo_url):
    from dashboard.exports.common import open_view

    return open_view(demo_url, BOARD)


def oba(demo_url, *args):
    return CliRunner().invoke(main, ["--db", demo_url, "--board", str(BOARD), "export", *args])


# --- the dataset -----------------------------------------------------------------------------------------

def test_data_csv_has_the_documented_columns_and_the_quarters_rows(demo_url, view, tmp_path):
    from indicators import columns

    out = tmp_path / "neglect.csv"
    res = oba(demo_url, "data", "--period", "latest", "--priority", "neglect", "-o", str(out))
    assert res.exit_code == 0, res.output
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    neglect = {i.id for i in view.priority_indicators("neglect")}
    assert res.output == f"Wrote {out}: {len(rows)} rows.\n"
    assert list(rows[0]) == [c for c in columns.names(columns.FRAME)]
    assert {r["indicator_id"] for r in rows} == neglect
    assert {r["period"] for r in rows} == {str(view.current)}
    one = next(r for r in rows if r["indicator_id"] == "rereferral_rate") if "rereferral_rate" in neglect else rows[0]
    expected = view.row(one["indicator_id"])
    assert float(one["value"]) == pytest.approx(expected["value"])
    assert one["is_forecast"] == "false"


def test_data_xlsx_has_definitions_columns_and_notes(demo_url, view, tmp_path):
    out = tmp_path / "all.xlsx"
    res = oba(demo_url, "data", "--format", "xlsx", "-o", str(out))
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["data", "definitions", "columns", "notes"]
    data = list(wb["data"].iter_rows(values_only=True))
    assert len(data) - 1 == len(view.dataset.frame)
    assert data[0][0] == "indicator_id"
    defs = {r[0]: r for r in list(wb["definitions"].iter_rows(values_only=True))[1:]}
    head = next(wb["definitions"].iter_rows(values_only=True))
    assert set(defs) == set(view.indicators)
    rr = dict(zip(head, defs["rereferral_rate"], strict=True))
    ind = view.library.indicators["rereferral_rate"]
    assert rr["definition"] == ind.definition and rr["polarity"] == ind.polarity.value
    assert rr["period_type"] == ind.period_type.value
    assert rr["suppression"] == "counts from 1 to 4 are withheld in publication mode"
    assert "quarterly return" in rr["source"]
    notes = dict(list(wb["notes"].iter_rows(values_only=True))[1:])
    assert notes["Mode"].startswith("Internal: every figure is shown")
    assert notes["Rows"] == str(len(view.dataset.frame))


def test_data_publication_withholds_and_says_why(demo_url, view, tmp_path):
    out = tmp_path / "pub.xlsx"
    res = oba(demo_url, "data", "--format", "xlsx", "--publication", "-o", str(out))
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out, read_only=True)
    assert "withheld" in wb.sheetnames
    rows = list(wb["data"].iter_rows(values_only=True))
    head = rows[0]
    recs = [dict(zip(head, r, strict=True)) for r in rows[1:]]
    small = [r for r in recs if r["display_suppressed"] is True or r["display_suppressed"] == "True"]
    internal = view.dataset.frame
    n_small = int((internal["display_suppressed"] == True).sum())  # noqa: E712 (NaN on forecast rows)
    assert n_small > 0, "the demo has small counts"
    assert len(small) == n_small
    for r in small:
        assert r["numerator"] == "c" and r["value"] == "c" and r["lower"] == "c"
        assert r["publication_note"].startswith("withheld (c): ")
    withheld = list(wb["withheld"].iter_rows(values_only=True))
    assert withheld[0] == ("indicator_id", "area_code", "period", "column", "reason")
    assert any(w[4] == "primary: a count from 1 to 4" for w in withheld[1:])
    assert any(w[4].startswith("secondary: ") for w in withheld[1:])
    assert res.output.endswith(f"{len(withheld) - 1} figure(s) withheld (publication mode).\n")
    notes = dict(list(wb["notes"].iter_rows(values_only=True))[1:])
    assert notes["Symbol c"].startswith("confidential")
    assert "small count(s) withheld" in notes["Withheld 1"]
    # nothing small is left anywhere in the numerators
    for r in recs:
        for col in ("numerator", "quarter_numerator"):
            v = r[col]
            if isinstance(v, (int, float)) and r["indicator_id"] in view.indicators:
                ind = view.library.indicators[r["indicator_id"]]
                if view.library.measures[ind.numerator].whole_number:
                    assert not (0 < v < ind.suppress_below), (r["indicator_id"], r["period"], col, v)


def test_data_text_cells_are_escaped(view, tmp_path, monkeypatch):
    from dashboard.exports import data as data_mod

    export = data_mod.dataset_rows(view, view.current, None)
    export.frame.loc[0, "forecast_method"] = "=HYPERLINK(\"http://x\")"
    out = tmp_path / "esc.csv"
    data_mod.write_data(export, view, out, "csv")
    text = out.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text


# --- the scorecard ---------------------------------------------------------------------------------------

def test_scorecard_sheets_rag_words_and_print_setup(demo_url, view, tmp_path):
    out = tmp_path / "scorecard.xlsx"
    res = oba(demo_url, "scorecard", "--period", str(view.current), "-o", str(out))
    assert res.exit_code == 0, res.output
    assert res.output == f"Wrote {out}: the {view.current} scorecard, {len(view.board.priorities) + 2} sheet(s).\n"
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "Summary" and wb.sheetnames[-1] == "Notes"
    assert "CSE and Missing" in wb.sheetnames  # "Child Sexual Exploitation and Missing" is too long for Excel
    ws = wb["Neglect"]
    head = [c.value for c in ws[4]]
    assert head[:3] == ["Indicator", "Question", "Value"]
    assert ws.freeze_panes == "B5"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$4:$4"
    rows = [dict(zip(head, [c.value for c in r], strict=False)) for r in ws.iter_rows(min_row=5) if r[0].value]
    matrix = view.matrix("neglect")
    assert [r["Indicator"] for r in rows] == [mr.indicator.label for mr in matrix]
    for r, mr in zip(rows, matrix, strict=True):
        assert r["RAG (against the target)"] == {"red": "Red", "amber": "Amber", "green": "Green", "": "No target"}[
            mr.row.get("rag") or ""]
        if mr.row.get("value") == mr.row.get("value"):
            assert r["Value"] == pytest.approx(mr.row["value"])
        assert not str(r["Variation (SPC)"]).endswith(".svg")
    rules = [rule for rng in ws.conditional_formatting for rule in rng.rules]
    assert sorted(r.formula[0] for r in rules) == ['"Amber"', '"Green"', '"Red"']
    # the summary has each indicator once, with the priorities it serves
    summary = wb["Summary"]
    names = [c.value for c in summary["A"][4:] if c.value]
    assert len(names) == len(set(names)) == len(view.indicators)
    assert [c.value for c in summary[4]][1] == "Priorities it serves"


def test_scorecard_publication_withholds_small_values(demo_url, view, tmp_path):
    out = tmp_path / "pub.xlsx"
    res = oba(demo_url, "scorecard", "--publication", "-o", str(out))
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    small = {(r["indicator_id"]) for r in view.frame[~view.frame["is_forecast"].astype(bool)
                                                    & (view.frame["period"] == str(view.current))
                                                    & (view.frame["display_suppressed"] == True)]  # noqa: E712
             .to_dict("records")}
    ws = wb["Summary"]
    head = [c.value for c in ws[4]]
    rows = [dict(zip(head, [c.value for c in r], strict=False)) for r in ws.iter_rows(min_row=5) if r[0].value]
    labels = {view.library.indicators[i].label for i in small}
    for r in rows:
        if r["Indicator"] in labels:
            assert r["Value"] == "c"
            assert r["Why it is an exception / good news"] in ("", None) or "withheld" in r[
                "Why it is an exception / good news"]
    notes = {r[0].value: r[1].value for r in wb["Notes"].iter_rows()}
    assert "withheld" in notes["Withheld"]


# --- errors ----------------------------------------------------------------------------------------------

def test_bad_requests_exit_1_with_the_choices(demo_url, view, tmp_path):
    out = str(tmp_path / "x.csv")
    res = oba(demo_url, "data", "--period", "2019-20 Q1", "-o", out)
    assert res.exit_code == 1
    assert res.output.startswith("Error: there is no data for 2019-20 Q1. Quarters with data: "
                                 f"{view.current}, ")
    res = oba(demo_url, "data", "--period", "soon", "-o", out)
    assert res.exit_code == 1 and "'soon' is not a quarter. Write it like 2025-26 Q2." in res.output
    res = oba(demo_url, "data", "--priority", "nope", "-o", out)
    assert res.exit_code == 1
    ids = ", ".join(p.id for p in view.board.priorities)
    assert res.output == f"Error: there is no board priority 'nope'. Priorities: {ids}.\n"
    res = oba(demo_url, "data", "--format", "json", "-o", out)
    assert res.exit_code == 1
    assert res.output == "Error: 'json' is not a format for the data. Choose one of: csv, xlsx.\n"
    assert not Path(out).exists()


def test_unwritable_paths_are_named(demo_url, tmp_path):
    res = oba(demo_url, "data", "-o", str(tmp_path / "no" / "such" / "x.csv"))
    assert res.exit_code == 1
    assert res.output == (f"Error: cannot write {tmp_path / 'no' / 'such' / 'x.csv'}: the folder "
                          f"{tmp_path / 'no' / 'such'} does not exist. Create it or choose another place.\n")
    res = oba(demo_url, "data", "--format", "xlsx", "-o", str(tmp_path / "x.csv"))
    assert res.exit_code == 1 and "should end in .xlsx" in res.output
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        res = oba(demo_url, "data", "-o", str(locked / "x.csv"))
        assert res.exit_code == 1 and "permission denied" in res.output


def test_a_failed_write_leaves_no_file(view, tmp_path, monkeypatch):
    from dashboard.exports import data as data_mod

    export = data_mod.dataset_rows(view, view.current, None)
    out = tmp_path / "half.xlsx"

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    import etl.safe_cells
    monkeypatch.setattr(etl.safe_cells.os, "replace", boom)  # the file is written, then renaming it fails
    from dashboard.exports.common import ExportError
    with pytest.raises(ExportError, match="the disk is full. Nothing was written under that name."):
        data_mod.write_data(export, view, out, "xlsx")
    assert list(tmp_path.iterdir()) == []


def test_no_store_is_a_clean_error(tmp_path):
    res = CliRunner().invoke(main, ["--db", f"sqlite:///{tmp_path / 'none.sqlite'}", "--board", str(BOARD),
                                    "export", "data", "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 1
    assert res.output.startswith("Error: There is no data store yet. No store was found at ")


# --- charts ----------------------------------------------------------------------------------------------

def _chromium_or_skip():
    import shutil

    if not (shutil.which("chromium") or Path("/usr/bin/chromium").exists()):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    pytest.importorskip("kaleido")


def test_chart_png_svg_pdf_are_titled_sourced_and_sized(demo_url, view, tmp_path):
    _chromium_or_skip()
    from PIL import Image
    from pypdf import PdfReader

    png = tmp_path / "spc.png"
    res = oba(demo_url, "chart", "rereferral_rate", "--kind", "spc", "--format", "png", "-o", str(png))
    assert res.exit_code == 0, res.output
    assert res.output == f"Wrote {png}: Re-referrals, spc chart for {view.current} (3200×1800 px).\n"
    with Image.open(png) as im:
        assert im.size == (3200, 1800)
        # not blank: the chart's ink covers a fair part of the picture
        grey = im.convert("L").resize((320, 180))
        dark = sum(1 for p in grey.tobytes() if p < 200)
        assert dark > 500
    svg = tmp_path / "funnel.svg"
    res = oba(demo_url, "chart", "rereferral_rate", "--kind", "funnel", "--format", "svg", "--size", "a4",
              "-o", str(svg))
    assert res.exit_code == 0, res.output
    text = svg.read_text()
    assert 'width="1123"' in text and 'height="794"' in text
    assert "Funnel plot: every local authority against England" in text
    assert f"Harrowdale, {view.current}" in text and "Lower is better" in text
    assert "Produced on " in text and "Source: Harrowdale partnership" in text
    assert "http://" not in text.replace("http://www.w3.org", "")  # nothing points elsewhere
    pdf = tmp_path / "baseline.pdf"
    res = oba(demo_url, "chart", "rereferral_rate", "--kind", "baseline", "--format", "pdf", "-o", str(pdf))
    assert res.exit_code == 0, res.output
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1
    page_text = reader.pages[0].extract_text()
    assert "Re-referrals: history and forecast" in page_text and "Produced on" in page_text
    box = reader.pages[0].mediabox
    assert round(float(box.width) / float(box.height), 2) == round(16 / 9, 2)


def test_chart_errors_name_the_choices(demo_url, view, tmp_path):
    out = str(tmp_path / "x.png")
    res = oba(demo_url, "chart", "no_such", "-o", out)
    assert res.exit_code == 1
    assert res.output.startswith("Error: there is no indicator 'no_such' with data. Indicators: ")
    assert "rereferral_rate" in res.output
    res = oba(demo_url, "chart", "rereferral_rate", "--kind", "pie", "-o", out)
    assert res.exit_code == 1
    assert res.output == "Error: 'pie' is not a chart kind. Choose one of: baseline, spc, neighbours, funnel.\n"
    res = oba(demo_url, "chart", "rereferral_rate", "--format", "gif", "-o", out)
    assert res.output == "Error: 'gif' is not a chart format. Choose one of: png, svg, pdf.\n"
    res = oba(demo_url, "chart", "rereferral_rate", "--size", "poster", "-o", out)
    assert res.output == "Error: 'poster' is not a chart size. Choose one of: slide, a4.\n"
    res = oba(demo_url, "chart", "rereferral_rate", "--format", "svg", "-o", out)
    assert res.exit_code == 1 and "should end in .svg" in res.output
    assert not Path(out).exists()


def test_chart_publication_leaves_out_small_points(view):
    from dashboard.exports.charts import chart_figure
    from dashboard.exports.content import Published

    withheld = {w["period"] for w in Published(view).withheld
                if w["indicator_id"] == "cpp_two_years" and w["column"] == "value"}
    assert withheld, "the demo withholds some quarters of cpp_two_years"
    ind = view.library.indicators["cpp_two_years"]
    from indicators.periods import Quarter
    shorts = {Quarter.parse(p).short for p in withheld}
    internal = chart_figure(view, ind, view.current, "baseline")
    public = chart_figure(view, ind, view.current, "baseline", publication=True)
    for a, b in zip(internal["data"], public["data"], strict=True):
        if isinstance(a.get("x"), list) and isinstance(a.get("y"), list):
            for x, ya, yb in zip(a["x"], a["y"], b["y"], strict=True):
                if x in shorts:
                    assert yb is None
                else:
                    assert ya == yb
    assert "Publication mode" in public["layout"]["annotations"][-1]["text"]


# --- the download buttons ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(demo_url):
    from dashboard import data
    from dashboard.app import create_app
    from dashboard.data import DataSource

    app = create_app()
    before = data.source()
    data.use(DataSource(demo_url, BOARD))
    yield app.server.test_client()
    data.use(before)


def test_download_routes_give_the_same_files(client, view, tmp_path):
    q = str(view.current)
    res = client.get(f"/export/data.csv?period={q}&priority=neglect")
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    assert res.mimetype == "text/csv"
    assert res.headers["Content-Disposition"] == (
        f'attachment; filename="oba-data-neglect-{q.replace(" ", "-").lower()}.csv"')
    rows = list(csv.DictReader(res.get_data(as_text=True).lstrip("\ufeff").splitlines()))
    assert {r["indicator_id"] for r in rows} == {i.id for i in view.priority_indicators("neglect")}
    res = client.get(f"/export/scorecard.xlsx?period={q}&publication=1")
    assert res.status_code == 200
    assert res.headers["Content-Disposition"].endswith('-publication.xlsx"')
    path = tmp_path / "sc.xlsx"
    path.write_bytes(res.data)
    assert openpyxl.load_workbook(path).sheetnames[0] == "Summary"
    res = client.get("/export/data.xlsx?indicator=rereferral_rate")
    assert res.status_code == 200
    path = tmp_path / "rr.xlsx"
    path.write_bytes(res.data)
    ids = {r[0] for r in list(openpyxl.load_workbook(path, read_only=True)["data"].iter_rows(values_only=True))[1:]}
    assert ids == {"rereferral_rate"}


def test_download_routes_refuse_bad_requests_plainly(client):
    res = client.get("/export/data.csv?priority=nope")
    assert res.status_code == 400
    body = res.get_data(as_text=True)
    assert "There is no board priority &#x27;nope&#x27;. Priorities: early_help" in body
    assert "Traceback" not in body
    res = client.get("/export/data.json")
    assert res.status_code == 400 and "Choose one of: csv, xlsx" in res.get_data(as_text=True)
    res = client.get("/export/chart/rereferral_rate/pie.png")
    assert res.status_code == 400 and "is not a chart kind" in res.get_data(as_text=True)
    res = client.get("/export/chart/rereferral_rate/spc.gif")
    assert res.status_code == 400 and "is not a chart format" in res.get_data(as_text=True)


def test_chart_download(client):
    _chromium_or_skip()
    res = client.get("/export/chart/rereferral_rate/spc.svg?size=a4")
    assert res.status_code == 200 and res.mimetype == "image/svg+xml"
    assert b"Produced on" in res.data


def test_board_pack_download(client, tmp_path):
    from pptx import Presentation

    res = client.get("/export/board-pack.pptx?priority=neglect")
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    assert res.mimetype.endswith("presentationml.presentation")
    path = tmp_path / "p.pptx"
    path.write_bytes(res.data)
    assert "Neglect" in [s.shapes.title.text for s in Presentation(str(path)).slides]


def test_every_download_route_has_a_rule():
    from dashboard import policy
    from dashboard.exports.web import ENDPOINTS

    assert all(policy.ROUTES[e] == ("read",) for e in ENDPOINTS)


# --- the board pack ----------------------------------------------------------------------------------------

def test_board_pack_pptx_native_text_and_charts(demo_url, view, tmp_path):
    from pptx import Presentation

    from dashboard.exports.content import board_paper

    out = tmp_path / "pack.pptx"
    res = oba(demo_url, "board-pack", "--format", "pptx", "-o", str(out))
    assert res.exit_code == 0, res.output
    prs = Presentation(str(out))
    titles = [s.shapes.title.text for s in prs.slides]
    paper = board_paper(view, view.current)
    n_matrix = -(-len(paper.summary) // 10)
    expected = (1 + 1 + n_matrix + len(paper.sections) + len(paper.exceptions) + 1 + (1 if paper.critical else 0)
                + 2)
    assert len(titles) == expected
    assert res.output == f"Wrote {out}: the {view.current} board pack, {expected} slides.\n"
    assert titles[0].endswith("performance report for the board") and titles[1] == "Contents"
    assert titles[2].startswith("Summary matrix")
    assert titles[-2:] == ["Annex: data quality and timeliness", "Annex: methods"]
    assert "To commend: positive exceptions" in titles
    for e in paper.exceptions:
        title = f"{e.row.label} — {e.row.value_text}"
        assert title in titles
        slide = prs.slides[titles.index(title)]
        charts = [sh.chart for sh in slide.shapes if sh.has_chart]
        assert len(charts) == 1, "a native PowerPoint chart"
        names = [s.name for s in charts[0].plots[0].series]
        assert names[0] == "Value" and "Average" in names
        text = " ".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
        for reason in e.row.reasons:
            assert reason in text
    contents = " ".join(sh.text_frame.text for sh in prs.slides[1].shapes if sh.has_text_frame and
                        sh != prs.slides[1].shapes.title)
    assert "The summary matrix — slide 3" in contents
    table = next(sh.table for sh in prs.slides[2].shapes if sh.has_table)
    assert table.cell(0, 0).text == "Indicator" and table.cell(0, 2).text == "RAG"
    assert table.cell(1, 0).text == paper.summary[0].label + " (exception)"


def test_board_pack_uses_the_boards_template(demo_url, tmp_path):
    from pptx import Presentation
    from pptx.util import Inches

    template = tmp_path / "org.pptx"
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(10), Inches(7.5)  # a 4:3 organisation template
    prs.slides.add_slide(prs.slide_layouts[0]).shapes.title.text = "Delete me"
    prs.save(str(template))
    board = tmp_path / "board.yaml"
    board.write_text(BOARD.read_text() + "\noutputs:\n  pack_template: org.pptx\n")
    out = tmp_path / "pack.pptx"
    res = CliRunner().invoke(main, ["--db", demo_url, "--board", str(board), "export", "board-pack", "--priority",
                                    "neglect", "-o", str(out)])
    assert res.exit_code == 0, res.output
    got = Presentation(str(out))
    assert got.slide_width == Inches(10)
    titles = [s.shapes.title.text for s in got.slides]
    assert "Delete me" not in titles and "Neglect" in titles and "Early Help" not in titles
    board.write_text(BOARD.read_text() + "\noutputs:\n  pack_template: missing.pptx\n")
    res = CliRunner().invoke(main, ["--db", demo_url, "--board", str(board), "export", "board-pack", "-o", str(out)])
    assert res.exit_code == 1 and "names the pack template missing.pptx, but" in res.output


def test_board_pack_pdf_pages_and_text(demo_url, view, tmp_path):
    _chromium_or_skip()
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        pytest.skip("WeasyPrint or Pango is not installed")
    from pypdf import PdfReader

    from dashboard.exports.content import board_paper

    out = tmp_path / "pack.pdf"
    res = oba(demo_url, "board-pack", "--format", "pdf", "--publication", "-o", str(out))
    assert res.exit_code == 0, res.output
    reader = PdfReader(out)
    assert res.output == f"Wrote {out}: the {view.current} board pack, {len(reader.pages)} pages.\n"
    text = "\n".join(p.extract_text() for p in reader.pages)
    flat = " ".join(text.split())
    assert "performance report for the board" in flat and "Contents" in flat
    assert "For publication: small numbers withheld" in flat
    paper = board_paper(view, view.current, publication=True)
    for e in paper.exceptions:
        assert e.row.label in flat
    assert "Annex: data quality and timeliness" in flat and "Annex: methods" in flat
    assert f"Page 1 of {len(reader.pages)}" in flat
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # A4 landscape
    assert round(float(box.width) / 72 * 25.4) == 297
    # the exception charts are vector: drawn as PDF forms and paths, no raster image anywhere
    page = next(p for p in reader.pages if paper.exceptions[0].row.label + ":" in " ".join(p.extract_text().split()))
    xobjects = [x.get_object() for x in page["/Resources"].get("/XObject", {}).values()]
    assert xobjects and all(x.get("/Subtype") == "/Form" for x in xobjects)


def test_board_pack_errors(demo_url, tmp_path):
    res = oba(demo_url, "board-pack", "--format", "docx", "-o", str(tmp_path / "x.docx"))
    assert res.exit_code == 1
    assert res.output == "Error: 'docx' is not a board pack format. Choose one of: pptx, pdf.\n"
    res = oba(demo_url, "board-pack", "--priority", "nope", "-o", str(tmp_path / "x.pptx"))
    assert res.exit_code == 1 and "there is no board priority 'nope'" in res.output


# --- the annual report annex -------------------------------------------------------------------------------

def test_annual_report_xlsx_years_comparisons_sentences(demo_url, view, tmp_path):
    from dashboard.exports.annual import year_value

    out = tmp_path / "annual.xlsx"
    res = oba(demo_url, "annual-report", "--year", "2025-26", "-o", str(out))
    assert res.exit_code == 0, res.output
    assert res.output == f"Wrote {out}: {len(view.indicators)} indicators for 2025-26 (publication mode).\n"
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Annual report", "Notes"]
    rows = list(wb["Annual report"].iter_rows(values_only=True))
    head = rows[2]
    assert head[3:7] == ("2022-23", "2023-24", "2024-25", "2025-26")
    recs = {r[0]: dict(zip(head, r, strict=True)) for r in rows[3:]}
    rr = recs["Re-referrals"]
    q4 = view.at_period(view.periods[[str(q) for q in view.periods].index("2025-26 Q4")])
    row = q4.row("rereferral_rate")
    assert rr["2025-26"] == f"{row['value']:.1f}%"  # rolling 12 months: the fourth quarter's headline
    assert rr["England"] == f"{row['england_value']:.1f}%"
    assert rr["In a sentence"].startswith(f"Re-referrals was {row['value']:.1f}% in 2025-26, worse than ")
    # a quarterly flow's year is built from its four quarters
    ind = next(i for i in view.library.indicators.values() if i.period_type.value == "flow" and i.unit.value == "count")
    quarters = [r for r in q4.history(ind.id) if r["period"].startswith("2025-26")]
    assert len(quarters) == 4
    yv = year_value(q4, ind, 2025)
    assert yv.value == pytest.approx(sum(r["quarter_value"] for r in quarters))
    # publication: the plans lasting two years rest on small counts
    small = recs[view.library.indicators["cpp_two_years"].label]
    assert small["2025-26"] == "c" and "withheld" in small["In a sentence"]
    assert "similar" not in small["In a sentence"] and "worse" not in small["In a sentence"]
    notes = {r[0].value: r[1].value for r in wb["Notes"].iter_rows()}
    assert notes["Mode"].startswith("Publication") and notes["Symbol c"].startswith("confidential")


def test_annual_report_pdf_and_errors(demo_url, view, tmp_path):
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        pytest.skip("WeasyPrint or Pango is not installed")
    from pypdf import PdfReader

    out = tmp_path / "annual.pdf"
    res = oba(demo_url, "annual-report", "--year", "2025-26", "--format", "pdf", "-o", str(out))
    assert res.exit_code == 0, res.output
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "indicators for 2025-26" in text and "Re-referrals was" in text and "For publication" in text
    res = oba(demo_url, "annual-report", "--year", "2019-20", "-o", str(tmp_path / "x.xlsx"))
    assert res.exit_code == 1
    assert res.output == ("Error: there is no data for the end of 2019-20 (2019-20 Q4). Years with a fourth "
                          "quarter: 2023-24, 2024-25, 2025-26.\n")
    res = oba(demo_url, "annual-report", "--year", "2025", "-o", str(tmp_path / "x.xlsx"))
    assert res.output == "Error: '2025' is not a financial year. Write it like 2025-26.\n"
    res = oba(demo_url, "annual-report", "--year", "2025-26", "--format", "csv", "-o", str(tmp_path / "x.csv"))
    assert res.output == "Error: 'csv' is not an annual report format. Choose one of: xlsx, pdf.\n"
