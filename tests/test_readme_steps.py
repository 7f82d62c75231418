"""The README's own-data steps, run line by line in an empty folder: board, store, templates, one return filled in
with openpyxl, check, load, status, benchmarks, neighbours, doctor, and the dashboard serving a page."""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from etl.cli import main
from indicators.periods import Quarter

ROOT = Path(__file__).resolve().parent.parent
POL = {"POL_MISSING_EPISODES": 455, "POL_RHI_ELIGIBLE": 400, "POL_RHI_72H": 310, "POL_CSE_CRIMES": 12,
       "POL_DA_CHILDREN": 260}


def readme_steps() -> list[str]:
    """The command lines of the README's "Using your own data" block, without their comments."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Using your own data", 1)[1].split("```", 2)[1]
    return [re.split(r"\s+#\s", line, maxsplit=1)[0].strip() for line in block.strip().splitlines()]


def fill_in(path: Path, values: dict[str, object]) -> None:
    """What an agency does in Excel: type the figures into the Value column, by the Code on each row."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Return"]
    header = next(r for r in range(1, 51) if {"Code", "Value"} <= {c.value for c in ws[r]})
    cols = {c.value: c.column for c in ws[header]}
    for r in range(header + 1, ws.max_row + 1):
        code = ws.cell(r, cols["Code"]).value
        if code in values:
            ws.cell(r, cols["Value"]).value = values[code]
    wb.save(path)


def test_the_readme_steps_work_in_an_empty_folder(tmp_path, monkeypatch, shared_dfe):
    for name in ("OBA_DATABASE_URL", "OBA_BOARD", "OBA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    steps = readme_steps()
    assert steps[0] == "mkdir scp && cd scp" and all(s.startswith("oba ") for s in steps[1:])
    folder = tmp_path / "scp"
    folder.mkdir()
    monkeypatch.chdir(folder)
    # what the analyst has downloaded (the README's "Benchmark files to download")
    for pattern in ("ees_*.csv", "ons_population_0_17_*.csv", "statistical_neighbours_may2025_long.csv"):
        for f in shared_dfe.glob(pattern):
            shutil.copy(f, folder / f.name)
    quarter = Quarter.last_ended()
    outputs = {}
    for step in steps[1:]:
        args = shlex.split(step)[1:]
        if args[0] == "serve":
            outputs["serve"] = _serve_and_load_a_page(folder, args)
            continue
        expanded = [m for a in args for m in (sorted(glob.glob(a)) if "*" in a else [a])]
        r = CliRunner().invoke(main, expanded, env={"OBA_USER": "analyst"})
        assert r.exit_code == 0, f"{step}\n{r.output}"
        assert "Traceback" not in r.output
        outputs[args[0] + " " + args[1] if len(args) > 1 and not args[1].startswith("-") else args[0]] = r
        if args[:2] == ["returns", "template"]:
            pol = folder / "returns" / f"POL_{quarter.label.replace(' ', '_')}.xlsx"
            assert pol.exists()
            fill_in(pol, POL)

    assert (folder / "data" / "board.yaml").exists() and (folder / "data" / "oba.sqlite").exists()
    check = outputs["returns check"].stdout.splitlines()
    assert sum(line.startswith("BLANK ") for line in check) == 7
    assert f"OK    returns/POL_{quarter.label.replace(' ', '_')}.xlsx: POL {quarter.label}, 5 measures, 0 warnings" \
        in check
    assert check[-1] == "8 files checked: 1 can be loaded, 0 have errors, 7 not filled in yet."
    assert outputs["returns load"].stdout.splitlines()[-1] == ("8 files: 1 loaded, 0 revised, 0 unchanged, 0 rejected, "
                                                              "7 not filled in yet.")
    status = outputs["returns status"].stdout
    assert f"Returns for {quarter.label}" in status
    assert re.search(r"8 returns: (1 received, 0 late|0 received, 1 late), 0 revised, 7 missing", status), status
    doctor = outputs["doctor"].stdout.splitlines()
    assert [line.split()[0] for line in doctor[:5]] == ["OK"] * 5, doctor
    assert doctor[2] == "OK    neighbours:  'statistical_neighbours_may2025': 10 neighbours of Milton Keynes"
    assert doctor[3] == "OK    benchmarks:  all 8 benchmarked indicators have their file"
    page = outputs["serve"]
    assert "Milton Keynes" in page


def _serve_and_load_a_page(folder: Path, args: list[str]) -> str:
    """Run `oba serve` as the analyst would, wait for its "ready" line and fetch the dashboard's layout."""
    oba = Path(sys.executable).with_name("oba")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OBA_")} | {"PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([str(oba), *args], cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        url = None
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            found = re.search(r"The dashboard is ready: open (http://\S+) in a browser", line)
            if found:
                url = found.group(1)
                break
            if time.monotonic() > deadline:
                break
        assert url, "oba serve never said it was ready"
        with urllib.request.urlopen(url + "/", timeout=30) as r:
            assert r.status == 200
        with urllib.request.urlopen(url + "/_dash-layout", timeout=60) as r:
            return r.read().decode("utf-8")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
