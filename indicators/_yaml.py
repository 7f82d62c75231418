"""Read YAML keeping the line of every node, so a problem can be reported as ``file:line field``.

The files read here are small configuration files that people edit by hand (the board file, the definitions),
so the reader refuses what no such file needs and what could hang the program: a file over ``MAX_BYTES``, more
than ``MAX_ALIASES`` aliases, an alias that refers to itself, or a document that would expand to more than
``MAX_NODES`` values (the "billion laughs" alias bomb). It reads UTF-8 only, and says which other encoding a file
looks saved in and how to save it as UTF-8, instead of failing on the first odd byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1_000_000
"""The largest configuration file read (the demo board is about 5 KB, all the definitions about 60 KB)."""
MAX_ALIASES = 200
"""The most aliases (``*name``) a file may use."""
MAX_NODES = 100_000
"""The most values a document may hold once every alias is expanded."""

_SAVE_AS_UTF8 = ("save it as UTF-8 (Notepad: File > Save as > Encoding: UTF-8; VS Code: the encoding in the status "
                 "bar > Save with encoding > UTF-8) and run the command again")


class YamlFileError(ValueError):
    """A YAML file that cannot be read safely: too large, not UTF-8, or with too many or recursive aliases."""

    def __init__(self, code: str, message: str, line: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


class LocatedYaml:
    """Parsed YAML plus a way to find the line where a field (a path of keys and list indexes) stands."""

    def __init__(self, path: Path, data: Any, root: yaml.Node | None):
        self.path = path
        self.data = data
        self._root = root

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """1-based line of the deepest node found along ``loc``."""
        node = self._root
        line = node.start_mark.line + 1 if node is not None else None
        for key in loc:
            if isinstance(node, yaml.MappingNode):
                found = None
                for k, v in node.value:
                    if str(k.value) == str(key):
                        found = (k, v)
                        break
                if found is None:
                    break
                node = found[1]
                line = found[0].start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line + 1
            else:
                break
        return line


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader, refusing a file once it has used more than MAX_ALIASES aliases."""

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                line = self.peek_event().start_mark.line + 1
                raise YamlFileError("yaml-aliases", f"uses more than {MAX_ALIASES} aliases (*name); a board or "
                                    "definition file needs few if any: write the values out", line)
        return super().compose_node(parent, index)


def _expanded_size(root: yaml.Node) -> int:
    """How many values the document holds with every alias expanded, stopping early past MAX_NODES.

    An alias is the same node object as its anchor, so sizes are memoised by node: the walk is linear in the
    file even when the expansion is exponential. A node met again while it is being walked refers to itself.
    """
    sizes: dict[int, int] = {}
    walking: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in walking:
            raise YamlFileError("yaml-aliases", "has an alias that refers to the value it stands in (a recursive "
                                "alias): write the values out", node.start_mark.line + 1)
        walking.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                raise YamlFileError("yaml-aliases", f"would expand to more than {MAX_NODES:,} values through its "
                                    "aliases (*name), far more than any board or definition file holds; write the "
                                    "values out", node.start_mark.line + 1)
        walking.discard(key)
        sizes[key] = total
        return total

    return size(root)


def _decode(raw: bytes) -> str:
    """The text of a UTF-8 file (with or without a byte-order mark), or a YamlFileError saying what it looks like."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(raw) > 1 and b"\x00" in raw[:200]):
        raise YamlFileError("encoding", f"is saved as UTF-16 (or is not a text file); {_SAVE_AS_UTF8}", 1)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start]
        guess = bytes([byte]).decode("cp1252", errors="replace")
        looks = f" ('{guess}' in Windows-1252)" if guess != "\ufffd" and guess.isprintable() else ""
        raise YamlFileError("encoding", f"is not UTF-8: byte 0x{byte:02X}{looks} on line {line} — the file looks "
                            f"saved as Windows-1252 or Latin-1; {_SAVE_AS_UTF8}", line) from None


def read_located_yaml(path: Path) -> LocatedYaml:
    """Parse a YAML file safely (no Python objects, bounded size and aliases, UTF-8), keeping node positions.

    Raises YamlFileError for a file refused before or while parsing, yaml.YAMLError for a syntax error and
    OSError when the file cannot be read.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise YamlFileError("too-large", f"is {size / 1e6:.1f} MB; a board or definition file is a few KB, so this is "
                            f"probably not the right file (the limit is {MAX_BYTES / 1e6:.0f} MB)")
    with path.open("rb") as fh:
        raw = fh.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:  # not a regular file (a device, a pipe) or one still growing
        raise YamlFileError("too-large", f"holds more than {MAX_BYTES / 1e6:.0f} MB; a board or definition file is "
                            "a few KB, so this is probably not the right file")
    text = _decode(raw)
    loader = _BoundedLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _expanded_size(root)
        data = loader.construct_document(root) if root is not None else None
    except RecursionError:
        raise YamlFileError("yaml-nesting", "nests lists or mappings too deeply to read; a board or definition file "
                            "is only a few levels deep") from None
    finally:
        loader.dispose()
    return LocatedYaml(path, data, root)
