"""Vector tiles from PostGIS: the ``ST_AsMVT`` query, built from small pieces, and its renderer.

One statement per tile (more only for a tile over budget, below): every active source becomes
``ST_AsMVT`` over features whose stored EPSG:3857 geometry meets the buffered tile envelope (the
GiST index answers that), read from the overview column that suits the zoom, and the per-layer
MVT blobs are concatenated (MVT layers concatenate as protobuf messages do).

A tile is a deterministic function of the layers' versions and (z, x, y): every limit works on a
total order, and ``ST_AsMVT`` reads its rows in that order. The drop rule, when a layer is too
dense for a zoom:

1. Features smaller than half a pixel at the zoom (an EMPTY overview cell, see
   :func:`layers.store.overview_sql`) and features with nothing left inside the buffered tile
   are never drawn; they are discarded before any allowance is counted.
2. The rest are ranked largest first (:data:`SIZE_SQL`: square root of the area for polygons,
   length for lines); points rank by a grid of :data:`POINT_GRID_CELLS` x ``POINT_GRID_CELLS``
   cells over the tile, one point per cell (lowest feature id) before a second one anywhere;
   ties go to the lower feature id.
3. Each source keeps at most ``max_features`` of that ranking; if the encoded tile is still over
   ``max_bytes`` it is rendered again keeping a smaller share of every source until it fits.

Ranking costs a little, so :class:`TileRenderer` first renders every visible feature in feature
id order and ranks only a tile that is over either budget.
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
from tiles.lean_sql import fetch_row
from tiles.matrix_sets import WEB_MERCATOR_GRID, TileGrid
from tiles.tilesets import Tileset, TileSource

EXTENT = 4096
#: Default byte budget of one tile (all its layers together): 500 KiB.
MAX_TILE_BYTES = 500 * 1024
#: Points are thinned on a grid of this many cells across a tile (16 pixels of a 256-pixel tile).
POINT_GRID_CELLS = 16


@dataclass(frozen=True)
class TileOptions:
    """Knobs of the tile query; defaults suit a phone on a mobile network.

    ``max_features`` caps each source layer of a tile, ``max_bytes`` the whole encoded tile;
    :class:`TileRenderer` drops features by :data:`the drop rule <tiles.mvt>` to honour both.
    """

    extent: int = EXTENT
    buffer: int = 64
    max_features: int = 20_000
    max_bytes: int = MAX_TILE_BYTES


def _envelope(srid: int) -> sql.Composable:
    """The tile's envelope in the grid's CRS, from the statement's parameters."""
    return sql.SQL("ST_MakeEnvelope(%(left)s, %(bottom)s, %(right)s, %(top)s, {})").format(
        sql.Literal(srid)
    )


def _in_grid(geometry: sql.Composable, srid: int) -> sql.Composable:
    """``geometry`` (stored, EPSG:3857) in the tile grid's CRS."""
    if srid == STORAGE_SRID:
        return geometry
    return sql.SQL("ST_Transform({}, {})").format(geometry, sql.Literal(srid))


_SEARCH = sql.SQL(
    "ST_MakeEnvelope(%(search_left)s, %(search_bottom)s, %(search_right)s, %(search_top)s, {})"
).format(sql.Literal(STORAGE_SRID))

#: A feature's size in metres of EPSG:3857, measured on the geometry drawn at the tile's zoom:
#: the square root of the area for polygons, the length for lines, 0 for points.
SIZE_SQL = {
    "Polygon": "sqrt(ST_Area({g}))",
    "LineString": "ST_Length({g})",
    "Point": "0",
    None: "CASE ST_Dimension({g}) WHEN 2 THEN sqrt(ST_Area({g})) WHEN 1 THEN ST_Length({g})"
    " ELSE 0 END",
}
#: A point's rank in its grid cell (1 for the lowest feature id in the cell, 2 for the next…).
_CELL_RANK = (
    "row_number() OVER (PARTITION BY floor((ST_X({p}) - %(left)s) / %(cell)s),"
    " floor((ST_Y({p}) - %(bottom)s) / %(cell)s) ORDER BY t.fid)"
)


def _limit_parameter(index: int) -> str:
    return f"limit_{index}"


def _ranking(
    source: TileSource, geometry: sql.Composable, srid: int
) -> tuple[sql.Composable, sql.Composable]:
    """The extra columns and the ORDER BY of the drop rule (see the module's docstring)."""
    kind = source.layer.geometry_type
    size = sql.SQL(SIZE_SQL.get(kind, SIZE_SQL[None])).format(g=geometry)
    if kind == "Point":
        cell_rank = sql.SQL(_CELL_RANK).format(p=_in_grid(sql.SQL("t.geom"), srid))
        columns = sql.SQL(', {} AS "~cell"').format(cell_rank)
        order = sql.SQL('c."~cell", c."~fid"')
    else:
        columns = sql.SQL(', {} AS "~size"').format(size)
        order = sql.SQL('c."~size" DESC, c."~fid"')
    return columns, order


def _source_sql(
    source: TileSource, index: int, zoom: int, options: TileOptions, ranked: bool, srid: int
) -> sql.Composed:
    """``ST_AsMVT`` of one source and its feature count; the envelopes and the source's
    feature allowance (``limit_<index>``) are named parameters of :func:`tile_query`.

    Features invisible at the zoom (an EMPTY overview cell) or with nothing left inside the
    buffered tile (``ST_AsMVTGeom`` is NULL for both) are discarded *before* the allowance
    applies. ``ranked`` orders the rest by the drop rule, so an allowance keeps the features
    that matter most; otherwise by feature id alone, which is cheaper and enough when nothing
    is dropped. Either way the order is total, so the tile is the same bytes on every render.

    ``OFFSET 0`` keeps the planner from flattening the inner query, which would evaluate
    ``ST_AsMVTGeom`` twice per feature (once in the filter, once in the output).

    The search box is a plain expression of parameters in each subquery (no shared CTE), so the
    filter is an index condition on the table itself rather than a join the planner may turn
    into a sequential scan.

    ``zoom`` is the Web Mercator zoom whose overview suits the tile; ``srid`` the tile grid's
    CRS, which the geometry is transformed into before it is clipped and encoded.
    """
    geometry = _in_grid(overview_sql(zoom, "t"), srid)
    attributes = sql.SQL("").join(
        sql.SQL(", c.{}").format(sql.Identifier(name)) for name in source.attributes
    )
    inner_attributes = sql.SQL("").join(
        sql.SQL(", t.{}").format(sql.Identifier(name)) for name in source.attributes
    )
    if ranked:
        ranking, order = _ranking(source, geometry, srid)
    else:
        ranking, order = sql.SQL(""), sql.SQL('c."~fid"')
    return sql.SQL(
        """
        (SELECT coalesce(ST_AsMVT(q, {name}, {extent}, 'geom'), ''::bytea) AS mvt,
                count(*) AS n FROM (
            SELECT c.geom {attributes} FROM (
                SELECT ST_AsMVTGeom({geometry}, {envelope}, {extent}, {buffer}, true) AS geom,
                       t.fid AS "~fid" {ranking} {inner_attributes}
                FROM {table} AS t
                WHERE t.geom && {search}
                OFFSET 0
            ) AS c
            WHERE c.geom IS NOT NULL
            ORDER BY {order}
            LIMIT %({limit})s
        ) AS q) AS {alias}
        """
    ).format(
        name=sql.Literal(source.name),
        envelope=_envelope(srid),
        search=_SEARCH,
        extent=sql.Literal(options.extent),
        geometry=geometry,
        buffer=sql.Literal(options.buffer),
        ranking=ranking,
        order=order,
        attributes=attributes,
        inner_attributes=inner_attributes,
        table=sql.Identifier(DATA_SCHEMA, source.layer.table_name),
        limit=sql.SQL(_limit_parameter(index)),
        alias=sql.Identifier(f"s{index}"),
    )


@functools.lru_cache(maxsize=512)
def _statement(
    sources: tuple[TileSource, ...],
    zoom: int,
    options: TileOptions,
    ranked: bool,
    srid: int = STORAGE_SRID,
) -> bytes:
    """The tile statement as bytes, composed once per (sources, zoom, options, ranked, srid).

    One row: each source's MVT blob and feature count, in the sources' order. Composing with
    ``psycopg.sql`` costs about half a millisecond, as much as a small tile's query; the text
    only changes with the layers' versions and the zoom, so it is memoised.
    """
    columns = sql.SQL(", ").join(
        sql.SQL("{alias}.mvt, {alias}.n").format(alias=sql.Identifier(f"s{i}"))
        for i in range(len(sources))
    )
    parts = sql.SQL(" CROSS JOIN ").join(
        _source_sql(s, i, zoom, options, ranked, srid) for i, s in enumerate(sources)
    )
    return sql.SQL("SELECT {} FROM {}").format(columns, parts).as_bytes(None)


def tile_query(
    sources: Sequence[TileSource],
    tile: Tile,
    options: TileOptions,
    limits: Sequence[int] | None = None,
    ranked: bool = False,
    grid: TileGrid = WEB_MERCATOR_GRID,
) -> tuple[bytes, dict[str, float]]:
    """The statement and its bound parameters for ``tile`` made of ``sources`` (non-empty).

    ``limits`` is each source's feature allowance; ``ranked`` chooses the drop rule's order
    over the feature id's (see :func:`_source_sql`). The defaults are the renderer's first
    statement, the one most tiles take: feature id order, ``max_features + 1`` per source.
    The statement returns one row: MVT blob and feature count of each source, in order.
    ``grid`` is the tile matrix set ``tile`` is addressed in (Web Mercator unless told).
    """
    left, bottom, right, top = grid.envelope(tile)
    margin = (right - left) * options.buffer / options.extent
    query = _statement(tuple(sources), grid.data_zoom(tile.z), options, ranked, grid.srid)
    search_left, search_bottom, search_right, search_top = grid.storage_box(tile, margin)
    params: dict[str, float] = {
        "left": left,
        "bottom": bottom,
        "right": right,
        "top": top,
        "search_left": search_left,
        "search_bottom": search_bottom,
        "search_right": search_right,
        "search_top": search_top,
        "cell": (right - left) / POINT_GRID_CELLS,
    }
    allowances = [options.max_features + 1] * len(sources) if limits is None else limits
    for index, allowance in enumerate(allowances):
        params[_limit_parameter(index)] = max(0, int(allowance))
    return query, params


def smaller_allowances(counts: Sequence[int], size: int, max_bytes: int) -> list[int]:
    """Feature allowances for the next render of a tile of ``size`` bytes over ``max_bytes``.

    Every source keeps the same share of its features, estimated from the bytes per feature
    and never more than 90 % of what it has, so each step strictly shrinks every non-empty
    source and the loop ends (at worst with an empty tile, which fits any budget).
    """
    share = min(0.9, 0.95 * max_bytes / size) if size else 0.0
    return [min(n - 1, int(n * share)) if n else 0 for n in counts]


Connect = Callable[[], AbstractContextManager[Any]]


class TileRenderer:
    """Renders MVT bytes for a tileset; connections come from ``connect`` (a pool's)."""

    def __init__(self, connect: Connect, options: TileOptions | None = None) -> None:
        self._connect = connect
        self.options = options or TileOptions()

    def render(self, tileset: Tileset, tile: Tile, grid: TileGrid = WEB_MERCATOR_GRID) -> bytes:
        """The tile's MVT bytes; empty when no source of the tileset is active at this zoom.

        ``grid`` is the tile matrix set ``tile`` is addressed in (Web Mercator unless told; a
        SWEREF 99 TM tile is the same data clipped and encoded in EPSG:3006).

        First every feature, in feature id order, allowing one more than ``max_features`` per
        source to learn whether any source has more. When one has, or the tile is over
        ``options.max_bytes``, the tile is rendered in the drop rule's order with allowances
        that shrink (:func:`smaller_allowances`) until it fits. Each render is a function of
        the layers' versions and the tile alone, so the result is too.
        """
        sources = tileset.sources_at(grid.data_zoom(tile.z))
        if not sources:
            return b""
        cap = self.options.max_features
        with self._connect() as conn:
            data, counts = self._run(conn, sources, tile, None, False, grid)
            if len(data) <= self.options.max_bytes and max(counts) <= cap:
                return data
            limits = [min(n, cap) for n in counts]
            if max(counts) <= cap:  # only too many bytes: no need to render all of it again
                limits = smaller_allowances(counts, len(data), self.options.max_bytes)
            while True:
                data, counts = self._run(conn, sources, tile, limits, True, grid)
                if len(data) <= self.options.max_bytes:
                    return data
                limits = smaller_allowances(counts, len(data), self.options.max_bytes)

    def _run(
        self,
        conn: Any,
        sources: Sequence[TileSource],
        tile: Tile,
        limits: Sequence[int] | None,
        ranked: bool,
        grid: TileGrid = WEB_MERCATOR_GRID,
    ) -> tuple[bytes, list[int]]:
        """One render: the concatenated MVT blobs and each source's feature count."""
        query, params = tile_query(sources, tile, self.options, limits, ranked, grid)
        row = fetch_row(conn, query, params)  # psycopg's execute, less its Python: lean_sql
        if row is None:
            return b"", [0] * len(sources)
        data = b"".join(blob for blob in row[0::2] if blob is not None)
        return data, [int.from_bytes(n or b"", "big", signed=True) for n in row[1::2]]
