"""Small GeoTIFFs written by the tests (in the spirit of rio-tiler's fixtures) and PNG decoding."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

#: A 1 km × 1 km square in central Göteborg in SWEREF 99 TM, 10 m pixels.
GOTEBORG_ORIGIN = (319_000.0, 6_400_000.0)


def write_geotiff(
    path: Path,
    data: np.ndarray[Any, Any],
    *,
    crs: str | None = "EPSG:3006",
    origin: tuple[float, float] | None = GOTEBORG_ORIGIN,
    pixel: float = 10.0,
    nodata: float | None = None,
    colormap: dict[int, tuple[int, int, int, int]] | None = None,
) -> Path:
    """Write ``data`` (bands × rows × cols) as a GeoTIFF; ``origin=None`` leaves it unplaced."""
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "count": data.shape[0],
        "height": data.shape[1],
        "width": data.shape[2],
        "dtype": str(data.dtype),
    }
    if crs is not None:
        profile["crs"] = crs
    if origin is not None:
        profile["transform"] = from_origin(origin[0], origin[1], pixel, pixel)
    if nodata is not None:
        profile["nodata"] = nodata
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data)
            if colormap:
                dst.write_colormap(1, colormap)
    return path


def decode_image(body: bytes) -> np.ndarray[Any, Any]:
    """A PNG or WebP tile as bands × rows × cols (the last band is alpha when present)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(body) as memfile, memfile.open() as image:
            return image.read()
