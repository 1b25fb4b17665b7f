"""Read replicas (``WEBMAP_DATABASE_READ_URLS``) against a real streaming replica.

A throwaway primary cluster and a hot standby made from it with ``pg_basebackup -R`` (both on
free ports, removed afterwards; the shared server on 5432 is never touched). Reads go to the
replica once it has replayed what the catalog names; while its replay is paused, a version
published on the primary is answered by the primary, correctly; after resuming, the replica
answers again; with the replica down, the primary answers and /readyz says "degraded", not 503.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import mapbox_vector_tile
import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from layers.catalog import wal_insert_position
from layers.lookup.sample import load_lookup_sample
from layers.schema import upgrade
from tests.app_helpers import app_with
from tests.conftest import DATA_DIR
from tests.layers_helpers import tile_of, token_headers, upload
from tests.throwaway_pg import StreamingReplica, ThrowawayPostgres, bindir, missing_reason
from webmap.db_routing import replayed_position
from webmap.settings import Settings

LAYER = "replicated"
CAUGHT_UP_BOUND = 30.0  # seconds for the replica to replay a small upload on a loaded machine
TILE = tile_of(18.0702, 59.33, 14)


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[str, str]]:
    """URLs of the ``webmap`` database on a throwaway primary and on its streaming replica."""
    reason = missing_reason()
    if reason is None and not (bindir() / "pg_basebackup").is_file():
        reason = "pg_basebackup is not installed"
    if reason is not None:
        pytest.skip(reason)
    with ThrowawayPostgres() as primary:
        url = primary.create_database("webmap")
        upgrade(url)
        with psycopg.connect(url) as conn:
            load_lookup_sample(conn, DATA_DIR)
        with StreamingReplica(primary) as replica:
            yield url, replica.url("webmap")


@pytest.fixture(scope="module")
def app(cluster: tuple[str, str]) -> Iterator[Flask]:
    """The app on the primary with the replica as its read URL; no tile cache, so every tile
    request reads the database."""
    primary, replica = cluster
    with app_with(primary, database_read_urls=replica, tile_cache_bytes=0) as application:
        yield application


def reads() -> dict[str, float]:
    """``webmap_db_reads_total`` of this process, by server."""
    return {
        server: REGISTRY.get_sample_value("webmap_db_reads_total", {"server": server}) or 0.0
        for server in ("primary", "replica")
    }


def served_by(request: Callable[[], Any]) -> tuple[Any, str]:
    """The answer of ``request()`` and which server its one routed read went to."""
    before = reads()
    answer = request()
    after = reads()
    moved = {server: after[server] - before[server] for server in after}
    assert sorted(moved.values()) == [0.0, 1.0], moved  # exactly one routed read
    return answer, max(moved, key=lambda server: moved[server])


def caught_up(primary: str, replica: str) -> None:
    """Wait until the replica has replayed everything the primary has written (the router's
    own measure: webmap.db_routing)."""
    deadline = time.monotonic() + CAUGHT_UP_BOUND
    with psycopg.connect(primary) as source, psycopg.connect(replica, autocommit=True) as copy:
        written = wal_insert_position(source)
        while replayed_position(copy) < written:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)


def points(count: int) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"n": i},
            "geometry": {"type": "Point", "coordinates": [18.07 + i * 1e-4, 59.33]},
        }
        for i in range(count)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def tile_path(client: FlaskClient) -> tuple[str, int]:
    """The versioned URL path of :data:`TILE` from the layer's TileJSON, and that version."""
    template = client.get(f"/tiles/{LAYER}.json").get_json()["tiles"][0]
    url = urlsplit(template.format(z=TILE.z, x=TILE.x, y=TILE.y))
    return f"{url.path}?{url.query}", int(url.query.split("v=")[1].split("&")[0])


def features_in(answer: Any) -> int:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return len(mapbox_vector_tile.decode(answer.data)[LAYER]["features"])


def ogc_count(client: FlaskClient) -> tuple[int, str]:
    answer, server = served_by(lambda: client.get(f"/ogc/collections/{LAYER}/items?limit=100"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return len(answer.get_json()["features"]), server


def search(client: FlaskClient) -> tuple[Any, str]:
    answer, server = served_by(lambda: client.get("/api/search?q=Grev%20Turegatan%201"))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json(), server


def test_read_urls_are_split_on_commas_and_spaces() -> None:
    urls = "postgresql://a/webmap, postgresql://b/webmap postgresql://c/webmap"
    assert Settings(database_read_urls=urls).read_urls == [
        "postgresql://a/webmap",
        "postgresql://b/webmap",
        "postgresql://c/webmap",
    ]
    assert Settings().read_urls == []
    with pytest.raises(ValueError, match="WEBMAP_DATABASE_READ_URLS"):
        Settings(database_read_urls="postgresql://a/webmap,mysql://b/webmap")


def test_reads_follow_the_replica_only_when_it_holds_the_version(
    cluster: tuple[str, str], app: Flask
) -> None:
    primary, replica = cluster
    client = app.test_client()
    staff = token_headers(primary, "publish", "replicas")
    created = upload(client, staff, points(5), "p.geojson", LAYER)
    assert created.status_code == 201, created.get_json()
    caught_up(primary, replica)

    path, first = tile_path(client)
    tile, server = served_by(lambda: client.get(path))
    assert server == "replica" and features_in(tile) == 5
    assert ogc_count(client) == (5, "replica")
    found, server = search(client)
    assert server == "replica" and found["features"], found
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ready" and ready["checks"]["replica-1"] == "ok"

    with psycopg.connect(replica, autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            while standby.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() != (
                "paused",
            ):
                time.sleep(0.02)
            replaced = upload(client, staff, points(7), "p.geojson", LAYER, method="PUT")
            assert replaced.status_code in (200, 201), replaced.get_json()
            # The replica still holds only the first version (and not the second's table).
            held = standby.execute(
                "SELECT max(version) FROM webmap.layer_versions WHERE layer_name = %s", [LAYER]
            ).fetchone()
            assert held == (first,)

            path, second = tile_path(client)  # TileJSON names the new version at once
            assert second > first
            tile, server = served_by(lambda: client.get(path))
            assert server == "primary" and features_in(tile) == 7
            assert ogc_count(client) == (7, "primary")
            paused_search, server = search(client)
            assert server == "primary" and paused_search == found
            ready = client.get("/readyz")
            assert ready.status_code == 200  # a lagging replica does not drain the node
            assert ready.get_json()["status"] == "degraded"
            assert ready.get_json()["checks"]["replica-1"].startswith("behind")
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")

    caught_up(primary, replica)
    tile, server = served_by(lambda: client.get(path))
    assert server == "replica" and features_in(tile) == 7
    assert ogc_count(client) == (7, "replica")


def test_a_replica_down_falls_back_to_the_primary_and_only_degrades_readiness(
    cluster: tuple[str, str],
) -> None:
    primary, _ = cluster
    silent = "postgresql://postgres@127.0.0.1:1/webmap"  # nothing listens there
    with app_with(primary, database_read_urls=silent) as app:
        client = app.test_client()
        started = time.monotonic()
        for _ in range(2):  # the second finds the replica known down: no attempt at all
            found, server = search(client)
            assert server == "primary" and found["features"]
        ready = client.get("/readyz")
        assert time.monotonic() - started < 10
    assert ready.status_code == 200
    body = ready.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["replica-1"].startswith("unreachable")
