"""Which coordinate system an upload is in, and whether its coordinates can be in it.

The classic accident is a file whose coordinates are SWEREF 99 TM (metres, ~6.5 million north)
while the file says or implies WGS 84 (GeoJSON without a ``crs`` member always implies it): the
data would land far outside the world, or in the ocean. Rather than publish that, the upload is
refused with a hint naming the coordinate system the numbers look like, and how to say so.
Decisions are made on the layer's bounds, which is cheap and catches every whole-file mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from layers.crs import SWEREF99_ZONES
from layers.ingest.errors import ImplausibleCrs

Bounds = tuple[float, float, float, float]
WGS84 = 4326
WEB_MERCATOR = 3857
RT90 = 3021

#: Systems a Swedish (or Nordic) municipality's file is likely in, most likely first.
KNOWN: dict[int, str] = {
    **SWEREF99_ZONES,
    RT90: "RT90 2.5 gon V",
    25832: "ETRS89 / UTM 32N",
    25833: "ETRS89 / UTM 33N",
    25834: "ETRS89 / UTM 34N",
    25835: "ETRS89 / UTM 35N",
    WGS84: "WGS 84",
    WEB_MERCATOR: "Web Mercator",
}
#: How far (degrees) data may reach beyond a projection's documented area of use.
_AREA_MARGIN = 3.0
_NORDIC = (4.0, 54.0, 32.0, 72.0)


@dataclass(frozen=True)
class CrsDecision:
    """The coordinate system chosen for an upload, where it came from, and notes for the report."""

    crs: CRS
    srid: int | None
    source: str  # "given", "declared", "column" or "assumed"
    lonlat_bounds: Bounds
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        if self.srid is not None:
            return f"EPSG:{self.srid} ({KNOWN.get(self.srid, self.crs.name)})"
        return self.crs.name


@lru_cache(maxsize=64)
def to_lonlat(crs_text: str) -> Transformer:
    """A cached transformer from ``crs_text`` to WGS 84, longitude first."""
    return Transformer.from_crs(CRS.from_user_input(crs_text), WGS84, always_xy=True)


def parse_crs(text: str) -> CRS:
    """A pyproj CRS of an EPSG code, ``EPSG:n`` or WKT; :class:`ImplausibleCrs` when unknown."""
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise ImplausibleCrs(f"The coordinate system {text!r} is unknown.") from exc


def epsg_of(crs: CRS) -> int | None:
    """The EPSG code of ``crs`` when pyproj can match it (ESRI .prj files included)."""
    return crs.to_epsg(min_confidence=70) or crs.to_epsg(min_confidence=25)


def _corners(bounds: Bounds) -> list[tuple[float, float]]:
    xmin, ymin, xmax, ymax = bounds
    xmid, ymid = (xmin + xmax) / 2, (ymin + ymax) / 2
    return [(xmin, ymin), (xmin, ymax), (xmax, ymin), (xmax, ymax), (xmid, ymid)]


def _lonlat_bounds(crs: CRS, bounds: Bounds) -> Bounds | None:
    """``bounds`` in WGS 84, or None when they cannot be transformed (off the projection)."""
    transformer = to_lonlat(crs.to_wkt())
    points = [transformer.transform(x, y) for x, y in _corners(bounds)]
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    if not all(abs(v) < 1e9 for v in lons + lats) or any(v != v for v in lons + lats):
        return None
    box = (min(lons), min(lats), max(lons), max(lats))
    if box[0] < -180.5 or box[2] > 180.5 or box[1] < -90.5 or box[3] > 90.5:
        return None
    return box


def _inside(box: Bounds, area: Bounds, margin: float) -> bool:
    return (
        box[0] >= area[0] - margin
        and box[2] <= area[2] + margin
        and box[1] >= area[1] - margin
        and box[3] <= area[3] + margin
    )


def _area(crs: CRS) -> Bounds:
    aou = crs.area_of_use
    if aou is None:
        return (-180.0, -90.0, 180.0, 90.0)
    return (aou.west, aou.south, aou.east, aou.north)


def fits(crs: CRS, bounds: Bounds, center_margin: float = _AREA_MARGIN) -> Bounds | None:
    """The WGS 84 bounds when ``bounds`` can be coordinates in ``crs``; else None.

    The whole box may reach ``_AREA_MARGIN`` degrees beyond the projection's area of use (the
    corners of a projected box of a whole country stick out), its centre ``center_margin``.
    """
    if crs.is_geographic:
        ok = bounds[0] >= -180.0 and bounds[2] <= 180.0 and bounds[1] >= -90.0 and bounds[3] <= 90.0
        return (bounds[0], bounds[1], bounds[2], bounds[3]) if ok else None
    box = _lonlat_bounds(crs, bounds)
    if box is None or not _inside(box, _area(crs), _AREA_MARGIN):
        return None
    lon, lat = to_lonlat(crs.to_wkt()).transform(
        (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    )
    if not _inside((lon, lat, lon, lat), _area(crs), center_margin):
        return None
    return box


def looks_like(bounds: Bounds, exclude: int | None = None) -> list[int]:
    """Known systems the coordinates fit snugly, most likely first (empty when none)."""
    found: list[int] = []
    for srid in KNOWN:
        # Web Mercator fits almost any pair of numbers: only a last resort.
        if srid == exclude or (srid == WEB_MERCATOR and found):
            continue
        if fits(CRS.from_epsg(srid), bounds, center_margin=0.5) is not None:
            found.append(srid)
    return found


def _names(srids: list[int]) -> str:
    local = [s for s in srids if s in range(3007, 3019)]
    if len(local) > 1 and len(local) == len(srids):
        return (
            "one of the local SWEREF 99 zones (EPSG:3007–3018, e.g. 3011 SWEREF 99 18 00 in "
            "Stockholm); use your municipality's zone"
        )
    return " or ".join(f"EPSG:{s} ({KNOWN[s]})" for s in srids[:4])


def _swapped(bounds: Bounds) -> Bounds:
    return (bounds[1], bounds[0], bounds[3], bounds[2])


def _swap_hint(srids: list[int]) -> str:
    return (
        "The axes look swapped (north before east, or latitude before longitude): "
        f"with x and y exchanged they fit {_names(srids)}. "
        "Swap the columns or the axis order and upload again."
    )


def _hint_for(bounds: Bounds, what: str, current: int | None) -> str:
    """A sentence saying what the coordinates look like and how to upload them correctly."""
    candidates = looks_like(bounds, exclude=current)
    swapped_candidates = [s for s in looks_like(_swapped(bounds)) if s != WEB_MERCATOR]
    if (candidates and candidates != [WEB_MERCATOR]) or (candidates and not swapped_candidates):
        advice = (
            f"srid={candidates[0]}"
            if len(candidates) == 1 or candidates[0] not in range(3007, 3019)
            else "the srid of your zone"
        )
        return (
            f"The coordinates look like {_names(candidates)}, not {what}. Upload again with "
            f"{advice} (or put the coordinate system in the file)."
        )
    if swapped_candidates:
        return _swap_hint(swapped_candidates)
    return (
        f"They fit neither {what} nor any coordinate system we know for the Nordic countries; "
        "check the file's coordinate system and give it as srid."
    )


def decide_crs(
    bounds: Bounds,
    given_srid: int | None = None,
    declared: str | None = None,
    implied_wgs84: bool = False,
    column_srid: int | None = None,
) -> CrsDecision:
    """Choose the coordinate system of a layer with ``bounds`` or refuse with a hint.

    Order of trust: what the uploader gives (``srid``), what the file declares (not merely
    implies), an EPSG column (CSV), then a guess from the numbers, which is only made for
    degrees: metres are ambiguous between too many systems to guess silently.
    """
    warnings: list[str] = []
    if given_srid is not None:
        crs, source = parse_crs(f"EPSG:{given_srid}"), "given"
    elif declared and not implied_wgs84:
        crs, source = parse_crs(declared), "declared"
    elif column_srid is not None:
        crs, source = parse_crs(f"EPSG:{column_srid}"), "column"
    elif implied_wgs84:
        crs, source = CRS.from_epsg(WGS84), "implied"
    else:
        crs, source = CRS.from_epsg(WGS84), "assumed"
    srid = epsg_of(crs)
    if srid is not None and crs.to_epsg(min_confidence=70) == srid:
        # An ESRI .prj names no area of use; its EPSG twin does, and that is what we check.
        crs = CRS.from_epsg(srid)
    what = f"EPSG:{srid} ({KNOWN.get(srid, crs.name)})" if srid else crs.name
    box = fits(crs, bounds)
    # Degrees with latitude first put Sweden in the Arabian Sea: fits the world, but wrong.
    nordic_swapped = (
        box is not None
        and crs.is_geographic
        and _inside(_swapped(bounds), _NORDIC, 0)
        and not _inside(bounds, _NORDIC, 0)
    )
    if box is None or nordic_swapped:
        said = {
            "given": "the srid you gave",
            "declared": "what the file declares",
            "column": "the file's EPSG column",
            "implied": "what the file implies (GeoJSON without a crs member means WGS 84)",
            "assumed": "WGS 84, assumed because the file names no coordinate system",
        }[source]
        hint = _swap_hint([srid or WGS84]) if nordic_swapped else _hint_for(bounds, what, srid)
        raise ImplausibleCrs(
            f"The coordinates (x {bounds[0]:.6g}…{bounds[2]:.6g}, y {bounds[1]:.6g}…"
            f"{bounds[3]:.6g}) cannot be in {said}. {hint}",
            hint=hint,
            suggested_srids=looks_like(bounds, exclude=srid),
        )
    if source == "assumed":
        warnings.append("The file names no coordinate system; its degrees were read as WGS 84.")
    return CrsDecision(crs, srid, source, box, tuple(warnings))
