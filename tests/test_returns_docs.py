"""docs/returns.md documents every issue code the checker can report, and no code it cannot."""

from __future__ import annotations

import re
from pathlib import Path

from etl.returns.issues import CATALOGUE

DOC = Path(__file__).resolve().parent.parent / "docs" / "returns.md"


def _documented() -> dict[str, str]:
    """{code: level} from the issue tables (rows that start with a code in backticks)."""
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| (error|warning) \|", DOC.read_text(), re.MULTILINE)
    return dict(rows)


def test_every_issue_code_is_documented_with_its_level():
    documented = _documented()
    assert {c: t.level for c, t in CATALOGUE.items()} == documented


def test_every_code_used_in_the_source_is_catalogued():
    """Any hyphenated literal in the returns package is an issue code, apart from these few."""
    not_codes = {"oba-return-1", "utf-16-le", "utf-8"}
    source = "\n".join(p.read_text() for p in (DOC.parent.parent / "etl" / "returns").glob("*.py")
                       if p.name != "issues.py")
    used = set(re.findall(r'"([a-z0-9]+(?:-[a-z0-9]+)+)"', source)) - not_codes
    assert len(used) > 40 and used <= set(CATALOGUE), used - set(CATALOGUE)
