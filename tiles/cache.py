"""Tile caches behind one small interface: an in-process LRU now, Redis for several processes.

Keys carry the tileset's data version, so a cached tile never needs invalidating: a new version
simply asks for different keys, and the old ones age out.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol


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
