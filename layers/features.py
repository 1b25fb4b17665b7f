"""Reading a layer's features as GeoJSON for OGC API – Features: pages, bbox, one by id.

Stored geometry is EPSG:3857; the bbox is transformed once to 3857 so the GiST index answers the
filter, and only the returned page is transformed to the asked CRS. Pages are ordered by ``fid``
so ``offset`` paging is stable while a version is live (versions are immutable).

Axis order (OGC API – Features Part 2, /req/crs/crs-uri): coordinates and ``bbox`` follow the
CRS's own axis order. CRS84 is longitude, latitude; EPSG:3857 is easting, northing; EPSG:3006
(SWEREF 99 TM) is **northing, easting**, so its answers and bboxes are flipped relative to the
(x, y) order the database and pyproj (``always_xy``) use inside the service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg
from psycopg import sql
from pyproj import CRS

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


#: Output and bbox coordinate systems offered (OGC API – Features Part 2), by URI. 4326 here
#: always means CRS84 (longitude first): no EPSG:4326 URI (latitude first) is offered.
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
SUPPORTED_CRS: dict[str, int] = {
    CRS84: 4326,
    "http://www.opengis.net/def/crs/EPSG/0/3006": 3006,
    "http://www.opengis.net/def/crs/EPSG/0/3857": 3857,
}
#: What the layer tables hold (``storageCrs`` of every collection).
STORAGE_CRS = "http://www.opengis.net/def/crs/EPSG/0/3857"


@cache
def northing_first(srid: int) -> bool:
    """True when the offered CRS ``srid`` puts northing (or latitude) first, per EPSG.

    Read from the EPSG database through pyproj rather than listed by hand, so a CRS added to
    :data:`SUPPORTED_CRS` gets its axis order right by itself. 4326 is CRS84 here (lon, lat).
    """
    if srid == 4326:
        return False
    first_axis = CRS.from_epsg(srid).axis_info[0]
    return first_axis.direction.lower() == "north"


def srid_of(uri: str | None) -> int:
    """The SRID of a supported CRS URI (CRS84 when none is given)."""
    if uri is None or uri == "":
        return 4326
    srid = SUPPORTED_CRS.get(uri.strip("<>"))
    if srid is None:
        raise InvalidInput(
            f"The CRS {uri[:100]!r} is not offered; use one of: {', '.join(SUPPORTED_CRS)}."
        )
    return srid


#: Where a projected bbox-crs can be transformed, generously (SWEREF 99 TM: all of Scandinavia
#: and the Baltic). PROJ refuses points far outside (a 500 before), so a bbox is clipped to it.
_PROJECTED_LIMITS: dict[int, Bbox] = {3006: (-1_000_000.0, 5_000_000.0, 2_000_000.0, 8_500_000.0)}


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def parse_bbox(text: str, srid: int = 4326) -> Bbox:
    """A bbox in ``srid`` (CRS84 by default) as (west, south, east, north) = (x, y) order.

    The text is the four corners (or the 6-number 3D form) in the CRS's own axis order: for
    SWEREF 99 TM ``minN,minE,maxN,maxE``, for CRS84 ``minLon,minLat,maxLon,maxLat``.
    """
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError as exc:
        raise InvalidInput("bbox is four numbers: minx,miny,maxx,maxy.") from exc
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or any(n != n or abs(n) == float("inf") for n in numbers):
        raise InvalidInput("bbox is four numbers: minx,miny,maxx,maxy.")
    if northing_first(srid):
        south, west, north, east = numbers
    else:
        west, south, east, north = numbers
    if south > north:
        raise InvalidInput("bbox has its south edge north of its north edge.")
    if west > east:
        raise InvalidInput("bbox across the antimeridian is not supported.")
    if srid != 4326:
        limits = _PROJECTED_LIMITS.get(srid)
        if limits is None:
            return (west, south, east, north)
        low_x, low_y, high_x, high_y = limits
        return (
            _clip(west, low_x, high_x),
            _clip(south, low_y, high_y),
            _clip(east, low_x, high_x),
            _clip(north, low_y, high_y),
        )
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidInput("bbox is in longitude/latitude (CRS84), south ≤ north.")
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


#: Geometry families answered as multi geometries, so a page that happens to hold only single
#: polygons does not make GDAL type the whole layer "Polygon" (or "Unknown" when mixed).
ALWAYS_MULTI = frozenset({"LineString", "Polygon"})


def _select(layer: LayerInfo, srid: int = 4326) -> sql.Composable:
    # Degrees to 7 decimals and metres to 3 are both about a centimetre.
    geometry = sql.SQL("ST_Multi(t.geom)" if layer.geometry_type in ALWAYS_MULTI else "t.geom")
    transformed = sql.SQL("ST_Transform({}, {})").format(geometry, sql.Literal(srid))
    if northing_first(srid):
        transformed = sql.SQL("ST_FlipCoordinates({})").format(transformed)
    return sql.SQL("SELECT t.fid, ST_AsGeoJSON({}, {}), {} FROM {} AS t").format(
        transformed,
        sql.Literal(7 if srid == 4326 else 3),
        _properties(layer),
        sql.Identifier(layer.schema, layer.table_name),
    )


def feature_page(
    conn: psycopg.Connection[Any],
    layer: LayerInfo,
    bbox: Bbox | None,
    limit: int,
    offset: int,
    srid: int = 4326,
    bbox_srid: int = 4326,
) -> FeaturePage:
    """Features ``offset`` … ``offset + limit`` (by fid) meeting ``bbox``, and the match count.

    Geometries are returned in ``srid``; ``bbox`` is given in ``bbox_srid``.
    """
    where: sql.Composable = sql.SQL("")
    params: list[Any] = []
    if bbox is not None:
        where = sql.SQL(
            " WHERE t.geom && ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, {}), 3857)"
        ).format(sql.Literal(bbox_srid))
        params = list(bbox)
    rows = conn.execute(
        sql.Composed([_select(layer, srid), where, sql.SQL(" ORDER BY t.fid LIMIT %s OFFSET %s")]),
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


def feature_by_id(
    conn: psycopg.Connection[Any], layer: LayerInfo, fid: int, srid: int = 4326
) -> dict[str, Any]:
    """One feature by its id, geometry in ``srid``; :class:`LayerNotFound` when there is none."""
    row = conn.execute(
        sql.Composed([_select(layer, srid), sql.SQL(" WHERE t.fid = %s")]), [fid]
    ).fetchone()
    if row is None:
        raise LayerNotFound(f"The collection {layer.name!r} has no feature {fid}.")
    return _feature(row)
