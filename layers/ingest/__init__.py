"""Ingesting staff uploads: find the dataset, read it, check the CRS, repair, publish a version.

:func:`publish_vector` is the single entry point used by the HTTP API and the CLI alike.
"""

from layers.ingest.errors import (
    ChooseLayer,
    ImplausibleCrs,
    LayerExists,
    MixedGeometry,
    NoUsableFeatures,
    TooLarge,
    UnsafeArchive,
    UnsupportedFormat,
    UploadRefused,
)
from layers.ingest.formats import RASTER_SUFFIXES, VECTOR_SUFFIXES
from layers.ingest.limits import IngestLimits
from layers.ingest.pipeline import IngestOptions, Progress, PublishResult, publish_vector

__all__ = [
    "RASTER_SUFFIXES",
    "VECTOR_SUFFIXES",
    "ChooseLayer",
    "ImplausibleCrs",
    "IngestLimits",
    "IngestOptions",
    "LayerExists",
    "MixedGeometry",
    "NoUsableFeatures",
    "Progress",
    "PublishResult",
    "TooLarge",
    "UnsafeArchive",
    "UnsupportedFormat",
    "UploadRefused",
    "publish_vector",
]
