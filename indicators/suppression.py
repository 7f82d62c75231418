"""Statistical disclosure control for published outputs: small counts withheld the GSS way.

Internal outputs show everything. A published output (``--publication``) must not let a reader see, or work
out, a count of children or events from 1 up to the indicator's threshold (``suppress_below``: 1 to 4 with the
default of 5). Three steps, each a pure function:

1. **Primary suppression** (:func:`primary`): a count from 1 to ``threshold − 1`` is withheld. Zero is shown
   (it discloses nothing about an individual), as the GSS guidance and DfE's publications do.
2. **Consequential suppression**: anything worked out from a withheld count (the rate or percentage built on
   it, its confidence interval, the quarter's own value) is withheld with it, since it would give the count
   back with the published denominator.
3. **Secondary suppression** (:func:`secondary`): a withheld cell must not be recoverable by arithmetic from
   the cells that are shown. Cells are linked in *lines*, sets where any one member follows from the others
   (the four quarters of a rolling 12-month count and their total; a value, the previous value and the change
   between them; a row of a table and its total). The rule is the GSS one: no line may hold exactly one withheld
   cell. While one does, the next cell of that line is withheld as well: the line's preferred complement when it
   names one, else its smallest non-zero shown member (the least information lost). This repeats until every
   line holds none or at least two.

Published symbols as GSS writes them: ``c`` confidential (withheld to protect individuals), ``x`` not
available, ``z`` not applicable. Every withheld cell is listed with its reason, so the file can say what was
withheld and why; nothing is suppressed silently.

Reference: Government Statistical Service, *Symbols in tables, definitions and copyright guidance* (2023) and
*Statistical disclosure control* (ONS/GSS); DfE's *Statistics: standards for official statistics*
(suppression of small numbers). See docs/methods-statistics.md, "Publication mode".
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

from indicators.periods import Quarter

CONFIDENTIAL = "c"
NOT_AVAILABLE = "x"
NOT_APPLICABLE = "z"
SYMBOLS = {
    CONFIDENTIAL: "confidential: withheld so that no child or family can be identified from a small number",
    NOT_AVAILABLE: "not available: the figure was not returned, or could not be worked out",
    NOT_APPLICABLE: "not applicable",
}


def is_small(count: float | None, threshold: int) -> bool:
    """Whether a count must be withheld: from 1 to ``threshold − 1`` (zero and missing are not)."""
    if count is None or threshold <= 1:
        return False
    try:
        c = float(count)
    except (TypeError, ValueError):
        return False
    return math.isfinite(c) and 0 < c < threshold


def primary(counts: dict[Hashable, float | None], threshold: int | dict[Hashable, int]) -> set[Hashable]:
    """The cells whose count is small (``threshold`` one number, or one per cell)."""
    out = set()
    for key, value in counts.items():
        t = threshold.get(key, 0) if isinstance(threshold, dict) else threshold
        if is_small(value, t):
            out.add(key)
    return out


@dataclass(frozen=True)
class Line:
    """Cells of which any one can be worked out from the others (a sum and its parts, a difference...).

    ``prefer``: which members to withhold first when the line needs a second withheld cell (for a rate built on
    a withheld count: the rate, never the published population).
    """

    members: tuple[Hashable, ...]
    prefer: tuple[Hashable, ...] = ()
    why: str = ""


@dataclass
class Withheld:
    """The withheld cells, each with its reason."""

    reasons: dict[Hashable, str] = field(default_factory=dict)

    def add(self, key: Hashable, reason: str) -> bool:
        if key in self.reasons:
            return False
        self.reasons[key] = reason
        return True

    def __contains__(self, key: Hashable) -> bool:
        return key in self.reasons

    def __len__(self) -> int:
        return len(self.reasons)

    @property
    def cells(self) -> set[Hashable]:
        return set(self.reasons)


def secondary(values: dict[Hashable, float | None], withheld: Withheld, lines: Sequence[Line],
              max_rounds: int = 10_000, name=None) -> Withheld:
    """Withhold more cells until no line holds exactly one withheld cell (the GSS rule); returns ``withheld``.

    A member with no value (None/NaN) is shown as ``x`` and tells nothing, so it counts as neither withheld nor
    able to reveal: a line with one withheld cell and every other member unknown is safe. A line in which the
    withheld cell cannot be protected (every other member is zero, which is shown) is protected by withholding
    the zeros too.
    """
    def known(k):
        v = values.get(k)
        return v is not None and not (isinstance(v, float) and math.isnan(v))

    by_cell: dict[Hashable, list[int]] = {}
    for i, line in enumerate(lines):
        for m in line.members:
            by_cell.setdefault(m, []).append(i)
    todo = list(range(len(lines)))
    queued = set(todo)
    rounds = 0
    while todo:
        rounds += 1
        if rounds > max_rounds:
            raise RuntimeError("secondary suppression did not settle")
        i = todo.pop()
        queued.discard(i)
        line = lines[i]
        hidden = [m for m in line.members if m in withheld]
        if len(hidden) != 1:
            continue
        shown = [m for m in line.members if m not in withheld and known(m)]
        # the others are unknown anyway: nothing can be worked out from this line
        if len(shown) < len(line.members) - 1:
            continue
        pick = next((m for m in line.prefer if m in shown), None)
        if pick is None:
            nonzero = [m for m in shown if float(values[m]) != 0]
            pool = nonzero or shown
            if not pool:
                continue
            pick = min(pool, key=lambda m: (abs(float(values[m])), str(m)))
        why = line.why or "it would let a withheld figure be worked out"
        withheld.add(pick, f"secondary: {why} ({(name or _name)(hidden[0])} is withheld)")
        for j in by_cell.get(pick, []):
            if j not in queued:
                todo.append(j)
                queued.add(j)
    return withheld


def _name(key: Hashable) -> str:
    return " ".join(str(k) for k in key) if isinstance(key, tuple) else str(key)


def table_lines(rows: Iterable[Hashable], cols: Iterable[Hashable], total: Hashable = "total") -> list[Line]:
    """The lines of a table with row and column totals: each row with its total, each column with its total.

    Cells are keyed ``(row, col)``; a row's total is ``(row, total)``, a column's ``(total, col)``.
    """
    rows, cols = list(rows), list(cols)
    lines = [Line(tuple((r, c) for c in cols) + ((r, total),), why="the row total would give it away")
             for r in rows]
    lines += [Line(tuple((r, c) for r in rows) + ((total, c),), why="the column total would give it away")
              for c in cols]
    lines.append(Line(tuple((total, c) for c in cols) + ((total, total),), why="the grand total would give it away"))
    lines.append(Line(tuple((r, total) for r in rows) + ((total, total),), why="the grand total would give it away"))
    return lines


def suppress_table(table: dict[tuple, float | None], threshold: int, total: Hashable = "total") -> Withheld:
    """Primary and secondary suppression of a table of counts with its row and column totals."""
    rows = sorted({r for r, _ in table if r != total}, key=str)
    cols = sorted({c for _, c in table if c != total}, key=str)
    withheld = Withheld()
    for key in sorted(primary({k: v for k, v in table.items()}, threshold), key=str):
        withheld.add(key, f"primary: a count from 1 to {threshold - 1}")
    return secondary(table, withheld, table_lines(rows, cols, total))


# --- the multi-agency dataset --------------------------------------------------------------------------

#: the dataset's columns that give back the numerator (with the published denominator) or are it
COUNT_COLUMNS = ("numerator", "quarter_numerator")
VALUE_COLUMNS = ("value", "lower", "upper", "funnel_z")
QUARTER_COLUMNS = ("quarter_value", "chart_value", "spc_value")
CHANGE_COLUMNS = ("change_quarter", "change_year")
WITHHELD_COLUMNS = COUNT_COLUMNS + ("denominator", "quarter_denominator") + VALUE_COLUMNS + QUARTER_COLUMNS \
    + CHANGE_COLUMNS


def _series_lines(rows: list[tuple[int, dict]], period_type: str) -> list[Line]:
    """The lines of one indicator × area series (rows in period order: (frame index, row))."""
    lines: list[Line] = []
    by_period = {int(r["period_index"]): i for i, r in rows}
    for i, r in rows:
        p = int(r["period_index"])
        # a rate or percentage (or its interval) with its denominator gives the count back: any two of the
        # three give the third
        for col in ("value", "lower", "upper", "funnel_z"):
            lines.append(Line(((i, "numerator"), (i, "denominator"), (i, col)), prefer=((i, col),),
                              why=f"the {col.replace('_', ' ')} is worked out from the count"))
        for col in ("quarter_value", "chart_value", "spc_value"):
            lines.append(Line(((i, "quarter_numerator"), (i, "quarter_denominator"), (i, col)), prefer=((i, col),),
                              why=f"the {col.replace('_', ' ')} is worked out from the quarter's count"))
        if period_type in ("flow", "snapshot"):
            lines.append(Line(((i, "numerator"), (i, "quarter_numerator")), prefer=((i, "quarter_numerator"),),
                              why="the quarter's count is the same count"))
        # a change and the two values it is between
        for col, back in (("change_quarter", 1), ("change_year", 4)):
            j = by_period.get(p - back)
            if j is not None:
                lines.append(Line(((j, "value"), (i, "value"), (i, col)), prefer=((i, col),),
                                  why="the change from an earlier quarter would give it away"))
            else:
                lines.append(Line(((i, "value"), (i, col)), prefer=((i, col),), why="the change would give it away"))
        if period_type == "rolling_12m":
            parts = [by_period.get(p - k) for k in range(4)]
            if all(j is not None for j in parts):
                lines.append(Line(tuple((j, "quarter_numerator") for j in parts) + ((i, "numerator"),),
                                  why="the 12-month total and the other quarters would give it away"))
            prev, old = by_period.get(p - 1), by_period.get(p - 4)
            if prev is not None and old is not None:
                lines.append(Line(((i, "numerator"), (prev, "numerator"), (i, "quarter_numerator"),
                                   (old, "quarter_numerator")),
                                  why="the change in the 12-month total would give it away"))
        elif period_type == "fytd":
            prev = by_period.get(p - 1)
            if prev is not None and Quarter.from_index(p).q != 1:
                lines.append(Line(((prev, "numerator"), (i, "quarter_numerator"), (i, "numerator")),
                                  why="the year-to-date totals before and after would give it away"))
            else:
                lines.append(Line(((i, "numerator"), (i, "quarter_numerator")), prefer=((i, "quarter_numerator"),),
                                  why="the first quarter's count is the year-to-date count"))
    return lines


@dataclass
class Publication:
    """A dataset frame ready to publish: withheld cells as ``c``, unknown ones as ``x``, and why."""

    frame: object  # pandas.DataFrame
    withheld: list[dict]
    """One record per withheld cell: indicator_id, area_code, period, column, reason."""

    def summary(self) -> list[str]:
        """Plain sentences for a file's notes: how many cells were withheld, of which kind."""
        if not self.withheld:
            return ["No figure needed withholding: no count from 1 up to an indicator's threshold."]
        prim = sum(1 for w in self.withheld if w["reason"].startswith("primary"))
        cons = len(self.withheld) - prim
        return [f"{prim} small count(s) withheld (shown as c): each from 1 up to its indicator's threshold.",
                f"{cons} further figure(s) withheld (shown as c) because they would let a withheld count be "
                "worked out: the rate, percentage or interval built on it, the quarter's own figures, changes "
                "between quarters, and the other quarters of a 12-month or year-to-date total (secondary "
                "suppression, the GSS convention)."]


def publication_frame(frame, library) -> Publication:
    """``frame`` (``Dataset.frame`` rows) with small counts and everything that would reveal them withheld.

    Thresholds are each indicator's ``suppress_below``; only whole-number measures (counts of children or
    events) are suppressed, as ``display_suppressed`` does. Other numbers with no value read ``x``.
    """
    import numpy as np
    import pandas as pd

    out = frame.copy()
    cols = [c for c in WITHHELD_COLUMNS if c in out.columns]
    withheld = Withheld()
    inds = library.indicators
    counts = {k: (library.measures[i.numerator].whole_number if i.numerator in library.measures else False)
              for k, i in inds.items()}
    dens = {k: (bool(i.denominator) and i.denominator in library.measures
                and library.measures[i.denominator].whole_number and i.denominator != "population_0_17")
            for k, i in inds.items()}
    thresholds = out["indicator_id"].map({k: i.suppress_below for k, i in inds.items()}).fillna(0).to_numpy(float)
    is_count = out["indicator_id"].map(counts).fillna(False).to_numpy(bool)
    is_den = out["indicator_id"].map(dens).fillna(False).to_numpy(bool)

    def small(col: str, applies: np.ndarray) -> np.ndarray:
        if col not in out:
            return np.zeros(len(out), bool)
        v = pd.to_numeric(out[col], errors="coerce").to_numpy(float)
        return applies & np.isfinite(v) & (v > 0) & (v < thresholds)

    flagged = {c: small(c, is_count) for c in COUNT_COLUMNS}
    flagged.update({c: small(c, is_den) for c in ("denominator", "quarter_denominator")})
    any_small = np.zeros(len(out), bool)
    for m in flagged.values():
        any_small |= m
    positions = {idx: n for n, idx in enumerate(out.index)}
    # secondary suppression runs within one indicator × area series: lines never cross series
    series_keys = out.loc[any_small, ["indicator_id", "area_code"]].drop_duplicates()
    for ind_id, area in series_keys.itertuples(index=False):
        sel = out[(out["indicator_id"] == ind_id) & (out["area_code"] == area)
                  & ~out.get("is_forecast", pd.Series(False, index=out.index)).astype(bool)]
        sel = sel.sort_values("period_index")
        ind = inds.get(ind_id)
        t = int(ind.suppress_below) if ind else 0
        values = {}
        for idx, r in zip(sel.index, sel[cols].to_dict("records"), strict=True):
            for c in cols:
                v = r[c]
                values[(idx, c)] = float(v) if v is not None and pd.notna(v) else None
        for idx in sel.index:
            for c, m in flagged.items():
                if m[positions[idx]]:
                    withheld.add((idx, c), f"primary: a count from 1 to {t - 1}")
        rows = list(zip(sel.index, sel[["period_index"]].to_dict("records"), strict=True))
        lines = _series_lines(rows, ind.period_type.value if ind else "flow")
        lines = [Line(tuple(m for m in ln.members if m[1] in cols), tuple(m for m in ln.prefer if m[1] in cols),
                      ln.why) for ln in lines]
        periods = dict(zip(sel.index, sel["period"], strict=True))
        secondary(values, withheld, [ln for ln in lines if len(ln.members) > 1],
                  name=lambda key, periods=periods: f"{key[1].replace('_', ' ')} of {periods.get(key[0], '')}")
    records = []
    for col in cols:
        out[col] = out[col].astype(object)
    for (idx, col), reason in withheld.reasons.items():
        out.at[idx, col] = CONFIDENTIAL
        r = out.loc[idx]
        records.append({"indicator_id": r["indicator_id"], "area_code": r["area_code"], "period": r["period"],
                        "column": col, "reason": reason})
    for col in cols:
        out[col] = out[col].map(lambda v: NOT_AVAILABLE if v is None or (isinstance(v, float) and math.isnan(v))
                                else v)
    records.sort(key=lambda w: (w["indicator_id"], w["area_code"], w["period"], w["column"]))
    return Publication(out, records)
