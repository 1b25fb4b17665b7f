"""``/metrics`` (Prometheus text, off by default, staff token or allowed address) and
``Server-Timing`` on tiles and lookups; the sum over gunicorn workers (issue 11 §4)."""

from __future__ import annotations

import concurrent.futures
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from staff.tokens import create_token
from tests.app_helpers import app_with
from tests.throwaway_redis import redis_for_tests
from tests.tile_helpers import tile_of
from webmap.cli.production import UnixHTTPConnection
from webmap.http.metrics import zoom_band

STOCKHOLM_Z15 = tile_of(18.0705, 59.3382, 15)
TILE_PATH = f"/tiles/basemap/15/{STOCKHOLM_Z15.x}/{STOCKHOLM_Z15.y}.mvt"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text answer, by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _sum(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


@pytest.fixture
def metrics_app(sample_database: str) -> Iterator[Flask]:
    # The catalog kept for a minute, as in production (2 s): a cache hit then needs no database.
    with app_with(
        sample_database, metrics=True, metrics_allow="127.0.0.1", catalog_ttl=60
    ) as application:
        yield application


def _scrape(
    client: FlaskClient, **kwargs: Any
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"
    return _samples(response.get_data(as_text=True))


def test_metrics_are_off_by_default(client: FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_metrics_need_an_allowed_address_or_a_staff_token(sample_database: str) -> None:
    with app_with(sample_database, metrics=True, metrics_allow="10.0.0.0/8") as application:
        client = application.test_client()  # asks from 127.0.0.1, not in 10.0.0.0/8
        refused = client.get("/metrics")
        assert refused.status_code == 403
        assert refused.mimetype == "application/problem+json"
        wrong = client.get("/metrics", headers={"Authorization": "Bearer wm_wrong"})
        assert wrong.status_code == 401
        with psycopg.connect(sample_database, autocommit=True) as conn:
            _, secret = create_token(
                conn, f"scraper-{uuid.uuid4().hex[:8]}", scope="read", instance_admin=True
            )
        _scrape(client, headers={"Authorization": f"Bearer {secret}"})
        # An address in the list needs no token.
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200


def test_bad_allow_list_fails_at_start(sample_database: str) -> None:
    with (
        pytest.raises(ValueError, match="not-an-address"),
        app_with(sample_database, metrics_allow="127.0.0.1,not-an-address"),
    ):
        pass


def test_tile_counters_and_server_timing_move(metrics_app: Flask) -> None:
    client = metrics_app.test_client()
    before = _scrape(client)
    miss = client.get(TILE_PATH)
    assert miss.status_code == 200
    timing = miss.headers["Server-Timing"]
    assert re.search(r'cache;desc="miss";dur=[0-9.]+', timing), timing
    assert re.search(r"\bdb;dur=[0-9.]+", timing) and re.search(r"\brender;dur=", timing), timing
    assert re.search(r"\bpool;dur=", timing) and re.search(r"\btotal;dur=", timing), timing
    hit = client.get(TILE_PATH)
    assert hit.status_code == 200
    assert re.search(r'cache;desc="hit-memory";dur=[0-9.]+', hit.headers["Server-Timing"])
    assert "db;" not in hit.headers["Server-Timing"]  # a hit never touches the database
    after = _scrape(client)

    def delta(name: str, **labels: str) -> float:
        return _sum(after, name, **labels) - _sum(before, name, **labels)

    tile = {"family": "tiles", "layer": "basemap", "zoom": "z15+"}
    assert delta("webmap_http_requests_total", status="200", **tile) == 2
    assert delta("webmap_http_request_duration_seconds_count", **tile) == 2
    assert delta("webmap_tile_cache_lookups_total", level="memory", result="miss") == 1
    assert delta("webmap_tile_cache_lookups_total", level="memory", result="hit") == 1
    assert delta("webmap_tile_response_bytes_count", layer="basemap") == 2
    assert delta("webmap_tile_response_bytes_sum", layer="basemap") == len(miss.data) + len(
        hit.data
    )
    assert delta("webmap_db_pool_wait_seconds_count") >= 1
    # /metrics itself is counted as "other" once it has answered.
    assert delta("webmap_http_requests_total", family="other") >= 1


def test_redis_level_is_counted_apart(sample_database: str) -> None:
    with redis_for_tests() as url:
        settings = {"metrics": True, "metrics_allow": "127.0.0.1", "redis_url": url}
        with app_with(sample_database, **settings) as first:
            assert first.test_client().get(TILE_PATH).status_code == 200  # now in Redis
        with app_with(sample_database, **settings) as second:  # another worker: memory empty
            client = second.test_client()
            before = _scrape(client)
            answer = client.get(TILE_PATH)
            after = _scrape(client)
    assert answer.status_code == 200
    assert 'cache;desc="hit-redis"' in answer.headers["Server-Timing"]
    for level, result in (("memory", "miss"), ("redis", "hit")):
        name = "webmap_tile_cache_lookups_total"
        moved = _sum(after, name, level=level, result=result) - _sum(
            before, name, level=level, result=result
        )
        assert moved == 1, (level, result)


def test_labels_stay_bounded(metrics_app: Flask) -> None:
    client = metrics_app.test_client()
    secret_path = "/tiles/no_such_layer_xyz/3/1/2.mvt"
    assert client.get(secret_path).status_code == 404
    # A marker no other test uses: the registry is the process's, shared with earlier tests
    # (one of which publishes a layer called secret_points).
    assert client.get("/tiles/basemap/99/1/2.mvt?q=zz_query_marker").status_code == 400
    text = client.get("/metrics").get_data(as_text=True)
    assert "no_such_layer_xyz" not in text and "zz_query_marker" not in text
    samples = _samples(text)
    assert _sum(samples, "webmap_http_requests_total", family="tiles", layer="unknown") >= 1
    assert _sum(samples, "webmap_http_requests_total", zoom="invalid") >= 1
    for (_name, labels), _value in samples.items():
        for key, value in labels:
            assert "/" not in value or key == "le", (key, value)


def test_search_and_reverse_carry_server_timing(metrics_app: Flask) -> None:
    client = metrics_app.test_client()
    before = _scrape(client)
    search = client.get("/api/search", query_string={"q": "grev tu"})
    assert search.status_code == 200
    assert re.search(r"\bdb;dur=[0-9.]+", search.headers["Server-Timing"])
    assert "cache;" not in search.headers["Server-Timing"]
    reverse = client.get("/api/reverse", query_string={"lon": 18.0705, "lat": 59.3382})
    assert reverse.status_code == 200
    assert re.search(r"\bdb;dur=[0-9.]+", reverse.headers["Server-Timing"])
    assert "Server-Timing" not in client.get("/healthz").headers  # only tiles and lookups
    after = _scrape(client)
    for family in ("search", "reverse"):
        moved = _sum(after, "webmap_http_requests_total", family=family, status="200") - _sum(
            before, "webmap_http_requests_total", family=family, status="200"
        )
        assert moved == 1, family


def test_database_errors_are_counted(sample_database: str) -> None:
    # Nothing listens on port 1: the connection is refused, the answer is 503.
    with app_with(
        "postgresql://postgres@127.0.0.1:1/nowhere", metrics=True, metrics_allow="127.0.0.1"
    ) as application:
        client = application.test_client()
        before = _samples(client.get("/metrics").get_data(as_text=True))
        assert client.get("/api/search", query_string={"q": "grev"}).status_code == 503
        after = _samples(client.get("/metrics").get_data(as_text=True))
    errors = _sum(after, "webmap_db_errors_total") - _sum(before, "webmap_db_errors_total")
    assert errors == 1


def test_zoom_bands() -> None:
    assert [zoom_band(z) for z in (0, 5, 6, 10, 11, 14, 15, 22)] == [
        "z0-5",
        "z0-5",
        "z6-10",
        "z6-10",
        "z11-14",
        "z11-14",
        "z15+",
        "z15+",
    ]
    assert zoom_band("x") == zoom_band(-1) == zoom_band(99) == "invalid"


# --- several gunicorn workers ----------------------------------------------------------------


def _get(sock: Path, path: str) -> tuple[int, bytes]:
    # As the shipped nginx sends it: the client's address in X-Forwarded-For (WEBMAP_PROXY_HOPS=1).
    conn = UnixHTTPConnection(str(sock), timeout=30)
    try:
        conn.request("GET", path, headers={"Host": "localhost", "X-Forwarded-For": "127.0.0.1"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _wait_for(sock: Path, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, f"webmap serve exited with {process.returncode}"
        try:
            _get(sock, "/healthz")
            return
        except OSError:
            assert time.monotonic() < deadline, "gunicorn did not answer in time"
            time.sleep(0.1)


def _worker_pids(folder: Path) -> set[str]:
    return {m.group(1) for f in folder.iterdir() if (m := re.match(r"counter_(\d+)\.db$", f.name))}


def test_metrics_sum_over_gunicorn_workers(sample_database: str, tmp_path: Path) -> None:
    sock = tmp_path / "gunicorn.sock"
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left over from an earlier run")
    env = dict(
        os.environ,
        WEBMAP_DATABASE_URL=sample_database,
        WEBMAP_METRICS="1",
        WEBMAP_METRICS_ALLOW="127.0.0.1",
        WEBMAP_PROXY_HOPS="1",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "webmap.cli", "serve", "--socket", str(sock)]
    server = subprocess.Popen(
        [*command, "--workers", "2", "--threads", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(sock, server)
        assert not (folder / "counter_999999.db").exists()  # a fresh folder on every start
        made = 1  # the readiness request
        paths = [f"/api/search?q=grev+tu&i={i}" for i in range(16)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            # Concurrent rounds until both workers have answered some (the kernel picks).
            for _ in range(10):
                statuses = list(pool.map(lambda p: _get(sock, p)[0], paths))
                assert statuses == [200] * len(paths)
                made += len(paths)
                if len(_worker_pids(folder)) >= 2:
                    break
        assert len(_worker_pids(folder)) == 2, "both workers should have answered requests"
        status, body = _get(sock, "/metrics")
        assert status == 200, body
        samples = _samples(body.decode())
        assert _sum(samples, "webmap_http_requests_total") >= made
        assert _sum(samples, "webmap_http_requests_total", family="search") == made - 1
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert not folder.exists()  # removed when the server stops
