"""Two ``webmap serve`` processes on one database and one Redis behave as one service.

Two real gunicorn servers (the production entry point, one worker each) on free ports, sharing
the session's database and a Redis: a staff login made on node A works on node B and a logout on
A ends it on B (sessions live in PostgreSQL); failed logins count across nodes (Redis); and an
upload published through A is served by B within the catalog snapshot's lifetime
(``WEBMAP_CATALOG_TTL``, 2 s by default; docs/deploy.md, "Several app nodes").
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import mapbox_vector_tile
import psycopg
import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from staff.accounts import set_user
from tests.layers_helpers import tile_of, token_headers
from tests.server_helpers import wait_until_ready
from tests.throwaway_pg import free_port
from tests.throwaway_redis import redis_for_tests

TTL = 2.0  # WEBMAP_CATALOG_TTL of both nodes: the documented bound of a new version's spread
BOUND = TTL + 1.0  # plus a poll interval and a loaded machine's slack
PASSWORD = "a long staff password"
COOKIE = "webmap_staff"


@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    base: str,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One HTTP request to a node; any status is an answer."""
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as answered:
        with answered:
            return Answer(answered.code, answered.headers, answered.read())


@pytest.fixture(scope="module")
def nodes(sample_database: str) -> Iterator[tuple[str, str]]:
    """Base URLs of two ``webmap serve`` processes sharing the database and a Redis."""
    with redis_for_tests() as redis_url:
        env = {
            **os.environ,
            "WEBMAP_DATABASE_URL": sample_database,
            "WEBMAP_REDIS_URL": redis_url,
            "WEBMAP_CATALOG_TTL": str(TTL),
            "WEBMAP_SECRET_KEY": "two-nodes-share-this-secret",
            "WEBMAP_POOL_MIN_SIZE": "0",
            # The test sends X-Forwarded-For (a fresh address per run), as nginx would.
            "WEBMAP_PROXY_HOPS": "1",
        }
        processes: list[subprocess.Popen[bytes]] = []
        bases: list[str] = []
        try:
            for _ in range(2):
                port = free_port()
                command = [sys.executable, "-m", "webmap.cli", "serve", "--port", str(port)]
                processes.append(
                    subprocess.Popen(
                        [*command, "--workers", "1", "--threads", "4"],
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                bases.append(f"http://127.0.0.1:{port}")
            for base, process in zip(bases, processes, strict=True):
                status, _ = wait_until_ready(base + "/healthz", process=process)
                assert status == 200
            yield bases[0], bases[1]
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def user(sample_database: str) -> str:
    """A fresh login (Redis keeps failure counts for 15 minutes: a new name per run)."""
    name = f"two-nodes.{uuid.uuid4().hex[:10]}"
    with psycopg.connect(sample_database) as conn:
        set_user(conn, name, PASSWORD, instance_admin=True)
    return name


def login(base: str, user: str, password: str, address: str) -> Answer:
    body = json.dumps({"username": user, "password": password}).encode()
    headers = {"Content-Type": "application/json", "X-Forwarded-For": address}
    return call(base, "/login", "POST", body, headers)


def staff_cookie(answer: Answer) -> str:
    for header in answer.headers.get_all("Set-Cookie") or []:
        if header.startswith(f"{COOKIE}="):
            return header.split(";", 1)[0]
    raise AssertionError(f"no {COOKIE} cookie in {answer.headers}")


def test_a_login_on_one_node_works_on_the_other_until_logout(
    nodes: tuple[str, str], user: str
) -> None:
    a, b = nodes
    answer = login(a, user, PASSWORD, "10.1.2.3")
    assert answer.status == 200, answer.body
    cookie, csrf = staff_cookie(answer), answer.json()["csrf_token"]
    assert call(b, "/api/session", headers={"Cookie": cookie}).status == 200
    out = call(
        a,
        "/logout",
        "POST",
        headers={"Cookie": cookie, "X-CSRF-Token": csrf, "Accept": "application/json"},
    )
    assert out.status == 204
    gone = call(b, "/api/session", headers={"Cookie": cookie})
    assert gone.status == 401 and gone.headers["Content-Type"] == "application/problem+json"


def test_failed_logins_count_across_nodes(nodes: tuple[str, str], user: str) -> None:
    a, b = nodes
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.9"
    for base in (a, b, a, b):
        assert login(base, user, "wrong", address).status == 401
    assert login(b, user, "wrong", address).status == 401  # the fifth failure, on B
    for base in (a, b):  # now locked on both nodes, even with the right password
        refused = login(base, user, PASSWORD, address)
        assert refused.status == 429, refused.body
        assert int(refused.headers["Retry-After"]) > 0


def points(count: int, lon: float = 18.07) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"n": i},
            "geometry": {"type": "Point", "coordinates": [lon + i * 1e-4, 59.33]},
        }
        for i in range(count)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def publish(base: str, staff: dict[str, str], name: str, data: bytes, method: str) -> Answer:
    form: dict[str, Any] = {"file": FileStorage(io.BytesIO(data), "p.geojson")}
    if method == "POST":
        form |= {"name": name, "title": f"Test {name}"}
    boundary, encoded = encode_multipart(form)
    headers = {**staff, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    path = "/api/layers" if method == "POST" else f"/api/layers/{name}"
    return call(base, path, method, encoded, headers)


def version_seen(base: str, name: str) -> str | None:
    """The data version in the node's tile URLs for ``name`` (``?v=``), None when unknown."""
    answer = call(base, f"/tiles/{name}.json")
    if answer.status != 200:
        return None
    return parse_qs(urlsplit(answer.json()["tiles"][0]).query)["v"][0]


def wait_for_version(base: str, name: str, version: str) -> float:
    """Seconds until the node serves ``version`` of ``name``; fails after :data:`BOUND`."""
    started = time.monotonic()
    while (seen := version_seen(base, name)) != version:
        assert time.monotonic() - started < BOUND, f"{base} still serves {seen!r}"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_layer_published_on_node_a_is_served_by_node_b(
    nodes: tuple[str, str], sample_database: str
) -> None:
    a, b = nodes
    name = f"two_nodes_{uuid.uuid4().hex[:8]}"
    staff = token_headers(sample_database, "publish", "two-nodes")
    assert version_seen(b, name) is None  # B's snapshot is taken before the upload
    created = publish(a, staff, name, points(5), "POST")
    assert created.status == 201, created.body
    first = version_seen(a, name)
    assert first is not None
    took = wait_for_version(b, name, first)

    replaced = publish(a, staff, name, points(7, lon=18.0705), "PUT")
    assert replaced.status in (200, 201), replaced.body
    second = version_seen(a, name)
    assert second is not None and second != first
    took = max(took, wait_for_version(b, name, second))

    template = call(b, f"/tiles/{name}.json").json()["tiles"][0]
    tile = tile_of(18.0703, 59.33, 14)
    path = "/" + template.split("://", 1)[1].split("/", 1)[1]
    answer = call(b, path.format(z=tile.z, x=tile.x, y=tile.y))
    assert answer.status == 200
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    decoded = mapbox_vector_tile.decode(answer.body)
    assert len(decoded[name]["features"]) == 7  # the second version's points
    assert took <= BOUND
