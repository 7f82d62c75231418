"""How numbers, periods and the dataset's codes read on screen.

Every label a board member sees for a code in the dataset (``special_cause_concern``, ``worse``,
``above_95``...) comes from here, so the matrix, the charts and the sentences under them say the same thing.
"""

from __future__ import annotations

import math
from typing import Any

from indicators.definitions import Indicator, Polarity, Unit
from indicators.periods import PeriodError, Quarter


def is_number(x: Any) -> bool:
    """True for a finite int/float (NaN, None, pandas NA and text are not numbers)."""
    try:
        return x is not None and not isinstance(x, bool) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def number(value: float, decimals: int = 1) -> str:
    """A number with thousands separators and a fixed number of decimals: 1,234.5."""
    return f"{float(value):,.{decimals}f}"


def unit_suffix(unit: Unit | str, short: bool = False) -> str:
    unit = Unit(unit)
    if short and unit == Unit.rate_per_10000:
        return " per 10k"
    return unit.suffix


def format_value(value: Any, unit: Unit | str, decimals: int = 1, status: str | None = "ok",
                 short: bool = False) -> str:
    """An indicator value as the board reads it: "24.0%", "412.3 per 10,000", "31.5 days", "1,204".

    A suppressed value reads "suppressed" and a value not returned reads "not returned": never 0.
    """
    if status == "suppressed":
        return "suppressed"
    if status == "missing":
        return "not returned"
    if status == "not_due":
        return "not yet due"
    if status == "no_population":
        return "no population"
    if not is_number(value):
        return "no data"
    unit = Unit(unit)
    if unit == Unit.count:
        decimals = 0 if float(value).is_integer() else decimals
    return number(value, decimals) + unit_suffix(unit, short)


def format_indicator_value(value: Any, indicator: Indicator, status: str | None = "ok", short: bool = False) -> str:
    return format_value(value, indicator.unit, indicator.decimals, status, short)


def format_change(change: Any, unit: Unit | str, decimals: int = 1) -> str:
    """A signed change: "+2.1 points" for percentages (percentage points, not per cent), "−3 per 10,000"."""
    if not is_number(change):
        return ""
    unit = Unit(unit)
    c = float(change)
    sign = "+" if c > 0 else ("−" if c < 0 else "±")
    body = number(abs(c), 0 if unit == Unit.count and c.is_integer() else decimals)
    suffix = {Unit.percentage: " points", Unit.rate_per_10000: " per 10,000", Unit.days: " days",
              Unit.count: ""}[unit]
    return f"{sign}{body}{suffix}"


def parse_quarter(text: Any) -> Quarter | None:
    """A quarter from a URL parameter, or None when absent or unreadable."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        return Quarter.parse(str(text))
    except (PeriodError, ValueError):
        return None


def year_label(year_ending: Any) -> str:
    """DfE's year ending 31 March as the financial year people write: 2025 → "2024-25"."""
    if not is_number(year_ending):
        return ""
    y = int(float(year_ending))
    return f"{y - 1}-{y % 100:02d}"


# --- words for the dataset's codes ---------------------------------------------------------------------

POINT_TYPE_WORDS = {
    "common_cause": "Common cause variation",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_concern": "Special cause: concern",
    "special_cause_neutral_high": "Special cause: neither better nor worse (high)",
    "special_cause_neutral_low": "Special cause: neither better nor worse (low)",
}
POINT_TYPE_SHORT = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Improvement",
    "special_cause_concern": "Concern",
    "special_cause_neutral_high": "Unusually high",
    "special_cause_neutral_low": "Unusually low",
}
ASSURANCE_WORDS = {
    "consistent_pass": "Will consistently meet the target",
    "consistent_fail": "Will consistently miss the target",
    "inconsistent": "Hit and miss: may or may not meet the target",
    "": "No target to assure against",
}
RAG_WORDS = {"red": "Red", "amber": "Amber", "green": "Green", "": "No target"}
RAG_MEANING = {
    "red": "misses the target by more than the tolerance",
    "amber": "misses the target, within the tolerance",
    "green": "meets the target",
    "": "has no target",
}
COMPARISON_WORDS = {
    "better": "Better",
    "worse": "Worse",
    "similar": "Similar",
    "higher": "Higher",
    "lower": "Lower",
    "not_compared": "Not compared",
    "": "Not compared",
}
TRAVEL_WORDS = {
    "improving": "Improving",
    "worsening": "Worsening",
    "no_change": "No change",
    "up": "Up",
    "down": "Down",
    "": "No earlier value",
}
STATUS_WORDS = {
    "ok": "Complete",
    "suppressed": "Suppressed",
    "missing": "Not returned",
    "partial": "Part of the period missing",
    "no_population": "No ONS population stored",
    "not_due": "Not yet due",
}
FUNNEL_WORDS = {
    "within": "within the expected range of England's value (inside the 95% funnel)",
    "above_95": "above England's expected range (outside the 95% funnel)",
    "above_99_8": "well above England's expected range (outside the 99.8% funnel)",
    "below_95": "below England's expected range (outside the 95% funnel)",
    "below_99_8": "well below England's expected range (outside the 99.8% funnel)",
}
SEVERITY_WORDS = {"high": "High", "medium": "Medium", "low": "Low", "positive": "Positive"}
EXCEPTION_SHORT = {
    "missed-target-red": "Missed target (red)",
    "missed-target-amber": "Missed target (amber)",
    "spc-concern": "Special cause concern",
    "assurance-fail": "Will consistently miss target",
    "worse-than-neighbours": "Worse than neighbours",
    "worse-than-england": "Worse than England",
    "bottom-quartile": "Bottom quartile",
    "data-missing": "Data missing",
    "data-no-population": "No population for the rate",
    "data-late": "Data late",
    "data-suppressed": "Data suppressed",
    "data-revised": "Data revised",
    "data-not-due": "Return not yet due",
    "spc-improvement": "Special cause improvement",
    "better-than-neighbours": "Better than neighbours",
    "curve-worsened": "Worse than the frozen baseline",
    "curve-turned": "Curve turned",
}
POLARITY_WORDS = {
    Polarity.higher_better: "Higher is better",
    Polarity.lower_better: "Lower is better",
    Polarity.context: "Context: neither higher nor lower is better in itself",
}


def word(table: dict[str, str], code: Any, default: str = "") -> str:
    """The label for a code, tolerant of NaN/None (read as empty)."""
    if code is None or (isinstance(code, float) and math.isnan(code)):
        code = ""
    return table.get(str(code), default or str(code).replace("_", " ").capitalize())


def travel_label(code: Any, arrow: Any = "") -> str:
    """"Improving ↑" and so on: the arrow shows which way the value moved, the word whether that is good."""
    text = word(TRAVEL_WORDS, code)
    arrow = arrow if isinstance(arrow, str) else ""
    return f"{text} {arrow}".strip()


def ordinal(n: int) -> str:
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
