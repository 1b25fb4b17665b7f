"""Why an upload is refused. Each class maps to its own problem type in ``webmap.http.problems``.

Every refusal happens before anything is written, or inside the one transaction that would have
published the new version, so a refused upload never changes what is live.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from layers.errors import InvalidInput, LayerError


class UploadRefused(InvalidInput):
    """Base of ingest refusals; ``extensions`` go into the problem JSON (hint, report, layers)."""

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.extensions = extensions


class UnsupportedFormat(UploadRefused):
    """Not a format we read, or a file GDAL cannot open as what it claims to be."""


class UnsafeArchive(UploadRefused):
    """An archive with paths leaving the folder, links, devices or too many entries."""


class TooLarge(UploadRefused):
    """More bytes, features or vertices than the limits allow (zip bombs included)."""


class ImplausibleCrs(UploadRefused):
    """The declared, given or missing coordinate system does not fit the coordinates."""


class MixedGeometry(UploadRefused):
    """Points, lines and polygons mixed in one layer without saying which to keep."""


class ChooseLayer(UploadRefused):
    """The file holds several layers and the upload did not say which one."""


class NoUsableFeatures(UploadRefused):
    """Every feature was empty, broken beyond repair or otherwise rejected."""


class LayerExists(UploadRefused):
    """``POST`` of a name that is taken: a new version goes through ``PUT``."""


class BudgetExceeded(UploadRefused):
    """The upload needed more time or work than one ingest may take (a setting names it)."""


class StorageFull(LayerError):
    """The server's disk (or the service's quota) filled up while the upload was stored.

    Not the uploader's fault, and nothing of the upload is kept; ``extensions`` say where.
    """

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.extensions = extensions


#: ``errno`` values that mean "no room left": the disk, or the user's quota on it.
FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_storage_full(error: BaseException) -> bool:
    """Whether ``error`` (or an error it was raised from) is a full disk or quota."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in FULL_ERRNOS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def storage_full(where: str) -> StorageFull:
    """The refusal for a disk that filled up while ``where`` was written."""
    return StorageFull(
        f"The server ran out of disk space while {where}; nothing was published and the "
        "live version is unchanged. Try again later, or tell the operator.",
        stage=where,
    )


@contextmanager
def storage_errors(where: str) -> Iterator[None]:
    """Turn a full disk (``ENOSPC``, ``EDQUOT``) raised inside into :class:`StorageFull`."""
    try:
        yield
    except OSError as exc:
        if is_storage_full(exc):
            raise storage_full(where) from exc
        raise
