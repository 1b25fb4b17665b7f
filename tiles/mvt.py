"""Vector tiles from PostGIS: the ``ST_AsMVT`` query, built from small pieces, and its renderer.

One statement per tile: every active source becomes ``ST_AsMVT`` over features whose stored
EPSG:3857 geometry meets the buffered tile envelope (the GiST index answers that), read from the
overview column that suits the zoom, and the per-layer MVT blobs are concatenated (MVT layers
concatenate as protobuf messages do).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from morecantile import Tile
from psycopg import sql

from layers.schema import DATA_SCHEMA
from layers.store import STORAGE_SRID, overview_sql
from tiles.grid import tile_envelope
from tiles.tilesets import Tileset, TileSource

EXTENT = 4096


@dataclass(frozen=True)
class TileOptions:
    """Knobs of the tile query; defaults suit a phone on a mobile network."""

    extent: int = EXTENT
    buffer: int = 64
    max_features: int = 20_000


_ENVELOPE = sql.SQL("ST_MakeEnvelope(%(left)s, %(bottom)s, %(right)s, %(top)s, {})").format(
    sql.Literal(STORAGE_SRID)
)
_SEARCH = sql.SQL(
    "ST_MakeEnvelope(%(search_left)s, %(search_bottom)s, %(search_right)s, %(search_top)s, {})"
).format(sql.Literal(STORAGE_SRID))


def _source_sql(source: TileSource, zoom: int, options: TileOptions) -> sql.Composed:
    """``ST_AsMVT`` of one source; the envelopes are the named parameters of :func:`tile_query`.

    The search box is a plain expression of parameters in each subquery (no shared CTE), so the
    filter is an index condition on the table itself rather than a join the planner may turn
    into a sequential scan.
    """
    geometry = overview_sql(zoom, "t")
    attributes = sql.SQL("").join(
        sql.SQL(", t.{}").format(sql.Identifier(name)) for name in source.attributes
    )
    return sql.SQL(
        """
        (SELECT coalesce(ST_AsMVT(q, {name}, {extent}, 'geom'), ''::bytea) FROM (
            SELECT ST_AsMVTGeom({geometry}, {envelope}, {extent}, {buffer}, true) AS geom
                   {attributes}
            FROM {table} AS t
            WHERE t.geom && {search}
            LIMIT {limit}
        ) AS q WHERE q.geom IS NOT NULL)
        """
    ).format(
        name=sql.Literal(source.name),
        envelope=_ENVELOPE,
        search=_SEARCH,
        extent=sql.Literal(options.extent),
        geometry=geometry,
        buffer=sql.Literal(options.buffer),
        attributes=attributes,
        table=sql.Identifier(DATA_SCHEMA, source.layer.table_name),
        limit=sql.Literal(options.max_features),
    )


@functools.lru_cache(maxsize=512)
def _statement(sources: tuple[TileSource, ...], zoom: int, options: TileOptions) -> bytes:
    """The tile statement as bytes, composed once per (sources, zoom, options).

    Composing with ``psycopg.sql`` costs about half a millisecond, as much as a small tile's
    query; the text only changes with the layers' versions and the zoom, so it is memoised.
    """
    parts = sql.SQL(" || ").join(_source_sql(s, zoom, options) for s in sources)
    return sql.SQL("SELECT {}").format(parts).as_bytes(None)


def tile_query(
    sources: Sequence[TileSource], tile: Tile, options: TileOptions
) -> tuple[bytes, dict[str, float]]:
    """The statement and its bound parameters for ``tile`` made of ``sources`` (non-empty)."""
    left, bottom, right, top = tile_envelope(tile)
    margin = (right - left) * options.buffer / options.extent
    query = _statement(tuple(sources), tile.z, options)
    params = {
        "left": left,
        "bottom": bottom,
        "right": right,
        "top": top,
        "search_left": left - margin,
        "search_bottom": bottom - margin,
        "search_right": right + margin,
        "search_top": top + margin,
    }
    return query, params


Connect = Callable[[], AbstractContextManager[Any]]


class TileRenderer:
    """Renders MVT bytes for a tileset; connections come from ``connect`` (a pool's)."""

    def __init__(self, connect: Connect, options: TileOptions | None = None) -> None:
        self._connect = connect
        self.options = options or TileOptions()

    def render(self, tileset: Tileset, tile: Tile) -> bytes:
        """The tile's MVT bytes; empty when no source of the tileset is active at this zoom."""
        sources = tileset.sources_at(tile.z)
        if not sources:
            return b""
        query, params = tile_query(sources, tile, self.options)
        with self._connect() as conn:
            row = conn.execute(query, params).fetchone()
        return bytes(row[0]) if row and row[0] is not None else b""
