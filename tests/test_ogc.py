"""OGC API – Features over published layers, checked by hand and by GDAL's OAPIF driver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from tests.layers_helpers import token_headers, upload, zip_files
from webmap import create_app


@pytest.fixture(scope="module")
def ogc_app(sample_database: str, shared_data: Path) -> Iterator[Flask]:
    """An app with the Stockholm districts (public) and a private layer published."""
    app = create_app({"database_url": sample_database, "catalog_ttl": 0, "pool_min_size": 0})
    app.config["TESTING"] = True
    client = app.test_client()
    staff = token_headers(sample_database, "publish", "ogc")
    folder = shared_data / "stockholm-stad"
    data = zip_files(
        {
            f"stadsdelar_3011.{e}": folder / f"stadsdelar_3011.{e}"
            for e in ("shp", "shx", "dbf", "prj")
        }
    )
    if client.get("/api/layers/ogc_districts", headers=staff).status_code == 404:
        assert (
            upload(client, staff, data, "s.zip", "ogc_districts", title="Stadsdelar").status_code
            == 201
        )
    secret = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"namn": "hemlig"},
                    "geometry": {"type": "Point", "coordinates": [18.0, 59.3]},
                }
            ],
        }
    ).encode()
    if client.get("/api/layers/ogc_private", headers=staff).status_code == 404:
        assert (
            upload(client, staff, secret, "p.geojson", "ogc_private", public="false").status_code
            == 201
        )
    app.config["STAFF"] = staff
    yield app
    app.extensions["webmap.pool"].close()


def test_landing_conformance_and_collections(ogc_app: Flask) -> None:
    client = ogc_app.test_client()
    landing = client.get("/ogc").get_json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert rels["data"].endswith("/ogc/collections") and rels["conformance"].endswith(
        "/conformance"
    )
    assert client.get(rels["service-desc"]).get_json()["paths"]["/ogc/collections"]
    conformance = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance
    collections = {c["id"]: c for c in client.get("/ogc/collections").get_json()["collections"]}
    assert "ogc_districts" in collections and "municipalities" in collections
    assert "ogc_private" not in collections
    west, south, east, north = collections["ogc_districts"]["extent"]["spatial"]["bbox"][0]
    assert 17.7 < west < east < 18.5 and 59.2 < south < north < 59.6
    staff_view = client.get("/ogc/collections", headers=ogc_app.config["STAFF"])
    assert "ogc_private" in {c["id"] for c in staff_view.get_json()["collections"]}
    assert staff_view.headers["Cache-Control"].startswith("private")


def test_items_page_with_bbox_limit_offset_and_next_links(ogc_app: Flask) -> None:
    client: FlaskClient = ogc_app.test_client()
    first = client.get("/ogc/collections/ogc_districts/items?limit=50")
    assert first.status_code == 200 and first.mimetype == "application/geo+json"
    body = first.get_json()
    assert body["numberMatched"] == 117 and body["numberReturned"] == 50
    assert len(body["features"]) == 50
    next_link = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert "offset=50" in next_link
    seen = {f["id"] for f in body["features"]}
    offset = 50
    while True:
        page = client.get(f"/ogc/collections/ogc_districts/items?limit=50&offset={offset}")
        data = page.get_json()
        seen |= {f["id"] for f in data["features"]}
        if not any(link["rel"] == "next" for link in data["links"]):
            break
        offset += 50
    assert len(seen) == 117
    # Södermalm only: a bbox around it returns few districts, each with WGS 84 coordinates.
    sodermalm = client.get("/ogc/collections/ogc_districts/items?bbox=18.06,59.31,18.07,59.315")
    data = sodermalm.get_json()
    assert 0 < data["numberMatched"] < 10
    names = {f["properties"]["name"] for f in data["features"]}
    assert any("SÖDERMALM" in n for n in names), names
    lon, lat = data["features"][0]["geometry"]["coordinates"][0][0][0][:2]
    assert 17.9 < lon < 18.2 and 59.2 < lat < 59.4
    one = client.get(f"/ogc/collections/ogc_districts/items/{data['features'][0]['id']}")
    assert one.status_code == 200 and one.get_json()["type"] == "Feature"
    capped = client.get("/ogc/collections/ogc_districts/items?limit=999999").get_json()
    assert capped["numberReturned"] == 117


def test_bad_requests_and_private_collections(ogc_app: Flask) -> None:
    client = ogc_app.test_client()
    for query in (
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=10,60,11,59",
        "limit=0",
        "limit=x",
        "offset=-1",
    ):
        response = client.get(f"/ogc/collections/ogc_districts/items?{query}")
        assert response.status_code == 400, query
        assert response.mimetype == "application/problem+json"
    assert client.get("/ogc/collections/nosuch/items").status_code == 404
    assert client.get("/ogc/collections/ogc_districts/items/999999").status_code == 404
    assert client.get("/ogc/collections/ogc_districts/items/abc").status_code == 404
    assert client.get("/ogc/collections/ogc_private/items").status_code == 404
    staff = ogc_app.config["STAFF"]
    private = client.get("/ogc/collections/ogc_private/items", headers=staff)
    assert private.status_code == 200
    assert private.get_json()["features"][0]["properties"] == {"namn": "hemlig"}
    assert (
        client.get("/ogc/collections", headers={"Authorization": "Bearer wm_bad"}).status_code
        == 401
    )


def test_gdal_oapif_driver_reads_the_api(ogc_app: Flask) -> None:
    server = make_server("127.0.0.1", 0, ogc_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"OAPIF:http://127.0.0.1:{server.server_port}/ogc"
        listing = subprocess.run(
            ["ogrinfo", "-ro", "-q", url], capture_output=True, text=True, timeout=120
        )
        assert listing.returncode == 0, listing.stderr
        assert "ogc_districts" in listing.stdout and "ogc_private" not in listing.stdout
        summary = subprocess.run(
            ["ogrinfo", "-ro", "-so", "-oo", "PAGE_SIZE=40", url, "ogc_districts"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert summary.returncode == 0, summary.stderr
        assert "Feature Count: 117" in summary.stdout
        features = subprocess.run(
            [
                "ogrinfo",
                "-ro",
                "-oo",
                "PAGE_SIZE=40",
                "-spat",
                "18.06",
                "59.31",
                "18.07",
                "59.315",
                url,
                "ogc_districts",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert features.returncode == 0, features.stderr
        assert "SÖDERMALM" in features.stdout
    finally:
        server.shutdown()
        thread.join(timeout=10)


SWEREF = "http://www.opengis.net/def/crs/EPSG/0/3006"


def test_sweref_99_tm_output_and_bbox_crs(ogc_app: Flask) -> None:
    """Part 2: staff ask for SWEREF 99 TM directly, and give bboxes in it, northing first.

    EPSG:3006's axes are northing, easting; only CRS84 is longitude first (/req/crs/crs-uri).
    """
    client = ogc_app.test_client()
    described = client.get("/ogc/collections/ogc_districts").get_json()
    assert SWEREF in described["crs"]
    base = "/ogc/collections/ogc_districts/items"
    in_crs84 = client.get(f"{base}?bbox=18.06,59.31,18.07,59.315&limit=100")
    assert in_crs84.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    lon, lat = in_crs84.get_json()["features"][0]["geometry"]["coordinates"][0][0][0][:2]
    assert 17 < lon < 19 and 59 < lat < 60
    # The same box in SWEREF 99 TM (computed with pyproj, independently of the server).
    from pyproj import Transformer

    to_sweref = Transformer.from_crs(4326, 3006, always_xy=True)
    e1, n1 = to_sweref.transform(18.06, 59.31)
    e2, n2 = to_sweref.transform(18.07, 59.315)
    in_sweref = client.get(
        f"{base}?bbox={n1},{e1},{n2},{e2}&bbox-crs={SWEREF}&crs={SWEREF}&limit=100"
    )
    assert in_sweref.status_code == 200
    assert in_sweref.headers["Content-Crs"] == f"<{SWEREF}>"
    crs84_ids = {f["id"] for f in in_crs84.get_json()["features"]}
    sweref_features = in_sweref.get_json()["features"]
    assert {f["id"] for f in sweref_features} == crs84_ids
    northing, easting = sweref_features[0]["geometry"]["coordinates"][0][0][0][:2]
    assert 6_570_000 < northing < 6_590_000 and 660_000 < easting < 690_000
    # Easting first is another, empty box in northing-first order (the defect GDAL hit).
    swapped = client.get(f"{base}?bbox={e1},{n1},{e2},{n2}&bbox-crs={SWEREF}").get_json()
    assert swapped["features"] == []
    one = client.get(f"{base}/{sweref_features[0]['id']}?crs={SWEREF}")
    assert one.headers["Content-Crs"] == f"<{SWEREF}>"
    assert one.get_json()["geometry"]["coordinates"][0][0][0][0] > 6_000_000
    web_mercator = client.get(f"{base}?crs=http://www.opengis.net/def/crs/EPSG/0/3857&limit=1")
    x, y = web_mercator.get_json()["features"][0]["geometry"]["coordinates"][0][0][0][:2]
    assert 1_950_000 < x < 2_050_000 and 8_200_000 < y < 8_300_000  # 3857 is easting first
    for bad in ("crs=EPSG:3006", "crs=http://www.opengis.net/def/crs/EPSG/0/9999", "bbox-crs=x"):
        response = client.get(f"{base}?{bad}")
        assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_collections_name_storage_crs_geometry_type_and_schema(ogc_app: Flask) -> None:
    """storageCrs and the geometry type in the collection; attributes typed in Part 5's schema."""
    client = ogc_app.test_client()
    districts = client.get("/ogc/collections/ogc_districts").get_json()
    assert districts["storageCrs"] == "http://www.opengis.net/def/crs/EPSG/0/3857"
    assert districts["storageCrs"] in districts["crs"]
    assert districts["geometryFormat"] == "geometry-multipolygon"
    links = {link["rel"]: link for link in districts["links"]}
    schema_link = links["http://www.opengis.net/def/rel/ogc/1.0/schema"]
    assert links["describedby"]["href"] == schema_link["href"]
    response = client.get(schema_link["href"].replace("http://localhost", ""))
    assert response.status_code == 200 and response.mimetype == "application/schema+json"
    schema = response.get_json()
    geometry = schema["properties"].pop("geometry")
    assert geometry == {"x-ogc-role": "primary-geometry", "format": "geometry-multipolygon"}
    stored = ogc_app.extensions["webmap.services"].catalog.layers()["ogc_districts"].fields
    assert [name for name, _ in sorted(schema["properties"].items(), key=_sequence)] == [
        f.name for f in stored
    ]
    # Every feature of a polygon layer is a MultiPolygon, whatever its parts.
    page = client.get("/ogc/collections/ogc_districts/items?limit=200").get_json()
    assert {f["geometry"]["type"] for f in page["features"]} == {"MultiPolygon"}
    points = client.get("/ogc/collections/pois").get_json()
    assert points["geometryFormat"] == "geometry-point-or-multipoint"
    roads = client.get("/ogc/collections/roads/schema").get_json()
    assert roads["properties"]["geometry"]["format"] == "geometry-multilinestring"
    assert client.get("/ogc/collections/nowhere/schema").status_code == 404
    assert client.get("/ogc/collections/ogc_private/schema").status_code == 404
    staff = ogc_app.config["STAFF"]
    assert client.get("/ogc/collections/ogc_private/schema", headers=staff).status_code == 200


def _sequence(item: tuple[str, dict[str, Any]]) -> int:
    return int(item[1]["x-ogc-propertySeq"])


def test_gdal_3_12_and_owslib_read_sweref_99_tm_the_right_way_round(ogc_app: Flask) -> None:
    """GDAL's OAPIF driver (pyogrio's GDAL ≥ 3.10) with CRS=EPSG:3006, and OWSLib, as clients."""
    server = make_server("127.0.0.1", 0, ogc_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root = f"http://127.0.0.1:{server.server_port}/ogc"
    try:
        gdal = subprocess.run(
            [sys.executable, "-c", _GDAL_CLIENT, root],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")},
        )
        assert gdal.returncode == 0, gdal.stderr
        report = json.loads(gdal.stdout)
        assert report["crs"] == "EPSG:3006" and report["geometry_type"] == "MultiPolygon"
        # x is easting, y northing once GDAL has read the northing-first answer.
        assert 660_000 < report["first"][0] < 690_000
        assert 6_570_000 < report["first"][1] < 6_590_000
        assert any("SÖDERMALM" in name for name in report["in_bbox"]), report
        assert 0 < len(report["in_bbox"]) < 117

        from owslib.ogcapi.features import Features

        client = Features(root, timeout=60)
        collection = client.collection("ogc_districts")
        assert collection["storageCrs"].endswith("/3857")
        items = client.collection_items(
            "ogc_districts",
            crs=SWEREF,
            bbox=[6_578_000, 674_000, 6_579_000, 675_000],
            **{"bbox-crs": SWEREF},
            limit=100,
        )
        assert items["features"], "OWSLib's northing-first bbox found nothing"
        northing, easting = items["features"][0]["geometry"]["coordinates"][0][0][0][:2]
        assert 6_570_000 < northing < 6_590_000 and 660_000 < easting < 690_000
    finally:
        server.shutdown()
        thread.join(timeout=10)


#: Runs in a fresh interpreter: the test process's pyogrio has most GDAL drivers switched off
#: (layers/ingest/gdal_policy.py), the OAPIF client among them.
_GDAL_CLIENT = """
import json, sys
import pyogrio
from pyogrio import raw
from shapely import wkb

url = "OAPIF:" + sys.argv[1]
info = pyogrio.read_info(url, layer="ogc_districts", CRS="EPSG:3006")
_, _, first, _ = raw.read(url, layer="ogc_districts", CRS="EPSG:3006", max_features=1)
point = wkb.loads(bytes(first[0])).representative_point()
_, _, _, fields = raw.read(
    url, layer="ogc_districts", CRS="EPSG:3006", columns=["name"],
    bbox=(674_600, 6_578_300, 675_300, 6_578_900),
)
print(json.dumps({
    "crs": info["crs"], "geometry_type": info["geometry_type"],
    "first": [point.x, point.y], "in_bbox": sorted(str(v) for v in fields[0]),
}))
"""


def test_offsets_and_ids_beyond_what_postgres_takes_are_refused(client: FlaskClient) -> None:
    # Found by the fuzz test (tests/test_fuzz.py): both were 500s. Uses the sample's roads.
    huge = client.get("/ogc/collections/roads/items?offset=100000000000000000000")
    assert huge.status_code == 400 and huge.mimetype == "application/problem+json"
    assert "offset" in huge.get_json()["detail"]
    last = client.get(f"/ogc/collections/roads/items?offset={2**63 - 1}")
    assert last.status_code == 200 and last.get_json()["features"] == []
    for odd_digits in ("%C2%B2", "%D9%A1"):  # "²" and Arabic-Indic one: str.isdigit() says yes
        response = client.get(f"/ogc/collections/roads/items/{odd_digits}")
        assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_sweref_bbox_far_outside_its_area_is_clipped_not_a_500(client: FlaskClient) -> None:
    # Found by the fuzz test: PROJ refused E 17,197,654 in SWEREF 99 TM (500).
    base = "/ogc/collections/roads/items?bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3006"
    nowhere = client.get(f"{base}&bbox=0,0,17197654,0")
    assert nowhere.status_code == 200 and nowhere.get_json()["features"] == []
    everything = client.get(f"{base}&bbox=-1e300,-1e300,1e300,1e300&limit=1").get_json()
    assert (
        everything["numberMatched"]
        == client.get("/ogc/collections/roads/items?limit=1").get_json()["numberMatched"]
    )
