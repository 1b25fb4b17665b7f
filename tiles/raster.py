"""Raster tiles: PNG or WebP images of a layer's COG on the WebMercatorQuad grid (rio-tiler).

rio-tiler reads just the overview level and blocks a tile needs and warps them from the COG's own
CRS. Resampling follows the data: bilinear for measurements (elevation) and colour images,
nearest for class codes, which must never be blended into classes that do not exist. Nodata
becomes transparent (alpha). An elevation model is drawn as a hillshade (the default: relief
reads at every zoom without knowing the value range) or a colour ramp (``render=elevation``).

Tiles outside the raster, or outside the layer's zoom range, are fully transparent 256 px images
(200, not 404 or 204): map clients draw them without logging errors, exactly like the empty
vector tile, and the URL stays valid if the layer's extent changes in a later version.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from morecantile import Tile
from rasterio.errors import RasterioIOError
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.utils import render

from layers.catalog import LayerInfo
from layers.raster import TAG_KIND, TAG_MAX, TAG_MIN
from tiles.errors import TileError
from tiles.grid import WEB_MERCATOR_QUAD
from tiles.matrix_sets import WEB_MERCATOR_GRID, TileGrid
from tiles.relief import colour_ramp, exaggeration, hillshade
from tiles.tilejson import attribution_html

TILE_SIZE = 256
#: URL suffix → GDAL driver and media type.
FORMATS: dict[str, tuple[str, str]] = {"png": ("PNG", "image/png"), "webp": ("WEBP", "image/webp")}
#: What ``?render=`` may ask for, per kind of raster; the first is the default.
RENDERINGS: dict[str, tuple[str, ...]] = {
    "continuous": ("hillshade", "elevation"),
    "categorical": ("classes",),
    "rgb": ("image",),
}


class InvalidRasterRequest(TileError):
    """A raster tile asked for in a format or rendering this layer does not offer."""


class RasterUnavailable(TileError):
    """The stored COG of a live version cannot be read (missing file, wrong WEBMAP_RASTER_DIR)."""


@dataclass(frozen=True)
class RasterDescription:
    """How to draw one stored COG; read once from the file's tags (files never change)."""

    kind: str
    value_range: tuple[float, float] | None
    minzoom: int
    maxzoom: int
    colormap: dict[int, tuple[int, int, int, int]] | None

    @property
    def resampling(self) -> str:
        return "nearest" if self.kind == "categorical" else "bilinear"

    def rendering(self, asked: str | None) -> str:
        """The rendering to use: ``asked`` when this raster offers it, else the default."""
        offered = RENDERINGS[self.kind]
        if asked is None or asked == "":
            return offered[0]
        if asked not in offered:
            raise InvalidRasterRequest(
                f"render={asked[:30]!r} is not offered for this layer; choose one of "
                f"{', '.join(offered)}."
            )
        return asked


def describe(path: Path) -> RasterDescription:
    """The drawing description of a stored COG; :class:`RasterUnavailable` when unreadable."""
    try:
        return _describe(path)
    except RasterioIOError as exc:
        raise RasterUnavailable(
            f"The stored raster {path.name!r} cannot be read on this server; "
            "check WEBMAP_RASTER_DIR."
        ) from exc


@functools.lru_cache(maxsize=256)
def _describe(path: Path) -> RasterDescription:
    # Cached forever: stored files are immutable and never reuse a name.
    with Reader(str(path)) as reader:
        tags = reader.dataset.tags()
        kind = tags.get(TAG_KIND, "continuous")
        value_range = None
        if TAG_MIN in tags and TAG_MAX in tags:
            value_range = (float(tags[TAG_MIN]), float(tags[TAG_MAX]))
        colormap = reader.colormap if kind == "categorical" else None
        return RasterDescription(
            kind=kind if kind in RENDERINGS else "continuous",
            value_range=value_range,
            minzoom=int(reader.minzoom),
            maxzoom=int(reader.maxzoom),
            colormap=dict(colormap) if colormap else None,
        )


def image_format(suffix: str) -> tuple[str, str]:
    """GDAL driver and media type for a URL suffix."""
    found = FORMATS.get(suffix)
    if found is None:
        raise InvalidRasterRequest(f"Raster tiles are served as {', '.join(FORMATS)}.")
    return found


@functools.lru_cache(maxsize=4)
def transparent_tile(suffix: str) -> bytes:
    """A fully transparent 256 px image (the answer outside the raster or its zoom range)."""
    driver, _ = image_format(suffix)
    empty = np.zeros((3, TILE_SIZE, TILE_SIZE), dtype="uint8")
    return _encode(empty, np.zeros((TILE_SIZE, TILE_SIZE), dtype="uint8"), driver, lossless=True)


def render_raster_tile(
    layer: LayerInfo,
    path: Path,
    tile: Tile,
    suffix: str,
    rendering: str,
    grid: TileGrid = WEB_MERCATOR_GRID,
) -> bytes:
    """One tile of ``layer`` (stored at ``path``) drawn as ``rendering``, encoded as ``suffix``.

    ``tile`` is addressed in ``grid`` (Web Mercator unless told); rio-tiler warps the COG into
    the grid's CRS, and the layer's zoom range is compared with the grid's equivalent zoom.
    """
    driver, _ = image_format(suffix)
    description = describe(path)
    if not layer.minzoom <= grid.data_zoom(tile.z) <= layer.maxzoom:
        return transparent_tile(suffix)
    buffer = 1 if rendering == "hillshade" else None
    options: dict[str, Any] = {
        "resampling_method": description.resampling,
        "reproject_method": description.resampling,
    }
    try:
        with Reader(str(path), tms=grid.tms) as reader:
            indexes = (1, 2, 3) if description.kind == "rgb" else (1,)
            image = reader.tile(tile.x, tile.y, tile.z, indexes=indexes, buffer=buffer, **options)
    except TileOutsideBounds:
        return transparent_tile(suffix)
    except RasterioIOError as exc:  # deleted between describe() and this read
        raise RasterUnavailable(f"The stored raster {path.name!r} cannot be read.") from exc
    valid = ~np.logical_or.reduce(np.ma.getmaskarray(image.array), axis=0)
    if not valid.any():
        return transparent_tile(suffix)
    rgb, alpha = _draw(description, rendering, image.array, valid, tile, grid)
    return _encode(rgb, alpha, driver, lossless=description.kind == "categorical")


def _draw(
    description: RasterDescription,
    rendering: str,
    array: np.ma.MaskedArray[Any, Any],
    valid: np.ndarray[Any, Any],
    tile: Tile,
    grid: TileGrid,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    data = np.ma.getdata(array)
    alpha = np.where(valid, 255, 0).astype("uint8")
    if rendering == "hillshade":
        cell = _cell_size(tile) if grid.srid == 3857 else float(grid.tms.matrix(tile.z).cellSize)
        grey, alpha = hillshade(data[0], valid, cell, exaggeration(grid.data_zoom(tile.z)))
        return np.stack([grey, grey, grey]), alpha
    if rendering == "elevation":
        low, high = description.value_range or (
            float(data[0][valid].min()),
            float(data[0][valid].max()),
        )
        return colour_ramp(data[0], valid, low, high)
    if rendering == "classes" and description.colormap:
        return _classes(data[0], valid, description.colormap)
    return data.astype("uint8"), alpha


def _classes(
    codes: np.ndarray[Any, Any],
    valid: np.ndarray[Any, Any],
    colormap: dict[int, tuple[int, int, int, int]],
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Class codes through the file's own colour table; codes without a colour are transparent."""
    table = np.zeros((max(256, int(codes.max()) + 1), 4), dtype="uint8")
    for code, colour in colormap.items():
        if 0 <= code < table.shape[0]:
            table[code] = colour
    rgba = table[np.clip(codes, 0, table.shape[0] - 1).astype("int64")]
    alpha = np.where(valid, rgba[..., 3], 0).astype("uint8")
    return np.moveaxis(rgba[..., :3], -1, 0), alpha


def _cell_size(tile: Tile) -> float:
    """Ground size of one pixel in metres at the tile's centre latitude (Mercator stretches)."""
    bounds = WEB_MERCATOR_QUAD.xy_bounds(tile)
    latitude = WEB_MERCATOR_QUAD.bounds(tile)
    centre = math.radians((latitude.bottom + latitude.top) / 2)
    return float((bounds.right - bounds.left) / TILE_SIZE * math.cos(centre))


def _encode(
    rgb: np.ndarray[Any, Any], alpha: np.ndarray[Any, Any], driver: str, lossless: bool
) -> bytes:
    options: dict[str, Any] = {}
    if driver == "WEBP":
        # Lossy WebP is a quarter the size of PNG for shaded relief; class colours stay exact.
        options = {"lossless": True} if lossless else {"quality": 90}
    return bytes(render(rgb, alpha, img_format=driver, **options))


def raster_tilejson(layer: LayerInfo, path: Path, tile_url: str) -> dict[str, Any]:
    """TileJSON 3.0.0 of a raster layer; ``tile_url`` is the absolute, versioned image URL.

    ``maxzoom`` is the COG's native zoom (clients enlarge the deepest tile themselves rather
    than fetch ever more tiles of the same pixels); tiles beyond it are still served.
    """
    description = describe(path)
    west, south, east, north = layer.bounds or (-180.0, -85.0511287798066, 180.0, 85.0511287798066)
    maxzoom = max(layer.minzoom, min(layer.maxzoom, description.maxzoom))
    return {
        "tilejson": "3.0.0",
        "name": layer.title,
        "description": layer.description,
        "version": "1.0.0",
        "attribution": attribution_html(layer.attribution),
        "scheme": "xyz",
        "tiles": [tile_url],
        "minzoom": layer.minzoom,
        "maxzoom": maxzoom,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, min(max(layer.minzoom, 8), maxzoom)],
        "renderings": list(RENDERINGS[description.kind]),
    }
