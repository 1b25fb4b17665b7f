"""Municipalities as tenants in ``/admin`` (a publisher logged in through the real form) and in
the CLI (``--as-user``, ``municipalities``, ``staff grant``, ``layers assign``), and the upgrade
that makes existing logins and tokens instance administrators so nobody is locked out."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from layers.schema import alembic_config
from staff.tokens import verify_token
from tests.app_helpers import app_with, scratch_database
from tests.tenant_helpers import HARNOSAND, PASSWORD, SUNDSVALL, SUNDSVALL_POINT, Tenants, set_up
from webmap.cli import main

HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def tenant_app(sample_database: str) -> Iterator[Flask]:
    with app_with(sample_database) as application:
        yield application


@pytest.fixture(scope="module")
def tenants(tenant_app: Flask, sample_database: str) -> Tenants:
    return set_up(sample_database, tenant_app.test_client(), "adm")


def _login(client: FlaskClient, user: str) -> str:
    form = client.get("/login?next=/admin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    done = client.post(
        "/login",
        data={
            "username": user,
            "password": PASSWORD,
            "csrf_token": token.group(1),
            "next": "/admin",
        },
    )
    assert done.status_code == 303
    page = client.get("/admin", headers=HTML).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_admin_pages_refuse_another_municipalitys_layers(
    tenant_app: Flask, tenants: Tenants
) -> None:
    client = tenant_app.test_client()
    csrf = _login(client, tenants.harnosand_user)
    index = client.get("/admin", headers=HTML).get_data(as_text=True)
    assert tenants.harnosand_private in index
    assert tenants.sundsvall_private not in index
    private = tenants.sundsvall_private
    for page in ("", "/upload", "/delete", "/preview", "/versions/1/report"):
        answer = client.get(f"/admin/layers/{private}{page}", headers=HTML)
        assert answer.status_code == 404, page
    public = tenants.sundsvall_public
    page = client.get(f"/admin/layers/{public}", headers=HTML)
    assert page.status_code == 200
    assert f"<dd>{SUNDSVALL}</dd>" in page.get_data(as_text=True)
    for name in (private, public):
        posts = {
            "visibility": client.post(
                f"/admin/layers/{name}/visibility", data={"public": "true", "csrf_token": csrf}
            ),
            "rollback": client.post(
                f"/admin/layers/{name}/rollback", data={"version": "1", "csrf_token": csrf}
            ),
            "delete": client.post(f"/admin/layers/{name}/delete", data={"csrf_token": csrf}),
            "upload": client.post(
                f"/admin/layers/{name}/upload",
                data={"csrf_token": csrf},
                content_type="multipart/form-data",
            ),
        }
        for what, answer in posts.items():
            assert answer.status_code == 403, (name, what, answer.status_code)
    for page in ("/upload", "/delete"):
        assert client.get(f"/admin/layers/{public}{page}", headers=HTML).status_code == 403
    # Their own layer: the forms are there and a change goes through.
    own = tenants.harnosand_private
    assert client.get(f"/admin/layers/{own}/delete", headers=HTML).status_code == 200
    made_public = client.post(
        f"/admin/layers/{own}/visibility", data={"public": "false", "csrf_token": csrf}
    )
    assert made_public.status_code == 303


def test_the_admin_upload_form_asks_for_a_municipality_only_when_there_is_a_choice(
    tenant_app: Flask, tenants: Tenants, sample_database: str
) -> None:
    client = tenant_app.test_client()
    _login(client, tenants.sundsvall_user)
    single = client.get("/admin/upload", headers=HTML).get_data(as_text=True)
    assert 'name="municipality"' not in single
    with psycopg.connect(sample_database, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO webmap.staff_memberships VALUES (%s, %s, 'admin') ON CONFLICT DO NOTHING",
            [tenants.sundsvall_user, HARNOSAND],
        )
    try:
        several = client.get("/admin/upload", headers=HTML).get_data(as_text=True)
        assert f'<option value="{SUNDSVALL}"' in several
        assert f'<option value="{HARNOSAND}"' in several
        assert 'value="instance"' not in several  # not an instance administrator
    finally:
        with psycopg.connect(sample_database, autocommit=True) as conn:
            conn.execute(
                "DELETE FROM webmap.staff_memberships WHERE username = %s AND municipality = %s",
                [tenants.sundsvall_user, HARNOSAND],
            )


def test_the_cli_acts_as_a_user_and_refuses_cross_tenant_changes(
    tenant_app: Flask, tenants: Tenants
) -> None:
    runner: FlaskCliRunner = tenant_app.test_cli_runner()
    as_h = ["--as-user", tenants.harnosand_user]
    for name in (tenants.sundsvall_private, tenants.sundsvall_public):
        deleted = runner.invoke(main, ["layers", "delete", name, "--yes", *as_h])
        assert deleted.exit_code == 1 and "another municipality" in deleted.output
        rolled = runner.invoke(main, ["layers", "rollback", name, *as_h])
        assert rolled.exit_code == 1 and "another municipality" in rolled.output
    listing = runner.invoke(main, ["layers", "list", *as_h])
    assert listing.exit_code == 0
    assert tenants.sundsvall_private not in listing.output
    assert f"{tenants.harnosand_private}\t" in listing.output
    everything = runner.invoke(main, ["layers", "list", "--municipality", SUNDSVALL])
    lines = [line for line in everything.output.splitlines() if line]
    assert lines and all(f"\t{SUNDSVALL}\t" in line for line in lines)
    assert any(line.startswith(f"{tenants.sundsvall_private}\t") for line in lines)
    unknown = runner.invoke(main, ["layers", "list", "--as-user", "nobody.here"])
    assert unknown.exit_code == 1


def test_the_operator_assigns_layers_and_grants_roles(
    tenant_app: Flask, tenants: Tenants, sample_database: str
) -> None:
    runner: FlaskCliRunner = tenant_app.test_cli_runner()
    client = tenant_app.test_client()
    name = tenants.sundsvall_public
    moved = runner.invoke(main, ["layers", "assign", name, HARNOSAND])
    assert moved.exit_code == 0, moved.output
    try:
        # Härnösand's publisher may now change it, Sundsvall's may not.
        edit = {"title": "Moved"}
        assert (
            client.patch(f"/api/layers/{name}", json=edit, headers=tenants.sundsvall).status_code
            == 403
        )
        assert (
            client.patch(f"/api/layers/{name}", json=edit, headers=tenants.harnosand).status_code
            == 200
        )
    finally:
        assert runner.invoke(main, ["layers", "assign", name, SUNDSVALL]).exit_code == 0
    assert runner.invoke(main, ["layers", "assign", name, "9999"]).exit_code == 1
    granted = runner.invoke(main, ["staff", "grant", tenants.harnosand_user, SUNDSVALL])
    assert granted.exit_code == 0
    listed = runner.invoke(main, ["staff", "list"]).output
    assert f"{HARNOSAND}:publisher" in listed and f"{SUNDSVALL}:publisher" in listed
    revoked = runner.invoke(main, ["staff", "revoke", tenants.harnosand_user, SUNDSVALL])
    assert revoked.exit_code == 0
    again = runner.invoke(main, ["staff", "revoke", tenants.harnosand_user, SUNDSVALL])
    assert again.exit_code == 1
    unscoped = runner.invoke(main, ["tokens", "create", "--name", "unscoped"])
    assert unscoped.exit_code == 2 and "--municipality" in unscoped.output
    scoped = runner.invoke(
        main, ["tokens", "create", "--name", "adm-cli", "--municipality", f"{HARNOSAND}:admin"]
    )
    assert scoped.exit_code == 0, scoped.output
    with psycopg.connect(sample_database, autocommit=True) as conn:
        principal = verify_token(conn, scoped.output.strip().splitlines()[-1])
    assert principal is not None
    assert dict(principal.roles) == {HARNOSAND: "admin"} and not principal.instance_admin
    bad = runner.invoke(main, ["tokens", "create", "--name", "x", "--municipality", "2281:owner"])
    assert bad.exit_code == 1


def test_municipalities_commands(tenant_app: Flask, tenants: Tenants) -> None:
    runner: FlaskCliRunner = tenant_app.test_cli_runner()
    listed = runner.invoke(main, ["municipalities", "list"])
    assert listed.exit_code == 0
    assert f"{SUNDSVALL}\t" in listed.output and f"{HARNOSAND}\t" in listed.output
    available = runner.invoke(main, ["municipalities", "list", "--available"])
    assert "2262\tTimrå" in available.output and len(available.output.splitlines()) == 290
    again = runner.invoke(main, ["municipalities", "add", SUNDSVALL])
    assert again.exit_code == 1 and "already" in again.output
    assert runner.invoke(main, ["municipalities", "add", "9999"]).exit_code == 1
    assert runner.invoke(main, ["municipalities", "add", "22811"]).exit_code == 1
    changed = runner.invoke(
        main,
        [
            "municipalities",
            "set",
            HARNOSAND,
            "--origin",
            "https://e.harnosand.example",
            "--basemap-url",
            "https://maps.example.se/{z}/{x}/{y}.png",
            "--basemap-attribution",
            "© Example",
        ],
    )
    assert changed.exit_code == 0, changed.output
    shown = json.loads(runner.invoke(main, ["municipalities", "show", HARNOSAND]).output)
    assert shown["embed_origins"] == ["https://e.harnosand.example"]
    assert shown["basemap"]["kind"] == "xyz" and shown["basemap"]["crs"] == 3857
    bad = runner.invoke(main, ["municipalities", "set", HARNOSAND, "--origin", "https://x/*"])
    assert bad.exit_code == 1 and "not an origin" in bad.output
    cleared = runner.invoke(
        main, ["municipalities", "set", HARNOSAND, "--no-basemap", "--no-origins"]
    )
    assert cleared.exit_code == 0
    assert json.loads(cleared.output)["basemap"] is None
    assert runner.invoke(main, ["municipalities", "show", "0000"]).exit_code == 1


def test_the_upgrade_makes_existing_staff_and_tokens_instance_administrators(
    database_url: str,
) -> None:
    with scratch_database(database_url, "tenants_upgrade") as url:
        config = alembic_config(url)
        command.upgrade(config, "0006_search_heads")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO webmap.staff_users (username, password_hash) VALUES ('old', 'x')"
            )
            conn.execute(
                "INSERT INTO webmap.api_tokens (name, token_hash, prefix) VALUES ('old', 'h', 'p')"
            )
            conn.execute(
                "INSERT INTO webmap.layers (name, title, version) VALUES ('old_layer', 'Old', 1)"
            )
        command.upgrade(config, "0007_municipalities")
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT instance_admin FROM webmap.staff_users").fetchall() == [
                (True,)
            ]
            assert conn.execute("SELECT instance_admin FROM webmap.api_tokens").fetchall() == [
                (True,)
            ]
            assert conn.execute("SELECT municipality FROM webmap.layers").fetchall() == [(None,)]
            # New ones get only what they are given.
            conn.execute(
                "INSERT INTO webmap.staff_users (username, password_hash) VALUES ('new', 'x')"
            )
            row = conn.execute(
                "SELECT instance_admin FROM webmap.staff_users WHERE username = 'new'"
            ).fetchone()
            assert row == (False,)
        command.downgrade(config, "0006_search_heads")
        command.upgrade(config, "head")


def test_a_private_layers_tile_archive_is_its_municipalitys(
    tenant_app: Flask, tenants: Tenants, sample_database: str, tmp_path: Path
) -> None:
    name = tenants.sundsvall_private
    path = tmp_path / f"{name}.pmtiles"
    lon, lat = SUNDSVALL_POINT
    box = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    done = tenant_app.test_cli_runner().invoke(
        main, ["tiles", "export", name, "--maxzoom", "10", "--bbox", box, "-o", str(path)]
    )
    assert done.exit_code == 0, done.output
    with app_with(sample_database, tile_archives=f"{name}={path}") as served:
        client = served.test_client()
        for headers, status in (
            (tenants.sundsvall, 200),
            (tenants.admin, 200),
            (tenants.harnosand, 404),
            ({}, 404),
        ):
            archive = client.get(f"/tiles/{name}.pmtiles", headers=headers)
            archive.close()  # send_file's open file
            assert archive.status_code == status, headers
            assert client.get(f"/tiles/{name}.json", headers=headers).status_code == status
