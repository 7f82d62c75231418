"""Measure and indicator definitions, as data.

*Measures* are the raw figures agencies return each quarter (counts, snapshots, totals of days):
all of them are listed in ``library/measures.yaml``. *Indicators* are what the board reads, built from
a numerator and (optionally) a denominator measure, one YAML file per indicator in
``library/indicators/``. Loading validates every file and collects every problem (file, line, field)
instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from indicators._yaml import YamlFileError, read_located_yaml

LIBRARY_DIR = Path(__file__).parent / "library"
POPULATION = "population_0_17"
"""The special denominator name meaning the ONS mid-year estimate of children aged 0 to 17."""


class Question(StrEnum):
    how_much = "how_much"
    how_well = "how_well"
    better_off = "better_off"

    @property
    def title(self) -> str:
        return {
            "how_much": "How much did we do?",
            "how_well": "How well did we do it?",
            "better_off": "Is anyone better off?",
        }[self.value]


class Unit(StrEnum):
    count = "count"
    percentage = "percentage"
    rate_per_10000 = "rate_per_10000"
    days = "days"

    @property
    def suffix(self) -> str:
        return {"count": "", "percentage": "%", "rate_per_10000": " per 10,000", "days": " days"}[self.value]


class PeriodType(StrEnum):
    flow = "flow"  # happened during the quarter
    snapshot = "snapshot"  # at the end of the quarter
    rolling_12m = "rolling_12m"  # the four quarters ending with this one
    fytd = "fytd"  # financial year to date


class Polarity(StrEnum):
    higher_better = "higher_better"
    lower_better = "lower_better"
    context = "context"

    @property
    def improvement(self) -> str:
        """The SPC improvement direction this polarity implies."""
        return {"higher_better": "increase", "lower_better": "decrease", "context": "neutral"}[self.value]


class ChartSeries(StrEnum):
    """What an indicator's control chart plots (see docs/methods-statistics.md, "What a control chart plots")."""

    headline = "headline"  # the headline value itself: only for a flow, whose quarters do not overlap
    quarter = "quarter"  # the quarter's own numerator over its own denominator (behind a rolling or YTD headline)
    flow = "flow"  # a related flow, e.g. plans started in the quarter behind the stock of plans at its end
    run_chart = "run_chart"  # the headline as a run chart: values and median, no special-cause rules


class MeasureKind(StrEnum):
    count = "count"  # a whole number of events or people
    snapshot = "snapshot"  # a whole number at the end of the quarter
    total = "total"  # a non-negative total, e.g. days summed over cases
    percentage = "percentage"  # a percentage 0-100 returned directly (e.g. survey results)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Measure(_Strict):
    """A raw figure an agency returns each quarter."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    name: str = Field(min_length=3)
    definition: str = Field(min_length=10)
    kind: MeasureKind = MeasureKind.count
    agency_type: str
    source: str | None = None

    @property
    def whole_number(self) -> bool:
        return self.kind in (MeasureKind.count, MeasureKind.snapshot)


class Benchmark(_Strict):
    """Where the published figure this indicator is compared with lives (an EES file and column)."""

    dataset: str = Field(description="EES dataset key: the file name without extension, lower case")
    measure: str = Field(description="the EES measure column")
    filters: dict[str, str] = Field(default_factory=dict)
    numerator: str | None = Field(default=None, description="EES count column, for intervals and funnels")
    denominator: str | None = Field(default=None, description="EES denominator column, or population_0_17")
    per_population: bool = Field(default=False, description="the published value is a rate per 10,000")


class ControlChart(_Strict):
    """What the indicator's control chart plots, and why, in words the page shows."""

    plots: ChartSeries
    numerator: str | None = Field(default=None, description="with plots: flow, the flow's numerator measure")
    denominator: str | None = Field(default=None, description="with plots: flow, its denominator (or population_0_17)")
    title: str | None = Field(default=None, description="what the chart plots, e.g. 'Plans started in the quarter'")
    reason: str | None = Field(default=None, description="why this series (required for a run chart)")

    @model_validator(mode="after")
    def _flow_needs_measures(self) -> ControlChart:
        if self.plots == ChartSeries.flow and not self.numerator:
            raise ValueError("a control chart of a related flow names the flow's numerator measure")
        if self.plots != ChartSeries.flow and (self.numerator or self.denominator):
            raise ValueError("numerator and denominator belong to a control chart of a related flow (plots: flow)")
        if self.plots == ChartSeries.run_chart and not self.reason:
            raise ValueError("say why the indicator is shown as a run chart (reason:)")
        return self


_DEFAULT_RUN_REASON = ("the figure at the end of a quarter carries most of the same children into the next, so "
                       "consecutive quarters are not independent and control limits would raise false alarms")


class Indicator(_Strict):
    """One indicator of the multi-agency dataset."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{2,59}$")
    title: str = Field(min_length=3)
    short_title: str | None = None
    definition: str = Field(min_length=10)
    question: Question
    priorities: list[str] = Field(min_length=1)
    agency: str
    numerator: str
    denominator: str | None = None
    unit: Unit
    period_type: PeriodType
    polarity: Polarity
    target: float | None = None
    tolerance: float | None = Field(default=None, ge=0)
    benchmark: Benchmark | None = None
    suppress_below: int = Field(default=5, ge=0)
    decimals: int = Field(default=1, ge=0, le=3)
    source: str | None = None
    control_chart: ControlChart | None = None
    minimum_difference: float | None = Field(
        default=None, ge=0, description="the smallest change that matters, in the indicator's units ('has the "
                                        "curve turned?' needs the average gain over the baseline to reach it)")

    @field_validator("priorities")
    @classmethod
    def _unique_priorities(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a priority is listed twice")
        return v

    @model_validator(mode="after")
    def _denominator_fits_unit(self) -> Indicator:
        if self.unit == Unit.days and not self.denominator:
            raise ValueError("an average in days needs a denominator (the number of cases)")
        if self.unit == Unit.rate_per_10000 and not self.denominator:
            raise ValueError("a rate per 10,000 needs a denominator (usually population_0_17)")
        if self.unit == Unit.count and self.denominator:
            raise ValueError("a count indicator has no denominator")
        if self.tolerance is not None and self.target is None:
            raise ValueError("a tolerance needs a target")
        return self

    @property
    def label(self) -> str:
        return self.short_title or self.title

    @property
    def chart(self) -> ControlChart:
        """The control chart as declared, or the default for the period type: the quarter's own figures behind
        a flow, rolling or year-to-date headline; a run chart for a snapshot (a stock)."""
        if self.control_chart is not None:
            return self.control_chart
        if self.period_type == PeriodType.snapshot:
            return ControlChart(plots=ChartSeries.run_chart, reason=_DEFAULT_RUN_REASON)
        return ControlChart(plots=ChartSeries.quarter)

    @property
    def chart_on_headline_scale(self) -> bool:
        """Whether the control chart's values are on the headline's scale, so a target applies to them: a flow's
        own quarters, a percentage or mean of a quarter behind a rolling or year-to-date one, a run chart. A
        quarter's count or rate behind a 12-month one is about a quarter of it, and a related flow is another
        quantity: no assurance icon against the headline's target then."""
        plots = self.chart.plots
        if plots == ChartSeries.flow:
            return False
        if plots == ChartSeries.quarter and self.period_type in (PeriodType.rolling_12m, PeriodType.fytd):
            return self.unit in (Unit.percentage, Unit.days)
        return True

    @property
    def measures(self) -> list[str]:
        out = [self.numerator]
        if self.denominator and self.denominator != POPULATION:
            out.append(self.denominator)
        return out


@dataclass(frozen=True)
class DefinitionIssue:
    """A problem found in a definition or configuration file."""

    level: str  # "error" | "warning"
    code: str
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{self.level.upper()} {self.code} {where}{field} {self.message}"


class DefinitionError(Exception):
    """Definition or configuration files are invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[DefinitionIssue]):
        self.issues = issues
        errors = [i for i in issues if i.level == "error"]
        super().__init__(
            f"{len(errors)} problem(s) in the definitions:\n" + "\n".join(f"  {i}" for i in errors)
        )


def did_you_mean(word: str, choices, what: str = "") -> str:
    """' (did you mean CSC_CPP_STARTS?)' for the closest of ``choices``, else ``what`` (e.g. ' (check the spelling)')."""
    import difflib

    pool = {str(c).upper(): str(c) for c in choices}
    close = difflib.get_close_matches(str(word).upper(), list(pool), n=1, cutoff=0.6)
    return f" (did you mean {pool[close[0]]}?)" if close else what


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model that holds the last element of ``loc`` (for 'did you mean' on a misspelt field)."""
    import types
    import typing

    def unwrap(tp):
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            return args[0] if len(args) == 1 else tp
        return tp

    cur: Any = model
    for key in loc[:-1]:
        cur = unwrap(cur)
        origin = typing.get_origin(cur)
        if origin is list and isinstance(key, int):
            cur = typing.get_args(cur)[0]
        elif origin is dict:
            cur = typing.get_args(cur)[1]
        elif isinstance(cur, type) and issubclass(cur, BaseModel) and key in cur.model_fields:
            cur = cur.model_fields[key].annotation
        else:
            return []
    cur = unwrap(cur)
    return list(cur.model_fields) if isinstance(cur, type) and issubclass(cur, BaseModel) else []


def _shown(value: Any) -> str:
    """A found value as the message shows it: short, whatever was found."""
    import reprlib

    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlist, r.maxdict, r.maxlevel = 60, 60, 4, 4, 2
    return r.repr(value)


def pydantic_issues(exc: ValidationError, located, prefix: tuple[Any, ...] = (),
                    model: type[BaseModel] | None = None) -> list[DefinitionIssue]:
    """Turn a pydantic ValidationError into located issues (``model``: the model validated, for 'did you mean')."""
    issues = []
    for err in exc.errors():
        rel = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        loc = prefix + rel
        field = ".".join(str(x) for x in loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            known = _fields_at(model, rel) if model is not None else []
            msg = "is not a known field" + did_you_mean(loc[-1], known, " (check the spelling)")
        elif err["type"] == "missing":
            msg = "is required but missing"
        elif err["type"] == "finite_number":
            msg = f"must be a finite number (found {_shown(err.get('input'))})"
        elif "input" in err and err["type"] not in ("model_type",) and not isinstance(err["input"], dict):
            msg = f"{msg} (found {_shown(err['input'])})"
        issues.append(
            DefinitionIssue("error", "invalid-field", str(located.path), located.line_of(loc), field, msg)
        )
    return issues


def target_issues(unit: Unit, polarity: Polarity, target: float | None, tolerance: float | None,
                  minimum_difference: float | None = None) -> list[tuple[str, str, str]]:
    """Problems with a target, tolerance and minimum difference for an indicator of this unit and polarity.

    Returns (level, field, message) triples. Errors: a percentage outside 0-100, a negative count, rate or number of
    days, a tolerance without a target. Warnings: a target a context indicator never uses, and a target or
    tolerance that makes the rating the same whatever the value (never red, or always green).
    """
    out: list[tuple[str, str, str]] = []
    what = {Unit.percentage: "a percentage", Unit.count: "a count", Unit.rate_per_10000: "a rate per 10,000",
            Unit.days: "a number of days"}[unit]
    if unit == Unit.percentage:
        for name, value in (("target", target), ("tolerance", tolerance), ("minimum_difference", minimum_difference)):
            if value is not None and not 0 <= value <= 100:
                out.append(("error", name, f"the {name.replace('_', ' ')} of {what} must be between 0 and 100 "
                                           f"(found {value:g})"))
    elif target is not None and target < 0:
        out.append(("error", "target", f"{what} cannot be negative, so neither can its target (found {target:g})"))
    if tolerance is not None and target is None:
        out.append(("error", "tolerance", "a tolerance needs a target"))
    if any(level == "error" for level, _, _ in out) or target is None:
        return out
    if polarity == Polarity.context:
        out.append(("warning", "target", "the indicator's polarity is context (neither higher nor lower is better), "
                                         "so the target is never rated: remove it, or give the indicator a polarity"))
        return out
    tol = tolerance or 0.0
    top = 100.0 if unit == Unit.percentage else None
    if polarity == Polarity.higher_better and target <= 0:
        out.append(("warning", "target", f"every value meets a target of {target:g} when higher is better, so the "
                                         "indicator is always green"))
    elif polarity == Polarity.lower_better and top is not None and target >= top:
        out.append(("warning", "target", f"every value meets a target of {target:g}% when lower is better, so the "
                                         "indicator is always green"))
    elif polarity == Polarity.higher_better and tol and target - tol < 0:
        out.append(("warning", "tolerance", f"a tolerance of {tol:g} below a target of {target:g} reaches below "
                                            "zero, so the indicator can never be red"))
    elif polarity == Polarity.lower_better and top is not None and tol and target + tol > top:
        out.append(("warning", "tolerance", f"a tolerance of {tol:g} above a target of {target:g}% reaches past "
                                            "100%, so the indicator can never be red"))
    return out


@dataclass
class Library:
    """All measures and indicators, by code/id."""

    measures: dict[str, Measure]
    indicators: dict[str, Indicator]
    files: dict[str, Path]  # indicator id -> its file

    def indicator(self, indicator_id: str) -> Indicator:
        try:
            return self.indicators[indicator_id]
        except KeyError:
            raise KeyError(f"no indicator '{indicator_id}'") from None

    @cached_property
    def part_whole_pairs(self) -> dict[tuple[str, str], str]:
        """(numerator, denominator) → indicator id, for every percentage built from two returned measures:
        in a return, the part may never exceed the whole."""
        pairs: dict[tuple[str, str], str] = {}
        for ind in self.indicators.values():
            if ind.unit == Unit.percentage and ind.denominator and ind.denominator != POPULATION:
                pairs.setdefault((ind.numerator, ind.denominator), ind.id)
        return pairs

    def for_priority(self, priority: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if priority in i.priorities]


def load_library(directory: Path | None = None) -> Library:
    """Load and validate ``measures.yaml`` and every ``indicators/*.yaml``; raise DefinitionError listing all problems."""
    library, issues = check_library(directory)
    errors = [i for i in issues if i.level == "error"]
    if errors or library is None:
        raise DefinitionError(issues)
    return library


def check_library(directory: Path | None = None) -> tuple[Library | None, list[DefinitionIssue]]:
    """Validate the definitions; return the library (None if unusable) and every issue found."""
    directory = Path(directory or LIBRARY_DIR)
    issues: list[DefinitionIssue] = []
    measures: dict[str, Measure] = {}
    measures_file = directory / "measures.yaml"
    if not measures_file.exists():
        issues.append(DefinitionIssue("error", "missing-file", str(measures_file), None, "", "not found"))
    else:
        located = _read(measures_file, issues)
        if located is not None:
            items = located.data.get("measures") if isinstance(located.data, dict) else None
            if not isinstance(items, list):
                issues.append(
                    DefinitionIssue("error", "bad-structure", str(measures_file), 1, "measures",
                                    "should be a list of measures under 'measures:'")
                )
                items = []
            for n, item in enumerate(items):
                try:
                    m = Measure.model_validate(item)
                except ValidationError as exc:
                    issues.extend(pydantic_issues(exc, located, ("measures", n), model=Measure))
                    continue
                if m.code in measures:
                    issues.append(DefinitionIssue("error", "duplicate-measure", str(measures_file),
                                                  located.line_of(("measures", n, "code")), f"measures.{n}.code",
                                                  f"measure code {m.code} is defined twice"))
                measures[m.code] = m

    indicators: dict[str, Indicator] = {}
    files: dict[str, Path] = {}
    ind_dir = directory / "indicators"
    for path in sorted(ind_dir.glob("*.yaml")):
        located = _read(path, issues)
        if located is None:
            continue
        try:
            ind = Indicator.model_validate(located.data)
        except ValidationError as exc:
            issues.extend(pydantic_issues(exc, located, model=Indicator))
            issues.extend(_unknown_measures(located.data, measures, path, located))
            continue
        if ind.id in indicators:
            issues.append(DefinitionIssue("error", "duplicate-indicator", str(path), located.line_of(("id",)),
                                          "id", f"indicator id '{ind.id}' is also used by {files[ind.id].name}"))
            continue
        if path.stem != ind.id:
            issues.append(DefinitionIssue("warning", "file-name", str(path), located.line_of(("id",)), "id",
                                          f"file is named {path.name} but the id is '{ind.id}'"))
        issues.extend(_unknown_measures(located.data, measures, path, located))
        for level, field, message in target_issues(ind.unit, ind.polarity, ind.target, ind.tolerance,
                                                   ind.minimum_difference):
            issues.append(DefinitionIssue(level, "target-range", str(path), located.line_of((field,)), field, message))
        if ind.unit == Unit.percentage and not ind.denominator:
            m = measures.get(ind.numerator)
            if m is not None and m.kind != MeasureKind.percentage:
                issues.append(DefinitionIssue("error", "needs-denominator", str(path), located.line_of(("unit",)),
                                              "denominator", "a percentage needs a denominator unless its "
                                              "numerator is a measure returned as a percentage"))
        issues.extend(_chart_issues(ind, measures, path, located))
        if ind.benchmark is not None and ind.unit in (Unit.count, Unit.rate_per_10000) \
                and ind.period_type in (PeriodType.flow, PeriodType.fytd):
            # DfE publishes counts and rates for whole years: a quarter's (or part-year's) figure is not comparable
            issues.append(DefinitionIssue("error", "benchmark-period", str(path), located.line_of(("period_type",)),
                                          "period_type", f"a {ind.period_type.value} {ind.unit.value.replace('_', ' ')} "
                                          "cannot be set against DfE's annual figure; use rolling_12m (or "
                                          "snapshot for 'at 31 March' measures)"))
        indicators[ind.id] = ind
        files[ind.id] = path
    if not indicators:
        issues.append(DefinitionIssue("error", "no-indicators", str(ind_dir), None, "", "no indicator files found"))
    lib = Library(measures, indicators, files) if measures or indicators else None
    return lib, issues


def _unknown_measures(data: Any, measures: dict[str, Measure], path: Path, located) -> list[DefinitionIssue]:
    """The numerator and denominator of an indicator file that name no defined measure, read from the raw file so
    that they are reported in the same pass as any other problem in it."""
    if not isinstance(data, dict) or not measures:
        return []
    out = []
    for role in ("numerator", "denominator"):
        code = data.get(role)
        if isinstance(code, str) and code != POPULATION and code not in measures:
            out.append(DefinitionIssue("error", "unknown-measure", str(path), located.line_of((role,)), role,
                                       f"measure {code} is not defined in measures.yaml"
                                       + did_you_mean(code, measures)))
    return out


def _chart_issues(ind: Indicator, measures: dict[str, Measure], path: Path, located) -> list[DefinitionIssue]:
    """A control chart assumes independent points: refuse one on overlapping windows, year-to-date sums or a stock."""
    chart = ind.control_chart
    if chart is None:
        return []
    issues = []
    line = located.line_of(("control_chart", "plots")) or located.line_of(("control_chart",))

    def add(field: str, message: str) -> None:
        issues.append(DefinitionIssue("error", "chart-series", str(path), line, f"control_chart.{field}", message))

    if chart.plots == ChartSeries.headline and ind.period_type != PeriodType.flow:
        why = {PeriodType.rolling_12m: "consecutive 12-month windows share three quarters",
               PeriodType.fytd: "a year-to-date sum grows through the year and resets every April",
               PeriodType.snapshot: "a stock carries most of its children from one quarter to the next"}
        add("plots", f"a control chart of the {ind.period_type.value} headline misleads: {why[ind.period_type]}, "
                     "so a stable process breaks its limits far more often than the rules allow. Chart the quarter's "
                     "own figures (plots: quarter), a related flow (plots: flow) or a run chart (plots: run_chart)")
    if chart.plots == ChartSeries.quarter and ind.period_type == PeriodType.snapshot:
        add("plots", "a snapshot's quarter is the stock itself, whose quarters are not independent; chart a related "
                     "flow (plots: flow, e.g. plans started in the quarter) or a run chart (plots: run_chart)")
    if chart.plots == ChartSeries.flow:
        for role in ("numerator", "denominator"):
            code = getattr(chart, role)
            if code and code != POPULATION and measures and code not in measures:
                add(role, f"measure {code} is not defined in measures.yaml" + did_you_mean(code, measures))
            m = measures.get(code) if code else None
            if m is not None and m.kind == MeasureKind.snapshot:
                add(role, f"measure {code} is a snapshot, not a flow: its quarters are not independent either")
        if ind.unit == Unit.rate_per_10000 and not chart.denominator:
            add("denominator", "a rate's related flow needs a denominator (usually population_0_17)")
        if ind.unit in (Unit.percentage, Unit.days) and not chart.denominator:
            add("denominator", f"a {ind.unit.value} of a related flow needs a denominator")
    return issues


def _read(path: Path, issues: list[DefinitionIssue]):
    try:
        return read_located_yaml(path)
    except YamlFileError as exc:
        issues.append(DefinitionIssue("error", exc.code, str(path), exc.line, "", exc.message))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        issues.append(DefinitionIssue("error", "yaml-syntax", str(path), mark.line + 1 if mark else None, "",
                                      f"is not valid YAML: {getattr(exc, 'problem', exc)}"))
    except OSError as exc:
        issues.append(DefinitionIssue("error", "unreadable", str(path), None, "", str(exc)))
    return None
