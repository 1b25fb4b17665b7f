"""Alternative text for a static map: what a sighted reader gets from the image, in words.

A receipt's map is useless to a blind citizen unless its text says what it shows: the marked
place (address, property, municipality) and how much ground the image covers.
"""

from __future__ import annotations

from dataclasses import dataclass


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


def _degrees(lon: float, lat: float, english: bool) -> str:
    north_south = f"{abs(lat):.5f}° {'N' if lat >= 0 else 'S'}"
    east_west = f"{abs(lon):.5f}° {'E' if lon >= 0 else 'W'}"
    text = f"{north_south}, {east_west}"
    return f"{text} (WGS 84)" if english else f"{text.replace('.', ',')} (WGS 84)"


def _metres(value: float) -> str:
    rounded = round(value, -2) if value >= 1000 else round(value, -1)
    return f"{rounded:,.0f}".replace(",", "\u00a0")


def alt_text(place: PlaceWords, width_m: float, height_m: float, lang: str = "sv") -> str:
    """One or two sentences describing the map image, in Swedish (default) or English."""
    english = lang == "en"
    parts: list[str] = []
    if place.address:
        parts.append(("near " if english else "vid ") + place.address)
    if place.designation:
        label = place.designation + (
            (" (fictional)" if english else " (fiktiv)") if place.fictional else ""
        )
        parts.append(("on property " if english else "på fastigheten ") + label)
    if place.municipality:
        parts.append(
            f"in {place.municipality} municipality" if english else f"i {place.municipality} kommun"
        )
    if not parts and place.e is not None and place.n is not None:
        parts.append(
            f"at N {place.n:.0f}, E {place.e:.0f} (SWEREF 99 TM)"
            if english
            else f"vid N {place.n:.0f}, E {place.e:.0f} (SWEREF 99 TM)"
        )
    if not parts and place.lon is not None and place.lat is not None:
        parts.append(("at " if english else "vid ") + _degrees(place.lon, place.lat, english))
    where = ", ".join(parts)
    area = f"{_metres(width_m)} × {_metres(height_m)} m"
    if english:
        return f"Map with a marker {where}. The map shows an area of about {area}."
    return f"Karta med en markering {where}. Kartan visar ett område på ungefär {area}."
