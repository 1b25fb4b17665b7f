"""``webmap tiles export``: archives read back with the ``pmtiles`` package and SQLite hold, tile
for tile, the bytes the live service sends; the metadata is the TileJSON plus the version."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from tests.app_helpers import app_with
from tiles.export import ExportPlan, tiles_in_order
from tiles.tilesets import resolve_tileset
from webmap.cli import main
from webmap.services import services

#: Östermalm, where every basemap layer has features (the OSM sample).
BBOX = "18.075,59.335,18.09,59.342"
GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def app(sample_database: str) -> Iterator[Flask]:
    with app_with(sample_database) as application:
        yield application


@pytest.fixture(scope="module")
def exported(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The basemap z0–z12 over BBOX, once as PMTiles and once as MBTiles."""
    folder = tmp_path_factory.mktemp("export")
    runner = app.test_cli_runner()
    paths = {}
    for fmt in ("pmtiles", "mbtiles"):
        paths[fmt] = folder / f"basemap.{fmt}"
        done = runner.invoke(
            main,
            ["tiles", "export", "basemap", "--format", fmt, "--minzoom", "0", "--maxzoom", "12",
             "--bbox", BBOX, "-o", str(paths[fmt])],
        )  # fmt: skip
        assert done.exit_code == 0, done.output
        assert f"{paths[fmt]}: " in done.output and "zooms 0-12" in done.output
    return paths


def _plan(app: Flask) -> ExportPlan:
    with app.app_context():
        tileset = resolve_tileset("basemap", services().catalog.layers())
    west, south, east, north = (float(v) for v in BBOX.split(","))
    return ExportPlan(tileset, 0, 12, (west, south, east, north))


def _live(client: FlaskClient, version: str, z: int, x: int, y: int) -> bytes:
    answer = client.get(f"/tiles/basemap/{z}/{x}/{y}.mvt?v={version}", headers=GZIP)
    assert answer.status_code == 200
    return answer.data


def _every_address(plan: ExportPlan) -> Iterator[tuple[int, int, int]]:
    for z, x0, x1, y0, y1 in plan.tile_ranges():
        for _, x, y in tiles_in_order(z, x0, x1, y0, y1):
            yield z, x, y


def test_pmtiles_holds_the_live_tiles(app: Flask, exported: dict[str, Path]) -> None:
    plan = _plan(app)
    client = app.test_client()
    with exported["pmtiles"].open("rb") as f:
        source = MmapSource(f)
        reader = Reader(source)
        header = reader.header()
        assert header["tile_type"] == TileType.MVT
        assert header["tile_compression"] == Compression.GZIP  # what the service sends
        assert header["clustered"]  # written in tile id order
        assert (header["min_zoom"], header["max_zoom"]) == (0, 12)
        stored = {zxy: bytes(data) for zxy, data in all_tiles(source)}
        compared = 0
        for z, x, y in _every_address(plan):
            live = _live(client, plan.tileset.version, z, x, y)
            assert stored.pop((z, x, y), b"") == live, (z, x, y)  # empty tiles are left out
            assert reader.get(z, x, y) == (live or None)
            compared += bool(live)
        assert not stored  # nothing outside the plan
        assert compared >= 13 and header["addressed_tiles_count"] == compared
        metadata = reader.metadata()
    tilejson = client.get("/tiles/basemap.json").get_json()
    for key in ("name", "description", "attribution", "vector_layers", "webmap:max_tile_bytes"):
        assert metadata[key] == tilejson[key], key
    assert metadata["tilejson"] == "3.0.0" and "tiles" not in metadata
    assert metadata["webmap:version"] == tilejson["tiles"][0].split("?v=")[1]
    assert (metadata["minzoom"], metadata["maxzoom"]) == (0, 12)
    assert metadata["bounds"] == [float(v) for v in BBOX.split(",")]
    assert metadata["webmap:layers"]["roads"] >= 1


def test_mbtiles_holds_the_live_tiles(app: Flask, exported: dict[str, Path]) -> None:
    plan = _plan(app)
    client = app.test_client()
    with sqlite3.connect(exported["mbtiles"]) as db:
        rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles")
        stored = {(z, x, (1 << z) - 1 - row): bytes(data) for z, x, row, data in rows}
        metadata: dict[str, Any] = dict(db.execute("SELECT name, value FROM metadata"))
    for z, x, y in _every_address(plan):
        assert stored.pop((z, x, y), b"") == _live(client, plan.tileset.version, z, x, y)
    assert not stored
    assert metadata["format"] == "pbf" and metadata["version"] == plan.tileset.version
    assert (metadata["minzoom"], metadata["maxzoom"]) == ("0", "12")
    assert metadata["bounds"] == BBOX
    assert '"vector_layers"' in metadata["json"] and '"webmap:version"' in metadata["json"]


def test_tiles_in_order_are_sorted_and_complete() -> None:
    found = list(tiles_in_order(5, 3, 9, 20, 22))
    assert [tile_id for tile_id, _, _ in found] == sorted(t for t, _, _ in found)
    assert {(x, y) for _, x, y in found} == {(x, y) for x in range(3, 10) for y in range(20, 23)}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nosuchlayer"], "no vector layer named 'nosuchlayer'"),
        (["basemap", "--minzoom", "9", "--maxzoom", "3"], "--minzoom (9) is above --maxzoom (3)"),
        (["basemap", "--maxzoom", "30"], "--maxzoom must be between 0 and 24"),
        (["basemap", "--bbox", "18,59,17,60"], "west < east"),
        (["basemap", "--bbox", "18,59,x,60"], "west,south,east,north"),
        (["basemap", "--version", "2"], "--version applies to a single layer"),
        (["roads", "--version", "999"], "has no version 999"),
        (
            ["basemap", "--bbox", "-30,-50,-29,-49", "--minzoom", "6", "--maxzoom", "7"],
            "nothing to export",
        ),
    ],
)
def test_bad_arguments_are_refused(app: Flask, tmp_path: Path, args: list[str], words: str) -> None:
    target = tmp_path / "out.pmtiles"
    done = app.test_cli_runner().invoke(main, ["tiles", "export", *args, "-o", str(target)])
    assert done.exit_code != 0
    assert words in done.output
    assert list(tmp_path.iterdir()) == []  # no archive, not even a half-written one


def test_version_names_a_kept_version(app: Flask, tmp_path: Path) -> None:
    """``--version`` reads that version's table and bounds (here the live one, the only one
    the sample keeps): the same archive as the default, byte for byte."""
    with app.app_context():
        live = services().catalog.layers()["roads"].version
    runner = app.test_cli_runner()
    outputs = []
    for extra in ([], ["--version", str(live)]):
        outputs.append(tmp_path / f"roads{len(outputs)}.pmtiles")
        args = ["tiles", "export", "roads", "--minzoom", "12", "--maxzoom", "13", "--bbox", BBOX]
        done = runner.invoke(main, [*args, *extra, "-o", str(outputs[-1])])
        assert done.exit_code == 0 and f"version {live}," in done.output, done.output
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
