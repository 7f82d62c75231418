"""Which published files to download, from where, and which indicators each one serves.

The addresses are given as text for a person to open; nothing here fetches anything. The datasets are the ones
the indicator definitions name (``benchmark: {dataset: ...}``) plus the ONS population that every rate per
10,000 divides by; a file's dataset is its name without the year range (etl.benchmarks.ees.dataset_key), so
save each download under the name shown, keeping its years.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from indicators.definitions import POPULATION, Library

CIN_URL = "https://explore-education-statistics.service.gov.uk/find-statistics/characteristics-of-children-in-need"
CLA_URL = ("https://explore-education-statistics.service.gov.uk/find-statistics/"
           "children-looked-after-in-england-including-adoptions")
ONS_URL = "https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/populationestimates"
NEIGHBOURS_URL = ("https://www.gov.uk/government/publications/"
                  "childrens-services-statistical-neighbour-benchmarking-tool")
POPULATION_DATASET = "ons_population_0_17"


@dataclass(frozen=True)
class Source:
    """A published file: the dataset it becomes, an example file name, what it is and where it is published."""

    dataset: str
    example: str
    what: str
    where: str
    note: str = ""


SOURCES: tuple[Source, ...] = (
    Source("ees_cin_b1_children_in_need", "ees_cin_b1_children_in_need_2013_2025.csv",
           "DfE, Characteristics of children in need, table B1: children in need", CIN_URL),
    Source("ees_cin_c1_referrals_rereferrals", "ees_cin_c1_referrals_rereferrals_2013_2025.csv",
           "DfE, Characteristics of children in need, table C1: referrals and re-referrals", CIN_URL),
    Source("ees_cin_c4_section47_icpc", "ees_cin_c4_section47_icpc_2013_2025.csv",
           "DfE, Characteristics of children in need, table C4: section 47 enquiries and initial conferences",
           CIN_URL),
    Source("ees_cin_d3_cpp_second_or_subsequent", "ees_cin_d3_cpp_second_or_subsequent_2013_2025.csv",
           "DfE, Characteristics of children in need, table D3: second or subsequent child protection plans",
           CIN_URL),
    Source("ees_cin_d5_cpp_at31march_by_duration", "ees_cin_d5_cpp_at31march_by_duration_2013_2025.csv",
           "DfE, Characteristics of children in need, table D5: child protection plans at 31 March by duration",
           CIN_URL),
    Source("ees_cla_number_and_rate_per_10k", "ees_cla_number_and_rate_per_10k_2021_2025.csv",
           "DfE, Children looked after in England including adoptions: number and rate per 10,000", CLA_URL),
    Source(POPULATION_DATASET, "ons_population_0_17_2012_2024.csv",
           "ONS mid-year population estimates, children aged 0 to 17, in the EES layout", ONS_URL,
           "not an EES file: ONS publishes workbooks, which DfE republishes in this layout; see docs/benchmarks.md"),
)


def source_for(dataset: str) -> Source | None:
    return next((s for s in SOURCES if s.dataset == dataset), None)


def serves(library: Library) -> dict[str, list[str]]:
    """Dataset → the indicators it serves: their benchmark's dataset, and the ONS population for every indicator
    whose figure or benchmark is a rate per 10,000 children."""
    out: dict[str, list[str]] = {}
    for ind in library.indicators.values():
        b = ind.benchmark
        if b is not None:
            out.setdefault(b.dataset, []).append(ind.id)
        if ind.denominator == POPULATION or (b is not None and (b.per_population or b.denominator == POPULATION)):
            out.setdefault(POPULATION_DATASET, []).append(ind.id)
    return out


def unbenchmarked(library: Library) -> list[str]:
    """Indicators with no published figure to compare with (DfE publishes nothing comparable)."""
    return [ind.id for ind in library.indicators.values() if ind.benchmark is None]


def nearest_dataset(dataset: str, wanted) -> str | None:
    """The dataset an indicator names that a stored one was probably meant to be (a file saved under another name)."""
    close = difflib.get_close_matches(dataset, list(wanted), n=1, cutoff=0.5)
    return close[0] if close else None


def download_help() -> str:
    """What to download and what each file feeds, as text for `oba benchmarks import --help` (click \\b blocks)."""
    lines = ["Which files to download (save each under the name shown, keeping its years):", ""]
    for s in SOURCES:
        lines += ["\b", f"  {s.example}", f"    {s.what}", *([f"    ({s.note})"] if s.note else []),
                  f"    {s.where}", ""]
    lines += ["\b", "Neighbours are imported with `oba neighbours import` (DfE's children's services statistical",
              f"neighbour benchmarking tool: {NEIGHBOURS_URL}).",
              "`oba benchmarks list` shows which indicators each stored file serves and which still lack one."]
    return "\n".join(lines)
