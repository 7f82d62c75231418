"""Reading a published CSV file safely: size, encoding and shape checked before anything is parsed.

Published files (EES, ONS, DfE neighbour lists) are UTF-8 CSV. Anything else — a workbook renamed to
``.csv``, a file saved in Windows-1252, a truncated download, a 2 GB export — is rejected here with the
file, the line and the column, what was found and what is expected.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl.errors import InputFileError

MAX_FILE_BYTES = 200 * 1024 * 1024
"""Files larger than this are refused: one EES table for every LA over a decade is a few MB; the largest EES
files (every LA by several filters over many years) approach it. Above it, the message says to split the file
(for example by year) or to download only the rows needed from EES's table tool."""

MAX_PROBLEMS = 20
"""At most this many problems are listed per file; the rest are counted."""

_SIGNATURES = [
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook"),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel workbook (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (line, column) and what was found and expected."""

    message: str
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class BenchmarkFileError(InputFileError):
    """A published file cannot be imported; every problem found is listed."""

    def __init__(self, file: str, problems: list[Problem], more: int = 0):
        self.file = file
        self.problems = problems
        self.more = more
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.problems) == 1 and not self.more:
            return f"{self.file}: {self.problems[0]}"
        lines = [f"{self.file}: {len(self.problems) + self.more} problems:"]
        lines += [f"  {p}" for p in self.problems]
        if self.more:
            lines.append(f"  ... and {self.more} more")
        return "\n".join(lines)


class FilesError(InputFileError):
    """Several files were rejected at once."""

    def __init__(self, errors: list[BenchmarkFileError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class ProblemList:
    """Collects problems for one file, keeping the first ``MAX_PROBLEMS``."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []
        self.more = 0

    def add(self, message: str, line: int | None = None, column: str | None = None) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(Problem(message, line, column))
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise BenchmarkFileError(self.file, self.items, self.more)

    def fail(self, message: str, line: int | None = None, column: str | None = None):
        self.add(message, line, column)
        raise BenchmarkFileError(self.file, self.items, self.more)


@dataclass
class CsvTable:
    """A CSV file read as text: the header, the data rows and the line each row starts on."""

    path: Path
    sha256: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    columns: dict[str, int] = field(default_factory=dict)
    frame: pd.DataFrame | None = None
    """Set by ``read_csv_frame``: every cell as stripped text, each column a pandas categorical (codes into its
    distinct values), indexed by line; ``rows`` and ``lines`` are then empty."""

    @property
    def name(self) -> str:
        return self.path.name


def quote(value: str, limit: int = 60) -> str:
    """A cell value as shown in a message: quoted, shortened if long."""
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return f"'{value}'"


def _decode_error(data: bytes, exc: UnicodeDecodeError, problems: ProblemList) -> None:
    start = data.rfind(b"\n", 0, exc.start) + 1
    line = data.count(b"\n", 0, exc.start) + 1
    prefix = data[start:exc.start].decode("utf-8", errors="replace")
    column = None
    if line > 1:
        header_end = data.find(b"\n")
        header = next(csv.reader([data[:header_end].decode("utf-8-sig", errors="replace").rstrip("\r")]), [])
        fields = next(csv.reader([prefix]), [""])
        index = max(len(fields) - 1, 0) if not prefix.endswith(",") else len(fields)
        if index < len(header):
            column = header[index]
    problems.fail(f"byte 0x{data[exc.start]:02x} at character {len(prefix) + 1} is not UTF-8 text; "
                  "expected a CSV file saved as UTF-8 (in Excel: Save As, 'CSV UTF-8')", line, column)


def read_csv_table(path: Path | str, what: str) -> CsvTable:
    """Read ``path`` as a UTF-8 CSV with a header line; ``what`` names the expected content for messages."""
    path = Path(path)
    problems = ProblemList(path.name)
    if not path.exists():
        problems.fail(f"file not found (looked for {path}); expected {what}")
    if path.is_dir():
        problems.fail(f"is a folder, not a file; expected {what}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        problems.fail(f"is {size / 1024 / 1024:.1f} MB; files over {MAX_FILE_BYTES / 1024 / 1024:.0f} MB are "
                      f"not imported (expected {what}, which is a few MB: check it is the right file; if it is, "
                      "split it, for example by year, keeping the header line in each part, and import the "
                      "parts together)")
    data = path.read_bytes()
    if not data.strip():
        problems.fail(f"is empty; expected {what}")
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            problems.fail(f"is {kind}, not a CSV file; expected {what}")
    nul = data.find(b"\x00")
    if nul >= 0:
        problems.fail(f"contains binary data (a NUL byte), not CSV text; expected {what}",
                      data.count(b"\n", 0, nul) + 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _decode_error(data, exc, problems)
        raise  # pragma: no cover - _decode_error always raises
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        previous = 0
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip() for cell in record]
                continue
            if len(record) != len(header):
                problems.add(f"has {len(record)} fields; expected {len(header)}, one per header column", start)
                continue
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        problems.fail(f"is not valid CSV ({exc}); expected {what}", reader.line_num)
    if header is None:
        problems.fail(f"is empty; expected {what}")
    if not rows and not problems:
        problems.fail(f"has a header but no data rows; expected {what}", 2)
    problems.raise_if_any()
    assert header is not None
    # Trailing unnamed columns left by spreadsheets (",,,") are dropped when they hold nothing.
    while header and header[-1] == "" and all(not r[len(header) - 1].strip() for r in rows):
        header.pop()
        rows = [r[: len(header)] for r in rows]
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        if name == "":
            problems.add(f"column {i + 1} has no name; expected a column name in the header", 1)
        elif name in columns:
            problems.add(f"column {quote(name)} appears twice (columns {columns[name] + 1} and {i + 1}); "
                         "expected each column once", 1)
        else:
            columns[name] = i
    problems.raise_if_any()
    return CsvTable(path, hashlib.sha256(data).hexdigest(), header, rows, lines, columns)


CHUNK = 8 * 1024 * 1024


def read_csv_frame(path: Path | str, what: str) -> CsvTable:
    """Read ``path`` like ``read_csv_table``, but columnar (pyarrow) and in bounded memory: ``CsvTable.frame``.

    The file is scanned once in chunks (its SHA-256, NUL bytes, UTF-8, line count) and parsed by pyarrow's CSV
    reader a block at a time into categorical columns (see below). Anything unusual — a problem to report with
    its line, quoted line breaks, blank lines, unnamed columns — is handed to ``read_csv_table``, which reads
    the file as text and names every problem exactly; so the messages are the same either way.
    """
    import codecs

    path = Path(path)
    if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES or path.stat().st_size == 0:
        return read_csv_table(path, what)
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines, head, last = 0, b"", b""
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                if not head:
                    head = chunk[:4096]
                digest.update(chunk)
                if b"\x00" in chunk:
                    return read_csv_table(path, what)
                decoder.decode(chunk)
                newlines += chunk.count(b"\n")
                last = chunk[-1:]
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return read_csv_table(path, what)
    if any(head.startswith(sig) for sig, _ in _SIGNATURES) or not head.strip():
        return read_csv_table(path, what)
    first = head.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").rstrip("\r")
    header = [cell.strip() for cell in next(csv.reader([first]), [])]
    if not header or "" in header or len(set(header)) != len(header) or "\n" not in head.decode(
            "utf-8", errors="replace"):
        return read_csv_table(path, what)

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(len(header))]
    # Read a block at a time; each block's cells are trimmed and dictionary-encoded at once, so the file is
    # held as small integers into its distinct values (published columns repeat their values: areas, years,
    # filters, even most figures), never as a string per cell.
    batches, n, any_blank = [], 0, False
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=8 * 1024 * 1024),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                 null_values=[]))
        for batch in reader:
            columns, blank = [], None
            for col in batch.columns:
                col = pc.utf8_trim_whitespace(col)
                empty = pc.equal(col, "")
                blank = empty if blank is None else pc.and_(blank, empty)
                columns.append(pc.dictionary_encode(col))
            any_blank = any_blank or bool(pc.any(blank).as_py())
            n += batch.num_rows
            batches.append(pa.RecordBatch.from_arrays(columns, names=names))
            del batch
    except (pa.ArrowInvalid, pa.ArrowException, ValueError):
        return read_csv_table(path, what)
    # Every record on one line, none blank: then row i is line i + 2, and the line count says so.
    if n == 0 or any_blank or newlines != n + (1 if last == b"\n" else 0):
        return read_csv_table(path, what)
    table = pa.Table.from_batches(batches).unify_dictionaries().combine_chunks()
    del batches
    frame = table.rename_columns(header).to_pandas()  # dictionary columns become pandas categoricals
    del table
    frame.index = pd.RangeIndex(2, n + 2, name="line")
    return CsvTable(path, digest.hexdigest(), header, [], [], {name: i for i, name in enumerate(header)}, frame)
