"""What the tile, raster and widget resources share: which layer a request may see, and the
versioned tile URLs and TileJSON that point at it.

Kept apart from the blueprints (:mod:`webmap.api.tiles`, :mod:`webmap.api.rasters`,
:mod:`webmap.pages.widget`) so that no blueprint imports another; URLs are built with
``url_for`` by endpoint name.
"""

from __future__ import annotations

import time
from pathlib import Path

from flask import jsonify, url_for
from morecantile import Tile
from werkzeug.wrappers import Response

from layers.catalog import RASTER, LayerInfo
from layers.errors import LayerNotFound
from layers.raster import stored_path
from tiles.cache import CachedTile, TileKey
from tiles.matrix_sets import WEB_MERCATOR_GRID, TileGrid
from tiles.raster import describe as describe_raster
from tiles.raster import image_format, raster_tilejson, render_raster_tile
from tiles.tilesets import Tileset
from webmap.http import metrics
from webmap.http.auth import may_see
from webmap.http.caching import SHORT, layer_cache_control
from webmap.services import services
from webmap.settings import raster_storage


def tile_url_template(tileset: Tileset) -> str:
    """The absolute, versioned ``{z}/{x}/{y}`` URL of a vector tileset, as TileJSON gives it."""
    base = url_for("tiles.vector_tile", name=tileset.name, z=0, x=0, y=0, _external=True)
    return base.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt") + f"?v={tileset.version}"


def raster_layer(name: str, stale_ok: bool = False) -> LayerInfo:
    """The live raster layer ``name``; a private one only for staff (token or login), else it
    is not found at all, as for vector layers: its existence is not disclosed. ``stale_ok``:
    the last good catalog will do while the database is down (tiles need no database)."""
    layer = services().catalog.layers(stale_ok=stale_ok).get(name)
    if layer is None or layer.kind != RASTER or not may_see(layer.public, layer.municipality):
        raise LayerNotFound(f"There is no raster layer named {name!r}.")
    return layer


def raster_path(layer: LayerInfo) -> Path:
    """The stored COG of a raster layer's live version."""
    return stored_path(raster_storage(services().settings), layer.table_name)


def raster_tilejson_response(layer: LayerInfo, suffix: str, render: str | None) -> Response:
    """The TileJSON of a raster layer, pointing at versioned tile URLs.

    ``?render=`` and ``?format=png|webp`` on the TileJSON URL carry over into the tile URLs, so
    a map client configured with ``/tiles/dem.json?render=elevation`` gets the colour ramp.
    """
    path = raster_path(layer)
    image_format(suffix)
    query = f"?v={layer.version}"
    if render is not None:
        query += f"&render={describe_raster(path).rendering(render)}"
    base = url_for("raster.raster_tile", name=layer.name, z=0, x=0, y=0, fmt=suffix, _external=True)
    template = base.replace(f"/0/0/0.{suffix}", f"/{{z}}/{{x}}/{{y}}.{suffix}") + query
    response = jsonify(raster_tilejson(layer, path, template))
    response.headers["Cache-Control"] = layer_cache_control(layer.public, SHORT)
    return response


def render_raster_cached(
    layer: LayerInfo,
    tile: Tile,
    fmt: str,
    rendering: str,
    grid: TileGrid = WEB_MERCATOR_GRID,
) -> CachedTile:
    """A raster tile from the tile cache, or rendered and cached; the rendering, format and
    grid are part of the key (the XYZ route and OGC API – Tiles share it)."""
    suffix = "" if grid is WEB_MERCATOR_GRID else f"@{grid.id}"
    key = TileKey(
        f"raster:{layer.name}:{rendering}.{fmt}{suffix}", str(layer.version), tile.z, tile.x, tile.y
    )
    cache = services().tile_cache
    cached = cache.get(key)
    if cached is None:
        started = time.perf_counter()
        cached = CachedTile(
            render_raster_tile(layer, raster_path(layer), tile, fmt, rendering, grid)
        )
        metrics.add_timing("render", time.perf_counter() - started)
        cache.put(key, cached)
    return cached
