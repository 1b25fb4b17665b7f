"""SWEREF 99: the national grid (TM, EPSG:3006), the 12 local zones (EPSG:3007–3018), and checks
that a coordinate can be in Sweden at all.

Axis order: EPSG defines SWEREF 99 with northing first (N, E), but almost every file and web
service sends easting first. Everything here takes and returns (easting, northing) =
(x, y) and says so in the API documentation; transformers are built with ``always_xy=True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pyproj import Transformer

from layers.errors import InvalidInput

SWEREF99_TM = 3006
WGS84 = 4326

#: SWEREF 99 TM and the local projection zones municipalities use for their own maps.
SWEREF99_ZONES: dict[int, str] = {
    3006: "SWEREF 99 TM",
    3007: "SWEREF 99 12 00",
    3008: "SWEREF 99 13 30",
    3009: "SWEREF 99 15 00",
    3010: "SWEREF 99 16 30",
    3011: "SWEREF 99 18 00",
    3012: "SWEREF 99 14 15",
    3013: "SWEREF 99 15 45",
    3014: "SWEREF 99 17 15",
    3015: "SWEREF 99 18 45",
    3016: "SWEREF 99 20 15",
    3017: "SWEREF 99 21 45",
    3018: "SWEREF 99 23 15",
}

# Sweden's extent with a margin of a few km (Smygehuk 55.34 N … Treriksröset 69.06 N,
# Koster 10.96 E … Haparanda 24.17 E). A point outside this box cannot be a Swedish address.
_LON_MIN, _LON_MAX = 10.5, 24.5
_LAT_MIN, _LAT_MAX = 55.0, 69.5


class UnknownSrid(InvalidInput):
    """An srid that is not SWEREF 99 TM or one of its local zones."""


class OutsideSweden(InvalidInput):
    """Coordinates that cannot lie in Sweden (possibly with a hint that the axes are swapped)."""

    def __init__(self, detail: str, hint: str | None = None) -> None:
        super().__init__(detail if hint is None else f"{detail} {hint}")
        self.hint = hint


@dataclass(frozen=True)
class LonLat:
    """A WGS 84 position, longitude first."""

    lon: float
    lat: float


def check_srid(srid: int) -> int:
    """``srid`` itself when it is SWEREF 99 TM or a local zone; otherwise :class:`UnknownSrid`."""
    if srid not in SWEREF99_ZONES:
        raise UnknownSrid(
            f"Unknown srid {srid}: use 3006 (SWEREF 99 TM) or a local SWEREF 99 zone 3007–3018."
        )
    return srid


@lru_cache(maxsize=64)
def transformer(source: int, target: int) -> Transformer:
    """A cached, thread-safe-enough transformer in (x, y) = (easting/lon, northing/lat) order."""
    return Transformer.from_crs(source, target, always_xy=True)


def plausible_in_sweden(lon: float, lat: float) -> bool:
    """True when (lon, lat) lies within Sweden's extent (a box: neighbours pass too)."""
    return _LON_MIN <= lon <= _LON_MAX and _LAT_MIN <= lat <= _LAT_MAX


def check_lonlat(lon: float, lat: float, what: str = "The point") -> LonLat:
    """A WGS 84 point that can be in Sweden, or :class:`OutsideSweden` with a swap hint."""
    if not plausible_in_sweden(lon, lat):
        hint = None
        if plausible_in_sweden(lat, lon):
            hint = (
                "lon and lat look swapped: lon is the east–west value (11–24 in Sweden), "
                "lat the north–south value (55–69)."
            )
        raise OutsideSweden(f"{what} ({lon}, {lat}) cannot be in Sweden.", hint)
    return LonLat(lon, lat)


def to_lonlat(x: float, y: float, srid: int) -> LonLat:
    """The WGS 84 position of easting ``x``, northing ``y`` in ``srid`` (no Sweden check)."""
    lon, lat = transformer(srid, WGS84).transform(x, y)
    return LonLat(float(lon), float(lat))


def check_sweref(x: float, y: float, srid: int, what: str = "The point") -> LonLat:
    """WGS 84 of a SWEREF 99 point that can be in Sweden; a swap hint when (y, x) would fit."""
    check_srid(srid)
    position = to_lonlat(x, y, srid)
    if plausible_in_sweden(position.lon, position.lat):
        return position
    swapped = to_lonlat(y, x, srid)
    hint = None
    if plausible_in_sweden(swapped.lon, swapped.lat):
        hint = "x and y look swapped: x is the easting (E), y the northing (N)."
    raise OutsideSweden(f"{what} x={x}, y={y} in EPSG:{srid} cannot be in Sweden.", hint)
