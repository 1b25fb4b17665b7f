"""Nothing is lost: a killed ``webmap layers import`` or a client that disconnects halfway leaves
the live version serving byte-identical tiles, and no half-built table behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import psycopg
import pyogrio.raw
import pytest
import shapely
from flask import Flask

from layers.versions import drop_orphans
from tests.layers_helpers import raw_tile, tile_of, token_headers, upload
from tests.server_helpers import serve_in_thread
from webmap.cli import main

WEBMAP = Path(sys.executable).parent / "webmap"
LAYER = "interrupted"
TILE = tile_of(18.05, 59.33, 12)


def _squares(path: Path, n: int, seed: int) -> Path:
    """``n`` small squares over Stockholm as FlatGeobuf (fast to read, slow enough to store)."""
    rng = np.random.default_rng(seed)
    x = 17.9 + rng.random(n) * 0.3
    y = 59.25 + rng.random(n) * 0.15
    geoms = shapely.box(x, y, x + 0.0003, y + 0.0002)
    pyogrio.raw.write(
        str(path),
        shapely.to_wkb(geoms),
        [np.arange(n)],
        ["nr"],
        driver="FlatGeobuf",
        geometry_type="Polygon",
        crs="EPSG:4326",
    )
    return path


@pytest.fixture(scope="module")
def live_v1(sample_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app with layer ``interrupted`` published once (version 1) through the CLI."""
    from webmap import create_app

    app = create_app({"database_url": sample_database, "catalog_ttl": 0, "pool_min_size": 0})
    app.config["TESTING"] = True
    small = _squares(tmp_path_factory.mktemp("v1") / "small.fgb", 2_000, seed=1)
    result = app.test_cli_runner().invoke(
        main, ["layers", "import", str(small), "--name", LAYER, "--title", "Avbrutet"]
    )
    assert result.exit_code == 0, result.output
    assert f"{LAYER} version 1 is live: 2000 of 2000 features stored" in result.output
    yield app
    app.extensions["webmap.pool"].close()


class _FinishedRequests:
    """The WSGI app, counting the requests it has finished with (answered, failed or dropped)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.finished = 0
        self.changed = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        try:
            yield from self.app(environ, start_response)
        finally:
            with self.changed:
                self.finished += 1
                self.changed.notify_all()

    def wait_finished(self, count: int, timeout: float = 60.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.finished >= count, timeout)


def _live_version(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT version FROM webmap.layers WHERE name = %s", [LAYER]).fetchone()
    assert row is not None
    return int(row[0])


def _tables(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE %s ORDER BY 1", [f"{LAYER}_v%"]
        ).fetchall()
    return [str(r[0]) for r in rows]


def _wait_for_copy(database_url: str, timeout: float = 60.0) -> None:
    """Block until the CLI's connection is streaming features (COPY) into the new table."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = 'webmap-cli' AND query LIKE 'COPY%%'"
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the import never reached COPY")


def test_import_killed_halfway_leaves_the_live_version_serving(
    live_v1: Flask, sample_database: str, tmp_path: Path
) -> None:
    client = live_v1.test_client()
    before = raw_tile(client, LAYER, TILE, 1)
    assert before
    big = _squares(tmp_path / "big.fgb", 150_000, seed=2)
    env = {**os.environ, "WEBMAP_DATABASE_URL": sample_database}
    process = subprocess.Popen(
        [str(WEBMAP), "layers", "import", str(big), "--name", LAYER],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_copy(sample_database)
        time.sleep(0.5)  # well into the stream of features
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL

    # PostgreSQL ends the dead client's session: its transaction (and table) is rolled back.
    deadline = time.monotonic() + 10
    while _tables(sample_database) != [f"{LAYER}_v1"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _tables(sample_database) == [f"{LAYER}_v1"]
    assert _live_version(sample_database) == 1
    assert raw_tile(client, LAYER, TILE, 1) == before
    with psycopg.connect(sample_database, autocommit=True) as conn:
        assert drop_orphans(conn) == []

    # The lock died with the process: the next import goes through and becomes version 2.
    redo = live_v1.test_cli_runner().invoke(
        main, ["layers", "import", str(_squares(tmp_path / "redo.fgb", 500, 3)), "--name", LAYER]
    )
    assert redo.exit_code == 0, redo.output
    assert _live_version(sample_database) == 2
    assert raw_tile(client, LAYER, TILE, 2) != before
    rolled = live_v1.test_cli_runner().invoke(main, ["layers", "rollback", LAYER])
    assert rolled.exit_code == 0 and "version 1 is live" in rolled.output
    assert raw_tile(client, LAYER, TILE, 1) == before


def test_client_disconnecting_halfway_changes_nothing(live_v1: Flask, sample_database: str) -> None:
    client = live_v1.test_client()
    version = _live_version(sample_database)
    before = raw_tile(client, LAYER, TILE, version)
    tables = _tables(sample_database)
    headers = token_headers(sample_database, "publish", "disconnect")
    requests = _FinishedRequests(live_v1)
    with serve_in_thread(requests) as base_url:  # its readiness check is request 1
        boundary = "xyzzy"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nNy\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="big.geojson"\r\nContent-Type: application/geo+json\r\n\r\n'
            '{"type": "FeatureCollection", "features": ['
        ).encode()
        request = (
            f"PUT /api/layers/{LAYER} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: {headers['Authorization']}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {5_000_000}\r\n\r\n"
        ).encode()
        address = urlsplit(base_url)
        with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
            sock.sendall(request + head + b'{"type": "Feature", "properties": {}, ' * 2000)
        assert requests.wait_finished(2), "the server never finished the abandoned upload"
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=30) as health:
            assert health.status == 200  # and it goes on serving
    assert _live_version(sample_database) == version
    assert _tables(sample_database) == tables
    assert raw_tile(client, LAYER, TILE, version) == before


def test_concurrent_uploads_to_one_layer_are_serialised(
    live_v1: Flask, sample_database: str, tmp_path: Path
) -> None:
    """Two uploads at once both succeed, one after the other, as two consecutive versions."""
    headers = token_headers(sample_database, "publish", "concurrent")
    data = [_squares(tmp_path / f"c{i}.fgb", 20_000, seed=10 + i).read_bytes() for i in range(2)]
    before = _live_version(sample_database)
    results: list[int] = []

    def put(body: bytes) -> None:
        client = live_v1.test_client()
        response = upload(client, headers, body, "c.fgb", LAYER, method="PUT")
        results.append(response.status_code)

    threads = [threading.Thread(target=put, args=(body,)) for body in data]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [200, 200]
    with psycopg.connect(sample_database) as conn:
        rows = conn.execute(
            "SELECT version, feature_count FROM webmap.layer_versions "
            "WHERE layer_name = %s ORDER BY version DESC LIMIT 2",
            [LAYER],
        ).fetchall()
    (newest, newest_count), (previous, previous_count) = rows
    assert newest == previous + 1 and previous > before
    assert newest_count == previous_count == 20_000
    assert _live_version(sample_database) == newest


def test_uploads_outlast_the_statement_timeout_and_quick_writes_say_busy(
    sample_database: str, tmp_path: Path
) -> None:
    from webmap import create_app

    app = create_app(
        {
            "database_url": sample_database,
            "catalog_ttl": 0,
            "pool_min_size": 0,
            "statement_timeout_ms": 100,
        }
    )
    client = app.test_client()
    headers = token_headers(sample_database, "publish", "timeouts")
    body = _squares(tmp_path / "slow.fgb", 40_000, seed=20).read_bytes()
    response = upload(client, headers, body, "slow.fgb", LAYER, method="PUT")
    assert response.status_code == 200, response.get_json()
    with psycopg.connect(sample_database) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"layer:{LAYER}"])
        busy = client.post(f"/api/layers/{LAYER}/rollback", headers=headers)
        assert busy.status_code == 409 and busy.get_json()["type"] == "/problems/layer-busy"
    app.extensions["webmap.pool"].close()


def test_clean_drops_orphaned_version_tables_only(live_v1: Flask, sample_database: str) -> None:
    with psycopg.connect(sample_database, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE layerdata.{LAYER}_v999 (fid bigint)")
        conn.execute("CREATE TABLE layerdata.someone_elses_table_v1 (id int)")
    result = live_v1.test_cli_runner().invoke(main, ["layers", "clean"])
    assert result.exit_code == 0 and f"{LAYER}_v999" in result.output
    tables = _tables(sample_database)
    assert f"{LAYER}_v999" not in tables and f"{LAYER}_v1" in tables
    with psycopg.connect(sample_database, autocommit=True) as conn:
        kept = conn.execute("SELECT to_regclass('layerdata.someone_elses_table_v1')").fetchone()
        assert kept is not None and kept[0] is not None
        conn.execute("DROP TABLE layerdata.someone_elses_table_v1")
