"""Restoring an exported layer: publish it again as a NEW version, through the publishing facade.

A restore is an upload with its metadata attached: the file goes through
:meth:`layers.publishing.Publishing.publish` like every upload, so it is read under the ingest
GDAL policy (:mod:`layers.ingest.gdal_policy`), gets the next version number under the layer's
lock, is built beside the live version and swapped in in one transaction. It never overwrites a
version, a layer that does not exist is created, and a refusal or failure changes nothing.

The metadata is read before anything else, by Python's sqlite3 (read-only, no GDAL) for a
GeoPackage, or from the ``.json`` beside a raster, and checked value by value
(:mod:`layers.backup.metadata`). A file without it is refused: a plain GeoPackage or GeoTIFF
has no title or visibility to restore, and ``webmap layers import`` publishes it with those.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg

from layers.backup.export import RASTER_SUFFIXES, VECTOR_SUFFIX, sidecar_of
from layers.backup.metadata import (
    MAX_METADATA_BYTES,
    METADATA_TABLE,
    BackupMetadata,
    NotABackup,
    from_record,
    parse_json,
)
from layers.catalog import RASTER, VECTOR
from layers.ingest import gdal_policy
from layers.publishing import Published, Publishing, SourceFile
from layers.store import LayerSpec, check_layer_name

#: At most this many metadata rows are read (a real backup has about twenty).
_MAX_ROWS = 200


@dataclass(frozen=True)
class Restored:
    """The metadata the file carried and the version that went live."""

    metadata: BackupMetadata
    published: Published


def read_backup(path: Path) -> tuple[BackupMetadata, SourceFile]:
    """The metadata of a backup file and how to publish its data; refuses foreign files."""
    suffix = path.suffix.lower()
    if suffix == VECTOR_SUFFIX:
        meta = _geopackage_metadata(path)
        expected = VECTOR
        source = SourceFile(path, path.name, source_layer=meta.layer or None, kind=VECTOR)
    elif suffix in RASTER_SUFFIXES:
        meta = _raster_metadata(path)
        expected = RASTER
        source = SourceFile(path, path.name, kind=RASTER)
    else:
        raise NotABackup(
            f"{path.name!r} is not a layer backup: `webmap layers export` writes a .gpkg "
            "(vector layers) or a .tif with a .tif.json beside it (raster layers)."
        )
    if meta.kind != expected:
        raise NotABackup(f"{path.name!r} says it holds a {meta.kind} layer, but is a {expected}.")
    return meta, source


def restore_layer(
    conn: psycopg.Connection[Any],
    publishing: Publishing,
    path: Path,
    name: str | None = None,
) -> Restored:
    """Publish the backup at ``path`` as a new version of its layer (or of ``name``), with the
    metadata it carries. Raises :class:`NotABackup` for foreign files and the upload's own
    errors (:class:`~layers.errors.LayerError`) for data that cannot be published."""
    meta, source = read_backup(path)
    spec = LayerSpec(
        name=check_layer_name(name or meta.name),
        title=meta.title,
        description=meta.description,
        attribution=meta.attribution,
        public=meta.public,
        minzoom=meta.minzoom,
        maxzoom=meta.maxzoom,
    )
    published = publishing.publish(conn, spec, source, exists_ok=True)
    return Restored(replace(meta, name=spec.name), published)


def _geopackage_metadata(path: Path) -> BackupMetadata:
    # The same content checks as an uploaded GeoPackage (its bytes, no virtual tables, no
    # journal beside it) before anything opens it.
    local = Path(gdal_policy.checked_vector(path, "GeoPackage"))
    uri = f"{local.as_uri()}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            db.execute("PRAGMA trusted_schema = OFF")
            kind = db.execute(
                "SELECT type FROM sqlite_master WHERE name = ?", [METADATA_TABLE]
            ).fetchone()
            if kind is None or kind[0] != "table":
                raise NotABackup(
                    f"{path.name!r} is a GeoPackage but not a webmap layer backup (it has no "
                    f"{METADATA_TABLE} table). Publish it with `webmap layers import "
                    f"{path.name} --name … --title …` instead."
                )
            rows = db.execute(  # METADATA_TABLE, spelled out: no SQL built from strings
                'SELECT "key", "value" FROM "webmap_layer_metadata" LIMIT ?', [_MAX_ROWS + 1]
            ).fetchall()
    except sqlite3.Error as exc:
        raise NotABackup(f"The metadata of {path.name!r} cannot be read: {exc}.") from exc
    return from_record(_record(rows, path.name), path.name)


def _record(rows: list[tuple[Any, ...]], what: str) -> dict[str, Any]:
    """Key/value rows (values JSON text) as one record; refuses repeats and oversize."""
    if len(rows) > _MAX_ROWS:
        raise NotABackup(f"The metadata of {what!r} has more rows than a backup's.")
    record: dict[str, Any] = {}
    size = 0
    for key, value in rows:
        if not isinstance(key, str) or not isinstance(value, str) or key in record:
            raise NotABackup(f"The metadata of {what!r} is not key/value text.")
        size += len(key) + len(value)
        if size > MAX_METADATA_BYTES:
            raise NotABackup(f"The metadata of {what!r} is larger than a backup's can be.")
        try:
            record[key] = json.loads(value)
        except json.JSONDecodeError as exc:
            raise NotABackup(f"The metadata value {key!r} of {what!r} is not JSON.") from exc
    return record


def _raster_metadata(path: Path) -> BackupMetadata:
    gdal_policy.local_file(path)
    sidecar = sidecar_of(path)
    if not sidecar.is_file():
        raise NotABackup(
            f"{path.name!r} has no {sidecar.name} beside it, so it is not a webmap layer "
            f"backup. Publish a plain GeoTIFF with `webmap rasters import {path.name} --name … "
            "--title …` instead."
        )
    with sidecar.open("rb") as handle:
        data = handle.read(MAX_METADATA_BYTES + 1)
    return parse_json(data, sidecar.name)
