"""Publishing an uploaded file: one path for the staff API and the admin pages.

The upload is spooled to a scratch folder under its sanitised original name (GDAL reads an SRTM
tile's position from it), then handed to the publishing facade (:mod:`layers.publishing`), which
picks the raster or the vector pipeline by its suffix and applies the budgets from the settings.
A disk that fills up on the way (spooling, unpacking, converting) answers
:class:`~layers.ingest.errors.StorageFull` (507); the scratch folder goes either way.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from layers.ingest.errors import storage_errors
from layers.publishing import LayerChanges, Published, Publishing, SourceFile
from layers.store import LayerSpec
from webmap.db import get_pool
from webmap.services import services
from webmap.settings import Settings


@dataclass(frozen=True)
class UploadChoices:
    """What the publisher said about the file, beyond the layer's description."""

    srid: int | None = None
    source_layer: str | None = None
    encoding: str | None = None
    geometry_type: str | None = None


@contextmanager
def _spooled(
    upload: FileStorage, choices: UploadChoices, settings: Settings
) -> Iterator[tuple[SourceFile, Publishing]]:
    """The upload saved in a scratch folder, and the facade unpacking into that folder."""
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
        source = SourceFile(
            stored,
            original,
            srid=choices.srid,
            source_layer=choices.source_layer,
            encoding=choices.encoding,
            geometry_type=choices.geometry_type,
        )
        yield source, dataclasses.replace(services().publishing, workdir=Path(scratch))


def _answer(published: Published) -> tuple[int, dict[str, Any]]:
    return published.version, published.report


def publish_upload(
    upload: FileStorage, spec: LayerSpec, choices: UploadChoices, settings: Settings
) -> tuple[int, dict[str, Any]]:
    """Publish ``upload`` as the new layer ``spec.name``; returns (version, report).

    :class:`~layers.ingest.errors.LayerExists` when the name is taken (checked under the lock).
    """
    with (
        _spooled(upload, choices, settings) as (source, publishing),
        get_pool().connection() as conn,
    ):
        return _answer(publishing.publish(conn, spec, source))


def replace_upload(
    upload: FileStorage,
    name: str,
    changes: LayerChanges,
    choices: UploadChoices,
    settings: Settings,
) -> tuple[int, dict[str, Any]]:
    """Publish ``upload`` as a new version of layer ``name``; metadata not in ``changes``
    keeps its value. Returns (version, report)."""
    with (
        _spooled(upload, choices, settings) as (source, publishing),
        get_pool().connection() as conn,
    ):
        return _answer(publishing.replace(conn, name, source, changes))
