"""Plausible made-up returns, for tests, the benchmark and trying the tools out. Not the demo's story data.

Figures are whole where the measure is counted, and every part is at most its whole (each percentage
indicator's numerator <= its denominator), so a sample return checks clean.
"""

from __future__ import annotations

import random
from pathlib import Path

from etl.returns.template import build_template, fill_values
from indicators.board import Board
from indicators.definitions import Library, MeasureKind
from indicators.periods import Quarter

__all__ = ["sample_values", "write_sample_return"]


def sample_values(board: Board, library: Library, agency_code: str, quarter: Quarter,
                  seed: int = 0) -> dict[str, float]:
    """A clean set of figures for one agency and quarter (deterministic for a given seed)."""
    agency = board.agency(agency_code)
    rng = random.Random(f"{agency_code}:{Quarter.parse(quarter).index}:{seed}")
    values: dict[str, float] = {}
    for code in agency.measures:
        kind = library.measures[code].kind
        if kind == MeasureKind.percentage:
            values[code] = round(rng.uniform(55, 98), 1)
        elif kind == MeasureKind.total:
            values[code] = round(rng.uniform(2000, 9000), 1)
        else:
            values[code] = rng.randint(40, 900)
    pairs = [(n, d) for n, d in sorted(library.part_whole_pairs) if n in values and d in values]
    changed = True
    while changed:  # numerators only ever go down, so this ends
        changed = False
        for num, den in pairs:
            if values[num] > values[den]:
                values[num] = rng.randint(0, int(values[den]))
                changed = True
    return values


def write_sample_return(path: Path, board: Board, library: Library, agency_code: str, quarter: Quarter,
                        values: dict[str, object] | None = None, notes: dict[str, str] | None = None,
                        previous: dict[str, float | None] | None = None, seed: int = 0) -> Path:
    """Write a filled-in return workbook (sample figures unless ``values`` are given)."""
    wb = build_template(board, library, agency_code, quarter, previous)
    fill_values(wb, values if values is not None else sample_values(board, library, agency_code, quarter, seed),
                notes)
    path = Path(path)
    wb.save(path)
    return path
