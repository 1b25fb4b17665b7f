"""Reading tiles out of an exported PMTiles archive, for serving a layer without its database.

The archive is read with range reads (header, one or two directories, the tile; from a local
file or over HTTP, :mod:`tiles.range_sources`), never loaded whole, so a national basemap of
gigabytes costs the service a file handle.
Directories are decoded once and kept (a bounded LRU): a tile then costs one read.
"""

from __future__ import annotations

import functools
import gzip
import json
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

from tiles.range_sources import ArchiveUnusable, RangeSource

#: PMTiles allows a root directory and up to three levels of leaves.
_MAX_DEPTH = 4


class TileArchive:
    """One PMTiles v3 archive of vector tiles written by ``webmap tiles export``, on local disk
    or on a static host (:func:`tiles.range_sources.open_source`)."""

    def __init__(self, source: RangeSource) -> None:
        self.source = source
        where = source.location
        try:
            self.header = deserialize_header(source.read(0, 127))
            self.metadata = self._metadata()
        except ArchiveUnusable:
            source.close()
            raise
        except Exception as exc:
            source.close()
            raise ArchiveUnusable(f"{where} is not a PMTiles v3 archive ({exc!r}).") from exc
        if (
            self.header["internal_compression"] != Compression.GZIP
            or self.header["tile_type"] != TileType.MVT
            or self.header["tile_compression"] != Compression.GZIP
        ):
            source.close()
            raise ArchiveUnusable(f"{where} does not hold gzip-compressed vector tiles.")
        self._directory = functools.lru_cache(maxsize=256)(self._read_directory)

    def is_current(self) -> bool:
        """Whether the archive behind the location is still this one (not re-exported)."""
        return self.source.is_current()

    @property
    def version(self) -> str:
        """The data version the archive was exported at (``?v=`` of its tile URLs)."""
        return str(self.metadata.get("webmap:version", ""))

    @property
    def public(self) -> bool:
        return bool(self.metadata.get("webmap:public", True))

    def _read(self, offset: int, length: int) -> bytes:
        return self.source.read(offset, length)

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
        self.source.close()
