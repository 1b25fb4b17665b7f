"""The service's foundation: database set-up, health, the production server, caches."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request

import psycopg
import pytest
from flask.testing import FlaskClient, FlaskCliRunner

from layers.catalog import CatalogCache, load_catalog
from layers.errors import LayerNotFound
from tests.server_helpers import wait_until_ready
from tests.tile_helpers import tile_of
from tiles.cache import CachedTile, MemoryTileCache, TileKey
from tiles.mvt import TileOptions, tile_query
from tiles.tilesets import BASEMAP, resolve_tileset
from webmap import create_app
from webmap.cli import main


def test_db_init_is_idempotent(runner: FlaskCliRunner) -> None:
    for _ in range(2):
        result = runner.invoke(main, ["db", "init"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_tile_query_uses_the_spatial_index(sample_database: str) -> None:
    with psycopg.connect(sample_database, autocommit=True) as conn:
        tileset = resolve_tileset(BASEMAP, load_catalog(conn))
        tile = tile_of(18.0705, 59.3382, 12)
        query, params = tile_query(tileset.sources_at(12), tile, TileOptions())
        # The sample tables are small enough that a sequential scan can be cheaper; what must
        # hold is that every table *can* be filtered by its GiST index, so forbid the seq scan.
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET jit = off")
        plan = "\n".join(r[0] for r in conn.execute(b"EXPLAIN " + query, params))
        # An index built over fresh HOT chains is unusable while older transactions live.
        late = conn.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'layerdata' AND i.indcheckxmin"
        ).fetchone()
    for source in tileset.sources_at(12):
        assert f"{source.layer.table_name}_geom_idx" in plan, plan
    assert "Seq Scan" not in plan
    assert late == (0,)


def test_healthz_answers_503_problem_when_database_is_down() -> None:
    app = create_app({"database_url": "postgresql://postgres@127.0.0.1:1/none", "pool_timeout": 1})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Database unavailable"
    app.extensions["webmap.pool"].close()


def test_tiles_answer_503_when_schema_is_missing(database_url: str) -> None:
    empty = database_url.rsplit("/", 1)[0] + "/postgres"
    app = create_app({"database_url": empty, "catalog_ttl": 0})
    client = app.test_client()
    health = client.get("/healthz")
    tile = client.get("/tiles/basemap/0/0/0.mvt")
    app.extensions["webmap.pool"].close()
    assert health.status_code == 503 and "db init" in health.get_json()["detail"]
    assert tile.status_code == 503 and tile.mimetype == "application/problem+json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("app_server", ["granian", "gunicorn"])
def test_serve_runs_the_app_server_with_the_app(sample_database: str, app_server: str) -> None:
    port = _free_port()
    env = dict(os.environ, WEBMAP_DATABASE_URL=sample_database)
    command = [sys.executable, "-m", "webmap.cli", "serve", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(
        [*command, "--server", app_server],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        status, body = wait_until_ready(f"http://127.0.0.1:{port}/healthz", process=server)
        assert status == 200
        assert b'"status":"ok"' in body.replace(b" ", b"")
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?q=hemlig59", timeout=30).read()
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=60)
    # The access log names paths only: lookups carry citizens' coordinates in query strings.
    assert b"/healthz" in stderr or server.returncode == 0
    assert b"hemlig59" not in stderr


def test_memory_cache_is_bounded_by_bytes() -> None:
    cache = MemoryTileCache(max_bytes=250)
    keys = [TileKey("basemap", "v1", 1, 0, i) for i in range(3)]
    for key in keys:
        cache.put(key, CachedTile(b"x" * 100))
    assert cache.get(keys[0]) is None  # least recently used went first
    assert cache.get(keys[2]) is not None
    assert cache.size_bytes <= 250
    cache.put(TileKey("basemap", "v1", 1, 0, 9), CachedTile(b"y" * 1000))  # too big: not kept
    assert cache.get(TileKey("basemap", "v1", 1, 0, 9)) is None


def test_gzip_form_is_reproducible() -> None:
    tile = CachedTile(b"abc" * 100)
    assert tile.with_gzip().gzipped == tile.with_gzip().gzipped
    assert tile.with_gzip().size > tile.size


def test_catalog_cache_reloads_after_its_ttl(sample_database: str) -> None:
    now = [0.0]
    loads = []

    def connect() -> psycopg.Connection[tuple[object, ...]]:
        loads.append(now[0])
        return psycopg.connect(sample_database)

    cache = CatalogCache(connect, ttl=2.0, clock=lambda: now[0])
    assert "municipalities" in cache.layers()
    cache.layers()
    now[0] = 2.5
    cache.layers()
    assert loads == [0.0, 2.5]
    with pytest.raises(LayerNotFound):
        cache.get("no_such_layer")


def test_load_sample_publishes_a_new_version_and_moves_tile_urls(
    runner: FlaskCliRunner, client: FlaskClient
) -> None:
    before = client.get("/tiles/pois.json").get_json()["tiles"][0]
    basemap_before = client.get("/tiles/basemap.json").get_json()["tiles"][0]
    # Unchanged sources: nothing is published, the tile URLs (cached as immutable) stay.
    same = runner.invoke(main, ["data", "load-sample", "--only", "pois"])
    assert same.exit_code == 0, same.output
    assert "pois: 850 features" in same.output and "unchanged" in same.output
    assert client.get("/tiles/pois.json").get_json()["tiles"][0] == before
    result = runner.invoke(main, ["data", "load-sample", "--only", "pois", "--force"])
    assert result.exit_code == 0, result.output
    assert "pois: 850 features" in result.output and "unchanged" not in result.output
    after = client.get("/tiles/pois.json").get_json()["tiles"][0]
    assert int(after.rsplit("=", 1)[1]) == int(before.rsplit("=", 1)[1]) + 1
    assert client.get("/tiles/basemap.json").get_json()["tiles"][0] != basemap_before
