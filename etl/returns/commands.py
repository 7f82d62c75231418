"""``oba returns ...`` commands."""

import click


@click.group("returns")
def returns_group() -> None:
    """Make templates for, check, load and track agencies' quarterly returns."""
