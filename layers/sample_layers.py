"""The sample basemap's recipes: which file in ``data/`` each layer comes from, how its features
are picked and renamed, and how the layer is described in the catalog (:mod:`layers.sample`
loads them). Changing a recipe here republishes that layer on the next load: this file is part
of every sample layer's digest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from layers.catalog import FieldInfo
from layers.store import LayerSpec

LANTMATERIET = "© Lantmäteriet (CC0)"
OSM = "© OpenStreetMap contributors (ODbL)"
STOCKHOLM = "© Stockholms stad (CC0)"


#: Turns one source feature into this layer's attribute values, or None to skip it.
Mapper = Callable[[dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class ExtraSource:
    """Another file whose features join a sample layer's: same CRS, same mapper (one layer of
    buildings from two cities' extracts, rather than a layer per city the style must know)."""

    path: str
    source_layer: str | None = None


@dataclass(frozen=True)
class SampleLayer:
    """One layer of the sample basemap and where its features come from."""

    spec: LayerSpec
    path: str
    srid: int
    fields: tuple[FieldInfo, ...]
    mapper: Mapper
    source_layer: str | None = None
    encoding: str | None = None
    #: Merge features sharing this attribute (a municipality drawn in several parts).
    dissolve_by: str | None = None
    #: Split huge polygons into pieces of at most this many vertices so each tile clips little.
    subdivide: int | None = None
    extra_sql: tuple[str, ...] = field(default_factory=tuple)
    #: More files read into the same layer (see :class:`ExtraSource`).
    extra_sources: tuple[ExtraSource, ...] = ()


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _municipality(a: dict[str, Any]) -> dict[str, Any]:
    return {"name": a["KOMMUNNAMN"], "code": a["KOM_KOD"], "county_code": a["LAN_KOD"]}


def _county(a: dict[str, Any]) -> dict[str, Any]:
    return {"name": a["LANSNAMN"], "code": a["LAN_KOD"]}


def _builtup(a: dict[str, Any]) -> dict[str, Any]:
    return {"name": _text(a["NAMN1"]), "category": a["KATEGORI"], "population": a["BEF"]}


def _water(_a: dict[str, Any]) -> dict[str, Any]:
    return {"class": "water"}


_LANDUSE_KEYS = ("landuse", "leisure", "natural", "amenity")
_LANDUSE_CLASSES = {
    "park": "park",
    "garden": "park",
    "grass": "grass",
    "dog_park": "park",
    "playground": "park",
    "pitch": "pitch",
    "grave_yard": "cemetery",
    "cemetery": "cemetery",
    "residential": "residential",
    "commercial": "commercial",
    "retail": "commercial",
    "scrub": "wood",
    "wood": "wood",
    "forest": "wood",
    "parking": "parking",
    "marketplace": "square",
}


def _landuse(a: dict[str, Any]) -> dict[str, Any] | None:
    if a.get("building"):
        return None
    for key in _LANDUSE_KEYS:
        value = a.get(key)
        if value in _LANDUSE_CLASSES:
            return {"class": _LANDUSE_CLASSES[value], "name": _text(a.get("name"))}
    return None


_ROAD_CLASSES = {
    "motorway": "major",
    "trunk": "major",
    "primary": "major",
    "secondary": "major",
    "tertiary": "minor",
    "tertiary_link": "minor",
    "residential": "minor",
    "unclassified": "minor",
    "living_street": "minor",
    "service": "service",
    "pedestrian": "path",
    "footway": "path",
    "cycleway": "path",
    "path": "path",
    "steps": "path",
}


def _road(a: dict[str, Any]) -> dict[str, Any] | None:
    highway = a.get("highway")
    if highway not in _ROAD_CLASSES:
        return None
    return {"class": _ROAD_CLASSES[highway], "highway": highway, "name": _text(a.get("name"))}


def _building(a: dict[str, Any]) -> dict[str, Any] | None:
    if not a.get("building"):
        return None
    return {
        "class": a["building"],
        "name": _text(a.get("name")),
        "street": _text(a.get("addr:street")),
        "housenumber": _text(a.get("addr:housenumber")),
    }


_POI_KEYS = ("amenity", "shop", "tourism", "leisure", "office", "historic")


def _poi(a: dict[str, Any]) -> dict[str, Any] | None:
    name = _text(a.get("name"))
    for key in _POI_KEYS:
        if a.get(key) and name:
            return {"class": key, "subclass": a[key], "name": name}
    return None


#: OSM place kinds that name part of a town, smallest last. The Östermalm extract has no
#: district (suburb) outlines or label points, only its kvarter (city blocks, as points).
_PLACE_CLASSES = ("suburb", "quarter", "neighbourhood", "city_block", "square")


def _place(a: dict[str, Any]) -> dict[str, Any] | None:
    name = _text(a.get("name"))
    place = a.get("place")
    if place not in _PLACE_CLASSES or not name:
        return None
    return {"class": place, "name": name}


def _address(a: dict[str, Any]) -> dict[str, Any] | None:
    number = _text(a.get("addr:housenumber"))
    street = _text(a.get("addr:street"))
    if not number or not street:
        return None
    return {
        "street": street,
        "housenumber": number,
        "postcode": _text(a.get("addr:postcode")),
        "city": _text(a.get("addr:city")),
    }


def _fields(*pairs: tuple[str, str]) -> tuple[FieldInfo, ...]:
    return tuple(FieldInfo(name, kind) for name, kind in pairs)


_OSM_FILE = "osm/stockholm-ostermalm.osm"
_MALMO_BUILDINGS = "malmo/mollevangen_byggnader.geojson"

SAMPLE_LAYERS: tuple[SampleLayer, ...] = (
    SampleLayer(
        LayerSpec("counties", "Län", "Sveriges län, 1:1 miljon", LANTMATERIET),
        "lantmateriet/an_riks.zip",
        3006,
        _fields(("name", "text"), ("code", "text")),
        _county,
        encoding="ISO-8859-1",
        dissolve_by="code",
    ),
    SampleLayer(
        LayerSpec("municipalities", "Kommuner", "Sveriges kommuner, 1:1 miljon", LANTMATERIET),
        "lantmateriet/ak_riks.zip",
        3006,
        _fields(("name", "text"), ("code", "text"), ("county_code", "text")),
        _municipality,
        encoding="ISO-8859-1",
        dissolve_by="code",
    ),
    SampleLayer(
        LayerSpec(
            "builtup", "Tätorter", "Tätorter och småorter, 1:1 miljon", LANTMATERIET, minzoom=4
        ),
        "lantmateriet/mb_riks.zip",
        3006,
        _fields(("name", "text"), ("category", "text"), ("population", "integer")),
        _builtup,
        encoding="ISO-8859-1",
    ),
    SampleLayer(
        LayerSpec("water", "Vatten", "Vatten i Stockholm", STOCKHOLM),
        "stockholm/vatten_3011.shp",
        3011,
        _fields(("class", "text")),
        _water,
        subdivide=256,
    ),
    SampleLayer(
        LayerSpec(
            "landuse", "Markanvändning", "Parker och markanvändning, Östermalm", OSM, minzoom=10
        ),
        _OSM_FILE,
        4326,
        _fields(("class", "text"), ("name", "text")),
        _landuse,
        source_layer="multipolygons",
    ),
    SampleLayer(
        LayerSpec("roads", "Vägar och gator", "Gator och vägar, Östermalm", OSM, minzoom=10),
        _OSM_FILE,
        4326,
        _fields(("class", "text"), ("highway", "text"), ("name", "text")),
        _road,
        source_layer="lines",
    ),
    SampleLayer(
        LayerSpec(
            "buildings",
            "Byggnader",
            "Byggnader, Östermalm (Stockholm) och Möllevången (Malmö)",
            OSM,
            minzoom=13,
        ),
        _OSM_FILE,
        4326,
        _fields(("class", "text"), ("name", "text"), ("street", "text"), ("housenumber", "text")),
        _building,
        source_layer="multipolygons",
        extra_sources=(ExtraSource(_MALMO_BUILDINGS),),
    ),
    SampleLayer(
        LayerSpec("pois", "Platser", "Intressanta platser, Östermalm", OSM, minzoom=14),
        _OSM_FILE,
        4326,
        _fields(("class", "text"), ("subclass", "text"), ("name", "text")),
        _poi,
        source_layer="points",
    ),
    SampleLayer(
        LayerSpec("places", "Ortnamn", "Kvarter och andra ortnamn, Östermalm", OSM, minzoom=13),
        _OSM_FILE,
        4326,
        _fields(("class", "text"), ("name", "text")),
        _place,
        source_layer="points",
    ),
    SampleLayer(
        LayerSpec("address_points", "Adresspunkter", "Adresser, Östermalm", OSM, minzoom=15),
        _OSM_FILE,
        4326,
        _fields(
            ("street", "text"), ("housenumber", "text"), ("postcode", "text"), ("city", "text")
        ),
        _address,
        source_layer="points",
    ),
)
