"""Financial-year quarters, the way UK public bodies write them.

Quarter 1 of 2025-26 is April to June 2025; Q4 is January to March 2026. People write a quarter as
"2025-26 Q2", "2025/26 Q2", "Q2 2025-26" or "Q2 2025/26"; the canonical label is "2025-26 Q2".
DfE's annual statistics use the year the financial year ends in (EES ``time_period`` 2025 = 2024-25).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import total_ordering

__all__ = ["Quarter", "PeriodError", "parse_period", "quarter_range"]


class PeriodError(ValueError):
    """A period could not be read as a financial-year quarter."""


_FY = r"(?P<y1>\d{4})\s*[-/]\s*(?P<y2>\d{2}|\d{4})"
_PATTERNS = [
    re.compile(rf"^\s*(?:FY\s*)?{_FY}\s*,?\s*Q(?:uarter)?\s*(?P<q>[1-4])\s*$", re.IGNORECASE),
    re.compile(rf"^\s*Q(?:uarter)?\s*(?P<q>[1-4])\s*,?\s*(?:FY\s*)?{_FY}\s*$", re.IGNORECASE),
]


@total_ordering
@dataclass(frozen=True, slots=True)
class Quarter:
    """A quarter of a financial year: ``fy`` is the year the financial year starts in (2025 for 2025-26)."""

    fy: int
    q: int

    def __post_init__(self) -> None:
        if self.q not in (1, 2, 3, 4):
            raise PeriodError(f"quarter must be 1 to 4, not {self.q}")

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Read "2025-26 Q2", "2025/26 Q2", "Q2 2025-26" or "Q2 2025/26" (case and spacing free)."""
        if isinstance(text, Quarter):
            return text
        for pattern in _PATTERNS:
            m = pattern.match(str(text))
            if m:
                y1 = int(m["y1"])
                y2 = m["y2"]
                expected = (y1 + 1) % 100 if len(y2) == 2 else y1 + 1
                if int(y2) != expected:
                    raise PeriodError(
                        f"'{text}' is not a financial year: the second year should follow the first "
                        f"(e.g. {y1}-{(y1 + 1) % 100:02d})"
                    )
                return cls(y1, int(m["q"]))
        raise PeriodError(
            f"'{text}' is not a quarter; write it like '2025-26 Q2', '2025/26 Q2' or 'Q2 2025-26'"
        )

    @classmethod
    def containing(cls, day: dt.date) -> Quarter:
        """The quarter a calendar date falls in."""
        fy = day.year if day.month >= 4 else day.year - 1
        q = ((day.month - 4) % 12) // 3 + 1
        return cls(fy, q)

    @classmethod
    def last_ended(cls, today: dt.date | None = None) -> Quarter:
        """The most recent quarter that has finished by ``today`` (default: today)."""
        return cls.containing(today or dt.date.today()) - 1

    @classmethod
    def from_index(cls, index: int) -> Quarter:
        return cls(index // 4, index % 4 + 1)

    # --- properties ---------------------------------------------------------------------------
    @property
    def label(self) -> str:
        return f"{self.fy}-{(self.fy + 1) % 100:02d} Q{self.q}"

    @property
    def fy_label(self) -> str:
        return f"{self.fy}-{(self.fy + 1) % 100:02d}"

    @property
    def index(self) -> int:
        """A running number: consecutive quarters differ by one (handy for arithmetic and sorting)."""
        return self.fy * 4 + self.q - 1

    @property
    def start(self) -> dt.date:
        month = 4 + 3 * (self.q - 1)
        year = self.fy
        if month > 12:
            month -= 12
            year += 1
        return dt.date(year, month, 1)

    @property
    def end(self) -> dt.date:
        nxt = (self + 1).start
        return nxt - dt.timedelta(days=1)

    @property
    def year_ending(self) -> int:
        """The year the financial year ends in: DfE's ``time_period`` for this quarter's year."""
        return self.fy + 1

    @property
    def short(self) -> str:
        """Compact label for chart axes, e.g. "Q2 25-26"."""
        return f"Q{self.q} {self.fy % 100:02d}-{(self.fy + 1) % 100:02d}"

    def __add__(self, n: int) -> Quarter:
        return Quarter.from_index(self.index + int(n))

    def __sub__(self, other: int | Quarter) -> Quarter | int:  # type: ignore[override]
        if isinstance(other, Quarter):
            return self.index - other.index
        return Quarter.from_index(self.index - int(other))

    def __lt__(self, other: Quarter) -> bool:
        return self.index < other.index

    def __str__(self) -> str:
        return self.label


def parse_period(text: str, available: list[Quarter] | None = None) -> Quarter:
    """Parse a period argument; ``latest`` means the newest of ``available``."""
    if str(text).strip().lower() == "latest":
        if not available:
            raise PeriodError("'latest' was asked for, but there is no data yet")
        return max(available)
    return Quarter.parse(text)


def quarter_range(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last`` inclusive."""
    return [Quarter.from_index(i) for i in range(first.index, last.index + 1)]
