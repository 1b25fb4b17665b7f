"""Ingest budgets through the real upload API: vertices per feature and per layer, declared
raster pixels, the wall-clock budget (which also stops work GEOS and GDAL cannot interrupt), and
the ingest transaction's statement timeout. Each refusal is a quick 413/422 problem JSON that
names its setting, and the previous version stays live."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import rasterio
from flask.testing import FlaskClient
from rasterio.transform import from_origin
from rasterio.windows import Window

from layers.ingest import IngestOptions, publish_vector
from layers.ingest.limits import IngestLimits
from layers.schema import DATA_SCHEMA
from layers.store import LayerSpec
from tests.app_helpers import app_with
from tests.layers_helpers import token_headers, upload
from tests.raster_helpers import write_geotiff

#: Sundsvall, in WGS 84.
LON, LAT = 17.30, 62.39


def feature_collection(geometries: list[dict[str, Any]]) -> bytes:
    features = [
        {"type": "Feature", "properties": {"n": i}, "geometry": g} for i, g in enumerate(geometries)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def zigzag_line(n: int, seed: int = 0) -> dict[str, Any]:
    """A line of ``n`` vertices wandering around Sundsvall."""
    rng = np.random.default_rng(seed)
    xy = np.cumsum(rng.normal(0, 0.0002, size=(n, 2)), axis=0) + np.array([LON, LAT])
    return {"type": "LineString", "coordinates": np.round(xy, 6).tolist()}


def scatter_polygon(n: int, seed: int = 0) -> dict[str, Any]:
    """A ring through ``n`` random points: it crosses itself ~n² times. GEOS ``make_valid``
    needs about 15 s for 2,000 such vertices and about a minute for 3,000."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform([LON, LAT], [LON + 0.02, LAT + 0.01], size=(n, 2))
    ring = np.vstack([xy, xy[:1]])
    return {"type": "Polygon", "coordinates": [np.round(ring, 6).tolist()]}


SMALL = feature_collection([{"type": "Point", "coordinates": [LON, LAT]}])


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    return body


def live_version(client: FlaskClient, staff: dict[str, str], name: str) -> int:
    response = client.get(f"/api/layers/{name}", headers=staff)
    assert response.status_code == 200, response.get_json()
    return int(response.get_json()["version"])


def first_version(client: FlaskClient, staff: dict[str, str], name: str) -> None:
    created = upload(client, staff, SMALL, "start.geojson", name)
    assert created.status_code == 201, created.get_json()
    assert live_version(client, staff, name) == 1


def assert_v1_serves(client: FlaskClient, staff: dict[str, str], name: str) -> None:
    assert live_version(client, staff, name) == 1
    items = client.get(f"/ogc/collections/{name}/items", headers=staff)
    assert items.status_code == 200
    assert len(items.get_json()["features"]) == 1


def leftover_tables(database_url: str, name: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = %s AND starts_with(table_name, %s)",
            [DATA_SCHEMA, f"{name}_v"],
        ).fetchall()
    return sorted(str(r[0]) for r in rows)


@pytest.fixture(scope="module")
def client(database_url: str) -> Iterator[FlaskClient]:
    with app_with(database_url) as application:
        yield application.test_client()


@pytest.fixture(scope="module")
def staff(database_url: str) -> dict[str, str]:
    return token_headers(database_url, "publish", "budgets")


def test_defaults_refuse_a_line_of_a_million_vertices_but_fit_municipal_data() -> None:
    limits = IngestLimits()
    # Stockholm's whole water layer is one multipolygon of 166,619 vertices (shared data).
    assert 166_619 < limits.max_feature_vertices < 1_000_000
    assert limits.ingest_statement_timeout_ms > 0


def test_a_line_over_the_feature_vertex_limit_is_refused_in_seconds(
    client: FlaskClient, staff: dict[str, str], database_url: str
) -> None:
    first_version(client, staff, "budget_line")
    data = feature_collection([zigzag_line(300_000)])  # over the default 250,000
    started = time.monotonic()
    response = upload(client, staff, data, "line.geojson", "budget_line", method="PUT")
    elapsed = time.monotonic() - started
    body = problem(response, 413)
    assert body["limit"] == "WEBMAP_MAX_FEATURE_VERTICES"
    assert body["value"] == 250_000 and body["actual"] == 300_000 and body["feature"] == 0
    assert "Split" in body["hint"]
    assert "250,000" in body["detail"]
    assert elapsed < 30, f"refused after {elapsed:.1f} s"
    assert_v1_serves(client, staff, "budget_line")
    assert leftover_tables(database_url, "budget_line") == ["budget_line_v1"]


def test_many_features_over_the_layer_vertex_budget_are_refused(
    database_url: str, staff: dict[str, str]
) -> None:
    with app_with(database_url, max_vertices=10_000) as application:
        client = application.test_client()
        first_version(client, staff, "budget_layer")
        lines = [zigzag_line(200, seed) for seed in range(60)]  # 12,000 vertices
        response = upload(
            client, staff, feature_collection(lines), "lines.geojson", "budget_layer", method="PUT"
        )
        body = problem(response, 413)
        assert body["limit"] == "WEBMAP_MAX_VERTICES"
        assert body["value"] == 10_000 and body["actual"] == 12_000
        assert "2 or more layers" in body["hint"]
        assert_v1_serves(client, staff, "budget_layer")


def test_a_polygon_too_slow_to_repair_is_stopped_by_the_time_budget(
    database_url: str, staff: dict[str, str]
) -> None:
    with app_with(database_url, ingest_max_seconds=3) as application:
        client = application.test_client()
        first_version(client, staff, "budget_repair")
        data = feature_collection([scatter_polygon(3_000)])
        started = time.monotonic()
        response = upload(client, staff, data, "knot.geojson", "budget_repair", method="PUT")
        elapsed = time.monotonic() - started
        body = problem(response, 422)
        assert body["type"] == "/problems/ingest-budget"
        assert body["limit"] == "WEBMAP_INGEST_MAX_SECONDS" and body["value"] == 3
        assert body["stage"] == "repairing invalid geometries"
        assert "Split" in body["hint"]
        # make_valid alone would take a minute; the child process is killed at the deadline.
        assert elapsed < 25, f"refused after {elapsed:.1f} s"
        assert_v1_serves(client, staff, "budget_repair")
    assert leftover_tables(database_url, "budget_repair") == ["budget_repair_v1"]


def test_the_ingest_transaction_runs_under_a_statement_timeout(
    database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "one.geojson"
    source.write_bytes(SMALL)
    seen: list[int] = []
    with psycopg.connect(database_url, autocommit=True) as conn:

        def progress(stage: str, done: int, total: int) -> None:
            if stage == "indexing":  # inside the ingest transaction, between statements
                row = conn.execute(
                    "SELECT setting::int FROM pg_settings WHERE name = 'statement_timeout'"
                ).fetchone()
                assert row is not None
                seen.append(int(row[0]))

        options = IngestOptions(limits=IngestLimits(ingest_max_seconds=120))
        publish_vector(
            conn, LayerSpec("budget_timeout", "T"), source, source.name, options, progress
        )
        after = conn.execute("SHOW statement_timeout").fetchone()
    assert len(seen) == 1
    # The lower of the 10 min cap and the time left of the 120 s budget; never 0 (no timeout).
    assert 100_000 < seen[0] <= 120_000
    assert after is not None and after[0] == "0", "SET LOCAL: the session's own value is back"


def test_a_statement_over_the_ingest_timeout_is_cancelled(
    database_url: str, staff: dict[str, str]
) -> None:
    """Waiting behind the layer's lock is a statement of the ingest transaction: with a 1 s
    statement timeout the upload gives up after about 1 s (it waited forever with 0)."""
    with app_with(database_url, ingest_statement_timeout_ms=1000) as application:
        client = application.test_client()
        first_version(client, staff, "budget_locked")
        with psycopg.connect(database_url) as holder:
            holder.execute("SELECT pg_advisory_xact_lock(hashtext('layer:budget_locked'))")
            started = time.monotonic()
            response = upload(client, staff, SMALL, "again.geojson", "budget_locked", method="PUT")
            elapsed = time.monotonic() - started
            holder.rollback()
        problem(response, 409)
        assert elapsed < 15, f"gave up after {elapsed:.1f} s"
        assert_v1_serves(client, staff, "budget_locked")


# Rasters ------------------------------------------------------------------------------------


def sparse_geotiff(path: Path, side: int) -> Path:
    """A tiled GeoTIFF of ``side`` × ``side`` pixels with one block written: tiny on disk."""
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=side,
        height=side,
        count=1,
        dtype="uint8",
        crs="EPSG:3006",
        transform=from_origin(319_000, 6_400_000, 0.1, 0.1),
        tiled=True,
        blockxsize=512,
        blockysize=512,
        SPARSE_OK=True,
    ) as dst:
        dst.write(np.full((1, 512, 512), 7, "uint8"), window=Window(0, 0, 512, 512))
    return path


@pytest.fixture
def raster_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rasters"
    folder.mkdir()
    return folder


def first_raster(client: FlaskClient, staff: dict[str, str], name: str, tmp_path: Path) -> None:
    small = write_geotiff(tmp_path / "small.tif", np.arange(256, dtype="uint8").reshape(1, 16, 16))
    created = upload(client, staff, small, "small.tif", name)
    assert created.status_code == 201, created.get_json()


def assert_only_v1_stored(raster_dir: Path, name: str) -> None:
    entries = sorted(p.name for p in raster_dir.iterdir())
    assert len(entries) == 1 and entries[0].startswith(f"{name}_v1_"), entries


def test_a_sparse_raster_declaring_a_billion_pixels_is_refused_before_decoding(
    database_url: str, staff: dict[str, str], raster_dir: Path, tmp_path: Path
) -> None:
    huge = sparse_geotiff(tmp_path / "huge.tif", 31_623)  # 10⁹ pixels
    assert huge.stat().st_size < 1_000_000
    with app_with(database_url, raster_dir=str(raster_dir)) as application:
        client = application.test_client()
        first_raster(client, staff, "budget_pixels", tmp_path)
        started = time.monotonic()
        response = upload(client, staff, huge, "huge.tif", "budget_pixels", method="PUT")
        elapsed = time.monotonic() - started
        body = problem(response, 413)
        assert body["limit"] == "WEBMAP_MAX_RASTER_PIXELS" and body["value"] == 400_000_000
        assert body["actual"] == 31_623**2
        assert "Split it into 3 or more tiles" in body["hint"]
        assert elapsed < 10, f"refused after {elapsed:.1f} s"
        assert live_version(client, staff, "budget_pixels") == 1
        assert client.get("/tiles/budget_pixels.json").status_code == 200
    assert_only_v1_stored(raster_dir, "budget_pixels")


def test_a_raster_conversion_over_the_time_budget_is_killed(
    database_url: str, staff: dict[str, str], raster_dir: Path, tmp_path: Path
) -> None:
    # 380 Mpx, just under the pixel budget: its conversion takes ~20 s on the loaded 2-core
    # machine and several seconds on a quiet one, far beyond the 2 s budget either way.
    slow = sparse_geotiff(tmp_path / "slow.tif", 19_500)
    with app_with(database_url, raster_dir=str(raster_dir)) as application:
        # Version 1 under the default budget: on a loaded machine even a tiny conversion may
        # take more than the 2 s given to the slow one below.
        first_raster(application.test_client(), staff, "budget_cog", tmp_path)
    with app_with(database_url, raster_dir=str(raster_dir), ingest_max_seconds=2) as application:
        client = application.test_client()
        started = time.monotonic()
        response = upload(client, staff, slow, "slow.tif", "budget_cog", method="PUT")
        elapsed = time.monotonic() - started
        body = problem(response, 422)
        assert body["limit"] == "WEBMAP_INGEST_MAX_SECONDS" and body["value"] == 2
        assert "Cloud Optimized GeoTIFF" in body["stage"]
        assert elapsed < 15, f"refused after {elapsed:.1f} s"
        assert live_version(client, staff, "budget_cog") == 1
    # No COG, no partial folder, no converter's temporary file left behind.
    assert_only_v1_stored(raster_dir, "budget_cog")


def test_the_raster_cli_has_the_same_pixel_budget(
    database_url: str, raster_dir: Path, tmp_path: Path
) -> None:
    """An operator's `webmap rasters import` is held to the budget an upload is."""
    from webmap.cli import main

    huge = sparse_geotiff(tmp_path / "huge_cli.tif", 31_623)
    with app_with(database_url, raster_dir=str(raster_dir)) as application:
        runner = application.test_cli_runner()
        started = time.monotonic()
        result = runner.invoke(
            main, ["rasters", "import", str(huge), "--name", "budget_cli", "--title", "CLI"]
        )
        elapsed = time.monotonic() - started
    assert result.exit_code != 0
    assert "400,000,000" in result.output, result.output
    assert elapsed < 10, f"refused after {elapsed:.1f} s"
    assert not list(raster_dir.rglob("budget_cli*"))
