"""DfE's published rates, reproduced for every LA, region and England row through the importer and the library.

The real EES files in ``../shared/data/dfe`` are imported with ``import_ees`` into a store, read back with
``etl.access`` and turned into annual values by ``indicators.benchmarking.published_values``. The reference
figures are worked out here straight from the CSV files: count for year Y over the ONS 0–17 population for
mid-(Y−1), joined on DfE's LA number (so reorganised authorities, whose ONS code changed, are included), and
for looked-after children DfE's own published ``rate_per_10000`` and ``population_estimate``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl.access import read_benchmarks, read_population
from etl.benchmarks.ees import import_ees
from etl.db import init_store
from etl.store import make_engine
from indicators.benchmarking import published_values
from indicators.definitions import load_library

FILES = {
    "cin_rate": ("ees_cin_b1_children_in_need_2013_2025.csv", "At31_episodes", {}),
    "cpp_rate": ("ees_cin_d5_cpp_at31march_by_duration_2013_2025.csv", "CPP_At31", {}),
    "referral_rate": ("ees_cin_c1_referrals_rereferrals_2013_2025.csv", "referral_count", {}),
    "s47_rate": ("ees_cin_c4_section47_icpc_2013_2025.csv", "Section47", {}),
    "cla_rate": ("ees_cla_number_and_rate_per_10k_2021_2025.csv", "children_count",
                 {"population_type": "Children looked after on 31 March each year"}),
}
PERCENTAGES = {
    "rereferral_rate": ("ees_cin_c1_referrals_rereferrals_2013_2025.csv", "rereferral_percent"),
    "cpp_second_subsequent": ("ees_cin_d3_cpp_second_or_subsequent_2013_2025.csv", "CPP_subsequent_percent"),
    "cpp_two_years": ("ees_cin_d5_cpp_at31march_by_duration_2013_2025.csv", "2_years_or_more_percent"),
}
POP = "ons_population_0_17_2012_2024.csv"
CLA = FILES["cla_rate"][0]


@pytest.fixture(scope="module")
def published(tmp_path_factory, request):
    from conftest import SHARED_DFE

    if not SHARED_DFE.exists():
        pytest.skip(f"{SHARED_DFE} is not there")
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('rates') / 'store.sqlite'}")
    init_store(engine)
    files = sorted({f for f, _, _ in FILES.values()} | {f for f, _ in PERCENTAGES.values()} | {POP})
    import_ees(engine, [SHARED_DFE / f for f in files], "tester")
    library = load_library()
    pop = read_population(engine)
    pub = published_values(read_benchmarks(engine, library), library, pop)
    engine.dispose()
    return pub, pop, SHARED_DFE


def _raw(path, filters: dict) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col, val in filters.items():
        raw = raw[raw[col] == val]
    level = raw["geographic_level"]
    raw = raw.assign(
        area_code=np.where(level == "Local authority", raw["new_la_code"],
                           np.where(level == "Regional", raw["region_code"], raw["country_code"])),
        year=raw["time_period"].astype(int))
    return raw[level.isin(["National", "Regional", "Local authority"])]


def _reference_population(shared) -> tuple[dict, dict]:
    p = pd.read_csv(shared / POP, dtype=str, keep_default_na=False)
    value = pd.to_numeric(p["population_estimate"], errors="coerce")
    la = p["geographic_level"] == "Local authority"
    by_number = dict(zip(zip(p.loc[la, "old_la_code"].astype(int), p.loc[la, "time_period"].astype(int), strict=True), value[la], strict=True))
    code = np.where(p["geographic_level"] == "Regional", p["region_code"], p["country_code"])
    by_code = dict(zip(zip(code[~la], p.loc[~la, "time_period"].astype(int), strict=True), value[~la], strict=True))
    return by_number, by_code


def _ours(pub, indicator):
    return pub[pub["indicator_id"] == indicator].set_index(["area_code", "year"])


@pytest.mark.parametrize("indicator", list(FILES))
def test_every_published_rate_is_reproduced(published, indicator):
    pub, _pop, shared = published
    file, measure, filters = FILES[indicator]
    raw = _raw(shared / file, filters)
    count = pd.to_numeric(raw[measure], errors="coerce")
    by_number, by_code = _reference_population(shared)
    la = (raw["geographic_level"] == "Local authority").to_numpy()
    population = np.array([by_number.get((int(n), y - 1)) if is_la and n.isdigit() else by_code.get((a, y - 1))
                           for n, a, y, is_la in zip(raw["old_la_code"], raw["area_code"], raw["year"], la, strict=True)],
                          dtype=float)
    expected = count.to_numpy(dtype=float) / population * 10_000
    ours = _ours(pub, indicator)
    got = ours["value"].reindex(list(zip(raw["area_code"], raw["year"], strict=True))).to_numpy(dtype=float)
    has = np.isfinite(expected)
    assert has.sum() > 0.9 * np.isfinite(count).sum()  # every row with a count and a population
    np.testing.assert_allclose(got[has], expected[has], rtol=1e-12)
    assert np.isnan(got[~np.isfinite(count.to_numpy(dtype=float))]).all()  # suppressed stays missing
    levels = set(raw.loc[has, "geographic_level"])
    assert levels == {"National", "Regional", "Local authority"}


@pytest.mark.parametrize(("name", "code", "year"), [
    ("North Yorkshire", "E10000023", 2022), ("North Yorkshire", "E10000023", 2023),
    ("Somerset", "E10000027", 2023), ("Northumberland", "E06000048", 2019), ("Gateshead", "E08000020", 2016)])
def test_reorganised_authorities_get_their_rate(published, name, code, year):
    pub, _pop, _shared = published
    cin = _ours(pub, "cin_rate")
    s47 = _ours(pub, "s47_rate")
    # the C4 file publishes Northumberland and Gateshead under their pre-2020 codes, the population under the new
    row = s47.loc[(code, year)] if (code, year) in s47.index else cin.loc[(code, year)]
    assert np.isfinite(row["value"]) and row["area_name"] == name


def test_spot_rates_as_dfe_publishes(published):
    pub, _pop, _shared = published
    assert round(_ours(pub, "cin_rate").loc[("E06000042", 2025), "value"], 1) == 363.8  # Milton Keynes
    assert round(_ours(pub, "cin_rate").loc[("E92000001", 2025), "value"], 1) == 330.3
    assert round(_ours(pub, "s47_rate").loc[("E06000042", 2025), "value"], 1) == round(1561 / 74569 * 10_000, 1)


def test_looked_after_rate_equals_the_published_rate_per_10000(published):
    pub, _pop, shared = published
    raw = _raw(shared / CLA, FILES["cla_rate"][2])
    rate = pd.to_numeric(raw["rate_per_10000"], errors="coerce").to_numpy(dtype=float)
    ours = _ours(pub, "cla_rate")["value"].reindex(list(zip(raw["area_code"], raw["year"], strict=True))).to_numpy(dtype=float)
    la = (raw["geographic_level"] == "Local authority").to_numpy()
    has = np.isfinite(rate)
    assert (has & la).sum() >= 150 * 5 and np.isfinite(ours[has]).all()
    # local authorities: DfE's whole-number rate exactly (rounded half up, as DfE rounds)
    assert (np.floor(ours[has & la] + 0.5) == rate[has & la]).all()
    # England and the regions: published counts are rounded to 10, rates from unrounded counts: within 1
    assert np.abs(ours[has & ~la] - rate[has & ~la]).max() <= 1.0
    mk = _ours(pub, "cla_rate").loc[("E06000042", 2025)]
    assert (mk["numerator"], round(mk["value"])) == (509, 68)


def test_la_number_join_gives_dfe_s_own_population_for_every_la(published):
    pub, _pop, shared = published
    raw = _raw(shared / CLA, FILES["cla_rate"][2])
    dfe = pd.to_numeric(raw["population_estimate"], errors="coerce").to_numpy(dtype=float)
    ours = _ours(pub, "cla_rate")["denominator"].reindex(list(zip(raw["area_code"], raw["year"], strict=True))) \
        .to_numpy(dtype=float)
    la = (raw["geographic_level"] == "Local authority").to_numpy()
    has = np.isfinite(dfe)
    assert set(raw.loc[has & la, "year"]) == {2021, 2022, 2023, 2024, 2025}
    np.testing.assert_array_equal(ours[has], dfe[has])  # every LA (reorganised ones too), region and England
    # North Yorkshire 2021 is published under its 2023 code; the population of mid-2020 under the old one
    ny = raw[(raw["old_la_code"] == "815") & (raw["year"] == 2021)].iloc[0]
    assert ny["new_la_code"] == "E06000065" and ny["population_estimate"] == "113716"


def test_read_population_gives_each_la_its_history_under_its_current_code(published):
    _pub, pop, _shared = published
    ny = pop[pop["area_code"] == "E06000065"].set_index("year")["population"]
    # published as E10000023 until mid-2022, E06000065 from mid-2023: the board's code finds every year
    assert ny[2012] == 118515 and ny[2022] == 114700 and ny[2024] == 115721
    assert set(pop[pop["area_code"] == "E10000023"]["year"]) == set(range(2012, 2023))
    assert (pop[pop["area_code"] == "E06000065"]["la_number"] == 815).all()


@pytest.mark.parametrize("indicator", list(PERCENTAGES))
def test_published_percentages_are_kept_as_published(published, indicator):
    pub, _pop, shared = published
    file, measure = PERCENTAGES[indicator]
    raw = _raw(shared / file, {})
    value = pd.to_numeric(raw[measure], errors="coerce").to_numpy(dtype=float)
    got = _ours(pub, indicator)["value"].reindex(list(zip(raw["area_code"], raw["year"], strict=True))).to_numpy(dtype=float)
    np.testing.assert_array_equal(got, value)
