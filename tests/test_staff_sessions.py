"""Staff sessions live in PostgreSQL: logout, a disabled login, a new password and idle time end
them on the server, for every app process; the cookie holds nothing but a random id.
Password hashes carry their parameters and old ones are upgraded at the next login."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from staff.accounts import PASSWORD_METHOD, needs_rehash, set_user
from tests.app_helpers import app_with
from webmap.cli import main

PASSWORD = "a long staff password"
COOKIE = "webmap_staff"


@pytest.fixture
def user(sample_database: str, request: pytest.FixtureRequest) -> str:
    """A fresh login per test (the name is the test's, so no two tests share sessions)."""
    name = "s." + request.node.name.removeprefix("test_")[:50].replace("_", "-")
    with psycopg.connect(sample_database) as conn:
        set_user(conn, name, PASSWORD, instance_admin=True)
    return name


def login(client: FlaskClient, user: str, password: str = PASSWORD) -> str:
    """Log in over JSON; returns the session's CSRF token."""
    response = client.post("/login", json={"username": user, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    token: str = response.get_json()["csrf_token"]
    return token


def whoami(client: FlaskClient) -> int:
    return client.get("/api/session").status_code


def sessions_of(database: str, user: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database) as conn:
        return conn.execute(
            "SELECT id_hash, csrf_token, last_seen_at, expires_at - created_at "
            "FROM webmap.staff_sessions WHERE username = %s",
            [user],
        ).fetchall()


def test_cookie_is_a_random_id_stored_hashed_and_dies_at_logout(
    client: FlaskClient, user: str, sample_database: str
) -> None:
    csrf = login(client, user)
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    saved = cookie.value
    assert len(saved) >= 43 and user not in saved
    # Absolute lifetime: 7 days by default, kept in the row.
    [(id_hash, stored_csrf, _seen, lifetime)] = sessions_of(sample_database, user)
    assert id_hash == hashlib.sha256(saved.encode()).hexdigest() and saved not in id_hash
    assert stored_csrf == csrf and lifetime.total_seconds() == 7 * 24 * 3600
    assert whoami(client) == 200

    out = client.post("/logout", headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
    assert out.status_code == 204
    assert sessions_of(sample_database, user) == []
    # The cookie saved before logout, replayed by another browser: refused, and told to go.
    thief = client.application.test_client()
    thief.set_cookie(COOKIE, saved)
    replay = thief.get("/api/session")
    assert replay.status_code == 401 and replay.mimetype == "application/problem+json"
    assert f"{COOKIE}=;" in replay.headers.get("Set-Cookie", "")
    assert "Cookie" in replay.headers.get("Vary", "")


def test_the_old_signed_cookie_login_is_not_accepted(app: Flask, user: str) -> None:
    # Before server-side sessions, Flask's signed cookie {"user": …} was the whole login.
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    forged = serializer.dumps({"user": user, "csrf": "x"})
    client = app.test_client()
    client.set_cookie("session", forged)
    assert whoami(client) == 401
    assert client.post("/logout", headers={"X-CSRF-Token": "x"}).status_code == 401


def test_disabling_a_login_ends_its_sessions(app: Flask, user: str, sample_database: str) -> None:
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    assert whoami(first) == whoami(second) == 200
    runner = app.test_cli_runner()
    result = runner.invoke(main, ["staff", "disable", user])
    assert result.exit_code == 0 and "2 session(s) ended" in result.output, result.output
    assert whoami(first) == whoami(second) == 401
    assert sessions_of(sample_database, user) == []
    refused = first.post("/login", json={"username": user, "password": PASSWORD})
    assert refused.status_code == 401
    listing = runner.invoke(main, ["staff", "list"])
    assert f"{user}\tdisabled\t0 session(s)" in listing.output
    unknown = runner.invoke(main, ["staff", "disable", "no.such.user"])
    assert unknown.exit_code != 0 and "no login named" in unknown.output
    # A new password enables the login again.
    result = runner.invoke(main, ["staff", "set-password", user], input=f"{PASSWORD}\n" * 2)
    assert result.exit_code == 0, result.output
    login(first, user)
    assert f"{user}\tactive\t1 session(s)" in runner.invoke(main, ["staff", "list"]).output


def test_a_new_password_ends_every_session(app: Flask, user: str, sample_database: str) -> None:
    client = app.test_client()
    login(client, user)
    assert whoami(client) == 200
    with psycopg.connect(sample_database) as conn:
        set_user(conn, user, "a brand new password", instance_admin=True)
    assert whoami(client) == 401
    assert client.post("/login", json={"username": user, "password": PASSWORD}).status_code == 401
    login(client, user, "a brand new password")
    assert whoami(client) == 200


def test_idle_and_absolute_limits_end_a_session(
    client: FlaskClient, user: str, sample_database: str
) -> None:
    login(client, user)
    [(id_hash, *_rest)] = sessions_of(sample_database, user)

    def age(column: str, interval: str) -> None:
        with psycopg.connect(sample_database) as conn:
            conn.execute(
                f"UPDATE webmap.staff_sessions SET {column} = now() - %s::interval "
                "WHERE id_hash = %s",
                [interval, id_hash],
            )

    # Used 7 h 59 min ago: still alive (default idle limit 8 h), and marked as used now.
    age("last_seen_at", "7 hours 59 minutes")
    assert whoami(client) == 200
    [(_h, _c, seen, _l)] = sessions_of(sample_database, user)
    with psycopg.connect(sample_database) as conn:
        lag = conn.execute("SELECT now() - %s", [seen]).fetchone()
    assert lag is not None and lag[0].total_seconds() < 60
    # A request a moment later does not write again (at most one write a minute).
    assert whoami(client) == 200
    assert sessions_of(sample_database, user)[0][2] == seen
    # Unused for 8 h 1 min: over.
    age("last_seen_at", "8 hours 1 minute")
    assert whoami(client) == 401
    # A busy session still ends at its absolute limit.
    login(client, user)
    [(id_hash, *_rest)] = sessions_of(sample_database, user)
    with psycopg.connect(sample_database) as conn:
        conn.execute(
            "UPDATE webmap.staff_sessions SET expires_at = now() - interval '1 second' "
            "WHERE id_hash = %s",
            [id_hash],
        )
    assert whoami(client) == 401


def test_a_tiny_idle_setting_is_honoured(sample_database: str, user: str) -> None:
    with app_with(sample_database, session_idle_seconds=1) as app:
        client = app.test_client()
        login(client, user)
        time.sleep(2.5)
        assert whoami(client) == 401


@pytest.fixture
def two_nodes(sample_database: str) -> Iterator[tuple[Flask, Flask]]:
    """Two app instances on one database, as two machines behind a balancer would be."""
    with app_with(sample_database) as first, app_with(sample_database) as second:
        yield first, second


def test_two_nodes_share_a_session_and_its_logout(
    two_nodes: tuple[Flask, Flask], user: str
) -> None:
    node_a, node_b = two_nodes
    on_a = node_a.test_client()
    csrf = login(on_a, user)
    cookie = on_a.get_cookie(COOKIE)
    assert cookie is not None
    on_b = node_b.test_client()
    on_b.set_cookie(COOKIE, cookie.value)
    info = on_b.get("/api/session").get_json()
    assert info["user"] == user and info["csrf_token"] == csrf  # same CSRF token on both
    out = on_b.post("/logout", headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
    assert out.status_code == 204
    assert whoami(on_a) == 401 and whoami(on_b) == 401


def test_html_logout_ends_the_session_and_the_page_forgets_the_user(
    client: FlaskClient, user: str
) -> None:
    csrf = login(client, user)
    saved = client.get_cookie(COOKIE)
    assert saved is not None
    page = client.get("/login").get_data(as_text=True)
    assert "Inloggad som" in page and f'value="{csrf}"' in page
    out = client.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303
    assert "Inloggad som" not in client.get("/login").get_data(as_text=True)
    replay = client.application.test_client()
    replay.set_cookie(COOKIE, saved.value)
    assert whoami(replay) == 401


def _legacy_hash(password: str) -> str:
    """The first stored format: ``scrypt$<b64 salt>$<b64 hash>``, n=2**14, r=8, p=1."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _stored_hash(database: str, user: str) -> str:
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT password_hash FROM webmap.staff_users WHERE username = %s", [user]
        ).fetchone()
    assert row is not None
    return str(row[0])


def _store_hash(database: str, user: str, stored: str) -> None:
    with psycopg.connect(database) as conn:
        conn.execute(
            "UPDATE webmap.staff_users SET password_hash = %s WHERE username = %s",
            [stored, user],
        )


def test_new_hashes_name_their_parameters(user: str, sample_database: str) -> None:
    stored = _stored_hash(sample_database, user)
    assert PASSWORD_METHOD == "scrypt:32768:8:3"
    assert stored.startswith(PASSWORD_METHOD + "$") and not needs_rehash(stored)
    assert needs_rehash(_legacy_hash("x")) and needs_rehash("pbkdf2:sha256:600000$a$b")
    assert needs_rehash("scrypt:32768:8:1$a$b") and needs_rehash("scrypt:65536:4:3$a$b")
    assert not needs_rehash("scrypt:65536:8:3$a$b")


def test_an_old_format_hash_still_works_and_is_upgraded(
    client: FlaskClient, user: str, sample_database: str
) -> None:
    legacy = _legacy_hash(PASSWORD)
    _store_hash(sample_database, user, legacy)
    # A wrong password changes nothing.
    assert client.post("/login", json={"username": user, "password": "wrong!"}).status_code == 401
    assert _stored_hash(sample_database, user) == legacy
    login(client, user)
    upgraded = _stored_hash(sample_database, user)
    assert upgraded != legacy and upgraded.startswith("scrypt:32768:8:3$")
    login(client.application.test_client(), user)  # the new hash verifies the same password
    assert _stored_hash(sample_database, user) == upgraded  # and is not rewritten again


def test_weaker_parameters_are_upgraded_stronger_ones_kept(
    client: FlaskClient, user: str, sample_database: str
) -> None:
    weaker = generate_password_hash(PASSWORD, method="scrypt:16384:8:1")
    _store_hash(sample_database, user, weaker)
    login(client, user)
    assert _stored_hash(sample_database, user).startswith("scrypt:32768:8:3$")
    stronger = generate_password_hash(PASSWORD, method="scrypt:65536:8:3")
    _store_hash(sample_database, user, stronger)
    login(client, user)
    assert _stored_hash(sample_database, user) == stronger


def test_a_damaged_hash_is_a_refused_login_not_an_error(
    client: FlaskClient, user: str, sample_database: str
) -> None:
    for damaged in ("", "scrypt$%%%$%%%", "scrypt:abc:8:1$x$y", "md5$x$y", "argon2$x"):
        _store_hash(sample_database, user, damaged)
        answer = client.post("/login", json={"username": user, "password": PASSWORD})
        assert answer.status_code == 401, (damaged, answer.get_data(as_text=True))


def test_secure_cookie_is_host_only_and_ends_with_the_browser(
    sample_database: str, user: str
) -> None:
    with app_with(sample_database, secure_cookies=True) as app:
        client = app.test_client()
        response = client.post("/login", json={"username": user, "password": PASSWORD})
        staff = [c for c in response.headers.getlist("Set-Cookie") if "webmap_staff=" in c]
        assert len(staff) == 1 and staff[0].startswith("__Host-webmap_staff=")
        flags = {part.strip().split("=")[0] for part in staff[0].split(";")[1:]}
        assert {"Secure", "HttpOnly", "Path", "SameSite"} <= flags
        assert not flags & {"Domain", "Max-Age", "Expires"}
        assert whoami(client) == 200
