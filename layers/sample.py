"""The sample basemap: Lantmäteriet's Sweden at 1:1 million, OSM's Östermalm, Stockholm, and
OSM's buildings of Möllevången, Malmö (so Malmö's addresses, when imported, are not on a blank map).

Each :class:`SampleLayer` names a file in ``data/``, how to pick and rename its features, and how
the layer is described in the catalog. :func:`load_sample` publishes them through the same version
mechanism and feature writer as staff uploads, so the sample is a realistic exercise of the real
path; a layer whose sources (and recipe) have not changed since its live version is skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import psycopg

from layers import staging
from layers.catalog import VECTOR, FieldInfo
from layers.ingest import writer
from layers.sources import SourceFeature, read_features
from layers.staging import merge_parts, stage_features, staged, subdivide
from layers.store import (
    LayerSpec,
    create_version_table,
    finish_version_table,
    geometry_type_of,
    prune_versions,
    publish_version,
    record_version,
    version_table,
)
from layers.versions import begin_version, lock_layer

LANTMATERIET = "© Lantmäteriet (CC0)"
OSM = "© OpenStreetMap contributors (ODbL)"
STOCKHOLM = "© Stockholms stad (CC0)"

#: Older versions kept after reloading the sample (rollback needs one; the sample needs no more).
KEEP_OLD_VERSIONS = 1

#: Turns one source feature into this layer's attribute values, or None to skip it.
Mapper = Callable[[dict[str, Any]], dict[str, Any] | None]
Progress = Callable[[str, int, int], None]


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


def _rows(
    features: Iterator[SourceFeature], layer: SampleLayer
) -> Iterator[tuple[bytes, list[Any]]]:
    for feature in features:
        values = layer.mapper(feature.attributes)
        if values is not None:
            yield feature.wkb, [values.get(f.name) for f in layer.fields]


@dataclass(frozen=True)
class SampleOutcome:
    """What loading one sample layer did: its live version, and whether it was published now."""

    name: str
    version: int
    features: int
    published: bool


#: What decides a sample layer's content besides its data files: the recipes in this module, the
#: staging steps and the writer. A change to any publishes every sample layer again.
_RECIPE_FILES = (Path(__file__), Path(staging.__file__), Path(writer.__file__))


def source_digest(layer: SampleLayer, data_dir: Path) -> str:
    """SHA-256 of what a sample layer is made from: its recipe and its source files.

    A shapefile's side files (same stem: .dbf, .shx, .prj, .cpg) count as part of it.
    """
    digest = hashlib.sha256()
    recipe = (
        layer.spec,
        layer.path,
        layer.srid,
        layer.fields,
        layer.source_layer,
        layer.encoding,
        layer.dissolve_by,
        layer.subdivide,
        layer.extra_sql,
        layer.extra_sources,
        getattr(layer.mapper, "__qualname__", ""),
    )
    digest.update(repr(recipe).encode())
    for recipe_file in _RECIPE_FILES:
        digest.update(recipe_file.read_bytes())
    parts: list[Path] = []
    for path in (layer.path, *(extra.path for extra in layer.extra_sources)):
        source = data_dir / path
        if source.suffix.lower() == ".shp":
            parts += sorted(p for p in source.parent.glob(f"{source.stem}.*") if p.is_file())
        else:
            parts.append(source)
    for part in parts:
        digest.update(part.name.encode())
        with part.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _live(conn: psycopg.Connection[Any], name: str) -> tuple[int, int, str | None] | None:
    """(version, feature count, source digest) of the layer's live version, if it exists."""
    row = conn.execute(
        """
        SELECT l.version, v.feature_count, v.report->>'source_sha256'
        FROM webmap.layers l
        JOIN webmap.layer_versions v ON v.layer_name = l.name AND v.version = l.version
        WHERE l.name = %s
        """,
        [name],
    ).fetchone()
    return (int(row[0]), int(row[1]), row[2]) if row else None


def publish_sample_layer(
    conn: psycopg.Connection[Any], layer: SampleLayer, data_dir: Path, force: bool = False
) -> SampleOutcome:
    """Load one sample layer as a new version and make it live, unless the live version was
    made from the same sources (``force`` publishes anyway).

    Under the layer's lock, with a version number from
    :func:`~layers.versions.allocate_version` (never one a deleted layer used), like every
    other publication; the features go through the uploads' writer.
    """
    name = layer.spec.name
    digest = source_digest(layer, data_dir)
    with conn.transaction():
        lock_layer(conn, name)
        live = _live(conn, name)
        if live is not None and live[2] == digest and not force:
            return SampleOutcome(name, live[0], live[1], published=False)
        version = begin_version(conn, layer.spec, VECTOR)
        table = version_table(name, version)
        create_version_table(conn, table, layer.fields)
        features = chain(
            read_features(data_dir / layer.path, layer.source_layer, layer.encoding),
            *(
                read_features(data_dir / extra.path, extra.source_layer, None)
                for extra in layer.extra_sources
            ),
        )
        temp = f"staging_{table}"
        stage_features(conn, temp, layer.srid, layer.fields, _rows(features, layer))
        if layer.dissolve_by:
            merge_parts(conn, temp, layer.fields)
        if layer.subdivide:
            subdivide(conn, temp, layer.fields, layer.subdivide)
        geoms, columns = staged(conn, temp, layer.fields)
        count = writer.write_features(conn, table, geoms, layer.fields, columns)
        finish_version_table(conn, table)
        report: dict[str, object] = {"source": layer.path, "source_sha256": digest}
        record_version(conn, name, version, table, layer.fields, report)
        publish_version(conn, layer.spec, version, geometry_type_of(conn, table))
        prune_versions(conn, name, keep=KEEP_OLD_VERSIONS)
    return SampleOutcome(name, version, count, published=True)


def load_sample(
    conn: psycopg.Connection[Any],
    data_dir: Path,
    progress: Progress | None = None,
    only: set[str] | None = None,
    force: bool = False,
) -> dict[str, SampleOutcome]:
    """Publish every sample layer (or those named in ``only``) whose sources changed since
    its live version was loaded (all with ``force``); returns what happened, by name."""
    chosen = [layer for layer in SAMPLE_LAYERS if only is None or layer.spec.name in only]
    outcomes: dict[str, SampleOutcome] = {}
    for index, layer in enumerate(chosen):
        if progress:
            progress(layer.spec.name, index, len(chosen))
        outcomes[layer.spec.name] = publish_sample_layer(conn, layer, data_dir, force)
    if progress:
        progress("", len(chosen), len(chosen))
    return outcomes
