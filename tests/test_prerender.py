"""Pre-rendering low zooms on a real database: publishing queues a job and returns at once, the
worker renders exactly the planned tiles, the tile route serves them as cache hits with the bytes
a fresh render gives, an interrupted job resumes without redoing work, and a newer version
supersedes the old job."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import socket
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient
from morecantile import Tile

from layers.catalog import load_catalog
from layers.publishing import Publishing, SourceFile
from layers.schema import upgrade
from layers.store import LayerSpec
from tests.app_helpers import app_with, scratch_database
from tests.layers_helpers import token_headers
from tiles.grid import WEB_MERCATOR_QUAD
from tiles.mvt import TileRenderer
from tiles.prerender import CHUNK_TILES, plan, status, tile_rows
from tiles.prerender_worker import _CLAIM, PrerenderWorker, Reconnecting
from tiles.tilesets import resolve_tileset
from webmap.cli import main
from webmap.cli.production import ProductionServer
from webmap.services import publishing_for, tile_options
from webmap.settings import Settings

# Stockholm, Malmö and Kiruna: far enough apart that z5–z8 have several tiles and chunks.
PLACES = [(18.07, 59.33), (13.0, 55.6), (20.22, 67.85)]


@pytest.fixture(scope="module")
def database(database_url: str) -> Iterator[str]:
    """A migrated database of this module's own: the session's has the sample basemap, whose
    jobs would make every test here render a country."""
    with scratch_database(database_url, "prerender") as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def settings(database: str) -> Settings:
    return Settings(database_url=database, prerender_max_zoom=8)


@pytest.fixture(scope="module")
def publishing(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Publishing:
    """The facade as the app builds it, so its on_change hook is the real one."""
    return replace(publishing_for(settings), raster_dir=tmp_path_factory.mktemp("rasters"))


@pytest.fixture
def conn(database: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database, autocommit=True) as connection:
        yield connection


def _geojson(path: Path, shift: float = 0.0) -> SourceFile:
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"p{i}", "rank": i},
            "geometry": {"type": "Point", "coordinates": [lon + shift, lat]},
        }
        for i, (lon, lat) in enumerate(PLACES)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return SourceFile(path, path.name)


def _worker(conn: psycopg.Connection[Any], settings: Settings, only: str) -> PrerenderWorker:
    return PrerenderWorker(
        lambda: nullcontext(conn), tile_options(settings), settings.prerender_max_zoom, only=only
    )


def _job(conn: psycopg.Connection[Any], name: str) -> Any:
    return next(j for j in status(conn, name, include_superseded=True) if j.state != "superseded")


def _stored(conn: psycopg.Connection[Any], name: str) -> set[tuple[str, int, int, int]]:
    rows = conn.execute(
        "SELECT version, z, x, y FROM webmap.prerendered_tiles WHERE tileset = %s", [name]
    ).fetchall()
    return {(str(v), int(z), int(x), int(y)) for v, z, x, y in rows}


def _planned(conn: psycopg.Connection[Any], name: str) -> set[tuple[str, int, int, int]]:
    tileset = resolve_tileset(name, load_catalog(conn))
    return {
        (tileset.version, z, x, y)
        for z, y, x_min, x_max in plan(tileset, 8).chunks
        for x in range(x_min, x_max + 1)
    }


def test_rows_cover_each_tile_once_in_bounded_chunks() -> None:
    boxes = [(17.9, 59.2, 18.2, 59.4), (11.0, 55.0, 24.0, 69.0)]  # overlapping on purpose
    chunks = tile_rows(boxes, 0, 8)
    listed = [(z, x, y) for z, y, x0, x1 in chunks for x in range(x0, x1 + 1)]
    assert len(listed) == len(set(listed))
    expected = {
        (t.z, t.x, t.y)
        for box in boxes
        for t in WEB_MERCATOR_QUAD.tiles(*box, list(range(9)), truncate=True)
    }
    assert set(listed) == expected
    assert all(0 <= x1 - x0 < CHUNK_TILES for _, _, x0, x1 in chunks)
    assert [c[0] for c in chunks] == sorted(c[0] for c in chunks)  # low zooms first


def test_publish_queues_then_tiles_are_stored_hits_identical_to_fresh(
    publishing: Publishing, settings: Settings, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    publishing.publish(conn, LayerSpec("pre_a", "A"), _geojson(tmp_path / "a.geojson"))
    job = _job(conn, "pre_a")
    planned = _planned(conn, "pre_a")
    # The publish returned with the job queued and nothing rendered yet.
    assert (job.state, job.tiles_done, job.tiles_total) == ("queued", 0, len(planned))
    assert job.tiles_total > 9 and _stored(conn, "pre_a") == set()

    rendered = _worker(conn, settings, "pre_a").drain()
    job = _job(conn, "pre_a")
    assert rendered == job.tiles_done == job.tiles_total and job.state == "done"
    assert _stored(conn, "pre_a") == planned

    with app_with(settings.database_url) as app:  # the layer's JSON shows the progress
        detail = app.test_client().get(
            "/api/layers/pre_a", headers=token_headers(settings.database_url, "read")
        )
    assert detail.status_code == 200
    [shown] = detail.get_json()["prerender"]
    assert (shown["state"], shown["tiles_done"], shown["zooms"]) == ("done", rendered, [0, 8])

    renderer = TileRenderer(lambda: nullcontext(conn), tile_options(settings))
    tileset = resolve_tileset("pre_a", load_catalog(conn))
    with app_with(settings.database_url) as app:
        client = app.test_client()
        for version, z, x, y in sorted(planned):
            fresh = renderer.render(tileset, Tile(x, y, z))
            answer = _get(client, f"/tiles/pre_a/{z}/{x}/{y}.mvt?v={version}")
            assert _cache(answer) == "hit-stored", (z, x, y)
            assert answer.data == fresh, (z, x, y)
            if fresh:  # the gzip variant is stored too: the same bytes a request would get
                zipped = _get(client, f"/tiles/pre_a/{z}/{x}/{y}.mvt?v={version}", gzip=True)
                assert zipped.headers["Content-Encoding"] == "gzip"
                assert gzip.decompress(zipped.data) == fresh
        # Deeper than the configured zoom: rendered on demand, never looked up in the store.
        deep = WEB_MERCATOR_QUAD.tile(*PLACES[0], 9)
        path = f"/tiles/pre_a/9/{deep.x}/{deep.y}.mvt?v={tileset.version}"
        assert _cache(_get(client, path)) == "miss"


def test_interrupted_job_resumes_and_workers_share_chunks(
    publishing: Publishing, settings: Settings, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    publishing.publish(conn, LayerSpec("pre_b", "B"), _geojson(tmp_path / "b.geojson"))
    total = _job(conn, "pre_b").tiles_total

    # A worker stopped after two chunks: its progress is kept.
    first = _worker(conn, settings, "pre_b").drain(max_chunks=2)
    job = _job(conn, "pre_b")
    assert 0 < first == job.tiles_done < total and job.state == "running"

    # A worker killed mid-chunk: it claimed a chunk and stored a tile, then its connection died.
    dying = psycopg.connect(settings.database_url)  # not autocommit: one open transaction
    held = dying.execute(_CLAIM, {"tileset": "pre_b"}).fetchone()
    assert held is not None
    job_id, z, y, x_min, x_max, _, version = held
    dying.execute(
        "INSERT INTO webmap.prerendered_tiles (tileset, version, z, x, y, job_id, body) "
        "VALUES ('pre_b', %s, %s, %s, %s, %s, 'half')",
        [version, z, x_min, y, job_id],
    )
    # Meanwhile another worker renders everything else: the held chunk is skipped.
    chunk_tiles = x_max - x_min + 1
    second = _worker(conn, settings, "pre_b").drain()
    assert second == total - first - chunk_tiles
    assert _job(conn, "pre_b").state == "running"
    pid = dying.info.backend_pid
    dying.close()  # never committed: the server rolls the chunk's work back…
    for _ in range(100):  # …once its backend has noticed (the locks go with it)
        gone = conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
        if gone is None:
            break
        time.sleep(0.05)
    # The next worker takes the dead worker's chunk, and only it.
    third = _worker(conn, settings, "pre_b").drain()
    assert third == chunk_tiles
    job = _job(conn, "pre_b")
    assert job.state == "done" and job.tiles_done == total == first + second + third
    assert _stored(conn, "pre_b") == _planned(conn, "pre_b")
    half = conn.execute(
        "SELECT body FROM webmap.prerendered_tiles WHERE tileset = 'pre_b' "
        "AND z = %s AND x = %s AND y = %s",
        [z, x_min, y],
    ).fetchone()
    assert half is not None and bytes(half[0]) != b"half"


def test_newer_version_supersedes_and_rollback_revives(
    publishing: Publishing, settings: Settings, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    publishing.publish(conn, LayerSpec("pre_c", "C"), _geojson(tmp_path / "c1.geojson"))
    _worker(conn, settings, "pre_c").drain(max_chunks=1)
    old = _job(conn, "pre_c")
    assert old.tiles_done > 0 and _stored(conn, "pre_c")

    publishing.replace(conn, "pre_c", _geojson(tmp_path / "c2.geojson", shift=0.5))
    jobs = {j.version: j for j in status(conn, "pre_c", include_superseded=True)}
    assert jobs[old.version].state == "superseded"
    new = _job(conn, "pre_c")
    assert new.version != old.version and new.state == "queued"
    assert _stored(conn, "pre_c") == set()  # the old version's tiles are gone
    assert status(conn, "pre_c") == [new]  # --status hides superseded jobs unless asked

    _worker(conn, settings, "pre_c").drain()
    assert {v for v, *_ in _stored(conn, "pre_c")} == {new.version}
    assert _job(conn, "pre_c").state == "done"

    publishing.rollback(conn, "pre_c")
    revived = _job(conn, "pre_c")
    assert (revived.id, revived.version, revived.state) == (old.id, old.version, "queued")
    assert revived.tiles_done == 0
    assert {j.version: j.state for j in status(conn, "pre_c", include_superseded=True)} == {
        old.version: "queued",
        new.version: "superseded",
    }


def test_worker_outlives_a_dropped_connection(
    publishing: Publishing, settings: Settings, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    """The long-running worker: woken by a publish, and still working after its connections
    were killed (as by a database restart)."""

    def open_connection() -> psycopg.Connection[Any]:
        return psycopg.connect(settings.database_url, autocommit=True, application_name="pre_w")

    connect = Reconnecting(open_connection)
    worker = PrerenderWorker(connect, tile_options(settings), 8, only="pre_w")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(open_connection, stop, 0.5))
    thread.start()
    try:
        publishing.publish(conn, LayerSpec("pre_w", "W"), _geojson(tmp_path / "w1.geojson"))
        _wait_done(conn, "pre_w")
        killed = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'pre_w'"
        ).fetchall()
        assert len(killed) == 2  # the listener and the one that renders
        publishing.replace(conn, "pre_w", _geojson(tmp_path / "w2.geojson", shift=1.0))
        _wait_done(conn, "pre_w")
        assert _stored(conn, "pre_w") == _planned(conn, "pre_w")
    finally:
        stop.set()
        thread.join(10)
        connect.close()
    assert not thread.is_alive()


def _wait_done(conn: psycopg.Connection[Any], name: str) -> None:
    deadline = time.monotonic() + 60
    while _job(conn, name).state != "done":
        assert time.monotonic() < deadline, _job(conn, name)
        time.sleep(0.1)


def test_cli_renders_and_reports(
    publishing: Publishing, settings: Settings, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    publishing.publish(conn, LayerSpec("pre_d", "D"), _geojson(tmp_path / "d.geojson"))
    with app_with(settings.database_url) as app:
        runner = app.test_cli_runner()
        before = runner.invoke(main, ["tiles", "prerender", "pre_d", "--status", "--json"])
        assert before.exit_code == 0, before.output
        [queued] = json.loads(before.output)
        assert queued["state"] == "queued" and queued["tiles_done"] == 0
        run = runner.invoke(main, ["tiles", "prerender", "pre_d"])
        assert run.exit_code == 0, run.output
        assert f"Rendered {queued['tiles_total']} tiles." in run.output
        after = runner.invoke(main, ["tiles", "prerender", "pre_d", "--status"])
        assert re.search(r"pre_d\s+v\d+\s+z0-8\s+done\s+(\d+)/\1 tiles \(100 %\)", after.output)
        # Nothing left: a second run renders nothing and still succeeds.
        again = runner.invoke(main, ["tiles", "prerender", "pre_d"])
        assert again.exit_code == 0 and "Rendered 0 tiles." in again.output


def test_production_server_runs_the_worker(
    publishing: Publishing, settings: Settings, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    """``webmap serve --proxy`` starts the worker: a publish is rendered without anyone asking,
    and nginx's first (cold) request for a low-zoom tile is answered from the store."""
    runtime = Path(tempfile.mkdtemp(prefix="webmap-prerender-test-"))  # nginx must reach it
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = ProductionServer(
        port=port,
        runtime_dir=runtime,
        workers=1,
        threads=2,
        env={"WEBMAP_DATABASE_URL": settings.database_url, "WEBMAP_POOL_MIN_SIZE": "0"},
        prerender=True,
    )
    try:
        with server:
            publishing.publish(conn, LayerSpec("pre_e", "E"), _geojson(tmp_path / "e.geojson"))
            deadline = time.monotonic() + 60
            while _job(conn, "pre_e").state != "done":
                assert time.monotonic() < deadline, _job(conn, "pre_e")
                time.sleep(0.2)
            version = _job(conn, "pre_e").version
            tile = WEB_MERCATOR_QUAD.tile(*PLACES[1], 6)
            url = f"{server.base_url}/tiles/pre_e/6/{tile.x}/{tile.y}.mvt?v={version}"
            with urllib.request.urlopen(url, timeout=10) as answer:
                assert answer.headers["X-Cache-Status"] == "MISS"  # nginx had never seen it
                assert 'cache;desc="hit-stored"' in answer.headers["Server-Timing"]
            worker = server.prerender_process
            assert worker is not None and worker.poll() is None
        assert worker.poll() is not None  # stopped with the server
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def _get(client: FlaskClient, path: str, gzip: bool = False) -> Any:
    headers = {"Accept-Encoding": "gzip"} if gzip else {"Accept-Encoding": "identity"}
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, (path, answer.status_code)
    return answer


def _cache(answer: Any) -> str:
    found = re.search(r'cache;desc="([^"]+)"', answer.headers.get("Server-Timing", ""))
    assert found, answer.headers.get("Server-Timing")
    return found.group(1)
