"""One-sentence summaries, generated from the data, that sit under every chart.

A board member who cannot see a chart (on a projector at the back of the room, or with a screen reader)
gets the same message from the sentence: what the latest value is, which way it moved, how it compares.
Each function takes plain rows (mappings with the dataset's column names) and returns text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.formatting import (
    ASSURANCE_WORDS,
    FUNNEL_WORDS,
    format_indicator_value,
    is_number,
    ordinal,
    plural,
    year_label,
)
from indicators.definitions import Indicator, Polarity
from indicators.exceptions import spc_direction
from indicators.spc import describe_rule

Row = Mapping[str, Any]


def _get(row: Row | None, key: str, default: Any = None) -> Any:
    if row is None:
        return default
    try:
        value = row[key]
    except (KeyError, IndexError):
        return default
    if value is None:
        return default
    if isinstance(value, float) and value != value:  # NaN
        return default
    return value


def _fmt(ind: Indicator, value: Any) -> str:
    return format_indicator_value(value, ind)


def _relation(ind: Indicator, value: float, other: float) -> str:
    """"above", "below" or "level with", judged at the precision the values are shown with."""
    a, b = round(float(value), ind.decimals), round(float(other), ind.decimals)
    if a > b:
        return "above"
    if a < b:
        return "below"
    return "level with"


def _moved(ind: Indicator, row: Row) -> str:
    change = _get(row, "change_quarter")
    if not is_number(change) or round(float(change), ind.decimals) == 0:
        return "stayed at" if is_number(change) else "was"
    return "rose to" if float(change) > 0 else "fell to"


def comparison_clause(ind: Indicator, row: Row) -> str:
    """", above the neighbours' average of 21.0%" (else England's value, else the target), or ""."""
    value = _get(row, "value")
    if not is_number(value):
        return ""
    year = year_label(_get(row, "comparator_year"))
    when = f" ({year})" if year else ""
    neighbours = _get(row, "neighbours_mean")
    if is_number(neighbours):
        return f", {_relation(ind, value, neighbours)} the statistical neighbours' average of {_fmt(ind, neighbours)}{when}"
    england = _get(row, "england_value")
    if is_number(england):
        return f", {_relation(ind, value, england)} England's {_fmt(ind, england)}{when}"
    target = _get(row, "target")
    if is_number(target):
        return f", against a target of {_fmt(ind, target)}"
    return ""


def latest_sentence(ind: Indicator, row: Row | None) -> str:
    """"Re-referrals rose to 24.0% in 2025-26 Q2, above the statistical neighbours' average of 21.0%.\""""
    if row is None:
        return f"There is no data for {ind.label} yet."
    period = _get(row, "period", "")
    status = _get(row, "status", "ok")
    if status == "suppressed":
        return (f"{ind.label} for {period} is suppressed: it rests on a count too small to publish, "
                "so it is not shown (it is not zero).")
    if status == "no_population":
        return (f"{ind.label} for {period} cannot be worked out: no ONS population of children aged 0 to 17 "
                "is stored; import the ONS population file with `oba benchmarks import`.")
    if status == "missing" or not is_number(_get(row, "value")):
        return f"{ind.label} for {period} cannot be worked out: a figure it needs was not returned."
    value = _fmt(ind, _get(row, "value"))
    partial = " (part of the period is missing)" if status == "partial" else ""
    return f"{ind.label} {_moved(ind, row)} {value} in {period}{partial}{comparison_clause(ind, row)}."


def baseline_summary(ind: Indicator, latest: Row | None, forecast: Sequence[Row]) -> str:
    """The latest value, then where the forecast says it goes if nothing changes."""
    first = latest_sentence(ind, latest)
    fc = [r for r in forecast if is_number(_get(r, "forecast"))]
    if not fc:
        return first + " There are too few quarters for a forecast."
    end = fc[-1]
    lo, hi = _get(end, "forecast_lo80"), _get(end, "forecast_hi80")
    interval = (f" (80% range {_fmt(ind, lo)} to {_fmt(ind, hi)})"
                if is_number(lo) and is_number(hi) else "")
    target = _get(latest, "target")
    against = ""
    if is_number(target) and ind.polarity != Polarity.context:
        good = (float(_get(end, "forecast")) >= float(target)) if ind.polarity == Polarity.higher_better \
            else (float(_get(end, "forecast")) <= float(target))
        against = f", which {'meets' if good else 'misses'} the target of {_fmt(ind, target)}"
    return (first + f" If nothing changes, it is forecast to be {_fmt(ind, _get(end, 'forecast'))} by "
            f"{_get(end, 'period', 'the end of the forecast')}{interval}{against}.")


CHART_WORDS = {
    "xmr": "XmR chart (Making Data Count)",
    "p_prime": "Laney p′ chart",
    "u_prime": "Laney u′ chart",
    "run": "Run chart",
}


def _chart_kind(rows: Sequence[Row]) -> str:
    return next((str(_get(r, "spc_chart")) for r in reversed(rows) if _get(r, "spc_chart")), "xmr")


def spc_title(ind: Indicator, rows: Sequence[Row]) -> str:
    """The control chart's title: what it plots and which chart it is."""
    what = ind.chart.title or ind.label
    return f"{what}: {CHART_WORDS.get(_chart_kind(rows), 'control chart')}"


def spc_note(ind: Indicator, rows: Sequence[Row]) -> str:
    """What the control chart plots and why, in words: the headline is not always what it can chart."""
    kind = _chart_kind(rows)
    plots = ind.chart.plots.value
    reason = (ind.chart.reason or "").rstrip(".")
    if plots == "run_chart":
        text = (f"A run chart of {ind.label.lower()}: {reason}. It shows the values and their median without "
                "special-cause rules or icons.")
    elif plots == "headline":
        text = "The chart plots each quarter's own figure, as the headline does."
    else:
        text = (f"The headline is {_period_words(ind)}, which DfE's figures are compared with; the chart plots "
                f"{(ind.chart.title or 'each quarter on its own').lower()}, because {reason}.")
    if kind in ("p_prime", "u_prime"):
        text += (" The quarters' denominators vary by more than a quarter around their average, so Laney's "
                 f"{'p′' if kind == 'p_prime' else 'u′'} chart gives each point its own limits (wider where the "
                 "denominator is small) and allows for variation between quarters beyond chance.")
    has_target = any(is_number(_get(r, "target")) for r in rows)
    if has_target and not ind.chart_on_headline_scale and plots != "run_chart":
        text += " The target is for the headline, so the chart has no assurance icon."
    return text


def rebase_proposal(ind: Indicator, rows: Sequence[Row]) -> str:
    """The proposal to rebase the chart after a sustained shift, with its evidence; empty when there is none."""
    latest = next((r for r in reversed(rows) if is_number(_get(r, "spc_value", _get(r, "value")))), None)
    proposal = _get(latest, "spc_rebase_proposal", "") if latest is not None else ""
    if not proposal:
        return ""
    start = next((_get(r, "period_index") for r in rows if _get(r, "period") == proposal), None)
    since = [r for r in rows if start is not None and is_number(_get(r, "spc_value"))
             and _get(r, "period_index") >= start]
    side = "below" if float(_get(latest, "spc_value")) < float(_get(latest, "spc_mean")) else "above"
    return (f"Proposed rebase: all {len(since)} quarters since {proposal} are {side} the average, a sustained "
            f"shift, so the process may have changed. If PQA agrees that something changed in {proposal}, record "
            f"the decision with its reason (`oba curve rebase {ind.id} --period \"{proposal}\" --reason ...`) and "
            "the chart starts new limits there. It is never rebased automatically.")


def _period_words(ind: Indicator) -> str:
    return {"rolling_12m": "the 12 months ending with the quarter", "fytd": "the financial year to date",
            "snapshot": "the figure at the end of the quarter", "flow": "the quarter's figure"}[ind.period_type.value]


def spc_summary(ind: Indicator, rows: Sequence[Row]) -> str:
    """What the control chart says about the latest point, naming the rule that fired in the same words as the
    exception does (``indicators.spc.describe_rule``)."""
    actual = [r for r in rows if is_number(_get(r, "spc_value", _get(r, "value")))]
    if not actual:
        return f"There are no values of {ind.label} to chart yet."
    last = actual[-1]
    period = _get(last, "period", "")
    shown = _fmt(ind, _get(last, "spc_value", _get(last, "value")))
    if _chart_kind(actual) == "run":
        return (f"The latest value is {shown} in {period}, against a median of {_fmt(ind, _get(last, 'spc_mean'))} "
                f"over the {len(actual)} quarters charted. A run chart draws no process limits, so it raises no "
                "special-cause signals.")
    point = _get(last, "spc_point_type", "common_cause")
    limits = ""
    if is_number(_get(last, "spc_lpl")) and is_number(_get(last, "spc_upl")):
        where = " for this quarter" if _chart_kind(actual) in ("p_prime", "u_prime") else ""
        limits = (f" The process limits{where} are {_fmt(ind, _get(last, 'spc_lpl'))} to "
                  f"{_fmt(ind, _get(last, 'spc_upl'))} around an average of {_fmt(ind, _get(last, 'spc_mean'))}")
        limits += (" (trial limits: fewer than 13 points)." if _get(last, "trial_limits", False) else ".")
    else:
        limits = " There are too few distinct values to set process limits."
    if point == "common_cause":
        head = (f"The latest value ({shown} in {period}) shows only common cause "
                "variation: nothing unusual by the SPC rules.")
    else:
        kind = {
            "special_cause_improvement": "special cause improvement",
            "special_cause_concern": "special cause concern",
            "special_cause_neutral_high": "an unusually high value (special cause)",
            "special_cause_neutral_low": "an unusually low value (special cause)",
        }.get(str(point), str(point).replace("_", " "))
        rule = _get(last, "spc_rule")
        because = ""
        if rule:
            text = describe_rule(str(rule), int(spc_direction(last)), ind.polarity.improvement).rstrip(".")
            because = f" because of {text[:1].lower()}{text[1:]}"
        head = f"The latest value ({shown} in {period}) is {kind}{because}."
    assurance = _get(last, "assurance", "")
    tail = f" {ASSURANCE_WORDS[assurance]}." if assurance in ("consistent_pass", "consistent_fail", "inconsistent") else ""
    return head + limits + tail


def benchmark_summary(ind: Indicator, area_name: str, ranked: Sequence[Row], year: Any = None,
                      england: Any = None, region: Any = None, region_name: str = "the region",
                      own_period: Any = None, rank: Any = None, level: float = 0.95) -> str:
    """Where this area ranks among its statistical neighbours, with England and the region.

    ``own_period``: the quarter this area's value is for, when it is set against the others' published year.
    ``rank``: the dataset's rank (ties share a place); without it, the position in ``ranked``.
    """
    when = f" in {year_label(year)}" if year_label(year) else ""
    mine = [r for r in ranked if _get(r, "is_self")]
    with_values = [r for r in ranked if is_number(_get(r, "value"))]
    if not with_values:
        return f"No published comparison is available for {ind.label}."
    if not mine or not is_number(_get(mine[0], "value")):
        return (f"{area_name} has no published value for {ind.label}{when}; "
                f"{plural(len(with_values), 'neighbour')} had one.")
    value = _get(mine[0], "value")
    position = int(rank) if is_number(rank) else with_values.index(mine[0]) + 1
    n = len(with_values)
    if ind.polarity == Polarity.context:
        rank = f"has the {ordinal(position)} highest value of {n}"
    else:
        rank = f"ranks {ordinal(position)} of {n} (1st is best)"
    if own_period:
        head = (f"{area_name}, at {_fmt(ind, value)} in {own_period}, {rank} against its statistical "
                f"neighbours' published figures{' for ' + year_label(year) if year_label(year) else ''}")
    else:
        head = f"{area_name} {rank} among itself and its statistical neighbours{when}, at {_fmt(ind, value)}"
    parts = [head]
    if is_number(england):
        parts.append(f"England {_fmt(ind, england)}")
    if is_number(region):
        parts.append(f"{region_name} {_fmt(ind, region)}")
    return "; ".join(parts) + ". " + neighbours_test_sentence(ind, area_name, value, ranked, level)


def neighbours_test_sentence(ind: Indicator, area_name: str, value: Any, ranked: Sequence[Row],
                             level: float = 0.95) -> str:
    """Says what the neighbours test is and what it found: the area against the range one more area like the
    neighbours would fall in (their prediction interval), not against their average as a fixed number."""
    from dashboard.components.charts import neighbours_band

    band = neighbours_band(ranked, level)
    if band is None or not is_number(value):
        return "Too few neighbours have a value to test whether it differs from them."
    lo, hi, mean, k = band
    lo = max(lo, 0.0)
    rng = (f"{_fmt(ind, lo)} to {_fmt(ind, hi)}, the {level:.0%} range one more area like its {k} neighbours "
           f"would fall in, from their average of {_fmt(ind, mean)} and their spread")
    v = float(value)
    if lo <= v <= hi:
        return f"{area_name} is within {rng}: not significantly different from them."
    side = "above" if v > hi else "below"
    if ind.polarity == Polarity.context:
        verdict = f"significantly {'higher' if v > hi else 'lower'} than them"
    else:
        better = (v > hi) == (ind.polarity == Polarity.higher_better)
        verdict = f"significantly {'better' if better else 'worse'} than them"
    return f"{area_name} is {side} {rng}: {verdict}."


def funnel_summary(ind: Indicator, area_name: str, position: Any, n_areas: int, year: Any = None,
                   own_period: Any = None, adjustment: Any = None, phi: Any = None, tau2: Any = None) -> str:
    """Where this area sits on the funnel plot against England, and what the limits allow for.

    ``adjustment``, ``phi``, ``tau2``: the row's ``funnel_adjustment``, ``overdispersion_phi`` and
    ``random_effects_tau2``; when the indicator is over-dispersed the sentence says the limits were widened.
    """
    when = f" in {year_label(year)}" if year_label(year) else ""
    if not n_areas:
        return f"No local authority values are published for {ind.label}."
    where = FUNNEL_WORDS.get(str(position or ""))
    areas = plural(n_areas, "local authority", "local authorities")
    if not where:
        return f"The funnel plot shows {areas}{when}; {area_name} could not be placed on it."
    who = f"{area_name} ({own_period})" if own_period else area_name
    if adjustment == "additive" and is_number(phi) and is_number(tau2):
        return (f"Of {areas}{when}, {who} is {where}. Local authorities differ from each other far more than "
                f"chance alone would make them (over-dispersion φ = {float(phi):,.1f}), so the limits are widened "
                f"by the spread between areas (additive random effects, τ² = {float(tau2):,.4g}): a point outside "
                "them differs from England by more than areas usually do.")
    return (f"Of {areas}{when}, {who} is {where}; points outside the funnel differ from England by more than "
            "chance would explain.")


def trend_summary(ind: Indicator, rows: Sequence[Row]) -> str:
    """For a small multiple: the latest value and the change over the year."""
    actual = [r for r in rows if _get(r, "status") in ("ok", "partial", "suppressed", "missing") or
              is_number(_get(r, "value"))]
    if not actual:
        return f"{ind.label}: no data yet."
    last = actual[-1]
    period = _get(last, "period", "")
    status = _get(last, "status", "ok")
    value = format_indicator_value(_get(last, "value"), ind, status)
    change = _get(last, "change_year")
    if is_number(change) and status in ("ok", "partial"):
        year_ago = float(_get(last, "value")) - float(change)
        direction = "up from" if round(float(change), ind.decimals) > 0 else (
            "down from" if round(float(change), ind.decimals) < 0 else "the same as")
        return f"{ind.label}: {value} in {period}, {direction} {_fmt(ind, year_ago)} a year before."
    return f"{ind.label}: {value} in {period}."


def priority_summary(priority_name: str, n_indicators: int, n_exceptions: int, period: str) -> str:
    if n_indicators == 0:
        return f"No indicator serves {priority_name} yet."
    if n_exceptions == 0:
        return f"None of the {plural(n_indicators, 'indicator')} for {priority_name} is an exception in {period}."
    return (f"{n_exceptions} of the {plural(n_indicators, 'indicator')} for {priority_name} "
            f"{'is an exception' if n_exceptions == 1 else 'are exceptions'} in {period}.")
