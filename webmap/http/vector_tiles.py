"""Rendering a vector tile through the tile cache, with the timings devtools show.

Shared by the XYZ tile route (:mod:`webmap.api.tiles`) and OGC API – Tiles
(:mod:`webmap.api.ogc_tiles`), which address tiles differently but cache and time them alike.
"""

from __future__ import annotations

import time

from flask import request
from morecantile import Tile

from tiles.cache import CachedTile, TileKey
from tiles.matrix_sets import WEB_MERCATOR_GRID, TileGrid
from tiles.tilesets import Tileset
from webmap.http import metrics
from webmap.services import Services, services


def wants_gzip() -> bool:
    """Whether the client accepts a gzip-encoded tile."""
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def cache_name(tileset: Tileset, grid: TileGrid) -> str:
    """The tile cache's name for ``tileset`` cut in ``grid`` (Web Mercator keeps the bare name,
    so pre-rendered and already cached tiles stay where they are)."""
    return tileset.name if grid is WEB_MERCATOR_GRID else f"{tileset.name}@{grid.id}"


def render_cached(
    tileset: Tileset,
    key: TileKey,
    compressed: bool,
    grid: TileGrid = WEB_MERCATOR_GRID,
    found: Services | None = None,
) -> CachedTile:
    """The tile at ``key`` from the cache, or rendered (and gzipped when asked) and cached.

    ``found``: the app's services when called outside Flask's app context (the tile fast path).
    Server-Timing: "render" is the time outside the database (the SQL, ``ST_AsMVT`` included,
    is "db"), and the gzip.
    """
    chosen = found or services()
    cache = chosen.tile_cache
    cached = cache.get(key)
    if cached is None:
        started, in_db = time.perf_counter(), metrics.timing("db") + metrics.timing("pool")
        tile = Tile(key.x, key.y, key.z)
        cached = CachedTile(chosen.renderer.render(tileset, tile, grid))
        if compressed and cached.body:
            cached = cached.with_gzip()
        in_db = metrics.timing("db") + metrics.timing("pool") - in_db
        metrics.add_timing("render", time.perf_counter() - started - in_db)
        cache.put(key, cached)
    elif compressed and cached.body and cached.gzipped is None:
        started = time.perf_counter()
        cached = cached.with_gzip()
        metrics.add_timing("render", time.perf_counter() - started)
        cache.put(key, cached)
    return cached
