"""A disk that fills up during an upload answers 507 problem JSON and leaves nothing behind.

The upload and raster folders are pointed at a real 2 MB tmpfs (mounting needs root; the tests
are skipped with the reason otherwise). Each test fills it at another step: werkzeug spooling the
request, copying the upload to its scratch folder, unpacking a zip, writing the COG. Afterwards
the folder is empty (or holds only the previous raster version) and the previous version is live.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient

from tests.app_helpers import app_with
from tests.layers_helpers import tile_of, token_headers, upload
from tests.raster_helpers import write_geotiff

LON, LAT = 17.30, 62.39
SIZE = 2 * 1024 * 1024


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs, unmounted afterwards."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=True)


def points(n: int, seed: int = 0, decimals: int = 6) -> bytes:
    """A GeoJSON of ``n`` points around Sundsvall (about 110 bytes each)."""
    rng = np.random.default_rng(seed)
    xy = np.round(rng.uniform([LON, LAT], [LON + 0.1, LAT + 0.05], size=(n, 2)), decimals)
    features = [
        {
            "type": "Feature",
            "properties": {"namn": "punkt"},
            "geometry": {"type": "Point", "coordinates": c},
        }
        for c in xy.tolist()
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def assert_insufficient_storage(response: Any) -> dict[str, Any]:
    assert response.status_code == 507, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["type"] == "/problems/insufficient-storage"
    assert body["title"] == "Insufficient storage"
    assert "disk space" in body["detail"]
    assert "/tmp" not in json.dumps(body), "no server path in the answer"
    return body


def assert_empty(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == []
    assert shutil.disk_usage(folder).used < 64 * 1024


def live(client: FlaskClient, staff: dict[str, str], name: str) -> dict[str, Any]:
    response = client.get(f"/api/layers/{name}", headers=staff)
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


@pytest.fixture(scope="module")
def staff(database_url: str) -> dict[str, str]:
    return token_headers(database_url, "publish", "storage-full")


def _vector_case(
    database_url: str, staff: dict[str, str], disk: Path, name: str, data: bytes, filename: str
) -> dict[str, Any]:
    with app_with(database_url, upload_dir=str(disk)) as application:
        client = application.test_client()
        created = upload(client, staff, points(3), "start.geojson", name)
        assert created.status_code == 201, created.get_json()
        response = upload(client, staff, data, filename, name, method="PUT")
        body = assert_insufficient_storage(response)
        layer = live(client, staff, name)
        assert layer["version"] == 1 and layer["feature_count"] == 3
        items = client.get(f"/ogc/collections/{name}/items")
        assert items.status_code == 200 and len(items.get_json()["features"]) == 3
    assert_empty(disk)
    return body


def test_disk_full_while_copying_the_upload(
    database_url: str, staff: dict[str, str], tiny_disk: Path
) -> None:
    data = points(11_000)  # ~1.2 MB: werkzeug's spool fits, the scratch copy does not
    assert SIZE // 2 < len(data) < SIZE
    body = _vector_case(database_url, staff, tiny_disk, "full_copy", data, "many.geojson")
    assert body["stage"] == "storing the upload"


def test_disk_full_while_unpacking_a_zip(
    database_url: str, staff: dict[str, str], tiny_disk: Path
) -> None:
    content = points(30_000, decimals=4)  # ~3 MB unpacked, compresses ~6x (not a zip bomb)
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("punkter.geojson", content)
    packed = buffer.getvalue()
    assert len(content) > SIZE and len(packed) < SIZE // 3
    body = _vector_case(database_url, staff, tiny_disk, "full_unzip", packed, "punkter.zip")
    assert body["stage"] == "unpacking the upload"


def test_disk_full_while_receiving_the_request(
    database_url: str, staff: dict[str, str], tiny_disk: Path
) -> None:
    data = points(25_000)  # ~2.7 MB: werkzeug cannot even spool the request body
    assert len(data) > SIZE
    body = _vector_case(database_url, staff, tiny_disk, "full_request", data, "many.geojson")
    assert body["stage"] == "storing the request"


def test_disk_full_while_writing_the_cog(
    database_url: str, staff: dict[str, str], tiny_disk: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    small = write_geotiff(tmp_path / "small.tif", np.arange(256, dtype="uint8").reshape(1, 16, 16))
    # Noise does not compress: its COG needs ~2.3 MB of the 2 MB raster folder.
    noise = write_geotiff(
        tmp_path / "noise.tif", rng.integers(0, 255, size=(1, 1500, 1500), dtype="uint8")
    )
    with app_with(database_url, raster_dir=str(tiny_disk)) as application:
        client = application.test_client()
        created = upload(client, staff, small, "small.tif", "full_cog")
        assert created.status_code == 201, created.get_json()
        stored = sorted(p.name for p in tiny_disk.iterdir())
        response = upload(client, staff, noise, "noise.tif", "full_cog", method="PUT")
        body = assert_insufficient_storage(response)
        assert body["stage"] == "writing the raster"
        assert live(client, staff, "full_cog")["version"] == 1
        tilejson = client.get("/tiles/full_cog.json")
        assert tilejson.status_code == 200
        west, south, east, north = tilejson.get_json()["bounds"]
        tile = tile_of((west + east) / 2, (south + north) / 2, 14)
        png = client.get(f"/tiles/full_cog/{tile.z}/{tile.x}/{tile.y}.png?v=1")
        assert png.status_code == 200 and png.mimetype == "image/png", "v1 is still drawn"
    # Only the previous version's COG: no new file, no partial folder, no converter temp file.
    assert sorted(p.name for p in tiny_disk.iterdir()) == stored
