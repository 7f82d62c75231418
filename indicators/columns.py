"""The columns of the multi-agency dataset, declared once: name, type and meaning.

``docs/dataset.md`` shows these tables; ``python -m indicators.columns`` writes them there (between the
``<!-- columns:NAME -->`` markers) and a test fails when the document, this declaration or what
``build_dataset`` produces disagree. Frames elsewhere take their column lists from here.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Column:
    """One or more columns that share a type and a meaning (one row of the documented table)."""

    names: tuple[str, ...]
    dtype: str  #: "str", "int", "float", "bool" or "date"; "" where the table has no type column
    meaning: str


FRAME = (
    Column(('indicator_id',), 'str', "the indicator's id (its definition file's name)"),
    Column(('area_code',), 'str', 'ONS code of the area'),
    Column(('period',), 'str', 'financial-year quarter, "2025-26 Q2"'),
    Column(('period_index',), 'int', 'running quarter number (consecutive quarters differ by 1) for sorting and arithmetic'),
    Column(('period_end',), 'date', 'last day of the quarter'),
    Column(('is_forecast',), 'bool', 'true for the 4 forecast quarters after the latest actual'),
    Column(('numerator',), 'float', "the numerator over the indicator's period type (quarter, snapshot, rolling 12 months or year to date); NaN when missing or suppressed"),
    Column(('denominator',), 'float', 'the denominator likewise (the ONS 0–17 population for rates: mid-year of the year before the financial year ends, as DfE does)'),
    Column(('value',), 'float', 'the indicator value: count, percentage (0–100), rate per 10,000, or mean days'),
    Column(('lower', 'upper'), 'float', "confidence interval at the board's significance level (95% by default): Wilson score for percentages, Byar/exact Poisson for rates and counts; NaN for means in days and returned percentages"),
    Column(('status',), 'str', '`ok`, `suppressed` (an input was suppressed: the value is withheld, never shown as 0), `missing` (an input was not returned), `partial` (a rolling or year-to-date window lacks a quarter), `no_population` (the figures came in but no ONS population is stored to make a rate), `forecast` (a forecast row)'),
    Column(('quarter_numerator', 'quarter_denominator', 'quarter_value'), 'float', "the quarter's own figures: for a rolling 12-month or year-to-date indicator, that quarter alone (a rate is the quarter's count per 10,000 children, not annualised); for a flow or snapshot the same as the headline. Consecutive quarters do not overlap, so these are what control charts and forecasts use"),
    Column(('quarter_status',), 'str', "the status of the quarter's own figures, as `status`"),
    Column(('display_suppressed',), 'bool', "the value rests on a count below the indicator's suppression threshold: the board may see it, public outputs must not"),
    Column(('target', 'tolerance'), 'float', "in effect in the row's quarter: the latest recorded change taking "
           "effect by then (`oba curve target`, the indicator page; see governance.md), else the board "
           "configuration, else the definition. Earlier quarters keep the target they had; the SPC assurance "
           "icon uses the one in effect at the dataset's quarter"),
    Column(('rag',), 'str', "`red`, `amber`, `green`, or empty (no target, or context polarity). Green meets the target; amber misses it by no more than the tolerance; red misses it by more. Judged on the value as displayed (rounded to the indicator's decimals)"),
    Column(('unit', 'polarity'), 'str', 'copied from the definition, for exports'),
    Column(('chart_value', 'chart_denominator'), 'float', "what the indicator's control chart plots (its definition's `control_chart`): the quarter's own figures, a related flow (plans started behind the stock of plans) or, for a run chart, the headline"),
    Column(('chart_status',), 'str', 'the status of the charted figures, as `status`'),
    Column(('spc_value',), 'float', 'the value the control chart plots (`chart_value`)'),
    Column(('spc_chart',), 'str', "`xmr` (Making Data Count's default), `p_prime` / `u_prime` (Laney's charts, for a percentage or rate whose denominators vary by more than 25% around their average), or `run` (values and median, no special-cause rules)"),
    Column(('spc_mean', 'spc_lpl', 'spc_upl'), 'float', "the chart's centre line (the median for a run chart) and lower/upper process limits (point by point on a Laney chart; none on a run chart; see `docs/spc.md`)"),
    Column(('spc_point_type',), 'str', '`common_cause`, `special_cause_improvement`, `special_cause_concern`, `special_cause_neutral_high`, `special_cause_neutral_low`'),
    Column(('spc_rule',), 'str', 'the rule that fired (`astronomical`, `trend`, `two_in_three`, `shift`) or empty'),
    Column(('spc_direction',), 'float', '+1 when the signal is above the mean or rising, −1 below or falling, 0 for common cause'),
    Column(('spc_segment',), 'int', 'the SPC segment (0, 1, ...): a recorded rebase decision starts a new one; nothing is rebased automatically'),
    Column(('spc_rebase_proposal',), 'str', 'the quarter a sustained shift (seven or more quarters in a row on one side of the centre line, up to the latest) started: the evidence for proposing a rebase there, which PQA may record with `oba curve rebase`; empty otherwise. Never applied automatically'),
    Column(('variation',), 'str', "the series' variation icon: the point type of its latest point"),
    Column(('assurance',), 'str', '`consistent_pass`, `consistent_fail`, `inconsistent`, or empty (no target or neutral polarity)'),
    Column(('trial_limits',), 'bool', 'fewer than 13 points in the latest segment'),
    Column(('change_quarter', 'change_year'), 'float', 'change since the previous quarter and since the same quarter a year before'),
    Column(('travel_quarter', 'travel_year'), 'str', '`improving`, `worsening`, `no_change` (by polarity), or `up`/`down`/`no_change` for context indicators'),
    Column(('trend_arrow',), 'str', '↑ ↓ → for the current run of movement'),
    Column(('trend_length',), 'int', 'how many consecutive quarters the current direction has lasted'),
    Column(('comparator_year',), 'int', 'the published year (DfE `time_period`, year ending 31 March) the comparisons used: the latest available during the quarter (year Y from Q2 of the financial year starting April Y; see `docs/methods-statistics.md`, "Which published year"); NaN when none was'),
    Column(('neighbours_mean', 'neighbours_median'), 'float', "statistical neighbours' published mean and median (of those with values)"),
    Column(('neighbours_n',), 'int', 'how many statistical neighbours had a value'),
    Column(('neighbours_lower', 'neighbours_upper'), 'float', "the prediction interval for one more area like the neighbours: mean ± t(k−1) × sd × √(1 + 1/k), at the board's significance level; NaN with fewer than 3 neighbours with a value"),
    Column(('region_value', 'england_value'), 'float', "the region's and England's published value (DfE's, also when several areas report into the store)"),
    Column(('reporting_value',), 'float', 'when several areas report into this store: their pooled value for the same quarter (Σ numerators / Σ denominators); NaN otherwise. A separate comparison, not England'),
    Column(('reporting_n',), 'int', 'how many reporting areas `reporting_value` pools (0 when it is not made)'),
    Column(('rank', 'rank_of'), 'int', 'rank among this area and its neighbours (1 = best by polarity; by value, high first, for context indicators)'),
    Column(('quartile',), 'str', "`A` (best quarter of local authorities) to `D`, as DfE's LAIT does; empty for context indicators"),
    Column(('vs_england',), 'str', "`better`, `worse`, `similar`, `higher`/`lower` for context indicators, or `not_compared`. Not over-dispersed: England's value outside/inside this area's interval; over-dispersed: \\|`funnel_z`\\| beyond the normal quantile of the significance level (1.96 at 95%)"),
    Column(('vs_neighbours',), 'str', '`better`, `worse` (`higher`/`lower` for context indicators) when the value lies outside [`neighbours_lower`, `neighbours_upper`], `similar` inside, `not_compared` with fewer than 3 neighbours with a value'),
    Column(('funnel',), 'str', 'position on the funnel plot against England: `within`, `above_95`, `above_99_8`, `below_95`, `below_99_8`; from the exact limits, or from `funnel_z` when `funnel_adjustment` is `additive`'),
    Column(('funnel_adjustment',), 'str', 'what the funnel and `vs_england` allowed for: `additive` (the indicator is over-dispersed that year: random-effects z\\*), `none` (exact limits), empty when not compared'),
    Column(('overdispersion_phi', 'random_effects_tau2'), 'float', "Spiegelhalter's dispersion ratio φ (winsorised) of every LA's published value that year, and the additive between-area variance τ² on the indicator's scale (percentage points² or (per 10,000)²; 0 when not over-dispersed)"),
    Column(('funnel_z',), 'float', "this value's z-score against England: (value − England) / √(s² + τ²) with s the null standard error at its denominator (τ² = 0 when not over-dispersed)"),
    Column(('forecast', 'forecast_lo80', 'forecast_hi80', 'forecast_lo95', 'forecast_hi95'), 'float', 'the turn-the-curve baseline forecast (on forecast rows)'),
    Column(('forecast_quarter', 'forecast_quarter_lo80', 'forecast_quarter_hi80', 'forecast_quarter_lo95', 'forecast_quarter_hi95'), 'float', "on forecast rows: the forecast of the quarter's own value behind a rolling or year-to-date headline, with its intervals (equal to the headline's for flows and snapshots)"),
    Column(('forecast_method',), 'str', 'the method, stated (e.g. "Linear trend fitted to 12 quarters")'),
    Column(('exception_codes',), 'str', "the current period's exception reason codes, `;`-separated (see `exceptions`)"),
    Column(('exception_severity',), 'str', 'the worst severity among them: `high`, `medium`, `low`, or `positive`'),
)

EXCEPTIONS = (
    Column(('indicator_id', 'area_code', 'period'), '', 'which indicator, area and period'),
    Column(('priority_id',), '', 'the board priority it is raised under (one row per priority the indicator serves)'),
    Column(('code',), '', 'stable reason code (table below)'),
    Column(('severity',), '', '`high`, `medium`, `low`, `positive`'),
    Column(('sort_key',), '', 'order within a priority: most severe first'),
    Column(('sentence',), '', 'the reason in plain English for the board'),
)

DATA_NOTES = (
    Column(('indicator_id', 'area_code', 'period'), '', 'which indicator, area and period'),
    Column(('agency_code',), '', 'the agency whose return the indicator comes from'),
    Column(('code', 'severity', 'sort_key', 'sentence'), '', 'as for exceptions (codes below)'),
)

CURVES = (
    Column(('indicator_id', 'area_code'), '', 'which indicator and area'),
    Column(('frozen_at',), '', 'the quarter the baseline was frozen at'),
    Column(('period', 'period_index', 'step'), '', 'the quarter after the freeze (step 1 = the first quarter after it)'),
    Column(('forecast', 'forecast_lo80', 'forecast_hi80', 'forecast_lo95', 'forecast_hi95'), '', 'the frozen forecast and its 80% and 95% prediction intervals'),
    Column(('actual',), '', 'the value reported since (NaN where not yet reported)'),
    Column(('assessment',), '', '`better`, `worse`, `same` than forecast by polarity, or `not_reported`'),
    Column(('outside_80', 'outside_95'), '', 'the actual lies outside the 80% / 95% interval'),
    Column(('method',), '', 'the forecasting method, stated'),
    Column(('verdict',), '', '`turned`, `turning`, `not_turned`, `worsened`, `no_direction`, `too_early`, `no_baseline` (see `docs/methods-statistics.md`)'),
    Column(('sentence',), '', 'the finding in plain English, with its evidence'),
    Column(('quarter_forecast', 'quarter_lo80', 'quarter_hi80'), '', "the frozen forecast of the quarter's own value and its 80% band: what the verdict tests (the headline's own for a flow or snapshot)"),
    Column(('quarter_actual', 'quarter_assessment'), '', "the quarter's own value since, and `better`, `worse`, `same` or `not_reported` against that forecast"),
    Column(('evidence', 'boundary'), '', 'the cumulative evidence after this quarter (standard errors on the better side) and what it must reach for "turned"'),
    Column(('look_verdict',), '', 'the verdict as it read after this quarter'),
)


TABLES = {"frame": FRAME, "exceptions": EXCEPTIONS, "data_notes": DATA_NOTES, "curves": CURVES}


def names(columns: tuple[Column, ...]) -> list[str]:
    """Every column name of a table, in order."""
    return [n for c in columns for n in c.names]


def markdown(columns: tuple[Column, ...]) -> str:
    """The table as docs/dataset.md shows it."""
    typed = any(c.dtype for c in columns)
    head = "| column | type | meaning |\n|---|---|---|" if typed else "| column | meaning |\n|---|---|"
    rows = []
    for c in columns:
        cells = [", ".join(f"`{n}`" for n in c.names)] + ([c.dtype] if typed else []) + [c.meaning]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, *rows])


_BLOCK = re.compile(r"(<!-- columns:(?P<name>[a-z_]+) -->\n)(?P<body>.*?)(\n<!-- /columns:(?P=name) -->)", re.S)


def render_document(text: str) -> str:
    """``text`` with every marked table replaced by its declaration."""
    return _BLOCK.sub(lambda m: m.group(1) + markdown(TABLES[m.group("name")]) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    path = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "docs" / "dataset.md"
    text = path.read_text(encoding="utf-8")
    new = render_document(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"{path}: tables rewritten from indicators/columns.py")
    else:
        print(f"{path}: up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
