"""Import DfE children's services statistical neighbour lists (long or wide layout).

DfE publishes, for each local authority, its 10 most similar authorities ranked by closeness. The files come
in two layouts: *long* (one row per LA and neighbour: ``la_number, la_name, region_name, rank,
neighbour_la_number, neighbour_la_name, closeness``) and *wide* (one row per LA: ``sn1_la_number,
sn1_la_name, sn1_closeness ... sn10_...``). Both are read into the same rows. Closeness labels are
normalised in case ("Very Close" → "Very close"). Re-importing a set replaces its rows in one transaction.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine

from etl import audit
from etl.benchmarks.csvfile import CsvTable, ProblemList, quote, read_csv_table
from etl.errors import OBAError
from etl.store import Area, Neighbour, NeighbourSet, lock_for, utcnow, writer
from indicators.local_authorities import by_number

LONG_COLUMNS = ["la_number", "la_name", "region_name", "rank", "neighbour_la_number", "neighbour_la_name",
                "closeness"]
LONG_REQUIRED = ["la_number", "la_name", "rank", "neighbour_la_number", "neighbour_la_name"]
WIDE_EXAMPLE = "la_number, la_name, sn1_la_number, sn1_la_name, sn1_closeness, ... sn10_closeness"
_WIDE_COLUMN = re.compile(r"sn(\d+)_la_number")
_SUFFIX = re.compile(r"[_-](long|wide)$", re.IGNORECASE)
_WHAT = "a DfE statistical neighbours CSV file"

NEIGHBOUR_COLUMNS = ["la_number", "la_name", "rank", "neighbour_la_number", "neighbour_la_name", "closeness"]


class NeighbourSetNotFound(OBAError):
    """No statistical neighbour set of that name (or none at all) is stored."""


@dataclass(frozen=True)
class NeighbourImportResult:
    """What importing a neighbour file did. ``outcome`` is "imported" (a new set), "replaced" or "unchanged"."""

    file: str
    name: str
    layout: str
    las: int
    rows: int
    outcome: str


def set_name(path: Path | str) -> str:
    """The default set name: the file stem without ``_long``/``_wide`` (``statistical_neighbours_may2025``)."""
    return _SUFFIX.sub("", Path(path).stem)


def normalise_closeness(label: str) -> str | None:
    """"Very Close", "very  close " and "Very close" are the same label: "Very close". Blank is None."""
    words = label.split()
    if not words:
        return None
    joined = " ".join(words)
    return joined[0].upper() + joined[1:].lower()


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def read_neighbours(path: Path | str, known: Collection[int] | None = None) -> tuple[pd.DataFrame, str]:
    """Read and validate a neighbour file: (rows in ``NEIGHBOUR_COLUMNS``, layout "long" or "wide").

    LA numbers are checked against ``known`` (default: the reference list of English local authorities,
    ``indicators.local_authorities``; the synthetic demo passes its own fictional areas).
    """
    frame, layout, _ = _read(path, known)
    return frame, layout


def _is_known(known: Collection[int] | None):
    if known is None:
        return lambda n: by_number(n) is not None
    numbers = set(known)
    return lambda n: n in numbers


def _read(path: Path | str, known: Collection[int] | None = None) -> tuple[pd.DataFrame, str, CsvTable]:
    is_known = _is_known(known)
    table = read_csv_table(path, _WHAT)
    problems = ProblemList(table.name)
    cols = {name.strip().lower(): i for name, i in table.columns.items()}
    wide = {int(m.group(1)): name for name in cols if (m := _WIDE_COLUMN.fullmatch(name))}
    records: list[tuple] = []  # (line, column prefix, la_number, la_name, rank, nb number, nb name, closeness)
    if all(c in cols for c in LONG_REQUIRED):
        layout = "long"
        for row, line in zip(table.rows, table.lines, strict=True):
            closeness = row[cols["closeness"]] if "closeness" in cols else ""
            records.append((line, "", row[cols["la_number"]], row[cols["la_name"]], row[cols["rank"]],
                            row[cols["neighbour_la_number"]], row[cols["neighbour_la_name"]], closeness))
    elif "la_number" in cols and "la_name" in cols and wide:
        layout = "wide"
        for k in sorted(wide):
            if f"sn{k}_la_name" not in cols:
                problems.add(f"has sn{k}_la_number but no sn{k}_la_name; expected both for each neighbour", 1)
        problems.raise_if_any()
        for row, line in zip(table.rows, table.lines, strict=True):
            for k in sorted(wide):
                number, name = row[cols[f"sn{k}_la_number"]], row[cols[f"sn{k}_la_name"]]
                closeness = row[cols[f"sn{k}_closeness"]] if f"sn{k}_closeness" in cols else ""
                if not number.strip() and not name.strip():
                    continue  # fewer than the usual 10 neighbours
                records.append((line, f"sn{k}_", row[cols["la_number"]], row[cols["la_name"]], str(k),
                                number, name, closeness))
    else:
        found = ", ".join(table.header[:8]) + (", ..." if len(table.header) > 8 else "")
        problems.fail(f"is not a statistical neighbours file (found columns {found}); expected the long layout "
                      f"({', '.join(LONG_COLUMNS)}) or the wide layout ({WIDE_EXAMPLE})", 1)

    out = []
    seen: dict[tuple[int, int], int] = {}
    seen_neighbour: dict[tuple[int, int], tuple[int, int]] = {}  # (LA, neighbour) -> (line, rank)
    first_line: dict[int, tuple[int, str]] = {}  # LA -> (its first line, its name)
    for line, prefix, la, la_name, rank, number, name, closeness in records:
        la_int, rank_int, nb_int = _int(la), _int(rank), _int(number)
        rank_col = "rank" if layout == "long" else None
        nb_col = "neighbour_la_number" if layout == "long" else f"{prefix}la_number"
        nb_name_col = "neighbour_la_name" if layout == "long" else f"{prefix}la_name"
        ok = True
        if la_int is None:
            problems.add(f"found {quote(la)}; expected DfE's 3-digit LA number such as 826", line, "la_number")
            ok = False
        if not la_name.strip():
            problems.add("is blank; expected the LA's name", line, "la_name")
            ok = False
        if rank_int is None or rank_int < 1:
            problems.add(f"found {quote(rank)}; expected a rank 1, 2, 3 ...", line, rank_col)
            ok = False
        if nb_int is None:
            problems.add(f"found {quote(number)}; expected the neighbour's 3-digit LA number", line, nb_col)
            ok = False
        if not name.strip():
            problems.add("is blank; expected the neighbour's name", line, nb_name_col)
            ok = False
        for label, value in (("la_name", la_name), (nb_name_col, name), ("closeness", closeness)):
            limit = 40 if label == "closeness" else 120
            if len(value.strip()) > limit:
                problems.add(f"is longer than {limit} characters", line, label)
                ok = False
        if la_int is not None and not is_known(la_int):
            problems.add(f"found {la_int}, which is not the DfE number of an English local authority; expected a "
                         "number from DfE's LA list (such as 826 for Milton Keynes)", line, "la_number")
            ok = False
        if nb_int is not None and not is_known(nb_int):
            problems.add(f"found {nb_int}, which is not the DfE number of an English local authority; expected a "
                         "number from DfE's LA list (such as 826 for Milton Keynes)", line, nb_col)
            ok = False
        if not ok:
            continue
        first_line.setdefault(la_int, (line, la_name.strip()))
        if nb_int == la_int:
            problems.add(f"gives {la_name.strip()} ({la_int}) as its own neighbour at rank {rank_int}; expected "
                         "other authorities only", line, nb_col)
            continue
        key = (la_int, rank_int)
        if key in seen:
            problems.add(f"repeats LA {la_int} rank {rank_int} from line {seen[key]}; expected each rank once "
                         "per LA", line)
            continue
        pair = (la_int, nb_int)
        if pair in seen_neighbour:
            at, at_rank = seen_neighbour[pair]
            problems.add(f"gives {name.strip()} ({nb_int}) as a neighbour of LA {la_int} at rank {rank_int} and "
                         f"at rank {at_rank} (line {at}); expected each neighbour once per LA", line, nb_col)
            continue
        seen[key] = line
        seen_neighbour[pair] = (line, rank_int)
        out.append((la_int, la_name.strip(), rank_int, nb_int, name.strip(), normalise_closeness(closeness)))
    if not problems:
        _check_ranks(out, first_line, max(wide) if layout == "wide" else None, problems)
    problems.raise_if_any()
    frame = pd.DataFrame(out, columns=NEIGHBOUR_COLUMNS).sort_values(["la_number", "rank"], ignore_index=True)
    return frame, layout, table


def _check_ranks(rows: list[tuple], first_line: dict[int, tuple[int, str]], columns: int | None,
                 problems: ProblemList) -> None:
    """Every LA has ranks 1..k with none missing, and the same number of neighbours as the others.

    The number expected is the wide layout's number of neighbour columns (sn1..sn10: 10), else the number most
    LAs in the file have.
    """
    ranks: dict[int, list[int]] = {}
    for la, _, rank, *_ in rows:
        ranks.setdefault(la, []).append(rank)
    counts = Counter(len(r) for r in ranks.values())
    expected = columns or max(counts, key=lambda n: (counts[n], n))
    for la, got in sorted(ranks.items(), key=lambda item: first_line[item[0]][0]):
        line, name = first_line[la]
        got = sorted(got)
        missing = sorted(set(range(1, max(got) + 1)) - set(got))
        if missing:
            problems.add(f"{name} ({la}) has ranks {_list(got)}: rank {_list(missing)} missing; expected ranks 1 to "
                         f"{expected} with none missing", line, "rank" if columns is None else None)
        elif len(got) != expected:
            why = "one for each sn…_la_number column" if columns else "as most LAs in the file have"
            has = f"{len(got)} neighbour" + ("" if len(got) == 1 else "s")
            problems.add(f"{name} ({la}) has {has}; expected {expected}, {why}", line)


def _list(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers))


def import_neighbours(engine: Engine, path: Path | str, user: str, name: str | None = None,
                      known: Collection[int] | None = None) -> NeighbourImportResult:
    """Import a statistical neighbour file as set ``name`` (default: the file stem without _long/_wide).

    Nothing is stored unless every row passes (``read_neighbours``; ``known`` as there).

    A set imported again is replaced in one transaction; when its rows are the same nothing is written
    (outcome "unchanged"), so the long and wide files of one release can both be imported harmlessly.
    """
    path = Path(path)
    frame, layout, table = _read(path, known)
    name = (name or set_name(path)).strip()
    if not name or len(name) > 120:
        raise OBAError(f"the neighbour set name {quote(name)} must be 1 to 120 characters")
    rows = [tuple(r) for r in frame.itertuples(index=False, name=None)]
    result = dict(file=path.name, name=name, layout=layout, las=int(frame["la_number"].nunique()), rows=len(rows))
    with writer(engine).begin() as conn:
        lock_for(conn, "neighbours")
        sets, nb = NeighbourSet.__table__, Neighbour.__table__
        set_id = conn.execute(select(sets.c.id).where(sets.c.name == name)).scalar()
        if set_id is not None:
            stored = conn.execute(select(*(nb.c[c] for c in NEIGHBOUR_COLUMNS)).where(nb.c.set_id == set_id)
                                  .order_by(nb.c.la_number, nb.c.rank)).all()
            if [tuple(r) for r in stored] == rows:
                return NeighbourImportResult(outcome="unchanged", **result)
            conn.execute(delete(nb).where(nb.c.set_id == set_id))
            conn.execute(update(sets).where(sets.c.id == set_id).values(
                file_name=path.name, sha256=table.sha256, imported_at=utcnow(), imported_by=user))
            outcome = "replaced"
        else:
            set_id = conn.execute(insert(sets).values(name=name, file_name=path.name, sha256=table.sha256,
                                                      imported_at=utcnow(), imported_by=user)).inserted_primary_key[0]
            outcome = "imported"
        conn.execute(insert(nb), [{"set_id": set_id, **dict(zip(NEIGHBOUR_COLUMNS, r, strict=True))} for r in rows])
        audit.record(conn, "neighbours.import", name, after={"file": path.name, "sha256": table.sha256,
                                                              "outcome": outcome, "rows": len(rows)})
    return NeighbourImportResult(outcome=outcome, **result)


# --- reading back -----------------------------------------------------------------------------------

def neighbour_sets(engine: Engine) -> pd.DataFrame:
    """The stored sets, newest first: name, file_name, imported_at, imported_by, las, rows."""
    sets, nb = NeighbourSet.__table__, Neighbour.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(sets.c.name, sets.c.file_name, sets.c.imported_at, sets.c.imported_by,
                                   sets.c.id).order_by(sets.c.imported_at.desc(), sets.c.id.desc())).all()
        counts = {r[0]: (r[1], r[2]) for r in conn.execute(
            select(nb.c.set_id, func.count(nb.c.la_number.distinct()), func.count()).group_by(nb.c.set_id))}
    out = [(n, f, at, by, *counts.get(i, (0, 0))) for n, f, at, by, i in rows]
    return pd.DataFrame(out, columns=["name", "file_name", "imported_at", "imported_by", "las", "rows"])


def _resolve_set(conn, name: str | None) -> tuple[int, str]:
    row = _resolve_set_row(conn, name)
    return row[0], row[1]


def _resolve_set_row(conn, name: str | None):
    """The set called ``name`` (else the newest): id, name, file_name, imported_at."""
    sets = NeighbourSet.__table__
    stmt = select(sets.c.id, sets.c.name, sets.c.file_name, sets.c.imported_at)
    stmt = stmt.where(sets.c.name == name) if name else stmt.order_by(sets.c.imported_at.desc(), sets.c.id.desc())
    row = conn.execute(stmt.limit(1)).first()
    if row is None:
        if name:
            known = [r[0] for r in conn.execute(select(sets.c.name).order_by(sets.c.name))]
            raise NeighbourSetNotFound(f"no statistical neighbour set is called {quote(name)}; stored sets: "
                                       f"{', '.join(known) or 'none'}")
        raise NeighbourSetNotFound("no statistical neighbour lists are stored yet: import one with "
                                   "`oba neighbours import FILE`")
    return row


def find_la(engine: Engine, la: str | int, set_name: str | None = None) -> tuple[int, str]:
    """An LA given as its DfE number (826), ONS code (E06000042) or name ("milton keynes"): (number, name)."""
    nb = Neighbour.__table__
    text_la = str(la).strip()
    with engine.connect() as conn:
        set_id, found_set = _resolve_set(conn, set_name)
        pairs = {r[0]: r[1] for r in conn.execute(select(nb.c.la_number, nb.c.la_name)
                                                   .where(nb.c.set_id == set_id).distinct())}
        if text_la.isdigit() and int(text_la) in pairs:
            return int(text_la), pairs[int(text_la)]
        area = conn.execute(select(Area.__table__.c.la_number).where(Area.__table__.c.code == text_la.upper())) \
            .scalar()
        if area is not None and area in pairs:
            return area, pairs[area]
        matches = [n for n, nm in pairs.items() if nm.lower() == text_la.lower()]
        if len(matches) == 1:
            return matches[0], pairs[matches[0]]
    raise OBAError(f"LA {quote(text_la)} is not in the statistical neighbour set {found_set}; give its DfE number "
                   "(e.g. 826), ONS code (E06000042) or exact name")


def neighbours_of(engine: Engine, la_number: int, set_name: str | None = None) -> pd.DataFrame:
    """The ranked neighbours of one LA in a set (the newest set when ``set_name`` is None).

    ``attrs`` say which set: ``set`` (its name), ``set_file``, ``set_imported_at`` and ``set_named`` (whether
    it was asked for by name rather than being the newest).
    """
    nb = Neighbour.__table__
    with engine.connect() as conn:
        set_id, found, file_name, imported_at = _resolve_set_row(conn, set_name)
        rows = conn.execute(select(*(nb.c[c] for c in NEIGHBOUR_COLUMNS)).where(
            nb.c.set_id == set_id, nb.c.la_number == int(la_number)).order_by(nb.c.rank)).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=NEIGHBOUR_COLUMNS)
    frame.attrs.update({"set": found, "set_file": file_name, "set_imported_at": imported_at,
                        "set_named": bool(set_name)})
    return frame
