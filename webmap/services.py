"""The domain collaborators one app uses, built once per app and shared by its blueprints."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask, current_app

from layers.catalog import CatalogCache
from layers.ingest import IngestLimits
from layers.publishing import Publishing
from layers.raster.inspect import RasterLimits
from tiles.cache import (
    LayeredTileCache,
    MemoryTileCache,
    NoTileCache,
    RedisTileCache,
    StoredTileCache,
    TileCache,
)
from tiles.mvt import TileOptions, TileRenderer
from tiles.prerender import enqueue
from webmap.db import get_pool
from webmap.db_routing import init_app as init_reads
from webmap.http.metrics import CountedTileCache
from webmap.settings import Settings, raster_storage

_KEY = "webmap.services"

Connect = Callable[[], AbstractContextManager[Any]]


@dataclass(frozen=True)
class Services:
    """Catalog snapshot, tile renderer, tile cache and publishing facade of one app."""

    settings: Settings
    catalog: CatalogCache
    renderer: TileRenderer
    tile_cache: TileCache
    publishing: Publishing


def _tile_cache(settings: Settings, connect: Connect) -> TileCache:
    """In-process LRU, then Redis when configured, then the pre-rendered low zooms in
    PostgreSQL; nothing at all when the size is 0 (benchmarks of the uncached path)."""
    if not settings.tile_cache_bytes:
        return NoTileCache()
    # Each level counts its own hits and misses (webmap_tile_cache_lookups{level=…}).
    memory = CountedTileCache(MemoryTileCache(settings.tile_cache_bytes), "memory")
    levels: list[TileCache] = []
    if settings.redis_url:
        import redis  # only needed when configured

        client = redis.Redis.from_url(settings.redis_url, socket_timeout=0.5)
        levels.append(CountedTileCache(RedisTileCache(client), "redis"))
    if settings.prerender:
        stored = StoredTileCache(connect, settings.prerender_max_zoom)
        levels.append(CountedTileCache(stored, "stored"))
    if not levels:
        return memory
    behind = levels[-1]
    for level in reversed(levels[:-1]):  # a hit further out fills every level in front of it
        behind = LayeredTileCache(level, behind)
    return LayeredTileCache(memory, behind)


def tile_options(settings: Settings) -> TileOptions:
    """The tile query's knobs; the pre-render worker uses the same, so its tiles are the same."""
    return TileOptions(
        buffer=settings.tile_buffer,
        max_features=settings.tile_max_features,
        max_bytes=settings.tile_max_bytes,
    )


def ingest_limits(settings: Settings) -> IngestLimits:
    """The configured limits on what one upload may unpack and hold."""
    return IngestLimits(
        max_unpacked_bytes=settings.max_unpacked_bytes,
        max_features=settings.max_features,
        max_vertices=settings.max_vertices,
        max_feature_vertices=settings.max_feature_vertices,
        ingest_max_seconds=settings.ingest_max_seconds,
        ingest_statement_timeout_ms=settings.ingest_statement_timeout_ms,
    )


def publishing_for(settings: Settings) -> Publishing:
    """The publishing facade with the configured folders, limits and versions kept."""
    return Publishing(
        raster_dir=raster_storage(settings),
        keep_versions=settings.keep_versions,
        limits=ingest_limits(settings),
        raster_limits=RasterLimits(max_pixels=settings.max_raster_pixels),
        workdir=Path(settings.upload_dir) if settings.upload_dir else None,
        on_change=_prerender_hook(settings),
    )


def _prerender_hook(settings: Settings) -> Callable[[psycopg.Connection[Any]], object] | None:
    """After every change of a layer: queue pre-render jobs for what went live (tiles.prerender)."""
    if not settings.prerender:
        return None
    return functools.partial(enqueue, max_zoom=settings.prerender_max_zoom)


def init_app(app: Flask, settings: Settings) -> None:
    """Build the services; connections are taken from the app's pool only when used."""

    def connect():  # type: ignore[no-untyped-def]
        return get_pool(app).connection()

    cache = _tile_cache(settings, connect)
    # The catalog is read on the primary (it says what is live); tile reads go through the
    # read router, to a replica that holds what the catalog says (webmap.db_routing).
    catalog = CatalogCache(connect, ttl=settings.catalog_ttl, track_wal=bool(settings.read_urls))
    reads = init_reads(app, settings, catalog.wal_position)
    app.extensions[_KEY] = Services(
        settings=settings,
        catalog=catalog,
        renderer=TileRenderer(reads.connection, tile_options(settings)),
        tile_cache=cache,
        publishing=publishing_for(settings),
    )


def services() -> Services:
    """The services of the current app."""
    return services_of(current_app)


def services_of(app: Flask) -> Services:
    """The services of ``app`` (outside Flask's request context: the tile fast path)."""
    found: Services = app.extensions[_KEY]
    return found
