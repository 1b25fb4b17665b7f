"""Tile addressing on a tile matrix set (morecantile), with validation of client input.

Client-supplied z/x/y arrive as text; :func:`parse_tile` turns them into a morecantile ``Tile`` or
raises :class:`~tiles.errors.InvalidTileAddress` with a message a developer can act on.
"""

from __future__ import annotations

import morecantile
from morecantile import Tile, TileMatrixSet

from tiles.errors import InvalidTileAddress

WEB_MERCATOR_QUAD: TileMatrixSet = morecantile.tms.get("WebMercatorQuad")
#: Deepest zoom served; beyond it a tile is smaller than a building's doorway.
MAX_ZOOM = 24


def whole_number(label: str, text: str) -> int:
    """A tile address part given as text: ASCII digits only, at most nine."""
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise InvalidTileAddress(f"{label} must be a non-negative integer, got {text[:20]!r}.")
    return int(text)


def parse_tile(z: str, x: str, y: str, tms: TileMatrixSet = WEB_MERCATOR_QUAD) -> Tile:
    """The tile addressed by ``z/x/y`` text, checked against the matrix set's bounds."""
    zoom, column, row = whole_number("z", z), whole_number("x", x), whole_number("y", y)
    if zoom > MAX_ZOOM:
        raise InvalidTileAddress(f"z must be between 0 and {MAX_ZOOM}, got {zoom}.")
    width, height = _matrix_size(tms, zoom)
    if column >= width or row >= height:
        raise InvalidTileAddress(
            f"At z={zoom}, x must be below {width} and y below {height}; got x={column}, y={row}."
        )
    return Tile(column, row, zoom)


#: Matrix width and height by (matrix set, zoom): morecantile builds a pydantic model per call,
#: which costs more than the rest of parsing a tile address (issue 11 §2).
_SIZES: dict[tuple[int, int], tuple[int, int]] = {}


def _matrix_size(tms: TileMatrixSet, zoom: int) -> tuple[int, int]:
    key = (id(tms), zoom)  # matrix sets are module-level objects that live as long as this
    found = _SIZES.get(key)
    if found is None:
        matrix = tms.matrix(zoom)
        found = _SIZES[key] = (int(matrix.matrixWidth), int(matrix.matrixHeight))
    return found


def tile_envelope(tile: Tile, tms: TileMatrixSet = WEB_MERCATOR_QUAD) -> tuple[float, ...]:
    """The tile's bounds in the matrix set's CRS (EPSG:3857 for WebMercatorQuad)."""
    bounds = tms.xy_bounds(tile)
    return (bounds.left, bounds.bottom, bounds.right, bounds.top)
