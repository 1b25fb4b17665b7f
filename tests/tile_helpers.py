"""Helpers for tile tests: where a lon/lat lands in a tile, computed independently of the server.

The server stores in EPSG:3857 with PostGIS; these helpers use pyproj and morecantile, so a test
that compares the two checks the server's geometry rather than repeating its arithmetic.
"""

from __future__ import annotations

from typing import Any

import mapbox_vector_tile
import morecantile
import shapely
from pyproj import Transformer

TMS = morecantile.tms.get("WebMercatorQuad")
EXTENT = 4096
_TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)


def tile_of(lon: float, lat: float, zoom: int) -> morecantile.Tile:
    return TMS.tile(lon, lat, zoom)


def tile_coordinates(lon: float, lat: float, tile: morecantile.Tile) -> tuple[float, float]:
    """(x, y) of a WGS 84 point in the tile's 0…4096 grid, y pointing down as in MVT."""
    x, y = _TO_MERCATOR.transform(lon, lat)
    bounds = TMS.xy_bounds(tile)
    column = (x - bounds.left) / (bounds.right - bounds.left) * EXTENT
    row = (bounds.top - y) / (bounds.top - bounds.bottom) * EXTENT
    return column, row


def to_tile_grid(shape: shapely.Geometry, tile: morecantile.Tile) -> shapely.Geometry:
    """A WGS 84 geometry in the tile's grid, clipped to the tile plus its 64-unit buffer."""

    def project(coords: Any) -> Any:
        return [tile_coordinates(lon, lat, tile) for lon, lat in coords]

    projected = shapely.transform(shape, project)
    return projected.intersection(shapely.box(-64, -64, EXTENT + 64, EXTENT + 64))


def decode(data: bytes) -> dict[str, Any]:
    """Decode MVT bytes with y pointing down, so coordinates match :func:`tile_coordinates`."""
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def feature_shapes(layer: dict[str, Any], **properties: Any) -> list[shapely.Geometry]:
    """Shapely geometries of the features whose properties match all of ``properties``."""
    return [
        shapely.geometry.shape(feature["geometry"])
        for feature in layer["features"]
        if all(feature["properties"].get(k) == v for k, v in properties.items())
    ]
