"""The basemap's labels: MapLibre ``symbol`` layers over the names the tiles carry.

What is named, and from which zoom: counties (z4–7), municipalities (z6–10), built-up areas
(tätorter, z8–14), kvarter and other places (z15), street names along their lines (z14; paths
z17), water and park names (z13/z15), named buildings and POIs (z17), house numbers (z18).
Sizes grow with zoom; every label has a halo in the palette's halo colour.

Kept to what QGIS's style converter (QgsMapBoxGlStyleConverter) and the widget's small renderer
(frontend/src/shared/style-rules.js) understand: ``text-field`` as a ``{field}`` token, legacy
filters (``["has", "name"]``, ``["in", "class", …]``), sizes as ``interpolate`` on zoom.
``tests/test_style_qgis.py`` holds the style to that subset.

Layers come in priority order, least important first: MapLibre places the topmost layer's
labels first, and the widget's decluttering gives higher layers the same precedence.
"""

from __future__ import annotations

from typing import Any

from tiles.glyphs import BOLD, REGULAR
from tiles.style_palette import Palette

#: Roads drawn as streets (see layers/sample.py's road classes).
STREET_CLASSES = ("major", "minor", "service")
PARK_CLASSES = ("park", "grass", "pitch", "cemetery", "wood", "square")
HAS_NAME = ["has", "name"]


def _size(*stops: float) -> list[Any]:
    """A linear zoom ramp of text sizes from (zoom, size) pairs."""
    return ["interpolate", ["linear"], ["zoom"], *stops]


def _label(
    layer_id: str,
    source_layer: str,
    *,
    color: str,
    palette: Palette,
    size: list[Any],
    minzoom: int,
    maxzoom: int | None = None,
    field: str = "{name}",
    font: str = REGULAR,
    filter_: list[Any] | None = None,
    layout: dict[str, Any] | None = None,
    halo: float = 1.5,
) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "id": layer_id,
        "type": "symbol",
        "source": "basemap",
        "source-layer": source_layer,
        "minzoom": minzoom,
        "filter": filter_ or HAS_NAME,
        "layout": {
            "text-field": field,
            "text-font": [font],
            "text-size": size,
            "text-max-width": 8,
            **(layout or {}),
        },
        "paint": {"text-color": color, "text-halo-color": palette.halo, "text-halo-width": halo},
    }
    if maxzoom is not None:
        layer["maxzoom"] = maxzoom
    return layer


def label_layers(palette: Palette) -> list[dict[str, Any]]:
    """The symbol layers, least important first (drawn last = placed first)."""
    p = palette
    along_line = {"symbol-placement": "line", "text-max-angle": 30}
    below_point = {"text-anchor": "top", "text-offset": [0, 0.7]}
    return [
        _label(
            "label-housenumbers",
            "address_points",
            color=p.text,
            palette=p,
            size=_size(18, 10, 20, 12),
            minzoom=18,
            field="{housenumber}",
            filter_=["has", "housenumber"],
        ),
        _label(
            "label-pois",
            "pois",
            color=p.poi,
            palette=p,
            size=_size(17, 11, 20, 13),
            minzoom=17,
            layout=below_point,
        ),
        _label(
            "label-buildings",
            "buildings",
            color=p.text,
            palette=p,
            size=_size(17, 11, 20, 13),
            minzoom=17,
        ),
        _label(
            "label-parks",
            "landuse",
            color=p.text_park,
            palette=p,
            size=_size(15, 11, 18, 14),
            minzoom=15,
            filter_=["all", HAS_NAME, ["in", "class", *PARK_CLASSES]],
        ),
        _label(
            "label-water",
            "water",
            color=p.text_water,
            palette=p,
            size=_size(13, 12, 18, 16),
            minzoom=13,
        ),
        _label(
            "label-paths",
            "roads",
            color=p.text,
            palette=p,
            size=_size(17, 11, 19, 13),
            # From z17, not z16: the picker opens at z16 on a phone, where the many footpath
            # names cost about as much to draw as all other labels together (bench/widget.py)
            # and crowd out the street names people orient by.
            minzoom=17,
            filter_=["all", HAS_NAME, ["==", "class", "path"]],
            layout=along_line,
        ),
        _label(
            "label-streets",
            "roads",
            color=p.text,
            palette=p,
            size=_size(14, 11, 18, 16),
            minzoom=14,
            filter_=["all", HAS_NAME, ["in", "class", *STREET_CLASSES]],
            layout=along_line,
        ),
        _label(
            "label-places",
            "places",
            color=p.text_place,
            palette=p,
            size=_size(15, 11, 18, 14),
            minzoom=15,
            layout={"text-transform": "uppercase", "text-letter-spacing": 0.08},
        ),
        _label(
            "label-builtup",
            "builtup",
            color=p.text_place,
            palette=p,
            size=_size(8, 11, 13, 17),
            minzoom=8,
            maxzoom=14,
            font=BOLD,
        ),
        _label(
            "label-municipalities",
            "municipalities",
            color=p.text_place,
            palette=p,
            size=_size(6, 11, 10, 14),
            minzoom=6,
            maxzoom=10,
        ),
        _label(
            "label-counties",
            "counties",
            color=p.text_place,
            palette=p,
            size=_size(4, 11, 7, 14),
            minzoom=4,
            maxzoom=7,
            font=BOLD,
            layout={"text-transform": "uppercase", "text-letter-spacing": 0.1},
        ),
    ]
