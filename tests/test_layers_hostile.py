"""Hostile and broken uploads: each is answered with 4xx problem JSON and nothing is written."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.layers_helpers import catalog_state, token_headers, upload
from webmap import create_app

_POINT = {"type": "Point", "coordinates": [18.0, 59.3]}


def _geojson(n: int = 1, geometry: dict | None = None) -> bytes:  # type: ignore[type-arg]
    feature = {"type": "Feature", "properties": {"n": 1}, "geometry": geometry or _POINT}
    return json.dumps({"type": "FeatureCollection", "features": [feature] * n}).encode()


@pytest.fixture(scope="module")
def limited_app(sample_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    scratch = tmp_path_factory.mktemp("uploads")
    app = create_app(
        {
            "database_url": sample_database,
            "catalog_ttl": 0,
            "pool_min_size": 0,
            "max_upload_bytes": 3 * 1024 * 1024,
            "max_unpacked_bytes": 2 * 1024 * 1024,
            "max_features": 50,
            "max_vertices": 5_000,
            "max_feature_vertices": 1_000,
            "upload_dir": str(scratch),
        }
    )
    app.config["TESTING"] = True
    yield app
    app.extensions["webmap.pool"].close()


@pytest.fixture(scope="module")
def staff(sample_database: str) -> dict[str, str]:
    return token_headers(sample_database, "publish", "hostile")


def _refused(response, status: int, slug: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["title"] and body["detail"] and body["status"] == status
    if slug:
        assert body["type"] == f"/problems/{slug}"
    return body


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buffer.getvalue()


def test_every_hostile_upload_is_refused_and_nothing_is_written(
    limited_app: Flask, staff: dict[str, str], sample_database: str
) -> None:
    client: FlaskClient = limited_app.test_client()
    before = catalog_state(sample_database)
    scratch = Path(limited_app.config["WEBMAP_SETTINGS"].upload_dir)

    # Larger than the upload limit: 413 before the body is processed.
    huge = os.urandom(3 * 1024 * 1024 + 10)
    _refused(upload(client, staff, huge, "big.geojson", "big"), 413)

    # A zip bomb by ratio: 20 MB of zeros in a few kB.
    bomb = _zip([("bomb.geojson", b"\0" * (20 * 1024 * 1024))])
    assert len(bomb) < 100_000
    body = _refused(upload(client, staff, bomb, "bomb.zip", "bomb"), 413, "too-large")
    assert "zip bomb" in body["detail"] or "unpack" in body["detail"]

    # A zip bomb by total size: several entries of plausible ratio, too much together.
    total = _zip([(f"part{i}.csv", os.urandom(900_000)) for i in range(3)])
    _refused(upload(client, staff, total, "total.zip", "total"), 413, "too-large")

    # Path traversal, absolute paths, backslashes and symlinks in archives.
    for name in ("../evil.geojson", "../../tmp/evil.geojson", "/tmp/evil.geojson", "a\\..\\b.kml"):
        archive = _zip([(name, _geojson())])
        _refused(upload(client, staff, archive, "trav.zip", "trav"), 400, "unsafe-archive")
    link = zipfile.ZipInfo("data.geojson")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    _refused(
        upload(client, staff, _zip([(link, b"/etc/passwd")]), "link.zip", "link"),
        400,
        "unsafe-archive",
    )
    assert not list(scratch.parent.glob("**/evil.geojson"))
    assert not Path("/tmp/evil.geojson").exists()

    # Absurd feature and vertex counts.
    _refused(upload(client, staff, _geojson(51), "many.geojson", "many"), 413, "too-large")
    ring = [[18 + 0.001 * i, 59.3 + 0.0001 * (i % 2)] for i in range(1_500)]
    ring.append(ring[0])
    spiky = {"type": "Polygon", "coordinates": [ring]}
    _refused(upload(client, staff, _geojson(1, spiky), "spiky.geojson", "spiky"), 413, "too-large")
    ring = [*ring[:800], ring[0]]
    medium = {"type": "Polygon", "coordinates": [ring]}
    _refused(upload(client, staff, _geojson(8, medium), "heavy.geojson", "heavy"), 413)

    # Layer names that try SQL, in the form and in the URL.
    for name in ("x'); DROP TABLE webmap.layers; --", "Robert", "a b", "1abc", "", "x" * 49):
        _refused(upload(client, staff, _geojson(), "p.geojson", name), 400, "invalid-input")
    _refused(upload(client, staff, _geojson(), "p.geojson", "basemap"), 400)
    for path in ("/api/layers/a;drop", "/api/layers/x%27%29%3B%20DROP%20TABLE%20t"):
        _refused(client.put(path, headers=staff, data={"title": "t"}), 400)
        _refused(client.delete(path, headers=staff), 400)
        _refused(client.post(path + "/rollback", headers=staff), 400)

    # Broken or unsupported files and fields.
    _refused(upload(client, staff, b"{not json", "broken.geojson", "broken"), 415)
    _refused(upload(client, staff, b"MZ\x90\x00", "tool.exe", "tool"), 415, "unsupported-format")
    _refused(upload(client, staff, b"\0" * 100, "alone.shp", "alone"), 415)
    _refused(upload(client, staff, b"PK\x03\x04broken", "damaged.zip", "damaged"), 415)
    _refused(upload(client, staff, _zip([("readme.txt", b"hej")]), "empty.zip", "empty"), 415)
    _refused(client.post("/api/layers", headers=staff, data={"name": "nofile", "title": "t"}), 400)
    _refused(upload(client, staff, _geojson(), "p.geojson", "notitle", title=""), 400)
    _refused(upload(client, staff, _geojson(), "p.geojson", "badsrid", srid="abc"), 400)
    _refused(upload(client, staff, _geojson(), "p.geojson", "badsrid", srid="999999"), 422)
    _refused(upload(client, staff, _geojson(), "p.geojson", "badpublic", public="maybe"), 400)
    csv = b"namn;adress\nA;Storgatan 1\n"
    _refused(upload(client, staff, csv, "nocoords.csv", "nocoords"), 415)
    _refused(upload(client, staff, _geojson(), "p.geojson", "municipalities"), 409, "layer-exists")

    assert catalog_state(sample_database) == before
    assert not [p for p in scratch.iterdir()], "scratch files left behind"


def test_archives_are_read_in_place_when_safe(
    limited_app: Flask, staff: dict[str, str], sample_database: str
) -> None:
    """The same checks let an ordinary zipped GeoJSON with a folder inside through."""
    client = limited_app.test_client()
    archive = _zip([("export/", b""), ("export/parker.geojson", _geojson(3))])
    response = upload(client, staff, archive, "export.zip", "zipped_points")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["report"]["stored"] == 3


def test_read_errors_do_not_reveal_server_paths(limited_app: Flask, staff: dict[str, str]) -> None:
    client = limited_app.test_client()
    body = b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
    response = upload(client, staff, body, "half.geojson", "half")
    assert response.status_code == 415
    detail = response.get_json()["detail"]
    assert "/tmp" not in detail and "webmap-upload" not in detail


def test_a_layer_where_every_feature_is_rejected_is_refused_with_the_report(
    limited_app: Flask, staff: dict[str, str], sample_database: str
) -> None:
    client = limited_app.test_client()
    before = catalog_state(sample_database)
    flat = {
        "type": "Polygon",
        "coordinates": [[[18.0, 59.3], [18.1, 59.3], [18.2, 59.3], [18.0, 59.3]]],
    }
    response = upload(client, staff, _geojson(3, flat), "flat.geojson", "flat")
    body = _refused(response, 422, "no-usable-features")
    assert body["report"]["rejected_count"] == 3 and body["report"]["stored"] == 0
    assert [r["index"] for r in body["report"]["rejected"]] == [0, 1, 2]
    assert catalog_state(sample_database) == before
