"""Every command a user can run is documented in the README, and the quick start is the two commands."""

from __future__ import annotations

from pathlib import Path

import click

from etl.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _commands(group: click.Group, prefix: str = "oba") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            out += _commands(cmd, path)
        else:
            out.append(path)
    return out


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [c for c in _commands(main) if f"`{c}`" not in readme]
    assert missing == []


def test_quick_start_is_make_run_and_make_test():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make run", "make test"]


def test_every_doc_the_readme_links_exists():
    readme = (ROOT / "README.md").read_text()
    import re

    for link in re.findall(r"\]\(((?:docs|data|indicators)/[^)]+)\)", readme):
        assert (ROOT / link).exists(), link
