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
    where = ", ".join(parts)
    area = f"{_metres(width_m)} × {_metres(height_m)} m"
    if english:
        return f"Map with a marker {where}. The map shows an area of about {area}."
    return f"Karta med en markering {where}. Kartan visar ett område på ungefär {area}."
