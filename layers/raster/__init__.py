"""Raster layers: GeoTIFF and SRTM uploads stored as Cloud Optimized GeoTIFFs, versioned like
vector layers (one catalog row per version, the COG's file name in ``table_name``)."""

from layers.raster.cog import TAG_KIND, TAG_MAX, TAG_MIN, stored_path
from layers.raster.inspect import RASTER_KINDS, RasterFacts, RasterLimits
from layers.raster.publish import (
    clean_storage,
    delete_raster_layer,
    prune_raster_versions,
    publish_raster,
)

__all__ = [
    "RASTER_KINDS",
    "TAG_KIND",
    "TAG_MAX",
    "TAG_MIN",
    "RasterFacts",
    "RasterLimits",
    "clean_storage",
    "delete_raster_layer",
    "prune_raster_versions",
    "publish_raster",
    "stored_path",
]
