"""Preparing features in PostGIS before the one writer stores them (the sample basemap's path).

Features read from a file are streamed into a temporary table with COPY, repaired, transformed
to EPSG:3857 and stripped of empties in one set-based statement; set-wide operations that only
PostGIS offers (merging the parts of a feature, ``ST_Subdivide``) run on that table; then the
prepared geometries go to :func:`layers.ingest.writer.write_features`, the same writer (and
overview rule) as uploads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg import sql

from layers.catalog import FieldInfo
from layers.store import STORAGE_SRID

_SQL_TYPES = {
    "text": "text",
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
}


def _coerce(value: object, kind: str) -> object:
    """A source value in the column's type; NaN and blanks become NULL (GDAL pads with them)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "integer":
        return int(value)  # type: ignore[call-overload]
    if kind == "number":
        return float(value)  # type: ignore[arg-type]
    if kind == "boolean":
        return bool(value)
    text = str(value)
    return text if text.strip() else None


def _repaired(source_srid: int) -> sql.Composable:
    """SQL for the staged geometry, made valid without changing its dimension.

    ``ST_MakeValid`` can turn a polygon with a spike into a collection of a polygon and a line;
    keeping only parts of the original dimension keeps a polygon layer polygonal.
    """
    return sql.SQL(
        "(SELECT CASE WHEN ST_IsValid(r) THEN r "
        "ELSE ST_CollectionExtract(ST_MakeValid(r), ST_Dimension(r) + 1) END "
        "FROM (SELECT ST_SetSRID(ST_GeomFromWKB(src), {}) AS r) AS raw)"
    ).format(sql.Literal(source_srid))


def stage_features(
    conn: psycopg.Connection[Any],
    staging: str,
    source_srid: int,
    fields: Sequence[FieldInfo],
    rows: Iterable[tuple[bytes, Sequence[object]]],
) -> int:
    """Create the temporary table ``staging`` (``geom`` in EPSG:3857, then ``fields``) from
    ``(wkb, values)`` rows: repaired, transformed, without empties. Dropped at commit.

    COPY into a staging table and one set-based INSERT is an order of magnitude faster than
    row-wise inserts, and lets PostGIS do the transform where it is fastest.
    """
    names = [f.name for f in fields]
    raw = sql.Identifier(f"{staging}_raw")
    typed = [
        sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(_SQL_TYPES[f.type])) for f in fields
    ]
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
            raw, sql.SQL(", ").join([sql.SQL("src bytea"), *typed])
        )
    )
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        raw, sql.SQL(", ").join(map(sql.Identifier, ["src", *names]))
    )
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for wkb, values in rows:
            copy.write_row(
                [wkb, *(_coerce(v, f.type) for v, f in zip(values, fields, strict=True))]
            )
    conn.execute(
        sql.SQL(
            """
            CREATE TEMP TABLE {staging} ON COMMIT DROP AS
            SELECT g AS geom {columns} FROM (
                SELECT ST_Transform({repaired}, {storage}) AS g, * FROM {raw}
            ) s
            WHERE NOT ST_IsEmpty(g)
            """
        ).format(
            staging=sql.Identifier(staging),
            columns=sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(n)) for n in names),
            repaired=_repaired(source_srid),
            storage=sql.Literal(STORAGE_SRID),
            raw=raw,
        )
    )
    conn.execute(sql.SQL("DROP TABLE {}").format(raw))
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(staging)))
    found = row.fetchone()
    return int(found[0]) if found else 0


def staged(
    conn: psycopg.Connection[Any], staging: str, fields: Sequence[FieldInfo]
) -> tuple[np.ndarray[Any, Any], list[list[object]]]:
    """The staged features: geometries (shapely, EPSG:3857) and one value list per field."""
    names = [f.name for f in fields]
    rows = conn.execute(
        sql.SQL("SELECT ST_AsBinary(geom) {} FROM {}").format(
            sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(n)) for n in names),
            sql.Identifier(staging),
        )
    ).fetchall()
    geoms = shapely.from_wkb([bytes(r[0]) for r in rows])
    columns = [[r[i + 1] for r in rows] for i in range(len(names))]
    return np.asarray(geoms, dtype=object), columns


def merge_parts(conn: psycopg.Connection[Any], staging: str, fields: Sequence[FieldInfo]) -> None:
    """Merge features with equal attributes (the islands of a municipality) into one
    multipolygon each."""
    cols = sql.SQL(", ").join(sql.Identifier(f.name) for f in fields)
    conn.execute(
        sql.SQL(
            """
            WITH merged AS (DELETE FROM {t} RETURNING geom, {cols})
            INSERT INTO {t} (geom, {cols})
            SELECT ST_Multi(ST_Union(geom)), {cols} FROM merged GROUP BY {cols}
            """
        ).format(t=sql.Identifier(staging), cols=cols)
    )


def subdivide(
    conn: psycopg.Connection[Any], staging: str, fields: Sequence[FieldInfo], vertices: int
) -> None:
    """Split huge polygons into pieces of at most ``vertices`` vertices, so each tile clips
    little (``ST_Subdivide``)."""
    cols = sql.SQL(", ").join(sql.Identifier(f.name) for f in fields)
    conn.execute(
        sql.SQL(
            """
            WITH whole AS (DELETE FROM {t} RETURNING geom, {cols})
            INSERT INTO {t} (geom, {cols})
            SELECT ST_Subdivide(geom, {n}), {cols} FROM whole
            """
        ).format(t=sql.Identifier(staging), cols=cols, n=sql.Literal(vertices))
    )
