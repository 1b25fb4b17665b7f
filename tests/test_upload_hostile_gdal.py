"""Uploads that try to make GDAL read the server's files or the network (issue 8, item 1).

Every file of the hostile corpus (tests/hostile/corpus.py) goes through the real staff API with
a publishing token, and must be refused with 4xx problem JSON, publish nothing, show no byte of
the secret file it points at, and make no connection to a listener on 127.0.0.1 that the files
point at. The admin form, the CLI commands and the address/property importers are tried too.
"""

from __future__ import annotations

import io
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.datastructures import FileStorage

from layers.ingest import UnsupportedFormat
from layers.lookup.readers import open_addresses, read_properties
from tests.app_helpers import app_with
from tests.hostile.corpus import Case, build, ogr_vrt, raster_vrt, raw_band
from tests.layers_helpers import catalog_state, token_headers, upload
from webmap.cli import main


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection it gets."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(2048))
                except OSError:
                    self.connections.append(b"")
                conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def marker() -> str:
    return f"WEBMAP-SECRET-{secrets.token_hex(8)}"


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory, marker: str) -> Path:
    """A server-side file the uploads try to read: a CSV with coordinates and the marker."""
    path = tmp_path_factory.mktemp("server-files") / "secret.csv"
    path.write_text(f"x,y,note\n18.07,59.33,{marker}\n17.5,59.1,{marker}\n")
    return path


@pytest.fixture(scope="module")
def corpus(
    listener: Listener, secret: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[Case]:
    return build(listener.port, secret, tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def hostile_app(sample_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    rasters = tmp_path_factory.mktemp("hostile-rasters")
    scratch = tmp_path_factory.mktemp("hostile-uploads")
    with app_with(sample_database, raster_dir=str(rasters), upload_dir=str(scratch)) as app:
        yield app


@pytest.fixture(scope="module")
def staff(sample_database: str) -> dict[str, str]:
    return token_headers(sample_database, "publish", "hostile-gdal")


def _problem_failure(response: Any, marker: str) -> str | None:
    """Why ``response`` is not a clean refusal, or None."""
    text = response.get_data(as_text=True)
    if marker in text:
        return f"the secret leaked: {text[:300]}"
    if not 400 <= response.status_code < 500:
        return f"status {response.status_code}: {text[:300]}"
    if response.mimetype != "application/problem+json":
        return f"{response.mimetype}, not problem JSON"
    body = response.get_json()
    if not (body.get("type") and body.get("title") and body.get("detail")):
        return f"incomplete problem JSON {body}"
    if body.get("status") != response.status_code:
        return f"problem status {body.get('status')} != {response.status_code}"
    return None


def _quiet(listener: Listener) -> list[bytes]:
    time.sleep(0.5)  # a late connection from a background thread would still be counted
    return list(listener.connections)


def test_every_hostile_upload_is_refused_and_reaches_nothing(
    hostile_app: Flask,
    staff: dict[str, str],
    corpus: list[Case],
    listener: Listener,
    marker: str,
    sample_database: str,
) -> None:
    client: FlaskClient = hostile_app.test_client()
    before = catalog_state(sample_database)
    settings = hostile_app.config["WEBMAP_SETTINGS"]
    failures: dict[str, str] = {}
    statuses: dict[str, int] = {}
    for n, case in enumerate(corpus):
        fields = {"layer": case.layer} if case.layer else {}
        response = upload(client, staff, case.data, case.filename, f"hostile_{n}", **fields)
        statuses[case.label] = response.status_code
        why = _problem_failure(response, marker)
        if why:
            failures[case.label] = why
    assert not failures, json.dumps(failures, indent=1, ensure_ascii=False)
    assert _quiet(listener) == [], "GDAL connected to the listener"
    assert catalog_state(sample_database) == before, "an upload left something behind"
    assert not list(Path(settings.raster_dir).rglob("*.tif")), "a raster was stored"
    assert not list(Path(settings.upload_dir).iterdir()), "scratch files left behind"
    listing = client.get("/api/layers", headers=staff)
    assert listing.status_code == 200 and marker not in listing.get_data(as_text=True)
    assert not [x for x in listing.get_json()["layers"] if x["name"].startswith("hostile_")]
    ogc = client.get("/ogc/collections", headers=staff).get_data(as_text=True)
    assert "hostile_" not in ogc and marker not in ogc
    # Most are refused as the wrong format (415), before GDAL reads them.
    assert statuses["OGR VRT of CSV:/etc/passwd as .csv"] == 415
    assert statuses["raster VRT of the secret's bytes as .hgt"] == 415
    assert statuses["GeoJSON whose crs is a link to a URL"] == 415


def test_a_vrt_is_refused_by_name(
    hostile_app: Flask, staff: dict[str, str], secret: Path, marker: str
) -> None:
    client = hostile_app.test_client()
    vector = upload(client, staff, ogr_vrt(str(secret)).encode(), "a.geojson", "named_vrt")
    assert vector.status_code == 415
    body = vector.get_json()
    assert body["type"] == "/problems/unsupported-format"
    assert body["detail"].startswith("The file is an OGR virtual dataset (VRT)")
    assert body["detail"].endswith("not GeoJSON.")
    raster = upload(client, staff, raster_vrt(raw_band(str(secret))).encode(), "b.tif", "named")
    assert raster.status_code == 415
    detail = raster.get_json()["detail"]
    assert "GDAL virtual raster (VRT)" in detail and "GeoTIFF" in detail and marker not in detail


def test_the_admin_form_refuses_them_too(
    hostile_app: Flask, staff: dict[str, str], corpus: list[Case], listener: Listener, marker: str
) -> None:
    """/admin/upload shares the upload path; both its answers (HTML and JSON) refuse."""
    client = hostile_app.test_client()
    cases = {c.label: c for c in corpus}
    for label, accept in (
        ("OGR VRT of the secret file as .geojson", "text/html"),
        ("raster VRT of /vsicurl/ as .tif", "application/json"),
        ("KML with a NetworkLink", "text/html"),
    ):
        case = cases[label]
        data = {
            "name": "admin_hostile",
            "title": "x",
            "public": "true",
            "file": FileStorage(io.BytesIO(case.data), case.filename),
        }
        response = client.post(
            "/admin/upload",
            data=data,
            headers={**staff, "Accept": accept},
            content_type="multipart/form-data",
        )
        assert response.status_code == 415, (label, response.get_data(as_text=True)[:400])
        assert marker not in response.get_data(as_text=True)
        if accept == "application/json":
            assert response.mimetype == "application/problem+json"
    assert _quiet(listener) == []
    assert client.get("/api/layers/admin_hostile", headers=staff).status_code == 404


def test_the_cli_import_commands_refuse_a_vrt(
    runner: FlaskCliRunner, tmp_path: Path, secret: Path, marker: str, listener: Listener
) -> None:
    vector = tmp_path / "punkter.csv"
    vector.write_text(ogr_vrt(str(secret), layer=secret.stem))
    result = runner.invoke(
        main, ["layers", "import", str(vector), "--name", "cli_vrt", "--title", "VRT"]
    )
    assert result.exit_code == 1 and "OGR virtual dataset (VRT)" in result.output
    assert marker not in result.output
    raster = tmp_path / "N57E011.hgt"
    raster.write_text(raster_vrt(raw_band(str(secret))))
    result = runner.invoke(
        main, ["rasters", "import", str(raster), "--name", "cli_vrt_r", "--title", "VRT"]
    )
    assert result.exit_code == 1 and "GDAL virtual raster (VRT)" in result.output
    assert marker not in result.output
    assert "cli_vrt" not in runner.invoke(main, ["layers", "list"]).output
    assert _quiet(listener) == []


def test_the_address_and_property_importers_refuse_them(
    corpus: list[Case], tmp_path: Path, listener: Listener
) -> None:
    wanted = {
        "OGR VRT of the secret file as .geojson",
        "GeoPackage: a VirtualOGR table reading the secret",
        "zip: OGR VRT as the .shp",
        "zip: Shapefile whose .prj is a URL",
        "GeoJSON whose crs is a link to a URL",
    }
    for case in corpus:
        if case.label not in wanted:
            continue
        path = tmp_path / case.filename
        path.write_bytes(case.data)
        with pytest.raises(UnsupportedFormat):
            open_addresses(path, layer=case.layer)
        with pytest.raises(UnsupportedFormat):
            read_properties(path, layer=case.layer)
    for path in ("/vsicurl/http://127.0.0.1:9/a.gpkg", "CSV:/etc/passwd", "GPKG:/x.gpkg:t"):
        with pytest.raises(UnsupportedFormat, match="plain local files"):
            read_properties(Path(path))
    assert _quiet(listener) == []


def test_a_csv_header_without_rows_is_a_problem_not_a_crash(
    hostile_app: Flask, staff: dict[str, str], sample_database: str
) -> None:
    client = hostile_app.test_client()
    before = catalog_state(sample_database)
    for header in (b"x,y,namn\n", b"lon;lat;namn\r\n", b"\xef\xbb\xbfOst,Nord\n"):
        response = upload(client, staff, header, "tom.csv", "empty_csv")
        assert response.status_code == 422, response.get_data(as_text=True)
        body = response.get_json()
        assert body["type"] == "/problems/no-usable-features"
        assert "header but no rows" in body["detail"]
    assert catalog_state(sample_database) == before
