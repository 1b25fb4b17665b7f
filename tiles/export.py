"""Exporting a tileset's tiles for static hosts, CDNs and offline use (PMTiles, MBTiles).

An exported tile is exactly what the live service sends a client that accepts gzip: the same
renderer with the same options, and the same reproducible gzip (:meth:`CachedTile.with_gzip`),
so an archive and the service can stand in for each other byte for byte. Empty tiles (no
feature there) are left out: every reader treats a missing tile as empty, as the service does.

Tiles are visited zoom by zoom in PMTiles' Hilbert order (:func:`tiles_in_order`), which lets
the PMTiles writer lay the data out clustered, and are handed one at a time to a sink that
writes them to disk: memory holds one tile and the archive's index, never the tiles' bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from morecantile import Tile
from pmtiles.tile import zxy_to_tileid

from tiles.cache import CachedTile
from tiles.errors import TileError
from tiles.grid import MAX_ZOOM, WEB_MERCATOR_QUAD
from tiles.mvt import TileRenderer
from tiles.tilejson import tilejson
from tiles.tilesets import Tileset

#: Web Mercator stops short of the poles; a bbox is clamped to it.
MAX_LATITUDE = 85.0511287798066
#: The exported tiles' encoding, as the service sends them to clients that accept it.
TILE_ENCODING = "gzip"

Bbox = tuple[float, float, float, float]


class ExportError(TileError):
    """An export asked for something that cannot be exported (bad zooms or bbox, no tiles)."""


class TileSink(Protocol):
    """Where exported tiles go (an archive being written)."""

    def add(self, z: int, x: int, y: int, data: bytes) -> None: ...


@dataclass(frozen=True)
class ExportPlan:
    """What one export covers: the tileset, its zooms and a WGS 84 bbox (west, south, east,
    north) already checked and clamped to Web Mercator."""

    tileset: Tileset
    minzoom: int
    maxzoom: int
    bbox: Bbox

    def tile_ranges(self) -> Iterator[tuple[int, int, int, int, int]]:
        """Per zoom: ``(z, min x, max x, min y, max y)`` of the tiles meeting the bbox."""
        west, south, east, north = self.bbox
        for z in range(self.minzoom, self.maxzoom + 1):
            # A bbox edge on a tile edge does not pull in the neighbour (morecantile's epsilon).
            top_left = WEB_MERCATOR_QUAD.tile(west + 1e-9, north - 1e-9, z)
            bottom_right = WEB_MERCATOR_QUAD.tile(east - 1e-9, south + 1e-9, z)
            yield z, top_left.x, bottom_right.x, top_left.y, bottom_right.y

    def tile_count(self) -> int:
        """How many tile addresses the export visits (before empty ones are left out)."""
        return sum((x1 - x0 + 1) * (y1 - y0 + 1) for _, x0, x1, y0, y1 in self.tile_ranges())

    def metadata(self, max_tile_bytes: int | None) -> dict[str, Any]:
        """The TileJSON fields of the exported part, and the tileset's data version.

        ``tiles`` is left out (an archive has no URL of its own; the service that serves it
        adds its own). ``webmap:version`` is the version the live URLs carry in ``?v=``;
        ``webmap:layers`` the catalog version of each layer inside.
        """
        document = tilejson(self.tileset, "", max_tile_bytes)
        del document["tiles"]
        west, south, east, north = self.bbox
        document.update(
            minzoom=self.minzoom,
            maxzoom=self.maxzoom,
            bounds=[west, south, east, north],
            center=[(west + east) / 2, (south + north) / 2, self.minzoom],
        )
        document["webmap:tileset"] = self.tileset.name
        document["webmap:version"] = self.tileset.version
        document["webmap:public"] = self.tileset.public
        document["webmap:layers"] = {s.layer.name: s.layer.version for s in self.tileset.sources}
        document["webmap:tile_encoding"] = TILE_ENCODING
        return document


def plan_export(
    tileset: Tileset, minzoom: int | None, maxzoom: int | None, bbox: Bbox | None
) -> ExportPlan:
    """An :class:`ExportPlan`, defaults from the tileset (its zooms up to z16, its bounds);
    raises :class:`ExportError` with words a person can act on."""
    low = tileset.minzoom if minzoom is None else minzoom
    high = min(tileset.maxzoom, 16) if maxzoom is None else maxzoom
    for label, zoom in (("--minzoom", low), ("--maxzoom", high)):
        if not 0 <= zoom <= MAX_ZOOM:
            raise ExportError(f"{label} must be between 0 and {MAX_ZOOM}, got {zoom}.")
    if low > high:
        raise ExportError(f"--minzoom ({low}) is above --maxzoom ({high}).")
    return ExportPlan(tileset, low, high, check_bbox(bbox or tileset.bounds))


def parse_bbox(text: str) -> Bbox:
    """``west,south,east,north`` in WGS 84 degrees, as typed on a command line."""
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ExportError(f"--bbox must be west,south,east,north in degrees, got {text[:60]!r}.")
    return check_bbox((values[0], values[1], values[2], values[3]))


def check_bbox(bbox: Bbox) -> Bbox:
    """``bbox`` checked (west < east, south < north, on the globe) and clamped to Web Mercator."""
    west, south, east, north = bbox
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ExportError(
            "--bbox must be west,south,east,north with -180 <= west < east <= 180 and "
            f"-90 <= south < north <= 90; got {west},{south},{east},{north}."
        )
    south, north = max(south, -MAX_LATITUDE), min(north, MAX_LATITUDE)
    if south >= north:
        raise ExportError("--bbox lies entirely beyond Web Mercator's latitudes (±85.05°).")
    return (west, south, east, north)


def tiles_in_order(z: int, x0: int, x1: int, y0: int, y1: int) -> Iterator[tuple[int, int, int]]:
    """``(tile id, x, y)`` of the tiles of zoom ``z`` in ``[x0, x1] × [y0, y1]``, by tile id.

    PMTiles numbers the tiles of a zoom along a Hilbert curve, which passes through every
    aligned square of tiles in one go. So the quadtree is walked from the whole world down,
    the (up to four) child squares meeting the range taken in the order the curve reaches
    them: the output is sorted without holding the tiles in a list to sort.
    """

    def visit(level: int, qx: int, qy: int) -> Iterator[tuple[int, int, int]]:
        shift = z - level  # a square of level `level` spans 2**shift tiles of zoom z
        if shift == 0:
            yield zxy_to_tileid(z, qx, qy), qx, qy
            return
        children = []
        for cx in (2 * qx, 2 * qx + 1):
            for cy in (2 * qy, 2 * qy + 1):
                size = 1 << (shift - 1)
                left, top = cx * size, cy * size
                if left <= x1 and left + size > x0 and top <= y1 and top + size > y0:
                    children.append((zxy_to_tileid(z, left, top), cx, cy))
        for _, cx, cy in sorted(children):
            yield from visit(level + 1, cx, cy)

    yield from visit(0, 0, 0)


Progress = Callable[[int], None]


def export_tiles(
    plan: ExportPlan, renderer: TileRenderer, sink: TileSink, progress: Progress | None = None
) -> int:
    """Render every tile of ``plan`` and hand the non-empty ones to ``sink``, in tile id order.

    ``progress(n)`` is told after every ``n`` tile addresses visited. Returns how many tiles
    were written; raises :class:`ExportError` when there were none (an archive with no tile
    helps nobody and PMTiles cannot describe it).
    """
    written = 0
    for z, x0, x1, y0, y1 in plan.tile_ranges():
        for _, x, y in tiles_in_order(z, x0, x1, y0, y1):
            body = renderer.render(plan.tileset, Tile(x, y, z))
            if body:
                gzipped = CachedTile(body).with_gzip().gzipped
                assert gzipped is not None  # with_gzip fills it in
                sink.add(z, x, y, gzipped)
                written += 1
            if progress is not None:
                progress(1)
    if not written:
        raise ExportError(
            f"{plan.tileset.name} has no features in {plan.bbox} at zooms "
            f"{plan.minzoom}-{plan.maxzoom}: nothing to export."
        )
    return written
