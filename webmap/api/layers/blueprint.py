"""The ``/api/layers`` blueprint, with every uploaded file spooled to disk.

An upload is spooled to a temp file in the scratch folder (``WEBMAP_UPLOAD_DIR``) as werkzeug
parses the body, never held in memory, and closed when the request ends, even when the client
disconnected halfway and parsing failed: the handlers then fail while the body is read, before
the database is touched. The routes are in :mod:`webmap.api.layers.views`.
"""

from __future__ import annotations

import tempfile
from typing import IO

from flask import Blueprint, g, request

from webmap.services import services

blueprint = Blueprint("layers_api", __name__)


def _spool_to_disk(
    total_content_length: int | None,
    content_type: str | None,
    filename: str | None,
    content_length: int | None = None,
) -> IO[bytes]:
    """Where werkzeug streams an uploaded file: a temp file we close even if parsing fails."""
    settings = services().settings
    handle = tempfile.TemporaryFile(dir=settings.upload_dir or None)  # noqa: SIM115 (closed in teardown)
    g.setdefault("upload_files", []).append(handle)
    return handle


@blueprint.teardown_request
def _close_spooled(_error: BaseException | None) -> None:
    # werkzeug leaves the spool of an aborted body (client gone halfway) to the GC; close now.
    for handle in g.pop("upload_files", []):
        handle.close()


@blueprint.before_request
def _spool_uploads_to_disk() -> None:
    # werkzeug's hook for where uploaded files go (Request._get_file_stream), set per request
    # before anything (the CSRF check included) parses the form.
    setattr(request, "_get_file_stream", _spool_to_disk)  # noqa: B010
