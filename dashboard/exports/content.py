"""What the board's outputs say, as plain data: one summary row per indicator in words, per priority.

The scorecard (Excel), the board view, the slides and the board pack all draw from ``board_rows``, so they say
the same thing as the summary matrix on screen: value, RAG in words, variation and assurance icons as words,
neighbours and England, direction of travel, the data's state and the reasons in plain English.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from dashboard.components.icons import RUN_CHART, row_point_type, variation_label
from dashboard.data import MatrixRow, View
from dashboard.formatting import (
    ASSURANCE_WORDS,
    COMPARISON_WORDS,
    POINT_TYPE_SHORT,
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
    variation_short: str = ""
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
        variation_short=("Run chart" if point == RUN_CHART else POINT_TYPE_SHORT.get(point, "No data")),
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


# --- the board paper: what the board view, the slides and the board pack show -----------------------------

@dataclass
class ExceptionItem:
    """An exception as the board reads it: the summary row, the story behind it and its action plan."""

    row: BoardRow
    story: dict | None = None
    actions: list[dict] = field(default_factory=list)


@dataclass
class PrioritySection:
    id: str
    name: str
    exceptions: list[ExceptionItem] = field(default_factory=list)
    """The priority's exceptions shown here (each indicator once in the whole paper: under its first priority)."""
    also: list[tuple[str, str]] = field(default_factory=list)
    """Exceptions of this priority shown under an earlier one: (indicator label, the priority it is shown under)."""
    indicators: int = 0


@dataclass
class BoardPaper:
    area: str
    period: Quarter
    produced: str
    publication: bool
    summary: list[BoardRow]
    sections: list[PrioritySection]
    positives: list[BoardRow]
    data_quality: list[str]
    critical: list[dict]

    @property
    def exceptions(self) -> list[ExceptionItem]:
        return [e for s in self.sections for e in s.exceptions]


#: the fields a critical message carries (issue 10's governance records)
CRITICAL_FIELDS = ("id", "group", "message", "raised_on", "decision", "action", "owner", "due", "status",
                   "indicators")


def critical_messages(view: View) -> list[dict]:
    """The critical messages the business management group decided to take to the board, newest first, as plain
    dicts with ``CRITICAL_FIELDS`` in words: the sub-group's name, the decision, and the status (overdue when
    past its due date and not done). The one place the board view, slides and pack fetch them
    (``etl.messages.critical_messages``)."""
    from etl.messages import DECISIONS, STATUSES
    from etl.messages import critical_messages as fetch

    engine_of = getattr(view, "engine_getter", None)
    if engine_of is None:  # in the dashboard: the store the app serves
        from dashboard import data

        engine_of = data.source().engine
    groups = {g.id: g.name for g in view.board.subgroups}
    out = []
    for m in fetch(engine_of(), to_board=True):
        out.append({"id": m["id"], "group": groups.get(m["group"], m["group"]), "message": m["message"],
                    "raised_on": m["raised_on"], "decision": DECISIONS.get(m["decision"], m["decision"]),
                    "action": m["action"], "owner": m["owner"], "due": m["due"],
                    "status": STATUSES.get(m["standing"], m["standing"]), "indicators": m["indicators"]})
    return out


def message_line(m: dict) -> str:
    """A critical message in one sentence for the board: the sub-group, the message, and what is being done."""
    due = m.get("due")
    due = f"{due:%-d %B %Y}" if isinstance(due, (dt.date, dt.datetime)) else str(due or "no date")
    group = f"{m['group']}: " if m.get("group") else ""
    message = str(m.get("message") or "").rstrip()
    message += "" if message.endswith((".", "!", "?")) else "."
    return (f"{group}{message} Action: {m.get('action') or 'none recorded'} "
            f"({m.get('owner') or 'no owner'}, due {due}; {str(m.get('status') or 'open').lower()}).")


def data_quality_lines(view: View, period: Quarter) -> list[str]:
    """A line or two on the data behind the quarter: returns late, missing, revised; figures suppressed."""
    lines = []
    try:
        st = view.returns()
    except Exception:  # the status could not be read: say nothing rather than something wrong
        st = None
    if st is not None and len(st):
        q = st[st["period"] == str(period)]
        agencies = len(view.board.agencies)
        def names(kind):
            return sorted(q.loc[q["status"] == kind, "agency_name"].astype(str))
        late, missing, revised = names("late"), names("missing"), names("revised")
        received = int(q["status"].isin(["received", "late", "revised"]).sum())
        parts = [f"{received} of {agencies} agencies' returns for {period} are in"]
        if late:
            parts.append(f"late: {', '.join(late)}")
        if missing:
            parts.append(f"missing: {', '.join(missing)}")
        if revised:
            parts.append(f"revised since first sent: {', '.join(revised)}")
        awaited = names("not_yet_due")
        if awaited:
            parts.append(f"not yet due: {', '.join(awaited)}")
        lines.append("Data quality: " + "; ".join(parts) + ".")
    pv = view.at_period(period)
    suppressed = [pv.indicator(i).label for i in pv.indicators
                  if any(n.code == "data-suppressed" for n in pv.notes(i))]
    if suppressed:
        lines.append(f"Suppressed at source by the agency: {', '.join(sorted(suppressed))}.")
    if not lines:
        lines.append(f"Data quality: every return for {period} is in, on time and unrevised.")
    return lines


def board_paper(view: View, period: Quarter, priority_id: str | None = None, publication: bool = False,
                produced: str | None = None) -> BoardPaper:
    """Everything the board sees for a quarter: per priority its exceptions (each indicator once, with the
    priorities it serves), what is being done about them, the positive exceptions, the data's quality and the
    critical messages."""
    from dashboard.exports.common import produced_on

    per = board_rows(view, period, priority_id, publication)
    seen: dict[str, str] = {}
    sections, positives, summary, seen_summary = [], [], [], set()
    names = {p.id: p.name for p in view.board.priorities}
    for pid, rows in per.items():
        sec = PrioritySection(pid, names[pid], indicators=len(rows))
        for row in rows:
            if row.indicator_id not in seen_summary:
                seen_summary.add(row.indicator_id)
                summary.append(row)
            if row.is_exception:
                if row.indicator_id in seen:
                    sec.also.append((row.label, seen[row.indicator_id]))
                    continue
                seen[row.indicator_id] = sec.name
                story, actions = view.story(row.indicator_id)
                sec.exceptions.append(ExceptionItem(row, story, list(actions)))
            elif row.good_news and all(p.indicator_id != row.indicator_id for p in positives):
                positives.append(row)
        sections.append(sec)
    summary.sort(key=lambda r: (not r.is_exception, not r.good_news, r.label.lower()))
    return BoardPaper(view.area_name, period, produced or produced_on(), publication, summary, sections,
                      positives, data_quality_lines(view, period), critical_messages(view))
