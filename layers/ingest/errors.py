"""Why an upload is refused. Each class maps to its own problem type in ``webmap.problems``.

Every refusal happens before anything is written, or inside the one transaction that would have
published the new version, so a refused upload never changes what is live.
"""

from __future__ import annotations

from typing import Any

from layers.errors import InvalidInput


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
