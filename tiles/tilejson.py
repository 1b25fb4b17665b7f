"""TileJSON 3.0.0 documents describing a tileset, for OpenLayers, MapLibre and QGIS."""

from __future__ import annotations

import html
from typing import Any

from tiles.tilesets import Tileset

#: Deepest zoom a client needs to ask for: a z16 tile's 4096-unit grid is finer than 0.2 m, so
#: clients overzoom beyond it instead of making four times the requests per level. Deeper tiles
#: are still served to clients that ask.
DATA_MAXZOOM = 16


def attribution_html(text: str) -> str:
    """A layer's attribution (plain text as uploaded) as the HTML that TileJSON and style
    readers expect: OpenLayers, MapLibre and Leaflet insert ``attribution`` as HTML, so an
    uploaded ``<a href>`` or ``<img onerror>`` must arrive as text, never as markup."""
    return html.escape(text, quote=True)


_JSON_TYPES = {"text": "String", "integer": "Number", "number": "Number", "boolean": "Boolean"}


def tilejson(tileset: Tileset, tile_url: str, max_tile_bytes: int | None = None) -> dict[str, Any]:
    """The TileJSON of ``tileset``; ``tile_url`` is the absolute, versioned ``{z}/{x}/{y}`` URL.

    ``max_tile_bytes``, the renderer's byte budget, is reported as the vendor field
    ``webmap:max_tile_bytes``: no tile is larger; denser ones drop their smallest features.
    """
    west, south, east, north = tileset.bounds
    center_zoom = min(max(tileset.minzoom, 5), tileset.maxzoom)
    vector_layers = []
    for source in tileset.sources:
        types = {f.name: _JSON_TYPES.get(f.type, "String") for f in source.layer.fields}
        vector_layers.append(
            {
                "id": source.name,
                "description": source.layer.title,
                "minzoom": source.minzoom,
                "maxzoom": min(source.maxzoom, DATA_MAXZOOM),
                "fields": {name: types.get(name, "String") for name in source.attributes},
            }
        )
    document: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": tileset.title,
        "description": tileset.description,
        "version": "1.0.0",
        "attribution": attribution_html(tileset.attribution),
        "scheme": "xyz",
        "tiles": [tile_url],
        "minzoom": tileset.minzoom,
        "maxzoom": min(tileset.maxzoom, DATA_MAXZOOM),
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, center_zoom],
        "vector_layers": vector_layers,
    }
    if max_tile_bytes is not None:
        document["webmap:max_tile_bytes"] = max_tile_bytes
    return document
