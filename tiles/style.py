"""The basemap's MapLibre style (spec v8), drawn for legibility.

Colours are chosen for WCAG 2.2 non-text contrast: every line or outline that carries meaning
(borders, road casings, building outlines, POI markers) has at least 3:1 against what it is drawn
on; fills that only set context (land, parks, built-up areas) stay calm and light. Labels are left
to the widget's text and live region for now: a style with text needs glyph files, and nothing may
be fetched from another host.
"""

from __future__ import annotations

from typing import Any

from tiles.tilejson import DATA_MAXZOOM, attribution_html
from tiles.tilesets import Tileset

LAND = "#f7f5f0"
OUTSIDE = "#e4e2dd"
WATER = "#a8cbe0"
COUNTY_BORDER = "#4b3b5c"
MUNICIPALITY_BORDER = "#7b6f88"
BUILTUP = "#eadfd2"
PARK = "#cfe6c5"
ROAD_CASING = "#5f5f5f"
ROAD = "#ffffff"
BUILDING = "#d8cfc6"
BUILDING_OUTLINE = "#6f645b"
POI = "#8b1e3f"


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


def basemap_style(tileset: Tileset, tilejson_url: str) -> dict[str, Any]:
    """The MapLibre style of the basemap, its one source pointing at our own TileJSON."""
    path_roads = ["==", ["get", "class"], "path"]
    return {
        "version": 8,
        "name": "Webmap bakgrundskarta",
        "metadata": {"webmap:version": tileset.version},
        "sources": {
            "basemap": {
                "type": "vector",
                "url": tilejson_url,
                "attribution": attribution_html(tileset.attribution),
                "minzoom": tileset.minzoom,
                "maxzoom": DATA_MAXZOOM,
            }
        },
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": OUTSIDE}},
            _fill("land", "municipalities", LAND),
            _fill("builtup", "builtup", BUILTUP, minzoom=5),
            _fill(
                "landuse-park",
                "landuse",
                PARK,
                filter=[
                    "in",
                    ["get", "class"],
                    ["literal", ["park", "grass", "pitch", "cemetery", "wood"]],
                ],
            ),
            _fill("water", "water", WATER),
            _fill(
                "buildings",
                "buildings",
                BUILDING,
                minzoom=14,
                paint={"fill-color": BUILDING, "fill-outline-color": BUILDING_OUTLINE},
            ),
            _line(
                "paths",
                "roads",
                ROAD_CASING,
                _zoom_width(14, 0.5, 18, 2),
                minzoom=14,
                filter=path_roads,
                paint={
                    "line-color": ROAD_CASING,
                    "line-width": _zoom_width(14, 0.5, 18, 2),
                    "line-dasharray": [2, 1],
                },
            ),
            _line(
                "roads-casing",
                "roads",
                ROAD_CASING,
                _zoom_width(12, 1.5, 18, 16),
                filter=["!", path_roads],
            ),
            _line("roads", "roads", ROAD, _zoom_width(12, 0.75, 18, 13), filter=["!", path_roads]),
            _line(
                "municipality-borders",
                "municipalities",
                MUNICIPALITY_BORDER,
                _zoom_width(0, 0.5, 10, 1.5, 16, 2.5),
            ),
            _line("county-borders", "counties", COUNTY_BORDER, _zoom_width(0, 0.75, 10, 2.5)),
            {
                "id": "pois",
                "type": "circle",
                "source": "basemap",
                "source-layer": "pois",
                # Unlabelled dots only help orientation up close; from z17 and small, so they
                # do not compete with the picker's crosshair and marker.
                "minzoom": 17,
                "paint": {
                    "circle-color": POI,
                    "circle-radius": 3.5,
                    "circle-stroke-color": "#ffffff",
                    "circle-stroke-width": 1.5,
                },
            },
        ],
    }
