"""A database outage, for real: a throwaway PostgreSQL is stopped and started under a live server.

The app runs under werkzeug's threaded HTTP server on a throwaway cluster (never the shared one on
5432; see :mod:`tests.throwaway_pg`) with one sample layer, so every timing below is a real
request's. While the database is down, anything that needs it answers 503 problem JSON with
``Retry-After`` within about a second, and a cached tile is still served; once the database is
back, the first request succeeds — also when the restart went unnoticed and every pooled
connection died with the old server.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError
from werkzeug.serving import make_server

from layers.sample import load_sample
from layers.schema import upgrade
from tests.app_helpers import app_with
from tests.throwaway_pg import ThrowawayPostgres, missing_reason
from webmap import create_app
from webmap.settings import Settings

pytestmark = pytest.mark.skipif(
    missing_reason() is not None, reason=f"needs a throwaway PostgreSQL: {missing_reason()}"
)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
# Aim: 1 s. The slack is for a loaded two-core machine, not for a pool timeout (10 s).
FAST = 1.5
# z6 tiles over Stockholm and over Sundsvall: both draw counties, neither is the other.
CACHED_TILE = (6, 35, 18)
UNCACHED_TILE = (6, 34, 16)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def problem(self) -> dict[str, object]:
        assert self.headers.get("content-type") == "application/problem+json", self.headers
        found: dict[str, object] = json.loads(self.body)
        return found


class Server:
    """The app on a free port of 127.0.0.1, one fresh HTTP connection per request."""

    def __init__(self, port: int) -> None:
        self.port = port

    def get(self, path: str) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        started = time.monotonic()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return Answer(response.status, headers, body, time.monotonic() - started)


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[ThrowawayPostgres, str]]:
    """A throwaway cluster with the schema and one sample layer (counties); always removed."""
    with ThrowawayPostgres() as pg:
        url = pg.create_database("webmap")
        upgrade(url)
        with psycopg.connect(url) as conn:
            load_sample(conn, DATA_DIR, only={"counties"})
        yield pg, url


@pytest.fixture
def server(cluster: tuple[ThrowawayPostgres, str]) -> Iterator[Server]:
    """The app under a real threaded HTTP server; the cluster is running again afterwards."""
    pg, url = cluster
    with app_with(url, pool_max_size=8) as app:
        httpd = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield Server(httpd.server_port)
        finally:
            httpd.shutdown()
            thread.join(timeout=10)
            httpd.server_close()
            if not pg.is_running():
                pg.start()


def _versioned(server: Server, tile: tuple[int, int, int]) -> str:
    template = json.loads(server.get("/tiles/basemap.json").body)["tiles"][0]
    path = template.split("://", 1)[1].split("/", 1)[1]
    z, x, y = tile
    return "/" + path.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def _assert_refused_fast(answer: Answer, what: str) -> None:
    assert answer.status == 503, (what, answer.status, answer.body[:300])
    problem = answer.problem()
    assert problem["status"] == 503 and problem["type"] == "/problems/database-unavailable"
    assert answer.headers.get("retry-after") == "1", (what, answer.headers)
    assert answer.seconds <= FAST, f"{what} took {answer.seconds:.2f} s while the database was down"


def test_outage_fails_fast_keeps_cached_tiles_and_recovers(
    cluster: tuple[ThrowawayPostgres, str], server: Server
) -> None:
    pg, _ = cluster
    cached_path = _versioned(server, CACHED_TILE)
    uncached_path = _versioned(server, UNCACHED_TILE)
    warm = server.get(cached_path)
    assert warm.status == 200 and len(warm.body) > 100, warm
    assert server.get("/api/search?q=Storgatan").status == 200
    assert server.get("/healthz").status == 200

    pg.stop("immediate")
    last_refusal = time.monotonic()
    # Three rounds over more than the 1 s down window: the probe after it is refused too.
    for _ in range(3):
        for what in ("/api/search?q=Storgatan", "/healthz", uncached_path):
            _assert_refused_fast(server.get(what), what)
            last_refusal = time.monotonic()
        tile = server.get(cached_path)
        assert tile.status == 200 and tile.body == warm.body, (tile.status, tile.body[:200])
        assert tile.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert tile.seconds <= FAST
        time.sleep(0.6)

    pg.start()
    # A client that honours Retry-After: 1 asks again a second after its last refusal.
    time.sleep(max(0.0, last_refusal + 1.05 - time.monotonic()))
    first = server.get("/api/search?q=Storgatan")
    assert first.status == 200, (first.status, first.body[:300])
    assert first.seconds <= FAST
    statuses = [server.get(p).status for p in ("/healthz", uncached_path, cached_path) * 4][:10]
    assert statuses == [200] * 10
    assert server.get(uncached_path).body != warm.body  # rendered now, not the cached one


def test_first_request_after_unnoticed_restart_succeeds(
    cluster: tuple[ThrowawayPostgres, str], server: Server
) -> None:
    """Every pooled connection died with the old server; none of them is handed out."""
    pg, _ = cluster
    with ThreadPoolExecutor(8) as pool:  # several connections in the pool, all idle afterwards
        warm = list(pool.map(lambda _: server.get("/api/search?q=Storgatan").status, range(16)))
    assert warm == [200] * 16
    pg.stop("immediate")
    pg.start()
    answers = [server.get(p) for p in ("/api/search?q=Storgatan", "/healthz") * 5]
    assert [a.status for a in answers] == [200] * 10, [a.body[:200] for a in answers]
    assert answers[0].seconds <= FAST


def test_unreachable_database_answers_503_with_retry_after_at_once() -> None:
    """No server at all on the port: the first request learns it from one refused connection."""
    app = create_app(
        {"database_url": "postgresql://postgres@127.0.0.1:1/none", "db_retry_after": 7}
    )
    client = app.test_client()
    try:
        for _ in range(3):
            started = time.monotonic()
            response = client.get("/healthz")
            assert time.monotonic() - started <= FAST
            assert response.status_code == 503
            assert response.mimetype == "application/problem+json"
            assert response.headers["Retry-After"] == "7"
    finally:
        app.extensions["webmap.pool"].close()


def test_database_timeouts_are_checked() -> None:
    assert Settings(db_connect_timeout=5, db_retry_after=3).db_connect_timeout == 5
    with pytest.raises(ValidationError, match="db_connect_timeout"):
        Settings(db_connect_timeout=1)  # libpq would quietly make it 2
    with pytest.raises(ValidationError, match="db_retry_after"):
        Settings(db_retry_after=0)
