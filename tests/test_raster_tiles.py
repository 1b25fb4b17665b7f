"""Raster tiles over HTTP: the real SRTM tile over Göteborg, the Lantmäteriet geoid, and small
GeoTIFFs written here for nodata, classes and versioning. Every PNG/WebP is decoded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import morecantile
import numpy as np
import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from layers.raster import publish_raster
from layers.store import LayerSpec
from tests.app_helpers import app_with
from tests.layers_helpers import token_headers
from tests.raster_helpers import decode_image, write_geotiff
from webmap.cli import main

WMQ = morecantile.tms.get("WebMercatorQuad")
#: Hisingen, Göteborg: land, inside the SRTM tile N57E011 (lon 11–12, lat 57–58).
HISINGEN = (11.90, 57.74)


@pytest.fixture(scope="module")
def raster_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rasters")


@pytest.fixture(scope="module")
def raster_app(database_url: str, raster_dir: Path) -> Iterator[Flask]:
    with app_with(database_url, raster_dir=str(raster_dir)) as application:
        yield application


@pytest.fixture
def http(raster_app: Flask) -> FlaskClient:
    return raster_app.test_client()


@pytest.fixture(scope="module")
def srtm(shared_data_module: Path, database_url: str, raster_dir: Path) -> dict[str, object]:
    """The SRTM tile published once for this module as layer ``rt_dem``."""
    with psycopg.connect(database_url) as conn:
        return publish_raster(
            conn,
            LayerSpec("rt_dem", "Höjdmodell Göteborg", attribution="SRTM, public domain"),
            shared_data_module / "raster" / "N57E011.hgt",
            raster_dir,
        )


@pytest.fixture(scope="module")
def shared_data_module() -> Path:
    # Module-scoped twin of conftest's shared_data (a function fixture), for one publish.
    folder = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
    if not folder.is_dir():
        pytest.skip(f"needs the shared sample data at {folder}, which is absent")
    return folder


def _tile_url(layer: str, lon: float, lat: float, z: int, suffix: str = "png") -> str:
    tile = WMQ.tile(lon, lat, z)
    return f"/tiles/{layer}/{tile.z}/{tile.x}/{tile.y}.{suffix}"


def _alpha(body: bytes) -> np.ndarray:
    image = decode_image(body)
    assert image.shape[0] == 4, "RGBA"
    return image[3]


@pytest.mark.shared_data
def test_srtm_png_over_goteborg_is_opaque_land_with_relief(
    http: FlaskClient, srtm: dict[str, object]
) -> None:
    url = _tile_url("rt_dem", *HISINGEN, 11) + f"?v={srtm['version']}"
    response = http.get(url)
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    image = decode_image(response.data)
    assert image.shape == (4, 256, 256)
    assert (image[3] == 255).all(), "every pixel over Hisingen has data"
    grey = image[0].astype(int)
    assert grey.std() > 5, "a hillshade of Hisingen's hills is not flat"
    # Default rendering of a DEM is the hillshade: grey, so the three bands agree.
    assert (image[0] == image[1]).all() and (image[1] == image[2]).all()


@pytest.mark.shared_data
def test_elevation_ramp_differs_from_hillshade_and_follows_height(
    http: FlaskClient, srtm: dict[str, object]
) -> None:
    base = _tile_url("rt_dem", *HISINGEN, 11)
    shaded = decode_image(http.get(base + "?render=hillshade").data)
    ramp_response = http.get(base + "?render=elevation")
    assert ramp_response.status_code == 200
    ramp = decode_image(ramp_response.data)
    assert not np.array_equal(shaded[:3], ramp[:3])
    assert not (ramp[0] == ramp[1]).all(), "the ramp is in colour"
    assert len({tuple(p) for p in ramp[:3].reshape(3, -1).T}) > 10
    refused = http.get(base + "?render=rainbow")
    assert refused.status_code == 400
    assert refused.mimetype == "application/problem+json"
    assert "hillshade, elevation" in refused.get_json()["detail"]


@pytest.mark.shared_data
def test_a_tile_across_the_raster_edge_is_transparent_outside_it(
    http: FlaskClient, srtm: dict[str, object]
) -> None:
    # At z9 the tile holding lon 11.0 spans about 10.55–11.25: west of 11.0 is outside the SRTM.
    tile = WMQ.tile(11.0, 57.5, 9)
    alpha = _alpha(http.get(f"/tiles/rt_dem/9/{tile.x}/{tile.y}.png").data)
    bounds = WMQ.bounds(tile)
    edge_column = int((11.0 - bounds.left) / (bounds.right - bounds.left) * 256)
    assert (alpha[:, : edge_column - 2] == 0).all(), "west of the raster: transparent"
    assert (alpha[:, edge_column + 2 :] == 255).all(), "inside the raster: opaque"


@pytest.mark.shared_data
def test_a_tile_outside_the_raster_is_a_transparent_image(
    http: FlaskClient, srtm: dict[str, object]
) -> None:
    for suffix in ("png", "webp"):
        response = http.get(_tile_url("rt_dem", 15.0, 62.0, 8, suffix))
        assert response.status_code == 200
        assert response.mimetype == f"image/{suffix}"
        assert (_alpha(response.data) == 0).all()


@pytest.mark.shared_data
def test_webp_tiles_decode_with_alpha(http: FlaskClient, srtm: dict[str, object]) -> None:
    # The tile across the SRTM's western edge: half data, half transparent.
    response = http.get(_tile_url("rt_dem", 11.0, 57.5, 9, "webp") + "?render=elevation")
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert response.data[:4] == b"RIFF" and response.data[8:12] == b"WEBP"
    alpha = _alpha(response.data)
    assert (alpha == 0).any() and (alpha == 255).any()


@pytest.mark.shared_data
def test_etag_answers_304_and_unversioned_urls_are_short_lived(
    http: FlaskClient, srtm: dict[str, object]
) -> None:
    url = _tile_url("rt_dem", *HISINGEN, 10)
    first = http.get(url)
    assert first.headers["Cache-Control"] == "public, max-age=60"
    etag = first.headers["ETag"]
    again = http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    other = http.get(url + "?render=elevation", headers={"If-None-Match": etag})
    assert other.status_code == 200, "each rendering has its own ETag"


@pytest.mark.shared_data
def test_raster_tilejson_points_at_versioned_png_tiles(
    http: FlaskClient, srtm: dict[str, object]
) -> None:
    response = http.get("/tiles/rt_dem.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["tilejson"] == "3.0.0" and "vector_layers" not in doc
    assert doc["tiles"][0].endswith(f"/tiles/rt_dem/{{z}}/{{x}}/{{y}}.png?v={srtm['version']}")
    assert doc["bounds"][0] == pytest.approx(11.0, abs=0.01)
    assert doc["maxzoom"] == 10, "SRTM3's 90 m pixels match zoom 10"
    assert doc["renderings"] == ["hillshade", "elevation"]
    assert doc["attribution"] == "SRTM, public domain"
    ramp = http.get("/tiles/rt_dem.json?render=elevation&format=webp").get_json()
    assert ramp["tiles"][0].endswith(f".webp?v={srtm['version']}&render=elevation")
    for wrong in ("?render=rainbow", "?format=gif"):
        refused = http.get(f"/tiles/rt_dem.json{wrong}")
        assert refused.status_code == 400 and refused.mimetype == "application/problem+json"


@pytest.mark.shared_data
def test_lantmateriet_geoid_in_epsg_4977_serves_tiles(
    http: FlaskClient, shared_data: Path, database_url: str, raster_dir: Path
) -> None:
    with psycopg.connect(database_url) as conn:
        publish_raster(
            conn,
            LayerSpec("rt_geoid_tiles", "SWEN17"),
            shared_data / "raster" / "se_lantmateriet_SWEN17_RH2000.tif",
            raster_dir,
        )
    response = http.get(_tile_url("rt_geoid_tiles", 15.0, 62.0, 5) + "?render=elevation")
    assert response.status_code == 200
    assert (_alpha(response.data) == 255).mean() > 0.9, "Sweden is covered by the geoid model"


def _pixel(
    http: FlaskClient, layer: str, lon: float, lat: float, z: int, query: str = ""
) -> list[int]:
    """The RGBA pixel of ``layer``'s tile image at (lon, lat)."""
    tile = WMQ.tile(lon, lat, z)
    bounds = WMQ.xy_bounds(tile)
    x, y = WMQ.xy(lon, lat)
    column = int((x - bounds.left) / (bounds.right - bounds.left) * 256)
    row = int((bounds.top - y) / (bounds.top - bounds.bottom) * 256)
    image = decode_image(http.get(f"/tiles/{layer}/{z}/{tile.x}/{tile.y}.png{query}").data)
    return [int(v) for v in image[:, row, column]]


def test_nodata_pixels_are_transparent(
    http: FlaskClient, database_url: str, raster_dir: Path, tmp_path: Path
) -> None:
    # 100 × 100 px of 10 m over Göteborg; the western half is nodata.
    values = np.tile(np.linspace(0, 50, 100, dtype="float32"), (100, 1))
    values[:, :50] = -9999
    source = write_geotiff(tmp_path / "half.tif", values[np.newaxis], nodata=-9999)
    with psycopg.connect(database_url) as conn:
        report = publish_raster(conn, LayerSpec("rt_half", "Half"), source, raster_dir)
    west, south, east, north = report["bounds"]
    middle, quarter = (south + north) / 2, (east - west) / 4
    for render in ("elevation", "hillshade"):
        query = f"?render={render}"
        assert _pixel(http, "rt_half", west + quarter, middle, 15, query)[3] == 0, render
        assert _pixel(http, "rt_half", east - quarter, middle, 15, query)[3] == 255, render


def test_class_rasters_use_nearest_and_their_colour_table(
    http: FlaskClient, database_url: str, raster_dir: Path, tmp_path: Path
) -> None:
    classes = np.zeros((1, 100, 100), dtype="uint8")
    classes[0, :, 50:] = 3
    classes[0, 50:, :] = 7
    palette = {0: (20, 120, 20, 255), 3: (30, 60, 200, 255), 7: (230, 200, 30, 255)}
    source = write_geotiff(tmp_path / "classes.tif", classes, colormap=palette)
    with psycopg.connect(database_url) as conn:
        report = publish_raster(conn, LayerSpec("rt_classes", "Klasser"), source, raster_dir)
    assert report["render_kind"] == "categorical" and report["resampling"] == "nearest"
    west, south, east, north = report["bounds"]
    body = http.get(_tile_url("rt_classes", (west + east) / 2, (south + north) / 2, 15)).data
    image = decode_image(body)
    opaque = image[3] == 255
    colours = {tuple(int(v) for v in p) for p in image[:3][:, opaque].T}
    assert colours <= {c[:3] for c in palette.values()}, "no blended colours between classes"
    assert len(colours) == 3


def test_a_new_version_gets_new_urls_and_old_ones_redirect(
    http: FlaskClient, database_url: str, raster_dir: Path, tmp_path: Path
) -> None:
    spec = LayerSpec("rt_versioned", "Versioned")
    flat = write_geotiff(tmp_path / "flat.tif", np.full((1, 64, 64), 10, dtype="int16"))
    ramp = np.tile(np.arange(64, dtype="int16") * 10, (64, 1))[np.newaxis]
    sloped = write_geotiff(tmp_path / "sloped.tif", ramp)
    with psycopg.connect(database_url) as conn:
        first = publish_raster(conn, spec, flat, raster_dir)
        path = _tile_url("rt_versioned", 11.975, 57.71, 13)
        before = http.get(f"{path}?v={first['version']}&render=elevation")
        assert before.status_code == 200
        second = publish_raster(conn, spec, sloped, raster_dir)
    old = http.get(f"{path}?v={first['version']}&render=elevation")
    assert old.status_code == 302
    assert old.headers["Cache-Control"] == "no-cache"
    assert f"v={second['version']}" in old.headers["Location"]
    assert "render=elevation" in old.headers["Location"]
    after = http.get(old.headers["Location"])
    assert after.status_code == 200
    assert after.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert after.headers["ETag"] != before.headers["ETag"]
    assert (raster_dir / first["file"]).exists(), "the old version's file is kept for rollback"


def test_errors_are_problem_json(http: FlaskClient, database_url: str, raster_dir: Path) -> None:
    cases = {
        "/tiles/rt_nothing/3/1/1.png": 404,
        "/tiles/rt_versioned/3/8/1.png": 400,
        "/tiles/rt_versioned/25/0/0.png": 400,
        "/tiles/rt_versioned/x/0/0.webp": 400,
        "/tiles/rt_versioned/3/1/1.mvt": 404,
    }
    for url, status in cases.items():
        response = http.get(url)
        assert response.status_code == status, url
        assert response.mimetype == "application/problem+json", url
        assert {"type", "title", "detail"} <= response.get_json().keys(), url


def test_cli_imports_a_raster(
    raster_app: Flask, database_url: str, raster_dir: Path, tmp_path: Path
) -> None:
    runner: FlaskCliRunner = raster_app.test_cli_runner()
    source = write_geotiff(tmp_path / "cli.tif", np.full((1, 32, 32), 5, dtype="int16"))
    result = runner.invoke(
        main, ["rasters", "import", str(source), "--name", "rt_cli", "--title", "CLI", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["version"] == 1 and report["file"].startswith("rt_cli_v1_")
    refused = runner.invoke(
        main, ["rasters", "import", str(source), "--name", "Bad Name", "--title", "x"]
    )
    assert refused.exit_code == 1 and "layer name" in refused.output
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT kind FROM webmap.layers WHERE name = 'rt_cli'").fetchone()
    assert row == ("raster",)
    west, south, east, north = report["bounds"]
    centre = ((west + east) / 2, (south + north) / 2)
    assert _pixel(raster_app.test_client(), "rt_cli", *centre, 16)[3] == 255
    cleaned = runner.invoke(main, ["rasters", "clean"])
    assert cleaned.exit_code == 0 and "orphan file(s) removed" in cleaned.output
    assert (raster_dir / report["file"]).exists()


def test_a_private_raster_is_for_staff_only(
    http: FlaskClient, database_url: str, raster_dir: Path, tmp_path: Path
) -> None:
    source = write_geotiff(tmp_path / "p.tif", np.full((1, 32, 32), 7, dtype="int16"))
    with psycopg.connect(database_url) as conn:
        publish_raster(conn, LayerSpec("rt_private", "Intern", public=False), source, raster_dir)
    for url in ("/tiles/rt_private/14/8800/4830.png", "/tiles/rt_private.json"):
        response = http.get(url)
        assert response.status_code == 404, url
        assert response.mimetype == "application/problem+json"
    staff = token_headers(database_url, "publish", "raster-private")
    tile = http.get("/tiles/rt_private/14/8800/4830.png?v=1", headers=staff)
    assert tile.status_code == 200 and tile.mimetype == "image/png"
    assert tile.headers["Cache-Control"] == "private, no-store"
    assert http.get("/tiles/rt_private.json", headers=staff).status_code == 200


def test_a_missing_stored_file_is_a_503_problem_not_a_crash(
    http: FlaskClient, database_url: str, raster_dir: Path, tmp_path: Path
) -> None:
    source = write_geotiff(tmp_path / "gone.tif", np.full((1, 32, 32), 3, dtype="int16"))
    with psycopg.connect(database_url) as conn:
        report = publish_raster(conn, LayerSpec("rt_gone", "Gone"), source, raster_dir)
    (raster_dir / report["file"]).unlink()
    response = http.get("/tiles/rt_gone/14/8800/4830.png")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "cannot be read" in response.get_json()["detail"]


def test_an_rgb_image_keeps_its_colours_and_is_transparent_around_it(
    http: FlaskClient, database_url: str, raster_dir: Path, tmp_path: Path
) -> None:
    colour = np.array([200, 30, 60], dtype="uint8").reshape(3, 1, 1)
    source = write_geotiff(tmp_path / "ortho.tif", np.tile(colour, (1, 64, 64)))
    with psycopg.connect(database_url) as conn:
        report = publish_raster(conn, LayerSpec("rt_ortho", "Ortofoto"), source, raster_dir)
    assert report["render_kind"] == "rgb"
    west, south, east, north = report["bounds"]
    inside = _pixel(http, "rt_ortho", (west + east) / 2, (south + north) / 2, 15)
    assert inside == [200, 30, 60, 255]
    outside = _pixel(http, "rt_ortho", east + (east - west), (south + north) / 2, 15)
    assert outside[3] == 0
    refused = http.get("/tiles/rt_ortho/15/0/0.png?render=hillshade")
    assert refused.status_code == 400 and "image" in refused.get_json()["detail"]


@pytest.mark.shared_data
def test_srtm_in_sweref_99_tm_through_ogc_api_tiles(
    http: FlaskClient, srtm: dict[str, object]
) -> None:
    """The same DEM warped into Lantmäteriet's SWEREF 99 TM grid (issue 12 §3)."""
    from tiles.matrix_sets import SWEREF99TM_GRID

    collection = http.get("/ogc/collections/rt_dem").get_json()
    assert collection["dataType"] == "map"
    tileset = http.get("/ogc/collections/rt_dem/tiles/SWEREF99TM").get_json()
    item = next(link for link in tileset["links"] if link["rel"] == "item")
    assert item["type"] == "image/png" and item["href"].endswith(f"?v={srtm['version']}")
    tile = SWEREF99TM_GRID.tms.tile(*HISINGEN, 8)  # 16 m cells
    url = f"/ogc/collections/rt_dem/tiles/SWEREF99TM/{tile.z}/{tile.y}/{tile.x}?v={srtm['version']}"
    response = http.get(url)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "immutable" in response.headers["Cache-Control"]
    image = decode_image(response.data)
    assert image.shape == (4, 256, 256)
    assert (image[3] == 255).mean() > 0.9, "Hisingen is inside the raster"
    assert image[0].astype(int).std() > 5, "relief, not a flat fill"


@pytest.mark.shared_data
def test_ogc_raster_tiles_keep_the_rendering_in_etag_cache_and_redirect(
    http: FlaskClient, srtm: dict[str, object]
) -> None:
    """?render= on an OGC API tile is its own image, validator and redirect target."""
    from tiles.matrix_sets import SWEREF99TM_GRID

    tile = SWEREF99TM_GRID.tms.tile(*HISINGEN, 8)
    base = f"/ogc/collections/rt_dem/tiles/SWEREF99TM/{tile.z}/{tile.y}/{tile.x}"
    shaded = http.get(f"{base}?v={srtm['version']}")
    ramp = http.get(f"{base}?v={srtm['version']}&render=elevation")
    assert ramp.status_code == 200 and ramp.data != shaded.data
    assert ramp.headers["ETag"] != shaded.headers["ETag"]
    colours = decode_image(ramp.data)
    assert not (colours[0] == colours[1]).all(), "the elevation ramp is in colour, not grey"
    old = http.get(f"{base}?v=0&render=elevation")
    assert old.status_code == 302 and "render=elevation" in old.headers["Location"]
    bad = http.get(f"{base}?render=nonsense")
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"
