"""Reading a layer's features as GeoJSON (WGS 84) for OGC API – Features: pages, bbox, one by id.

Stored geometry is EPSG:3857; the bbox is transformed once to 3857 so the GiST index answers the
filter, and only the returned page is transformed back to WGS 84. Pages are ordered by ``fid`` so
``offset`` paging is stable while a version is live (versions are immutable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from layers.catalog import LayerInfo
from layers.errors import InvalidInput, LayerNotFound

#: Web Mercator stops short of the poles; a bbox is clamped to this latitude.
MAX_LATITUDE = 85.0511287798066
Bbox = tuple[float, float, float, float]


@dataclass(frozen=True)
class FeaturePage:
    """One page of features and how many match in total."""

    features: list[dict[str, Any]]
    matched: int


def parse_bbox(text: str) -> Bbox:
    """``minlon,minlat,maxlon,maxlat`` (or the 6-number 3D form) in CRS84, checked."""
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError as exc:
        raise InvalidInput("bbox is four numbers: minlon,minlat,maxlon,maxlat.") from exc
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or any(n != n or abs(n) == float("inf") for n in numbers):
        raise InvalidInput("bbox is four numbers: minlon,minlat,maxlon,maxlat.")
    west, south, east, north = numbers
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidInput("bbox is in longitude/latitude (CRS84), south ≤ north.")
    if west > east:
        raise InvalidInput("bbox across the antimeridian is not supported.")
    return (west, max(south, -MAX_LATITUDE), east, min(north, MAX_LATITUDE))


def _properties(layer: LayerInfo) -> sql.Composable:
    if not layer.fields:
        return sql.SQL("'{}'::jsonb")
    columns = sql.SQL(", ").join(
        sql.SQL("t.{}").format(sql.Identifier(f.name)) for f in layer.fields
    )
    return sql.SQL("(SELECT to_jsonb(p) FROM (SELECT {}) AS p)").format(columns)


def _feature(row: tuple[Any, ...]) -> dict[str, Any]:
    fid, geometry, properties = row
    return {
        "type": "Feature",
        "id": int(fid),
        "geometry": json.loads(geometry),
        "properties": properties or {},
    }


def _select(layer: LayerInfo) -> sql.Composable:
    return sql.SQL(
        "SELECT t.fid, ST_AsGeoJSON(ST_Transform(t.geom, 4326), 7), {} FROM {} AS t"
    ).format(_properties(layer), sql.Identifier(layer.schema, layer.table_name))


def feature_page(
    conn: psycopg.Connection[Any], layer: LayerInfo, bbox: Bbox | None, limit: int, offset: int
) -> FeaturePage:
    """Features ``offset`` … ``offset + limit`` (by fid) meeting ``bbox``, and the match count."""
    where: sql.Composable = sql.SQL("")
    params: list[Any] = []
    if bbox is not None:
        where = sql.SQL(
            " WHERE t.geom && ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, 4326), 3857)"
        )
        params = list(bbox)
    rows = conn.execute(
        sql.Composed([_select(layer), where, sql.SQL(" ORDER BY t.fid LIMIT %s OFFSET %s")]),
        [*params, limit, offset],
    ).fetchall()
    if bbox is None:
        matched = layer.feature_count
    else:
        counted = conn.execute(
            sql.Composed(
                [
                    sql.SQL("SELECT count(*) FROM {} AS t").format(
                        sql.Identifier(layer.schema, layer.table_name)
                    ),
                    where,
                ]
            ),
            params,
        ).fetchone()
        matched = int(counted[0]) if counted else 0
    return FeaturePage([_feature(r) for r in rows], matched)


def feature_by_id(conn: psycopg.Connection[Any], layer: LayerInfo, fid: int) -> dict[str, Any]:
    """One feature by its id; :class:`LayerNotFound` when there is none."""
    row = conn.execute(
        sql.Composed([_select(layer), sql.SQL(" WHERE t.fid = %s")]), [fid]
    ).fetchone()
    if row is None:
        raise LayerNotFound(f"The collection {layer.name!r} has no feature {fid}.")
    return _feature(row)
