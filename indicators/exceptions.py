"""RAG ratings, direction of travel and the exceptions raised for the board each quarter.

An exception is an indicator that needs the board's attention this quarter. Each carries the reasons it was
raised, each with a stable code, a severity and a sentence a board member understands, so the PQA
sub-group can agree or challenge it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators import columns
from indicators.definitions import Indicator, Polarity, Unit

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2, "positive": 3, "info": 4}
EXCEPTION_CODES = [
    "missed-target-red", "spc-concern", "assurance-fail", "worse-than-neighbours", "worse-than-england",
    "bottom-quartile", "curve-worsened", "missed-target-amber", "curve-turned", "spc-improvement",
    "better-than-neighbours",
]
"""Every performance exception reason code, most pressing first within a severity (see docs/dataset.md)."""
DATA_NOTE_CODES = ["data-missing", "data-no-population", "data-late", "data-suppressed", "data-revised",
                   "data-not-due"]
"""Every data-quality note code: shown beside the figures and on the returns page, never as an exception."""
EXCEPTION_COLUMNS = columns.names(columns.EXCEPTIONS)
DATA_NOTE_COLUMNS = columns.names(columns.DATA_NOTES)
TRIAL_LIMITS_SEVERITY = "medium"
"""The most a signal on trial limits (fewer than 13 points) can raise: the limits may still move."""


# --- RAG and travel ------------------------------------------------------------------------------------

def rag_rating(values, target: float | None, tolerance: float | None, polarity: Polarity | str,
               decimals: int | None = None) -> np.ndarray:
    """Red/amber/green against a target: green meets it, amber misses by no more than the tolerance, red by more.

    Empty where there is no target, no value, or the polarity is context. No tolerance means red on any miss.
    With ``decimals`` the value is judged as it is displayed (22.04% against a 22% target is green), so the
    board never reads "22.0%, short of the target of 22.0%".
    """
    v = np.asarray(values, dtype=float)
    if decimals is not None:
        v = np.round(v, decimals)
    pol = Polarity(polarity)
    if target is None or pol == Polarity.context:
        return np.full(v.shape, "", dtype=object)
    tol = tolerance or 0.0
    shortfall = (target - v) if pol == Polarity.higher_better else (v - target)
    return np.where(np.isnan(v), "", np.where(shortfall <= 0, "green", np.where(shortfall <= tol, "amber", "red")))


def travel(change, polarity: Polarity | str, tolerance: float = 1e-9) -> np.ndarray:
    """Direction of travel for a change: improving/worsening by polarity, up/down for context, no_change."""
    c = np.asarray(change, dtype=float)
    pol = Polarity(polarity)
    if pol == Polarity.context:
        up, down = "up", "down"
    elif pol == Polarity.higher_better:
        up, down = "improving", "worsening"
    else:
        up, down = "worsening", "improving"
    return np.where(np.isnan(c), "", np.where(c > tolerance, up, np.where(c < -tolerance, down, "no_change")))


# --- sentences -----------------------------------------------------------------------------------------

def format_value(value: float | None, ind: Indicator) -> str:
    """A value as the board reads it: "24.1%", "363.8 per 10,000", "1,234", "32.5 days"."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "no value"
    if ind.unit == Unit.count:
        return f"{value:,.0f}"
    return f"{value:,.{ind.decimals}f}{ind.unit.suffix}"


def spc_sentence(rule: str | None, direction: float, ind: Indicator) -> str:
    """The SPC signal in plain English, e.g. "Re-referrals: seven quarters in a row above the average (a shift);
    a cause for concern." (wording from ``indicators.spc.describe_rule``)."""
    from indicators.spc import describe_rule

    text = describe_rule(rule or "", direction, ind.polarity.improvement)
    return f"{ind.label}: {_lower_first(text)}."


# --- exceptions ----------------------------------------------------------------------------------------

def exception_reasons(row: pd.Series | dict, ind: Indicator, data_flags: dict | None = None,
                      bottom_quartile: bool = True) -> list[tuple[str, str, str]]:
    """The reasons one indicator's row is a performance exception (or good news): a list of
    (code, severity, sentence).

    ``row`` is a row of the dataset frame for the period; ``data_flags`` carries the "has the curve turned?"
    verdict (``curve_verdict``, ``curve_sentence``, ``frozen_at``). Late, missing, revised and suppressed data
    are not performance: :func:`data_notes` reports them.
    """
    reasons: list[tuple[str, str, str]] = []
    flags = data_flags or {}
    name = ind.label
    value = row.get("value")
    shown = format_value(value, ind)
    trial = bool(row.get("trial_limits"))
    trial_words = (" These are trial limits (fewer than 13 quarters), so the signal is provisional."
                   if trial else "")
    spc_severity = TRIAL_LIMITS_SEVERITY if trial else "high"

    rag = row.get("rag") or ""
    target = row.get("target")
    if rag == "red":
        reasons.append(("missed-target-red", "high", f"{name} is {shown}, worse than the target of "
                                                     f"{format_value(target, ind)} by more than the tolerance."))
    elif rag == "amber":
        reasons.append(("missed-target-amber", "medium", f"{name} is {shown}, just short of the target of "
                                                         f"{format_value(target, ind)} (within the tolerance)."))
    pt = row.get("spc_point_type") or ""
    if pt == "special_cause_concern":
        reasons.append(("spc-concern", spc_severity,
                        spc_sentence(row.get("spc_rule"), spc_direction(row), ind) + trial_words))
    elif pt == "special_cause_improvement":
        reasons.append(("spc-improvement", "positive",
                        spc_sentence(row.get("spc_rule"), spc_direction(row), ind) + trial_words))
    if row.get("assurance") == "consistent_fail":
        reasons.append(("assurance-fail", spc_severity,
                        f"{name}: the target of {format_value(target, ind)} lies outside the process limits on "
                        "the wrong side, so it will not be met without a change to the system." + trial_words))
    nb = row.get("vs_neighbours")
    lo, hi = row.get("neighbours_lower"), row.get("neighbours_upper")
    has_band = lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi)
    band = (f"the range its statistical neighbours' values make plausible ({format_value(lo, ind)} to "
            f"{format_value(hi, ind)})") if has_band else "its statistical neighbours' range"
    if nb == "worse":
        side = "above" if ind.polarity == Polarity.lower_better else "below"
        reasons.append(("worse-than-neighbours", "medium", f"{name} is {shown}, {side} {band}: significantly worse "
                                                           "than the neighbours."))
    elif nb == "better":
        side = "below" if ind.polarity == Polarity.lower_better else "above"
        reasons.append(("better-than-neighbours", "positive", f"{name} is {shown}, {side} {band}: significantly "
                                                              "better than the neighbours."))
    allowing = (", allowing for the usual spread between local authorities"
                if row.get("funnel_adjustment") == "additive" else "")
    england = format_value(row.get("england_value"), ind)
    if row.get("vs_england") == "worse":
        if bottom_quartile and row.get("quartile") == "D":
            reasons.append(("bottom-quartile", "medium", f"{name} is {shown}, in the bottom quarter of local "
                                                         f"authorities and significantly worse than England "
                                                         f"({england}){allowing}."))
        else:
            reasons.append(("worse-than-england", "medium", f"{name} is {shown}, significantly worse than England "
                                                            f"({england}){allowing}."))
    verdict = flags.get("curve_verdict")
    if verdict == "turned":
        reasons.append(("curve-turned", "positive", f"{name} (action plan since {flags.get('frozen_at')}): "
                                                    f"{_lower_first(flags.get('curve_sentence', 'The curve has turned.'))}"))
    elif verdict == "worsened":
        reasons.append(("curve-worsened", "medium", f"{name} (action plan since {flags.get('frozen_at')}): "
                                                    f"{_lower_first(flags.get('curve_sentence', 'Worse than the baseline.'))}"))
    return reasons


def data_notes(row: pd.Series | dict, ind: Indicator, return_flags: dict | None = None) -> list[tuple[str, str, str]]:
    """What the board should know about the data behind one indicator's row: (code, severity, sentence).

    ``return_flags`` describes the agency's return for the period: ``status`` (received, late, missing,
    not_yet_due...), ``late``, ``revised``, ``agency_name`` and ``due_date``. A return that is not yet due is
    said to be awaited, not missing.
    """
    notes: list[tuple[str, str, str]] = []
    flags = return_flags or {}
    name = ind.label
    status = row.get("status", "ok")
    period = row.get("period", "")
    agency = flags.get("agency_name", "the agency")
    if status in ("missing", "partial") and flags.get("status") == "not_yet_due":
        due = flags.get("due_date")
        when = f", due {_long_date(due)}" if due is not None and not pd.isna(due) else ""
        notes.append(("data-not-due", "info", f"{name}: the return from {agency} for {period} is not due yet{when}."))
    elif status == "missing":
        notes.append(("data-missing", "high", f"{name}: no figure for {period} — a measure was not returned."))
    if status == "no_population":
        notes.append(("data-no-population", "high", f"{name}: no ONS population of children aged 0 to 17 is "
                                                    f"stored for {period}, so the rate cannot be worked out; "
                                                    "import the ONS population file."))
    if status == "suppressed":
        notes.append(("data-suppressed", "low", f"{name}: a figure for {period} was returned suppressed, so the "
                                                "value cannot be shown."))
    if flags.get("late"):
        notes.append(("data-late", "low", f"{name}: the return from {agency} for {period} arrived after its due "
                                          "date."))
    if flags.get("revised"):
        notes.append(("data-revised", "low", f"{name}: {agency} resubmitted its return for {period} with changed "
                                             "figures."))
    return notes


def _long_date(day) -> str:
    day = pd.Timestamp(day)
    return f"{day.day} {day:%B %Y}"


def spc_direction(row: pd.Series | dict) -> float:
    """+1 when a row's SPC signal is above the mean or rising, −1 when below or falling."""
    d = row.get("spc_direction")
    if d is not None and np.isfinite(d) and d != 0:
        return float(d)
    v, m = row.get("spc_value", row.get("value")), row.get("spc_mean")
    try:
        return 1.0 if float(v) >= float(m) else -1.0
    except (TypeError, ValueError):
        return 1.0


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def sort_key(severity: str, code: str) -> int:
    """Order within a priority: by severity, then by how much the reason matters within it."""
    codes = EXCEPTION_CODES + DATA_NOTE_CODES
    return SEVERITY_ORDER[severity] * 100 + (codes.index(code) if code in codes else 99)
