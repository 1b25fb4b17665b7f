"""The chosen line or area on a static map: parsed, bounded, measured, fitted and drawn.

A receipt for a drawn area (the picker's ``mode="polygon"``) must show the area, not only its
centre; the same for a line. The shape arrives as a GeoJSON geometry in WGS 84 (what the picker
submits), so it is checked here like any outside input: its type, its size (vertices and
characters: a URL carries it), finite coordinates in range, closed rings. Drawing it with a
dark line on a white casing makes it readable on any part of the basemap, as the marker is.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image, ImageDraw
from pyproj import Geod, Transformer

from tiles.errors import InvalidStaticMap

#: The longest geometry text accepted (a URL parameter; browsers and proxies cap URLs ~8-16 KB).
MAX_SHAPE_CHARS = 6_000
#: The most vertices accepted, over all rings: a hand-drawn area has tens.
MAX_SHAPE_VERTICES = 300

_GEOD = Geod(ellps="WGS84")
_TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)

Position = tuple[float, float]


@dataclass(frozen=True)
class Shape:
    """A LineString (one part) or a Polygon (outer ring, then holes), lon/lat in WGS 84."""

    kind: Literal["LineString", "Polygon"]
    parts: tuple[tuple[Position, ...], ...]

    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) in degrees."""
        lons = [p[0] for part in self.parts for p in part]
        lats = [p[1] for part in self.parts for p in part]
        return min(lons), min(lats), max(lons), max(lats)

    def measure(self) -> float:
        """The area in m² (holes subtracted), or the length in m, on the ellipsoid."""
        if self.kind == "LineString":
            lons, lats = zip(*self.parts[0], strict=True)
            return float(_GEOD.line_length(lons, lats))
        total = 0.0
        for index, ring in enumerate(self.parts):
            lons, lats = zip(*ring, strict=True)
            area = abs(_GEOD.polygon_area_perimeter(lons, lats)[0])
            total += area if index == 0 else -area
        return max(0.0, total)


def _position(value: Any) -> Position:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
    ):
        raise InvalidStaticMap("geometry: each position must be [longitude, latitude].")
    lon, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -85 <= lat <= 85):
        raise InvalidStaticMap("geometry: positions must lie within longitude ±180, latitude ±85.")
    return lon, lat


def parse_shape(text: str) -> Shape:
    """A :class:`Shape` from GeoJSON geometry text; :class:`InvalidStaticMap` (a 400) otherwise."""
    if len(text) > MAX_SHAPE_CHARS:
        raise InvalidStaticMap(f"geometry must be at most {MAX_SHAPE_CHARS} characters.")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidStaticMap("geometry is not JSON.") from exc
    if not isinstance(value, dict) or value.get("type") not in {"LineString", "Polygon"}:
        raise InvalidStaticMap("geometry must be a GeoJSON LineString or Polygon.")
    kind = value["type"]
    coordinates = value.get("coordinates")
    raw_parts = [coordinates] if kind == "LineString" else coordinates
    if (
        not isinstance(raw_parts, list)
        or not raw_parts
        or not all(isinstance(part, list) for part in raw_parts)
    ):
        raise InvalidStaticMap("geometry has no coordinates.")
    if sum(len(part) for part in raw_parts) > MAX_SHAPE_VERTICES:
        raise InvalidStaticMap(f"geometry may have at most {MAX_SHAPE_VERTICES} positions.")
    parts = tuple(tuple(_position(p) for p in part) for part in raw_parts)
    if kind == "LineString" and len(parts[0]) < 2:
        raise InvalidStaticMap("a LineString needs at least 2 positions.")
    if kind == "Polygon" and any(len(ring) < 4 or ring[0] != ring[-1] for ring in parts):
        raise InvalidStaticMap("each Polygon ring needs at least 4 positions, the last the first.")
    return Shape(kind, parts)


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    """Web Mercator in units of the world's width (0..1), y downwards, as tiles are."""
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (lon + 180) / 360, 0.5 - y / (2 * math.pi)


def fit(
    shape: Shape, width: int, height: int, max_zoom: int, margin: int = 40
) -> tuple[float, float, int]:
    """(lon, lat, zoom): the centre of the shape's bounds and the closest zoom (at most
    ``max_zoom``) at which the whole shape fits the image with ``margin`` pixels to spare."""
    west, south, east, north = shape.bounds()
    x0, y0 = _mercator(west, north)
    x1, y1 = _mercator(east, south)
    span_x, span_y = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
    room_x, room_y = max(width - 2 * margin, 16), max(height - 2 * margin, 16)
    zoom = math.floor(math.log2(min(room_x / (256 * span_x), room_y / (256 * span_y))))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * cy))))
    return cx * 360 - 180, lat, max(0, min(max_zoom, zoom))


#: The outline: a dark line on a white casing; the area tinted, so the map stays readable.
OUTLINE = "#1a1a1a"
CASING = "#ffffff"
TINT = "#0b4f8a"
TINT_ALPHA = 70


def draw_shape(image: Image.Image, shape: Shape, to_pixels: Any, scale: int) -> None:
    """Draw ``shape`` on ``image`` (RGB, supersampled by ``scale``); ``to_pixels`` maps EPSG:3857
    coordinates to image pixels."""
    parts = [
        to_pixels([_TO_MERCATOR.transform(lon, lat) for lon, lat in part]) for part in shape.parts
    ]
    if shape.kind == "Polygon":
        tint = Image.new("L", image.size, 0)
        pen = ImageDraw.Draw(tint)
        pen.polygon(parts[0], fill=TINT_ALPHA)
        for hole in parts[1:]:
            pen.polygon(hole, fill=0)
        image.paste(TINT, mask=tint)
    draw = ImageDraw.Draw(image)
    width = 3 * scale
    for part in parts:
        draw.line(part, fill=CASING, width=width + 2 * scale, joint="curve")
    for part in parts:
        draw.line(part, fill=OUTLINE, width=width, joint="curve")
