"""Open a workbook file safely before any spreadsheet library touches it.

Returns are sent by email and shared drives, so a file may be anything: a CSV or PDF renamed ``.xlsx``, an
old ``.xls``, an encrypted workbook, a damaged download, a zip bomb, or XML crafted to attack the parser.
This module reads the bytes once (hashing them for provenance) and, using only the zip central directory
and bounded streaming decompression, checks that the file is a plain Office Open XML workbook of sane size
whose XML parts carry no DTD (so no entity can ever be expanded). Only then do calamine and the XML scanner
read it, from the same bytes. Macros are never run: nothing here or in calamine executes them.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree as SafeET

MB = 1024 * 1024


@dataclass
class Limits:
    """How big a return may be. Generous for a sheet of a few dozen figures; small enough to stay fast."""

    max_file_bytes: int = 20 * MB
    max_unpacked_bytes: int = 200 * MB  # all parts together, as actually decompressed
    max_part_bytes: int = 100 * MB
    max_entries: int = 1000
    max_sheet_xml_bytes: int = 16 * MB  # a sheet the checker reads
    max_sheet_cells: int = 2_000_000  # rows x columns of a sheet the checker reads (calamine's grid is dense)


LIMITS = Limits()

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_CHUNK = 256 * 1024
# A declaration ("<!" then a letter: DOCTYPE, ENTITY, ELEMENT, ATTLIST), in UTF-8 or either UTF-16.
# Comments ("<!--") and CDATA ("<![") are not declarations. Excel never writes one.
_DECLARATION = re.compile(rb"<!\s*[A-Za-z]|<\x00!\x00[A-Za-z]\x00|\x00<\x00!\x00[A-Za-z]")
_OLE_ENCRYPTED = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))
_OLE_WORKBOOK = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


class Unreadable(Exception):
    """The file cannot be read as a workbook; ``code`` is an issue code and the message says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Package:
    """A workbook's bytes, checked: where its sheets and styles are, and what else it holds."""

    path: Path
    data: bytes
    sha256: str
    zip: zipfile.ZipFile
    sheets: list[tuple[str, str]]  # (sheet name, part name) in workbook order
    styles_part: str | None
    has_macros: bool
    sizes: dict[str, int] = field(default_factory=dict)  # part -> uncompressed bytes

    def sheet_part(self, name: str) -> str | None:
        for sheet, part in self.sheets:
            if sheet == name:
                return part
        return None

    def open_part(self, part: str):
        return self.zip.open(part)

    def read_part(self, part: str) -> bytes:
        return self.zip.read(part)


def open_package(path: Path, limits: Limits | None = None) -> Package:
    """Read and vet a workbook file; raise Unreadable (with an issue code) if it is not a safe .xlsx."""
    limits = limits or LIMITS
    path = Path(path)
    if not path.exists():
        raise Unreadable("file-not-found", "there is no such file; check the path and name")
    if path.is_dir():
        raise Unreadable("file-not-found", "this is a folder, not a file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Unreadable("file-not-found", f"the file cannot be opened ({exc.strerror or exc})") from None
    if size == 0:
        raise Unreadable("empty-file", "the file is empty (0 bytes); save the workbook again and resend it")
    if size > limits.max_file_bytes:
        raise Unreadable("file-too-large", f"the file is {size / MB:.1f} MB; a return must be under "
                         f"{limits.max_file_bytes // MB} MB (remove pasted data and pictures, keep the About "
                         "and Return sheets)")
    try:
        data = path.read_bytes()
    except OSError as exc:  # no permission, a file locked by another program, a network drive gone
        raise Unreadable("file-not-found", f"the file cannot be read ({exc.strerror or exc}); check it is not "
                         "open elsewhere and that you may read it") from None
    sha = hashlib.sha256(data).hexdigest()
    _sniff(data, path)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except Exception as exc:  # BadZipFile, NotImplementedError (odd versions), struct.error, OSError ...
        raise Unreadable("corrupt-file", f"the file is damaged and cannot be unpacked ({exc}); open it in "
                         "Excel, save it again and resend") from None
    sizes = _vet_entries(data, infos, limits)
    names = set(sizes)
    _classify(zf, names)
    workbook_part = _office_document(zf, names)
    sheets, styles = _workbook_parts(zf, names, workbook_part)
    macros = "xl/vbaProject.bin" in names or any(n.lower().endswith("vbaproject.bin") for n in names)
    return Package(path, data, sha, zf, sheets, styles, macros, sizes)


def _sniff(data: bytes, path: Path) -> None:
    """Recognise what the file really is from its first bytes."""
    head = data[:8]
    if head == _OLE:
        window = data[: 8 * MB]
        if any(sig in window for sig in _OLE_ENCRYPTED):
            raise Unreadable("password-protected", "the workbook is encrypted with a password and cannot be "
                             "read; remove the password in Excel (File > Info > Protect Workbook) and resend")
        if any(sig in window for sig in _OLE_WORKBOOK):
            raise Unreadable("old-xls-format", "the file is in the old Excel 97-2003 format (.xls); open it "
                             "in Excel and save it as an Excel Workbook (.xlsx)")
        raise Unreadable("unsupported-format", "the file is an older Office document, not an Excel workbook; "
                         "use the .xlsx return template")
    if head.startswith(_ZIP):
        return
    if head.startswith(b"PK\x05\x06"):
        raise Unreadable("not-a-workbook", "the file is an empty zip archive, not an Excel workbook")
    if head.startswith(b"%PDF"):
        what = "a PDF document"
    elif data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<html", b"<!doctype", b"<?xml", b"<table")):
        what = "a web page or XML file (some systems export these with an Excel name)"
    elif _looks_like_text(data[:4096]):
        what = "a text file (perhaps CSV)"
    else:
        what = "not a workbook"
    suffix = path.suffix.lower() or "no extension"
    raise Unreadable("not-a-workbook", f"the file is {what}, although it is named {suffix}; fill in the "
                     "return template in Excel and save it as an Excel Workbook (.xlsx)")


def _looks_like_text(sample: bytes) -> bool:
    if not sample:
        return False
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = sample.decode("cp1252")
        except UnicodeDecodeError:
            return False
        return sum(ch.isprintable() or ch in "\r\n\t" for ch in text) / len(text) > 0.95
    return b"\x00" not in sample


def _vet_entries(data: bytes, infos: list[zipfile.ZipInfo], limits: Limits) -> dict[str, int]:
    """Check every part's declared and actual size, integrity, and (for XML) the absence of a DTD."""
    if len(infos) > limits.max_entries:
        raise Unreadable("too-many-parts", f"the workbook has {len(infos):,} internal parts (a return has "
                         f"about 10; the limit is {limits.max_entries:,}); copy the figures into a fresh template")
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_unpacked_bytes:
        raise Unreadable("unpacked-too-large", f"the workbook would unpack to {declared / MB:,.0f} MB "
                         f"(limit {limits.max_unpacked_bytes // MB} MB); copy the figures into a fresh template")
    sizes: dict[str, int] = {}
    total = 0
    for info in infos:
        if info.filename in sizes:
            raise Unreadable("corrupt-file", f"the part {info.filename} appears twice; the file is damaged or "
                             "was tampered with")
        if info.flag_bits & 0x1:
            raise Unreadable("password-protected", "the workbook's contents are encrypted; remove the "
                             "password and resend")
        if info.file_size > limits.max_part_bytes:
            raise Unreadable("unpacked-too-large", f"the part {info.filename} would unpack to "
                             f"{info.file_size / MB:,.0f} MB; copy the figures into a fresh template")
        n = 0
        checker = _DeclarationScanner()
        for chunk in _inflate(data, info, min(info.file_size, limits.max_part_bytes)):
            n += len(chunk)
            total += len(chunk)
            if total > limits.max_unpacked_bytes:
                raise Unreadable("unpacked-too-large", f"the workbook unpacks to more than "
                                 f"{limits.max_unpacked_bytes // MB} MB; copy the figures into a fresh template")
            checker.feed(chunk)
        if checker.found:
            raise Unreadable("unsafe-xml", f"the part {info.filename} contains an XML declaration (DOCTYPE or "
                             "ENTITY) that Excel never writes, so the file is not opened; fill in a fresh "
                             "template")
        sizes[info.filename] = n
    return sizes


class _DeclarationScanner:
    """Looks for a DTD declaration in an XML part as it streams by (only parts that look like XML)."""

    def __init__(self) -> None:
        self.is_xml: bool | None = None
        self.tail = b""
        self.found = False

    def feed(self, chunk: bytes) -> None:
        if self.found or not chunk:
            return
        if self.is_xml is None:
            start = chunk.lstrip(b" \t\r\n\xef\xbb\xbf")[:4]
            self.is_xml = start.startswith((b"<", b"\xff\xfe", b"\xfe\xff")) or start[:2] == b"\x00<"
        if not self.is_xml:
            return
        window = self.tail + chunk
        if _DECLARATION.search(window):
            self.found = True
        self.tail = window[-16:]


def _inflate(data: bytes, info: zipfile.ZipInfo, limit: int) -> Iterator[bytes]:
    """Decompress one part from the raw bytes, never producing more than it declares; verify its CRC."""
    bad = Unreadable("corrupt-file", f"the part {info.filename} is damaged (it does not unpack correctly); "
                     "open the file in Excel, save it again and resend")
    off = info.header_offset
    if data[off:off + 4] != _ZIP:
        raise bad
    name_len, extra_len = struct.unpack("<HH", data[off + 26:off + 30])
    start = off + 30 + name_len + extra_len
    raw = memoryview(data)[start:start + info.compress_size]
    if len(raw) != info.compress_size:
        raise bad
    crc = 0
    produced = 0
    if info.compress_type == zipfile.ZIP_STORED:
        for k in range(0, len(raw), _CHUNK):
            chunk = bytes(raw[k:k + _CHUNK])
            crc = zlib.crc32(chunk, crc)
            produced += len(chunk)
            yield chunk
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        d = zlib.decompressobj(-15)
        pos = 0
        try:
            while not d.eof:
                if d.unconsumed_tail:
                    inp = d.unconsumed_tail
                elif pos < len(raw):
                    inp = raw[pos:pos + _CHUNK]
                    pos += _CHUNK
                else:
                    out = d.flush()
                    if out:
                        produced += len(out)
                        if produced > info.file_size or produced > limit:
                            raise _too_big(info)
                        crc = zlib.crc32(out, crc)
                        yield out
                    break
                out = d.decompress(inp, _CHUNK)
                produced += len(out)
                if produced > info.file_size or produced > limit:
                    raise _too_big(info)
                crc = zlib.crc32(out, crc)
                yield out
        except zlib.error:
            raise bad from None
    else:
        raise Unreadable("corrupt-file", f"the part {info.filename} uses a compression method Excel does not "
                         "use; save the workbook again in Excel")
    if produced != info.file_size or crc != info.CRC:
        raise bad


def _too_big(info: zipfile.ZipInfo) -> Unreadable:
    return Unreadable("unpacked-too-large", f"the part {info.filename} unpacks to more than it declares "
                      f"({info.file_size:,} bytes): the file is damaged or built to exhaust memory, so it is "
                      "not read")


def _classify(zf: zipfile.ZipFile, names: set[str]) -> None:
    if "xl/workbook.bin" in names:
        raise Unreadable("unsupported-format", "the file is an Excel Binary Workbook (.xlsb); save it as an "
                         "Excel Workbook (.xlsx)")
    if "mimetype" in names:
        mime = zf.read("mimetype")[:100].decode("ascii", "replace")
        raise Unreadable("unsupported-format", f"the file is an OpenDocument file ({mime}); save it as an "
                         "Excel Workbook (.xlsx)")
    if any(n.startswith("word/") for n in names):
        raise Unreadable("unsupported-format", "the file is a Word document; the return must be the Excel "
                         "template saved as .xlsx")
    if any(n.startswith("ppt/") for n in names):
        raise Unreadable("unsupported-format", "the file is a PowerPoint presentation; the return must be the "
                         "Excel template saved as .xlsx")
    if "[Content_Types].xml" not in names:
        raise Unreadable("not-a-workbook", "the file is a zip archive, not an Excel workbook; send the "
                         "return template saved as .xlsx")


def _parse(zf: zipfile.ZipFile, part: str):
    try:
        return SafeET.fromstring(zf.read(part), forbid_dtd=True)
    except Exception as exc:  # defusedxml's and expat's errors, damaged parts
        raise Unreadable("corrupt-file", f"the part {part} is not well-formed XML ({exc}); open the file in "
                         "Excel, save it again and resend") from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _rels(zf: zipfile.ZipFile, names: set[str], source: str) -> dict[str, tuple[str, str]]:
    """{relationship id: (type, target part)} for a part."""
    folder, base = posixpath.split(source)
    rels_part = posixpath.join(folder, "_rels", base + ".rels")
    if rels_part not in names:
        return {}
    out = {}
    for rel in _parse(zf, rels_part):
        if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        target = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", ""), target)
    return out


def _office_document(zf: zipfile.ZipFile, names: set[str]) -> str:
    for typ, target in _rels(zf, names, "").values():
        if typ.endswith("/officeDocument") and target in names:
            return target
    if "xl/workbook.xml" in names:
        return "xl/workbook.xml"
    raise Unreadable("not-a-workbook", "the file is an Office file without a workbook inside; send the return "
                     "template saved as .xlsx")


def _workbook_parts(zf: zipfile.ZipFile, names: set[str], workbook_part: str) -> tuple[list[tuple[str, str]], str | None]:
    rels = _rels(zf, names, workbook_part)
    root = _parse(zf, workbook_part)
    sheets = []
    for el in root.iter():
        if _local(el.tag) != "sheet":
            continue
        rid = el.get(f"{{{_REL_NS}}}id") or el.get("{http://purl.oclc.org/ooxml/officeDocument/relationships}id")
        typ, target = rels.get(rid or "", ("", ""))
        if target in names and typ.endswith("/worksheet"):
            sheets.append((el.get("name", ""), target))
    styles = next((t for typ, t in rels.values() if typ.endswith("/styles") and t in names), None)
    return sheets, styles
