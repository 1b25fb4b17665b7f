"""OGC API – Tiles descriptions: tile matrix sets and a layer's tileset in one of them.

What clients need to find a layer's tiles without guessing: the matrix set definition (OGC Two
Dimensional Tile Matrix Set 2.0 JSON, from morecantile), and per tileset the levels and the
rows and columns that hold data (``tileMatrixSetLimits``), so GDAL and QGIS never ask for tiles
of the empty Atlantic. The HTTP side (links, URLs) is :mod:`webmap.api.ogc_tiles`.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from morecantile.errors import PointOutsideTMSBounds

from tiles.matrix_sets import TileGrid

Bounds = tuple[float, float, float, float]


def matrix_set_document(grid: TileGrid) -> dict[str, Any]:
    """The tile matrix set as OGC 2DTMS 2.0 JSON (origins in the CRS's own axis order)."""
    document: dict[str, Any] = json.loads(grid.tms.model_dump_json(exclude_none=True))
    document.setdefault("uri", grid.uri)
    return document


def _index(value: float, high: int) -> int:
    return min(max(int(value), 0), high)


def matrix_limits(
    grid: TileGrid, bounds: Bounds, minzoom: int, maxzoom: int
) -> list[dict[str, Any]]:
    """The levels of ``grid`` whose Web Mercator equivalent is within ``minzoom``–``maxzoom``,
    each with the rows and columns that cover ``bounds`` (WGS 84 west, south, east, north)."""
    west, south, east, north = bounds
    limits = []
    for level in range(grid.max_level + 1):
        if not minzoom <= grid.data_zoom(level) <= maxzoom:
            continue
        matrix = grid.tms.matrix(level)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PointOutsideTMSBounds)
            top_left = grid.tms.tile(west, north, level)
            bottom_right = grid.tms.tile(east, south, level)
        limits.append(
            {
                "tileMatrix": str(level),
                "minTileRow": _index(top_left.y, matrix.matrixHeight - 1),
                "maxTileRow": _index(bottom_right.y, matrix.matrixHeight - 1),
                "minTileCol": _index(top_left.x, matrix.matrixWidth - 1),
                "maxTileCol": _index(bottom_right.x, matrix.matrixWidth - 1),
            }
        )
    return limits
