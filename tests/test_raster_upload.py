"""Raster layers through the staff upload API (/api/layers): the real SRTM tile over Göteborg is
uploaded, serves tiles, gets a new version, rolls back and is deleted with its files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.app_helpers import app_with
from tests.layers_helpers import token_headers, upload
from tests.raster_helpers import decode_image, write_geotiff

#: The z11 tile over Hisingen, Göteborg (inside N57E011).
HISINGEN_Z11 = "/tiles/gbg_hojd/11/1091/619.png"


@pytest.fixture(scope="module")
def raster_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uploaded-rasters")


@pytest.fixture(scope="module")
def upload_app(database_url: str, raster_dir: Path) -> Iterator[Flask]:
    with app_with(database_url, raster_dir=str(raster_dir)) as application:
        yield application


@pytest.mark.shared_data
def test_srtm_upload_serves_tiles_and_versions_like_a_vector_layer(
    upload_app: Flask, database_url: str, raster_dir: Path, shared_data: Path
) -> None:
    client: FlaskClient = upload_app.test_client()
    staff = token_headers(database_url, "publish", "raster-upload")
    hgt = shared_data / "raster" / "N57E011.hgt"
    created = upload(client, staff, hgt, "N57E011.hgt", "gbg_hojd", title="Höjd Göteborg")
    assert created.status_code == 201, created.get_json()
    report = created.get_json()["report"]
    assert report["kind"] == "raster" and report["driver"] == "SRTMHGT"
    tile = client.get(f"{HISINGEN_Z11}?v=1")
    assert tile.status_code == 200 and tile.mimetype == "image/png"
    assert (decode_image(tile.data)[3] == 255).all(), "land over Hisingen is drawn"

    replaced = upload(client, staff, hgt, "N57E011.hgt", "gbg_hojd", method="PUT")
    assert replaced.status_code == 200, replaced.get_json()
    assert client.get(f"{HISINGEN_Z11}?v=1").status_code == 302
    assert len(list(raster_dir.glob("gbg_hojd_v*.tif"))) == 2, "the old version is kept"

    rolled = client.post("/api/layers/gbg_hojd/rollback", headers=staff)
    assert rolled.status_code == 200 and rolled.get_json()["version"] == 1
    assert client.get(f"{HISINGEN_Z11}?v=1").status_code == 200

    assert client.delete("/api/layers/gbg_hojd", headers=staff).status_code == 204
    assert not list(raster_dir.glob("gbg_hojd_v*.tif"))
    gone = client.get(f"{HISINGEN_Z11}?v=1")
    assert gone.status_code == 404 and gone.mimetype == "application/problem+json"


def test_a_non_georeferenced_upload_is_refused_as_problem_json(
    upload_app: Flask, database_url: str, raster_dir: Path, tmp_path: Path
) -> None:
    scan = write_geotiff(
        tmp_path / "scan.tif", np.ones((1, 16, 16), "uint8"), crs=None, origin=None
    )
    client: FlaskClient = upload_app.test_client()
    staff = token_headers(database_url, "publish", "raster-refusal")
    response = upload(client, staff, scan, "scan.tif", "gbg_scan")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "no georeferencing" in response.get_json()["detail"]
    assert client.get("/api/layers/gbg_scan", headers=staff).status_code == 404
