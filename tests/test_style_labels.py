"""The labels drawn at the picker's start zoom (z16, /demo and /embed): what people orient by
is there, and the footpath names that made the first frame slow on a phone are not yet.

Why a zoom table and not a screenshot: the first frame's cost grows with the labels active at
the start zoom (bench/widget.py), and readability needs streets, places, parks and water from
that zoom on; tests/browser/test_labels.py checks that they are drawn.
"""

from __future__ import annotations

from typing import Any

import pytest

from tiles.style_labels import label_layers
from tiles.style_palette import DARK, LIGHT, Palette

START_ZOOM = 16  # webmap/pages/widget.py: /demo and /embed open at z16


def _active(layers: list[dict[str, Any]], zoom: float) -> set[str]:
    return {layer["id"] for layer in layers if layer["minzoom"] <= zoom < layer.get("maxzoom", 99)}


@pytest.mark.parametrize("palette", [LIGHT, DARK], ids=["light", "dark"])
def test_start_zoom_names_streets_places_parks_and_water_not_footpaths(palette: Palette) -> None:
    active = _active(label_layers(palette), START_ZOOM)
    assert {"label-streets", "label-places", "label-parks", "label-water"} <= active
    assert "label-paths" not in active
    # One zoom in, the footpaths are named too (and the streets still are).
    assert {"label-paths", "label-streets"} <= _active(label_layers(palette), START_ZOOM + 1)


def test_footpath_names_follow_their_lines_and_grow_with_zoom() -> None:
    paths = next(layer for layer in label_layers(LIGHT) if layer["id"] == "label-paths")
    assert paths["layout"]["symbol-placement"] == "line"
    size = paths["layout"]["text-size"]
    assert size[0] == "interpolate" and size[3] == paths["minzoom"]
    assert size[4] < size[-1]
