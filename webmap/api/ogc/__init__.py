"""OGC API under ``/ogc``: Features (Parts 1, 2 and 5) and Tiles, for QGIS, GDAL and OWSLib."""

from webmap.api.ogc import features, tiles
from webmap.api.ogc.blueprint import blueprint

__all__ = ["blueprint", "features", "tiles"]
