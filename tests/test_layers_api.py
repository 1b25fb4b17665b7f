"""Publishing vector layers through /api/layers with real files: formats, CRS, report, versions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.layers_helpers import decoded_tile, raw_tile, tile_of, token_headers, upload, zip_files

STOCKHOLM = (18.07, 59.33)


@pytest.fixture(scope="module")
def staff(sample_database: str) -> dict[str, str]:
    return token_headers(sample_database, "publish", "layers-api")


def _stockholm_zip(shared_data: Path) -> bytes:
    folder = shared_data / "stockholm-stad"
    return zip_files(
        {
            f"stadsdelar_3011.{ext}": folder / f"stadsdelar_3011.{ext}"
            for ext in ("shp", "shx", "dbf", "prj")
        }
    )


def _feature_names(tile: dict, layer: str, key: str) -> set[str]:  # type: ignore[type-arg]
    return {f["properties"].get(key) for f in tile.get(layer, {}).get("features", [])}


def test_stockholm_districts_shapefile_lands_over_stockholm(
    client: FlaskClient, staff: dict[str, str], shared_data: Path
) -> None:
    response = upload(
        client,
        staff,
        _stockholm_zip(shared_data),
        "stadsdelar.zip",
        "districts",
        title="Stadsdelar",
        attribution="© Stockholms stad",
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["Location"] == "/api/layers/districts"
    report = body["report"]
    assert report["crs"] == {
        "srid": 3011,
        "name": "EPSG:3011 (SWEREF 99 18 00)",
        "from": "declared",
    }
    assert report["features_read"] == report["stored"] == 117 and report["rejected_count"] == 0
    assert report["source"]["encoding"] == "ISO-8859-1"  # no .cpg: detected from the DBF bytes

    detail = client.get("/api/layers/districts", headers=staff).get_json()
    west, south, east, north = detail["bounds"]
    assert 17.7 < west < east < 18.5 and 59.2 < south < north < 59.6
    assert detail["feature_count"] == 117 and detail["version"] == body["version"]
    assert [v["live"] for v in detail["versions"]] == [True]

    tile = decoded_tile(client, "districts", 18.075, 59.315, 12)  # Södermalm
    names = _feature_names(tile, "districts", "name")
    assert any("SÖDERMALM" in (n or "") for n in names), names
    assert decoded_tile(client, "districts", 11.9, 57.7, 12) == {}  # nothing over Göteborg


def test_scb_geojson_without_crs_is_refused_with_hint_then_lands_in_sweden(
    client: FlaskClient, staff: dict[str, str], shared_data: Path, sample_database: str
) -> None:
    path = shared_data / "scb" / "kommun_3006.geojson"
    refused = upload(client, staff, path, "kommun_3006.geojson", "scb_kommuner")
    assert refused.status_code == 422
    problem = refused.get_json()
    assert problem["type"] == "/problems/implausible-crs"
    assert "srid=3006" in problem["hint"] and "SWEREF 99 TM" in problem["detail"]
    assert problem["suggested_srids"][0] == 3006
    assert client.get("/api/layers/scb_kommuner", headers=staff).status_code == 404
    with psycopg.connect(sample_database) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'scb_kommuner%'"
        ).fetchone()
    assert tables == (0,)

    ok = upload(client, staff, path, "kommun_3006.geojson", "scb_kommuner", srid="3006")
    assert ok.status_code == 201, ok.get_json()
    assert ok.get_json()["report"]["stored"] == 290
    west, south, east, north = client.get("/api/layers/scb_kommuner", headers=staff).get_json()[
        "bounds"
    ]
    assert 10.5 < west < 11.5 and 55 < south < 55.5 and 23.5 < east < 24.5 and 68.5 < north < 69.2
    names = _feature_names(
        decoded_tile(client, "scb_kommuner", 15.2, 59.27, 9), "scb_kommuner", "KnNamn"
    )
    assert "Örebro" in names


def test_elverum_csv_in_utm33_lands_in_norway(
    client: FlaskClient, staff: dict[str, str], shared_data: Path
) -> None:
    path = shared_data / "extra" / "elverum_adresser_25833.csv"
    response = upload(client, staff, path, "elverum_adresser_25833.csv", "elverum")
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert report["crs"]["srid"] == 25833 and report["crs"]["from"] == "column"
    assert report["stored"] == 10871 and report["geometry_type"] == "Point"
    west, south, east, north = client.get("/api/layers/elverum", headers=staff).get_json()["bounds"]
    assert 11.0 < west < east < 12.6 and 60.6 < south < north < 61.6  # Elverum, Innlandet
    tile = decoded_tile(client, "elverum", 11.5637, 60.8818, 14)  # Elverum town centre
    assert len(tile["elverum"]["features"]) > 50
    assert all(f["geometry"]["type"] == "Point" for f in tile["elverum"]["features"])


def test_orebro_pois_as_geopackage_need_a_layer_choice(
    client: FlaskClient, staff: dict[str, str], shared_data: Path, tmp_path: Path
) -> None:
    gpkg = tmp_path / "orebro.gpkg"
    for source, layer in (("1-Bad.osm.xml", "bad"), ("10-Bibliotek.osm.xml", "bibliotek")):
        update = ["-update"] if gpkg.exists() else []
        subprocess.run(
            [
                "ogr2ogr",
                "-f",
                "GPKG",
                *update,
                "-nln",
                layer,
                str(gpkg),
                str(shared_data / "orebro" / source),
                "points",
            ],
            check=True,
            capture_output=True,
        )
    choose = upload(client, staff, gpkg, "orebro.gpkg", "orebro_bibliotek")
    assert choose.status_code == 400
    assert sorted(choose.get_json()["layers"]) == ["bad", "bibliotek"]
    ok = upload(
        client,
        staff,
        gpkg,
        "orebro.gpkg",
        "orebro_bibliotek",
        layer="bibliotek",
        title="Bibliotek i Örebro",
    )
    assert ok.status_code == 201, ok.get_json()
    report = ok.get_json()["report"]
    assert report["source"]["layer"] == "bibliotek" and report["crs"]["srid"] == 4326
    west, south, east, north = client.get("/api/layers/orebro_bibliotek", headers=staff).get_json()[
        "bounds"
    ]
    assert 14.7 < west < east < 15.8 and 58.9 < south < north < 59.6
    names = _feature_names(
        decoded_tile(client, "orebro_bibliotek", 15.2079, 59.2689, 9), "orebro_bibliotek", "name"
    )
    assert any("bibliotek" in (n or "").lower() for n in names), names


def _geojson(features: list[dict]) -> bytes:  # type: ignore[type-arg]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _feature(geometry: dict | None, **props: object) -> dict:  # type: ignore[type-arg]
    return {"type": "Feature", "properties": props, "geometry": geometry}


_SQUARE = [[[18.0, 59.3], [18.01, 59.3], [18.01, 59.31], [18.0, 59.31], [18.0, 59.3]]]
_BOWTIE = [[[18.0, 59.3], [18.01, 59.31], [18.01, 59.3], [18.0, 59.31], [18.0, 59.3]]]
_FLAT = [[[18.0, 59.3], [18.01, 59.3], [18.02, 59.3], [18.0, 59.3]]]


def test_report_lists_repaired_and_rejected_features_by_index(
    client: FlaskClient, staff: dict[str, str]
) -> None:
    data = _geojson(
        [
            _feature({"type": "Polygon", "coordinates": _SQUARE}, namn="ok"),
            _feature({"type": "Polygon", "coordinates": _BOWTIE}, namn="rosett"),
            _feature(None, namn="utan geometri"),
            _feature({"type": "Polygon", "coordinates": _FLAT}, namn="platt"),
            _feature({"type": "MultiPolygon", "coordinates": [_SQUARE]}, namn="multi"),
        ]
    )
    response = upload(client, staff, data, "parker.geojson", "report_parks")
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert report["features_read"] == 5 and report["stored"] == 3
    assert report["repaired_count"] == 1 and report["repaired"][0]["index"] == 1
    assert "Self-intersection" in report["repaired"][0]["reason"]
    rejected = {r["index"]: r["reason"] for r in report["rejected"]}
    assert set(rejected) == {2, 3}
    assert "empty" in rejected[2] and "collapses" in rejected[3]
    detail = client.get("/api/layers/report_parks", headers=staff).get_json()
    assert detail["report"]["rejected_count"] == 2 and detail["feature_count"] == 3
    assert detail["geometry_type"] == "Polygon"


def test_mixed_geometry_types_are_refused_or_filtered_on_request(
    client: FlaskClient, staff: dict[str, str]
) -> None:
    data = _geojson(
        [
            _feature({"type": "Polygon", "coordinates": _SQUARE}, namn="park"),
            _feature({"type": "Point", "coordinates": [18.0, 59.3]}, namn="bänk"),
            _feature({"type": "Polygon", "coordinates": _SQUARE}, namn="park 2"),
        ]
    )
    refused = upload(client, staff, data, "blandat.geojson", "mixed")
    assert refused.status_code == 422
    problem = refused.get_json()
    assert problem["type"] == "/problems/mixed-geometry-types"
    assert problem["counts"] == {"polygon": 2, "point": 1} and problem["first_index"]["point"] == 1
    ok = upload(client, staff, data, "blandat.geojson", "mixed", geometry_type="polygon")
    assert ok.status_code == 201
    report = ok.get_json()["report"]
    assert report["stored"] == 2 and report["rejected"] == [
        {"index": 1, "reason": "point in a polygon layer"}
    ]


def test_new_versions_roll_back_and_tile_urls_carry_the_version(
    client: FlaskClient, staff: dict[str, str]
) -> None:
    first = _geojson([_feature({"type": "Polygon", "coordinates": _SQUARE}, namn="v1")])
    created = upload(client, staff, first, "a.geojson", "versioned", title="Versioner")
    assert created.status_code == 201
    v1 = created.get_json()["version"]
    tile = tile_of(18.005, 59.305, 14)
    v1_bytes = raw_tile(client, "versioned", tile, v1)
    assert v1_bytes

    moved = [[[x + 0.002, y] for x, y in ring] for ring in _SQUARE]
    second = _geojson([_feature({"type": "Polygon", "coordinates": moved}, namn="v2")])
    put = upload(client, staff, second, "b.geojson", "versioned", method="PUT")
    assert put.status_code == 200, put.get_json()
    v2 = put.get_json()["version"]
    assert v2 == v1 + 1
    detail = client.get("/api/layers/versioned", headers=staff).get_json()
    assert detail["title"] == "Versioner"  # metadata not sent is kept
    stale = client.get(f"/tiles/versioned/{tile.z}/{tile.x}/{tile.y}.mvt?v={v1}")
    assert stale.status_code == 302 and f"v={v2}" in stale.headers["Location"]
    assert raw_tile(client, "versioned", tile, v2) != v1_bytes

    back = client.post("/api/layers/versioned/rollback", headers=staff)
    assert back.status_code == 200 and back.get_json()["version"] == v1
    assert raw_tile(client, "versioned", tile, v1) == v1_bytes
    forward = client.post("/api/layers/versioned/rollback", json={"version": v2}, headers=staff)
    assert forward.get_json()["version"] == v2
    missing = client.post("/api/layers/versioned/rollback", json={"version": 99}, headers=staff)
    assert missing.status_code == 404


def test_old_versions_are_pruned_to_the_configured_count(
    sample_database: str, shared_data: Path
) -> None:
    app = create_limited_app(sample_database, keep_versions=1)
    client = app.test_client()
    staff = token_headers(sample_database)
    data = _geojson([_feature({"type": "Polygon", "coordinates": _SQUARE}, namn="x")])
    assert upload(client, staff, data, "a.geojson", "pruned").status_code == 201
    for _ in range(3):
        assert upload(client, staff, data, "a.geojson", "pruned", method="PUT").status_code == 200
    versions = [
        v["version"] for v in client.get("/api/layers/pruned", headers=staff).get_json()["versions"]
    ]
    assert versions == [4, 3]
    with psycopg.connect(sample_database) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'pruned%'"
            ).fetchall()
        }
    assert tables == {"pruned_v3", "pruned_v4"}
    app.extensions["webmap.pool"].close()


def test_delete_removes_everything_and_a_new_layer_never_reuses_versions(
    client: FlaskClient, staff: dict[str, str], sample_database: str
) -> None:
    data = _geojson([_feature({"type": "Point", "coordinates": [18.0, 59.3]}, namn="x")])
    assert upload(client, staff, data, "p.geojson", "shortlived").status_code == 201
    assert upload(client, staff, data, "p.geojson", "shortlived", method="PUT").status_code == 200
    assert client.delete("/api/layers/shortlived", headers=staff).status_code == 204
    assert client.get("/api/layers/shortlived", headers=staff).status_code == 404
    assert client.get("/tiles/shortlived/14/9011/4787.mvt").status_code == 404
    with psycopg.connect(sample_database) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'shortlived%'"
        ).fetchone()
    assert left == (0,)
    again = upload(client, staff, data, "p.geojson", "shortlived")
    assert again.status_code == 201 and again.get_json()["version"] == 3
    assert client.delete("/api/layers/nosuchlayer", headers=staff).status_code == 404


def test_private_layers_need_a_token_and_read_tokens_cannot_publish(
    client: FlaskClient, staff: dict[str, str], sample_database: str
) -> None:
    data = _geojson([_feature({"type": "Point", "coordinates": [18.0, 59.3]}, namn="hemlig")])
    created = upload(client, staff, data, "p.geojson", "secret_points", public="false")
    assert created.status_code == 201
    tile = tile_of(18.0, 59.3, 12)
    path = f"/tiles/secret_points/{tile.z}/{tile.x}/{tile.y}.mvt"
    assert client.get(path).status_code == 404
    assert client.get("/tiles/secret_points.json").status_code == 404
    reader = token_headers(sample_database, "read", "viewer")
    seen = client.get(path, headers=reader, follow_redirects=True)
    assert seen.status_code == 200 and seen.data
    assert "private" in seen.headers["Cache-Control"]
    refused = upload(client, reader, data, "p.geojson", "secret_points", method="PUT")
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert client.delete("/api/layers/secret_points", headers=reader).status_code == 403
    anonymous = upload(client, {}, data, "p.geojson", "anon_points")
    assert anonymous.status_code == 401
    published = client.patch("/api/layers/secret_points", json={"public": True}, headers=staff)
    assert published.status_code == 200 and published.get_json()["public"] is True
    assert client.get(path, follow_redirects=True).status_code == 200


def create_limited_app(database_url: str, **settings: object) -> Flask:
    from webmap import create_app

    app = create_app(
        {"database_url": database_url, "catalog_ttl": 0, "pool_min_size": 0, **settings}
    )
    app.config["TESTING"] = True
    return app


def test_raster_uploads_go_to_the_raster_pipeline(
    sample_database: str, shared_data: Path, tmp_path: Path
) -> None:
    app = create_limited_app(sample_database, raster_dir=str(tmp_path / "rasters"))
    client = app.test_client()
    staff = token_headers(sample_database, "publish", "raster-dispatch")
    hgt = shared_data / "raster" / "N57E011.hgt"
    response = upload(client, staff, hgt, "N57E011.hgt", "gbg_dem", title="Höjd Göteborg")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["version"] >= 1
    detail = client.get("/api/layers/gbg_dem", headers=staff).get_json()
    assert detail["kind"] == "raster"
    west, south, east, north = detail["bounds"]
    assert 10.9 < west < 11.1 and 56.9 < south < 57.1 and 11.9 < east < 12.1 and 57.9 < north < 58.1
    assert list((tmp_path / "rasters").rglob("*.tif"))
    assert client.delete("/api/layers/gbg_dem", headers=staff).status_code == 204
    assert client.get("/api/layers/gbg_dem", headers=staff).status_code == 404
    app.extensions["webmap.pool"].close()


def test_patch_waits_for_an_upload_holding_the_layer_and_is_never_lost(
    client: FlaskClient, staff: dict[str, str], sample_database: str
) -> None:
    """A PATCH during an upload of the same layer waits for the upload's lock (or answers 409
    layer-busy); it is never silently overwritten by the upload's pointer swap."""
    import threading

    from layers.store import LayerSpec, publish_version
    from layers.versions import lock_layer

    points = b'{"type":"Point","coordinates":[18.07,59.33]}'
    created = upload(client, staff, points, "p.geojson", "patch_race", title="Original")
    assert created.status_code == 201, created.get_json()
    answers: list[tuple[int, object]] = []

    def patch() -> None:
        response = client.patch("/api/layers/patch_race", json={"title": "Patched"}, headers=staff)
        answers.append((response.status_code, response.get_json()))

    with psycopg.connect(sample_database) as uploader:
        with uploader.transaction():
            # What an upload does: take the lock, build, then swap the pointer with the
            # metadata it was sent (here: none, so the title it read before it started).
            lock_layer(uploader, "patch_race")
            patcher = threading.Thread(target=patch)
            patcher.start()
            patcher.join(1.5)
            waited = patcher.is_alive()
            publish_version(uploader, LayerSpec("patch_race", "Original"), 1, "Point")
        patcher.join(30)
        title = uploader.execute(
            "SELECT title FROM webmap.layers WHERE name = 'patch_race'"
        ).fetchone()
    status, body = answers[0]
    if status == 409:  # the wait timed out, and the client was told so
        assert body["type"].endswith("/layer-busy") and title == ("Original",)  # type: ignore[index]
    else:
        assert status == 200 and waited, "the PATCH did not wait for the layer's lock"
        assert title == ("Patched",)
