"""Looking at an uploaded raster before anything is written: is it usable, and how to draw it.

Every refusal is a :class:`~layers.errors.InvalidInput` whose message tells GIS staff what to do
(pass ``srid``, warp with ``gdalwarp``, split the file), because a raster without georeferencing or
with a wrong coordinate system would otherwise be published in the ocean or not at all.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyproj
from pyproj.exceptions import CRSError
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.io import DatasetReader
from rasterio.warp import transform_bounds

from layers.errors import InvalidInput
from layers.ingest.gdal_policy import open_untrusted_raster

#: How a raster is drawn. ``continuous``: one band of measurements (elevation, temperature):
#: bilinear resampling, hillshade or colour ramp. ``categorical``: one band of class codes with a
#: colour table: nearest neighbour, never blended. ``rgb``: 8-bit colour (orthophotos).
RASTER_KINDS = ("continuous", "categorical", "rgb")
#: Longest side of the decimated read used for value statistics (fast on any file size).
_STATS_SIDE = 1024


@dataclass(frozen=True)
class RasterLimits:
    """What the service accepts; beyond these a file is refused instead of filling the disk."""

    max_side: int = 100_000
    max_pixels: int = 1_000_000_000
    max_bands: int = 4


@dataclass(frozen=True)
class RasterFacts:
    """What publishing needs to know about one source raster."""

    width: int
    height: int
    count: int
    dtype: str
    crs: CRS
    crs_note: str
    crs_overridden: bool
    bounds_wgs84: tuple[float, float, float, float]
    nodata: float | None
    kind: str
    value_range: tuple[float, float] | None
    driver: str

    @property
    def resampling(self) -> str:
        """Resampling for tiles: classes must never be blended into codes that do not exist."""
        return "nearest" if self.kind == "categorical" else "bilinear"

    @property
    def overview_resampling(self) -> str:
        """Resampling for the COG's overviews: the majority class, or the mean of measurements."""
        return "mode" if self.kind == "categorical" else "average"


@contextmanager
def open_raster(path: Path) -> Iterator[DatasetReader]:
    """Open ``path`` as its suffix says (GeoTIFF or SRTM .hgt) and nothing else, under the
    ingest GDAL policy (:mod:`layers.ingest.gdal_policy`) while it is open."""
    with ExitStack() as stack:
        try:
            # The "not georeferenced" warning is turned into a clear refusal by inspect_raster.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                src = stack.enter_context(open_untrusted_raster(path))
        except RasterioIOError as exc:
            raise InvalidInput(
                f"{path.name!r} is not a raster GDAL can read (GeoTIFF, SRTM .hgt …). "
                "An SRTM tile must keep its original name, such as N57E011.hgt."
            ) from exc
        yield src


def inspect_raster(
    src: DatasetReader, srid: int | None = None, limits: RasterLimits | None = None
) -> RasterFacts:
    """Check ``src`` and describe it; raises :class:`InvalidInput` for implausible rasters."""
    limits = limits or RasterLimits()
    _check_size(src, limits)
    _check_georeferencing(src, srid)
    crs, note, overridden = _horizontal_crs(src, srid)
    bounds = _plausible_bounds(src, crs)
    kind = _kind(src)
    value_range = _value_range(src) if kind == "continuous" else None
    return RasterFacts(
        width=src.width,
        height=src.height,
        count=src.count,
        dtype=src.dtypes[0],
        crs=crs,
        crs_note=note,
        crs_overridden=overridden,
        bounds_wgs84=bounds,
        nodata=None if src.nodata is None else float(src.nodata),
        kind=kind,
        value_range=value_range,
        driver=src.driver,
    )


def _check_size(src: DatasetReader, limits: RasterLimits) -> None:
    if src.width > limits.max_side or src.height > limits.max_side:
        raise InvalidInput(
            f"The raster is {src.width} × {src.height} pixels; the longest side allowed is "
            f"{limits.max_side}. Split it into tiles or lower its resolution first."
        )
    if src.width * src.height > limits.max_pixels:
        raise InvalidInput(
            f"The raster has {src.width * src.height:,} pixels per band; at most "
            f"{limits.max_pixels:,} are allowed. Split it or lower its resolution first."
        )
    if src.count > limits.max_bands:
        raise InvalidInput(
            f"The raster has {src.count} bands; at most {limits.max_bands} are supported "
            "(one band of values, or RGB / RGBA)."
        )
    if any(np.dtype(d).kind == "c" for d in src.dtypes):
        raise InvalidInput("Rasters with complex numbers cannot be drawn as a map layer.")


def _check_georeferencing(src: DatasetReader, srid: int | None) -> None:
    if src.transform.is_identity:
        if src.gcps[0]:
            raise InvalidInput(
                "The raster is georeferenced only by ground control points; warp it to a grid "
                "first, e.g. `gdalwarp -t_srs EPSG:3006 in.tif out.tif`."
            )
        raise InvalidInput(
            "The raster has no georeferencing (no geotransform): it cannot be placed on the map. "
            "Export it as a GeoTIFF with its position, or add a world file."
        )
    if src.transform.b != 0 or src.transform.d != 0:
        raise InvalidInput(
            "The raster's grid is rotated; warp it to a north-up grid first, "
            "e.g. `gdalwarp in.tif out.tif`."
        )
    if src.crs is None and srid is None:
        raise InvalidInput(
            "The raster has a position but no coordinate system; give srid, "
            "e.g. 3006 for SWEREF 99 TM."
        )


def _horizontal_crs(src: DatasetReader, srid: int | None) -> tuple[CRS, str, bool]:
    """The 2-D CRS to store: ``srid`` when given, else the file's, 3-D reduced to horizontal.

    A 3-D geographic CRS such as EPSG:4977 (SWEREF99 with ellipsoidal height) describes the same
    horizontal positions as its 2-D form (EPSG:4619); a raster's grid is two-dimensional, and
    map tools handle 2-D CRSs consistently, so the horizontal part is what is stored.
    """
    try:
        declared = pyproj.CRS.from_epsg(srid) if srid is not None else _proj(src.crs)
    except CRSError as exc:
        raise InvalidInput(f"srid {srid} is not a known EPSG coordinate system.") from exc
    overridden = srid is not None
    note = f"EPSG:{srid} as given" if overridden else _label(declared)
    if len(declared.axis_info) > 2 or declared.is_compound:
        horizontal = declared.to_2d() if not declared.is_compound else declared.sub_crs_list[0]
        note = f"{_label(declared)} reduced to its horizontal CRS {_label(horizontal)}"
        declared = horizontal
        overridden = True
    epsg = declared.to_epsg()
    crs = CRS.from_epsg(epsg) if epsg else CRS.from_wkt(declared.to_wkt())
    return crs, note, overridden


def _proj(crs: CRS) -> pyproj.CRS:
    """The pyproj CRS, from the EPSG code when there is one (a WKT round trip loses the area
    of use that :func:`_plausible_bounds` checks against)."""
    epsg = crs.to_epsg()
    return pyproj.CRS.from_epsg(epsg) if epsg else pyproj.CRS.from_wkt(crs.to_wkt())


def _label(crs: pyproj.CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def _plausible_bounds(src: DatasetReader, crs: CRS) -> tuple[float, float, float, float]:
    """Bounds in WGS 84, refusing coordinates that cannot be in ``crs`` (a wrong declaration)."""
    left, bottom, right, top = src.bounds
    hint = "Check the file's coordinate system, or give the right srid."
    if crs.is_geographic and not (
        -180.5 <= left < right <= 360.5 and -90.5 <= min(bottom, top) <= max(bottom, top) <= 90.5
    ):
        raise InvalidInput(
            f"The raster says {crs.to_string()} (degrees) but its extent ({left:.0f}, "
            f"{bottom:.0f}, {right:.0f}, {top:.0f}) looks like metres, e.g. SWEREF 99 TM "
            f"(srid 3006). {hint}"
        )
    try:
        west, south, east, north = transform_bounds(crs, "EPSG:4326", *src.bounds)
    except Exception as exc:  # PROJ raises several types for impossible coordinates
        raise InvalidInput(f"The raster's extent cannot be placed on Earth. {hint}") from exc
    wgs84 = (max(west, -180.0), max(south, -90.0), min(east, 180.0), min(north, 90.0))
    if not all(math.isfinite(v) for v in wgs84) or wgs84[0] >= wgs84[2] or wgs84[1] >= wgs84[3]:
        raise InvalidInput(f"The raster's extent cannot be placed on Earth. {hint}")
    area = _proj(crs).area_of_use
    if area is not None and not _intersects(wgs84, area.bounds):
        raise InvalidInput(
            f"The raster lies at {_where(wgs84)}, outside the area where {crs.to_string()} is "
            f"used ({area.name}). {hint}"
        )
    return wgs84


def _intersects(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    # Area-of-use boxes may cross the antimeridian (west > east); then only latitude is checked.
    lat_overlap = a[1] <= b[3] and b[1] <= a[3]
    if b[0] > b[2]:
        return lat_overlap
    return lat_overlap and a[0] <= b[2] and b[0] <= a[2]


def _where(bounds: tuple[float, float, float, float]) -> str:
    return f"lon {(bounds[0] + bounds[2]) / 2:.2f}, lat {(bounds[1] + bounds[3]) / 2:.2f}"


def _kind(src: DatasetReader) -> str:
    dtypes = set(src.dtypes)
    if src.count == 1:
        if src.colorinterp[0] == ColorInterp.palette:
            return "categorical"
        return "continuous"
    if src.count in (3, 4) and dtypes == {"uint8"}:
        return "rgb"
    raise InvalidInput(
        f"A raster with {src.count} bands of type {', '.join(sorted(dtypes))} cannot be drawn: "
        "publish one band of values (elevation, classes with a colour table) or 8-bit RGB(A)."
    )


def _value_range(src: DatasetReader) -> tuple[float, float]:
    """Minimum and maximum of the valid values, from a decimated read (overviews when present)."""
    scale = max(src.width, src.height) / _STATS_SIDE
    shape = (
        (max(1, round(src.height / scale)), max(1, round(src.width / scale)))
        if scale > 1
        else (src.height, src.width)
    )
    values = src.read(1, out_shape=shape, masked=True, resampling=Resampling.nearest)
    valid = values.compressed()
    if valid.dtype.kind == "f":
        valid = valid[np.isfinite(valid)]
    if valid.size == 0:
        raise InvalidInput("Every pixel of the raster is nodata: there is nothing to show.")
    low, high = float(valid.min()), float(valid.max())
    return (low, high if high > low else low + 1.0)
