"""Publishing rasters into the real catalog: real SRTM and Lantmäteriet files, and small GeoTIFFs
written here for the refusals. Tiles are tested in test_raster_tiles.py."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest
import rasterio

from layers.catalog import load_catalog
from layers.errors import InvalidInput, LayerNotFound
from layers.raster import (
    TAG_KIND,
    RasterLimits,
    clean_storage,
    delete_raster_layer,
    prune_raster_versions,
    publish_raster,
)
from layers.store import LayerSpec
from tests.raster_helpers import write_geotiff


@pytest.fixture
def conn(database_url: str) -> psycopg.Connection:
    with psycopg.connect(database_url) as connection:
        yield connection


@pytest.mark.shared_data
def test_srtm_tile_publishes_as_a_cog_over_goteborg(
    conn: psycopg.Connection, shared_data: Path, tmp_path: Path
) -> None:
    report = publish_raster(
        conn, LayerSpec("rt_srtm", "Höjd"), shared_data / "raster" / "N57E011.hgt", tmp_path
    )
    assert report["driver"] == "SRTMHGT"
    assert report["render_kind"] == "continuous"
    assert report["resampling"] == "bilinear"
    west, _, _, north = report["bounds"]
    assert west == pytest.approx(11.0, abs=0.01) and north == pytest.approx(58.0, abs=0.01)
    low, high = report["value_range"]
    assert -20 < low < 5 and 100 < high < 400
    stored = tmp_path / report["file"]
    assert report["file"].startswith("rt_srtm_v1_")
    with rasterio.open(stored) as cog:
        assert cog.overviews(1), "a COG has overviews"
        assert cog.profile["tiled"]
        assert cog.tags()[TAG_KIND] == "continuous"
        assert cog.nodata == -32768
    layer = load_catalog(conn)["rt_srtm"]
    assert (layer.kind, layer.version, layer.table_name) == ("raster", 1, report["file"])
    assert layer.bounds is not None and layer.bounds[0] == pytest.approx(west)
    assert not list(tmp_path.glob(".partial*")), "no partial file is left behind"


@pytest.mark.shared_data
def test_lantmateriet_geoid_in_a_3d_crs_publishes_in_its_horizontal_crs(
    conn: psycopg.Connection, shared_data: Path, tmp_path: Path
) -> None:
    source = shared_data / "raster" / "se_lantmateriet_SWEN17_RH2000.tif"
    report = publish_raster(conn, LayerSpec("rt_geoid", "Geoid"), source, tmp_path)
    assert "EPSG:4977" in report["crs"] and report["stored_crs"] == "EPSG:4619"
    with rasterio.open(tmp_path / report["file"]) as cog, rasterio.open(source) as original:
        assert cog.crs.to_epsg() == 4619
        assert cog.transform == original.transform
        assert np.array_equal(cog.read(1), original.read(1)), "no pixel was resampled"
    west, _, _, north = report["bounds"]
    assert 9.9 < west < 10.1 and 69.9 < north < 70.1


def test_a_new_version_gets_a_new_file_and_old_ones_are_pruned(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    source = write_geotiff(
        tmp_path / "a.tif", np.arange(10_000, dtype="float32").reshape(1, 100, 100)
    )
    store = tmp_path / "store"
    spec = LayerSpec("rt_versions", "Versions")
    files = [publish_raster(conn, spec, source, store)["file"] for _ in range(3)]
    assert len(set(files)) == 3
    assert [f.split("_")[2] for f in files] == ["v1", "v2", "v3"]
    assert load_catalog(conn)["rt_versions"].version == 3
    assert prune_raster_versions(conn, "rt_versions", 1, store) == [1]
    assert sorted(p.name for p in store.iterdir()) == sorted(files[1:])


def test_a_raster_without_georeferencing_is_refused(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    source = write_geotiff(
        tmp_path / "scan.tif", np.ones((1, 20, 20), dtype="uint8"), crs=None, origin=None
    )
    with pytest.raises(InvalidInput, match="no georeferencing"):
        publish_raster(conn, LayerSpec("rt_scan", "Scan"), source, tmp_path / "store")
    assert "rt_scan" not in load_catalog(conn)
    assert not (tmp_path / "store").exists() or not any((tmp_path / "store").iterdir())


def test_a_raster_without_crs_needs_srid(conn: psycopg.Connection, tmp_path: Path) -> None:
    source = write_geotiff(tmp_path / "nocrs.tif", np.ones((1, 20, 20), dtype="uint8"), crs=None)
    with pytest.raises(InvalidInput, match="give srid"):
        publish_raster(conn, LayerSpec("rt_nocrs", "No CRS"), source, tmp_path)
    report = publish_raster(conn, LayerSpec("rt_nocrs", "No CRS"), source, tmp_path, srid=3006)
    west, south, _, _ = report["bounds"]
    assert 11.8 < west < 12.1 and 57.6 < south < 57.8, "SWEREF 99 TM lands in Göteborg"


def test_metres_declared_as_wgs84_are_refused_with_a_hint(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    source = write_geotiff(
        tmp_path / "wrong.tif", np.ones((1, 20, 20), dtype="uint8"), crs="EPSG:4326"
    )
    with pytest.raises(InvalidInput, match=r"looks like metres.*srid 3006"):
        publish_raster(conn, LayerSpec("rt_wrong", "Wrong"), source, tmp_path)


def test_degrees_declared_as_sweref_are_refused(conn: psycopg.Connection, tmp_path: Path) -> None:
    source = write_geotiff(
        tmp_path / "deg.tif", np.ones((1, 20, 20), dtype="uint8"), origin=(11.9, 57.7), pixel=0.001
    )
    with pytest.raises(InvalidInput, match="outside the area where EPSG:3006"):
        publish_raster(conn, LayerSpec("rt_deg", "Degrees"), source, tmp_path)


def test_an_absurdly_large_raster_is_refused_before_reading_it(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    # A sparse GeoTIFF declaring 150,000 × 150,000 pixels holds only its tile index on disk.
    path = tmp_path / "huge.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=150_000,
        height=150_000,
        count=1,
        dtype="uint8",
        crs="EPSG:3006",
        transform=rasterio.transform.from_origin(300_000, 7_000_000, 1, 1),
        tiled=True,
        blockxsize=1024,
        blockysize=1024,
        sparse_ok=True,
    ):
        pass
    assert path.stat().st_size < 1_000_000
    with pytest.raises(InvalidInput, match="longest side allowed"):
        publish_raster(conn, LayerSpec("rt_huge", "Huge"), path, tmp_path / "store")
    small = write_geotiff(tmp_path / "s.tif", np.ones((1, 50, 50), dtype="uint8"))
    with pytest.raises(InvalidInput, match="pixels per band"):
        publish_raster(
            conn, LayerSpec("rt_huge", "Huge"), small, tmp_path, limits=RasterLimits(max_pixels=100)
        )


def test_not_a_raster_and_a_vector_name_are_refused(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    text = tmp_path / "notes.tif"
    text.write_text("not a tiff")
    with pytest.raises(InvalidInput, match="not a raster GDAL can read"):
        publish_raster(conn, LayerSpec("rt_text", "Text"), text, tmp_path)
    conn.execute(
        "INSERT INTO webmap.layers (name, title, kind, version) VALUES ('rt_vec', 'V', 'vector', 1)"
    )
    source = write_geotiff(tmp_path / "v.tif", np.ones((1, 20, 20), dtype="uint8"))
    with pytest.raises(InvalidInput, match="is a vector layer"):
        publish_raster(conn, LayerSpec("rt_vec", "V"), source, tmp_path)
    conn.rollback()


def test_clean_storage_removes_only_old_orphans(conn: psycopg.Connection, tmp_path: Path) -> None:
    store = tmp_path / "store"
    source = write_geotiff(tmp_path / "c.tif", np.ones((1, 20, 20), dtype="uint8"))
    live = publish_raster(conn, LayerSpec("rt_clean", "Clean"), source, store)["file"]
    killed = store / ".partial_0123456789abcdef.tif"
    rolled_back = store / "rt_clean_v9_deadbeef.tif"
    fresh = store / ".partial_fedcba9876543210.tif"
    for orphan in (killed, rolled_back, fresh):
        orphan.write_bytes(b"II*\x00")
    old = time.time() - 7200
    os.utime(killed, (old, old))
    os.utime(rolled_back, (old, old))
    os.utime(store / live, (old, old))
    removed = clean_storage(conn, store)
    assert sorted(removed) == sorted([killed.name, rolled_back.name])
    assert (store / live).exists() and fresh.exists()


def test_a_deleted_raster_layer_leaves_no_files_and_never_reuses_a_version(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    source = write_geotiff(tmp_path / "d.tif", np.ones((1, 20, 20), dtype="uint8"))
    spec = LayerSpec("rt_deleted", "Deleted")
    publish_raster(conn, spec, source, store)
    publish_raster(conn, spec, source, store)
    assert delete_raster_layer(conn, "rt_deleted", store) == 2
    assert not any(store.iterdir())
    assert "rt_deleted" not in load_catalog(conn)
    again = publish_raster(conn, spec, source, store)
    assert again["version"] == 3, "tile URLs of the deleted layer's v1 and v2 stay unique"
    with pytest.raises(LayerNotFound):
        delete_raster_layer(conn, "rt_never_was", store)
