"""Errors raised while addressing or rendering tiles; ``webmap`` maps them to HTTP."""

from __future__ import annotations


class TileError(Exception):
    """Base of every error the ``tiles`` package raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidTileAddress(TileError):
    """z, x or y is not an integer, or lies outside the tile matrix set."""


class InvalidStaticMap(TileError):
    """The size, zoom, place or shape of a static map cannot be drawn."""
