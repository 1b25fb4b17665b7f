"""The basemap's two colour sets: light (default) and dark (for ``prefers-color-scheme: dark``).

Chosen for WCAG 2.2 contrast, which ``tests/test_style_qgis.py`` measures: every line or outline
that carries meaning (borders, road casings, building outlines, POI markers) has at least 3:1
against the land it is drawn on, and every label colour at least 4.5:1 against its halo, so text
stays readable whatever lies under it. Fills that only set context stay calm.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Palette:
    """Every colour the style uses, by what it paints."""

    outside: str
    land: str
    builtup: str
    park: str
    water: str
    county_border: str
    municipality_border: str
    road_casing: str
    road: str
    building: str
    building_outline: str
    poi: str
    poi_ring: str
    #: Labels: street and building names, place names, water names, park names.
    text: str
    text_place: str
    text_water: str
    text_park: str
    halo: str


LIGHT = Palette(
    outside="#e4e2dd",
    land="#f7f5f0",
    builtup="#eadfd2",
    park="#cfe6c5",
    water="#a8cbe0",
    county_border="#4b3b5c",
    municipality_border="#7b6f88",
    road_casing="#5f5f5f",
    road="#ffffff",
    building="#d8cfc6",
    building_outline="#6f645b",
    poi="#8b1e3f",
    poi_ring="#ffffff",
    text="#1f1f1f",
    text_place="#4a3d5c",
    text_water="#1d4f73",
    text_park="#2d5a26",
    halo="#ffffff",
)

DARK = Palette(
    outside="#101214",
    land="#1c1f23",
    builtup="#262a2f",
    park="#1f3326",
    water="#16344a",
    county_border="#c6b4dc",
    municipality_border="#9d8fb3",
    road_casing="#8a929c",
    road="#3a3f46",
    building="#2b2e33",
    building_outline="#968c80",
    poi="#ff8fb3",
    poi_ring="#101214",
    text="#f1f1f1",
    text_place="#d9cdea",
    text_water="#a9d4f2",
    text_park="#b4dcaa",
    halo="#101214",
)

PALETTES = {"basemap": LIGHT, "basemap-dark": DARK}
