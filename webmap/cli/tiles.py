"""``webmap tiles …``: vector tile tools. The group only; each command is a module of its own
(:mod:`webmap.cli.prerender`, :mod:`webmap.cli.tile_export`), added in :mod:`webmap.cli`."""

from __future__ import annotations

import click
from flask.cli import AppGroup


@click.group("tiles", cls=AppGroup)
def tiles_group() -> None:
    """Vector tiles: pre-render low zooms, export archives."""
