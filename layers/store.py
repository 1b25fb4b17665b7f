"""Writing layer versions: each version is its own table, published by swapping one pointer.

A new version is built next to the live one (``layerdata.<name>_v<n>``) and becomes live in one
transaction that updates ``webmap.layers.version``; readers never see a half-written layer, and a
failed build leaves only an orphan table behind that :func:`drop_version` removes.

Geometry is stored in EPSG:3857 so tiles need no per-request transform, plus pre-simplified copies
(``geom_z3`` … ``geom_z12``) for lines and polygons so low-zoom tiles stay small and fast.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from layers.catalog import VECTOR, FieldInfo
from layers.errors import InvalidInput, LayerNotFound
from layers.schema import DATA_SCHEMA, LAYER_NAME_PATTERN

STORAGE_SRID = 3857
#: Names that address something other than one layer in URLs (``/tiles/basemap/…``).
RESERVED_NAMES = frozenset({"basemap"})
#: Zooms with a pre-simplified geometry column; a tile at zoom z uses the largest level <= z.
OVERVIEW_ZOOMS: tuple[int, ...] = (3, 6, 9, 12)
_WEB_MERCATOR_WIDTH = 2 * math.pi * 6378137.0
_SQL_TYPES = {
    "text": "text",
    "integer": "bigint",
    "number": "double precision",
    "boolean": "boolean",
}


def overview_column(zoom: int) -> str:
    """The geometry column for a tile at ``zoom``: a coarse copy below z13, else ``geom``."""
    usable = [level for level in OVERVIEW_ZOOMS if level <= zoom]
    if zoom > OVERVIEW_ZOOMS[-1]:
        return "geom"
    return f"geom_z{usable[-1] if usable else OVERVIEW_ZOOMS[0]}"


def overview_sql(zoom: int, alias: str = "t") -> sql.Composable:
    """The geometry expression a reader at ``zoom`` should use.

    An overview cell holds the simplified geometry, NULL when it would equal ``geom`` (points,
    features with few vertices: the writer saves storing a second copy), or an EMPTY geometry
    when the feature is invisible at that zoom (smaller than half a pixel).
    """
    column = overview_column(zoom)
    if column == "geom":
        return sql.SQL("{}.geom").format(sql.Identifier(alias))
    return sql.SQL("coalesce({alias}.{column}, {alias}.geom)").format(
        alias=sql.Identifier(alias), column=sql.Identifier(column)
    )


def simplify_tolerance(zoom: int) -> float:
    """Half a 256-pixel tile pixel at ``zoom``, in metres of EPSG:3857: invisible, yet small."""
    return float(_WEB_MERCATOR_WIDTH / (256 * 2**zoom) / 2)


def check_layer_name(name: str) -> str:
    """Refuse names that could not be a table name as given (they are quoted anyway)."""
    if not re.fullmatch(LAYER_NAME_PATTERN, name):
        raise InvalidInput(
            "A layer name is 1–48 characters: lower-case a–z, digits and _, starting with a letter."
        )
    if name in RESERVED_NAMES:
        raise InvalidInput(f"The name {name!r} is reserved; choose another.")
    return name


@dataclass(frozen=True)
class LayerSpec:
    """What a publisher says about a layer, apart from its features."""

    name: str
    title: str
    description: str = ""
    attribution: str = ""
    public: bool = True
    minzoom: int = 0
    maxzoom: int = 22
    #: The layer must not exist yet; checked under its lock
    #: (:class:`~layers.ingest.errors.LayerExists` otherwise).
    new: bool = False
    #: For a new version of an existing layer: the metadata fields this spec sets; the others
    #: keep the value they have when the version goes live (read under the lock, so a change
    #: made meanwhile is not lost). ``None``: all of them (and the layer may be created).
    changed: frozenset[str] | None = None
    #: The municipality a *new* layer belongs to (None: instance-wide); a new version keeps
    #: the layer's owner whatever this says (``webmap layers assign`` moves a layer).
    municipality: str | None = None


#: Metadata a new version (or :func:`layers.publishing.update_metadata`) may change.
METADATA_FIELDS = ("title", "description", "attribution", "public", "minzoom", "maxzoom")


def next_version(conn: psycopg.Connection[Any], name: str) -> int:
    """The next free version number of ``name`` (1 for a new layer)."""
    row = conn.execute(
        "SELECT coalesce(max(version), 0) + 1 FROM webmap.layer_versions WHERE layer_name = %s",
        [name],
    ).fetchone()
    return int(row[0]) if row else 1


def version_table(name: str, version: int) -> str:
    """The table name of one version of a layer (unquoted; always quote it in SQL)."""
    return f"{check_layer_name(name)}_v{version}"


def create_version_table(
    conn: psycopg.Connection[Any], table: str, fields: Sequence[FieldInfo]
) -> None:
    """Create an empty data table with a feature id, geometry, overview columns and ``fields``."""
    columns = [
        sql.SQL("fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
        sql.SQL("geom geometry(Geometry, {}) NOT NULL").format(sql.Literal(STORAGE_SRID)),
    ]
    columns += [
        sql.SQL("{} geometry(Geometry, {})").format(
            sql.Identifier(f"geom_z{level}"), sql.Literal(STORAGE_SRID)
        )
        for level in OVERVIEW_ZOOMS
    ]
    for field_info in fields:
        if field_info.type not in _SQL_TYPES:
            raise InvalidInput(f"Field {field_info.name!r} has an unsupported type.")
        columns.append(
            sql.SQL("{} {}").format(
                sql.Identifier(field_info.name), sql.SQL(_SQL_TYPES[field_info.type])
            )
        )
    conn.execute(
        sql.SQL("CREATE TABLE {} ({})").format(
            sql.Identifier(DATA_SCHEMA, table), sql.SQL(", ").join(columns)
        )
    )


def finish_version_table(conn: psycopg.Connection[Any], table: str) -> None:
    """Build the spatial index, then refresh planner statistics.

    The overview columns are written with the features (:mod:`layers.ingest.writer`), so the
    index is built over a table without update chains: an index built over fresh HOT chains is
    flagged ``indcheckxmin`` and stays unusable while any older transaction is open.
    """
    ident = sql.Identifier(DATA_SCHEMA, table)
    conn.execute(
        sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(
            sql.Identifier(f"{table}_geom_idx"), ident
        )
    )
    conn.execute(sql.SQL("ANALYZE {}").format(ident))


def record_version(
    conn: psycopg.Connection[Any],
    name: str,
    version: int,
    table: str,
    fields: Sequence[FieldInfo],
    report: dict[str, object],
) -> None:
    """Describe a finished version table in ``webmap.layer_versions`` (not yet live)."""
    ident = sql.Identifier(DATA_SCHEMA, table)
    conn.execute(
        sql.SQL(
            """
            INSERT INTO webmap.layer_versions
                (layer_name, version, table_name, feature_count, fields, bounds, report)
            SELECT %s, %s, %s, count(*), %s,
                   ST_Transform(ST_SetSRID(ST_Expand(ST_Extent(geom), 0.5)::geometry, 3857), 4326),
                   %s
            FROM {}
            """
        ).format(ident),
        [
            name,
            version,
            table,
            json.dumps([{"name": f.name, "type": f.type} for f in fields]),
            json.dumps(report),
        ],
    )


def check_publishable(conn: psycopg.Connection[Any], spec: LayerSpec, kind: str) -> bool:
    """Whether the layer exists, refusing a version that may not be published under its name.

    ``spec.new`` refuses an existing layer, ``spec.changed`` a missing one, and a layer keeps
    its ``kind``. Call it under the layer's lock; the row is locked until commit.
    """
    row = conn.execute(
        "SELECT kind FROM webmap.layers WHERE name = %s FOR UPDATE", [spec.name]
    ).fetchone()
    if row is None:
        if spec.changed is not None:
            raise LayerNotFound(f"There is no layer named {spec.name!r}.")
        return False
    if spec.new:
        # Imported here: layers.ingest imports this module.
        from layers.ingest.errors import LayerExists

        raise LayerExists(f"A layer named {spec.name!r} exists; publish a new version of it.")
    if row[0] != kind:
        raise InvalidInput(
            f"The layer {spec.name!r} is a {row[0]} layer; a {kind} version cannot be published "
            "under its name. Choose another name."
        )
    return True


def publish_version(
    conn: psycopg.Connection[Any],
    spec: LayerSpec,
    version: int,
    geometry_type: str | None,
    kind: str = VECTOR,
) -> None:
    """Make ``version`` the live one (insert, or pointer swap); call it under the layer's lock.

    A layer keeps its ``kind``: a raster version cannot become live under a vector layer (or the
    reverse), since its versions would then be a mix of tables and files that cannot be rolled
    back consistently. ``spec.new`` refuses an existing layer, ``spec.changed`` a missing one.
    """
    if not check_publishable(conn, spec, kind):
        _insert_layer(conn, spec, version, geometry_type, kind)
        return
    fields = METADATA_FIELDS if spec.changed is None else sorted(spec.changed)
    assignments: list[sql.Composable] = [
        sql.SQL("version = %s, geometry_type = %s, updated_at = now()")
    ]
    assignments += [sql.SQL("{} = %s").format(sql.Identifier(f)) for f in fields]
    conn.execute(
        sql.SQL("UPDATE webmap.layers SET {} WHERE name = %s").format(
            sql.SQL(", ").join(assignments)
        ),
        [version, geometry_type, *(getattr(spec, f) for f in fields), spec.name],
    )


def _insert_layer(
    conn: psycopg.Connection[Any],
    spec: LayerSpec,
    version: int,
    geometry_type: str | None,
    kind: str,
) -> None:
    conn.execute(
        """
        INSERT INTO webmap.layers
            (name, title, description, kind, geometry_type, version, public, attribution,
             minzoom, maxzoom, municipality)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        [
            spec.name,
            spec.title,
            spec.description,
            kind,
            geometry_type,
            version,
            spec.public,
            spec.attribution,
            spec.minzoom,
            spec.maxzoom,
            spec.municipality,
        ],
    )


def geometry_type_of(conn: psycopg.Connection[Any], table: str) -> str | None:
    """The common geometry family of a table: Point, LineString, Polygon, or None when mixed."""
    rows = conn.execute(
        sql.SQL("SELECT DISTINCT replace(GeometryType(geom), 'MULTI', '') FROM {}").format(
            sql.Identifier(DATA_SCHEMA, table)
        )
    ).fetchall()
    families = {str(r[0]).title().replace("string", "String") for r in rows}
    return families.pop() if len(families) == 1 else None


def prune_versions(conn: psycopg.Connection[Any], name: str, keep: int) -> list[int]:
    """Drop all but the newest ``keep`` non-live versions' tables; returns the dropped versions."""
    rows = conn.execute(
        """
        SELECT v.version, v.table_name FROM webmap.layer_versions v
        JOIN webmap.layers l ON l.name = v.layer_name
        WHERE v.layer_name = %s AND v.version <> l.version
        ORDER BY v.version DESC OFFSET %s
        """,
        [name, max(keep, 0)],
    ).fetchall()
    for version, table in rows:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(DATA_SCHEMA, table)))
        conn.execute(
            "DELETE FROM webmap.layer_versions WHERE layer_name = %s AND version = %s",
            [name, version],
        )
    return [int(r[0]) for r in rows]
