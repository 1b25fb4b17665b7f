"""Staff authentication: API tokens (hashed, revocable, scoped) and the session login with CSRF."""

from __future__ import annotations

import hashlib

import psycopg
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from staff.accounts import set_user
from webmap import create_app
from webmap.cli import main


def _create(runner: FlaskCliRunner, name: str, scope: str = "publish") -> str:
    result = runner.invoke(
        main, ["tokens", "create", "--name", name, "--scope", scope, "--instance-admin"]
    )
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def _assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def test_anonymous_and_wrong_credentials_get_401(client: FlaskClient) -> None:
    response = client.get("/api/session")
    _assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    _assert_problem(client.get("/api/session", headers={"Authorization": "Bearer wm_nope"}), 401)
    _assert_problem(client.get("/api/session", headers={"Authorization": "Basic dTpw"}), 401)
    _assert_problem(client.get("/api/session", headers={"Authorization": "Bearer"}), 401)


def test_token_is_printed_once_stored_hashed_and_revocable(
    client: FlaskClient, runner: FlaskCliRunner, sample_database: str
) -> None:
    secret = _create(runner, "qgis-anna")
    assert secret.startswith("wm_") and len(secret) > 40
    ok = client.get("/api/session", headers={"Authorization": f"Bearer {secret}"})
    assert ok.status_code == 200
    assert ok.get_json() == {
        "user": "qgis-anna",
        "via": "token",
        "scope": "publish",
        "instance_admin": True,
        "municipalities": {},
    }

    with psycopg.connect(sample_database) as conn:
        stored = conn.execute(
            "SELECT id, token_hash, last_used_at FROM webmap.api_tokens WHERE name = 'qgis-anna'"
        ).fetchone()
    assert stored is not None
    token_id, token_hash, last_used = stored
    assert token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in token_hash and last_used is not None

    listing = runner.invoke(main, ["tokens", "list"])
    assert "qgis-anna" in listing.output and secret not in listing.output

    assert runner.invoke(main, ["tokens", "revoke", str(token_id)]).exit_code == 0
    _assert_problem(client.get("/api/session", headers={"Authorization": f"Bearer {secret}"}), 401)
    unknown = runner.invoke(main, ["tokens", "revoke", "999999"])
    assert unknown.exit_code != 0 and "no token" in unknown.output


def test_session_login_needs_csrf_for_writes(app: Flask, sample_database: str) -> None:
    with psycopg.connect(sample_database) as conn:
        set_user(conn, "gis.anna", "correct horse battery", instance_admin=True)
    client = app.test_client()
    _assert_problem(
        client.post("/login", json={"username": "gis.anna", "password": "wrong password!"}), 401
    )
    _assert_problem(
        client.post("/login", json={"username": "nobody", "password": "correct horse battery"}),
        401,
    )
    login = client.post(
        "/login", json={"username": "gis.anna", "password": "correct horse battery"}
    )
    assert login.status_code == 200
    csrf = login.get_json()["csrf_token"]
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    info = client.get("/api/session").get_json()
    assert info["user"] == "gis.anna" and info["via"] == "session" and info["csrf_token"] == csrf

    _assert_problem(client.post("/logout", headers={"Accept": "application/json"}), 403)
    _assert_problem(
        client.post("/logout", headers={"X-CSRF-Token": "forged", "Accept": "application/json"}),
        403,
    )
    out = client.post("/logout", headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
    assert out.status_code == 204
    _assert_problem(client.get("/api/session"), 401)


def test_html_login_form_works_without_javascript(app: Flask, sample_database: str) -> None:
    with psycopg.connect(sample_database) as conn:
        set_user(conn, "gis.bo", "another long password", instance_admin=True)
    client = app.test_client()
    page = client.get("/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'lang="sv"' in html and 'for="username"' in html and 'autocomplete="username"' in html
    csrf = html.split('name="csrf_token" value="')[1].split('"')[0]
    # Without the form's CSRF token a foreign page cannot log the browser in.
    forged = client.post("/login", data={"username": "gis.bo", "password": "another long password"})
    _assert_problem(forged, 403)
    wrong = client.post(
        "/login", data={"username": "gis.bo", "password": "nope nope nope", "csrf_token": csrf}
    )
    assert wrong.status_code == 401 and "Fel användarnamn" in wrong.get_data(as_text=True)
    ok = client.post(
        "/login",
        data={"username": "gis.bo", "password": "another long password", "csrf_token": csrf},
    )
    assert ok.status_code == 303
    assert "Inloggad som" in client.get("/login").get_data(as_text=True)


def test_every_staff_endpoint_refuses_anonymous_callers(client: FlaskClient) -> None:
    for method, path in (
        ("GET", "/api/layers"),
        ("POST", "/api/layers"),
        ("GET", "/api/layers/municipalities"),
        ("PUT", "/api/layers/municipalities"),
        ("PATCH", "/api/layers/municipalities"),
        ("DELETE", "/api/layers/municipalities"),
        ("POST", "/api/layers/municipalities/rollback"),
    ):
        response = client.open(path, method=method)
        _assert_problem(response, 401)
        wrong = client.open(path, method=method, headers={"Authorization": "Bearer wm_wrong"})
        _assert_problem(wrong, 401)


def test_login_with_json_that_is_not_an_object_is_refused(client: FlaskClient) -> None:
    # Found by tests/test_fuzz.py: a JSON list or string as the login body was a 500.
    for body in ([None, None], "gis.anna", 42):
        _assert_problem(client.post("/login", json=body), 401)
    _assert_problem(client.post("/login", data="[1", content_type="application/json"), 401)
    # Nested too deep for Python's parser (RecursionError): bad JSON as well, not a 500.
    deep = "[" * 5_000
    _assert_problem(client.post("/login", data=deep, content_type="application/json"), 401)
    # A NUL in the user name cannot reach PostgreSQL's text (DataError, a 500 before).
    nul = {"username": "\x00", "password": "0"}
    _assert_problem(client.post("/login", json=nul), 401)


def test_json_nested_too_deep_is_bad_input_for_staff_too(
    client: FlaskClient, runner: FlaskCliRunner
) -> None:
    staff = {"Authorization": f"Bearer {_create(runner, 'deep-json')}"}
    deep = '{"title": ' + "[" * 5_000 + "]" * 5_000 + "}"
    for method, path in (("PATCH", "/api/layers/roads"), ("POST", "/api/layers/roads/rollback")):
        response = client.open(
            path, method=method, data=deep, headers=staff, content_type="application/json"
        )
        _assert_problem(response, 400)


def test_session_cookie_is_httponly_lax_and_secure_when_configured(sample_database: str) -> None:
    with psycopg.connect(sample_database) as conn:
        set_user(conn, "gis.cookie", "a long enough password", instance_admin=True)
    for secure in (False, True):
        app = create_app({"database_url": sample_database, "secure_cookies": secure})
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post(
            "/login",
            data={
                "username": "gis.cookie",
                "password": "a long enough password",
                "csrf_token": csrf,
            },
        )
        cookie = response.headers.get("Set-Cookie", "")
        app.extensions["webmap.pool"].close()
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure
