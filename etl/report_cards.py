"""Report cards (seed 000, appendix 2): what each sub-group reports to each meeting.

A card holds what the sub-group wrote — the summary of its activity (what has it done, how much), the story its
data indicators tell and any difficulty getting accurate data in time, its activity for each board priority,
what difference it made to children and families and how it knows — and, filled from the dataset when shown or
exported, the data section: the indicators of the board priorities the sub-group leads, each with its latest
value, trend and RAG, the exceptions among them, and the late or missing returns behind them. Its critical
messages for the business management group are those raised from the card (``etl.messages``).

Exports: ``export_card(..., fmt="docx" | "pdf")`` (python-docx; the PDF by WeasyPrint from the same content
as HTML).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from etl.errors import OBAError
from etl.governance import InvalidField, _date, _text
from etl.records import save, versions
from etl.store import ReportCard
from indicators.board import Board
from indicators.definitions import Library
from indicators.periods import Quarter

FIELDS = ("group_id", "meeting_on", "activity", "data_story", "data_challenges", "priority_activity", "difference",
          "how_we_know")
HEADINGS = {
    "activity": ("Summary of sub-group activity", "What has the sub-group done? How much has it done?"),
    "data": ("Data indicators relevant to the work of the sub-group",
             "Which ones are they? What story do they tell? Are there any challenges in getting accurate data in "
             "a timely way?"),
    "messages": ("Critical messages for the business management group to consider", ""),
    "difference": ("What difference has the work of the sub-group made to children and families?",
                   "How does the sub-group know it has made this difference? What evidence is there?"),
}
TRAVEL = {"improving": "improving", "worsening": "worsening", "no_change": "no change", "up": "up", "down": "down"}


def _clean(board: Board, values: dict) -> dict:
    groups = {g.id for g in board.subgroups}
    group = (values.get("group_id") or "").strip()
    if group not in groups:
        raise InvalidField("group_id", f"'{group}' is not a sub-group in the board file; choose one of "
                                       f"{', '.join(sorted(groups)) or '(none)'}")
    out = {"group_id": group, "meeting_on": _date("meeting_on", values.get("meeting_on"), "the meeting date",
                                                  required=True)}
    for f, what in (("activity", "the summary of activity"), ("data_story", "the story the data tells"),
                    ("data_challenges", "the challenges with data"), ("difference", "the difference made"),
                    ("how_we_know", "how the sub-group knows")):
        out[f] = _text(f, values.get(f), what, required=False)
    pa = values.get("priority_activity") or {}
    if isinstance(pa, str):
        pa = json.loads(pa or "{}")
    known = {p.id for p in board.priorities}
    clean = {}
    for pid, text in pa.items():
        if pid not in known:
            raise InvalidField("priority_activity", f"'{pid}' is not a board priority")
        t = _text(f"priority_{pid}", text, f"the activity for {board.priority(pid).name}", required=False)
        if t:
            clean[pid] = t
    out["priority_activity"] = json.dumps(clean, sort_keys=True, ensure_ascii=False)
    if not (out["activity"] or out["data_story"] or clean or out["difference"]):
        raise InvalidField("activity", "the card is empty: write at least the summary of the sub-group's activity")
    return out


def _taken(engine: Engine, group: str, meeting: dt.date, other_than: int | None = None) -> int | None:
    with engine.connect() as conn:
        rid = conn.execute(select(ReportCard.id).where(ReportCard.group_id == group,
                                                       ReportCard.meeting_on == meeting)).scalar()
    return rid if rid is not None and rid != other_than else None


def create_card(engine: Engine, board: Board, by: str | None = None, at: dt.datetime | None = None,
                **values) -> ReportCard:
    """A sub-group's report card for a meeting (one per group and meeting: edit the existing one instead)."""
    clean = _clean(board, values)
    other = _taken(engine, clean["group_id"], clean["meeting_on"])
    if other is not None:
        raise InvalidField("meeting_on", f"there is already a report card for this sub-group's meeting on "
                                         f"{clean['meeting_on']:%-d %B %Y} (number {other}): edit that one")
    return save(engine, ReportCard, "report_card", FIELDS, clean, by=by, at=at, audit_action="report_card.add",
                target="report card")


def update_card(engine: Engine, board: Board, card_id: int, expected: int | None, by: str | None = None,
                at: dt.datetime | None = None, **changes) -> ReportCard:
    """Change a report card; the earlier version is kept."""
    with Session(engine) as s:
        row = s.get(ReportCard, card_id)
        if row is None:
            raise OBAError(f"there is no report card number {card_id}; nothing was changed")
        current = {f: getattr(row, f) for f in FIELDS}
    clean = _clean(board, {**current, **changes})
    other = _taken(engine, clean["group_id"], clean["meeting_on"], card_id)
    if other is not None:
        raise InvalidField("meeting_on", f"there is already a report card for that meeting (number {other})")
    return save(engine, ReportCard, "report_card", FIELDS, clean, record_id=card_id, expected=expected, by=by, at=at,
                audit_action="report_card.update", target="report card")


def _card_dict(r: ReportCard) -> dict:
    d = {f: getattr(r, f) for f in FIELDS}
    d["group"] = d.pop("group_id")
    d["priority_activity"] = json.loads(r.priority_activity or "{}")
    d.update(id=r.id, version=r.version, created_by=r.created_by, created_at=r.created_at, updated_by=r.updated_by,
             updated_at=r.updated_at)
    return d


def report_cards(engine: Engine, group: str | None = None) -> list[dict]:
    """The report cards, newest meeting first (optionally one sub-group's), as plain dicts."""
    stmt = select(ReportCard).order_by(ReportCard.meeting_on.desc(), ReportCard.group_id)
    if group:
        stmt = stmt.where(ReportCard.group_id == group)
    with Session(engine) as s:
        return [_card_dict(r) for r in s.scalars(stmt).all()]


def report_card(engine: Engine, group: str, meeting_on) -> dict | None:
    meeting = _date("meeting_on", meeting_on, "the meeting date", required=True)
    return next((c for c in report_cards(engine, group) if c["meeting_on"] == meeting), None)


def card_versions(engine: Engine, card_id: int) -> list[dict]:
    return versions(engine, "report_card", card_id)


# --- the data section ------------------------------------------------------------------------------------

def _fmt(ind, value) -> str:
    if value is None or value != value:
        return "no value"
    d = 0 if ind.unit.value == "count" else ind.decimals
    return f"{value:,.{d}f}{ind.unit.suffix}"


def data_quarter(periods: list[Quarter], meeting_on: dt.date) -> Quarter | None:
    """The quarter a meeting reports on: the latest with data that ended before the meeting."""
    before = [q for q in periods if q.end < meeting_on]
    return max(before) if before else None


def report_card_data(engine: Engine, board: Board, library: Library, card: dict) -> dict:
    """The data section of a card, filled from the dataset for the quarter the meeting reports on: for each
    indicator of the priorities the sub-group leads, its value, change over the quarter and the year, RAG and
    why it is an exception; and the late or missing returns of the agencies behind them."""
    from etl.access import load_dataset
    from etl.returns.status import return_status

    priorities = [p for p in board.priorities if p.subgroup == card["group"]]
    ids = list(dict.fromkeys(i.id for p in priorities for i in library.for_priority(p.id)))
    base = load_dataset(engine, board, library, forecasts=False)
    q = data_quarter(list(base.periods), card["meeting_on"])
    out = {"period": q.label if q else None, "priorities": [p.name for p in priorities], "indicators": [],
           "returns": []}
    if q is None or not ids:
        return out
    ds = base.as_of(q) if q != base.period else base
    rows = {r["indicator_id"]: r for r in ds.at(q).to_dict("records")}
    ex = ds.exceptions
    attention = ex[ex["severity"].isin(("high", "medium", "low"))] if len(ex) else ex
    reasons: dict[str, list[str]] = {}
    for r in attention.to_dict("records") if len(attention) else []:
        lst = reasons.setdefault(r["indicator_id"], [])
        if r["sentence"] not in lst:
            lst.append(r["sentence"])
    for i in ids:
        ind = library.indicators[i]
        r = rows.get(i) or {}
        out["indicators"].append({
            "indicator_id": i, "label": ind.label, "value": _fmt(ind, r.get("value")),
            "status": r.get("status") or "missing", "rag": r.get("rag") or "",
            "since_last_quarter": TRAVEL.get(r.get("travel_quarter") or "", "no earlier value"),
            "over_a_year": TRAVEL.get(r.get("travel_year") or "", "no earlier value"),
            "exception": reasons.get(i, [])})
    agencies = {library.indicators[i].agency for i in ids}
    status = return_status(engine, board, periods=[q])
    for r in status.to_dict("records"):
        if r["agency_code"] in agencies and r["status"] in ("late", "missing"):
            out["returns"].append({"agency": r["agency_name"], "period": r["period"], "status": r["status"],
                                   "days_late": None if r.get("days_late") != r.get("days_late")
                                   else r.get("days_late")})
    return out


# --- export ------------------------------------------------------------------------------------------------

def card_content(engine: Engine, board: Board, library: Library, card: dict) -> dict:
    """Everything a card shows, in the template's order, as plain text: title and sections."""
    from etl.messages import critical_messages

    group = next((g.name for g in board.subgroups if g.id == card["group"]), card["group"])
    data = report_card_data(engine, board, library, card)
    msgs = critical_messages(engine, source_ref=f"report_card {card['id']}")
    return {"title": f"{board.name} report card", "group": group,
            "meeting": f"{card['meeting_on']:%-d %B %Y}", "card": card, "data": data, "messages": msgs,
            "priorities": [(p.name, card["priority_activity"].get(p.id)) for p in board.priorities
                           if card["priority_activity"].get(p.id)]}


def _indicator_line(i: dict) -> str:
    rag = f", RAG {i['rag']}" if i["rag"] else ""
    return (f"{i['label']}: {i['value']} ({i['since_last_quarter']} since last quarter, {i['over_a_year']} over a "
            f"year{rag})")


def _docx(content: dict, path: Path) -> None:
    from docx import Document

    doc = Document()
    card, data = content["card"], content["data"]
    doc.add_heading(content["title"], 0)
    doc.add_paragraph(f"Sub-group and date the meeting was held: {content['group']}, {content['meeting']}")

    def section(key, text):
        title, prompt = HEADINGS[key]
        doc.add_heading(title, 1)
        if prompt:
            doc.add_paragraph(prompt).italic = True
        if text:
            for para in str(text).split("\n"):
                if para.strip():
                    doc.add_paragraph(para.strip())

    section("activity", card.get("activity"))
    section("data", card.get("data_story"))
    if data["period"]:
        doc.add_paragraph(f"From the dataset for {data['period']} ({', '.join(data['priorities'])}):")
        for i in data["indicators"]:
            doc.add_paragraph(_indicator_line(i), style="List Bullet")
            for s in i["exception"]:
                doc.add_paragraph(f"Exception: {s}", style="List Bullet 2")
        for r in data["returns"]:
            doc.add_paragraph(f"{r['agency']}'s {r['period']} return is {r['status']}.", style="List Bullet")
    if card.get("data_challenges"):
        doc.add_paragraph(f"Challenges in getting accurate data in time: {card['data_challenges']}")
    section("messages", None)
    for m in content["messages"] or []:
        doc.add_paragraph(m["message"], style="List Bullet")
    if not content["messages"]:
        doc.add_paragraph("None raised.")
    for name, text in content["priorities"]:
        doc.add_heading(f"Sub-group activity related to the board priority {name}", 1)
        doc.add_paragraph(text)
    section("difference", card.get("difference"))
    if card.get("how_we_know"):
        doc.add_paragraph(f"How we know: {card['how_we_know']}")
    doc.save(path)


def card_html(content: dict) -> str:
    """The card as a self-contained HTML page (no request to another host), for the PDF."""
    e = html.escape
    card, data = content["card"], content["data"]

    def paras(text):
        return "".join(f"<p>{e(p.strip())}</p>" for p in str(text or "").split("\n") if p.strip())

    def head(key):
        title, prompt = HEADINGS[key]
        return f"<h2>{e(title)}</h2>" + (f"<p class='prompt'>{e(prompt)}</p>" if prompt else "")

    parts = [f"<h1>{e(content['title'])}</h1>",
             f"<p class='meta'>Sub-group and date the meeting was held: <b>{e(content['group'])}</b>, "
             f"{e(content['meeting'])}</p>", head("activity"), paras(card.get("activity")), head("data"),
             paras(card.get("data_story"))]
    if data["period"]:
        items = "".join(f"<li>{e(_indicator_line(i))}" + "".join(f"<br><i>Exception: {e(s)}</i>"
                                                                  for s in i["exception"]) + "</li>"
                        for i in data["indicators"])
        items += "".join(f"<li>{e(r['agency'])}'s {e(r['period'])} return is {e(r['status'])}.</li>"
                         for r in data["returns"])
        parts.append(f"<p>From the dataset for {e(data['period'])} ({e(', '.join(data['priorities']))}):</p>"
                     f"<ul>{items}</ul>")
    if card.get("data_challenges"):
        parts.append(f"<p>Challenges in getting accurate data in time: {e(card['data_challenges'])}</p>")
    parts.append(head("messages"))
    parts.append("<ul>" + "".join(f"<li>{e(m['message'])}</li>" for m in content["messages"]) + "</ul>"
                 if content["messages"] else "<p>None raised.</p>")
    for name, text in content["priorities"]:
        parts.append(f"<h2>Sub-group activity related to the board priority {e(name)}</h2>{paras(text)}")
    parts += [head("difference"), paras(card.get("difference"))]
    if card.get("how_we_know"):
        parts.append(f"<p>How we know: {e(card['how_we_know'])}</p>")
    style = ("body{font-family:sans-serif;font-size:11pt;line-height:1.35} h1{font-size:18pt} "
             "h2{font-size:13pt;margin-top:14pt;border-bottom:1px solid #999} .prompt{color:#555;font-style:italic} "
             "@page{size:A4;margin:18mm}")
    return f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(content['title'])}</title>" \
           f"<style>{style}</style></head><body>{''.join(parts)}</body></html>"


def export_card(engine: Engine, board: Board, library: Library, group: str, meeting_on, path: Path,
                fmt: str) -> dict:
    """Write the card of ``group`` for the meeting on ``meeting_on`` as docx or pdf; return its content."""
    card = report_card(engine, group, meeting_on)
    if card is None:
        known = ", ".join(f"{c['meeting_on']:%Y-%m-%d}" for c in report_cards(engine, group)) or "none"
        raise OBAError(f"there is no report card for sub-group '{group}' and the meeting on {meeting_on} "
                       f"(its cards: {known})")
    content = card_content(engine, board, library, card)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    if fmt == "docx":
        _docx(content, tmp)
    elif fmt == "pdf":
        from weasyprint import HTML

        # no base URL and no fetches: everything is inline, so nothing is requested from anywhere
        HTML(string=card_html(content), url_fetcher=_no_fetch).write_pdf(tmp)
    else:
        raise OBAError(f"unknown format '{fmt}': use pdf or docx")
    tmp.replace(path)
    return content


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError(f"report cards load nothing from elsewhere ({url})")
