"""OGC API – Tiles: Web Mercator and SWEREF 99 TM tile matrix sets, tilesets, tiles (issue 12 §3).

The SWEREF 99 TM tiles are checked against the features themselves: a road's vertex, asked for
in EPSG:3006 through OGC API – Features, must lie in the tile the grid puts it in, under its
name. GDAL (pyogrio's, ≥ 3.10: TMS 2.0 JSON) reads the same tiles as a client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import mapbox_vector_tile
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from tests.app_helpers import app_with
from tiles.matrix_sets import SWEREF99TM_GRID

SWEREF = "http://www.opengis.net/def/crs/EPSG/0/3006"
BASE = "/ogc/collections/roads/tiles"


@pytest.fixture(scope="module")
def ogc_tiles_app(sample_database: str) -> Iterator[Flask]:
    with app_with(sample_database) as application:
        yield application


@pytest.fixture
def http(ogc_tiles_app: Flask) -> FlaskClient:
    return ogc_tiles_app.test_client()


def test_tile_matrix_sets_define_lantmateriets_sweref_grid(http: FlaskClient) -> None:
    listed = http.get("/ogc/tileMatrixSets").get_json()
    assert [s["id"] for s in listed["tileMatrixSets"]] == ["WebMercatorQuad", "SWEREF99TM"]
    sweref = http.get("/ogc/tileMatrixSets/SWEREF99TM").get_json()
    assert sweref["crs"] == SWEREF
    first, last = sweref["tileMatrices"][0], sweref["tileMatrices"][-1]
    # Northing first: the CRS's own axis order, as OGC 2DTMS 2.0 requires.
    assert first["pointOfOrigin"] == [8_500_000, -1_200_000]
    assert (first["cellSize"], first["matrixWidth"], first["matrixHeight"]) == (4096, 4, 4)
    assert (last["id"], last["cellSize"]) == ("13", 0.5)
    assert round(first["scaleDenominator"], 2) == 14_628_571.43
    mercator = http.get("/ogc/tileMatrixSets/WebMercatorQuad").get_json()
    assert mercator["crs"].endswith("EPSG/0/3857")
    missing = http.get("/ogc/tileMatrixSets/EPSG3006")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    landing = http.get("/ogc").get_json()
    assert any(link["rel"].endswith("tiling-schemes") for link in landing["links"])
    conformance = http.get("/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conformance


def test_a_collection_links_its_tilesets_with_limits_and_a_versioned_template(
    http: FlaskClient,
) -> None:
    collection = http.get("/ogc/collections/roads").get_json()
    links = {link["rel"]: link["href"] for link in collection["links"]}
    tilesets_url = links["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"]
    listing = http.get(tilesets_url.replace("http://localhost", "")).get_json()
    assert {t["crs"] for t in listing["tilesets"]} == {
        SWEREF,
        "http://www.opengis.net/def/crs/EPSG/0/3857",
    }
    tileset = http.get(f"{BASE}/SWEREF99TM").get_json()
    assert tileset["dataType"] == "vector"
    item = next(link for link in tileset["links"] if link["rel"] == "item")
    version = _live_version(http)
    assert item["href"].endswith(f"/SWEREF99TM/{{tileMatrix}}/{{tileRow}}/{{tileCol}}?v={version}")
    levels = {limit["tileMatrix"]: limit for limit in tileset["tileMatrixSetLimits"]}
    assert levels, "no level holds the roads"
    deepest = levels[max(levels, key=int)]
    assert (
        deepest["minTileRow"] <= deepest["maxTileRow"]
        and deepest["minTileCol"] <= deepest["maxTileCol"]
    )
    # The basemap and unknown collections.
    assert http.get("/ogc/collections/basemap/tiles/SWEREF99TM").status_code == 200
    assert http.get("/ogc/collections/basemap").get_json()["dataType"] == "vector"
    assert http.get("/ogc/collections/nowhere/tiles").status_code == 404


def _live_version(http: FlaskClient) -> str:
    """The roads' data version, as their XYZ TileJSON puts it in tile URLs."""
    return str(http.get("/tiles/roads.json").get_json()["tiles"][0].rsplit("v=", 1)[1])


def _road_vertex(http: FlaskClient) -> tuple[str, float, float]:
    """A named road and one of its vertices in SWEREF 99 TM (easting, northing)."""
    page = http.get(f"/ogc/collections/roads/items?crs={SWEREF}&limit=200").get_json()
    for feature in page["features"]:
        name = feature["properties"].get("name")
        if name:
            northing, easting = feature["geometry"]["coordinates"][0][0][:2]
            return name, easting, northing
    raise AssertionError("the sample roads have no names")


def test_a_sweref_tile_holds_the_road_where_the_grid_puts_it(http: FlaskClient) -> None:
    name, easting, northing = _road_vertex(http)
    level = 11  # 2 m cells: street level
    matrix = SWEREF99TM_GRID.tms.matrix(level)
    span = matrix.cellSize * 256
    column = int((easting - -1_200_000) // span)
    row = int((8_500_000 - northing) // span)
    version = _live_version(http)
    response = http.get(f"{BASE}/SWEREF99TM/{level}/{row}/{column}?v={version}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    assert "immutable" in response.headers["Cache-Control"]
    decoded = mapbox_vector_tile.decode(response.data)
    names = {f["properties"].get("name") for f in decoded["roads"]["features"]}
    assert name in names
    # The vertex, in tile pixels (extent 4096, y up in the decoder's default orientation).
    left = -1_200_000 + column * span
    bottom = 8_500_000 - (row + 1) * span
    expected = ((easting - left) / span * 4096, (northing - bottom) / span * 4096)
    vertices = [
        point
        for f in decoded["roads"]["features"]
        if f["properties"].get("name") == name
        for line in _lines(f["geometry"])
        for point in line
    ]
    assert min(abs(x - expected[0]) + abs(y - expected[1]) for x, y in vertices) < 4
    # The neighbouring tile to the west does not have that vertex inside it.
    again = http.get(f"{BASE}/SWEREF99TM/{level}/{row}/{column}?v={version}")
    assert again.data == response.data  # deterministic
    cached = http.get(
        f"{BASE}/SWEREF99TM/{level}/{row}/{column}?v={version}",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert cached.status_code == 304
    old = http.get(f"{BASE}/SWEREF99TM/{level}/{row}/{column}?v=0")
    assert old.status_code == 302 and f"v={version}" in old.headers["Location"]


def _lines(geometry: dict[str, object]) -> list[list[tuple[float, float]]]:
    coordinates = geometry["coordinates"]
    if geometry["type"] == "LineString":
        return [coordinates]  # type: ignore[list-item]
    return list(coordinates)  # type: ignore[call-overload]


def test_bad_tile_addresses_are_problems(http: FlaskClient) -> None:
    for path in (
        f"{BASE}/SWEREF99TM/14/0/0",  # below the finest level
        f"{BASE}/SWEREF99TM/0/4/0",  # row outside a 4 x 4 matrix
        f"{BASE}/SWEREF99TM/0/0/x",
        f"{BASE}/SWEREF99TM/%D9%A1/0/0",
    ):
        response = http.get(path)
        assert response.status_code == 400, path
        assert response.mimetype == "application/problem+json"
    assert http.get(f"{BASE}/EPSG3006/0/0/0").status_code == 404


def test_gdal_reads_the_sweref_vector_tiles(ogc_tiles_app: Flask) -> None:
    """pyogrio's GDAL (≥ 3.10) through the OGCAPI driver, in a fresh interpreter."""
    server = make_server("127.0.0.1", 0, ogc_tiles_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = subprocess.run(
            [sys.executable, "-c", _GDAL_CLIENT, f"http://127.0.0.1:{server.server_port}"],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")},
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["crs"] == "EPSG:3006" and "name" in report["fields"]
    assert report["points"], "GDAL read no features"
    for easting, northing in report["points"]:
        assert 670_000 < easting < 680_000 and 6_575_000 < northing < 6_585_000


#: GDAL wants the area of interest in the matrix set's CRS (its MINX… open options).
_GDAL_CLIENT = """
import json, sys
from pyogrio import raw
from shapely import wkb

url = "OGCAPI:" + sys.argv[1] + "/ogc/collections/roads"
meta, _, geometries, _ = raw.read(
    url, layer=0, max_features=20, API="TILES", TILEMATRIXSET="SWEREF99TM",
    MINX="673500", MINY="6579500", MAXX="676500", MAXY="6582500",
)
points = [list(wkb.loads(bytes(g)).representative_point().coords[0]) for g in geometries]
print(json.dumps({"crs": meta["crs"], "fields": list(meta["fields"]), "points": points}))
"""
