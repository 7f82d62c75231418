"""The reference list of English local authorities with children's services responsibilities.

Each authority is known by its DfE 3-digit LA number (``826``), its ONS/GSS code (``E06000042``) and its name.
Codes change with reorganisations (North Yorkshire and Somerset took new ONS codes in 2024; Bournemouth,
Christchurch and Poole replaced Bournemouth and Poole in 2020), so an authority carries every code it has had
with the DfE reporting years each was in use (year 2025 = 1 April 2024 – 31 March 2025).

The list ships as package data (``indicators/data/local_authorities.csv``), built by
``python -m etl.la_reference LA_LOOKUP.csv`` from DfE's published LA lookup (the ``la_lookup.csv`` of the
Local Authority Interactive Tool, github.com/dfe-analytical-services/local-authority-interactive-tool,
``01_data/02_prod/``). Contains public sector information licensed under the Open Government Licence v3.0.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

SOURCE = ("DfE Local Authority Interactive Tool, la_lookup.csv "
          "(github.com/dfe-analytical-services/local-authority-interactive-tool, 01_data/02_prod/)")
LICENCE = "Open Government Licence v3.0"

COLUMNS = ("la_number", "name", "ons_code", "region_code", "region_name", "la_type", "first_year", "last_year")
"""The package file's columns: one row per (LA number, ONS code) combination, as published."""

LONDON = ("E12000007", "London")
"""Inner and Outer London (E13000001/2) are sub-regions of the London region."""

LA_TYPES = {"ILB": "Inner London borough", "OLB": "Outer London borough", "MD": "metropolitan district",
            "SC": "shire county", "UA": "unitary authority"}


class UnknownAuthority(LookupError):
    """No English local authority matches what was given."""

    def __init__(self, text: str, suggestions: list[LocalAuthority]):
        self.text = text
        self.suggestions = suggestions
        hint = ""
        if suggestions:
            hint = "; did you mean " + " or ".join(f"{a.name} ({a.number}, {a.ons_code})" for a in suggestions) + "?"
        super().__init__(f"no English local authority is called or numbered {text!r}{hint} "
                         "Give the name, the DfE 3-digit LA number or the ONS code (E06000042).")


@dataclass(frozen=True)
class CodeSpan:
    """One ONS code an authority used, and the DfE reporting years it was in use."""

    ons_code: str
    first_year: int
    last_year: int


@dataclass(frozen=True)
class LocalAuthority:
    number: int
    name: str
    region_code: str
    region_name: str
    la_type: str
    codes: tuple[CodeSpan, ...]
    """Every ONS code the authority has had, oldest first."""

    @property
    def ons_code(self) -> str:
        """The newest ONS code."""
        return self.codes[-1].ons_code

    @property
    def first_year(self) -> int:
        return self.codes[0].first_year

    @property
    def last_year(self) -> int:
        return self.codes[-1].last_year

    @property
    def current(self) -> bool:
        """Still reporting in the newest year of the list (not abolished by a reorganisation)."""
        return self.last_year >= latest_year()

    @property
    def region(self) -> tuple[str, str]:
        """The English region (code, name); London boroughs belong to London, not to Inner/Outer London."""
        if self.region_code.startswith("E13"):
            return LONDON
        return self.region_code, self.region_name

    def code_in(self, year: int) -> str | None:
        """The ONS code in use in DfE reporting year ``year``, or None if the authority did not exist then."""
        for span in self.codes:
            if span.first_year <= year <= span.last_year:
                return span.ons_code
        return None


def _read_rows() -> list[dict[str, str]]:
    text = resources.files("indicators").joinpath("data/local_authorities.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def all_authorities(current_only: bool = False) -> tuple[LocalAuthority, ...]:
    """Every authority in the list, by LA number; ``current_only`` leaves out those abolished."""
    grouped: dict[int, list[dict[str, str]]] = {}
    for row in _read_rows():
        grouped.setdefault(int(row["la_number"]), []).append(row)
    out = []
    for number, rows in sorted(grouped.items()):
        rows.sort(key=lambda r: int(r["first_year"]))
        last = rows[-1]
        out.append(LocalAuthority(
            number=number, name=last["name"], region_code=last["region_code"], region_name=last["region_name"],
            la_type=last["la_type"],
            codes=tuple(CodeSpan(r["ons_code"], int(r["first_year"]), int(r["last_year"])) for r in rows)))
    everyone = tuple(out)
    newest = max(a.last_year for a in everyone)
    return tuple(a for a in everyone if a.last_year >= newest) if current_only else everyone


def latest_year() -> int:
    """The newest DfE reporting year the list covers."""
    return max(span.last_year for a in all_authorities() for span in a.codes)


@cache
def _by_number() -> dict[int, LocalAuthority]:
    return {a.number: a for a in all_authorities()}


@cache
def _by_code() -> dict[str, LocalAuthority]:
    return {span.ons_code: a for a in all_authorities() for span in a.codes}


def by_number(number: int) -> LocalAuthority | None:
    return _by_number().get(int(number))


def by_code(ons_code: str) -> LocalAuthority | None:
    return _by_code().get(ons_code.strip().upper())


def numbers(year: int | None = None) -> frozenset[int]:
    """LA numbers of authorities that existed in reporting ``year`` (any year when None)."""
    return frozenset(a.number for a in all_authorities() if year is None or a.code_in(year) is not None)


def _normalise(name: str) -> str:
    name = name.lower().replace("&", "and")
    name = re.sub(r"\b(city of|county of|council|borough|royal borough of|london borough of|the)\b", " ", name)
    return re.sub(r"[^a-z]+", " ", name).strip()


def find(text: str) -> LocalAuthority:
    """The authority ``text`` names: a DfE LA number, an ONS code (current or former) or a name.

    Names match without regard to case, punctuation or words such as "City of" and "Council"; where two
    authorities share a name (Dorset before and after 2020) the current one wins. Raises UnknownAuthority with
    the closest names when nothing matches.
    """
    given = str(text).strip()
    if re.fullmatch(r"\d{3}", given):
        if (la := by_number(int(given))) is not None:
            return la
    elif re.fullmatch(r"[Ee]\d{8}", given):
        if (la := by_code(given)) is not None:
            return la
    else:
        wanted = _normalise(given)
        matches = [a for a in all_authorities() if _normalise(a.name) == wanted]
        if matches:
            return max(matches, key=lambda a: (a.current, a.last_year))
    names = {_normalise(a.name): a for a in sorted(all_authorities(), key=lambda a: a.current)}
    close = difflib.get_close_matches(_normalise(given), list(names), n=3, cutoff=0.6)
    raise UnknownAuthority(given, [names[c] for c in close])
