"""A small dataset made by hand that follows docs/dataset.md, for testing the dashboard without a store.

Not a test module (it holds no tests): the dashboard's unit tests import ``sample_dataset`` from here to
build odd states on purpose (one quarter of data, a suppressed value, an indicator with no benchmark).
The figures are plausible, not statistically exact: the dashboard only displays what the dataset says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.dataset import Dataset
from indicators.definitions import Library, Polarity, Unit
from indicators.exceptions import DATA_NOTE_COLUMNS
from indicators.periods import Quarter

NEIGHBOURS = [f"E0609900{n}" for n in range(2, 10)] + ["E06099010", "E06099011"]
OTHER_LAS = [f"E0800{n:04d}" for n in range(1, 143)]
ENGLAND = "E92000001"
LAST = Quarter(2025, 2)


def _base(unit: Unit) -> tuple[float, float]:
    return {Unit.percentage: (70.0, 3.0), Unit.rate_per_10000: (400.0, 15.0), Unit.days: (32.0, 2.0),
            Unit.count: (120.0, 8.0)}[unit]


def _num_den(unit: Unit, value: float) -> tuple[float, float]:
    if unit == Unit.percentage:
        return round(value * 2.0), 200.0
    if unit == Unit.rate_per_10000:
        return round(value * 5.0), 50_000.0
    if unit == Unit.days:
        return value * 40.0, 40.0
    return round(value), np.nan


def _better(polarity: Polarity, a: float, b: float) -> bool:
    return a > b if polarity == Polarity.higher_better else a < b


def sample_dataset(library: Library, board, quarters: int = 12, last: Quarter = LAST,
                   suppressed: tuple[str, ...] = (), missing: tuple[str, ...] = (),
                   concern: tuple[str, ...] = ("rereferral_rate",), no_benchmark: bool = False,
                   seed: int = 7) -> Dataset:
    """Every library indicator for the board's area over ``quarters`` quarters ending ``last``."""
    rng = np.random.default_rng(seed)
    area = board.local_authority.ons_code
    region = board.local_authority.region_code
    periods = [last - (quarters - 1 - i) for i in range(quarters)]
    rows, comps, exc, notes = [], [], [], []
    for ind in library.indicators.values():
        target, tolerance = board.target_for(ind)
        base, step = _base(ind.unit)
        values = base + np.cumsum(rng.normal(0, step, quarters))
        if ind.id in concern and quarters > 1:
            values[-1] = values[:-1].mean() + (12 * step if ind.polarity != Polarity.higher_better else -12 * step)
        if ind.unit == Unit.percentage:
            values = np.clip(values, 1, 99)
        values = np.round(values, 3)
        status = ["ok"] * quarters
        if ind.id in suppressed:
            status[-1] = "suppressed"
        if ind.id in missing:
            status[-1] = "missing"
        v = np.where(np.array(status) == "ok", values, np.nan)
        finite = v[np.isfinite(v)]
        mean = float(finite.mean()) if len(finite) else np.nan
        mr = np.abs(np.diff(finite)).mean() if len(finite) > 1 else np.nan
        upl, lpl = (mean + 2.66 * mr, mean - 2.66 * mr) if np.isfinite(mr) else (np.nan, np.nan)
        types = []
        for x in v:
            if not np.isfinite(x) or not np.isfinite(upl) or lpl <= x <= upl:
                types.append("common_cause")
            elif ind.polarity == Polarity.context:
                types.append("special_cause_neutral_high" if x > upl else "special_cause_neutral_low")
            else:
                good = (x > upl) == (ind.polarity == Polarity.higher_better)
                types.append("special_cause_improvement" if good else "special_cause_concern")
        variation = types[-1]
        assurance = ""
        if target is not None and ind.polarity != Polarity.context:
            if not np.isfinite(upl):
                assurance = "inconsistent"
            elif target > upl:
                assurance = "consistent_fail" if ind.polarity == Polarity.higher_better else "consistent_pass"
            elif target < lpl:
                assurance = "consistent_pass" if ind.polarity == Polarity.higher_better else "consistent_fail"
            else:
                assurance = "inconsistent"
        # benchmarks: one published year for the whole of England
        has_bench = ind.benchmark is not None and not no_benchmark and ind.unit in (Unit.percentage,
                                                                                   Unit.rate_per_10000)
        nb_mean = eng = reg = np.nan
        rank = rank_of = np.nan
        quartile = vs_e = vs_n = funnel = ""
        nb_n = 0
        year = np.nan
        if has_bench:
            year = last.fy  # the latest year published before this financial year ends
            latest = float(finite[-1]) if len(finite) else base
            for code in [area] + NEIGHBOURS + OTHER_LAS:
                val = latest if code == area else float(base + rng.normal(0, 4 * step))
                num, den = _num_den(ind.unit, val)
                comps.append({"indicator_id": ind.id, "area_code": code, "area_name": f"Area {code[-4:]}",
                              "level": "la", "region_code": region if code in NEIGHBOURS else "E12000001",
                              "key_kind": "year", "key": year, "value": val, "numerator": num,
                              "denominator": den, "lower": val - 2 * step, "upper": val + 2 * step})
            comp = pd.DataFrame(comps)
            comp = comp[comp["indicator_id"] == ind.id]
            eng = float(comp["value"].mean())
            reg = float(comp[comp["area_code"].isin(NEIGHBOURS)]["value"].mean()) + step
            for code, name, level, val in [(ENGLAND, "England", "england", eng), (region, "Wessex", "region", reg)]:
                comps.append({"indicator_id": ind.id, "area_code": code, "area_name": name, "level": level,
                              "region_code": None, "key_kind": "year", "key": year, "value": val,
                              "numerator": np.nan, "denominator": np.nan, "lower": np.nan, "upper": np.nan})
            nb = comp[comp["area_code"].isin(NEIGHBOURS)]["value"]
            nb_mean, nb_n = float(nb.mean()), int(nb.notna().sum())
            group = comp[comp["area_code"].isin([area] + NEIGHBOURS)]
            ordered = group.sort_values("value", ascending=ind.polarity == Polarity.lower_better)
            rank, rank_of = int(list(ordered["area_code"]).index(area) + 1), len(ordered)
            if ind.polarity == Polarity.context:
                vs_e = "higher" if latest > eng + 2 * step else ("lower" if latest < eng - 2 * step else "similar")
                vs_n = "higher" if latest > nb_mean + 2 * step else ("lower" if latest < nb_mean - 2 * step else "similar")
            else:
                vs_e = "similar" if abs(latest - eng) <= 2 * step else (
                    "better" if _better(ind.polarity, latest, eng) else "worse")
                vs_n = "similar" if abs(latest - nb_mean) <= 2 * step else (
                    "better" if _better(ind.polarity, latest, nb_mean) else "worse")
                quartile = "D" if vs_e == "worse" else "B"
            funnel = "within" if vs_e in ("similar", "") else ("above_95" if latest > eng else "below_95")
        for i, q in enumerate(periods):
            num, den = _num_den(ind.unit, values[i])
            if status[i] != "ok":
                num = np.nan
            prev = v[i - 1] if i >= 1 else np.nan
            year_ago = v[i - 4] if i >= 4 else np.nan
            rag = ""
            if target is not None and ind.polarity != Polarity.context and np.isfinite(v[i]):
                short = (target - v[i]) if ind.polarity == Polarity.higher_better else (v[i] - target)
                rag = "green" if short <= 0 else ("amber" if short <= (tolerance or 0) else "red")

            def _travel(c, pol=ind.polarity):
                if not np.isfinite(c):
                    return ""
                if abs(c) < 1e-9:
                    return "no_change"
                if pol == Polarity.context:
                    return "up" if c > 0 else "down"
                return "improving" if (c > 0) == (pol == Polarity.higher_better) else "worsening"

            cq, cy = v[i] - prev, v[i] - year_ago
            rows.append({
                "indicator_id": ind.id, "area_code": area, "period": q.label, "period_index": q.index,
                "period_end": q.end, "is_forecast": False, "numerator": num, "denominator": den,
                "value": v[i], "lower": v[i] - 1.5 * step, "upper": v[i] + 1.5 * step, "status": status[i],
                "display_suppressed": False, "target": target if target is not None else np.nan,
                "tolerance": tolerance if tolerance is not None else np.nan, "rag": rag,
                "spc_mean": mean, "spc_lpl": lpl, "spc_upl": upl, "spc_point_type": types[i],
                "spc_rule": "astronomical" if types[i] != "common_cause" else "",
                "variation": variation, "assurance": assurance, "trial_limits": quarters < 13,
                "change_quarter": cq, "change_year": cy, "travel_quarter": _travel(cq), "travel_year": _travel(cy),
                "trend_arrow": "" if not np.isfinite(cq) else ("↑" if cq > 0 else "↓" if cq < 0 else "→"),
                "trend_length": 1 if np.isfinite(cq) else 0,
                "comparator_year": year if i == quarters - 1 else np.nan,
                "neighbours_mean": nb_mean if i == quarters - 1 else np.nan,
                "neighbours_median": nb_mean if i == quarters - 1 else np.nan,
                "neighbours_n": nb_n if i == quarters - 1 else 0,
                "region_value": reg if i == quarters - 1 else np.nan,
                "england_value": eng if i == quarters - 1 else np.nan,
                "rank": rank if i == quarters - 1 else np.nan, "rank_of": rank_of if i == quarters - 1 else np.nan,
                "quartile": quartile if i == quarters - 1 else "", "vs_england": vs_e if i == quarters - 1 else "",
                "vs_neighbours": vs_n if i == quarters - 1 else "", "funnel": funnel if i == quarters - 1 else "",
                "forecast": np.nan, "forecast_lo80": np.nan, "forecast_hi80": np.nan, "forecast_lo95": np.nan,
                "forecast_hi95": np.nan, "forecast_method": "", "exception_codes": "", "exception_severity": "",
            })
        # four forecast quarters from a straight line through the actuals
        if len(finite) >= 4:
            x = np.arange(quarters)[np.isfinite(v)]
            slope, icpt = np.polyfit(x, finite, 1)
            sd = float(np.std(finite - (slope * x + icpt))) or step
            for h in range(1, 5):
                q = last + h
                f = slope * (quarters - 1 + h) + icpt
                rows.append({**{k: (np.nan if isinstance(val, float) else val) for k, val in rows[-1].items()},
                             "period": q.label, "period_index": q.index, "period_end": q.end, "is_forecast": True,
                             "value": np.nan, "status": "ok", "rag": "", "spc_point_type": "", "spc_rule": "",
                             "forecast": f, "forecast_lo80": f - 1.28 * sd * np.sqrt(h),
                             "forecast_hi80": f + 1.28 * sd * np.sqrt(h), "forecast_lo95": f - 1.96 * sd * np.sqrt(h),
                             "forecast_hi95": f + 1.96 * sd * np.sqrt(h),
                             "forecast_method": f"Linear trend fitted to {len(finite)} quarters",
                             "trend_arrow": "", "travel_quarter": "", "travel_year": "", "quartile": "",
                             "vs_england": "", "vs_neighbours": "", "funnel": "", "exception_codes": "",
                             "exception_severity": "", "neighbours_n": 0, "trend_length": 0,
                             "display_suppressed": False, "trial_limits": quarters < 13,
                             "variation": variation, "assurance": assurance})
        # the current period's exceptions
        cur = rows[quarters - 1] if len(finite) < 4 else rows[-5]
        codes = []
        if cur["rag"] == "red":
            codes.append(("missed-target-red", "high", f"{ind.label} missed its target by more than the tolerance."))
        elif cur["rag"] == "amber":
            codes.append(("missed-target-amber", "medium", f"{ind.label} missed its target, within the tolerance."))
        if cur["spc_point_type"] == "special_cause_concern":
            codes.append(("spc-concern", "high", f"{ind.label} is a special cause of concern: a point outside the limits."))
        if cur["vs_neighbours"] == "worse":
            codes.append(("worse-than-neighbours", "medium", f"{ind.label} is significantly worse than the neighbours."))
        if cur["status"] == "missing":
            notes.append({"indicator_id": ind.id, "area_code": area, "period": last.label, "agency_code": ind.agency,
                          "code": "data-missing", "severity": "high", "sort_key": 0,
                          "sentence": f"A figure {ind.label} needs was not returned."})
        if cur["status"] == "suppressed":
            notes.append({"indicator_id": ind.id, "area_code": area, "period": last.label, "agency_code": ind.agency,
                          "code": "data-suppressed", "severity": "low", "sort_key": 203,
                          "sentence": f"A figure {ind.label} needs was returned suppressed."})
        if cur["spc_point_type"] == "special_cause_improvement":
            codes.append(("spc-improvement", "positive", f"{ind.label} shows special cause improvement."))
        order = {"high": 0, "medium": 1, "low": 2, "positive": 3}
        if codes:
            cur["exception_codes"] = ";".join(c for c, _, _ in codes)
            cur["exception_severity"] = min((s for _, s, _ in codes), key=order.get)
        for pid in ind.priorities:
            for n, (code, sev, sentence) in enumerate(sorted(codes, key=lambda c: order[c[1]])):
                exc.append({"indicator_id": ind.id, "area_code": area, "period": last.label, "priority_id": pid,
                            "code": code, "severity": sev, "sort_key": order[sev] * 10 + n, "sentence": sentence})
    frame = pd.DataFrame(rows)
    table = pd.DataFrame([{
        "indicator_id": i.id, "title": i.title, "label": i.label, "question": i.question.value,
        "unit": i.unit.value, "polarity": i.polarity.value, "priorities": ";".join(i.priorities),
        "agency": i.agency, "target": board.target_for(i)[0],
    } for i in library.indicators.values()])
    return Dataset(
        frame=frame,
        exceptions=pd.DataFrame(exc, columns=["indicator_id", "area_code", "period", "priority_id", "code",
                                              "severity", "sort_key", "sentence"]),
        comparators=pd.DataFrame(comps, columns=["indicator_id", "area_code", "area_name", "level", "region_code",
                                                 "key_kind", "key", "value", "numerator", "denominator", "lower",
                                                 "upper"]),
        indicators=table, period=last, area_code=area, periods=periods,
        data_notes=pd.DataFrame(notes, columns=DATA_NOTE_COLUMNS),
        neighbours=pd.DataFrame({"area_code": area, "neighbour_code": NEIGHBOURS,
                                 "rank": range(1, len(NEIGHBOURS) + 1)}),
    )
