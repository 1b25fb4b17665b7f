"""The demo receipt's static map: the chosen point at street level, or the drawn line or area
itself, fitted to the image (not only its centre), with words saying which it is.

Why a module of its own: the receipt is where an e-service shows the citizen what it received,
and a drawn area reduced to a dot would hide exactly what was drawn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from tiles.staticmap import MAX_ZOOM, InvalidStaticMap
from tiles.staticmap_shape import fit, parse_shape

#: The receipt's image size (CSS pixels), and the zoom for a point.
WIDTH, HEIGHT, POINT_ZOOM = 600, 300, 16
#: A drawn shape is never shown closer than this (a tiny area would fill the image with blur).
SHAPE_MAX_ZOOM = min(18, MAX_ZOOM)


@dataclass(frozen=True)
class ReceiptMap:
    """``params`` for ``url_for('staticmap.static_map', …)`` and what the image shows."""

    params: dict[str, Any]
    shows: Literal["point", "line", "area"]


def _rounded(coordinates: Any) -> Any:
    """Positions to 6 decimals (~0.1 m): short enough for a URL, finer than a hand can draw."""
    if isinstance(coordinates, list) and coordinates and isinstance(coordinates[0], int | float):
        return [round(float(c), 6) for c in coordinates]
    return [_rounded(part) for part in coordinates]


def receipt_map(location: dict[str, Any]) -> ReceiptMap:
    """The static map for a received picker value (a checked GeoJSON Feature in WGS 84)."""
    geometry = location["geometry"]
    size = {"width": WIDTH, "height": HEIGHT}
    if geometry["type"] in {"LineString", "Polygon"}:
        text = json.dumps(
            {"type": geometry["type"], "coordinates": _rounded(geometry["coordinates"])},
            separators=(",", ":"),
        )
        try:
            shape = parse_shape(text)
        except InvalidStaticMap:
            shape = None  # too large for a URL: the centre is shown instead
        if shape is not None:
            lon, lat, zoom = fit(shape, WIDTH, HEIGHT, SHAPE_MAX_ZOOM)
            params = {"lon": round(lon, 6), "lat": round(lat, 6), "zoom": zoom, **size}
            shows: Literal["line", "area"] = "area" if shape.kind == "Polygon" else "line"
            return ReceiptMap({**params, "geometry": text}, shows)
    lon, lat = _centre(location)
    return ReceiptMap({"lon": lon, "lat": lat, "zoom": POINT_ZOOM, **size}, "point")


def _centre(location: dict[str, Any]) -> tuple[float, float]:
    """The point, or a shape's stated centre (checked: it came from the form), else its start."""
    geometry = location["geometry"]
    centre = location["properties"].get("centre")
    if (
        isinstance(centre, list)
        and len(centre) == 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in centre)
    ):
        return float(centre[0]), float(centre[1])
    coordinates = geometry["coordinates"]
    if geometry["type"] == "Point":
        return coordinates[0], coordinates[1]
    first = coordinates[0] if geometry["type"] == "LineString" else coordinates[0][0]
    return first[0], first[1]
