"""Agency returns: which agencies sent their quarterly return, when, and what was wrong with it."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, html, no_update

from dashboard.components.layout import notice, page_header, period_search, period_select
from dashboard.components.returns_grid import STATUS, returns_counts, returns_grid
from dashboard.components.state import with_view
from dashboard.data import View
from dashboard.formatting import plural
from indicators.periods import Quarter

QUARTERS_SHOWN = 6

dash.register_page(__name__, path="/returns", name="Agency returns", title="Agency returns – OBA dashboard",
                   order=3, nav=True, description="Each agency's quarterly returns: received, late, missing, revised")


def layout(period: str | None = None, **_ignored) -> object:
    return with_view(lambda v: build(v, period))


def _known_periods(v: View, status) -> list[Quarter]:
    found = set(v.periods)
    if status is not None and len(status):
        found |= {Quarter.parse(p) for p in status["period"].unique()}
    return sorted(found)


def counts_sentence(counts: dict[str, int], period: Quarter, n_agencies: int) -> str:
    """"6 of 8 agencies' returns for 2026-27 Q2 are in: 1 late, 1 revised; 1 missing.\""""
    arrived = counts.get("received", 0) + counts.get("late", 0) + counts.get("revised", 0)
    parts = [f"{arrived} of {plural(n_agencies, 'agency', 'agencies')} sent their return for {period}"]
    extra = [f"{counts[k]} {STATUS[k][1].lower()}" for k in ("late", "revised") if counts.get(k)]
    if extra:
        parts[0] += f" ({', '.join(extra)})"
    gaps = [f"{counts[k]} {STATUS[k][1].lower()}" for k in ("missing", "not_yet_due", "") if counts.get(k)]
    if gaps:
        parts.append(", ".join(gaps))
    return "; ".join(parts) + "."


def build(v: View, period_text: str | None) -> html.Div:
    from dashboard.policy import visible_agencies

    mine = visible_agencies(v.board)  # a submitter sees their own agency's row only
    status = v.returns()
    if len(mine) != len(v.board.agencies):
        status = status[status["agency_code"].isin([a.code for a in mine])]
    periods = _known_periods(v, status)
    if not periods:
        return html.Div([page_header("Agency returns"), notice("No returns have been recorded yet.", "info")])
    latest = periods[-1]
    note = ""
    end = latest
    if period_text:
        from dashboard.formatting import parse_quarter

        asked = parse_quarter(period_text)
        if asked is None or asked not in periods:
            note = f"There are no returns for '{period_text}'; showing up to {latest}."
        else:
            end = asked
    shown = [q for q in periods if q <= end][-QUARTERS_SHOWN:]
    agencies = [(a.code, a.name) for a in mine]
    counts = returns_counts(status, end, agencies)
    legend = html.Ul([html.Li([html.Span(sym, className="sym", **{"aria-hidden": "true"}), words],
                              className=f"ret-legend ret-{css}")
                      for key, (sym, words, css) in STATUS.items() if key],
                     className="legend-list", **{"aria-label": "Key to the return statuses"})
    return html.Div([
        page_header("Agency returns", counts_sentence(counts, end, len(agencies)),
                    period_select("returns-period", sorted(periods, reverse=True), end, "Up to")),
        notice(note) if note else None,
        html.P("Open a cell (click it, or Tab to it and press Enter) to see the due and received dates, the "
               "warnings found when the return was loaded, and any measures it lacked.", className="hint"),
        legend,
        returns_grid(status, agencies, shown),
        _sources(v),
    ])


def _sources(v: View):
    """The information-sources table, for those who read the whole dataset (not a submitter)."""
    from dashboard.auth import request_identity
    from dashboard.components.evidence_forms import sources_table

    ident = request_identity()
    if ident is not None and not ident.can("read"):
        return None
    return sources_table(v.board)


@callback(
    Output("_pages_location", "search", allow_duplicate=True),
    Input("returns-period", "value"),
    State("returns-period-shown", "data"),
    State("_pages_location", "search"),
    prevent_initial_call=True,
)
def choose_period(value: str | None, shown: str | None, search: str | None):
    """Put the chosen quarter in the URL, so the view can be shared and the back button works."""
    new = period_search(value, shown, search)
    return no_update if new is None else new
