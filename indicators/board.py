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
    did_you_mean,
    pydantic_issues,
    target_issues,
)
from indicators.periods import Quarter


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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


class Outputs(_Strict):
    """How the board's papers look."""

    pack_template: str | None = Field(
        default=None, description="the organisation's PowerPoint template (.pptx or .potx) for the board pack, "
                                  "a path relative to the board file")


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
    outputs: Outputs = Field(default_factory=Outputs)

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
    """Validate a board file; return the board (None if invalid) and every issue found, in one pass.

    The cross-checks (duplicates, unknown measures, sub-groups and indicators, targets against each indicator's
    unit and polarity) run on every part of the file that is valid on its own, so a misspelt field elsewhere does
    not hide them until it is fixed.
    """
    path = Path(path)
    issues: list[DefinitionIssue] = []
    if not path.exists():
        return None, [DefinitionIssue("error", "missing-file", str(path), None, "",
                                      "board file not found; pass --board FILE or set OBA_BOARD")]
    located = _read(path, issues)
    if located is None:
        return None, issues
    data = located.data
    board: Board | None
    try:
        board = Board.model_validate(data)
    except ValidationError as exc:
        board = None
        issues.extend(pydantic_issues(exc, located, model=Board))
    if not isinstance(data, dict):
        return None, issues

    def add(code: str, loc: tuple, message: str, level: str = "error") -> None:
        issues.append(DefinitionIssue(level, code, str(path), located.line_of(loc), ".".join(map(str, loc)), message))

    agencies = _valid_items(data.get("agencies"), Agency)
    priorities = _valid_items(data.get("priorities"), Priority)
    subgroups = _valid_items(data.get("subgroups"), Subgroup)
    raw_targets = data.get("targets") if isinstance(data.get("targets"), dict) else {}
    targets = {}
    for ind_id, raw in raw_targets.items():
        try:
            targets[ind_id] = TargetOverride.model_validate(raw)
        except ValidationError as exc:
            # keep the fields that are valid, so that a bad tolerance does not hide a bad target
            bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
            if isinstance(raw, dict) and not any(e["type"] == "extra_forbidden" for e in exc.errors()):
                try:
                    targets[ind_id] = TargetOverride.model_validate({k: v for k, v in raw.items() if k not in bad})
                except ValidationError:
                    pass

    seen: dict[str, int] = {}
    for n, a in agencies:
        if a.code in seen:
            add("duplicate-agency", ("agencies", n, "code"), f"agency {a.code} is listed twice")
        seen[a.code] = n
    # measures returned, read from every agency whose list of measures reads, valid or not in other fields
    returned: dict[str, str] = {}
    raw_agencies = data.get("agencies") if isinstance(data.get("agencies"), list) else []
    for n, a in enumerate(raw_agencies):
        measures = a.get("measures") if isinstance(a, dict) else None
        if not isinstance(measures, list):
            continue
        code = str(a.get("code"))
        for k, m in enumerate(measures):
            if not isinstance(m, str):
                continue
            if m in returned and returned[m] != code:
                add("measure-twice", ("agencies", n, "measures", k),
                    f"measure {m} is also returned by {returned[m]}; each measure comes from one agency")
            returned[m] = code
            if library is not None and m not in library.measures:
                add("unknown-measure", ("agencies", n, "measures", k),
                    f"measure {m} is not defined in measures.yaml" + did_you_mean(m, library.measures))
    pids = [p.id for _, p in priorities]
    sids = [s.id for _, s in subgroups]
    for n, p in priorities:
        if pids.count(p.id) > 1:
            add("duplicate-priority", ("priorities", n, "id"), f"priority {p.id} is listed twice")
        if p.subgroup and p.subgroup not in sids:
            add("unknown-subgroup", ("priorities", n, "subgroup"),
                f"sub-group {p.subgroup} is not defined under subgroups" + did_you_mean(p.subgroup, sids))
    if library is not None:
        for ind_id in raw_targets:
            if ind_id not in library.indicators:
                add("unknown-indicator", ("targets", ind_id), f"no indicator '{ind_id}' to set a target for"
                    + did_you_mean(ind_id, library.indicators))
                continue
            override = targets.get(ind_id)
            if override is None:
                continue
            ind = library.indicators[ind_id]
            target = override.target if override.target is not None else ind.target
            tolerance = override.tolerance if override.tolerance is not None else ind.tolerance
            mindiff = override.minimum_difference if override.minimum_difference is not None \
                else ind.minimum_difference
            board_sets = [f for f in ("target", "tolerance", "minimum_difference") if getattr(override, f) is not None]
            for level, field, message in target_issues(ind.unit, ind.polarity, target, tolerance, mindiff):
                # report where the board sets the value; a definition's own value is the definitions' problem
                at = field if field in board_sets else (board_sets[0] if level == "warning" and board_sets else None)
                if at is not None:
                    add("target-range", ("targets", ind_id, at), f"{ind_id}: {message}", level)
        if agencies or raw_agencies:
            for ind in library.indicators.values():
                for m in ind.measures:
                    if m not in returned:
                        issues.append(DefinitionIssue("error", "measure-not-returned", str(library.files[ind.id]),
                                                      None, "numerator" if m == ind.numerator else "denominator",
                                                      f"measure {m} is used by {ind.id} but no agency in {path.name} "
                                                      "returns it"))
        if priorities:
            for ind in library.indicators.values():
                if not any(p in pids for p in ind.priorities):
                    hint = next((h for p in ind.priorities if (h := did_you_mean(p, pids, ""))), "")
                    issues.append(DefinitionIssue("warning", "no-board-priority", str(library.files[ind.id]), None,
                                                  "priorities", f"{ind.id} serves none of this board's priorities, "
                                                  f"so it is shown under none{hint}"))
            for n, p in priorities:
                if not library.for_priority(p.id):
                    add("empty-priority", ("priorities", n), f"no indicator serves priority {p.id}"
                        + did_you_mean(p.id, {q for i in library.indicators.values() for q in i.priorities}), "warning")
    return board, issues


def _valid_items(raw, model) -> list[tuple[int, BaseModel]]:
    """(index, item) for every item of a list in the file that is valid on its own."""
    if not isinstance(raw, list):
        return []
    out = []
    for n, item in enumerate(raw):
        try:
            out.append((n, model.model_validate(item)))
        except ValidationError:
            pass
    return out


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
