"""The dataset's columns are declared once (indicators/columns.py): the document shows that declaration and
build_dataset produces exactly those columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from indicators import columns
from indicators.dataset import build_dataset

DOC = Path(__file__).resolve().parent.parent / "docs" / "dataset.md"


def test_docs_show_the_declared_tables():
    text = DOC.read_text(encoding="utf-8")
    assert columns.render_document(text) == text, "run `python -m indicators.columns` to update docs/dataset.md"
    for name in columns.TABLES:
        assert f"<!-- columns:{name} -->" in text


def test_declared_names_are_unique_and_typed():
    for name, table in columns.TABLES.items():
        flat = columns.names(table)
        assert len(flat) == len(set(flat)), name
    assert {c.dtype for c in columns.FRAME} <= {"str", "int", "float", "bool", "date"}


def test_build_dataset_produces_exactly_the_declared_columns(library, board):
    from etl.demo import _number, demo_returns

    area = board.local_authority.ons_code
    rows = [(area, q.label, code, _number(v), "ok") for q, agencies in demo_returns().items()
            for measures in agencies.values() for code, v in measures.items()]
    measures = pd.DataFrame(rows, columns=["area_code", "period", "measure", "value", "status"])
    population = pd.DataFrame({"area_code": area, "year": range(2018, 2028), "population": 85_200})
    from indicators.periods import Quarter

    ds = build_dataset(measures, library, board, population=population,
                       frozen={"return_home_interviews": Quarter(2025, 1)})
    assert sorted(ds.frame.columns) == sorted(columns.names(columns.FRAME))
    assert list(ds.exceptions.columns) == columns.names(columns.EXCEPTIONS)
    assert list(ds.data_notes.columns) == columns.names(columns.DATA_NOTES)
    assert len(ds.curves) and list(ds.curves.columns) == columns.names(columns.CURVES)


def test_a_changed_declaration_would_be_caught(tmp_path):
    text = DOC.read_text(encoding="utf-8").replace("| `rag` | str |", "| `rag` | int |", 1)
    assert columns.render_document(text) != text
