"""What the board's outputs say, as plain data: one summary row per indicator in words, per priority.

The scorecard (Excel), the board view, the slides and the board pack all draw from ``board_rows``, so they say
the same thing as the summary matrix on screen: value, RAG in words, variation and assurance icons as words,
neighbours and England, direction of travel, the data's state and the reasons in plain English.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dashboard.components.icons import RUN_CHART, row_point_type, variation_label
from dashboard.data import MatrixRow, View
from dashboard.formatting import (
    ASSURANCE_WORDS,
    COMPARISON_WORDS,
    RAG_WORDS,
    STATUS_WORDS,
    format_indicator_value,
    is_number,
    travel_label,
    word,
)
from indicators.periods import Quarter
from indicators.suppression import CONFIDENTIAL, publication_frame

WITHHELD_REASON = ("Reason withheld in publication mode: it quotes a figure that rests on a small number "
                   "(the figure is shown as c).")


class Published:
    """The figures of the board's own area as they may be published: withheld ones read ``c``."""

    def __init__(self, view: View):
        frame = view.frame[~view.frame["is_forecast"].astype(bool)]
        pub = publication_frame(frame, view.library)
        self.withheld = pub.withheld
        self._cells = {(w["indicator_id"], w["period"], w["column"]) for w in pub.withheld}

    def hidden(self, indicator_id: str, period: Any, column: str = "value") -> bool:
        return (indicator_id, str(period), column) in self._cells


@dataclass
class BoardRow:
    """One indicator in one quarter, in words."""

    indicator_id: str
    label: str
    title: str
    question: str
    priorities: list[str]
    value: float | str | None
    value_text: str
    unit: str
    decimals: int
    target: float | None
    rag: str
    rag_text: str
    variation_text: str
    assurance_text: str
    neighbours_text: str
    england_text: str
    travel_text: str
    travel_year_text: str
    data_text: str
    trend: list[tuple[str, float | str | None]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    good_news: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    is_exception: bool = False
    withheld: bool = False


def board_row(view: View, mr: MatrixRow, period: Quarter, published: Published | None = None,
              trend_quarters: int = 6) -> BoardRow:
    ind, row = mr.indicator, mr.row or {}
    status = row.get("status", "missing" if not row else "ok")
    if any(r.code == "data-not-due" for r in mr.notes):
        status = "not_due"
    hidden = published is not None and published.hidden(ind.id, period)
    value = row.get("value") if is_number(row.get("value")) else None
    text = format_indicator_value(value, ind, status) if row else "no data"
    if hidden:
        value, text = CONFIDENTIAL, f"{CONFIDENTIAL} (withheld: small number)"
    point = row_point_type(row)
    variation = ("Run chart: no special-cause rules" if point == RUN_CHART
                 else variation_label(point, ind.polarity).removeprefix("Variation: ") if point else "No data")
    assurance = word(ASSURANCE_WORDS, row.get("assurance") or "")
    if row.get("trial_limits") and row.get("assurance"):
        assurance += " (trial limits: fewer than 13 quarters)"
    no_travel = status in ("suppressed", "missing", "no_population", "not_due") or hidden
    hist = view.history(ind.id, period)[-trend_quarters:]
    trend = []
    for h in hist:
        v = h.get("value") if is_number(h.get("value")) else None
        if published is not None and published.hidden(ind.id, h["period"]):
            v = CONFIDENTIAL
        trend.append((Quarter.parse(h["period"]).short, v))
    target = row.get("target") if is_number(row.get("target")) else None
    names = {p.id: p.name for p in view.board.priorities}
    change_hidden = published is not None and published.hidden(ind.id, period, "change_quarter")
    return BoardRow(
        indicator_id=ind.id, label=ind.label, title=ind.title, question=ind.question.title,
        priorities=[names.get(p, p) for p in ind.priorities if p in names],
        value=value, value_text=text, unit=ind.unit.value, decimals=ind.decimals, target=target,
        rag=str(row.get("rag") or ""), rag_text=word(RAG_WORDS, row.get("rag") or ""),
        variation_text=variation, assurance_text=assurance,
        neighbours_text=word(COMPARISON_WORDS, row.get("vs_neighbours") or "not_compared"),
        england_text=word(COMPARISON_WORDS, row.get("vs_england") or "not_compared"),
        travel_text="–" if no_travel or change_hidden else travel_label(row.get("travel_quarter"),
                                                                       row.get("trend_arrow")),
        travel_year_text="–" if no_travel else word(
            {"improving": "Improving", "worsening": "Worsening", "no_change": "No change", "up": "Up",
             "down": "Down"}, row.get("travel_year") or "", "No earlier value"),
        data_text="; ".join([word(STATUS_WORDS, status)] + [n.sentence for n in mr.notes
                                                            if n.code in ("data-late", "data-revised")]),
        trend=trend,
        reasons=[WITHHELD_REASON if hidden else r.sentence for r in mr.attention],
        good_news=[WITHHELD_REASON if hidden else r.sentence for r in mr.good_news],
        notes=[n.sentence for n in mr.notes],
        is_exception=mr.is_exception, withheld=hidden,
    )


def board_rows(view: View, period: Quarter, priority_id: str | None = None, publication: bool = False,
               trend_quarters: int = 6) -> dict[str, list[BoardRow]]:
    """Per board priority (or just ``priority_id``), its indicators in the matrix's order, in words."""
    pv = view.at_period(period)
    published = Published(pv) if publication else None
    out: dict[str, list[BoardRow]] = {}
    for p in view.board.priorities:
        if priority_id and p.id != priority_id:
            continue
        out[p.id] = [board_row(pv, mr, period, published, trend_quarters) for mr in pv.matrix(p.id)]
    return out
