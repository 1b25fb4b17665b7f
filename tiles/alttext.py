"""What a static map shows, as data for its alternative text.

A receipt's map is useless to a blind citizen unless its text says what it shows: the marked
place (address, property, municipality) and how much ground the image covers. This module picks
the facts and rounds the numbers as the text states them; ``webmap`` words them in the reader's
language from its gettext catalogues (no sentences below ``webmap/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class PlaceWords:
    """What is known about the marked place, each part optional."""

    address: str | None = None
    designation: str | None = None
    fictional: bool = False
    municipality: str | None = None
    e: float | None = None
    n: float | None = None
    #: WGS 84, the last resort where nothing else is known (outside Sweden SWEREF 99 is not).
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True)
class MapDescription:
    """The facts an alt text states, in the order it states them; ``None`` parts are left out.

    The place is named by address, property and municipality when any is known; otherwise by its
    SWEREF 99 TM position (whole metres); otherwise, far from Sweden, by WGS 84 degrees.
    """

    address: str | None
    designation: str | None
    fictional: bool
    municipality: str | None
    #: (n, e) in whole metres, only when no name is known.
    sweref: tuple[int, int] | None
    #: (lat, lon) in degrees, only when neither a name nor SWEREF 99 TM is known.
    wgs84: tuple[float, float] | None
    #: The ground the image covers, rounded as stated ("about 1 200 × 800 m").
    width_m: int
    height_m: int
    #: The chosen line or area drawn on the map, and its length (m) or area (m²) as stated.
    shape: tuple[Literal["line", "area"], int] | None = None


def stated_metres(value: float) -> int:
    """A distance rounded as said aloud: to 100 m from 1 km up, otherwise to 10 m."""
    return int(round(value, -2) if value >= 1000 else round(value, -1))


def stated_area(value: float) -> int:
    """An area rounded as said aloud: two significant figures, at least to whole m² (453 m² is
    "about 450 m²", 12 345 m² "about 12 000 m²")."""
    if value < 10:
        return round(value)
    digits = len(str(int(value))) - 2
    return int(round(value, -digits))


def describe(
    place: PlaceWords,
    width_m: float,
    height_m: float,
    shape: tuple[Literal["line", "area"], float] | None = None,
) -> MapDescription:
    """The facts about the marked place (or drawn shape: its kind and length in m or area in
    m²) and the ground the map image covers."""
    named = bool(place.address or place.designation or place.municipality)
    sweref = None
    if not named and place.e is not None and place.n is not None:
        sweref = (round(place.n), round(place.e))
    wgs84 = None
    if not named and sweref is None and place.lon is not None and place.lat is not None:
        wgs84 = (place.lat, place.lon)
    return MapDescription(
        address=place.address or None,
        designation=place.designation or None,
        fictional=bool(place.designation) and place.fictional,
        municipality=place.municipality or None,
        sweref=sweref,
        wgs84=wgs84,
        width_m=stated_metres(width_m),
        height_m=stated_metres(height_m),
        shape=None
        if shape is None
        else (shape[0], stated_area(shape[1]) if shape[0] == "area" else stated_metres(shape[1])),
    )
