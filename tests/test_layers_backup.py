"""Backups: ``webmap layers export`` / ``restore`` round trips (vector and raster, into a scratch
database), versions that are not live, refused foreign files, and the restore drill of
docs/operations.md (pg_dump + raster folder → another database answers the same tiles)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import rasterio
import shapely
from flask import Flask
from flask.testing import FlaskCliRunner
from psycopg import sql

from layers.publishing import Publishing, SourceFile
from layers.raster.cog import stored_path
from layers.sample import load_sample
from layers.schema import upgrade
from layers.store import LayerSpec
from tests.app_helpers import app_with, scratch_database
from tests.conftest import DATA_DIR
from tests.layers_helpers import catalog_state, tile_of
from tests.raster_helpers import write_geotiff
from webmap.cli import main

STOCKHOLM = (18.07, 59.33)


@pytest.fixture(scope="module")
def rasters(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("backup_rasters")


@pytest.fixture(scope="module")
def source_app(sample_database: str, rasters: Path) -> Iterator[Flask]:
    with app_with(sample_database, raster_dir=str(rasters)) as application:
        yield application


@pytest.fixture(scope="module")
def scratch(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on an empty, migrated database with its own raster folder: the restore target."""
    with scratch_database(database_url, "restore") as url:
        upgrade(url)
        folder = tmp_path_factory.mktemp("scratch_rasters")
        with app_with(url, raster_dir=str(folder)) as application:
            yield application


def _cli(app: Flask, *args: str | Path) -> Any:
    runner: FlaskCliRunner = app.test_cli_runner()
    return runner.invoke(main, ["layers", *map(str, args)])


def _url(app: Flask) -> str:
    return str(app.config["WEBMAP_SETTINGS"].database_url)


def _layer(url: str, name: str, version: int | None = None) -> dict[str, Any]:
    """Catalog row, version row and features (WKB, attributes) in fid order."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT l.title, l.description, l.attribution, l.public, l.minzoom, l.maxzoom, "
            "l.kind, l.geometry_type, l.version, v.table_name, v.fields, v.feature_count "
            "FROM webmap.layers l JOIN webmap.layer_versions v ON v.layer_name = l.name "
            "AND v.version = coalesce(%s, l.version) WHERE l.name = %s",
            [version, name],
        ).fetchone()
        assert row is not None
        meta = dict(zip(
            ("title", "description", "attribution", "public", "minzoom", "maxzoom", "kind",
             "geometry_type", "live", "table", "fields", "count"),
            row, strict=True,
        ))  # fmt: skip
        features: list[tuple[Any, ...]] = []
        if meta["kind"] == "vector":
            columns = sql.SQL("").join(
                sql.SQL(", {}").format(sql.Identifier(f["name"])) for f in meta["fields"]
            )
            features = conn.execute(
                sql.SQL("SELECT ST_AsBinary(geom) {} FROM {} ORDER BY fid").format(
                    columns, sql.Identifier("layerdata", meta["table"])
                )
            ).fetchall()
    meta["features"] = features
    return meta


def _same_features(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> None:
    assert len(a) == len(b) > 0
    for left, right in zip(a, b, strict=True):
        assert left[1:] == right[1:]
        ga, gb = shapely.from_wkb(bytes(left[0])), shapely.from_wkb(bytes(right[0]))
        assert ga.equals_exact(gb, tolerance=1e-6), (ga.wkt[:80], gb.wkt[:80])


_METADATA_KEYS = (
    "title", "description", "attribution", "public", "minzoom", "maxzoom", "kind",
    "geometry_type", "fields", "count",
)  # fmt: skip


def test_a_sample_layer_round_trips_into_another_database(
    source_app: Flask, scratch: Flask, tmp_path: Path
) -> None:
    backup = tmp_path / "builtup.gpkg"
    done = _cli(source_app, "export", "builtup", backup)
    assert done.exit_code == 0, done.output
    before = _layer(_url(source_app), "builtup")
    assert f"version {before['live']} ({before['count']} features)" in done.output
    with closing(sqlite3.connect(backup)) as db:
        stored = {k: json.loads(v) for k, v in db.execute(
            "SELECT key, value FROM webmap_layer_metadata"
        )}  # fmt: skip
        srs = db.execute("SELECT srs_id FROM gpkg_geometry_columns").fetchone()
    assert stored["format"] == "webmap-layer-backup" and stored["format_version"] == 1
    assert stored["name"] == "builtup" and stored["minzoom"] == 4 and srs == (3857,)
    assert stored["source_version"] == before["live"] and stored["exported_at"]
    assert {"name": "population", "type": "integer"} in stored["fields"]

    restored = _cli(scratch, "restore", backup)
    assert restored.exit_code == 0, restored.output
    after = _layer(_url(scratch), "builtup")
    assert after["live"] == 1 and "builtup version 1 is live" in restored.output
    assert {k: after[k] for k in _METADATA_KEYS} == {k: before[k] for k in _METADATA_KEYS}
    _same_features(before["features"], after["features"])


def _typed_geojson(path: Path, offset: float) -> Path:
    rows = [
        ({"n": 1, "x": 1.5, "ok": True, "label": "Å"}, 0.0),
        ({"n": None, "x": None, "ok": None, "label": None}, 0.001),
        ({"n": -7, "x": 2.25, "ok": False, "label": "b"}, 0.002),
    ]
    features = [
        {
            "type": "Feature",
            "properties": props,
            "geometry": {"type": "Point", "coordinates": [18.07 + dx + offset, 59.33]},
        }
        for props, dx in rows
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_an_older_version_is_restored_as_the_next_one_with_types_and_nulls(
    source_app: Flask, tmp_path: Path, rasters: Path
) -> None:
    url = _url(source_app)
    publishing = Publishing(raster_dir=rasters)
    spec = LayerSpec("bk_types", "Typer", "Med tomma värden", "Test", public=False, minzoom=3)
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(2):
            source = _typed_geojson(tmp_path / f"v{i}.geojson", offset=0.01 * i)
            publishing.publish(conn, spec, SourceFile(source, source.name), exists_ok=True)
    version_1 = _layer(url, "bk_types", 1)
    assert version_1["live"] == 2

    backup = tmp_path / "v1.gpkg"
    assert _cli(source_app, "export", "bk_types", backup, "--version", "1").exit_code == 0
    done = _cli(source_app, "restore", backup)
    assert done.exit_code == 0, done.output
    assert "bk_types version 3 is live (restored from version 1" in done.output
    live = _layer(url, "bk_types")
    assert live["live"] == 3 and live["public"] is False and live["minzoom"] == 3
    assert [f["type"] for f in live["fields"]] == ["integer", "number", "boolean", "text"]
    _same_features(version_1["features"], live["features"])
    assert live["features"][1][1:] == (None, None, None, None)

    again = _cli(source_app, "restore", backup, "--name", "bk_types_copy")
    assert again.exit_code == 0 and "bk_types_copy version 1 is live" in again.output
    assert _layer(url, "bk_types_copy")["public"] is False


def _pixels(path: Path) -> np.ndarray[Any, Any]:
    with rasterio.open(path) as src:
        return np.asarray(src.read())


def test_a_raster_round_trips_with_its_pixels_and_metadata(
    source_app: Flask, scratch: Flask, rasters: Path, tmp_path: Path
) -> None:
    data = (np.arange(64 * 48, dtype="int16").reshape(1, 48, 64) % 500) - 20
    source = write_geotiff(tmp_path / "dem.tif", data, nodata=-9999)
    spec = LayerSpec("bk_dem", "Höjd", "DEM", "Lantmäteriet", public=False, minzoom=5, maxzoom=15)
    with psycopg.connect(_url(source_app), autocommit=True) as conn:
        Publishing(raster_dir=rasters).publish(conn, spec, SourceFile(source, source.name))
    backup = tmp_path / "out" / "dem-backup.tif"
    backup.parent.mkdir()
    done = _cli(source_app, "export", "bk_dem", backup)
    assert done.exit_code == 0, done.output
    sidecar = json.loads((tmp_path / "out" / "dem-backup.tif.json").read_text())
    assert sidecar["kind"] == "raster" and sidecar["maxzoom"] == 15 and sidecar["public"] is False

    restored = _cli(scratch, "restore", backup)
    assert restored.exit_code == 0, restored.output
    before, after = _layer(_url(source_app), "bk_dem"), _layer(_url(scratch), "bk_dem")
    assert {k: after[k] for k in _METADATA_KEYS} == {k: before[k] for k in _METADATA_KEYS}
    scratch_dir = Path(scratch.config["WEBMAP_SETTINGS"].raster_dir)
    original = _pixels(stored_path(rasters, before["table"]))
    assert np.array_equal(original, data)
    assert np.array_equal(_pixels(stored_path(scratch_dir, after["table"])), original)


def _plain_geopackage(path: Path) -> Path:
    import pyogrio.raw

    pyogrio.raw.write(
        str(path),
        np.array([shapely.to_wkb(shapely.Point(18.07, 59.33))], dtype=object),
        [np.array(["x"], dtype=object)],
        ["name"],
        driver="GPKG",
        geometry_type="Point",
        crs="EPSG:4326",
    )
    return path


def test_foreign_and_broken_files_are_refused_and_change_nothing(
    source_app: Flask, tmp_path: Path, rasters: Path
) -> None:
    url = _url(source_app)
    backup = tmp_path / "pois.gpkg"
    assert _cli(source_app, "export", "pois", backup).exit_code == 0
    tampered = {
        "bad-name": ("name", "Bad Name", "layer name"),
        "future": ("format_version", 99, "format version 99"),
        "kind": ("kind", "raster", "holds a raster layer"),
        "zoom": ("minzoom", 40, "'minzoom'"),
    }
    cases: dict[str, tuple[str | Path, str]] = {}
    for label, (key, value, expected) in tampered.items():
        copy = shutil.copy(backup, tmp_path / f"{label}.gpkg")
        with closing(sqlite3.connect(copy)) as db, db:
            db.execute(
                "UPDATE webmap_layer_metadata SET value = ? WHERE key = ?", [json.dumps(value), key]
            )
        cases[label] = (copy, expected)
    schema_tricks = {
        "virtual": ("CREATE VIRTUAL TABLE sneaky USING fts5(x)", "virtual table 'sneaky'"),
        "view": (
            "ALTER TABLE webmap_layer_metadata RENAME TO m2; "
            "CREATE VIEW webmap_layer_metadata AS SELECT * FROM m2",
            "not a webmap layer backup",
        ),
    }
    for label, (statements, expected) in schema_tricks.items():
        copy = shutil.copy(backup, tmp_path / f"{label}.gpkg")
        with closing(sqlite3.connect(copy)) as db:
            db.executescript(statements)
        cases[label] = (copy, expected)
    text = tmp_path / "notes.gpkg"
    text.write_text("name,x,y\n")
    cases["text"] = (text, "plain text, not GeoPackage")
    cases["plain"] = (_plain_geopackage(tmp_path / "plain.gpkg"), "layers import")
    tif = write_geotiff(tmp_path / "lone.tif", np.ones((1, 8, 8), dtype="uint8"))
    cases["no-sidecar"] = (tif, "rasters import")
    odd = write_geotiff(tmp_path / "odd.tif", np.ones((1, 8, 8), dtype="uint8"))
    (tmp_path / "odd.tif.json").write_text("<xml/>")
    cases["bad-sidecar"] = (odd, "not JSON")
    cases["suffix"] = (shutil.copy(backup, tmp_path / "pois.zip"), "not a layer backup")
    # A good backup whose name is a raster layer: refused inside the publishing transaction.
    renamed = shutil.copy(backup, tmp_path / "clash.gpkg")
    with closing(sqlite3.connect(renamed)) as db, db:
        db.execute("UPDATE webmap_layer_metadata SET value = '\"bk_clash\"' WHERE key = 'name'")
    with psycopg.connect(url, autocommit=True) as conn:
        clash = write_geotiff(tmp_path / "clash.tif", np.ones((1, 8, 8), dtype="uint8"))
        Publishing(raster_dir=rasters).publish(
            conn, LayerSpec("bk_clash", "R"), SourceFile(clash, clash.name)
        )
    cases["kind-clash"] = (renamed, "raster layer")

    state = catalog_state(url)
    for label, (path, expected) in cases.items():
        result = _cli(source_app, "restore", path)
        assert result.exit_code == 1, (label, result.output)
        assert expected in result.output, (label, result.output)
    assert catalog_state(url) == state

    exports = {
        ("nope", "a.gpkg"): "no layer named 'nope'",
        ("pois", "a.gpkg", "--version", "999"): "no stored version 999",
        ("pois", "a.tif"): "GeoPackage",
        ("bk_clash", "a.gpkg"): "GeoTIFF",
        ("pois", backup): "exists already",
    }
    for args, expected in exports.items():
        result = _cli(source_app, "export", *args)
        assert result.exit_code == 1 and expected in result.output, (args, result.output)


def _tile(app: Flask, layer: str, lon: float, lat: float, zoom: int, suffix: str) -> bytes:
    tile = tile_of(lon, lat, zoom)
    response = app.test_client().get(
        f"/tiles/{layer}/{tile.z}/{tile.x}/{tile.y}.{suffix}", follow_redirects=True
    )
    assert response.status_code == 200
    return bytes(response.data)


def test_restore_drill_pg_dump_and_raster_folder_serve_the_same_tiles(
    database_url: str, tmp_path: Path
) -> None:
    """docs/operations.md, "Restore drill": the same commands, on scratch databases."""
    source_dir, target_dir = tmp_path / "rasters", tmp_path / "restored-rasters"
    dump = tmp_path / "webmap.dump"
    dem = write_geotiff(tmp_path / "dem.tif", np.arange(4096, dtype="int16").reshape(1, 64, 64))
    with scratch_database(database_url, "drill_a") as source_url:
        upgrade(source_url)
        with psycopg.connect(source_url, autocommit=True) as conn:
            load_sample(conn, DATA_DIR, only={"builtup"})
            report = (
                Publishing(raster_dir=source_dir)
                .publish(conn, LayerSpec("drill_dem", "DEM"), SourceFile(dem, dem.name))
                .report
            )
        west, south, east, north = report["bounds"]
        wanted = [("builtup", *STOCKHOLM, z, "mvt") for z in (5, 7, 9)]
        wanted.append(("drill_dem", (west + east) / 2, (south + north) / 2, 14, "png"))
        with app_with(source_url, raster_dir=str(source_dir)) as app:
            tiles = {args: _tile(app, *args) for args in wanted}
        subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", source_url], check=True)
        shutil.copytree(source_dir, target_dir)
    with scratch_database(database_url, "drill_b") as target_url:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target_url}", str(dump)],
            check=True,
        )
        upgrade(target_url)  # `webmap db upgrade`: nothing to do after a same-version restore
        with app_with(target_url, raster_dir=str(target_dir)) as app:
            for args, body in tiles.items():
                assert len(body) > 100 and _tile(app, *args) == body, args
        # "Tile URLs after restoring an older dump": the page's SQL moves the numbering on.
        page = (Path(__file__).parent.parent / "docs" / "operations.md").read_text()
        section = page.split("**Tile URLs after restoring an older dump.**", 1)[1]
        floor = section.split("```sql\n", 1)[1].split("```", 1)[0]
        with psycopg.connect(target_url, autocommit=True) as conn:
            conn.execute(floor)
            again = Publishing(raster_dir=target_dir).publish(
                conn, LayerSpec("drill_dem", "DEM"), SourceFile(dem, dem.name), exists_ok=True
            )
        assert again.version == 1002
