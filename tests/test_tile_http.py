"""Caching, compression, TileJSON, style and error answers of the tile endpoints."""

from __future__ import annotations

import gzip

import pytest
from flask.testing import FlaskClient

from tests.tile_helpers import decode, tile_of

STOCKHOLM_Z15 = tile_of(18.0705, 59.3382, 15)
TILE_PATH = f"/tiles/basemap/15/{STOCKHOLM_Z15.x}/{STOCKHOLM_Z15.y}.mvt"


def _version(client: FlaskClient) -> str:
    url = client.get("/tiles/basemap.json").get_json()["tiles"][0]
    return url.rsplit("?v=", 1)[1]


def test_tilejson_describes_versioned_tiles(client: FlaskClient) -> None:
    doc = client.get("/tiles/basemap.json").get_json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"][0].startswith("http://localhost/tiles/basemap/{z}/{x}/{y}.mvt?v=")
    ids = [layer["id"] for layer in doc["vector_layers"]]
    assert ids[:2] == ["municipalities", "counties"]
    assert {"roads", "buildings", "water", "pois", "address_points"} <= set(ids)
    roads = next(layer for layer in doc["vector_layers"] if layer["id"] == "roads")
    assert roads["fields"] == {"class": "String", "name": "String"}
    assert roads["minzoom"] == 12
    assert doc["maxzoom"] == roads["maxzoom"] == 16  # clients overzoom beyond z16
    west, south, east, north = doc["bounds"]
    assert 10 < west < 12 and 55 < south < 56 and 24 < east < 25 and 68 < north < 70
    assert "OpenStreetMap" in doc["attribution"] and "Lantmäteriet" in doc["attribution"]


def test_single_layer_tilejson(client: FlaskClient) -> None:
    doc = client.get("/tiles/buildings.json").get_json()
    assert doc["vector_layers"][0]["id"] == "buildings"
    assert doc["minzoom"] == 13
    live = client.get("/healthz").get_json()["layers"]["buildings"]
    assert doc["tiles"][0].endswith(f"/tiles/buildings/{{z}}/{{x}}/{{y}}.mvt?v={live}")


def test_style_uses_only_our_tilejson_and_known_layers(client: FlaskClient) -> None:
    style = client.get("/styles/basemap.json").get_json()
    assert style["version"] == 8
    assert set(style["sources"]) == {"basemap"}
    assert style["sources"]["basemap"]["url"] == "http://localhost/tiles/basemap.json"
    # Nothing fetched from elsewhere: glyphs from our own /fonts, no sprite.
    assert style["glyphs"] == "http://localhost/fonts/{fontstack}/{range}.pbf"
    assert "sprite" not in style
    known = {layer["id"] for layer in client.get("/tiles/basemap.json").get_json()["vector_layers"]}
    for layer in style["layers"]:
        assert layer["type"] == "background" or layer["source-layer"] in known
    assert len({layer["id"] for layer in style["layers"]}) == len(style["layers"])


def test_versioned_tile_is_immutable_and_revalidates(client: FlaskClient) -> None:
    version = _version(client)
    first = client.get(f"{TILE_PATH}?v={version}")
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = first.headers["ETag"]
    again = client.get(f"{TILE_PATH}?v={version}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    unversioned = client.get(TILE_PATH)
    assert unversioned.headers["Cache-Control"] == "public, max-age=60"


def test_old_version_redirects_to_the_live_one(client: FlaskClient) -> None:
    response = client.get(f"{TILE_PATH}?v=stale")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"?v={_version(client)}")


def test_gzip_when_accepted(client: FlaskClient) -> None:
    plain = client.get(TILE_PATH)
    zipped = client.get(TILE_PATH, headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data)
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert decode(gzip.decompress(zipped.data))


@pytest.mark.parametrize(
    ("path", "status", "slug"),
    [
        ("/tiles/nowhere/1/0/0.mvt", 404, "not-found"),
        ("/tiles/nowhere.json", 404, "not-found"),
        ("/styles/nowhere.json", 404, "not-found"),
        ("/tiles/basemap/a/0/0.mvt", 400, "invalid-tile-address"),
        ("/tiles/basemap/1/0.5/0.mvt", 400, "invalid-tile-address"),
        ("/tiles/basemap/1/-1/0.mvt", 400, "invalid-tile-address"),
        ("/tiles/basemap/1/2/0.mvt", 400, "invalid-tile-address"),
        ("/tiles/basemap/1/0/2.mvt", 400, "invalid-tile-address"),
        ("/tiles/basemap/25/0/0.mvt", 400, "invalid-tile-address"),
        ("/tiles/basemap/99999999999999/0/0.mvt", 400, "invalid-tile-address"),
        ("/tiles/basemap/%C3%A5/0/0.mvt", 400, "invalid-tile-address"),
        ("/no/such/page", 404, "http-404"),
    ],
)
def test_errors_are_problem_json(client: FlaskClient, path: str, status: int, slug: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_wrong_method_is_problem_json(client: FlaskClient) -> None:
    response = client.post(TILE_PATH)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]
