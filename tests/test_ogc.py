"""OGC API – Features over published layers, checked by hand and by GDAL's OAPIF driver."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

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
    lon, lat = data["features"][0]["geometry"]["coordinates"][0][0][:2]
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
    """Part 2: staff ask for SWEREF 99 TM directly, and give bboxes in it."""
    client = ogc_app.test_client()
    described = client.get("/ogc/collections/ogc_districts").get_json()
    assert SWEREF in described["crs"]
    base = "/ogc/collections/ogc_districts/items"
    in_crs84 = client.get(f"{base}?bbox=18.06,59.31,18.07,59.315&limit=100")
    assert in_crs84.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    # The same box in SWEREF 99 TM (computed with pyproj, independently of the server).
    from pyproj import Transformer

    to_sweref = Transformer.from_crs(4326, 3006, always_xy=True)
    x1, y1 = to_sweref.transform(18.06, 59.31)
    x2, y2 = to_sweref.transform(18.07, 59.315)
    in_sweref = client.get(
        f"{base}?bbox={x1},{y1},{x2},{y2}&bbox-crs={SWEREF}&crs={SWEREF}&limit=100"
    )
    assert in_sweref.status_code == 200
    assert in_sweref.headers["Content-Crs"] == f"<{SWEREF}>"
    crs84_ids = {f["id"] for f in in_crs84.get_json()["features"]}
    sweref_features = in_sweref.get_json()["features"]
    assert {f["id"] for f in sweref_features} == crs84_ids
    x, y = sweref_features[0]["geometry"]["coordinates"][0][0][:2]
    assert 660_000 < x < 690_000 and 6_570_000 < y < 6_590_000
    one = client.get(f"{base}/{sweref_features[0]['id']}?crs={SWEREF}")
    assert one.headers["Content-Crs"] == f"<{SWEREF}>"
    for bad in ("crs=EPSG:3006", "crs=http://www.opengis.net/def/crs/EPSG/0/9999", "bbox-crs=x"):
        response = client.get(f"{base}?{bad}")
        assert response.status_code == 400 and response.mimetype == "application/problem+json"


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
