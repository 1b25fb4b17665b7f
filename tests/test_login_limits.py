"""Failed logins are limited per user name and per client address: 429 with Retry-After (problem
JSON, or the login page's alert), the right password refused too while locked, only failures
counted, parallel guesses held to the limit, and the count shared through Redis."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from staff.accounts import set_user
from staff.throttle import LoginThrottle, MemoryAttemptStore, TooManyAttempts
from tests.app_helpers import app_with

PASSWORD = "the right password"
WRONG = "a wrong password"


@pytest.fixture
def user(sample_database: str) -> str:
    name = f"lim.{uuid.uuid4().hex[:12]}"
    with psycopg.connect(sample_database) as conn:
        set_user(conn, name, PASSWORD, instance_admin=True)
    return name


def attempt(client: FlaskClient, user: str, password: str, **kwargs: Any) -> Any:
    return client.post("/login", json={"username": user, "password": password}, **kwargs)


def assert_locked(response: Any, window: int = 900) -> int:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 429 and body["title"] and body["detail"] and body["type"]
    retry = int(response.headers["Retry-After"])
    # The lock was just set: all of the window remains, less the seconds the test took.
    assert max(1, window - 60) <= retry <= window and body["retry_after"] == retry
    return retry


def test_five_failures_lock_the_user_even_with_the_right_password(
    client: FlaskClient, user: str
) -> None:
    # The real defaults: 5 failures per user name in 15 minutes.
    for _ in range(5):
        assert attempt(client, user, WRONG).status_code == 401
    assert_locked(attempt(client, user, WRONG))
    assert_locked(attempt(client, user, PASSWORD))  # the point: guessing right does not help
    assert client.get("/api/session").status_code == 401
    # Another user from the same address is not locked out (5 of the address's 20 used).
    other = f"lim.{uuid.uuid4().hex[:12]}"
    with psycopg.connect(client.application.config["WEBMAP_SETTINGS"].database_url) as conn:
        set_user(conn, other, PASSWORD, instance_admin=True)
    assert attempt(client, other, PASSWORD).status_code == 200


def test_only_failures_count(client: FlaskClient, user: str) -> None:
    for _ in range(4):
        assert attempt(client, user, WRONG).status_code == 401
    assert attempt(client, user, PASSWORD).status_code == 200  # typos, then right: in
    # Had the success counted, the limit (5) would be reached now; it is not.
    assert attempt(client, user, WRONG).status_code == 401
    assert_locked(attempt(client, user, PASSWORD))


def test_the_lock_ends_when_the_window_passes(sample_database: str, user: str) -> None:
    with app_with(sample_database, login_failures_per_user=2, login_window_seconds=2) as app:
        client = app.test_client()
        for _ in range(2):
            assert attempt(client, user, WRONG).status_code == 401
        assert assert_locked(attempt(client, user, PASSWORD), window=2) <= 2
        time.sleep(2.5)
        assert attempt(client, user, PASSWORD).status_code == 200


def test_the_login_page_says_why_in_its_alert(client: FlaskClient, user: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"username": user, "password": WRONG, "csrf_token": csrf}
    for _ in range(5):
        wrong = client.post("/login", data=form)
        assert wrong.status_code == 401 and "Fel användarnamn" in wrong.get_data(as_text=True)
    locked = client.post("/login", data={**form, "password": PASSWORD})
    assert locked.status_code == 429 and locked.mimetype == "text/html"
    assert 900 - 60 <= int(locked.headers["Retry-After"]) <= 900
    html = locked.get_data(as_text=True)
    assert '<p class="error" role="alert" id="login-error">' in html
    assert "För många misslyckade inloggningar. Försök igen om 15 minuter." in html
    assert 'aria-describedby="login-error"' in html and "aria-invalid" not in html
    assert "<script" not in html  # nothing inline for the CSP to refuse


def test_failures_per_address_and_the_proxy_setting(sample_database: str, user: str) -> None:
    names = [f"nobody.{i}" for i in range(4)]
    # Without a trusted proxy, X-Forwarded-For is the client's own word and is ignored.
    with app_with(sample_database, login_failures_per_address=3) as app:
        client = app.test_client()
        for i, name in enumerate(names[:3]):
            spoof = {"X-Forwarded-For": f"203.0.113.{i}"}
            assert attempt(client, name, WRONG, headers=spoof).status_code == 401
        assert_locked(attempt(client, names[3], WRONG, headers={"X-Forwarded-For": "10.9.9.9"}))
        assert_locked(attempt(client, user, PASSWORD))  # a user name not yet failed: the address
        elsewhere = {"REMOTE_ADDR": "198.51.100.7"}
        assert attempt(client, user, PASSWORD, environ_base=elsewhere).status_code == 200
    # Behind one proxy (WEBMAP_PROXY_HOPS=1) the address nginx appends is the client's.
    with app_with(sample_database, login_failures_per_address=3, proxy_hops=1) as app:
        client = app.test_client()
        via = {"X-Forwarded-For": "203.0.113.50"}
        for name in names[:3]:
            assert attempt(client, name, WRONG, headers=via).status_code == 401
        assert_locked(attempt(client, names[3], WRONG, headers=via))
        other = {"X-Forwarded-For": "203.0.113.51"}
        assert attempt(client, user, PASSWORD, headers=other).status_code == 200


def test_parallel_guesses_do_not_slip_past_the_limit(app: Flask, user: str) -> None:
    results: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def guess() -> None:
        client = app.test_client()
        start.wait()
        status = attempt(client, user, WRONG).status_code
        with lock:
            results.append(status)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == [401] * 5 + [429] * 7


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield "redis://127.0.0.1:6379/0"
    client.close()


def test_two_nodes_share_the_count_through_redis(
    sample_database: str, user: str, redis_url: str
) -> None:
    # A random address so runs on this machine (Redis keeps counts 15 min) never meet.
    address = {"REMOTE_ADDR": f"10.{random.randrange(256)}.{random.randrange(256)}.7"}
    with (
        app_with(sample_database, redis_url=redis_url) as node_a,
        app_with(sample_database, redis_url=redis_url) as node_b,
    ):
        a, b = node_a.test_client(), node_b.test_client()
        for client in (a, b, a, b):
            assert attempt(client, user, WRONG, environ_base=address).status_code == 401
        assert attempt(a, user, PASSWORD, environ_base=address).status_code == 200
        assert attempt(b, user, WRONG, environ_base=address).status_code == 401  # 5th failure
        assert_locked(attempt(a, user, PASSWORD, environ_base=address))
        assert_locked(attempt(b, user, PASSWORD, environ_base=address))


def test_unreachable_redis_falls_back_to_counting_in_memory(
    sample_database: str, user: str
) -> None:
    with app_with(sample_database, redis_url="redis://127.0.0.1:1/0") as app:
        client = app.test_client()
        assert attempt(client, user, PASSWORD).status_code == 200  # staff not locked out
        for _ in range(5):
            assert attempt(client, user, WRONG).status_code == 401
        assert_locked(attempt(client, user, PASSWORD))  # and the limit still holds


def test_throttle_window_slides_with_the_oldest_failure() -> None:
    now = [1000.0]
    throttle = LoginThrottle(
        MemoryAttemptStore(clock=lambda: now[0]), per_user=2, per_address=10, window_seconds=60
    )
    throttle.begin("anna", "192.0.2.1")  # a failure at t=0
    now[0] += 30
    throttle.begin("anna", "192.0.2.1")  # a failure at t=30
    now[0] += 10
    with pytest.raises(TooManyAttempts) as refused:
        throttle.begin("anna", "192.0.2.1")
    assert refused.value.retry_after == 20  # the first failure leaves the window at t=60
    now[0] += 20.5
    ok = throttle.begin("ANNA", "192.0.2.1")  # names are counted case-insensitively
    throttle.succeeded(ok)
    throttle.succeeded(throttle.begin("anna", None))  # the slot was given back


def test_failures_and_refusals_are_logged_without_the_password(
    client: FlaskClient, user: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="webmap.auth")
    for _ in range(5):
        attempt(client, user, WRONG)
    assert_locked(attempt(client, user, PASSWORD))
    lines = [r.getMessage() for r in caplog.records if r.name == "webmap.auth"]
    assert sum(f"staff login failed: '{user}' from 127.0.0.1" in m for m in lines) == 5
    assert any("too many failures" in m and user in m for m in lines)
    assert not any(WRONG in m or PASSWORD in m for m in lines)
