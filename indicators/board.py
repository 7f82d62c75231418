"""The board configuration: the local authority, its agencies, priorities, sub-groups, targets.

One YAML file per board, validated on load; every problem is reported at once with file, line and field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from indicators.definitions import (
    DefinitionError,
    DefinitionIssue,
    Library,
    _read,
    pydantic_issues,
)
from indicators.periods import Quarter


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalAuthority(_Strict):
    name: str
    la_number: int = Field(ge=100, le=999, description="DfE 3-digit LA number")
    ons_code: str = Field(pattern=r"^E\d{8}$")
    region_code: str = Field(pattern=r"^E1[23]\d{6}$")
    region_name: str


_DUE = re.compile(
    r"^\s*(?P<n>\d{1,3})\s+(?P<working>working\s+)?days?\s+after\s+(the\s+)?(quarter|period)\s+end\s*$",
    re.IGNORECASE,
)


class Agency(_Strict):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")
    name: str
    type: str
    measures: list[str] = Field(min_length=1)
    due: str = "20 working days after quarter end"
    contact: str | None = None

    @field_validator("due")
    @classmethod
    def _due_rule(cls, v: str) -> str:
        if not _DUE.match(v):
            raise ValueError("write the due rule like '20 working days after quarter end' or '30 days after quarter end'")
        return v

    def due_date(self, quarter: Quarter) -> dt.date:
        """The date this agency's return for ``quarter`` is due."""
        m = _DUE.match(self.due)
        assert m  # validated
        n = int(m["n"])
        if m["working"]:
            return add_working_days(quarter.end, n)
        return quarter.end + dt.timedelta(days=n)


class Priority(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    name: str
    description: str = ""
    subgroup: str | None = None


class Subgroup(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    name: str
    chair: str | None = None


class TargetOverride(_Strict):
    target: float | None = None
    tolerance: float | None = Field(default=None, ge=0)
    minimum_difference: float | None = Field(default=None, ge=0, description="the smallest change that matters "
                                             "for 'has the curve turned?', in the indicator's units")


@dataclass(frozen=True)
class TargetChange:
    """A recorded decision to change an indicator's target or tolerance from a quarter onwards.

    ``None`` keeps what was in effect before (a change of tolerance alone leaves the target as it was).
    Earlier quarters keep the target they had: RAG is judged against the target in effect in each quarter.
    """

    effective_from: Quarter
    target: float | None
    tolerance: float | None
    reason: str = ""


def target_in_effect(base: tuple[float | None, float | None], changes, period: Quarter | None
                     ) -> tuple[float | None, float | None]:
    """Apply the changes that take effect at or before ``period`` to ``base``, oldest first."""
    target, tolerance = base
    if period is None:
        return target, tolerance
    for c in sorted(changes or (), key=lambda c: c.effective_from.index):
        if c.effective_from.index <= period.index:
            target = c.target if c.target is not None else target
            tolerance = c.tolerance if c.tolerance is not None else tolerance
    return target, tolerance


class Thresholds(_Strict):
    """How exceptions are raised; every threshold a board may want to tune."""

    significance: float = Field(default=0.95, gt=0.5, lt=1, description="confidence level for comparisons")
    funnel_warning: float = Field(default=0.95, gt=0.5, lt=1)
    funnel_alarm: float = Field(default=0.998, gt=0.5, lt=1)
    bottom_quartile: bool = Field(default=True, description="raise an exception in quartile D")
    revised_is_exception: bool = True
    late_is_exception: bool = True


class SpcSettings(_Strict):
    """How the control charts count their rules."""

    two_in_three_counts_beyond_limits: bool = Field(
        default=False, description="count points beyond the process limits towards 'two of three close to a "
                                   "limit', as NHS England's Making Data Count tools do since November 2023 "
                                   "(false: as NHSRplotthedots 0.2.2 does)")


class SingleSignOn(_Strict):
    """Sign-on by the organisation's reverse proxy: it authenticates people and names them in ``header``.

    The header is believed only on requests whose address is one of ``proxies`` (addresses or networks); from
    anywhere else it is ignored. The name it carries must be an enabled account's (roles stay in the store).
    """

    header: str = Field(default="X-Remote-User", pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
    proxies: list[str] = Field(min_length=1, description="the reverse proxy's addresses, e.g. [127.0.0.1]")

    @field_validator("proxies")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        import ipaddress

        for p in v:
            try:
                ipaddress.ip_network(str(p), strict=False)
            except ValueError:
                raise ValueError(f"'{p}' is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/24)") from None
        return v

    def trusts(self, address: str | None) -> bool:
        """Whether a request from ``address`` comes from the proxy."""
        import ipaddress

        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(str(p), strict=False) for p in self.proxies)


class Board(_Strict):
    name: str
    local_authority: LocalAuthority
    agencies: list[Agency] = Field(min_length=1)
    priorities: list[Priority] = Field(min_length=1)
    subgroups: list[Subgroup] = Field(default_factory=list)
    targets: dict[str, TargetOverride] = Field(default_factory=dict)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    spc: SpcSettings = Field(default_factory=SpcSettings)
    neighbour_set: str | None = Field(default=None, description="name of the stored statistical neighbour list")
    single_sign_on: SingleSignOn | None = Field(default=None, description="trusted-header sign-on behind a proxy")

    def agency(self, code: str) -> Agency:
        for a in self.agencies:
            if a.code == code:
                return a
        raise KeyError(f"no agency '{code}' in the board configuration")

    def priority(self, pid: str) -> Priority:
        for p in self.priorities:
            if p.id == pid:
                return p
        raise KeyError(f"no priority '{pid}' in the board configuration")

    def agency_for_measure(self, measure: str) -> Agency | None:
        for a in self.agencies:
            if measure in a.measures:
                return a
        return None

    def minimum_difference_for(self, indicator) -> float:
        """The smallest change that matters for this indicator: the board's, else the definition's, else 0."""
        o = self.targets.get(indicator.id)
        if o is not None and o.minimum_difference is not None:
            return o.minimum_difference
        return indicator.minimum_difference or 0.0

    def target_for(self, indicator, period: Quarter | None = None,
                   changes: list[TargetChange] | tuple = ()) -> tuple[float | None, float | None]:
        """(target, tolerance) in effect at ``period``: the latest recorded change (``changes``, the PQA
        sub-group's decisions for this indicator) taking effect at or before it, else the board's override,
        else the definition's. Without ``period``, the standing target before any recorded change."""
        o = self.targets.get(indicator.id)
        if o is None:
            base = (indicator.target, indicator.tolerance)
        else:
            base = (o.target if o.target is not None else indicator.target,
                    o.tolerance if o.tolerance is not None else indicator.tolerance)
        return target_in_effect(base, changes, period)


def load_board(path: Path, library: Library | None = None) -> Board:
    """Load and validate a board file (and check it against the library when given)."""
    board, issues = check_board(path, library)
    if board is None or any(i.level == "error" for i in issues):
        raise DefinitionError(issues)
    return board


def check_board(path: Path, library: Library | None = None) -> tuple[Board | None, list[DefinitionIssue]]:
    """Validate a board file; return the board (None if invalid) and every issue found."""
    path = Path(path)
    issues: list[DefinitionIssue] = []
    if not path.exists():
        return None, [DefinitionIssue("error", "missing-file", str(path), None, "",
                                      "board file not found; pass --board FILE or set OBA_BOARD")]
    located = _read(path, issues)
    if located is None:
        return None, issues
    try:
        board = Board.model_validate(located.data)
    except ValidationError as exc:
        return None, pydantic_issues(exc, located)

    def add(code: str, loc: tuple, message: str, level: str = "error") -> None:
        issues.append(DefinitionIssue(level, code, str(path), located.line_of(loc), ".".join(map(str, loc)), message))

    seen: dict[str, int] = {}
    for n, a in enumerate(board.agencies):
        if a.code in seen:
            add("duplicate-agency", ("agencies", n, "code"), f"agency {a.code} is listed twice")
        seen[a.code] = n
    returned: dict[str, str] = {}
    for n, a in enumerate(board.agencies):
        for k, m in enumerate(a.measures):
            if m in returned and returned[m] != a.code:
                add("measure-twice", ("agencies", n, "measures", k),
                    f"measure {m} is also returned by {returned[m]}; each measure comes from one agency")
            returned[m] = a.code
            if library is not None and m not in library.measures:
                add("unknown-measure", ("agencies", n, "measures", k), f"measure {m} is not defined in measures.yaml")
    pids = [p.id for p in board.priorities]
    for n, p in enumerate(board.priorities):
        if pids.count(p.id) > 1:
            add("duplicate-priority", ("priorities", n, "id"), f"priority {p.id} is listed twice")
        if p.subgroup and p.subgroup not in {s.id for s in board.subgroups}:
            add("unknown-subgroup", ("priorities", n, "subgroup"), f"sub-group {p.subgroup} is not defined under subgroups")
    if library is not None:
        for ind_id in board.targets:
            if ind_id not in library.indicators:
                add("unknown-indicator", ("targets", ind_id), f"no indicator '{ind_id}' to set a target for")
        for ind in library.indicators.values():
            for m in ind.measures:
                if m not in returned:
                    issues.append(DefinitionIssue("error", "measure-not-returned", str(library.files[ind.id]), None,
                                                  "numerator" if m == ind.numerator else "denominator",
                                                  f"measure {m} is used by {ind.id} but no agency in {path.name} returns it"))
            if not any(p in pids for p in ind.priorities):
                issues.append(DefinitionIssue("warning", "no-board-priority", str(library.files[ind.id]), None,
                                              "priorities", f"{ind.id} serves none of this board's priorities, so it is shown under none"))
        for p in board.priorities:
            if not library.for_priority(p.id):
                add("empty-priority", ("priorities", pids.index(p.id)), f"no indicator serves priority {p.id}", "warning")
    return board, issues


# --- working days ---------------------------------------------------------------------------------

def _easter(year: int) -> dt.date:
    """Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _first_monday(year: int, month: int) -> dt.date:
    d = dt.date(year, month, 1)
    return d + dt.timedelta(days=(7 - d.weekday()) % 7)


def _last_monday(year: int, month: int) -> dt.date:
    d = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return d - dt.timedelta(days=d.weekday())


@cache
def bank_holidays(year: int) -> frozenset[dt.date]:
    """England and Wales bank holidays by the standing rules (one-off extra days are not included)."""
    days = set()
    ny = dt.date(year, 1, 1)
    days.add(ny + dt.timedelta(days={5: 2, 6: 1}.get(ny.weekday(), 0)))
    easter = _easter(year)
    days.update({easter - dt.timedelta(days=2), easter + dt.timedelta(days=1)})
    days.update({_first_monday(year, 5), _last_monday(year, 5), _last_monday(year, 8)})
    xmas, boxing = dt.date(year, 12, 25), dt.date(year, 12, 26)
    if xmas.weekday() == 5:  # Saturday: Monday and Tuesday
        days.update({xmas + dt.timedelta(days=2), boxing + dt.timedelta(days=2)})
    elif xmas.weekday() == 6:  # Sunday: Boxing Day Monday, Christmas substitute Tuesday
        days.update({boxing, xmas + dt.timedelta(days=2)})
    elif boxing.weekday() == 5:  # Friday Christmas, Boxing Day substitute Monday
        days.update({xmas, boxing + dt.timedelta(days=2)})
    else:
        days.update({xmas, boxing})
    return frozenset(days)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after ``start`` (England and Wales)."""
    day = start
    while n > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day
