"""Reading tiles out of an exported PMTiles archive, for serving a layer without its database.

The archive is read with range reads (``os.pread``: header, one or two directories, the tile),
never loaded whole, so a national basemap of gigabytes costs the service a few file handles.
Directories are decoded once and kept (a bounded LRU): a tile then costs one read.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
from pathlib import Path
from typing import Any

from pmtiles.tile import (
    Compression,
    Entry,
    TileType,
    deserialize_directory,
    deserialize_header,
    find_tile,
    zxy_to_tileid,
)

from tiles.errors import TileError

#: PMTiles allows a root directory and up to three levels of leaves.
_MAX_DEPTH = 4


class ArchiveUnusable(TileError):
    """A configured archive is missing, not PMTiles v3, or not gzip-compressed vector tiles."""


class TileArchive:
    """One PMTiles v3 archive of vector tiles written by ``webmap tiles export``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise ArchiveUnusable(f"Cannot open the tile archive {path}: {exc.strerror}.") from exc
        try:
            self.header = deserialize_header(self._read(0, 127))
            self.metadata = self._metadata()
        except Exception as exc:
            self.close()
            raise ArchiveUnusable(f"{path} is not a PMTiles v3 archive ({exc!r}).") from exc
        if (
            self.header["internal_compression"] != Compression.GZIP
            or self.header["tile_type"] != TileType.MVT
            or self.header["tile_compression"] != Compression.GZIP
        ):
            self.close()
            raise ArchiveUnusable(f"{path} does not hold gzip-compressed vector tiles.")
        self._directory = functools.lru_cache(maxsize=256)(self._read_directory)
        self._identity = _identity(os.fstat(self._fd))

    def is_current(self) -> bool:
        """Whether ``path`` is still this file: an export replaces an archive by renaming a new
        file onto it, which the open descriptor does not follow."""
        try:
            return _identity(os.stat(self.path)) == self._identity
        except OSError:
            return True  # gone for now: keep serving what is open rather than fail

    @property
    def version(self) -> str:
        """The data version the archive was exported at (``?v=`` of its tile URLs)."""
        return str(self.metadata.get("webmap:version", ""))

    @property
    def public(self) -> bool:
        return bool(self.metadata.get("webmap:public", True))

    def _read(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def _metadata(self) -> dict[str, Any]:
        raw = self._read(self.header["metadata_offset"], self.header["metadata_length"])
        found = json.loads(gzip.decompress(raw))
        if not isinstance(found, dict):
            raise ValueError("metadata is not a JSON object")
        return found

    def _read_directory(self, offset: int, length: int) -> list[Entry]:
        # deserialize_directory gunzips itself: the pmtiles package only handles gzip there.
        return deserialize_directory(self._read(offset, length))

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """The stored (gzip-compressed) tile, or ``None`` when the archive has none there."""
        if not self.header["min_zoom"] <= z <= self.header["max_zoom"]:
            return None
        tile_id = zxy_to_tileid(z, x, y)
        offset, length = self.header["root_offset"], self.header["root_length"]
        for _ in range(_MAX_DEPTH):
            entry = find_tile(self._directory(offset, length), tile_id)
            if entry is None:
                return None
            if entry.run_length > 0:
                return self._read(self.header["tile_data_offset"] + entry.offset, entry.length)
            offset = self.header["leaf_directory_offset"] + entry.offset
            length = entry.length
        return None

    def close(self) -> None:
        """Close the file (idempotent); also done when the archive is garbage-collected."""
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        self.close()


def _identity(found: os.stat_result) -> tuple[int, int, int, int]:
    return (found.st_dev, found.st_ino, found.st_mtime_ns, found.st_size)
