"""Read YAML keeping the line of every node, so a problem can be reported as ``file:line field``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


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


def read_located_yaml(path: Path) -> LocatedYaml:
    """Parse a YAML file safely (no Python objects), keeping node positions."""
    text = Path(path).read_text(encoding="utf-8")
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return LocatedYaml(Path(path), data, root)
