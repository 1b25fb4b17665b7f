"""The basemap styles stay within what QGIS's style converter and the widget understand, and
their colours keep WCAG contrast.

QGIS (QgsMapBoxGlStyleConverter, 3.22) reads filters only in the legacy form (``["==", "class",
"path"]``, ``["in", "class", "a", "b"]``, ``["has", "name"]``, ``all``/``any``/``none``) and
values as constants or ``interpolate``/``step`` on zoom; anything else (``literal``, ``get`` in
a filter, ``!``, ``coalesce``, ``case``, ``match`` on nested input) makes it skip the layer or
the property. A layer it skipped once painted all land use park-green. The checker below walks
every filter and every layout/paint value and names what falls outside that subset.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tiles.style_palette import DARK, LIGHT, Palette

FILTER_COMBINERS = {"all", "any", "none"}
FILTER_COMPARISONS = {"==", "!="}
FILTER_SETS = {"in", "!in"}
FILTER_PRESENCE = {"has", "!has"}
ZOOM_FUNCTIONS = {"interpolate", "step"}
CURVES = {"linear", "exponential"}


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def filter_problems(node: Any, where: str) -> list[str]:
    """What in a filter is not QGIS's legacy subset."""
    if not isinstance(node, list) or not node or not isinstance(node[0], str):
        return [f"{where}: filter {node!r} is not a legacy filter"]
    op, args = node[0], node[1:]
    if op in FILTER_COMBINERS:
        return [p for arg in args for p in filter_problems(arg, where)]
    key_ok = bool(args) and isinstance(args[0], str)
    if op in FILTER_COMPARISONS and key_ok and len(args) == 2 and _scalar(args[1]):
        return []
    if op in FILTER_SETS and key_ok and all(_scalar(a) for a in args[1:]):
        return []
    if op in FILTER_PRESENCE and key_ok and len(args) == 1:
        return []
    return [f"{where}: filter {node!r}"]


def value_problems(value: Any, where: str, key: str) -> list[str]:
    """What in a layout or paint value is not a constant or a zoom function QGIS reads."""
    if _scalar(value):
        return []
    # Plain arrays: numbers (text-offset, line-dasharray) or the font names of text-font.
    plain = isinstance(value, list) and all(_scalar(v) for v in value)
    if plain and (key == "text-font" or not any(isinstance(v, str) for v in value)):
        return []
    if isinstance(value, list) and value and value[0] in ZOOM_FUNCTIONS:
        if value[0] == "interpolate":
            curve, input_, stops = value[1], value[2], value[3:]
            if not (isinstance(curve, list) and curve[:1] and curve[0] in CURVES):
                return [f"{where}: interpolation {curve!r}"]
        else:
            input_, stops = value[1], value[2:]
        if input_ != ["zoom"]:
            return [f"{where}: {value[0]} on {input_!r}, not zoom"]
        if not all(_scalar(s) for s in stops):
            return [f"{where}: expression inside {value[0]} stops"]
        return []
    return [f"{where}: value {value!r}"]


def subset_problems(style: dict[str, Any]) -> list[str]:
    problems = []
    for layer in style["layers"]:
        where = f"layer {layer['id']}"
        if "filter" in layer:
            problems += filter_problems(layer["filter"], where)
        for group in ("layout", "paint"):
            for key, value in layer.get(group, {}).items():
                problems += value_problems(value, f"{where} {key}", key)
        field = layer.get("layout", {}).get("text-field")
        if field is not None and not isinstance(field, str):
            problems.append(f"{where}: text-field must be a {{field}} template")
    return problems


@pytest.mark.parametrize("name", ["basemap", "basemap-dark"])
def test_style_uses_only_what_qgis_converts(client: FlaskClient, name: str) -> None:
    style = client.get(f"/styles/{name}.json").get_json()
    assert subset_problems(style) == []
    park = next(layer for layer in style["layers"] if layer["id"] == "landuse-park")
    assert park["filter"][:2] == ["in", "class"]


def test_checker_names_what_qgis_would_skip() -> None:
    """The checker means something: the expressions QGIS 3.22 skipped are all named."""
    style = {
        "layers": [
            {"id": "a", "filter": ["in", ["get", "class"], ["literal", ["park", "grass"]]]},
            {"id": "b", "filter": ["!", ["==", ["get", "class"], "path"]]},
            {"id": "c", "layout": {"text-field": ["coalesce", ["get", "name"], ""]}},
            {"id": "d", "paint": {"line-width": ["interpolate", ["linear"], ["get", "w"], 0, 1]}},
            {"id": "e", "paint": {"text-size": ["case", ["has", "x"], 12, 10]}},
            {
                "id": "f",
                "paint": {"line-width": ["interpolate", ["linear"], ["zoom"], 5, ["get", "w"]]},
            },
            {"id": "g", "filter": ["==", ["get", "class"], "park"]},
        ]
    }
    problems = subset_problems(style)
    for layer_id in "abcdefg":
        assert any(p.startswith(f"layer {layer_id}") for p in problems), layer_id


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("palette", [LIGHT, DARK], ids=["light", "dark"])
def test_palette_contrast(palette: Palette) -> None:
    p = palette
    for text in (p.text, p.text_place, p.text_water, p.text_park, p.poi):
        assert contrast(text, p.halo) >= 4.5, text  # text on its halo: WCAG 1.4.3
    for line in (p.county_border, p.municipality_border, p.road_casing, p.poi):
        assert contrast(line, p.land) >= 3, line  # meaningful lines: WCAG 1.4.11
    assert contrast(p.building_outline, p.building) >= 3
    assert contrast(p.road_casing, p.road) >= 3
