"""Import DfE Explore Education Statistics (EES) CSV files, and ONS population files in the same layout.

Any EES file can be imported, including ones this project has never seen: after the standard time and
geography columns, a column is a *measure* when every non-blank value is a number or a GSS symbol, and a
*filter* otherwise. An EES ``.meta.csv`` beside the file, when present, says which is which instead.
Every figure is stored as published: numbers as values, symbols (``c``, ``k``, ``u``, ``x``, ``z``,
``low``...) as notes. A later release of the same dataset updates the values that changed and records
each change (old and new value and note) against the new release.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from etl import audit
from etl.benchmarks.csvfile import (
    MAX_PROBLEMS,
    BenchmarkFileError,
    CsvTable,
    FilesError,
    Problem,
    ProblemList,
    quote,
    read_csv_frame,
    read_csv_table,
)
from etl.store import (
    Area,
    BenchmarkChange,
    BenchmarkMeasure,
    BenchmarkPlace,
    BenchmarkRelease,
    BenchmarkSeries,
    BenchmarkValue,
    lock_for,
    utcnow,
    writer,
)

# The time and geography columns every EES file starts with, in their published order.
STANDARD_COLUMNS = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name",
                    "region_code", "region_name", "old_la_code", "new_la_code", "la_name"]
ALWAYS_REQUIRED = STANDARD_COLUMNS[:5]
REGION_COLUMNS = ["region_code", "region_name"]
LA_COLUMNS = ["old_la_code", "new_la_code", "la_name"]

# Geography columns of the other EES levels (EES data standards): never filters or measures.
OTHER_GEOGRAPHY_COLUMNS = {
    "lad_code", "lad_name", "rsc_region_lead_code", "rsc_region_lead_name", "pcon_code", "pcon_name",
    "lsip_code", "lsip_name", "local_enterprise_partnership_code", "local_enterprise_partnership_name",
    "english_devolved_area_code", "english_devolved_area_name", "opportunity_area_code",
    "opportunity_area_name", "ward_code", "ward_name", "trust_id", "trust_name", "sponsor_id", "sponsor_name",
    "school_urn", "school_laestab", "school_name", "school_postcode", "provider_ukprn", "provider_name",
    "institution_id", "institution_name", "planning_area_code", "planning_area_name", "pfa_code", "pfa_name",
    "mayoral_combined_authority_code", "mayoral_combined_authority_name", "combined_authority_code",
    "combined_authority_name", "police_force_area_code", "police_force_area_name",
}
GEOGRAPHY_COLUMNS = set(STANDARD_COLUMNS) | OTHER_GEOGRAPHY_COLUMNS

# The levels stored; rows at any other level (Local authority district, Ward, School...) are skipped.
NATIONAL, REGIONAL, LOCAL_AUTHORITY = "National", "Regional", "Local authority"
LEVELS = {"national": NATIONAL, "regional": REGIONAL, "local authority": LOCAL_AUTHORITY}

# GSS symbols (current and legacy, bare and bracketed): they mark a measure column as a measure.
GSS_SYMBOLS = {"c", "k", "u", "x", "z", "w", "low", "~", ":", "..", "-", "*", "#", "!", "n/a"}
GSS_SYMBOLS |= {f"[{s}]" for s in ("c", "k", "u", "x", "z", "w", "low")}

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NUMBER_WITH_COMMAS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_YEAR_RANGE_SUFFIX = re.compile(r"[_-](?:19|20)\d{2}(?:\d{2})?(?:[_-](?:19|20)?\d{2}(?:\d{2})?)?$")
_TIME_PERIOD = re.compile(r"(?:19|20)\d{2}(?:\d{2})?")

_STRING_LIMITS = {"area_code": 12, "area_name": 120, "time_identifier": 60, "filters": 500, "note": 40,
                  "measure": 120, "dataset": 120}

# One lock for all benchmark imports on PostgreSQL (SQLite's BEGIN IMMEDIATE does the same job there).


def dataset_key(path: Path | str) -> str:
    """The dataset a file belongs to: its stem in lower case without a trailing year or year range.

    ``ees_cin_c1_referrals_rereferrals_2013_2025.csv`` → ``ees_cin_c1_referrals_rereferrals``;
    ``ons_population_0_17_2012_2024.csv`` → ``ons_population_0_17``. Indicator definitions name benchmarks by
    this key, so a newer release (``..._2013_2026.csv``) updates the same dataset.
    """
    stem = Path(path).name
    if stem.lower().endswith(".meta.csv"):
        stem = stem[: -len(".meta.csv")]
    else:
        stem = Path(stem).stem
    stem = stem.strip().lower()
    key = _YEAR_RANGE_SUFFIX.sub("", stem)
    return key or stem


def meta_path(path: Path | str) -> Path:
    """Where EES puts a data file's metadata: ``name.meta.csv`` beside ``name.csv``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.meta.csv")


def is_meta_file(path: Path | str) -> bool:
    return Path(path).name.lower().endswith(".meta.csv")


@dataclass(frozen=True)
class ImportResult:
    """What importing one file did. ``outcome`` is "imported" (a new dataset), "updated" or "unchanged"."""

    file: str
    dataset: str
    rows: int
    measures: tuple[str, ...]
    added: int
    changed: int
    unchanged: int
    outcome: str
    filters: tuple[str, ...] = ()
    first_period: int | None = None
    last_period: int | None = None
    kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    release_id: int | None = None
    sha256: str = ""
    dry_run: bool = False
    warnings: tuple[str, ...] = ()


@dataclass
class ParsedFile:
    """A validated EES file, held as numbers: each stored row's series, time period and place, and each
    measure's figures for those rows.

    ``series`` has one row per series (filters, area_code, time_identifier), ``places`` one per distinct
    description of an area (geographic_level, area_code, area_name, la_number, region_code); ``base`` has one
    row per stored row (series and place as positions in those, time_period), sorted by series then period;
    ``cells[measure]`` is (values as float64, notes) for the rows of ``base``. ``frame`` (the file as published,
    every cell as text) is kept only when asked for, as it is the largest part.
    """

    table: CsvTable
    dataset: str
    frame: pd.DataFrame | None
    filters: list[str]
    measures: list[str]
    series: pd.DataFrame
    places: pd.DataFrame
    base: pd.DataFrame
    cells: dict[str, tuple[np.ndarray, pd.Series]]
    areas: dict[str, dict]
    rows: int
    skipped: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    decided_by: dict[str, str] = field(default_factory=dict)  # column: "metadata" or "rule"
    evidence: dict[str, str] = field(default_factory=dict)  # filter column: why it reads as one (its text cells)


def _is_number(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text) or _NUMBER_WITH_COMMAS.fullmatch(text))


STRAY_SHARE = 0.01
"""A column is still a measure when at most this share of its non-blank cells (and at least one) is text."""

MEASURE_SHARE = 0.9
"""... and at least this share of its non-blank cells is numbers or GSS symbols."""

MAX_WARNINGS = 20
"""At most this many stray text cells are listed per file; the rest are counted."""


def _per_value(values: pd.Series, fn, dtype=object) -> np.ndarray:
    """``fn`` applied to each distinct value of a text column, spread back over the rows (columns of published
    files repeat their values: far fewer distinct values than rows)."""
    codes, uniques = _distinct(values)
    results = np.array([fn(u) for u in uniques], dtype=dtype)
    return results[codes] if len(results) else np.empty(0, dtype=dtype)


def _each(values: pd.Series, test) -> np.ndarray:
    """``test`` of each cell's text as a boolean array, evaluated once per distinct value; False where missing."""
    return _per_value(values, lambda t: t is not None and t == t and bool(test(t)), dtype=bool)


def _distinct(values: pd.Series) -> tuple[np.ndarray, list]:
    """(each row's position in the distinct values, the distinct values): a categorical's own codes and
    categories (with None last for a missing cell), else by factorizing."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        uniques = list(values.cat.categories)
        if (codes < 0).any():
            codes = np.where(codes < 0, len(uniques), codes)
            uniques.append(None)
        return codes, uniques
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return codes, list(uniques)


def _is_number_or_symbol(text) -> bool:
    return text is None or text == "" or _is_number(text) or text.lower() in GSS_SYMBOLS


def _text_cells(values: pd.Series) -> tuple[pd.Series, int]:
    """The non-blank cells of a column that are neither numbers nor GSS symbols, and how many are non-blank."""
    ok = _per_value(values, _is_number_or_symbol, dtype=bool)  # a missing cell is blank: fine in a measure
    nonblank = int(_each(values, lambda t: bool(t)).sum())
    return values[~ok], nonblank


def column_kind(values: pd.Series) -> str:
    """"measure" or "filter" for a column with no metadata, by a rule a stray text cell cannot flip.

    A measure: at least 90% of its non-blank cells are numbers or GSS symbols and at most 1% of them (at least
    one cell allowed) are other text, none of which is "Total" (EES filters always have a Total). Anything else
    is a filter. A column with no non-blank cell is a measure (every figure blank).
    """
    text, nonblank = _text_cells(values)
    if not len(text):
        return "measure"
    if _each(text, lambda t: t.strip().lower() == "total").any():
        return "filter"
    allowed = max(1, math.floor(nonblank * STRAY_SHARE))
    if len(text) <= allowed and nonblank - len(text) >= MEASURE_SHARE * nonblank:
        return "measure"
    return "filter"


def _parse_cell(text: str) -> tuple[float | None, str | None]:
    """A published cell as (value, note): a number, a symbol kept verbatim, or blank (None, None)."""
    if not text:
        return None, None
    if _NUMBER.fullmatch(text):
        return float(text), None
    if _NUMBER_WITH_COMMAS.fullmatch(text):
        return float(text.replace(",", "")), None
    return None, text


# EES time identifiers (EES data standards) by the form their time_period takes: six digits (202425) for
# academic, financial and tax years and their parts, four (2025) for calendar and reporting years, months and
# weeks. Quarters and ranges of quarters ("Financial year Q1-Q2") follow their year. Identifiers not listed
# here are accepted with either form, as published.
_SIX_DIGIT_TIME = re.compile(r"(academic|financial|tax) year\b.*|(autumn|spring|summer)( and (spring|summer))? term"
                             r"|(five|six) half terms|part [12] \(.*\)", re.IGNORECASE)
_FOUR_DIGIT_TIME = re.compile(r"(calendar|reporting) year\b.*|(january|february|march|april|may|june|july|august"
                              r"|september|october|november|december)|week \d{1,2}", re.IGNORECASE)


def _valid_time_period(text: str) -> bool:
    if not _TIME_PERIOD.fullmatch(text):
        return False
    if len(text) == 6:  # 202425: an academic or financial year, the second year following the first
        return (int(text[:4]) + 1) % 100 == int(text[4:])
    return True


def _time_form_problem(period: str, identifier: str) -> str | None:
    """Why a well-formed time_period does not fit its time_identifier, or None."""
    if len(period) == 4 and _SIX_DIGIT_TIME.fullmatch(identifier.strip()):
        return (f"found {quote(period)} with time_identifier {quote(identifier)}; expected a six-digit year such "
                f"as {period}{(int(period) + 1) % 100:02d} ({period}/{(int(period) + 1) % 100:02d})")
    if len(period) == 6 and _FOUR_DIGIT_TIME.fullmatch(identifier.strip()):
        return (f"found {quote(period)} with time_identifier {quote(identifier)}; expected a four-digit year such "
                f"as {period[:4]}")
    return None


def levels_of(frame: pd.DataFrame) -> pd.Series:
    """Each row's stored level (National, Regional, Local authority), NaN for rows at other levels."""
    return pd.Series(_per_value(frame["geographic_level"], lambda t: LEVELS.get((t or "").lower(), np.nan)),
                     index=frame.index, dtype=object)


def _stray_text_warnings(frame: pd.DataFrame, measures: list[str], levels: pd.Series) -> list[str]:
    """A warning for each text cell (neither a number nor a GSS symbol) in a measure column of a stored row."""
    out: list[str] = []
    total = 0
    stored = levels.notna()
    for m in measures:
        text, _ = _text_cells(frame.loc[stored, m])
        total += len(text)
        for line, value in zip(text.index[:MAX_WARNINGS], text.iloc[:MAX_WARNINGS], strict=True):
            if len(out) < MAX_WARNINGS:
                out.append(f"line {line}, column {m}: found {quote(value)}, which is neither a number nor a GSS "
                           "symbol; stored as a note with no value (check the figure with the publisher)")
    if total > MAX_WARNINGS:
        out.append(f"... and {total - MAX_WARNINGS} more text cells in measure columns, stored as notes")
    return out


def _read_meta(path: Path, data_columns: set[str]) -> dict[str, str]:
    """Column roles from an EES ``.meta.csv``: {column: "filter" | "measure"}."""
    table = read_csv_table(path, "an EES metadata file with columns col_name and col_type")
    problems = ProblemList(table.name)
    cols = {name.lower(): i for name, i in table.columns.items()}
    missing = [c for c in ("col_name", "col_type") if c not in cols]
    if missing:
        problems.fail(f"missing column(s) {', '.join(missing)}; expected an EES metadata file with columns "
                      "col_name and col_type (Filter or Indicator)", 1)
    grouping = cols.get("filter_grouping_column")
    roles: dict[str, str] = {}
    for row, line in zip(table.rows, table.lines, strict=True):
        name, kind = row[cols["col_name"]].strip(), row[cols["col_type"]].strip().lower()
        if not name:
            problems.add("col_name is blank; expected the name of a column of the data file", line, "col_name")
            continue
        if kind not in ("filter", "indicator"):
            problems.add(f"found {quote(row[cols['col_type']])}; expected Filter or Indicator", line, "col_type")
            continue
        if name not in data_columns:
            problems.add(f"names column {quote(name)}, which the data file does not have; expected a column "
                         "of the data file", line, "col_name")
            continue
        roles[name] = "filter" if kind == "filter" else "measure"
        if grouping is not None and kind == "filter":
            group = row[grouping].strip()
            if group and group in data_columns:
                roles.setdefault(group, "filter")
    problems.raise_if_any()
    return roles


def _header_problems(table: CsvTable, problems: ProblemList) -> None:
    """Normalise standard column names (case, spacing) and check the ones every EES file has."""
    renamed = []
    for name in table.header:
        low = name.strip().lower()
        renamed.append(low if low in GEOGRAPHY_COLUMNS else name)
    table.header = renamed
    table.columns = {name: i for i, name in enumerate(renamed)}
    missing = [c for c in ALWAYS_REQUIRED if c not in table.columns]
    if missing:
        hint = ""
        if {"la_number", "neighbour_la_number"} <= set(table.columns) or "sn1_la_number" in table.columns:
            hint = " (this looks like a statistical neighbours file: use `oba neighbours import`)"
        problems.fail(f"missing the EES column(s) {', '.join(missing)}; expected an Explore Education Statistics "
                      f"CSV whose header starts {','.join(STANDARD_COLUMNS)}{hint}", 1)


def _first_problems(checks: list[tuple[np.ndarray, str | None, object]], lines: np.ndarray,
                    problems: ProblemList) -> None:
    """Add the problems of vectorised checks in file order (line, then check order), at most MAX_PROBLEMS.

    Each check is (mask over the rows, column, message or a function of the row position giving it).
    """
    found: list[tuple[int, int, int, str | None, object]] = []
    total = 0
    for order, (mask, column, message) in enumerate(checks):
        where = np.flatnonzero(mask)
        total += len(where)
        for pos in where[:MAX_PROBLEMS]:
            found.append((int(lines[pos]), order, int(pos), column, message))
    found.sort()
    room = MAX_PROBLEMS - len(problems.items)
    for line, _, pos, column, message in found[:max(room, 0)]:
        problems.add(message(pos) if callable(message) else message, line, column)
    problems.more += max(0, total - max(room, 0))


def _numbers_and_notes(cells: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """A measure column as (values, notes): numbers (with or without thousands commas) as float64, correctly
    rounded; any other non-blank text kept verbatim as the note; blank is neither."""
    def parse(text):
        value, note = _parse_cell(text or "")
        return (np.nan if value is None else value), note is not None

    codes, uniques = _distinct(cells)
    parsed = [parse(u) for u in uniques]
    values = np.array([p[0] for p in parsed], dtype=float)[codes] if parsed else np.empty(0)
    # Notes as a categorical of the distinct notes (a few symbols), missing where the cell is a number or blank.
    note_text = [u for u, p in zip(uniques, parsed, strict=True) if p[1]]
    note_index = np.full(len(parsed), -1, dtype=np.int32)
    note_index[[i for i, p in enumerate(parsed) if p[1]]] = np.arange(len(note_text), dtype=np.int32)
    notes = pd.Series(pd.Categorical.from_codes(note_index[codes] if len(parsed) else np.empty(0, dtype=np.int32),
                                                categories=pd.Index(note_text, dtype=object)), index=cells.index)
    return values, notes


def parse_ees(path: Path | str, keep_frame: bool = False) -> ParsedFile:
    """Read and validate one EES file without storing it; raises ``BenchmarkFileError`` listing every problem.

    Columnar throughout: every column is a categorical (codes into its distinct values), each check runs once
    per distinct value, and rows become integers (series, period, place), so a file near the size cap is read
    in bounded memory and time. ``keep_frame`` keeps the file's cells as text in ``ParsedFile.frame``.
    """
    path = Path(path)
    what = "an Explore Education Statistics (EES) CSV file"
    if is_meta_file(path):
        ProblemList(path.name).fail(f"is EES metadata, not data; import the data file "
                                    f"{path.name[: -len('.meta.csv')]}.csv (its metadata is read from beside it)")
    table = read_csv_frame(path, what)
    problems = ProblemList(table.name)
    dataset = dataset_key(path)
    if len(dataset) > _STRING_LIMITS["dataset"]:
        problems.fail(f"the dataset name {quote(dataset)} is longer than 120 characters; rename the file")
    _header_problems(table, problems)
    col = table.columns
    if table.frame is not None:
        frame = table.frame
        frame.columns = table.header
        table.frame = None  # this function holds it now, and lets go of it as it goes
    else:  # read as text (an unusual file): made categorical like the columnar reader's
        frame = pd.DataFrame([[cell.strip() for cell in row] for row in table.rows], columns=table.header,
                             index=pd.Index(table.lines, name="line"), dtype="category")
        table.rows = []  # the frame holds them now

    # Which columns are filters and which are measures.
    others = [c for c in table.header if c not in GEOGRAPHY_COLUMNS]
    roles: dict[str, str] = {}
    meta = meta_path(path)
    if meta.exists():
        roles = _read_meta(meta, set(table.header))
    decided_by = {c: "metadata" for c in roles}
    for c in others:
        if c not in roles:
            roles[c] = column_kind(frame[c])
            decided_by[c] = "rule"
    filters = [c for c in others if roles[c] == "filter"]
    measures = [c for c in others if roles[c] == "measure"]
    levels = levels_of(frame)  # each row's stored level, NaN for rows at levels not stored
    warnings = _stray_text_warnings(frame, measures, levels)
    if not measures:
        problems.fail("has no measure columns: every column after the EES time and geography columns holds "
                      "text; expected at least one column of numbers (or GSS symbols such as c, x, z)", 1)
    for m in measures:
        if len(m) > _STRING_LIMITS["measure"]:
            problems.add(f"the column name is longer than {_STRING_LIMITS['measure']} characters", 1, quote(m))

    # Which rows are stored, and where each belongs.
    level_text = frame["geographic_level"]
    present = set(levels.dropna())
    needed = (REGION_COLUMNS if REGIONAL in present or LOCAL_AUTHORITY in present else []) + (
        LA_COLUMNS if LOCAL_AUTHORITY in present else [])
    missing = [c for c in needed if c not in col]
    if missing:
        problems.fail(f"missing the EES column(s) {', '.join(missing)}, needed for its "
                      f"{'Local authority' if LOCAL_AUTHORITY in present else 'Regional'} rows; expected an "
                      f"Explore Education Statistics CSV whose header starts {','.join(STANDARD_COLUMNS)}", 1)
    other_level = levels.isna() & (level_text != "")
    skipped = Counter(level_text[other_level].value_counts().to_dict()) if other_level.any() else Counter()
    skipped = Counter({str(k): int(v) for k, v in skipped.items() if v})  # categoricals count every category
    _first_problems([((level_text == "").fillna(True).to_numpy(bool), "geographic_level",
                      "is blank; expected National, Regional or Local authority")], frame.index.to_numpy(), problems)
    stored_mask = levels.notna().to_numpy(bool)
    stored = frame if stored_mask.all() else frame[stored_mask]
    if stored.empty and not problems:
        found = ", ".join(sorted(skipped)) or "none"
        problems.fail(f"has no National, Regional or Local authority rows (found {found}); expected an EES file "
                      "with data for England, regions or local authorities", None, "geographic_level")

    def get(name: str) -> pd.Series:
        if name in stored.columns:
            return stored[name]
        return pd.Series("", index=stored.index, dtype="category")

    lines = stored.index.to_numpy()
    stored_levels = levels[stored_mask].astype(object)
    lv = stored_levels.to_numpy(dtype=object)
    is_nat, is_reg, is_la = lv == NATIONAL, lv == REGIONAL, lv == LOCAL_AUTHORITY

    # Time: a year or an academic/financial year whose form fits its identifier.
    tp, ti = get("time_period"), get("time_identifier")
    tp_ok = _each(tp, _valid_time_period)
    six = tp_ok & _each(tp, lambda t: len(t) == 6)
    ti_blank = (ti == "").fillna(True).to_numpy(bool)
    ti_long = _each(ti, lambda t: len(t) > _STRING_LIMITS["time_identifier"])
    ti_codes, ti_uniques = pd.factorize(ti, use_na_sentinel=False)  # a handful of distinct identifiers
    bad_form = np.array([[_time_form_problem("2024", u or "") is not None,
                          _time_form_problem("202425", u or "") is not None] for u in list(ti_uniques)],
                        dtype=bool).reshape(-1, 2)
    form_bad = tp_ok & ~ti_blank & (bad_form[ti_codes, six.astype(int)] if len(ti_codes) else six)

    # Areas: England by country_code, regions by region_code, LAs by new_la_code with their DfE number.
    level_index = np.where(is_nat, 0, np.where(is_reg, 1, 2)).astype(np.int8)
    code = _choose([get("country_code"), get("region_code"), get("new_la_code")], level_index)
    name = _choose([get("country_name"), get("region_name"), get("la_name")], level_index)
    old = get("old_la_code")
    old_digits = _each(old, lambda t: bool(re.fullmatch(r"[0-9]+", t)))
    bad_old = is_la & ~old_digits & (old != "").fillna(False).to_numpy(bool)
    la_number = pd.Series(pd.to_numeric(old.astype(object).where(is_la & old_digits, None), errors="coerce"),
                          index=stored.index).astype("Int64")
    symbol_code = is_la & _each(code, lambda t: t.lower() in GSS_SYMBOLS) & la_number.notna().to_numpy(bool)
    if symbol_code.any():  # a former LA published with 'x' for its ONS code: keyed by its number
        code = code.astype(object).where(~symbol_code, "LA" + la_number.astype("string[pyarrow]").fillna("")) \
            .astype("category")
    code_blank = (code == "").fillna(True).to_numpy(bool)
    code_long = _each(code, lambda t: len(t) > _STRING_LIMITS["area_code"])
    name_blank = (name == "").fillna(True).to_numpy(bool)
    name_long = _each(name, lambda t: len(t) > _STRING_LIMITS["area_name"])
    code_col = np.array(["country_code", "region_code", "new_la_code"], dtype=object)[level_index]
    name_col = np.array(["country_name", "region_name", "la_name"], dtype=object)[level_index]
    examples = {NATIONAL: "E92000001", REGIONAL: "E12000008", LOCAL_AUTHORITY: "E06000042"}

    def by_column(mask, columns, message):
        return [(mask & (columns == c), c, message) for c in np.unique(columns[mask])] if mask.any() else []

    checks: list = [
        (~tp_ok, "time_period", lambda i: f"found {quote(tp.iloc[i])}; expected a year such as 2025, or 202425 "
                                          "for an academic or financial year"),
        (form_bad, "time_period", lambda i: _time_form_problem(tp.iloc[i], ti.iloc[i])),
        (ti_blank, "time_identifier", "is blank; expected a time identifier such as 'Reporting year' or "
                                      "'Academic year'"),
        (ti_long & ~ti_blank, "time_identifier", lambda i: f"found {quote(ti.iloc[i])}, longer than "
                                                           f"{_STRING_LIMITS['time_identifier']} characters"),
        (bad_old, "old_la_code", lambda i: f"found {quote(old.iloc[i])}; expected DfE's 3-digit local authority "
                                           "number such as 826"),
    ]
    checks += by_column(code_blank, code_col, lambda i: f"is blank on a {lv[i]} row; expected the area's ONS "
                                                        f"code, such as {examples[lv[i]]}")
    checks += by_column(code_long & ~code_blank, code_col, lambda i: f"found {quote(code.iloc[i])}; expected an "
                                                                     "ONS code of at most 12 characters")
    checks += by_column(name_blank, name_col, lambda i: f"is blank on a {lv[i]} row; expected the area's name")
    checks += by_column(name_long & ~name_blank, name_col, lambda i: "found a name longer than "
                                                                     f"{_STRING_LIMITS['area_name']} characters")
    # Within a row, the problems read in the order of the checks: time, identifier, LA number, code, name.
    _first_problems(checks, lines, problems)

    # Filters in canonical form, "col=value; col=value" sorted by column: made once per distinct combination
    # of filter values (a few hundred), each row holding the number of its combination.
    if filters:
        by_name = sorted(filters)
        distinct = {c: _distinct(stored[c]) for c in by_name}
        filter_codes, combos = _groups({c: codes for c, (codes, _) in distinct.items()},
                                       {c: np.asarray(values, dtype=object) for c, (_, values) in distinct.items()})
        filter_text = np.array(["; ".join(f"{c}={distinct[c][1][k]}" for c, k in zip(by_name, combo, strict=True))
                                for combo in combos[by_name].itertuples(index=False, name=None)], dtype=object)
    else:
        filter_codes, filter_text = np.zeros(len(stored), dtype=np.int64), np.array([""], dtype=object)
    too_long = np.array([len(t) > _STRING_LIMITS["filters"] for t in filter_text], dtype=bool)[filter_codes]
    _first_problems([(too_long, ", ".join(filters), f"the filter values together are longer than "
                                                    f"{_STRING_LIMITS['filters']} characters")], lines, problems)

    problems.raise_if_any()

    # Every stored row as small integers: its area code, time identifier and filters (numbers into the
    # distinct values), so checking for repeats, grouping into series and sorting never touch a string per row.
    tp_int = tp.astype("int64").to_numpy()
    area_codes, area_uniques = pd.factorize(code)
    area_uniques = np.asarray(area_uniques, dtype=object)
    ti_uniques = np.asarray(ti_uniques, dtype=object)
    keys = pd.DataFrame({"area": area_codes, "tp": tp_int, "ti": ti_codes, "filters": filter_codes})
    repeated = keys.duplicated(keep=False).to_numpy(bool)
    if repeated.any():
        first_line: dict[tuple, int] = {}
        by_rule = [m for m in measures if decided_by.get(m) == "rule"]
        for pos in np.flatnonzero(repeated):
            key = (area_codes[pos], tp_int[pos], ti_codes[pos], filter_codes[pos])
            line = int(lines[pos])
            if key in first_line:
                hint = ""
                if problems.more == 0 and not problems.items:  # the first repeat: say why rows may repeat
                    differ = [m for m in by_rule if stored.at[line, m] != stored.at[first_line[key], m]]
                    if differ:
                        hint = (f" (if one of the columns {', '.join(differ)} is a filter, such as an age of 5, 6, "
                                "7, put the file's EES .meta.csv beside it: without one, a column of numbers is "
                                "read as a measure)")
                flt = f" and filters {filter_text[key[3]]}" if filter_text[key[3]] else ""
                problems.add(f"repeats line {first_line[key]}: the same area {area_uniques[key[0]]}, time period "
                             f"{tp.iloc[pos]} ({ti_uniques[key[2]]}){flt}; expected one row for each{hint}", line)
            else:
                first_line[key] = line
        problems.raise_if_any()

    # Each measure's figures: numbers as values, anything else verbatim as the note.
    cells: dict[str, tuple[np.ndarray, pd.Series]] = {}
    note_checks = []
    for m in measures:
        values, notes = _numbers_and_notes(stored[m])
        cells[m] = (values, notes)
        long_note = _each(notes, lambda t: len(t) > _STRING_LIMITS["note"])
        if long_note.any():
            note_values = notes.to_numpy(dtype=object)
            note_checks.append((long_note, m, lambda i, nv=note_values: (
                f"found {quote(nv[i])}, which is neither a number nor a symbol of at most "
                f"{_STRING_LIMITS['note']} characters")))
    _first_problems(note_checks, lines, problems)
    problems.raise_if_any()

    # Series (filters x area x time identifier: what every measure and year of one line of figures shares)
    # and places (how a row describes its area), numbered in sorted order.
    series_of, series_keys = _groups({"filters": filter_codes, "area": area_codes, "ti": ti_codes},
                                     {"filters": filter_text, "area": area_uniques, "ti": ti_uniques})
    series = pd.DataFrame({"filters": filter_text[series_keys["filters"]],
                           "area_code": area_uniques[series_keys["area"]],
                           "time_identifier": ti_uniques[series_keys["ti"]]})
    name_codes, name_uniques = pd.factorize(name)
    region = get("region_code")
    region_codes, region_uniques = pd.factorize(region)
    number = la_number.fillna(-1).to_numpy(dtype=np.int64)
    place_of, place_keys = _groups({"area": area_codes, "name": name_codes, "level": level_index,
                                    "la_number": number, "region": region_codes},
                                   {"area": area_uniques, "name": np.asarray(name_uniques, dtype=object)})
    levels_text = np.array([NATIONAL, REGIONAL, LOCAL_AUTHORITY], dtype=object)
    region_text = np.asarray(region_uniques, dtype=object)
    places = pd.DataFrame({
        "geographic_level": levels_text[place_keys["level"]],
        "area_code": area_uniques[place_keys["area"]],
        "area_name": np.asarray(name_uniques, dtype=object)[place_keys["name"]],
        "la_number": pd.Series([None if n < 0 else int(n) for n in place_keys["la_number"]], dtype=object),
        "region_code": pd.Series([(r or None) for r in region_text[place_keys["region"]]], dtype=object),
    })

    # One Area per code, described by its latest row in the file (the last of the rows of its latest year).
    latest_row = pd.DataFrame({"area": area_codes, "tp": tp_int, "row": np.arange(len(tp_int))}) \
        .sort_values(["area", "tp", "row"]).drop_duplicates("area", keep="last")["row"].to_numpy()
    region_name = get("region_name")
    areas: dict[str, dict] = {}
    described = places.to_dict("records")
    for pos in np.sort(latest_row):
        place = described[place_of[pos]]
        level = place["geographic_level"]
        areas[place["area_code"]] = {
            "code": place["area_code"], "name": place["area_name"], "geographic_level": level,
            "la_number": place["la_number"],
            "region_code": place["region_code"] if level != NATIONAL else None,
            "region_name": (region_name.iloc[pos] or None) if level != NATIONAL else None,
        }

    # In the store's unique-index order (series, then time period), so every measure is written in that order.
    order = np.lexsort((tp_int, series_of))
    base = pd.DataFrame({"series": series_of[order], "time_period": tp_int[order], "place": place_of[order]})
    for m, (v, n) in cells.items():  # one measure at a time, so only one extra copy exists at once
        cells[m] = (v[order], n.iloc[order].reset_index(drop=True))
    evidence = {c: _text_evidence(stored, c, decided_by) for c in filters}
    text = frame.astype("string[pyarrow]") if keep_frame else None
    return ParsedFile(table, dataset, text, filters, measures, series, places, base, cells, areas, len(stored),
                      dict(skipped), warnings, decided_by, evidence)


def _choose(columns: list[pd.Series], which: np.ndarray) -> pd.Series:
    """Row by row, the cell of ``columns[which[row]]``: a categorical over the columns' values together (the
    area's code is the country's, the region's or the LA's by the row's level)."""
    columns = [c.astype("category") for c in columns]
    categories = pd.Index(pd.unique(np.concatenate([np.asarray(c.cat.categories, dtype=object) for c in columns])))
    codes = np.full(len(which), -1, dtype=np.int64)
    for k, column in enumerate(columns):
        mine = which == k
        own = column.cat.codes.to_numpy()[mine]
        codes[mine] = np.where(own < 0, -1, categories.get_indexer(column.cat.categories)[own])
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories), index=columns[0].index)


def _groups(codes: dict[str, np.ndarray], labels: dict[str, np.ndarray]) -> tuple[np.ndarray, pd.DataFrame]:
    """Number each distinct combination of the integer ``codes`` (one array per key, one entry per row).

    Combinations are numbered in the sorted order of their ``labels`` (the text each code stands for, where
    given), so the numbering is the same whatever order the file's rows are in. Returns (the combination of
    each row, one row per combination with its codes).
    """
    frame = pd.DataFrame(codes)
    ranked = frame.copy()
    for key, text in labels.items():  # code -> rank of its text, so sorting codes sorts the text
        rank = np.empty(len(text), dtype=np.int64)
        rank[np.argsort(np.asarray([str(t) for t in text], dtype=object), kind="stable")] = np.arange(len(text))
        ranked[key] = rank[frame[key].to_numpy()]
    group = ranked.groupby(list(codes), sort=True).ngroup().to_numpy()
    _, first = np.unique(group, return_index=True)  # the first row of each combination, by number
    return group, frame.iloc[first].reset_index(drop=True)


def read_ees(path: Path | str) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Read and validate an EES file without storing it: (frame as published, filter columns, measure columns).

    The frame holds every row as text (stripped), indexed by its line in the file; standard column names are
    in their canonical lower-case form. Raises ``BenchmarkFileError`` (an ``InputFileError``) listing every
    problem, each with its line and column.
    """
    parsed = parse_ees(path, keep_frame=True)
    return parsed.frame, parsed.filters, parsed.measures


# --- storing ----------------------------------------------------------------------------------------

def _same_value(new: pd.Series, old: pd.Series) -> pd.Series:
    a, b = new.to_numpy(dtype=float), old.to_numpy(dtype=float)
    same = (np.isnan(a) & np.isnan(b)) | np.isclose(a, b, rtol=1e-12, atol=0.0)
    return pd.Series(same, index=new.index)


def _none(value):
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _upsert_areas(conn: Connection, areas: dict[str, dict]) -> int:
    """Add new areas and update those whose name, level, number or region changed; returns how many."""
    if not areas:
        return 0
    table = Area.__table__
    existing = {}
    codes = list(areas)
    for i in range(0, len(codes), 500):
        for row in conn.execute(select(table).where(table.c.code.in_(codes[i:i + 500]))).mappings():
            existing[row["code"]] = dict(row)
    todo = [a for code, a in areas.items() if existing.get(code) != a]
    if not todo:
        return 0
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.code],
                                      set_={c: stmt.excluded[c] for c in ("name", "geographic_level", "la_number",
                                                                         "region_code", "region_name")})
    conn.execute(stmt, todo)
    return len(todo)


_BATCH = 200_000
_SERIES_KEY = ["filters", "area_code", "time_identifier"]
_PLACE_KEY = ["geographic_level", "area_code", "area_name", "la_number", "region_code"]


def _write_rows(conn: Connection, table, columns: dict[str, list | np.ndarray]) -> None:
    """Insert rows given as columns (lists of plain values, None for NULL) in batches: COPY in CSV form made by
    pyarrow on PostgreSQL (psycopg), executemany of plain tuples on SQLite, never one dict per row."""
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    postgres = conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"
    for start in range(0, n, _BATCH):
        part = {k: v[start:start + _BATCH] for k, v in columns.items()}
        if postgres:
            import io

            import pyarrow as pa
            import pyarrow.csv as pacsv

            buffer = io.BytesIO()
            pacsv.write_csv(pa.table({k: (v if isinstance(v, pa.Array) else pa.array(v)) for k, v in part.items()}),
                            buffer, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            cursor = conn.connection.driver_connection.cursor()
            try:  # CSV form: an unquoted empty field is NULL, a quoted one ("") an empty string
                with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(buffer.getbuffer())
            finally:
                cursor.close()
        elif conn.dialect.name == "sqlite":
            cursor = conn.connection.driver_connection.cursor()
            try:
                cursor.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
                                   f"({', '.join('?' * len(names))})",
                                   zip(*(_plain(v) for v in part.values()), strict=True))
            finally:
                cursor.close()
        else:
            rows = zip(*(_plain(v) for v in part.values()), strict=True)
            conn.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])


def _plain(column) -> list:
    """A column as a list of Python values (pyarrow arrays and numpy arrays included), None for NULL."""
    if hasattr(column, "to_pylist"):
        return column.to_pylist()
    if isinstance(column, np.ndarray):
        return column.tolist()
    return list(column)


def _figures(measure_id: int, release_id: int, series_ids: np.ndarray, periods: np.ndarray, place_ids: np.ndarray,
             values: np.ndarray, notes: pd.Series) -> dict:
    """The columns of benchmark_value rows for one measure: ids and periods as numbers, NaN and NA as NULL."""
    import pyarrow as pa

    n = len(series_ids)
    return {"measure_id": pa.array(np.full(n, measure_id, dtype=np.int64)),
            "series_id": pa.array(np.asarray(series_ids, dtype=np.int64)),
            "time_period": pa.array(np.asarray(periods, dtype=np.int64)),
            "place_id": pa.array(np.asarray(place_ids, dtype=np.int64)),
            "value": pa.array(values, mask=np.isnan(values), type=pa.float64()),
            "note": pa.array(notes.to_numpy(dtype=object, na_value=None), type=pa.string()),
            "release_id": pa.array(np.full(n, release_id, dtype=np.int64))}


def _lookup(conn: Connection, table, where, key: list[str]) -> pd.DataFrame:
    """Rows of a lookup table (id and ``key`` columns) matching ``where``, as a frame."""
    rows = conn.execute(select(table.c.id, *(table.c[k] for k in key)).where(where)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["id", *key], dtype=object)  # 805 stays 805, not 805.0


def _ids_for(wanted: pd.DataFrame, known: pd.DataFrame, key: list[str]) -> np.ndarray:
    """The id of each row of ``wanted`` in ``known`` (matched on ``key``, None equal to None), -1 if absent."""
    if known.empty or wanted.empty:
        return np.full(len(wanted), -1, dtype=np.int64)
    def keyed(frame):
        return frame[key].astype(object).where(frame[key].notna(), "\x00none").astype(str)
    merged = keyed(wanted).reset_index().merge(keyed(known).assign(id=known["id"].to_numpy()), on=key, how="left")
    ids = merged.sort_values("index")["id"]
    return ids.fillna(-1).to_numpy(dtype=np.int64)


def _series_ids(conn: Connection, parsed: ParsedFile) -> np.ndarray:
    s = BenchmarkSeries.__table__
    return _ids_for(parsed.series, _lookup(conn, s, s.c.dataset == parsed.dataset, _SERIES_KEY), _SERIES_KEY)


def _place_ids(conn: Connection, places: pd.DataFrame) -> np.ndarray:
    p = BenchmarkPlace.__table__
    codes = sorted(set(places["area_code"]))
    known = pd.concat([_lookup(conn, p, p.c.area_code.in_(codes[i:i + 500]), _PLACE_KEY)
                       for i in range(0, len(codes), 500)], ignore_index=True)
    return _ids_for(places, known, _PLACE_KEY)


_EXISTING = [("id", "i8"), ("series_id", "i8"), ("time_period", "i8"), ("value", "f8"), ("blank", "?"), ("note", "O")]


def _existing_values(conn: Connection, measure_id: int) -> pd.DataFrame:
    """One stored measure's figures: id, series_id, time_period, value (NaN when NULL) and note.

    Read through the driver's own cursor into a numpy record array (a million figures in about a second),
    not row objects; a NULL value comes back as 0 with a flag, as SQLite has no NaN."""
    t = BenchmarkValue.__table__
    stmt = select(t.c.id, t.c.series_id, t.c.time_period, func.coalesce(t.c.value, 0.0), t.c.value.is_(None),
                  t.c.note).where(t.c.measure_id == measure_id)
    if conn.dialect.name in ("sqlite", "postgresql"):
        compiled = stmt.compile(dialect=conn.dialect)
        params = compiled.construct_params()
        cursor = conn.connection.driver_connection.cursor()
        try:
            if conn.dialect.name == "sqlite":
                cursor.execute(str(compiled), [params[k] for k in compiled.positiontup])
            else:
                cursor.execute(str(compiled), params)
            rows = cursor.fetchall()
        finally:
            cursor.close()
    else:
        rows = [tuple(r) for r in conn.execute(stmt)]
    records = np.array(rows, dtype=_EXISTING) if rows else np.empty(0, dtype=_EXISTING)
    value = np.where(records["blank"], np.nan, records["value"])
    return pd.DataFrame({"id": records["id"], "series_id": records["series_id"],
                         "time_period": records["time_period"], "value": value, "note": records["note"]})


def _diff(new: pd.DataFrame, old: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """(rows to add, rows changed with id and old value and note, how many unchanged, how many matched).

    ``new`` has series_id (-1 for a series not stored yet), time_period, value and note; ``old`` is
    ``_existing_values``."""
    if old.empty:
        return new, new.iloc[:0], 0, 0
    merged = new.merge(old, on=["series_id", "time_period"], how="left", suffixes=("", "_old"), indicator=True)
    matched = merged[merged["_merge"] == "both"]
    added = merged[merged["_merge"] == "left_only"]
    same = _same_value(matched["value"], matched["value_old"]) & (
        matched["note"].fillna("") == matched["note_old"].fillna(""))
    return added, matched[~same], int(same.sum()), len(matched)


def _new_rows(parsed: ParsedFile, measure: str, series_ids: np.ndarray) -> pd.DataFrame:
    """One measure's rows as numbers: series_id (-1 where not stored yet), time_period, place, value, note."""
    value, note = parsed.cells[measure]
    return pd.DataFrame({"series_id": series_ids[parsed.base["series"].to_numpy()],
                         "time_period": parsed.base["time_period"].to_numpy(),
                         "place": parsed.base["place"].to_numpy(), "value": value,
                         "note": note.to_numpy(dtype=object, na_value=None), "row": np.arange(len(value))})


def _store(conn: Connection, parsed: ParsedFile, user: str, dry_run: bool) -> ImportResult:
    lock_for(conn, "benchmarks")
    t, mt = BenchmarkValue.__table__, BenchmarkMeasure.__table__
    measure_ids = dict(conn.execute(select(mt.c.measure, mt.c.id).where(mt.c.dataset == parsed.dataset)).all())
    stored = {m: n for m, n in conn.execute(
        select(mt.c.measure, func.count()).select_from(t.join(mt, mt.c.id == t.c.measure_id))
        .where(mt.c.dataset == parsed.dataset).group_by(mt.c.measure)).all() if n}
    had_dataset = bool(stored)
    # The very file of the dataset's latest release: every figure in it is stored as it says (that release set
    # them, and no release came after), so nothing can differ and the comparison is skipped.
    r = BenchmarkRelease.__table__
    latest_sha = conn.execute(select(r.c.sha256).where(r.c.dataset == parsed.dataset)
                              .order_by(r.c.id.desc()).limit(1)).scalar()
    same_file = had_dataset and latest_sha == parsed.table.sha256
    series_ids = _series_ids(conn, parsed) if had_dataset and not same_file else \
        np.full(len(parsed.series), -1, dtype=np.int64)
    # First pass: what would change, measure by measure, writing nothing. The plan keeps, per measure, the
    # positions of the rows to add and the figures that changed (few, in a revision), for the second pass.
    added_n = changed_n = unchanged_n = matched_n = 0
    plans: dict[str, tuple[np.ndarray, pd.DataFrame]] = {}
    if same_file:
        unchanged_n = matched_n = parsed.rows * len(parsed.measures)
    for m in ([] if same_file else parsed.measures):
        if not stored.get(m):
            added_n += parsed.rows
            plans[m] = (np.arange(parsed.rows), pd.DataFrame())
            continue
        added, changed, same, matched = _diff(_new_rows(parsed, m, series_ids),
                                              _existing_values(conn, measure_ids[m]))
        plans[m] = (added["row"].to_numpy(), changed)
        added_n, changed_n, unchanged_n, matched_n = (added_n + len(added), changed_n + len(changed),
                                                      unchanged_n + same, matched_n + matched)
    kept = sum(stored.values()) - matched_n
    periods = parsed.base["time_period"]
    result = dict(file=parsed.table.name, dataset=parsed.dataset, rows=parsed.rows, measures=tuple(parsed.measures),
                  added=added_n, changed=changed_n, unchanged=unchanged_n,
                  filters=tuple(parsed.filters), first_period=int(periods.min()), last_period=int(periods.max()),
                  kept=kept, skipped=parsed.skipped, sha256=parsed.table.sha256, dry_run=dry_run,
                  warnings=tuple(parsed.warnings))
    if not added_n and not changed_n:
        # Nothing at all is written, not even the areas' names: another dataset may name an area differently
        # ("Bristol, City of" / "Bristol"), and re-importing must not flip it back.
        return ImportResult(outcome="unchanged", **result)
    outcome = "updated" if had_dataset else "imported"
    if dry_run:
        return ImportResult(outcome=outcome, **result)

    now = utcnow()
    release_id = conn.execute(insert(BenchmarkRelease.__table__).values(
        dataset=parsed.dataset, file_name=parsed.table.name, sha256=parsed.table.sha256, imported_at=now,
        imported_by=user, rows=parsed.rows, values_added=added_n, values_changed=changed_n,
    )).inserted_primary_key[0]
    _upsert_areas(conn, parsed.areas)

    # The names first: measures, series and places not stored yet, then their ids.
    for m in parsed.measures:
        if m not in measure_ids:
            measure_ids[m] = conn.execute(insert(mt).values(dataset=parsed.dataset, measure=m)) \
                .inserted_primary_key[0]
    missing = series_ids < 0
    if missing.any():
        todo = parsed.series[missing]
        _write_rows(conn, BenchmarkSeries.__table__, {"dataset": [parsed.dataset] * len(todo),
                                                      **{k: todo[k].tolist() for k in _SERIES_KEY}})
        series_ids = _series_ids(conn, parsed)
    place_ids = _place_ids(conn, parsed.places)
    if (place_ids < 0).any():
        todo = parsed.places[place_ids < 0]
        _write_rows(conn, BenchmarkPlace.__table__, {k: todo[k].tolist() for k in _PLACE_KEY})
        place_ids = _place_ids(conn, parsed.places)

    # Then the figures, measure by measure, as planned (series stored just now have their ids by now).
    series_of, periods, place_of = (parsed.base[c].to_numpy() for c in ("series", "time_period", "place"))
    for m in parsed.measures:
        rows, changed = plans[m]
        if len(rows):
            value, note = parsed.cells[m]
            _write_rows(conn, t, _figures(measure_ids[m], release_id, series_ids[series_of[rows]], periods[rows],
                                          place_ids[place_of[rows]], value[rows], note.iloc[rows]))
        if len(changed):
            updates, changes = [], []
            for vid, value, note, old_value, old_note in changed[["id", "value", "note", "value_old", "note_old"]] \
                    .itertuples(index=False, name=None):
                vid = int(vid)
                value, note, old_value, old_note = _none(value), _none(note), _none(old_value), _none(old_note)
                updates.append({"b_id": vid, "b_value": value, "b_note": note, "b_release": release_id})
                changes.append({"value_id": vid, "release_id": release_id, "old_value": old_value,
                                "old_note": old_note, "new_value": value, "new_note": note, "changed_at": now})
            conn.execute(update(t).where(t.c.id == bindparam("b_id")).values(
                value=bindparam("b_value"), note=bindparam("b_note"), release_id=bindparam("b_release")), updates)
            conn.execute(insert(BenchmarkChange.__table__), changes)
    audit.record(conn, "benchmarks.import", parsed.dataset,
                 after={"file": parsed.table.name, "sha256": parsed.table.sha256, "release": release_id,
                        "added": added_n, "changed": changed_n, "outcome": outcome})
    return ImportResult(outcome=outcome, release_id=release_id, **result)


_FILTER_NAME = re.compile(r"(?:^|; )([^=;]+)=")


def stored_columns(conn: Connection, dataset: str) -> tuple[set[str], set[str]] | None:
    """(measure columns, filter columns) of a stored dataset, or None when it is not stored.

    The measures are every measure stored for the dataset; the filter columns are those of its latest release
    (a release confirmed with new filters replaces the set).
    """
    v, m, s = BenchmarkValue.__table__, BenchmarkMeasure.__table__, BenchmarkSeries.__table__
    of_dataset = v.join(m, m.c.id == v.c.measure_id)
    measures = {row[0] for row in conn.execute(select(m.c.measure).where(m.c.dataset == dataset, m.c.id.in_(
        select(v.c.measure_id).distinct())))}
    if not measures:
        return None
    latest = conn.execute(select(func.max(v.c.release_id)).select_from(of_dataset)
                          .where(m.c.dataset == dataset)).scalar()
    filters: set[str] = set()
    in_latest = select(v.c.series_id).select_from(of_dataset).where(m.c.dataset == dataset, v.c.release_id == latest)
    for (text,) in conn.execute(select(s.c.filters).where(s.c.id.in_(in_latest)).distinct()):
        filters |= {name.strip() for name in _FILTER_NAME.findall(text or "")}
    return measures, filters


def _text_evidence(stored: pd.DataFrame, column: str, decided_by: dict[str, str]) -> str:
    """Why a column was read as a filter: how many of its cells (in stored rows) are text, and the first."""
    text, nonblank = _text_cells(stored[column])
    if not len(text):
        return ""
    first_line, first = text.index[0], text.iloc[0]
    return (f" ({len(text):,} of its {nonblank:,} cells are text, first at line {first_line}: {quote(first)}"
            f"{'; the metadata file says so' if decided_by.get(column) == 'metadata' else ''})")


def shape_change(parsed: ParsedFile, stored: tuple[set[str], set[str]] | None) -> str | None:
    """What would change in the kind of a dataset's columns or its set of filters, or None."""
    if stored is None:
        return None
    old_measures, old_filters = stored
    new_filters = set(parsed.filters)
    parts = []
    for c in parsed.filters:
        if c in old_measures:
            parts.append(f"column {c} was a measure and would now be a filter{parsed.evidence.get(c, '')}")
    for c in parsed.measures:
        if c in old_filters:
            parts.append(f"column {c} was a filter and would now be a measure")
    if new_filters != old_filters and not parts:
        gone, added = sorted(old_filters - new_filters), sorted(new_filters - old_filters)
        what = []
        if added:
            what.append(f"new filter column(s) {', '.join(added)}")
        if gone:
            what.append(f"no longer filter column(s) {', '.join(gone)}")
        parts.append(f"the filters would change: {' and '.join(what)} (stored: {', '.join(sorted(old_filters)) or 'none'})")
    if not parts:
        return None
    return (f"the columns of dataset {parsed.dataset} differ from the release stored: {'; '.join(parts)}. "
            "If the publisher really changed the table, import it again with --accept-column-changes "
            "(figures stored under the old columns are kept); if not, correct the file (a stray text cell in "
            "a column of numbers, or a missing .meta.csv)")


def import_ees(engine: Engine, paths: Sequence[Path | str] | Path | str, user: str,
               dry_run: bool = False, accept_column_changes: bool = False) -> list[ImportResult]:
    """Import EES (or ONS, same layout) CSV files; one transaction per file, results in the order given.

    Every file is read and validated first: if any is bad, nothing is stored and ``InputFileError`` says
    what is wrong with each. A ``.meta.csv`` given alongside its data file is read as that file's metadata,
    not imported on its own. Re-importing a file changes nothing (outcome "unchanged"); a newer release of a
    dataset updates the values that differ and records each change. ``dry_run`` reports what would happen.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    paths = [Path(p) for p in paths]
    data_names = {p.resolve() for p in paths if not is_meta_file(p)}
    paths = [p for p in paths if not (is_meta_file(p) and meta_data_path(p).resolve() in data_names)]
    parsed: list[ParsedFile] = []
    errors: list[BenchmarkFileError] = []
    for path in paths:
        try:
            parsed.append(parse_ees(path))
        except BenchmarkFileError as exc:
            errors.append(exc)
    if not accept_column_changes and parsed:
        with engine.connect() as conn:
            for p in parsed:
                why = shape_change(p, stored_columns(conn, p.dataset))
                if why:
                    errors.append(BenchmarkFileError(p.table.name, [Problem(why)]))
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise FilesError(errors)
    results: list[ImportResult] = []
    eng = writer(engine)
    for i, p in enumerate(parsed):
        try:
            with eng.connect() as conn:
                trans = conn.begin()
                try:
                    result = _store(conn, p, user, dry_run)
                    if dry_run:
                        trans.rollback()
                    else:
                        trans.commit()  # a full disk can fail here too: the file is then not committed
                except BaseException:
                    if trans.is_active:
                        trans.rollback()
                    raise
            results.append(result)
        except Exception as exc:
            if len(parsed) == 1:
                raise
            raise PartialImport(results, p.table.name, [q.table.name for q in parsed[i + 1:]], exc) from exc
    return results


class PartialImport(Exception):
    """Storing one of several files failed (a fault of the store or the disk): which were committed, which not.

    Each file is its own transaction: ``results`` are committed and stay; ``failed`` was rolled back whole and
    ``not_attempted`` were not started. ``cause`` is the fault.
    """

    def __init__(self, results: list[ImportResult], failed: str, not_attempted: list[str], cause: Exception):
        self.results, self.failed, self.not_attempted, self.cause = results, failed, not_attempted, cause
        super().__init__(self.summary())

    def summary(self) -> str:
        done = ", ".join(r.file for r in self.results) or "none"
        lines = [f"Committed before the fault: {done}.",
                 f"Not committed: {', '.join([self.failed, *self.not_attempted])} (rolled back whole: "
                 "import them again once the fault is fixed; files already committed will say unchanged)."]
        return "\n".join(lines)


def meta_data_path(meta: Path | str) -> Path:
    """The data file an EES ``name.meta.csv`` describes: ``name.csv``."""
    meta = Path(meta)
    return meta.with_name(meta.name[: -len(".meta.csv")] + ".csv")
