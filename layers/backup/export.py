"""Exporting one stored version of a layer with its metadata, for backups and moves.

A vector version becomes a GeoPackage: the features exactly as stored (EPSG:3857, geometries
unchanged, every attribute column with its type) plus the table ``webmap_layer_metadata``. A
raster version is its stored COG, copied byte for byte, plus ``<file>.json`` beside it. Both
are written under a temporary name in the target's folder and renamed into place when
complete, so an interrupted export never leaves a file that looks finished.

Writing uses pyogrio's GDAL (GPKG driver only, which the read policy keeps) and reads the data
with a server-side cursor in chunks: a layer of a million features does not need its whole
table in memory.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from layers.backup.metadata import METADATA_TABLE, BackupMetadata, now_iso, webmap_version
from layers.catalog import RASTER, FieldInfo
from layers.errors import InvalidInput, LayerNotFound
from layers.raster.cog import stored_path
from layers.schema import DATA_SCHEMA
from layers.store import STORAGE_SRID, check_layer_name, geometry_type_of

VECTOR_SUFFIX = ".gpkg"
RASTER_SUFFIXES = (".tif", ".tiff")
#: Features fetched and written per step.
CHUNK = 20_000
#: GDAL's names of PostGIS ``GeometryType()`` answers.
_GDAL_TYPES = {
    "POINT": "Point",
    "MULTIPOINT": "MultiPoint",
    "LINESTRING": "LineString",
    "MULTILINESTRING": "MultiLineString",
    "POLYGON": "Polygon",
    "MULTIPOLYGON": "MultiPolygon",
}


@dataclass(frozen=True)
class Exported:
    """What was written: the files and the metadata recorded in them."""

    files: tuple[Path, ...]
    metadata: BackupMetadata


def sidecar_of(cog: Path) -> Path:
    """The metadata file beside an exported raster: ``<file>.json``."""
    return cog.with_name(cog.name + ".json")


def export_layer(
    conn: psycopg.Connection[Any],
    name: str,
    target: Path,
    raster_dir: Path,
    version: int | None = None,
) -> Exported:
    """Write ``version`` of layer ``name`` (default: the live one) to ``target``.

    ``target`` must end in ``.gpkg`` for a vector layer and ``.tif`` for a raster layer, and
    must not exist yet (a backup is never overwritten by accident). Raises
    :class:`~layers.errors.LayerNotFound` for a missing layer, version or stored data.
    """
    check_layer_name(name)
    with conn.transaction():
        row = _version_row(conn, name, version)
        meta = _metadata(conn, row)
        _check_target(target, meta.kind)
        if meta.kind == RASTER:
            return _export_raster(row, meta, target, raster_dir)
        fields = [FieldInfo(f["name"], f["type"]) for f in meta.fields]
        _check_field_names(fields)
        with _partial(target) as partial:
            _write_features(conn, str(row["table_name"]), fields, partial, meta.layer)
            _write_metadata(partial, meta)
    return Exported((target,), meta)


def _version_row(conn: psycopg.Connection[Any], name: str, version: int | None) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            """
            SELECT l.name, l.title, l.description, l.kind, l.public, l.attribution,
                   l.minzoom, l.maxzoom, l.version AS live, v.version, v.table_name,
                   v.fields, v.feature_count, v.report, v.created_at
            FROM webmap.layers l
            LEFT JOIN webmap.layer_versions v
                ON v.layer_name = l.name AND v.version = coalesce(%s, l.version)
            WHERE l.name = %s
            """,
            [version, name],
        ).fetchone()
    if row is None:
        raise LayerNotFound(f"There is no layer named {name!r}.")
    if row["version"] is None:
        raise LayerNotFound(
            f"The layer {name!r} has no stored version {version}; `webmap layers list` and "
            "the admin pages show the versions kept."
        )
    return row


def _metadata(conn: psycopg.Connection[Any], row: dict[str, Any]) -> BackupMetadata:
    """The layer's current metadata with the chosen version's data description."""
    kind = str(row["kind"])
    report = row["report"] or {}
    if kind == RASTER:
        geometry_type, crs, present = None, str(report.get("stored_crs", "")), True
    else:
        present = _table_exists(conn, str(row["table_name"]))
        geometry_type = _family(conn, str(row["table_name"])) if present else None
        crs = f"EPSG:{STORAGE_SRID}"
    if not present:
        raise LayerNotFound(
            f"The data of version {row['version']} of {row['name']!r} is gone "
            f"(table {DATA_SCHEMA}.{row['table_name']})."
        )
    return BackupMetadata(
        name=str(row["name"]),
        title=str(row["title"]),
        kind=kind,
        description=str(row["description"]),
        attribution=str(row["attribution"]),
        public=bool(row["public"]),
        minzoom=int(row["minzoom"]),
        maxzoom=int(row["maxzoom"]),
        geometry_type=geometry_type,
        fields=tuple({"name": f["name"], "type": f["type"]} for f in row["fields"] or []),
        feature_count=int(row["feature_count"]),
        crs=crs,
        source_version=int(row["version"]),
        source_created_at=row["created_at"].isoformat() if row["created_at"] else "",
        exported_at=now_iso(),
        webmap_version=webmap_version(),
        layer="" if kind == RASTER else str(row["name"]),
    )


def _table_exists(conn: psycopg.Connection[Any], table: str) -> bool:
    found = conn.execute("SELECT to_regclass(%s)", [f'{DATA_SCHEMA}."{table}"']).fetchone()
    return found is not None and found[0] is not None


def _family(conn: psycopg.Connection[Any], table: str) -> str | None:
    family = geometry_type_of(conn, table)
    return family if family in ("Point", "LineString", "Polygon") else None


def _check_target(target: Path, kind: str) -> None:
    suffix = target.suffix.lower()
    if kind == RASTER and suffix not in RASTER_SUFFIXES:
        raise InvalidInput(
            "A raster layer is exported as a Cloud Optimized GeoTIFF: name the file "
            "something.tif (its metadata goes beside it as something.tif.json)."
        )
    if kind != RASTER and suffix != VECTOR_SUFFIX:
        raise InvalidInput(
            "A vector layer is exported as a GeoPackage: name the file something.gpkg."
        )
    if target.exists() or (kind == RASTER and sidecar_of(target).exists()):
        raise InvalidInput(
            f"{target} exists already; choose a new name (backups are never overwritten)."
        )
    if not target.parent.is_dir():
        raise InvalidInput(f"The folder {target.parent} does not exist.")


def _check_field_names(fields: Sequence[FieldInfo]) -> None:
    """SQLite column names ignore case: ``Name`` and ``name`` cannot both be a GeoPackage's."""
    seen: dict[str, str] = {}
    for f in fields:
        other = seen.setdefault(f.name.lower(), f.name)
        if other != f.name:
            raise InvalidInput(
                f"The fields {other!r} and {f.name!r} differ only in case, which a GeoPackage "
                "cannot hold; back this layer up with pg_dump (docs/operations.md)."
            )


@contextmanager
def _partial(target: Path) -> Iterator[Path]:
    """A temporary name beside ``target``, renamed to it on success and removed otherwise."""
    partial = target.with_name(f".{target.name}.partial-{secrets.token_hex(4)}{target.suffix}")
    try:
        yield partial
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)


def _write_features(
    conn: psycopg.Connection[Any],
    table: str,
    fields: Sequence[FieldInfo],
    target: Path,
    layer: str,
) -> None:
    import pyogrio.raw

    kinds = conn.execute(
        sql.SQL("SELECT DISTINCT upper(GeometryType(geom)) FROM {}").format(
            sql.Identifier(DATA_SCHEMA, table)
        )
    ).fetchall()
    types = {_GDAL_TYPES.get(str(k[0]), "Unknown") for k in kinds}
    geometry_type = types.pop() if len(types) == 1 else "Unknown"
    query = sql.SQL("SELECT ST_AsBinary(geom) {} FROM {} ORDER BY fid").format(
        sql.SQL("").join(sql.SQL(", {}").format(sql.Identifier(f.name)) for f in fields),
        sql.Identifier(DATA_SCHEMA, table),
    )
    written = False
    with conn.cursor(name=f"webmap_export_{secrets.token_hex(4)}") as cur:
        cur.execute(query)
        while rows := cur.fetchmany(CHUNK):
            prepared = [_column([r[i + 1] for r in rows], f.type) for i, f in enumerate(fields)]
            pyogrio.raw.write(
                str(target),
                np.array([bytes(r[0]) for r in rows], dtype=object),
                [data for data, _ in prepared],
                [f.name for f in fields],
                field_mask=[mask for _, mask in prepared] or None,
                layer=layer,
                driver="GPKG",
                geometry_type=geometry_type,
                crs=f"EPSG:{STORAGE_SRID}",
                append=written,
                promote_to_multi=False,
            )
            written = True
    if not written:
        raise LayerNotFound(f"The table {DATA_SCHEMA}.{table} has no features to export.")


def _column(values: list[Any], kind: str) -> tuple[np.ndarray[Any, Any], Any]:
    """One attribute column for pyogrio and the mask of its NULLs."""
    missing = np.array([v is None for v in values], dtype=bool)
    if kind == "integer":
        data: np.ndarray[Any, Any] = np.array([v or 0 for v in values], dtype=np.int64)
    elif kind == "number":
        data = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    elif kind == "boolean":
        data = np.array([bool(v) for v in values], dtype=bool)
    else:
        data = np.array(values, dtype=object)
    return data, (missing if missing.any() else None)


def _write_metadata(target: Path, meta: BackupMetadata) -> None:
    """The metadata as an attributes table (``key``, JSON ``value``): readable in QGIS too."""
    import pyogrio.raw

    record = meta.as_record()
    pyogrio.raw.write(
        str(target),
        None,
        [
            np.array(list(record), dtype=object),
            np.array([json.dumps(v, ensure_ascii=False) for v in record.values()], dtype=object),
        ],
        ["key", "value"],
        layer=METADATA_TABLE,
        driver="GPKG",
        geometry_type=None,
        append=True,
    )


def _export_raster(
    row: dict[str, Any], meta: BackupMetadata, target: Path, raster_dir: Path
) -> Exported:
    stored = stored_path(raster_dir, str(row["table_name"]))
    if not stored.is_file():
        raise LayerNotFound(
            f"The data of version {row['version']} of {row['name']!r} is gone "
            f"(file {row['table_name']} in {raster_dir})."
        )
    sidecar = sidecar_of(target)
    with _partial(target) as partial, _partial(sidecar) as partial_sidecar:
        shutil.copyfile(stored, partial)
        partial_sidecar.write_text(
            json.dumps(meta.as_record(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return Exported((target, sidecar), meta)
