"""Publishing an uploaded file: one path for the staff API and the admin pages.

The upload is spooled to a scratch folder under its sanitised original name (GDAL reads an SRTM
tile's position from it), then handed to the raster or the vector pipeline by its suffix, with
the budgets from the settings. A disk that fills up on the way (spooling, unpacking, converting)
answers :class:`~layers.ingest.errors.StorageFull` (507); the scratch folder goes either way.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from layers.errors import InvalidInput
from layers.ingest import RASTER_SUFFIXES, IngestLimits, IngestOptions, publish_vector
from layers.ingest.budget import Deadline
from layers.ingest.errors import storage_errors
from layers.raster.inspect import RasterLimits
from layers.store import LayerSpec
from webmap.db import get_pool
from webmap.settings import Settings, raster_storage


@dataclass(frozen=True)
class UploadChoices:
    """What the publisher said about the file, beyond the layer's description."""

    srid: int | None = None
    source_layer: str | None = None
    encoding: str | None = None
    geometry_type: str | None = None


def ingest_limits(settings: Settings) -> IngestLimits:
    """The configured limits on what one upload may unpack and hold."""
    return IngestLimits(
        max_unpacked_bytes=settings.max_unpacked_bytes,
        max_features=settings.max_features,
        max_vertices=settings.max_vertices,
        max_feature_vertices=settings.max_feature_vertices,
        ingest_max_seconds=settings.ingest_max_seconds,
        ingest_statement_timeout_ms=settings.ingest_statement_timeout_ms,
    )


def publish_upload(
    upload: FileStorage, spec: LayerSpec, choices: UploadChoices, settings: Settings
) -> tuple[int, dict[str, Any]]:
    """Publish ``upload`` as the new live version of ``spec.name``; returns (version, report)."""
    original = Path(upload.filename or "upload").name
    scratch_root = Path(settings.upload_dir) if settings.upload_dir else None
    # Outermost, so that a full disk while removing or creating the scratch folder counts too.
    with (
        storage_errors("storing the upload"),
        tempfile.TemporaryDirectory(prefix="webmap-upload-", dir=scratch_root) as scratch,
    ):
        suffix = Path(original).suffix.lower()
        stored = Path(scratch) / (secure_filename(original) or f"upload{suffix}")
        upload.save(stored)
        if suffix in RASTER_SUFFIXES:
            return _publish_raster(spec, stored, choices.srid, settings)
        options = IngestOptions(
            srid=choices.srid,
            source_layer=choices.source_layer,
            encoding=choices.encoding,
            geometry_type=choices.geometry_type,
            keep_versions=settings.keep_versions,
            limits=ingest_limits(settings),
        )
        with get_pool().connection() as conn:
            result = publish_vector(conn, spec, stored, original, options, workdir=Path(scratch))
    return result.version, result.report


def _publish_raster(
    spec: LayerSpec, path: Path, srid: int | None, settings: Settings
) -> tuple[int, dict[str, Any]]:
    from layers.raster import publish_raster

    with get_pool().connection() as conn:
        report = publish_raster(
            conn,
            spec,
            path,
            raster_storage(settings),
            srid,
            limits=RasterLimits(max_pixels=settings.max_raster_pixels),
            keep_versions=settings.keep_versions,
            deadline=Deadline(settings.ingest_max_seconds),
        )
        row = conn.execute(
            "SELECT version FROM webmap.layers WHERE name = %s", [spec.name]
        ).fetchone()
    if row is None:  # published and deleted again between the two statements
        raise InvalidInput(f"The layer {spec.name!r} was deleted while it was published.")
    return int(row[0]), report
