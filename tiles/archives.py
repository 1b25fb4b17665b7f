"""Writing exported tiles into archive files: PMTiles v3 and MBTiles 1.3.

Both writers fill a temporary file beside the target and move it into place only when the
export has finished, so a crashed or interrupted export never leaves a half archive under the
real name (a CDN sync or a running service could pick that up).

Tiles are stored as the service sends them, gzip-compressed MVT, and both formats say so:
PMTiles in its header (``tile_compression`` = gzip), MBTiles by convention (``format=pbf``
tiles are gzip-compressed, as every MBTiles reader expects).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

FORMATS = ("pmtiles", "mbtiles")


class _AtomicFile:
    """A temporary file in the target's folder, renamed onto the target by :meth:`commit`."""

    def __init__(self, target: Path) -> None:
        self.target = target
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(handle)
        self.path = Path(name)

    def commit(self) -> None:
        self.path.chmod(0o644)  # mkstemp makes it 0600; an archive is for publishing
        os.replace(self.path, self.target)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class PMTilesArchive:
    """A PMTiles v3 archive being written; tiles must arrive in tile id order (clustered).

    The pmtiles writer spools tile bytes to a temporary file and keeps only the index (and a
    hash per distinct tile, so repeated tiles such as open sea are stored once) in memory.
    """

    def __init__(self, target: Path, metadata: dict[str, Any]) -> None:
        self._file = _AtomicFile(target)
        self._metadata = metadata
        self._out: BinaryIO = self._file.path.open("wb")
        self._writer = Writer(self._out)  # type: ignore[no-untyped-call]

    def add(self, z: int, x: int, y: int, data: bytes) -> None:
        self._writer.write_tile(zxy_to_tileid(z, x, y), data)  # type: ignore[no-untyped-call]

    def __enter__(self) -> PMTilesArchive:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                header = _pmtiles_header(self._metadata)
                self._writer.finalize(header, self._metadata)  # type: ignore[no-untyped-call]
        finally:
            self._writer.tile_f.close()  # its spool file (finalize closes it, an error not)
            self._out.close()
            if kind is None:
                self._file.commit()
            else:
                self._file.discard()


def _e7(degrees: float) -> int:
    return round(degrees * 10_000_000)


def _pmtiles_header(metadata: dict[str, Any]) -> dict[str, Any]:
    """The header fields the writer does not work out itself (it adds offsets and counts)."""
    west, south, east, north = metadata["bounds"]
    lon, lat, zoom = metadata["center"]
    return {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_zoom": metadata["minzoom"],
        "max_zoom": metadata["maxzoom"],
        "min_lon_e7": _e7(west),
        "min_lat_e7": _e7(south),
        "max_lon_e7": _e7(east),
        "max_lat_e7": _e7(north),
        "center_zoom": zoom,
        "center_lon_e7": _e7(lon),
        "center_lat_e7": _e7(lat),
    }


class MBTilesArchive:
    """An MBTiles 1.3 archive being written (SQLite; rows are TMS, so y is flipped)."""

    #: Rows per transaction: few enough to keep memory flat, many enough to write quickly.
    BATCH = 500

    def __init__(self, target: Path, metadata: dict[str, Any]) -> None:
        self._file = _AtomicFile(target)
        self._db = sqlite3.connect(self._file.path)
        self._db.executescript(
            """
            CREATE TABLE metadata (name TEXT, value TEXT);
            CREATE UNIQUE INDEX name ON metadata (name);
            CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,
                                tile_data BLOB);
            CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);
            """
        )
        self._db.executemany("INSERT INTO metadata VALUES (?, ?)", _mbtiles_metadata(metadata))
        self._pending = 0

    def add(self, z: int, x: int, y: int, data: bytes) -> None:
        self._db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, (1 << z) - 1 - y, data))
        self._pending += 1
        if self._pending >= self.BATCH:
            self._db.commit()
            self._pending = 0

    def __enter__(self) -> MBTilesArchive:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                self._db.commit()
        finally:
            self._db.close()
            if kind is None:
                self._file.commit()
            else:
                self._file.discard()


def _mbtiles_metadata(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """The MBTiles 1.3 metadata rows: plain rows for the spec's keys, the rest in ``json``."""
    west, south, east, north = metadata["bounds"]
    lon, lat, zoom = metadata["center"]
    plain = {
        "name": metadata["name"],
        "format": "pbf",
        "bounds": f"{west},{south},{east},{north}",
        "center": f"{lon},{lat},{zoom}",
        "minzoom": str(metadata["minzoom"]),
        "maxzoom": str(metadata["maxzoom"]),
        "attribution": metadata["attribution"],
        "description": metadata["description"],
        "type": "baselayer" if metadata["webmap:tileset"] == "basemap" else "overlay",
        "version": str(metadata["webmap:version"]),
    }
    rest = {k: v for k, v in metadata.items() if k not in plain or k == "version"}
    return [*plain.items(), ("json", json.dumps(rest, ensure_ascii=False))]


def open_archive(fmt: str, target: Path, metadata: dict[str, Any]) -> Any:
    """The writer for ``fmt`` (one of :data:`FORMATS`), to be used as a context manager."""
    if fmt == "pmtiles":
        return PMTilesArchive(target, metadata)
    if fmt == "mbtiles":
        return MBTilesArchive(target, metadata)
    raise ValueError(f"unknown archive format {fmt!r}")
