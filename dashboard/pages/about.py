"""About the methods: how exceptions, SPC, comparisons and forecasts are worked out, in plain English."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard.components.icons import icon_key
from dashboard.components.layout import page_header

dash.register_page(__name__, path="/about", name="About the methods", title="About the methods – OBA dashboard",
                   order=4, nav=True, nav_label="About", description="How the figures are worked out")


def _section(title: str, *paras) -> html.Section:
    return html.Section([html.H2(title, className="section-title")] + [html.P(p) for p in paras],
                        className="about-section")


def layout(**_ignored) -> html.Div:
    return html.Div([
        page_header("About the methods", "How the dashboard turns the agencies' returns into the pictures the "
                                         "board sees."),
        _section(
            "Outcome-Based Accountability",
            "Every indicator answers one of three questions: How much did we do? How well did we do it? Is anyone "
            "better off? The priority pages group the indicators by those questions. Turning the curve means "
            "doing better than the baseline: where the indicator would go if nothing changed.",
        ),
        _section(
            "Where the numbers come from",
            "Each agency sends a quarterly return of raw counts (for example, referrals and re-referrals). The "
            "dashboard works out the percentages, rates per 10,000 children and averages from those counts, so "
            "that rates over 12 months and confidence intervals can be calculated. A figure an agency returned "
            "suppressed (a small number) is shown as \"suppressed\", never as 0; a figure not returned is shown as "
            "\"not returned\".",
        ),
        _section(
            "Exceptions",
            "An indicator is an exception when it needs the board's attention this quarter: it missed its target "
            "(red, or amber when within the tolerance), its SPC chart shows special-cause concern, the process "
            "limits show the target will consistently be missed, it is significantly worse than the statistical "
            "neighbours or England, it is in the bottom quarter of local authorities, or it is doing worse than "
            "the baseline frozen when its action plan started. Each exception lists its reasons in plain English "
            "so the PQA sub-group can agree or challenge it. Good news (special-cause improvement, significantly "
            "better than the neighbours, a turned curve) is shown too, but does not count as an exception. "
            "Missing, late, revised and suppressed data are not performance: they are noted beside the figures "
            "and on the Agency returns page, and a return that is not due yet is shown as awaited.",
        ),
        html.Section([
            html.H2("Statistical process control (SPC)", className="section-title"),
            html.P("SPC separates ordinary ups and downs (common cause variation) from changes worth looking into "
                   "(special cause variation). The dashboard draws an XmR chart the way NHS England's Making Data "
                   "Count programme does: the average, and process limits at the average plus or minus 2.66 times "
                   "the average moving range. A point is special cause when it falls outside the limits, when "
                   "seven quarters in a row sit on one side of the average (a shift), when seven quarters in a row "
                   "each rise or each fall (a trend), or when two of three quarters in a row are close to a limit. "
                   "With fewer than 13 points the limits are trial limits: a signal on them is raised as medium "
                   "at most, and said to be provisional."),
            html.P("A control chart assumes each point is independent of the last. So it plots each quarter's own "
                   "figures, even when the headline is a rolling 12 months or a year to date (those share most of "
                   "their months from one quarter to the next); for a stock such as children on a plan at quarter "
                   "end it plots the related flow (plans started in the quarter), or shows a run chart (the values "
                   "and their median, with no special-cause rules) and says why. When a percentage's "
                   "denominators vary by more than a quarter around their average, Laney's p′ chart gives each "
                   "point its own limits. After seven or more quarters on one side of the average the page "
                   "proposes a rebase at the start of the shift; the chart is only rebased when PQA decides so."),
            html.P("The variation icon shows the latest point's type and the assurance icon whether the target "
                   "will be met if nothing changes. Shape and letter carry the meaning as well as colour:"),
            icon_key(),
        ], className="about-section"),
        _section(
            "Comparisons",
            "Local figures are compared with published DfE figures like for like: a rolling 12-month or "
            "end-of-quarter figure against the latest published annual value, never one quarter against a year. "
            "The statistical neighbours are the 10 local authorities DfE judges most similar to this one. An area "
            "is significantly better or worse than its neighbours when its value lies outside the range the "
            "neighbours' own values make plausible for one more area like them (a 95% prediction interval, drawn "
            "as a band on the ranked chart); otherwise it is similar. Local authorities differ far more than "
            "chance alone explains, so England is compared the way funnel plots do it for over-dispersed data "
            "(Spiegelhalter 2005): the limits allow for the real spread between areas, and the chart says so. "
            "Each quarter is compared with the DfE year that was published by then. The funnel plot shows every "
            "local authority by size; points outside the funnel differ from England by more than chance and the "
            "usual spread between areas would explain (95% and 99.8% limits). When several areas report into one "
            "store, England, the region and the neighbours stay DfE's published figures; the reporting areas' own "
            "average is shown separately.",
        ),
        _section(
            "Forecasts: the baseline",
            "The forecast shows where an indicator goes if nothing changes, from its own history. The method is "
            "stated under each chart; the shaded bands are the ranges the value should fall in 80% and 95% of the "
            "time. A forecast is a baseline to beat, not a target or a prediction of what will happen.",
        ),
        _section(
            "Has the curve turned?",
            "When the PQA sub-group records the story behind an indicator's baseline and starts an action plan, "
            "the forecast made at that quarter is frozen. Every quarter reported since is set against it, not "
            "just the latest: their differences from the frozen forecast add up to one measure of evidence, which "
            "must clear a higher bar than a single look would need, because the question is asked again every "
            "quarter. One quarter inside the forecast's usual range is too early to say anything; the curve has "
            "turned when the evidence passes the bar on the better side, by more than the smallest change that "
            "matters for the indicator. For a rolling 12-month figure the test uses each quarter's own figures. "
            "The indicator page draws the frozen baseline and says what the evidence is.",
        ),
        _section(
            "Agency returns",
            "A return is due on the date the board sets for each agency (for example 20 working days after the "
            "quarter ends). It is late when its first version arrived after that date, missing when nothing has "
            "arrived by then, and revised when a corrected version replaced the first. Warnings found when a "
            "return was loaded (a figure typed as text, a blank cell) are kept with it.",
        ),
        _section(
            "Red, amber and green",
            "Green meets the target; amber misses it by no more than the tolerance; red misses it by more. "
            "Indicators that give context (where neither higher nor lower is better) have no RAG rating. The RAG "
            "rating is always written as a word as well as shown in colour.",
        ),
        html.Section([
            html.H2("Links you can share", className="section-title"),
            html.P(["The address in the browser holds what you are looking at: the page, the indicator, the "
                    "priority and the quarter, for example ", html.Code("/indicator/rereferral_rate?period=2025-26+Q2"),
                    ". Paste it in an email and it opens the same view. The ",
                    dcc.Link("This quarter", href="/"), " page is the place to start."]),
        ], className="about-section"),
    ])
