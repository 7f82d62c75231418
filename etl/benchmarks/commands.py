"""``oba benchmarks ...`` and ``oba neighbours ...`` commands."""

import click


@click.group("benchmarks")
def benchmarks_group() -> None:
    """Import and export published benchmark files (DfE EES CSV, ONS populations)."""


@click.group("neighbours")
def neighbours_group() -> None:
    """Import DfE statistical neighbour lists."""
