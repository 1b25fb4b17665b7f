"""Imports: the sample's lookups, and ``webmap addresses|properties import`` for every format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyogrio.raw
import pytest
import shapely
from flask import Flask
from pyproj import Transformer

from layers.lookup.normalize import HouseNumber, parse_house_numbers
from layers.lookup.store import load_municipalities
from layers.schema import upgrade
from tests.app_helpers import scratch_database
from webmap import create_app
from webmap.cli import main

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
OSM_FILE = DATA_DIR / "osm" / "stockholm-ostermalm.osm"


def _osm_addresses() -> dict[str, dict[str, str]]:
    """node id → addr:* tags, read straight from the XML (independently of GDAL)."""
    found: dict[str, dict[str, str]] = {}
    for node in ET.parse(OSM_FILE).getroot().iter("node"):
        tags = {t.get("k", ""): t.get("v", "") for t in node.iter("tag")}
        if "addr:housenumber" in tags and "addr:street" in tags:
            found[node.get("id", "")] = tags | {
                "lon": node.get("lon", ""),
                "lat": node.get("lat", ""),
            }
    return found


def test_sample_has_municipalities_with_four_character_codes(sample_database: str) -> None:
    with psycopg.connect(sample_database) as conn:
        count, codes = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE code ~ '^[0-9]{4}$') "
            "FROM lookup.municipalities"
        ).fetchone() or (0, 0)
        stockholm = conn.execute(
            "SELECT name, county_code, ST_SRID(geom) FROM lookup.municipalities WHERE code = '0180'"
        ).fetchone()
    assert count == codes == 290
    assert stockholm == ("Stockholm", "01", 3006)


def test_sample_addresses_are_the_osm_address_nodes(sample_database: str) -> None:
    nodes = _osm_addresses()
    to_3006 = Transformer.from_crs(4326, 3006, always_xy=True)
    with psycopg.connect(sample_database) as conn:
        rows = conn.execute(
            "SELECT source_id, street, number, letter, postcode, ST_X(geom), ST_Y(geom), "
            "municipality_code, city FROM lookup.addresses WHERE source = 'osm:stockholm-ostermalm'"
        ).fetchall()
    assert len(rows) >= 950
    for source_id, street, number, letter, postcode, e, n, code, city in rows:
        tags = nodes[source_id.removeprefix("node/")]
        assert tags["addr:street"] == street
        assert HouseNumber(number, letter) in parse_house_numbers(tags["addr:housenumber"])
        if postcode:
            assert tags["addr:postcode"].replace(" ", "") == postcode
        x, y = to_3006.transform(float(tags["lon"]), float(tags["lat"]))
        assert abs(x - e) < 0.01 and abs(y - n) < 0.01
        assert (code, city) == ("0180", "Stockholm")


def test_sample_property_register_is_fictional_and_tiles_the_blocks(sample_database: str) -> None:
    with psycopg.connect(sample_database) as conn:
        total, fictional, labelled, inside = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE fictional), "
            "count(*) FILTER (WHERE designation LIKE 'Stockholm Fiktiva %'), "
            "count(*) FILTER (WHERE municipality_code = '0180') FROM lookup.properties"
        ).fetchone() or (0, 0, 0, 0)
        overlap = conn.execute(
            "SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom))), 0) "
            "FROM lookup.properties a JOIN lookup.properties b "
            "ON a.id < b.id AND ST_Intersects(a.geom, b.geom)"
        ).fetchone()
        unique = conn.execute(
            "SELECT count(DISTINCT designation) FROM lookup.properties"
        ).fetchone()
    assert total > 100
    assert total == fictional == labelled == inside
    assert unique == (total,)
    assert overlap is not None and overlap[0] < 1.0  # m²: units share borders, never land


@dataclass(frozen=True)
class Scratch:
    app: Flask
    url: str


@contextmanager
def _scratch_database(database_url: str, suffix: str) -> Iterator[str]:
    """A fresh, migrated database beside the session's; dropped even when set-up fails."""
    with scratch_database(database_url, suffix) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def scratch(database_url: str) -> Iterator[Scratch]:
    """An empty lookup database with the municipalities, for import commands."""
    with _scratch_database(database_url, "imports") as url:
        with psycopg.connect(url) as conn:
            load_municipalities(conn, DATA_DIR / "lantmateriet" / "ak_riks.zip")
        app = create_app({"database_url": url, "pool_min_size": 0})
        try:
            yield Scratch(app, url)
        finally:
            app.extensions["webmap.pool"].close()


def _invoke(scratch: Scratch, *args: str) -> Any:
    return scratch.app.test_cli_runner().invoke(main, list(args))


def _some_osm(count: int) -> list[dict[str, str]]:
    nodes = sorted(_osm_addresses().items())
    return [tags for _id, tags in nodes if "-" not in tags["addr:housenumber"]][:count]


def test_sample_splits_osm_number_ranges(sample_database: str) -> None:
    ranges = [t for t in _osm_addresses().values() if "-" in t["addr:housenumber"]]
    assert ranges  # Östermalm tags some buildings "12-14"
    with psycopg.connect(sample_database) as conn:
        for tags in ranges:
            low, high = (int(n) for n in tags["addr:housenumber"].split("-"))
            found = conn.execute(
                "SELECT array_agg(number ORDER BY number) FROM lookup.addresses "
                "WHERE street = %s AND number BETWEEN %s AND %s",
                [tags["addr:street"], low, high],
            ).fetchone()
            assert found is not None and {low, high} <= set(found[0] or []), tags


def test_csv_with_a_column_mapping_in_a_local_zone(scratch: Scratch, tmp_path: Path) -> None:
    to_3011 = Transformer.from_crs(4326, 3011, always_xy=True)
    lines = ["Gatunamn;Nr;Ost;Nord;Ort"]
    wanted = _some_osm(20)
    for tags in wanted:
        e, n = to_3011.transform(float(tags["lon"]), float(tags["lat"]))
        lines.append(f"{tags['addr:street']};{tags['addr:housenumber']};{e:.3f};{n:.3f};Stockholm")
    lines.append("Grev Turegatan;12-15;153000.0;6580000.0;Stockholm")  # both sides: refused
    lines.append("Grev Turegatan;40;6580000.0;153000.0;Stockholm")  # x and y swapped
    lines.append(";40;153000.0;6580000.0;Stockholm")  # no street
    lines[1] += ";1144"  # a four-digit postcode is dropped, the address kept
    lines[0] += ";Postnr"
    path = tmp_path / "register.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _invoke(
        scratch, "addresses", "import", str(path), "--srid", "3011", "--delimiter", ";",
        "--map", "street=Gatunamn", "--map", "number=Nr", "--map", "x=Ost", "--map", "y=Nord",
        "--map", "city=Ort", "--source", "mapped", "--map", "postcode=Postnr",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "kept 1, but dropped a postcode that is not five digits" in result.output
    assert f"read {len(wanted) + 3} rows, stored {len(wanted)}, skipped 3" in result.output
    assert "house number not understood" in result.output
    assert "outside Sweden" in result.output and "no street name" in result.output
    to_3006 = Transformer.from_crs(4326, 3006, always_xy=True)
    with psycopg.connect(scratch.url) as conn:
        for tags in wanted[:5]:
            row = conn.execute(
                "SELECT ST_X(geom), ST_Y(geom), municipality_code FROM lookup.addresses "
                "WHERE source = 'mapped' AND street = %s AND number::text || coalesce(letter, '') "
                "= upper(replace(%s, ' ', ''))",
                [tags["addr:street"], tags["addr:housenumber"]],
            ).fetchone()
            assert row is not None
            e, n = to_3006.transform(float(tags["lon"]), float(tags["lat"]))
            assert abs(row[0] - e) < 0.01 and abs(row[1] - n) < 0.01 and row[2] == "0180"
    again = _invoke(
        scratch, "addresses", "import", str(path), "--srid", "3011", "--delimiter", ";",
        "--map", "street=Gatunamn", "--map", "number=Nr", "--map", "x=Ost", "--map", "y=Nord",
        "--map", "city=Ort", "--source", "mapped",
    )  # fmt: skip
    with psycopg.connect(scratch.url) as conn:
        count = conn.execute("SELECT count(*) FROM lookup.addresses WHERE source = 'mapped'")
        assert count.fetchone() == (len(wanted),)  # re-import updates in place
    assert again.exit_code == 0


def test_geojson_and_geopackage_addresses(scratch: Scratch, tmp_path: Path) -> None:
    wanted = _some_osm(30)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(t["lon"]), float(t["lat"])]},
            "properties": {
                "gata": t["addr:street"],
                "gatunummer": t["addr:housenumber"],
                "kommundel": "Östermalm",
            },
        }
        for t in wanted[:15]
    ]
    geojson = tmp_path / "addresses.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = _invoke(scratch, "addresses", "import", str(geojson), "--source", "geojson")
    assert result.exit_code == 0, result.output
    assert "stored 15" in result.output
    client = scratch.app.test_client()
    typed = f"{wanted[0]['addr:street']} {wanted[0]['addr:housenumber']}"
    hit = client.get("/api/search", query_string={"q": typed}).get_json()["features"][0]
    assert hit["properties"]["district"] == "Östermalm"  # kommundel, from the file
    lon, lat = hit["geometry"]["coordinates"]
    here = client.get("/api/reverse", query_string={"lon": lon, "lat": lat}).get_json()
    assert here["address"]["district"] == "Östermalm" and here["address"]["distance_m"] < 0.5

    gpkg = tmp_path / "addresses.gpkg"
    rest = wanted[15:]
    points = [shapely.Point(float(t["lon"]), float(t["lat"])) for t in rest]
    pyogrio.raw.write(
        str(gpkg),
        geometry=np.array(shapely.to_wkb(points), dtype=object),
        field_data=[
            np.array([t["addr:street"] for t in rest], dtype=object),
            np.array([t["addr:housenumber"] for t in rest], dtype=object),
        ],
        fields=["Street", "HouseNumber"],
        crs="EPSG:4326",
        driver="GPKG",
        geometry_type="Point",
    )
    result = _invoke(scratch, "addresses", "import", str(gpkg), "--source", "gpkg")
    assert result.exit_code == 0, result.output
    assert f"stored {len(rest)}" in result.output
    response = scratch.app.test_client().get(
        "/api/search", query_string={"q": f"{rest[0]['addr:street']} {rest[0]['addr:housenumber']}"}
    )
    assert response.get_json()["features"][0]["properties"]["street"] == rest[0]["addr:street"]


def test_property_import_is_searchable_and_found_by_reverse(
    scratch: Scratch, tmp_path: Path
) -> None:
    tags = _some_osm(1)[0]
    lon, lat = float(tags["lon"]), float(tags["lat"])
    to_3006 = Transformer.from_crs(4326, 3006, always_xy=True)
    e, n = to_3006.transform(lon, lat)
    square = shapely.box(e - 20, n - 20, e + 20, n + 20)
    features = [
        {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(square),
            "properties": {"FASTIGHETSBETECKNING": "Stockholm Provgården 3:14"},
        },
        {"type": "Feature", "geometry": shapely.geometry.mapping(square), "properties": {}},
    ]
    path = tmp_path / "units.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = _invoke(scratch, "properties", "import", str(path), "--srid", "3006", "--real")
    assert result.exit_code == 0, result.output
    assert "stored 1" in result.output and "no designation" in result.output
    client = scratch.app.test_client()
    found = client.get("/api/search", query_string={"q": "provgarden 3:1"}).get_json()
    first = found["features"][0]["properties"]
    assert first["designation"] == "Stockholm Provgården 3:14"
    assert first["fictional"] is False and first["label"] == "Stockholm Provgården 3:14"
    here = client.get("/api/reverse", query_string={"lon": lon, "lat": lat}).get_json()
    assert here["property"] == {
        "designation": "Stockholm Provgården 3:14",
        "label": "Stockholm Provgården 3:14",
        "fictional": False,
        "attribution": None,
    }


def test_load_sample_command_loads_the_lookups(scratch: Scratch) -> None:
    result = _invoke(scratch, "data", "load-sample", "--only", "lookup")
    assert result.exit_code == 0, result.output
    assert "lookup municipalities: 290" in result.output
    assert "lookup properties (fictional):" in result.output
    with psycopg.connect(scratch.url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM lookup.addresses WHERE source = 'osm:stockholm-ostermalm'"
        ).fetchone()
    assert row is not None and f"lookup addresses: {row[0]}" in result.output


def test_addresses_abroad_are_skipped(scratch: Scratch, tmp_path: Path) -> None:
    # Oslo lies inside Sweden's bounding box but in no Swedish municipality.
    path = tmp_path / "oslo.csv"
    path.write_text("gata,gatunummer,longitude,latitude\nKarl Johans gate,1,10.7445,59.9113\n")
    result = _invoke(scratch, "addresses", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "skipped 1: outside every Swedish municipality" in result.output


def test_import_refuses_what_it_cannot_read(scratch: Scratch, tmp_path: Path) -> None:
    path = tmp_path / "nocoords.csv"
    path.write_text("gata,gatunummer\nÅgatan,1\n", encoding="utf-8")
    result = _invoke(scratch, "addresses", "import", str(path))
    assert result.exit_code != 0 and "coordinates" in result.output
    unknown = _invoke(scratch, "addresses", "import", str(path), "--map", "colour=gata")
    assert unknown.exit_code != 0 and "Unknown field" in unknown.output
    bad_pair = _invoke(scratch, "addresses", "import", str(path), "--map", "gata")
    assert bad_pair.exit_code != 0 and "FIELD=COLUMN" in bad_pair.output
