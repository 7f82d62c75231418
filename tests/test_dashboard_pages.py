"""Every page rendered through Dash's own callback endpoint (as the browser asks for it), on datasets made to
be odd on purpose: one quarter of data, no benchmark, a suppressed value, an agency that never returned, an
unknown id in the URL, a store that does not exist yet."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_dashboard_sample import NEIGHBOURS, sample_dataset

from dashboard import data
from dashboard.app import create_app
from dashboard.data import DataSource, View
from etl.db import init_store
from etl.store import make_engine
from indicators.periods import Quarter

ROUTER = ".._pages_content.children..._pages_store.data.."


@pytest.fixture(scope="module")
def app():
    return create_app()


@pytest.fixture
def serve_view(app, library, board):
    """Serve a given View (or DataSource) for the test, then put the default source back."""
    before = data.source()

    def use(view_or_source):
        data.use(view_or_source if isinstance(view_or_source, DataSource) else DataSource.fixed(view_or_source))

    yield use
    data.use(before)


def _view(library, board, returns: pd.DataFrame | None = None, **kw) -> View:
    ds = sample_dataset(library, board, **kw)
    nb = pd.DataFrame({"area_code": ds.area_code, "neighbour_code": NEIGHBOURS, "rank": range(1, 11)})
    return View(ds, board, library, "test", neighbours=nb,
                returns_loader=(lambda: returns) if returns is not None else None)


def _texts(node, out: list[str]) -> list[str]:
    if isinstance(node, str):
        out.append(node)
    elif isinstance(node, list):
        for n in node:
            _texts(n, out)
    elif isinstance(node, dict):
        props = node.get("props", {})
        for key in ("children", "alt"):
            if key in props:
                _texts(props[key], out)
        if "aria-label" in props:
            _texts(props["aria-label"], out)
    return out


def render(app, path: str, search: str = "") -> str:
    """The page's text, from the router callback's answer."""
    payload = {"output": ROUTER,
               "outputs": [{"id": "_pages_content", "property": "children"},
                           {"id": "_pages_store", "property": "data"}],
               "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                          {"id": "_pages_location", "property": "search", "value": search}],
               "changedPropIds": ["_pages_location.pathname"], "state": []}
    client = app.server.test_client()
    client.get("/")  # the first request sets up the pages' routing
    r = client.post("/_dash-update-component", json=payload)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    body = json.loads(r.get_data(as_text=True))
    text = " ".join(" ".join(_texts(body["response"]["_pages_content"]["children"], [])).split())
    assert "could not be shown" not in text, text[:300]
    return text


def test_pages_render_on_a_full_sample(app, serve_view, library, board):
    v = _view(library, board)
    serve_view(v)
    home = render(app, "/")
    assert "This quarter: 2025-26 Q2" in home
    for p in board.priorities:
        n = sum(r.is_exception for r in v.matrix(p.id))
        assert f"{p.name} {n} exception" in home
    neglect = render(app, "/priority/neglect")
    assert "How much did we do?" in neglect and "How well did we do it?" in neglect and "Is anyone better off?" in neglect
    assert render(app, "/priority", "?priority=neglect") == neglect
    ind = render(app, "/indicator/rereferral_rate")
    for part in ("Turn the curve: the baseline", "Statistical process control", "Benchmarking", "The data",
                 "About this indicator", "No story has been recorded yet"):
        assert part in ind
    assert "Why this is an exception" in ind
    assert "About the methods" in render(app, "/about")


def test_has_the_curve_turned(app, serve_view, library, board):
    ds = sample_dataset(library, board)
    ds.curves = pd.DataFrame([{"indicator_id": "return_home_interviews", "area_code": ds.area_code,
                               "frozen_at": "2024-25 Q4", "period": q.label, "period_index": q.index, "step": k + 1,
                               "forecast": 70.0, "forecast_lo80": 65.0, "forecast_hi80": 75.0, "actual": 80.0,
                               "verdict": "turned", "sentence": "Return interviews have beaten the frozen forecast."}
                              for k, q in enumerate([Quarter(2025, 1), Quarter(2025, 2)])])
    serve_view(View(ds, board, library, "test"))
    page = render(app, "/indicator/return_home_interviews")
    assert "Has the curve turned? The curve has turned Return interviews have beaten the frozen forecast." in page
    assert "Has the curve turned?" not in render(app, "/indicator/rereferral_rate")


def test_one_quarter_of_data(app, serve_view, library, board):
    serve_view(_view(library, board, quarters=1))
    assert "This quarter: 2025-26 Q2" in render(app, "/")
    page = render(app, "/indicator/rereferral_rate")
    assert "too few quarters for a forecast" in page
    assert "too few distinct values to set process limits" in page


def test_indicator_without_a_benchmark(app, serve_view, library, board):
    serve_view(_view(library, board))
    page = render(app, "/indicator/training_attendance")  # a count: no published comparison
    assert "No published benchmark" in page
    assert "None: no national figure is published" in page


def test_suppressed_and_missing_values_are_never_zero(app, serve_view, library, board):
    serve_view(_view(library, board, suppressed=("cse_crimes",), missing=("children_feel_safe",)))
    page = render(app, "/indicator/cse_crimes")
    assert "suppressed" in page and "it is not zero" in page
    home = render(app, "/")
    assert "suppressed" in home and "not returned" in home
    # a figure not returned is a data note beside the value, not an exception
    assert "Children feel safe" in home and "Not returned" in home and "Data missing" not in home
    page = render(app, "/indicator/children_feel_safe")
    assert "About the data this quarter" in page and "was not returned" in page


def test_agency_that_never_returned(app, serve_view, library, board):
    rows = [{"agency_code": a.code, "agency_name": a.name, "period": q.label, "period_index": q.index,
             "status": "received", "late": False, "revised": False, "warnings": 0, "missing_measures": [],
             "issues": []}
            for a in board.agencies if a.code != "EH" for q in (Quarter(2025, 1), Quarter(2025, 2))]
    rows += [{"agency_code": "EH", "agency_name": "Early Help", "period": q.label, "period_index": q.index,
              "status": "missing", "late": False, "revised": False, "warnings": 0,
              "missing_measures": ["EH_ASSESSMENTS", "EH_STEP_UP"], "issues": []}
             for q in (Quarter(2025, 1), Quarter(2025, 2))]
    serve_view(_view(library, board, returns=pd.DataFrame(rows)))
    page = render(app, "/returns")
    n = len(board.agencies)
    assert f"{n - 1} of {n} agencies sent their return for 2025-26 Q2; 1 missing." in page
    assert "Measures not returned: EH_ASSESSMENTS, EH_STEP_UP" in page
    assert page.count("Harrowdale Early Help Service, 2025-26 Q2: Missing") == 1


def test_unknown_ids_and_periods_get_a_friendly_message(app, serve_view, library, board):
    serve_view(_view(library, board))
    page = render(app, "/indicator/rereferal_rate")
    assert "No such indicator" in page and "Did you mean" in page and "Re-referrals" in page
    assert "No such priority" in render(app, "/priority/neglected")
    assert "Page not found" in render(app, "/no/such/page")
    assert "'2099-00 Q9' is not a quarter" in render(app, "/", "?period=2099-00+Q9")
    assert "There is no data for 2019-20 Q1; showing 2025-26 Q2" in render(app, "/", "?period=2019-20+Q1")


def _demo_view(library, board) -> View:
    """A view of a dataset built by build_dataset from the demo's returns (no store needed)."""
    from etl.demo import _number, demo_returns
    from indicators.dataset import build_dataset

    rows = [(board.local_authority.ons_code, q.label, code, _number(v), "ok")
            for q, agencies in demo_returns().items() for measures in agencies.values() for code, v in measures.items()]
    measures = pd.DataFrame(rows, columns=["area_code", "period", "measure", "value", "status"])
    population = pd.DataFrame({"area_code": board.local_authority.ons_code, "year": range(2018, 2028),
                               "population": 85_200})
    return View(build_dataset(measures, library, board, population=population), board, library, "demo")


def test_an_earlier_quarter_is_shown_as_it_stood_then(app, serve_view, library, board):
    v = _demo_view(library, board)
    serve_view(v)
    earlier = Quarter(2025, 1)
    page = render(app, "/", "?period=2025-26+Q1")
    assert "This quarter: 2025-26 Q1" in page and "use only the data up to 2025-26 Q1" in page
    then = v.dataset.as_of(earlier)
    assert then.period == earlier and then.frame["period_index"][~then.frame["is_forecast"]].max() == earlier.index
    assert len(then.exceptions)
    for ind_id, g in then.exceptions.groupby("indicator_id"):
        shown = [r.code for r in v.reasons(ind_id, period=earlier)]
        assert shown == list(dict.fromkeys(g.sort_values("sort_key", kind="stable")["code"]))
    # the SPC limits and the forecast are those of the data up to then, not of the latest quarter
    now, past = v.row("rereferral_rate"), v.at_period(earlier).row("rereferral_rate")
    assert past["spc_upl"] != v.row("rereferral_rate", earlier)["spc_upl"]
    assert v.at_period(earlier).forecast("rereferral_rate")[0]["period"] == (earlier + 1).label
    assert now["period"] != past["period"]
    page = render(app, "/indicator/rereferral_rate", "?period=2025-26+Q1")
    assert "As forecast at 2025-26 Q1" in page


def test_store_not_created_says_what_to_run(app, serve_view, tmp_path):
    serve_view(DataSource(str(tmp_path / "nothing-here.sqlite")))
    page = render(app, "/")
    assert "There is no data store yet" in page and "oba init" in page and "make run" in page
    assert not (tmp_path / "nothing-here.sqlite").exists()  # looking does not create an empty file


def test_store_without_returns(app, serve_view, tmp_path):
    path = tmp_path / "empty.sqlite"
    engine = make_engine(str(path))
    init_store(engine)
    engine.dispose()
    serve_view(DataSource(str(path)))
    page = render(app, "/indicator/rereferral_rate")
    assert "No returns have been loaded yet" in page and "oba returns load" in page


def test_period_choice_goes_in_the_url(app):
    import sys

    home = sys.modules["dashboard.pages.home"]
    assert home.choose_period("2025-26 Q1", "2025-26 Q2", "") == "?period=2025-26+Q1"
    priority = sys.modules["dashboard.pages.priority"]
    assert priority.choose_period("2025-26 Q1", "2025-26 Q2", "?priority=neglect&period=2025-26+Q2") == \
        "?priority=neglect&period=2025-26+Q1"


def test_icons_are_served(app):
    client = app.server.test_client()
    r = client.get("/_icons/variation-concern-H.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b">H</text>" in r.data
    assert client.get("/_icons/nothing.svg").status_code == 404


def test_oba_serve_passes_the_store_and_board(monkeypatch, tmp_path):
    from click.testing import CliRunner

    import dashboard.server
    from etl.cli import main

    seen = {}
    monkeypatch.setattr(dashboard.server, "serve", lambda **kw: seen.update(kw))
    monkeypatch.setattr(dashboard.server, "port_is_free", lambda host, port: True)
    board_file = tmp_path / "board.yaml"
    result = CliRunner().invoke(main, ["--db", "sqlite:///x.sqlite", "--board", str(board_file), "serve",
                                       "--port", "8123", "--host", "127.0.0.1"])
    assert result.exit_code == 0, result.output
    assert seen.pop("say") is not None
    assert seen == {"db": "sqlite:///x.sqlite", "board_path": board_file, "host": "127.0.0.1", "port": 8123,
                    "debug": False, "workers": 1, "threads": 8}
    assert "on port 8123 with waitress, 8 threads" in result.output
    result = CliRunner().invoke(main, ["serve", "--db", "other.sqlite"])
    assert result.exit_code == 0 and seen["db"] == "other.sqlite"


def test_wsgi_server_is_the_apps(app):
    import dashboard.app

    assert dashboard.app.server is app.server


def test_an_indicator_with_no_values_yet(app, serve_view, library, board):
    serve_view(_view(library, board, quarters=1, missing=("cpp_rate",)))
    page = render(app, "/indicator/cpp_rate")
    assert "There are no values of Child protection plan rate to chart yet" in page
    assert "not returned" in page
