"""Tile caches behind one small interface: an in-process LRU, Redis for several processes, and
the pre-rendered low zooms in PostgreSQL (:class:`StoredTileCache`) behind both.

Keys carry the tileset's data version, so a cached tile never needs invalidating: a new version
simply asks for different keys, and the old ones age out.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from redis.exceptions import RedisError


@dataclass(frozen=True)
class TileKey:
    """Identifies one immutable tile."""

    tileset: str
    version: str
    z: int
    x: int
    y: int


@dataclass(frozen=True)
class CachedTile:
    """A rendered tile, and its gzip form once a client has asked for it.

    Compression is done on first demand, not at render time: a client that does not accept gzip
    (or a benchmark) should not pay for it, and one that does pays once per cached tile.
    """

    body: bytes
    gzipped: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")

    def with_gzip(self) -> CachedTile:
        """This tile with its gzip form filled in (mtime 0, so the bytes are reproducible)."""
        if self.gzipped is not None:
            return self
        return CachedTile(self.body, gzip.compress(self.body, 6, mtime=0))


class TileCache(Protocol):
    """What the HTTP layer needs from a cache."""

    def get(self, key: TileKey) -> CachedTile | None: ...

    def put(self, key: TileKey, tile: CachedTile) -> None: ...


class NoTileCache:
    """A cache that keeps nothing (benchmarks of the uncached path, ``tile_cache_bytes=0``)."""

    def get(self, key: TileKey) -> CachedTile | None:
        return None

    def put(self, key: TileKey, tile: CachedTile) -> None:
        return None


class MemoryTileCache:
    """A thread-safe LRU bounded by total bytes, not entries: tiles vary from 0 to 500 KB."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._entries: OrderedDict[TileKey, CachedTile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: TileKey) -> CachedTile | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: TileKey, tile: CachedTile) -> None:
        if tile.size > self._max_bytes:
            return
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= previous.size
            self._entries[key] = tile
            self._bytes += tile.size
            while self._bytes > self._max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.size

    @property
    def size_bytes(self) -> int:
        """Bytes currently held."""
        return self._bytes


class RedisTileCache:
    """A tile cache in Redis, shared by every worker process and every app server.

    Entries expire after ``ttl`` seconds rather than being evicted by us: Redis's own memory
    policy handles pressure, and versioned keys never need invalidating. Failures of Redis are
    not failures of the map: a read error is a miss and a write error is ignored.
    """

    def __init__(self, client: Any, ttl: int = 7 * 24 * 3600, prefix: str = "webmap:tile:") -> None:
        self._client = client
        self._ttl = ttl
        self._prefix = prefix

    def _key(self, key: TileKey, part: str) -> str:
        return f"{self._prefix}{key.tileset}:{key.version}:{key.z}:{key.x}:{key.y}:{part}"

    def get(self, key: TileKey) -> CachedTile | None:
        try:
            body, gzipped = self._client.mget([self._key(key, "raw"), self._key(key, "gz")])
        except (RedisError, OSError):  # Redis trouble is a cache miss, not an outage
            return None
        if body is None:
            return None
        return CachedTile(bytes(body), bytes(gzipped) if gzipped is not None else None)

    def put(self, key: TileKey, tile: CachedTile) -> None:
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.set(self._key(key, "raw"), tile.body, ex=self._ttl)
            if tile.gzipped is not None:
                pipe.set(self._key(key, "gz"), tile.gzipped, ex=self._ttl)
            pipe.execute()
        except (RedisError, OSError):  # a cache that cannot store just does not store
            return None


class LayeredTileCache:
    """A fast in-process cache in front of a shared one; hits in the second fill the first."""

    def __init__(self, near: TileCache, far: TileCache) -> None:
        self._near = near
        self._far = far

    def get(self, key: TileKey) -> CachedTile | None:
        found = self._near.get(key)
        if found is None:
            found = self._far.get(key)
            if found is not None:
                self._near.put(key, found)
        return found

    def put(self, key: TileKey, tile: CachedTile) -> None:
        self._near.put(key, tile)
        self._far.put(key, tile)


class StoredTileCache:
    """Pre-rendered tiles in PostgreSQL (``webmap.prerendered_tiles``, :mod:`tiles.prerender`).

    Read-only here: only the pre-render worker writes, and only zooms up to ``max_zoom`` are
    looked up (deeper tiles are never stored, so asking would be a wasted round trip). Every
    node reads the same table, and it outlives restarts and a flushed Redis. A database error
    is a miss: rendering would need the database anyway, and answers 503 on its own terms.
    """

    def __init__(self, connect: Callable[[], AbstractContextManager[Any]], max_zoom: int) -> None:
        self._connect = connect
        self._max_zoom = max_zoom

    def get(self, key: TileKey) -> CachedTile | None:
        if key.z > self._max_zoom:
            return None
        try:
            with self._connect() as conn:
                row = conn.execute(
                    "SELECT body, gzipped FROM webmap.prerendered_tiles "
                    "WHERE tileset = %s AND version = %s AND z = %s AND x = %s AND y = %s",
                    [key.tileset, key.version, key.z, key.x, key.y],
                ).fetchone()
        except psycopg.Error:
            return None
        if row is None:
            return None
        return CachedTile(bytes(row[0]), bytes(row[1]) if row[1] is not None else None)

    def put(self, key: TileKey, tile: CachedTile) -> None:
        return None  # the worker writes, in its own transaction (tiles.prerender_worker)
