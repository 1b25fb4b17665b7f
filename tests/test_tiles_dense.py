"""Tiles of a layer too dense for its zoom: same bytes every time, a drop rule, a byte budget.

The dense layer is the sample's Östermalm buildings copied 1,200 times on a grid of overlapping
offsets (213,600 features), written the way the store writes a version table; every copy keeps the
overview columns of its original, moved with it, and a ``ref`` that names it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import morecantile
import psycopg
import pytest
from psycopg import sql

from layers.catalog import FieldInfo, LayerInfo, load_catalog
from layers.schema import DATA_SCHEMA
from layers.store import create_version_table, finish_version_table
from tests.app_helpers import app_with
from tests.tile_helpers import TMS, decode
from tiles.mvt import MAX_TILE_BYTES, TileOptions, TileRenderer
from tiles.tilesets import Tileset, TileSource
from webmap.settings import Settings

TABLE = "dense_buildings_v1"
COLUMNS, ROWS = 40, 30  # 1,200 copies of the sample's 178 buildings
STEP_X, STEP_Y = 1300.0, 1100.0  # metres of EPSG:3857; the sample spans about 2.5 x 2.3 km
WORLD = 2 * math.pi * 6378137.0


@dataclass(frozen=True)
class Dense:
    url: str
    tileset: Tileset
    count: int
    centre: tuple[float, float]  # lon, lat


def _half_pixel(zoom: int) -> float:
    """The size under which a feature is invisible at ``zoom``: half a 256-pixel tile's pixel."""
    return WORLD / (256 * 2**zoom) / 2


@pytest.fixture(scope="module")
def dense(sample_database: str) -> Iterator[Dense]:
    with psycopg.connect(sample_database) as conn:
        source = load_catalog(conn)["buildings"]
        create_version_table(conn, TABLE, [FieldInfo("ref", "integer")])
        moved = [
            sql.SQL("ST_Translate(b.{}, o.dx, o.dy)").format(sql.Identifier(c))
            for c in ("geom", "geom_z3", "geom_z6", "geom_z9", "geom_z12")
        ]
        conn.execute(
            sql.SQL(
                """
                INSERT INTO {target} (geom, geom_z3, geom_z6, geom_z9, geom_z12, ref)
                SELECT {moved}, o.copy * 1000 + b.fid
                FROM {original} AS b CROSS JOIN (
                    SELECT i * {columns} + j AS copy, j * {step_x} AS dx, i * {step_y} AS dy
                    FROM generate_series(0, {rows} - 1) AS i,
                         generate_series(0, {columns} - 1) AS j
                ) AS o
                -- Östermalm's buildings only: the sample also has Malmö's, 500 km away.
                WHERE b.geom && ST_MakeEnvelope(1990000, 8230000, 2040000, 8280000, 3857)
                ORDER BY o.copy, b.fid
                """
            ).format(
                target=sql.Identifier(DATA_SCHEMA, TABLE),
                moved=sql.SQL(", ").join(moved),
                original=sql.Identifier(DATA_SCHEMA, source.table_name),
                columns=sql.Literal(COLUMNS),
                rows=sql.Literal(ROWS),
                step_x=sql.Literal(STEP_X),
                step_y=sql.Literal(STEP_Y),
            )
        )
        finish_version_table(conn, TABLE)
        count, lon, lat = conn.execute(
            sql.SQL(
                "SELECT n, ST_X(c), ST_Y(c) FROM (SELECT count(*) AS n, ST_Transform("
                "ST_SetSRID(ST_Centroid(ST_Extent(geom)::geometry), 3857), 4326) AS c FROM {}) AS x"
            ).format(sql.Identifier(DATA_SCHEMA, TABLE))
        ).fetchone() or (0, 0.0, 0.0)
        conn.commit()
    layer = LayerInfo(
        name="dense_buildings",
        title="Dense buildings",
        description="",
        kind=source.kind,
        geometry_type=source.geometry_type,
        version=1,
        public=True,
        attribution="",
        minzoom=0,
        maxzoom=22,
        table_name=TABLE,
        feature_count=int(count),
        fields=(FieldInfo("ref", "integer"),),
    )
    tileset = Tileset(
        "dense_buildings",
        "Dense buildings",
        "",
        "1",
        (TileSource(layer, "dense_buildings", 0, 22, ("ref",)),),
        "",
        True,
    )
    yield Dense(sample_database, tileset, int(count), (float(lon), float(lat)))
    with psycopg.connect(sample_database) as conn:
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(DATA_SCHEMA, TABLE)))


def _renderer(dense: Dense, **options: int) -> TileRenderer:
    """A renderer with its own connection per render, as a worker of another process would."""
    return TileRenderer(lambda: psycopg.connect(dense.url), TileOptions(**options))


def _refs(data: bytes) -> list[int]:
    layers = decode(data)
    if not layers:
        return []
    return [int(f["properties"]["ref"]) for f in layers["dense_buildings"]["features"]]


def _visible_in_tile(dense: Dense, tile: morecantile.Tile, larger_than: float = 0.0) -> set[int]:
    """Features that meet the tile and are at least half a pixel across at its zoom, straight
    from the full geometry (not the overview columns the renderer reads), and whose drawn size
    (square root of the area) is over ``larger_than``."""
    box = TMS.xy_bounds(tile)
    overview = "geom_z12" if tile.z >= 12 else "geom_z9" if tile.z >= 9 else "geom_z6"
    with psycopg.connect(dense.url) as conn:
        rows = conn.execute(
            sql.SQL(
                """
                SELECT ref FROM {table}
                WHERE ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 3857))
                  AND greatest(ST_XMax(geom) - ST_XMin(geom), ST_YMax(geom) - ST_YMin(geom)) >= %s
                  AND sqrt(ST_Area(coalesce({overview}, geom))) > %s
                """
            ).format(table=sql.Identifier(DATA_SCHEMA, TABLE), overview=sql.Identifier(overview)),
            [box.left, box.bottom, box.right, box.top, _half_pixel(tile.z), larger_than],
        ).fetchall()
    return {int(r[0]) for r in rows}


def _smallest_drawn(dense: Dense, refs: list[int], zoom: int) -> float:
    overview = "geom_z12" if zoom >= 12 else "geom_z9" if zoom >= 9 else "geom_z6"
    with psycopg.connect(dense.url) as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT min(sqrt(ST_Area(coalesce({}, geom)))) FROM {} WHERE ref = ANY(%s)"
            ).format(sql.Identifier(overview), sql.Identifier(DATA_SCHEMA, TABLE)),
            [refs],
        ).fetchone()
    assert row is not None
    return float(row[0])


def test_the_dense_layer_is_dense(dense: Dense) -> None:
    assert dense.count >= 200_000


@pytest.mark.parametrize("zoom", [10, 12])
def test_a_tile_is_the_same_bytes_on_every_render(dense: Dense, zoom: int) -> None:
    tile = TMS.tile(*dense.centre, zoom)
    first = _renderer(dense).render(dense.tileset, tile)
    second = _renderer(dense).render(dense.tileset, tile)
    assert first, "the tile over the middle of the dense layer is empty"
    assert first == second
    assert len(first) <= MAX_TILE_BYTES


def test_every_visible_feature_is_drawn_when_the_tile_fits(dense: Dense) -> None:
    """No budget bites here: the tile holds every feature at least half a pixel across."""
    tile = TMS.tile(*dense.centre, 12)
    data = _renderer(dense, max_features=1_000_000, max_bytes=10 * MAX_TILE_BYTES).render(
        dense.tileset, tile
    )
    drawn = _refs(data)
    assert len(drawn) == len(set(drawn))
    expected = _visible_in_tile(dense, tile)
    assert len(expected) > 5_000
    assert expected <= set(drawn)


@pytest.mark.parametrize("zoom", [9, 10, 11])
def test_a_dense_tile_keeps_its_largest_features_within_the_budget(dense: Dense, zoom: int) -> None:
    """Over the budget, the smallest features go first: every feature larger than the smallest
    one drawn is drawn, the tile stays within the budget and is the same on every render."""
    budget = 120 * 1024
    tile = TMS.tile(*dense.centre, zoom)
    data = _renderer(dense, max_bytes=budget).render(dense.tileset, tile)
    assert 0.5 * budget < len(data) <= budget
    assert _renderer(dense, max_bytes=budget).render(dense.tileset, tile) == data
    drawn = _refs(data)
    visible = _visible_in_tile(dense, tile)
    assert len(visible) > len(drawn), "the budget should have dropped features here"
    threshold = _smallest_drawn(dense, drawn, zoom)
    larger = _visible_in_tile(dense, tile, larger_than=threshold)
    assert larger, "nothing is larger than the smallest feature drawn"
    assert larger <= set(drawn)


def test_the_densest_tile_stays_within_the_default_budget(dense: Dense) -> None:
    tile = TMS.tile(*dense.centre, 11)
    data = _renderer(dense, max_features=1_000_000).render(dense.tileset, tile)
    assert 0.5 * MAX_TILE_BYTES < len(data) <= MAX_TILE_BYTES


def test_the_budget_is_a_setting_reported_in_tilejson(sample_database: str) -> None:
    """WEBMAP_TILE_MAX_BYTES bounds every tile the service renders and is in its TileJSON."""
    assert Settings.model_fields["tile_max_bytes"].default == MAX_TILE_BYTES
    with app_with(sample_database, tile_max_bytes=4096, tile_cache_bytes=0) as app:
        client = app.test_client()
        assert client.get("/tiles/basemap.json").get_json()["webmap:max_tile_bytes"] == 4096
        assert client.get("/tiles/roads.json").get_json()["webmap:max_tile_bytes"] == 4096
        tile = TMS.tile(18.07, 59.33, 5)  # about 30 KB of municipalities and built-up areas
        response = client.get(f"/tiles/basemap/5/{tile.x}/{tile.y}.mvt")
        assert response.status_code == 200
        assert 2048 < len(response.data) <= 4096
        layers = decode(response.data)
        assert layers["municipalities"]["features"]


def test_points_are_thinned_on_a_grid(sample_database: str) -> None:
    """Too many points for the allowance: one per grid cell (16 x 16 over the tile, the lowest
    feature id in each) before a second one anywhere, so what is left stays spread out."""
    with psycopg.connect(sample_database) as conn:
        pois = load_catalog(conn)["pois"]
    tile = TMS.tile(18.0705, 59.3382, 13)
    box = TMS.xy_bounds(tile)
    cell = (box.right - box.left) / 16
    margin = (box.right - box.left) * 64 / 4096
    with psycopg.connect(sample_database) as conn:
        rows = conn.execute(
            sql.SQL(
                """
                SELECT floor((ST_X(geom) - %(left)s) / %(cell)s) AS i,
                       floor((ST_Y(geom) - %(bottom)s) / %(cell)s) AS j, fid, name
                FROM {} WHERE geom && ST_MakeEnvelope(%(l)s, %(b)s, %(r)s, %(t)s, 3857)
                ORDER BY fid
                """
            ).format(sql.Identifier(DATA_SCHEMA, pois.table_name)),
            {
                "left": box.left,
                "bottom": box.bottom,
                "cell": cell,
                "l": box.left - margin,
                "b": box.bottom - margin,
                "r": box.right + margin,
                "t": box.top + margin,
            },
        ).fetchall()
    first_in_cell: dict[tuple[float, float], str | None] = {}
    for i, j, _fid, name in rows:
        first_in_cell.setdefault((i, j), name)
    assert len(rows) > 2 * len(first_in_cell)  # dense enough that thinning matters
    source = TileSource(pois, "pois", 0, 22, ("name",))
    tileset = Tileset("t", "t", "", "1", (source,), "", True)
    renderer = TileRenderer(
        lambda: psycopg.connect(sample_database), TileOptions(max_features=len(first_in_cell))
    )
    data = renderer.render(tileset, tile)
    assert renderer.render(tileset, tile) == data
    drawn = decode(data)["pois"]["features"]
    assert len(drawn) == len(first_in_cell)
    cells = {(x // 256, 15 - y // 256) for x, y in (f["geometry"]["coordinates"] for f in drawn)}
    assert len(cells) >= 0.9 * len(first_in_cell)  # one per cell, give or take grid snapping
    names = sorted(str(f["properties"].get("name")) for f in drawn)
    assert names == sorted(str(n) for n in first_in_cell.values())
