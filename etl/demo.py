"""A deterministic synthetic demo: the fictional partnership of Harrowdale, its neighbours, region and England.

Everything goes in the way a real board's data would: every agency's returns for 12 quarters are written as
real workbooks from the template and loaded through the returns loader; annual benchmark files are written in
the same EES layout and column names as DfE's and imported through the benchmark importer; a statistical
neighbour list in DfE's long layout likewise. The numbers are invented (fixed seed) at realistic magnitudes,
with stories for the dashboard to find:

* re-referrals worsen quarter after quarter (a trend, above target, worse than neighbours);
* assessments within 45 working days drop to a new, lower level (a sustained shift);
* return home interviews within 72 hours improve after an action plan: the curve turns against the baseline
  frozen when the plan started, and a recorded rebase starts new SPC limits for the new process;
* looked-after children's health assessments on time move to a higher level (special-cause improvement);
* the education return for the latest quarter is late, and the acute trust has not sent it at all;
* the police resubmit the previous quarter with corrected figures (a revised return);
* small counts (CSE-flagged crimes) are returned suppressed.

No real child, area or person is represented; area names and codes are invented.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

from etl.paths import data_dir
from indicators.board import Board
from indicators.definitions import Library
from indicators.periods import Quarter, quarter_range


def demo_workdir() -> Path:
    """Where the demo's generated workbooks and benchmark files go: data/demo under the current folder (OBA_HOME)."""
    return data_dir() / "demo"


def demo_db_path() -> Path:
    return data_dir() / "demo.sqlite"


DEMO_USER = "oba-demo"
FIRST = Quarter(2023, 3)  # 2023-24 Q3
LAST = Quarter(2026, 2)  # 2026-27 Q2: twelve quarters
YEARS = list(range(2019, 2027))  # published DfE years (time_period), year ending 31 March
SEED = 20261121

EES_GEO = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code",
           "region_name", "old_la_code", "new_la_code", "la_name"]

# Fictional regions and local authorities. The first is the demo board's own area.
REGIONS = [("E12000099", "Wessex and the Marches"), ("E12000098", "Northmoor"), ("E12000097", "Eastern Fens")]
LA_NAMES = [
    "Harrowdale", "Kestrel Vale", "Ashcombe", "Brindlemoor", "Otterford", "Larkhampton", "Fellbridge", "Mereton",
    "Thornwick", "Saltmarsh Bay", "Copperhill", "Wyvernshire", "Elmstead Downs", "Greystone", "Hollinsby",
    "Marwick", "Pennyfold", "Quarrington", "Redhythe", "Stowmere", "Tamberley", "Upwold", "Vennington",
    "Wrenfield", "Yarrowby", "Alderholt Forest", "Bramblecote", "Cinderford Moor", "Dunmallow", "Eskerby",
    "Foxlease", "Gorsefield", "Heronsgate", "Ivybridge Moor", "Juniper Heath", "Kingsfold", "Lowenna",
    "Millhaven", "Northwold", "Oakenshaw Vale",
]


@dataclass(frozen=True)
class DemoArea:
    name: str
    la_number: int
    code: str
    region_code: str
    region_name: str
    population: int  # children 0-17, mid-2024
    need: float  # a local "need" multiplier for rates
    practice: float  # a local "practice quality" shift for percentages


def demo_areas() -> list[DemoArea]:
    rng = np.random.default_rng(SEED)
    areas = []
    for i, name in enumerate(LA_NAMES):
        region = REGIONS[0] if i < 14 else REGIONS[1] if i < 28 else REGIONS[2]
        pop = 85_200 if i == 0 else int(rng.integers(22_000, 140_000))
        need = 1.0 if i == 0 else float(np.clip(rng.normal(1.0, 0.22), 0.55, 1.6))
        practice = 0.0 if i == 0 else float(rng.normal(0.0, 1.0))
        areas.append(DemoArea(name, 990 - i if i < 10 else 960 - i, f"E06099{i + 1:03d}", region[0], region[1],
                              pop, need, practice))
    return areas


# --- the quarterly returns of Harrowdale --------------------------------------------------------------

def _series(rng, n, level, noise, trend=0.0, shift_at=None, shift=0.0, season=None):
    t = np.arange(n, dtype=float)
    x = level + trend * t + rng.normal(0, noise, n)
    if shift_at is not None:
        x[shift_at:] += shift
    if season is not None:
        x += np.array([season[(FIRST + int(i)).q - 1] for i in t])
    return x


def demo_returns() -> dict[Quarter, dict[str, dict[str, object]]]:
    """{quarter: {agency: {measure: value}}} — values as an agency would type them (numbers or text)."""
    rng = np.random.default_rng(SEED + 1)
    quarters = quarter_range(FIRST, LAST)
    n = len(quarters)
    out: dict[Quarter, dict[str, dict[str, object]]] = {q: {} for q in quarters}

    def whole(x):
        return np.maximum(np.round(x), 0).astype(int)

    # Children's social care
    referrals = whole(_series(rng, n, 1150, 45, trend=4, season=(30, -20, 10, -20)))
    rereferral_share = np.clip(_series(rng, n, 0.185, 0.004, trend=0.0075), 0, 1)  # the worsening story
    rereferrals = whole(referrals * rereferral_share)
    da_refs = whole(referrals * np.clip(_series(rng, n, 0.31, 0.015), 0, 1))
    assessed = whole(_series(rng, n, 1060, 40))
    in_45 = whole(assessed * np.clip(_series(rng, n, 0.915, 0.012, shift_at=5, shift=-0.095), 0, 1))  # the shift
    days = whole(assessed * _series(rng, n, 31.5, 1.2, shift_at=5, shift=5.5))
    s47 = whole(_series(rng, n, 362, 22))
    icpc = whole(_series(rng, n, 128, 10))
    # Conference timeliness is meant to be a stable process, but the main stream's draw for it happens to make
    # seven quarters on one side of the average and a point below the lower limit (a chance signal, 1-2% of
    # stable series get one). It gets its own stream; the main stream's draw is still taken, so every series
    # after it stays as it was.
    rng.normal(0, 0.03, n)
    icpc15 = whole(icpc * np.clip(_series(np.random.default_rng(SEED + 101), n, 0.86, 0.03), 0, 1))
    cpp_starts = whole(_series(rng, n, 118, 9))
    cpp_sub = whole(cpp_starts * np.clip(_series(rng, n, 0.225, 0.025), 0, 1))
    cpp_neg = whole(cpp_starts * np.clip(_series(rng, n, 0.52, 0.04), 0, 1))
    cpp_end = whole(_series(rng, n, 352, 14))
    cpp_2y = whole(cpp_end * np.clip(_series(rng, n, 0.012, 0.004), 0, 1))
    cin_end = whole(_series(rng, n, 2790, 60, trend=6))
    cla_end = whole(_series(rng, n, 596, 8, trend=1.5))
    conf = whole(_series(rng, n, 252, 14))
    views = whole(conf * np.clip(_series(rng, n, 0.885, 0.02), 0, 1))
    adv_el = whole(_series(rng, n, 82, 6))
    adv_off = whole(adv_el * np.clip(_series(rng, n, 0.94, 0.025), 0, 1))
    # Police
    missing = whole(_series(rng, n, 455, 30))
    rhi_el = whole(missing * 0.88)
    # the improvement story: flat until the action plan starts in 2025-26 Q1 (the 7th quarter), rising after
    rhi_share = np.concatenate([_series(rng, 7, 0.60, 0.02), _series(rng, n - 7, 0.74, 0.012, trend=0.025)])
    rhi = whole(rhi_el * np.clip(rhi_share, 0, 0.97))
    cse = whole(_series(rng, n, 7, 3))
    da_inc = whole(_series(rng, n, 905, 40, season=(0, 0, 60, -30)))
    # Health
    ha_due = whole(_series(rng, n, 248, 12))
    ha_on = whole(ha_due * np.clip(_series(rng, n, 0.855, 0.012, shift_at=4, shift=0.06), 0, 1))  # a lasting gain
    selfharm = whole(_series(rng, n, 41, 6))
    # Education
    cme = whole(_series(rng, n, 148, 12))
    excl = whole(_series(rng, n, 17, 4, season=(2, -6, 3, 1)))
    cin_pupils = whole(cin_end * 0.68)
    pa = whole(cin_pupils * np.clip(_series(rng, n, 0.33, 0.015), 0, 1))
    # Early help
    eh_ass = whole(_series(rng, n, 705, 30, trend=3))
    eh_closed = whole(_series(rng, n, 612, 28))
    eh_met = whole(eh_closed * np.clip(_series(rng, n, 0.765, 0.02), 0, 1))
    eh_up = whole(eh_closed * np.clip(_series(rng, n, 0.095, 0.012), 0, 1))
    # Youth justice
    fte = whole(_series(rng, n, 15, 3.5, trend=-0.25))
    # Partnership business unit
    places = whole(_series(rng, n, 410, 25))
    attended = whole(places * np.clip(_series(rng, n, 0.86, 0.03), 0, 1))
    evals = whole(attended * 0.42)
    confident = whole(evals * np.clip(_series(rng, n, 0.81, 0.03), 0, 1))
    good_pct = np.clip(_series(rng, n, 92.0, 1.8), 0, 100)
    survey = whole(_series(rng, n, 310, 25))
    safe = whole(survey * np.clip(_series(rng, n, 0.86, 0.02), 0, 1))

    for i, q in enumerate(quarters):
        out[q]["CSC"] = {
            "CSC_REFERRALS": int(referrals[i]), "CSC_REREFERRALS": int(rereferrals[i]), "CSC_REFERRALS_DA": int(da_refs[i]),
            "CSC_ASSESS_COMPLETED": int(assessed[i]), "CSC_ASSESS_45WD": int(in_45[i]), "CSC_ASSESS_DAYS": int(days[i]),
            "CSC_S47": int(s47[i]), "CSC_ICPC": int(icpc[i]), "CSC_ICPC_15WD": int(icpc15[i]),
            "CSC_CPP_STARTS": int(cpp_starts[i]), "CSC_CPP_SUBSEQUENT": int(cpp_sub[i]), "CSC_CPP_NEGLECT": int(cpp_neg[i]),
            "CSC_CPP_AT_END": int(cpp_end[i]), "CSC_CPP_2YRS": int(cpp_2y[i]), "CSC_CIN_AT_END": int(cin_end[i]),
            "CSC_CLA_AT_END": int(cla_end[i]), "CSC_CONF_HELD": int(conf[i]), "CSC_CONF_VIEWS": int(views[i]),
            "CSC_ADVOCACY_ELIGIBLE": int(adv_el[i]), "CSC_ADVOCACY_OFFERED": int(adv_off[i]),
        }
        # Typed the way people type: a thousands separator now and then.
        out[q]["CSC"]["CSC_CIN_AT_END"] = f"{int(cin_end[i]):,}" if i % 3 == 0 else int(cin_end[i])
        out[q]["POL"] = {
            "POL_MISSING_EPISODES": int(missing[i]), "POL_RHI_ELIGIBLE": int(rhi_el[i]), "POL_RHI_72H": int(rhi[i]),
            "POL_CSE_CRIMES": "<5" if cse[i] < 5 else int(cse[i]), "POL_DA_CHILDREN": int(da_inc[i]),
        }
        out[q]["ICB"] = {"ICB_CLA_HA_DUE": int(ha_due[i]), "ICB_CLA_HA_ONTIME": int(ha_on[i])}
        out[q]["ACUTE"] = {"ACU_SELFHARM_U18": int(selfharm[i])}
        out[q]["EDU"] = {"EDU_CME_AT_END": int(cme[i]), "EDU_PERM_EXCL": int(excl[i]),
                         "EDU_CIN_PUPILS": int(cin_pupils[i]), "EDU_CIN_PERSIST_ABS": int(pa[i])}
        out[q]["EH"] = {"EH_ASSESSMENTS": int(eh_ass[i]), "EH_PLANS_CLOSED": int(eh_closed[i]),
                        "EH_OUTCOMES_MET": int(eh_met[i]), "EH_STEP_UP": int(eh_up[i])}
        out[q]["YJS"] = {"YJS_FTE": int(fte[i])}
        out[q]["SCP"] = {
            "SCP_TRAINING_PLACES": int(places[i]), "SCP_TRAINING_ATTENDED": int(attended[i]),
            "SCP_EVAL_RETURNED": int(evals[i]), "SCP_EVAL_CONFIDENT": int(confident[i]),
            "SCP_EVAL_GOOD_PCT": f"{good_pct[i]:.0f}%", "SCP_SURVEY_RESPONSES": int(survey[i]),
            "SCP_SURVEY_SAFE": int(safe[i]),
        }
    # The acute trust has not returned the latest quarter at all.
    del out[LAST]["ACUTE"]
    return out


def _number(v) -> float | None:
    if isinstance(v, (int, float)):
        return float(v)
    text = str(v).replace(",", "").replace("%", "").strip()
    try:
        return float(text)
    except ValueError:
        return None


# --- the published files ---------------------------------------------------------------------------

def _annual_from_returns(returns, year: int, measures: list[str], snapshot: bool) -> dict[str, float] | None:
    """Harrowdale's own annual figure for DfE year ``year`` (FY ending March ``year``), from its returns."""
    qs = [Quarter(year - 1, k) for k in (1, 2, 3, 4)]
    if any(q not in returns for q in qs):
        return None
    out = {}
    for m in measures:
        agency = m.split("_")[0]
        vals = [_number(returns[q].get(agency, {}).get(m)) for q in ([qs[-1]] if snapshot else qs)]
        if any(v is None for v in vals):
            return None
        out[m] = float(sum(vals))
    return out


def write_benchmark_files(directory: Path, returns) -> list[Path]:
    """Annual EES-style CSVs (CIN B1, C1, D3, D5, C4, looked-after children) and the ONS 0–17 population, for
    every demo area."""
    rng = np.random.default_rng(SEED + 2)
    areas = demo_areas()
    directory.mkdir(parents=True, exist_ok=True)
    # population by area and mid-year
    pop = {}
    for a in areas:
        growth = rng.normal(0.002, 0.004)
        for y in range(2018, 2026):
            pop[(a.code, y)] = int(round(a.population * (1 + growth) ** (y - 2024)))

    # England-wide levels by year (rates per 10,000 and percentages)
    def eng(level, drift, y):
        return level * (1 + drift) ** (y - 2025)

    rows: dict[str, list[dict]] = {k: [] for k in ("b1", "c1", "d3", "d5", "c4", "cla", "pop")}
    for y in YEARS:
        for a in areas:
            p = pop[(a.code, y - 1)]
            own = a.la_number == 990
            cin = round(p * eng(330, 0.01, y) * a.need / 10_000 * rng.normal(1, 0.04))
            refs = round(p * eng(520, 0.005, y) * a.need / 10_000 * rng.normal(1, 0.05))
            reref_pct = float(np.clip(22.4 + 2.2 * a.practice + rng.normal(0, 0.8), 8, 40))
            cpp_at = round(p * eng(40.6, -0.01, y) * a.need / 10_000 * rng.normal(1, 0.06))
            cpp_start = round(cpp_at * 1.25 * rng.normal(1, 0.05))
            sub_pct = float(np.clip(24.5 + 2.5 * a.practice + rng.normal(0, 1.5), 8, 45))
            two_pct = float(np.clip(2.3 + 0.6 * a.practice + rng.normal(0, 0.5), 0, 10))
            if own:
                r = _annual_from_returns(returns, y, ["CSC_REFERRALS", "CSC_REREFERRALS"], False)
                if r:
                    refs, reref_pct = int(r["CSC_REFERRALS"]), 100 * r["CSC_REREFERRALS"] / r["CSC_REFERRALS"]
                else:
                    reref_pct = 18.1 + 0.3 * (y - 2019)
                s = _annual_from_returns(returns, y, ["CSC_CIN_AT_END", "CSC_CPP_AT_END", "CSC_CPP_2YRS"], True)
                if s:
                    cin, cpp_at = int(s["CSC_CIN_AT_END"]), int(s["CSC_CPP_AT_END"])
                    two_pct = 100 * s["CSC_CPP_2YRS"] / s["CSC_CPP_AT_END"]
                f = _annual_from_returns(returns, y, ["CSC_CPP_STARTS", "CSC_CPP_SUBSEQUENT"], False)
                if f:
                    cpp_start, sub_pct = int(f["CSC_CPP_STARTS"]), 100 * f["CSC_CPP_SUBSEQUENT"] / f["CSC_CPP_STARTS"]
            rows["b1"].append(_la_row(y, a, {"category": "Children in Need", "At31_episodes": cin,
                                              "Anypoint_episodes": round(cin * 1.86), "Started_episodes": round(cin * 0.98)}))
            reref = round(refs * reref_pct / 100)
            rows["c1"].append(_la_row(y, a, {"category": "Referrals and Re-referrals", "referral_count": refs,
                                              "rereferral_count": reref, "rereferral_percent": round(100 * reref / refs, 1)}))
            sub = round(cpp_start * sub_pct / 100)
            small = sub < 6 and not own
            rows["d3"].append(_la_row(y, a, {"category": "Child Protection Plans which are a second or subsequent plan",
                                              "CPP_start": cpp_start, "CPP_subsequent": "c" if small else sub,
                                              "CPP_subsequent_percent": "c" if small else round(100 * sub / cpp_start, 1)}))
            two = round(cpp_at * two_pct / 100)
            rows["d5"].append(_la_row(y, a, {"category": "Child Protection Plans by length of time", "CPP_At31": cpp_at,
                                              "2_years_or_more": "c" if 0 < two < 3 and not own else two,
                                              "2_years_or_more_percent": "c" if 0 < two < 3 and not own else round(100 * two / cpp_at, 1)}))
        # regions and England: sums of their parts, percentages recomputed
        for level in ("Regional", "National"):
            groups = REGIONS if level == "Regional" else [("E92000001", "England")]
            for code, name in groups:
                members = [a for a in areas if level == "National" or a.region_code == code]
                geo = {"level": level, "code": code, "name": name}
                rows["b1"].append(_agg_row(y, geo, rows["b1"], members, ["At31_episodes", "Anypoint_episodes", "Started_episodes"],
                                           {"category": "Children in Need"}))
                rows["c1"].append(_agg_row(y, geo, rows["c1"], members, ["referral_count", "rereferral_count"],
                                           {"category": "Referrals and Re-referrals"},
                                           pct=("rereferral_percent", "rereferral_count", "referral_count")))
                rows["d3"].append(_agg_row(y, geo, rows["d3"], members, ["CPP_start", "CPP_subsequent"],
                                           {"category": "Child Protection Plans which are a second or subsequent plan"},
                                           pct=("CPP_subsequent_percent", "CPP_subsequent", "CPP_start")))
                rows["d5"].append(_agg_row(y, geo, rows["d5"], members, ["CPP_At31", "2_years_or_more"],
                                           {"category": "Child Protection Plans by length of time"},
                                           pct=("2_years_or_more_percent", "2_years_or_more", "CPP_At31")))
    _section47_and_looked_after(rows, areas, pop, returns, eng)
    for y in range(2018, 2026):
        for a in areas:
            rows["pop"].append(_la_row(y, a, {"age_group": "Children aged 0 to 17 years", "population_estimate": pop[(a.code, y)]}))
        for code, name in REGIONS + [("E92000001", "England")]:
            members = [a for a in areas if code == "E92000001" or a.region_code == code]
            level = "National" if code == "E92000001" else "Regional"
            rows["pop"].append(_geo_row(y, {"level": level, "code": code, "name": name},
                                        {"age_group": "Children aged 0 to 17 years",
                                         "population_estimate": sum(pop[(a.code, y)] for a in members)}))
    names = {"b1": "ees_cin_b1_children_in_need_2019_2026.csv",
             "c1": "ees_cin_c1_referrals_rereferrals_2019_2026.csv",
             "d3": "ees_cin_d3_cpp_second_or_subsequent_2019_2026.csv",
             "d5": "ees_cin_d5_cpp_at31march_by_duration_2019_2026.csv",
             "c4": "ees_cin_c4_section47_icpc_2019_2026.csv",
             "cla": "ees_cla_number_and_rate_per_10k_2021_2026.csv",
             "pop": "ons_population_0_17_2018_2025.csv"}
    paths = []
    for key, file in names.items():
        path = directory / file
        data = sorted(rows[key], key=lambda r: (-int(r["time_period"]), _level_order(r["geographic_level"]),
                                                 r["region_code"], r["new_la_code"]))
        cols = EES_GEO + [c for c in data[0] if c not in EES_GEO]
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=cols)
            w.writeheader()
            w.writerows(data)
        paths.append(path)
    return paths


CLA_AT_31_MARCH = "Children looked after on 31 March each year"


def _section47_and_looked_after(rows: dict, areas: list[DemoArea], pop: dict, returns, eng) -> None:
    """Section 47 enquiries (C4) and looked-after children at 31 March (the CLA file), as DfE lays them out.

    Drawn from their own random stream, so adding them left the other files' figures as they were. As in
    DfE's looked-after file, England's and the regions' counts are rounded to the nearest 10 while their
    rates per 10,000 (whole numbers) come from the unrounded counts, and the file carries its population.
    """
    rng = np.random.default_rng(SEED + 3)
    for y in YEARS:
        s47_rows, cla_rows = [], []
        for a in areas:
            p = pop[(a.code, y - 1)]
            s47 = round(p * eng(185, 0.01, y) * a.need / 10_000 * rng.normal(1, 0.08))
            cla = round(p * eng(68, 0.005, y) * a.need / 10_000 * rng.normal(1, 0.07))
            if a.la_number == 990:
                f = _annual_from_returns(returns, y, ["CSC_S47"], False)
                s = _annual_from_returns(returns, y, ["CSC_CLA_AT_END"], True)
                s47 = int(f["CSC_S47"]) if f else s47
                cla = int(s["CSC_CLA_AT_END"]) if s else cla
            s47_rows.append((a, s47))
            cla_rows.append((a, cla, p))
            rows["c4"].append(_la_row(y, a, {"category": "Section 47s and Initial Child Protection Conferences",
                                              "Section47": s47}))
            if y >= 2021:
                rows["cla"].append(_la_row(y, a, {"population_type": CLA_AT_31_MARCH, "population_estimate": p,
                                                   "children_count": cla, "rate_per_10000": round(10_000 * cla / p)}))
        for code, name, level in [(c, n, "Regional") for c, n in REGIONS] + [("E92000001", "England", "National")]:
            geo = {"level": level, "code": code, "name": name}
            members = {a.code for a in areas if level == "National" or a.region_code == code}
            rows["c4"].append(_geo_row(y, geo, {"category": "Section 47s and Initial Child Protection Conferences",
                                                "Section47": sum(v for a, v in s47_rows if a.code in members)}))
            if y >= 2021:
                cla = sum(v for a, v, _ in cla_rows if a.code in members)
                p = sum(q for a, _, q in cla_rows if a.code in members)
                rows["cla"].append(_geo_row(y, geo, {"population_type": CLA_AT_31_MARCH, "population_estimate": p,
                                                     "children_count": int(round(cla, -1)),
                                                     "rate_per_10000": round(10_000 * cla / p)}))


def _level_order(level: str) -> int:
    return {"National": 0, "Regional": 1, "Local authority": 2}[level]


def _geo_row(y, geo, values):
    region = {"code": geo["code"], "name": geo["name"]} if geo["level"] == "Regional" else {"code": "", "name": ""}
    base = {"time_period": y, "time_identifier": "Reporting year", "geographic_level": geo["level"],
            "country_code": "E92000001", "country_name": "England", "region_code": region["code"],
            "region_name": region["name"], "old_la_code": "", "new_la_code": "", "la_name": ""}
    return {**base, **values}


def _la_row(y, a: DemoArea, values):
    base = {"time_period": y, "time_identifier": "Reporting year", "geographic_level": "Local authority",
            "country_code": "E92000001", "country_name": "England", "region_code": a.region_code,
            "region_name": a.region_name, "old_la_code": a.la_number, "new_la_code": a.code, "la_name": a.name}
    return {**base, **values}


def _agg_row(y, geo, la_rows, members, sums, fixed, pct=None):
    codes = {a.code for a in members}
    sel = [r for r in la_rows if r["time_period"] == y and r["geographic_level"] == "Local authority"
           and r["new_la_code"] in codes]
    values = dict(fixed)
    for col in sums:
        values[col] = int(sum(_number(r[col]) or 0 for r in sel))
    if pct:
        name, num, den = pct
        values[name] = round(100 * values[num] / values[den], 1) if values[den] else "z"
    return _geo_row(y, geo, values)


def write_neighbour_file(directory: Path) -> Path:
    """A DfE-style long neighbour list: for each area, the 10 closest by a fictional socio-economic profile."""
    areas = demo_areas()
    rng = np.random.default_rng(SEED + 3)
    profile = np.array([[a.need, a.practice * 0.3, np.log(a.population)] for a in areas]) + rng.normal(0, 0.05, (len(areas), 3))
    path = directory / "harrowdale_neighbours_long.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["la_number", "la_name", "region_name", "rank", "neighbour_la_number", "neighbour_la_name", "closeness"])
        for i, a in enumerate(areas):
            d = np.sqrt(((profile - profile[i]) ** 2).sum(axis=1))
            d[i] = np.inf
            for rank, j in enumerate(np.argsort(d)[:10], start=1):
                closeness = "Very close" if d[j] < 0.12 else "Close" if d[j] < 0.3 else "Somewhat close"
                w.writerow([a.la_number, a.name, a.region_name, rank, areas[j].la_number, areas[j].name, closeness])
    return path


# --- building the demo store ---------------------------------------------------------------------

def received_date(board: Board, agency: str, q: Quarter) -> dt.date:
    """When the demo says each return arrived: a few days before it was due, except the late one."""
    due = board.agency(agency).due_date(q)
    if q == LAST and agency == "EDU":
        return due + dt.timedelta(days=9)
    offset = (sum(map(ord, agency)) + q.index) % 6 + 1
    return due - dt.timedelta(days=offset)


def build_demo(db: str | None, board: Board, library: Library, workdir: Path | None = None,
               echo=lambda s: None) -> dict:
    """Build the demo store from scratch at ``db``; return counts of what went in."""
    from etl.benchmarks.ees import import_ees
    from etl.benchmarks.neighbours import import_neighbours
    from etl.db import init_store
    from etl.returns.load import load_file
    from etl.returns.template import build_template, fill_values
    from etl.store import make_engine, writer

    workdir = Path(workdir or demo_workdir())
    returns_dir = workdir / "returns"
    bench_dir = workdir / "benchmarks"
    for d in (returns_dir, bench_dir):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    engine = make_engine(db)
    init_store(engine)
    returns = demo_returns()
    echo(f"Writing {sum(len(v) for v in returns.values())} agency returns as workbooks in {returns_dir} ...")
    loaded = 0
    previous: dict[str, dict] = {}
    for q in sorted(returns):
        for agency, values in returns[q].items():
            wb = build_template(board, library, agency, q, previous=previous.get(agency))
            fill_values(wb, values, notes=_notes(agency, q))
            _write_commentary(wb, _commentary(agency, q))
            path = returns_dir / f"{agency}_{q.label.replace(' ', '_')}.xlsx"
            wb.save(path)
            result = load_file(engine, board, library, path, user=DEMO_USER, received_on=received_date(board, agency, q))
            if result.outcome == "rejected":
                raise RuntimeError(f"demo return {path.name} was rejected: {[str(i) for i in result.issues]}")
            loaded += 1
            previous[agency] = {k: _number(v) for k, v in values.items()}
    # The police resubmit the previous quarter: they had missed episodes recorded late.
    q = LAST - 1
    fixed = dict(returns[q]["POL"])
    fixed["POL_MISSING_EPISODES"] = int(fixed["POL_MISSING_EPISODES"]) + 23
    fixed["POL_RHI_ELIGIBLE"] = int(fixed["POL_RHI_ELIGIBLE"]) + 20
    wb = build_template(board, library, "POL", q)
    fill_values(wb, fixed, notes={**_notes("POL", q),
                                  "POL_MISSING_EPISODES": "Corrected: 23 episodes were recorded after the first return."})
    _write_commentary(wb, _commentary("POL", q))
    path = returns_dir / f"POL_{q.label.replace(' ', '_')}_v2.xlsx"
    wb.save(path)
    resub = load_file(engine, board, library, path, user=DEMO_USER, received_on=received_date(board, "POL", LAST) - dt.timedelta(days=40))
    echo("Writing and importing benchmark files (EES layout) and the neighbour list ...")
    files = write_benchmark_files(bench_dir, returns)
    import_ees(writer(engine), files, user=DEMO_USER)
    import_neighbours(writer(engine), write_neighbour_file(bench_dir), user=DEMO_USER, name="harrowdale_neighbours",
                      known=[a.la_number for a in demo_areas()])  # fictional areas, not in the LA list
    _governance(engine, library)
    _year_of_review(engine, board, library)
    engine.dispose()
    return {"returns": loaded, "resubmission": resub.outcome, "benchmark_files": len(files)}


def _notes(agency: str, q: Quarter) -> dict[str, str]:
    """The notes agencies wrote beside their own figures (Kent's "agencies' own analysis", seed 003)."""
    if agency == "CSC" and q == LAST:
        return {"CSC_ASSESS_45WD": "Two team managers' posts vacant since 2024-25 Q3; agency staff covering.",
                "CSC_REREFERRALS": "Eleven of the re-referrals are two sibling groups referred twice each."}
    if agency == "CSC" and q == LAST - 1:
        return {"CSC_ASSESS_45WD": "Recruitment campaign under way; two offers made."}
    if agency == "POL" and q == LAST - 1:
        return {"POL_RHI_72H": "Same-day notifications now cover weekends too."}
    return {}


def _commentary(agency: str, q: Quarter) -> str | None:
    """A short commentary per return: the agency's own reading of its quarter."""
    if agency == "CSC" and q == LAST:
        return ("Contacts were steady, but re-referrals rose again: most are families closed after one assessment "
                "without a step-down plan. Assessment timeliness recovered a little with agency cover; it will not "
                "reach the target until both team manager posts are filled.")
    if agency == "POL" and q in (LAST, LAST - 1):
        return ("Return home interviews within 72 hours keep improving since the same-day notification started; "
                "missing episodes are concentrated in two children's homes.")
    return None


def _write_commentary(wb, text: str | None) -> None:
    """Type ``text`` into the About sheet's Commentary cell, as an agency would."""
    from etl.returns import layout

    if not text:
        return
    ws = wb[layout.ABOUT_SHEET]
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == layout.COMMENTARY_LABEL:
            ws.cell(row[0].row, 2, text)
            return


def _governance(engine, library: Library) -> None:
    """The stories behind two baselines, their action plans and a rebase, as a PQA sub-group would record them."""
    from etl.governance import add_action, record_rebase, record_story, update_action

    pqa = "PQA sub-group"
    rhi = "return_home_interviews"
    record_story(
        engine, library, rhi, author=pqa, frozen_at="2025-26 Q1", at=dt.datetime(2025, 7, 15, 10, 0),
        story="Too few return home interviews happened within 72 hours: referrals from the police reached the "
              "commissioned service by email a day or more after the child came home, and interviews were "
              "offered in office hours only.",
        partners="Police missing persons coordinator; commissioned return interview service; children's "
                 "social care front door; schools' designated safeguarding leads.",
        what_works="Same-day electronic notification; evening and weekend interview slots; a trusted adult "
                   "the child already knows conducting the interview.")
    add_action(engine, library, rhi, "Automatic notification of every return from a missing episode to the "
               "interview service within 4 hours.", "Police missing persons coordinator", pqa,
               due=dt.date(2025, 9, 30), status="done", at=dt.datetime(2025, 7, 15),
               completed_on=dt.date(2025, 9, 26), how_we_know="Notifications within 4 hours, from the police log")
    evening = add_action(engine, library, rhi, "Offer interviews in the evening and at weekends; measure the share "
                         "taken up outside office hours.", "Commissioned service manager", pqa,
                         due=dt.date(2025, 12, 31), status="on_track", at=dt.datetime(2025, 7, 15),
                         how_we_know="Share of interviews held outside office hours; interviews within 72 hours")
    update_action(engine, evening.id, 1, by=pqa, note="Evening slots started in October; weekend rota agreed.",
                  at=dt.datetime(2025, 10, 14, 11, 0))
    update_action(engine, evening.id, 2, by=pqa, status="done", completed_on=dt.date(2026, 1, 20),
                  note="Weekend interviews running; 31% now held outside office hours.",
                  at=dt.datetime(2026, 1, 21, 10, 0))
    record_rebase(engine, library, rhi, "2025-26 Q2", "Same-day notification and out-of-hours interviews started "
                  "in July 2025: a new process, so its limits are calculated afresh.", pqa,
                  decided_on=dt.date(2025, 10, 14))
    record_story(
        engine, library, "rereferral_rate", author=pqa, frozen_at="2026-27 Q1", at=dt.datetime(2026, 5, 20, 14, 0),
        story="Re-referrals have risen for two years. An audit of 40 re-referred families found cases closed "
              "after a single assessment without a step-down plan to early help, and neglect concerns "
              "re-presenting within months.",
        partners="Early help service; health visiting; schools; the front door.",
        what_works="Step-down to early help with a named lead before closure; multi-agency review of repeat "
                   "referrals at the front door.")
    add_action(engine, library, "rereferral_rate", "No case closes after assessment without a step-down "
               "conversation with early help; audit 20 closures a quarter.", "Head of the front door", pqa,
               due=dt.date(2026, 12, 31), at=dt.datetime(2026, 5, 20))


def _is_demo_store(url: str) -> bool:
    """True when the store is empty or holds only demo data (so rebuilding it loses nothing of a user's)."""
    from sqlalchemy import inspect, select

    from etl.store import ReturnVersion, make_engine

    engine = make_engine(url)
    try:
        if "return_version" not in inspect(engine).get_table_names():
            return True
        with engine.connect() as conn:
            users = {r[0] for r in conn.execute(select(ReturnVersion.loaded_by).distinct())}
        return users <= {DEMO_USER}
    finally:
        engine.dispose()


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Build the demo database only; do not start the dashboard.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int,
              help="Port to listen on (when the default is taken, the next free one is used).")
@click.pass_context
def demo_cmd(ctx: click.Context, no_serve: bool, host: str, port: int) -> None:
    """Build the synthetic demo (fictional Harrowdale) and serve the dashboard on it.

    The demo store is data/demo.sqlite unless --db is given; a store holding anyone's real returns is never
    overwritten.
    """
    import time

    from click.core import ParameterSource

    from etl.context import DEMO_BOARD
    from etl.errors import OBAError
    from etl.store import database_url, redact
    from indicators.board import load_board
    from indicators.definitions import load_library

    app = ctx.obj
    url = database_url(app.db or str(demo_db_path()))
    note = None
    if not no_serve:  # before the build, so that a taken port is known at once
        from dashboard.server import check_settings, choose_port

        check_settings(url, host, False, 1)
        port, note = choose_port(host, port, explicit=ctx.get_parameter_source("port") != ParameterSource.DEFAULT)
    if not _is_demo_store(url):
        raise OBAError(f"{redact(url)} holds returns that are not the demo's; the demo will not overwrite them. "
                       "Pass another --db for the demo.")
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
    else:
        from etl.store import Base, make_engine

        engine = make_engine(url)
        Base.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        engine.dispose()
    library = load_library()
    board_path = app.board_path or DEMO_BOARD
    board = load_board(board_path, library)
    t0 = time.perf_counter()
    click.echo(f"Store {redact(url)}; board {board_path}", err=True)
    counts = build_demo(url, board, library, echo=click.echo)
    click.echo(f"Demo built in {time.perf_counter() - t0:.1f} s: {counts['returns']} returns, one resubmission, "
               f"{counts['benchmark_files']} benchmark files, at {redact(url)}.")
    if no_serve:
        click.echo(f"Serve it with: oba --db {redact(url)} --board {board_path} serve")
        return
    from dashboard.server import serve

    if note:
        click.echo(note)
    click.echo(f"Starting the dashboard on port {port}…")
    serve(db=url, board_path=str(board_path), host=host, port=port, say=click.echo)


def _year_of_review(engine, board: Board, library: Library) -> None:
    """A year of the PQA cycle, written through the same functions the app uses: decisions on the last quarters'
    exceptions and those quarters closed, the current quarter's review under way, a target change with its
    reason, report cards for each sub-group, a critical message log (some to the board, one overdue), a later
    version of a story, an overdue action, evidence and the information sources."""
    from etl.access import load_dataset
    from etl.evidence import add_evidence, set_source
    from etl.governance import add_action, change_target, record_story
    from etl.messages import raise_message, update_message
    from etl.report_cards import create_card
    from etl.review import close_quarter, decide_exception, escalate_exception

    pqa = "PQA sub-group"
    # an action of the re-referrals plan that has passed its date and still says "on track"
    add_action(engine, library, "rereferral_rate", "Multi-agency review of every repeat referral at the front door, "
               "monthly, with early help present.", "Front door team manager", pqa, due=dt.date(2026, 9, 30),
               status="on_track", at=dt.datetime(2026, 5, 20), how_we_know="Repeat referrals reviewed each month")
    record_story(engine, library, "return_home_interviews", author=pqa, period="2026-27 Q1",
                 at=dt.datetime(2026, 8, 19, 15, 0),
                 story="The curve has turned: since same-day notification and out-of-hours interviews started, "
                       "interviews within 72 hours have stayed above what the baseline forecast. Missing episodes "
                       "are now concentrated in two children's homes.",
                 partners="Police missing persons coordinator; commissioned return interview service; the two "
                          "homes' registered managers.",
                 what_works="Same-day notification; evening and weekend slots; a trusted adult the child knows.")
    change_target(engine, library, "assessments_45_days", "2026-27 Q1",
                  "While two team manager posts are vacant the board accepts a wider tolerance; the target stays 88%.",
                  tolerance=6, decided_by="Safeguarding board", decided_on=dt.date(2026, 4, 22),
                  at=dt.datetime(2026, 4, 22, 16, 0))

    # the quarters' reviews: the last three closed, the current one under way
    ds = load_dataset(engine, board, library, forecasts=False)
    reviews = [(LAST - 3, dt.datetime(2026, 2, 18, 11)), (LAST - 2, dt.datetime(2026, 5, 20, 11)),
               (LAST - 1, dt.datetime(2026, 8, 19, 11)), (LAST, dt.datetime(2026, 11, 18, 11))]
    escalated = None
    for q, when in reviews:
        qds = ds.as_of(q) if q != ds.period else ds
        ex = qds.exceptions
        inds = sorted(set(ex[ex["severity"].isin(("high", "medium", "low"))]["indicator_id"]))
        for k, ind in enumerate(inds):
            at = when + dt.timedelta(minutes=k)
            if q == LAST and ind not in ("rereferral_rate", "assessment_duration"):
                continue  # the current quarter's review is under way: the rest are not yet reviewed
            if ind == "rereferral_rate" and q == LAST:
                decide_exception(engine, library, ind, q.label, "challenged",
                                 "Half of the rise is two sibling groups referred twice each.",
                                 "Re-referrals counted by family, for the last four quarters", pqa, at=at)
            elif ind == "assessments_45_days" and escalated is None and q >= LAST - 1:
                _, escalated = escalate_exception(
                    engine, board, library, ind, q.label, "Assessment timeliness will not recover while two team "
                    "manager posts are vacant: agency cover is needed until they are filled.", pqa, at=at)
            else:
                decide_exception(engine, library, ind, q.label, "agreed", decided_by=pqa, at=at)
        if q != LAST:
            close_quarter(engine, board, library, q.label, "PQA chair", at=when + dt.timedelta(hours=2), dataset=qds)

    # the critical message log
    if escalated is not None:
        update_message(engine, board, library, escalated.id, 1, by="Business management group",
                       at=dt.datetime(2026, 9, 2, 10), bmg_meeting=dt.date(2026, 9, 2), decision="to_board",
                       action="Fund agency team managers until both posts are filled", owner="Director of children's "
                       "services", why="Statutory assessment timescales", due=dt.date(2027, 3, 31),
                       status="in_progress")
    cards = {}
    for group, meeting, text in (
            ("pqa", dt.date(2026, 8, 19), "Reviewed the 2026-27 Q1 dataset and its 10 exceptions; closed the quarter."),
            ("pqa", dt.date(2026, 11, 18), "Reviewed the 2026-27 Q2 dataset; challenged the rise in re-referrals."),
            ("exploitation", dt.date(2026, 8, 12), "Reviewed missing episodes by home; return interviews audit."),
            ("exploitation", dt.date(2026, 11, 11), "Joint visits to the two homes with most missing episodes."),
            ("learning", dt.date(2026, 8, 26), "Ran 12 courses for 188 staff; evaluation of DA training."),
            ("learning", dt.date(2026, 11, 25), "Ran 14 courses for 212 staff; GP practice uptake reviewed.")):
        cards[(group, meeting)] = create_card(
            engine, board, by=f"{group} chair", at=dt.datetime.combine(meeting, dt.time(16)), group_id=group,
            meeting_on=meeting, activity=text,
            data_story={"pqa": "Re-referrals keep rising; assessment timeliness is recovering slowly with agency "
                               "cover.",
                        "exploitation": "Return home interviews within 72 hours have turned the curve.",
                        "learning": "Attendance is up; confidence after training is high."}[group],
            data_challenges="Health visiting figures arrive a month late." if group == "pqa" else None,
            priority_activity={"voice_of_child": "Children's views are read at the start of each meeting."}
            if group == "pqa" else {},
            difference={"pqa": "Step-down plans are now checked before a case closes.",
                        "exploitation": "More children are seen within 72 hours of coming home.",
                        "learning": "Staff say they recognise coercive control sooner."}[group],
            how_we_know={"pqa": "Audit of 20 closures in October.", "exploitation": "Return interview records.",
                         "learning": "Post-course evaluations and a three-month follow-up."}[group])
    card = cards[("exploitation", dt.date(2026, 8, 12))]
    resilience = raise_message(engine, board, library, by="exploitation chair", at=dt.datetime(2026, 8, 12, 17),
                               group_id="exploitation", raised_on=dt.date(2026, 8, 12), source="report_card",
                               source_ref=f"report_card {card.id}", indicators=["return_home_interviews"],
                               message="Out-of-hours return interviews depend on one worker.")
    update_message(engine, board, library, resilience.id, 1, by="Business management group",
                   at=dt.datetime(2026, 9, 2, 10, 30), bmg_meeting=dt.date(2026, 9, 2), decision="noted",
                   action="Train two more interviewers for the weekend rota", owner="Commissioned service manager",
                   why="Resilience of the service that turned the curve", due=dt.date(2026, 10, 31),
                   status="in_progress")  # still in progress after its date: overdue
    card = cards[("learning", dt.date(2026, 11, 25))]
    raise_message(engine, board, library, by="learning chair", at=dt.datetime(2026, 11, 25, 17),
                  group_id="learning", raised_on=dt.date(2026, 11, 25), source="report_card",
                  source_ref=f"report_card {card.id}", message="Uptake of domestic abuse training by GP practices "
                  "is low.")
    late = raise_message(engine, board, library, by="PQA chair", at=dt.datetime(2026, 6, 3, 12), group_id="pqa",
                         raised_on=dt.date(2026, 6, 3), message="Health visiting figures arrive a month after the "
                         "quarter's deadline.", indicators=["early_help_assessment_rate"])
    update_message(engine, board, library, late.id, 1, by="Business management group", at=dt.datetime(2026, 6, 10, 10),
                   bmg_meeting=dt.date(2026, 6, 10), decision="not_to_board", action="Agree a data-sharing date "
                   "with the ICB", owner="Business manager", why="Complete data for PQA", due=dt.date(2026, 7, 31),
                   status="done", completed_on=dt.date(2026, 7, 14))
    cse = raise_message(engine, board, library, by="exploitation chair", at=dt.datetime(2026, 11, 11, 17),
                        group_id="exploitation", raised_on=dt.date(2026, 11, 11), indicators=["missing_episodes"],
                        message="Missing episodes from two children's homes doubled this quarter.")
    update_message(engine, board, library, cse.id, 1, by="Business management group", at=dt.datetime(2026, 11, 20, 10),
                   bmg_meeting=dt.date(2026, 11, 20), decision="to_board",
                   action="Joint visits by the police and each home's registered manager", owner="Head of corporate "
                   "parenting", why="Children at risk of exploitation", due=dt.date(2027, 1, 31))

    # evidence beside the data, and the information sources
    for kind, title, finding, found_on, source, priorities, indicators in (
            ("multi_agency_audit", "Multi-agency audit of re-referred families",
             "In 26 of 40 re-referred families the case closed after one assessment without a step-down plan.",
             dt.date(2026, 4, 30), "PQA sub-group", ["early_help", "neglect"], ["rereferral_rate"]),
            ("single_agency_audit", "Children's social care audit of assessment timeliness",
             "Delays were in teams with vacant team manager posts; quality of the assessments was good.",
             dt.date(2026, 7, 15), "Children's social care quality assurance", ["early_help"],
             ["assessments_45_days"]),
            ("section_11", "Section 11 self-assessments 2025", "Health and police rated their safeguarding "
             "supervision as good; the voluntary sector asked for help with training records.", dt.date(2025, 11, 28),
             "Business unit", ["voice_of_child", "domestic_abuse"], ["training_take_up"]),
            ("section_175", "Section 175 audit of schools", "Nine in ten schools have a trained deputy DSL; "
             "persistent absence of children in need is a concern in three secondary schools.", dt.date(2026, 3, 20),
             "Education safeguarding team", ["neglect"], ["cin_persistent_absence"]),
            ("case_review", "Rapid review: a child missing from care", "Return interviews did not reach the child's "
             "trusted adult; information was not shared with the school.", dt.date(2026, 6, 25),
             "Case review group", ["cse_missing"], ["return_home_interviews", "missing_episodes"]),
            ("voice_of_child", "Young people's survey", "Most said they were listened to at their conference; "
             "fewer understood their plan.", dt.date(2026, 10, 1), "Children in care council", ["voice_of_child"],
             ["conference_child_views"])):
        add_evidence(engine, board, library, by=pqa, at=dt.datetime.combine(found_on, dt.time(12)), kind=kind,
                     title=title, finding=finding, found_on=found_on, source=source, priorities=priorities,
                     indicators=indicators)
    for source, provider, frequency, last, nxt in (
            ("Section 11 self-assessments", "All statutory partners", "Every two years", dt.date(2025, 11, 28),
             dt.date(2027, 11, 30)),
            ("Section 175 audit", "Schools", "Annually", dt.date(2026, 3, 20), dt.date(2027, 3, 31)),
            ("Multi-agency case audits", "PQA sub-group", "Quarterly", dt.date(2026, 10, 30), dt.date(2027, 1, 29)),
            ("Children in care council survey", "Participation team", "Annually", dt.date(2026, 10, 1),
             dt.date(2027, 10, 1)),
            ("Child death overview panel report", "CDOP", "Annually", dt.date(2025, 9, 30), dt.date(2026, 9, 30))):
        set_source(engine, source, provider, frequency, last, nxt, by=pqa)
