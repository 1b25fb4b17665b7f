"""The basemap's MapLibre styles (spec v8), light and dark, drawn for legibility.

Colours come from :mod:`tiles.style_palette` (WCAG contrast, measured by a test), labels from
:mod:`tiles.style_labels`, text from our own glyph files (:mod:`tiles.glyphs`), so nothing is
fetched from another host.

Every expression is one QGIS's converter (QgsMapBoxGlStyleConverter, 3.22 and later) and the
widget's renderer understand: legacy filters such as ``["in", "class", "park", "grass"]`` and
``["!=", "class", "path"]``, and ``interpolate`` on zoom. Expression-form filters (``["in",
["get", …], ["literal", …]]``, ``["!", …]``) made QGIS skip the park, road and casing layers
and paint every land use park-green; ``tests/test_style_qgis.py`` keeps them out.
"""

from __future__ import annotations

from typing import Any

from tiles.style_labels import PARK_CLASSES, label_layers
from tiles.style_palette import LIGHT, PALETTES, Palette
from tiles.tilejson import DATA_MAXZOOM, attribution_html
from tiles.tilesets import Tileset

# The light palette's colours by name, for the static map renderer (tiles/staticmap.py) and
# tests that look for them on screen.
OUTSIDE, LAND, BUILTUP, PARK, WATER = (
    LIGHT.outside,
    LIGHT.land,
    LIGHT.builtup,
    LIGHT.park,
    LIGHT.water,
)
COUNTY_BORDER, MUNICIPALITY_BORDER = LIGHT.county_border, LIGHT.municipality_border
ROAD_CASING, ROAD, BUILDING, BUILDING_OUTLINE, POI = (
    LIGHT.road_casing,
    LIGHT.road,
    LIGHT.building,
    LIGHT.building_outline,
    LIGHT.poi,
)

#: Land use classes drawn green (the rest of ``landuse`` only carries names or nothing).
GREEN_CLASSES = tuple(c for c in PARK_CLASSES if c != "square")


def _line(layer_id: str, source_layer: str, color: str, width: Any, **extra: Any) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "id": layer_id,
        "type": "line",
        "source": "basemap",
        "source-layer": source_layer,
        "layout": {"line-join": "round", "line-cap": "round"},
        "paint": {"line-color": color, "line-width": width},
    }
    layer.update(extra)
    return layer


def _fill(layer_id: str, source_layer: str, color: str, **extra: Any) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "id": layer_id,
        "type": "fill",
        "source": "basemap",
        "source-layer": source_layer,
        "paint": {"fill-color": color},
    }
    layer.update(extra)
    return layer


def _zoom_width(*stops: float) -> list[Any]:
    """An exponential zoom ramp from (zoom, width) pairs."""
    return ["interpolate", ["exponential", 1.5], ["zoom"], *stops]


def _geometry_layers(p: Palette) -> list[dict[str, Any]]:
    path_roads = ["==", "class", "path"]
    not_paths = ["!=", "class", "path"]
    path_width = _zoom_width(14, 0.5, 18, 2)
    return [
        {"id": "background", "type": "background", "paint": {"background-color": p.outside}},
        _fill("land", "municipalities", p.land),
        _fill("builtup", "builtup", p.builtup, minzoom=5),
        _fill("landuse-park", "landuse", p.park, filter=["in", "class", *GREEN_CLASSES]),
        _fill("water", "water", p.water),
        _fill(
            "buildings",
            "buildings",
            p.building,
            minzoom=14,
            paint={"fill-color": p.building, "fill-outline-color": p.building_outline},
        ),
        _line(
            "paths",
            "roads",
            p.road_casing,
            path_width,
            minzoom=14,
            filter=path_roads,
            paint={"line-color": p.road_casing, "line-width": path_width, "line-dasharray": [2, 1]},
        ),
        _line(
            "roads-casing", "roads", p.road_casing, _zoom_width(12, 1.5, 18, 16), filter=not_paths
        ),
        _line("roads", "roads", p.road, _zoom_width(12, 0.75, 18, 13), filter=not_paths),
        _line(
            "municipality-borders",
            "municipalities",
            p.municipality_border,
            _zoom_width(0, 0.5, 10, 1.5, 16, 2.5),
        ),
        _line("county-borders", "counties", p.county_border, _zoom_width(0, 0.75, 10, 2.5)),
        {
            "id": "pois",
            "type": "circle",
            "source": "basemap",
            "source-layer": "pois",
            # Dots only help orientation up close; from z17 and small, so they do not compete
            # with the picker's crosshair and marker.
            "minzoom": 17,
            "paint": {
                "circle-color": p.poi,
                "circle-radius": 3.5,
                "circle-stroke-color": p.poi_ring,
                "circle-stroke-width": 1.5,
            },
        },
    ]


def style_names() -> tuple[str, ...]:
    """The styles served at ``/styles/<name>.json``."""
    return tuple(PALETTES)


def basemap_style(
    tileset: Tileset, tilejson_url: str, glyphs_url: str, palette: Palette = LIGHT
) -> dict[str, Any]:
    """A MapLibre style of the basemap: its one source is our own TileJSON, its glyphs our own
    ``/fonts/{fontstack}/{range}.pbf`` (``glyphs_url``)."""
    dark = palette is not LIGHT
    return {
        "version": 8,
        "name": "Webmap bakgrundskarta" + (" (mörk)" if dark else ""),
        "metadata": {
            "webmap:version": tileset.version,
            "webmap:scheme": "dark" if dark else "light",
        },
        "glyphs": glyphs_url,
        "sources": {
            "basemap": {
                "type": "vector",
                "url": tilejson_url,
                "attribution": attribution_html(tileset.attribution),
                "minzoom": tileset.minzoom,
                "maxzoom": DATA_MAXZOOM,
            }
        },
        "layers": [*_geometry_layers(palette), *label_layers(palette)],
    }
