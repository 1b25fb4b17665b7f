"""The /admin pages through the Flask client: login required, CSRF on every POST, real uploads
into PostGIS, the validation report, versions and rollback, publish/unpublish, delete, sv and en."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage

from staff.accounts import set_user
from tests.layers_helpers import decoded_tile, token_headers, zip_files
from tests.raster_helpers import write_geotiff

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
JSON = {"Accept": "application/json"}
PASSWORD = "admin pages password"
SHAPEFILE_PARTS = ("shp", "shx", "dbf", "prj")


def feature(geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def square(x: float, y: float, d: float = 0.002) -> dict[str, Any]:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def parks(count: int) -> bytes:
    """``count`` squares in Stockholm, a self-crossing bow tie and a feature without geometry."""
    features = [feature(square(18.05 + i * 0.003, 59.33), namn=f"Park {i}") for i in range(count)]
    bowtie = [[18.08, 59.34], [18.082, 59.342], [18.082, 59.34], [18.08, 59.342], [18.08, 59.34]]
    features.append(feature({"type": "Polygon", "coordinates": [bowtie]}, namn="Fjäril"))
    features.append(feature(None, namn="Utan geometri"))
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


@pytest.fixture(scope="module")
def staff_user(sample_database: str) -> str:
    with psycopg.connect(sample_database) as conn:
        set_user(conn, "gis.admin", PASSWORD, instance_admin=True)
    return "gis.admin"


def login(client: FlaskClient, user: str, next_url: str = "/admin") -> str:
    """Log in through the real HTML form; returns the session's CSRF token."""
    form = client.get(f"/login?next={next_url}").get_data(as_text=True)
    assert f'name="next" value="{next_url}"' in form
    done = client.post(
        "/login",
        data={
            "username": user,
            "password": PASSWORD,
            "csrf_token": csrf_of(form),
            "next": next_url,
        },
    )
    assert done.status_code == 303 and done.headers["Location"] == next_url
    return csrf_of(client.get("/admin", headers=HTML).get_data(as_text=True))


@pytest.fixture
def staff(client: FlaskClient, staff_user: str) -> tuple[FlaskClient, str]:
    return client, login(client, staff_user)


def post_upload(
    client: FlaskClient,
    url: str,
    csrf: str | None,
    body: bytes | None,
    filename: str = "parker.geojson",
    headers: dict[str, str] = HTML,
    **fields: str,
) -> Any:
    data: dict[str, Any] = dict(fields)
    if csrf is not None:
        data["csrf_token"] = csrf
    if body is not None:
        data["file"] = FileStorage(io.BytesIO(body), filename)
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status and body["type"] and body["title"] and body["detail"]
    return body


def test_anonymous_browsers_go_to_login_and_tools_get_401(
    client: FlaskClient, staff_user: str
) -> None:
    for url in ("/admin", "/admin/upload", "/admin/layers/roads", "/admin/layers/roads/preview"):
        page = client.get(url + "?lang=en", headers=HTML)
        assert page.status_code == 303
        assert page.headers["Location"].startswith("/login?next=")
        assert_problem(client.get(url, headers=JSON), 401)
    for url in ("/admin/upload", "/admin/layers/roads/rollback", "/admin/layers/roads/delete"):
        assert_problem(client.post(url, headers=HTML), 401)
    assert_problem(client.get("/admin", headers={**HTML, "Authorization": "Bearer wm_nope"}), 401)
    # A next parameter pointing at another host is ignored after login.
    form = client.get("/login?next=//evil.example/x").get_data(as_text=True)
    done = client.post(
        "/login",
        data={
            "username": staff_user,
            "password": PASSWORD,
            "csrf_token": csrf_of(form),
            "next": "//evil.example/x",
        },
    )
    assert done.status_code == 303 and done.headers["Location"] == "/login"


def test_every_post_needs_the_csrf_token(
    staff: tuple[FlaskClient, str], sample_database: str
) -> None:
    client, csrf = staff
    made = post_upload(
        client, "/admin/upload", csrf, parks(2), name="admin_csrf", title="CSRF", public="true"
    )
    assert made.status_code == 303, made.get_data(as_text=True)[:800]
    posts: list[tuple[str, dict[str, str]]] = [
        ("/admin/upload", {"name": "admin_csrf2", "title": "x", "public": "true"}),
        ("/admin/layers/admin_csrf/upload", {}),
        ("/admin/layers/admin_csrf/visibility", {"public": "false"}),
        ("/admin/layers/admin_csrf/rollback", {"version": "1"}),
        ("/admin/layers/admin_csrf/delete", {}),
        ("/logout", {}),
    ]
    for url, fields in posts:
        for token in (None, "forged-token"):
            data = dict(fields) if token is None else {**fields, "csrf_token": token}
            assert_problem(client.post(url, data=data, headers=JSON), 403)
            page = client.post(url, data=data, headers=HTML)
            assert page.status_code == 403
            if url.startswith("/admin"):  # a human gets a page, in the admin's language
                assert "Det gick inte" in page.get_data(as_text=True)
    with psycopg.connect(sample_database) as conn:
        row = conn.execute(
            "SELECT version, public FROM webmap.layers WHERE name = 'admin_csrf'"
        ).fetchone()
        other = conn.execute("SELECT 1 FROM webmap.layers WHERE name = 'admin_csrf2'").fetchone()
    assert row == (1, True) and other is None  # nothing changed
    # A read-only API token may look but not publish.
    reader = token_headers(sample_database, "read", "admin-reader")
    assert client.get("/admin", headers={**JSON, **reader}).status_code == 200
    assert_problem(client.post("/admin/layers/admin_csrf/delete", headers={**JSON, **reader}), 403)


def test_upload_shows_the_report_then_versions_rollback_publish_delete(
    staff: tuple[FlaskClient, str], sample_database: str
) -> None:
    client, csrf = staff
    first = post_upload(
        client,
        "/admin/upload",
        csrf,
        parks(3),
        name="admin_parks",
        title="Parker",
        attribution="© Testkommun",
        public="true",
    )
    assert first.status_code == 303
    assert first.headers["Location"] == "/admin/layers/admin_parks/versions/1/report"
    report = client.get(first.headers["Location"], headers=HTML).get_data(as_text=True)
    assert "Version 1 av admin_parks är publicerad." in report  # the flash message
    counts = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", report)
    assert ("Lästa objekt", "5") in counts and ("Sparade objekt", "4") in counts
    assert ("Lagade objekt", "1") in counts and ("Avvisade objekt", "1") in counts
    # The rejected feature is listed with its index in the file and the reason (in English).
    assert re.search(r'<th scope="row" class="number">4</th><td lang="en">empty or missing', report)
    assert re.search(r'<th scope="row" class="number">3</th><td lang="en">', report)  # repaired
    assert "EPSG:4326" in report

    second = post_upload(client, "/admin/layers/admin_parks/upload", csrf, parks(6))
    assert second.headers["Location"] == "/admin/layers/admin_parks/versions/2/report"
    detail = client.get("/admin/layers/admin_parks", headers=HTML).get_data(as_text=True)
    assert "Version 2 är live." in detail and "Gör version 1 live" in detail
    assert "Gör version 2 live" not in detail  # the live version has no rollback button
    tile = decoded_tile(client, "admin_parks", 18.06, 59.331, 12)
    assert len(tile["admin_parks"]["features"]) == 7  # six squares and the repaired bow tie

    back = client.post(
        "/admin/layers/admin_parks/rollback", data={"csrf_token": csrf, "version": "1"}
    )
    assert back.status_code == 303 and back.headers["Location"] == "/admin/layers/admin_parks"
    detail = client.get(back.headers["Location"], headers=HTML).get_data(as_text=True)
    assert "Version 1 av admin_parks är nu live." in detail and "Version 1 är live." in detail
    assert (
        len(decoded_tile(client, "admin_parks", 18.06, 59.331, 12)["admin_parks"]["features"]) == 4
    )

    hidden = client.post(
        "/admin/layers/admin_parks/visibility", data={"csrf_token": csrf, "public": "false"}
    )
    assert hidden.status_code == 303
    assert "admin_parks är nu privat" in client.get("/admin/layers/admin_parks").get_data(
        as_text=True
    )
    anonymous = client.application.test_client()
    assert anonymous.get("/tiles/admin_parks.json").status_code == 404
    client.post("/admin/layers/admin_parks/visibility", data={"csrf_token": csrf, "public": "true"})
    assert anonymous.get("/tiles/admin_parks.json").status_code == 200

    confirm = client.get("/admin/layers/admin_parks/delete", headers=HTML).get_data(as_text=True)
    assert "alla 2 sparade versioner" in confirm and "Ja, ta bort admin_parks" in confirm
    gone = client.post("/admin/layers/admin_parks/delete", data={"csrf_token": csrf})
    assert gone.status_code == 303 and gone.headers["Location"] == "/admin"
    listing = client.get("/admin", headers=HTML).get_data(as_text=True)
    assert "admin_parks och alla dess versioner är borttagna" in listing
    assert 'href="/admin/layers/admin_parks"' not in listing
    missing = client.get("/admin/layers/admin_parks", headers=HTML)
    assert missing.status_code == 404 and "Det gick inte" in missing.get_data(as_text=True)
    assert_problem(client.get("/admin/layers/admin_parks", headers=JSON), 404)
    assert_problem(client.get("/admin/layers/Robert');DROP", headers=JSON), 400)


def test_form_errors_are_summarised_and_linked_to_their_fields(
    staff: tuple[FlaskClient, str],
) -> None:
    client, csrf = staff
    page = post_upload(
        client, "/admin/upload", csrf, None, name="Bad Name!", title="", srid="abc", public="true"
    )
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "<title>Fel: " in html and 'class="error-summary" role="alert"' in html
    for field in ("file", "name", "title", "srid"):
        assert f'<a href="#{field}">' in html
        assert f'id="{field}-error"' in html
        tag = re.search(rf'<input id="{field}"[^>]*>', html)
        assert tag and 'aria-invalid="true"' in tag.group(0)
        assert f"{field}-error" in tag.group(0)  # aria-describedby names the message
    assert 'value="Bad Name!"' in html  # what was typed is kept

    problem = assert_problem(
        post_upload(client, "/admin/upload", csrf, None, headers=JSON, name="x", public="true"), 400
    )
    assert {e["field"] for e in problem["errors"]} == {"file", "title"}


def test_refused_upload_names_the_field_and_the_hint_then_srid_fixes_it(
    staff: tuple[FlaskClient, str],
) -> None:
    client, csrf = staff
    # SWEREF 99 TM metres in a GeoJSON without a crs member: implausible as WGS 84.
    points = [feature({"type": "Point", "coordinates": [674_000 + i, 6_580_000]}) for i in range(3)]
    body = json.dumps({"type": "FeatureCollection", "features": points}).encode()
    refused = post_upload(
        client, "/admin/upload", csrf, body, name="admin_sweref", title="Punkter", public="false"
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert '<a href="#srid">Filen kunde inte publiceras: <span lang="en">' in html
    assert "3006" in html
    listing = client.get("/admin", headers=HTML).get_data(as_text=True)
    assert "admin_sweref" not in listing  # nothing was published
    ok = post_upload(
        client,
        "/admin/upload",
        csrf,
        body,
        name="admin_sweref",
        title="Punkter",
        srid="3006",
        public="false",
    )
    assert ok.status_code == 303
    report = client.get(ok.headers["Location"], headers=HTML).get_data(as_text=True)
    assert "EPSG:3006" in report
    taken = post_upload(
        client, "/admin/upload", csrf, body, name="admin_sweref", title="Igen", public="true"
    )
    assert taken.status_code == 409 and '<a href="#name">' in taken.get_data(as_text=True)


def test_every_page_renders_in_swedish_and_english_and_remembers_the_choice(
    staff: tuple[FlaskClient, str],
) -> None:
    client, csrf = staff
    made = post_upload(
        client, "/admin/upload", csrf, parks(1), name="admin_lang", title="Språk", public="true"
    )
    assert made.status_code == 303
    pages = {
        "/admin": ("Alla lager", "All layers"),
        "/admin/upload": ("Ladda upp ett nytt lager", "Upload a new layer"),
        "/admin/layers/admin_lang": ("Sparade versioner", "Stored versions"),
        "/admin/layers/admin_lang/upload": ("Ny version av Språk", "New version of Språk"),
        "/admin/layers/admin_lang/versions/1/report": ("Lästa objekt", "Features read"),
        "/admin/layers/admin_lang/delete": ("Det går inte att ångra", "This cannot be undone"),
        "/admin/layers/admin_lang/preview": ("Förhandsvisning av Språk", "Preview of Språk"),
    }
    for url, (swedish, english) in pages.items():
        sv = client.get(url + "?lang=sv", headers=HTML)
        assert sv.status_code == 200, url
        html = sv.get_data(as_text=True)
        assert '<html lang="sv">' in html and swedish in html and english not in html, url
        assert 'lang="en" hreflang="en">English</a>' in html
        assert "Content-Security-Policy" in sv.headers and sv.headers["Cache-Control"] == "no-store"
        en = client.get(url + "?lang=en", headers=HTML).get_data(as_text=True)
        assert '<html lang="en">' in en and english in en and swedish not in en, url
    # The choice is kept in the session for the next page without ?lang=.
    assert '<html lang="en">' in client.get("/admin", headers=HTML).get_data(as_text=True)
    assert '<html lang="sv">' in client.get("/admin?lang=sv", headers=HTML).get_data(as_text=True)
    # Unknown languages fall back to the remembered one instead of failing.
    assert client.get("/admin?lang=xx", headers=HTML).status_code == 200


def test_raster_upload_through_the_form(
    staff: tuple[FlaskClient, str], tmp_path: Path, sample_database: str
) -> None:
    client, csrf = staff
    heights = (np.arange(100 * 100, dtype="float32").reshape(1, 100, 100) % 250) + 10
    tif = write_geotiff(tmp_path / "hojd.tif", heights)
    made = post_upload(
        client,
        "/admin/upload",
        csrf,
        tif.read_bytes(),
        "hojd.tif",
        name="admin_height",
        title="Höjd",
        public="true",
    )
    assert made.status_code == 303, made.get_data(as_text=True)[:800]
    report = client.get(made.headers["Location"], headers=HTML).get_data(as_text=True)
    assert "Rasterlager" in report and "100 × 100 bildpunkter" in report
    preview = client.get("/admin/layers/admin_height/preview", headers=HTML).get_data(as_text=True)
    assert 'data-overlay="/tiles/admin_height.json"' in preview
    assert (
        client.post("/admin/layers/admin_height/delete", data={"csrf_token": csrf}).status_code
        == 303
    )
    with psycopg.connect(sample_database) as conn:
        assert (
            conn.execute("SELECT 1 FROM webmap.layers WHERE name = 'admin_height'").fetchone()
            is None
        )


def test_too_large_upload_is_answered_on_the_form(sample_database: str, staff_user: str) -> None:
    app: Flask = __import__("webmap").create_app(
        {"database_url": sample_database, "pool_min_size": 0, "max_upload_bytes": 4096}
    )
    try:
        client = app.test_client()
        csrf = login(client, staff_user)
        big = post_upload(
            client, "/admin/upload", csrf, parks(60), name="admin_big", title="x", public="true"
        )
        assert big.status_code == 413
        assert '<a href="#file">' in big.get_data(as_text=True)
        assert_problem(
            post_upload(client, "/admin/upload", csrf, parks(60), headers=JSON, name="admin_big"),
            413,
        )
    finally:
        app.extensions["webmap.pool"].close()


def test_the_progress_script_gets_the_report_address_and_keeps_the_message(
    staff: tuple[FlaskClient, str],
) -> None:
    client, csrf = staff
    script = {"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"}
    made = post_upload(
        client,
        "/admin/upload",
        csrf,
        parks(2),
        headers=script,
        name="admin_xhr",
        title="Skript",
        public="true",
    )
    assert made.status_code == 201
    assert made.headers["Location"] == "/admin/layers/admin_xhr/versions/1/report"
    assert made.get_json()["report"]["stored"] == 3
    report = client.get(made.headers["Location"], headers=HTML).get_data(as_text=True)
    assert "Version 1 av admin_xhr är publicerad." in report
    # A refusal answers the form page with its errors, which the script puts in place.
    refused = post_upload(client, "/admin/upload", csrf, None, headers=script, name="admin_xhr2")
    assert refused.status_code == 400 and 'class="error-summary"' in refused.get_data(as_text=True)


def test_stockholm_districts_shapefile_through_the_form(
    staff: tuple[FlaskClient, str], shared_data: Path
) -> None:
    client, csrf = staff
    folder = shared_data / "stockholm-stad"
    archive = zip_files(
        {f"stadsdelar_3011.{ext}": folder / f"stadsdelar_3011.{ext}" for ext in SHAPEFILE_PARTS}
    )
    made = post_upload(
        client,
        "/admin/upload",
        csrf,
        archive,
        "stadsdelar.zip",
        name="admin_districts",
        title="Stadsdelar",
        public="true",
    )
    assert made.status_code == 303, made.get_data(as_text=True)[:800]
    report = client.get(made.headers["Location"], headers=HTML).get_data(as_text=True)
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", report))
    assert counts["Lästa objekt"] == counts["Sparade objekt"] == "117"
    assert counts["Koordinatsystem"] == "EPSG:3011 (SWEREF 99 18 00)"
    detail = client.get("/admin/layers/admin_districts", headers=HTML).get_data(as_text=True)
    west, south, east, north = map(
        float,
        re.search(  # type: ignore[union-attr]
            r"<dd>([\d.]+), ([\d.]+) – ([\d.]+), ([\d.]+)</dd>", detail
        ).groups(),
    )
    assert 17.7 < west < east < 18.3 and 59.2 < south < north < 59.5  # over Stockholm


def test_numbers_times_and_plurals_as_each_language_writes_them(
    staff: tuple[FlaskClient, str],
) -> None:
    """Babel's formats through the catalogues: times in Swedish time with their zone."""
    client, csrf = staff
    made = post_upload(
        client, "/admin/upload", csrf, parks(1), name="admin_formats", title="Format", public="true"
    )
    assert made.status_code == 303
    for lang in ("sv", "en"):
        page = client.get(f"/admin/layers/admin_formats?lang={lang}", headers=HTML)
        html = page.get_data(as_text=True)
        assert re.search(r'<time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d CES?T</time>', html)
    delete = client.get("/admin/layers/admin_formats/delete?lang=sv", headers=HTML)
    assert "Lagret och dess enda sparade version tas bort." in delete.get_data(as_text=True)
    delete = client.get("/admin/layers/admin_formats/delete?lang=en", headers=HTML)
    assert "The layer and its only stored version are deleted." in delete.get_data(as_text=True)
    upload = client.get("/admin/upload?lang=sv", headers=HTML).get_data(as_text=True)
    assert re.search(r"Högst \d[\d\u00a0]*(,\d)? [MG]B\.", upload)
    upload = client.get("/admin/upload?lang=en", headers=HTML).get_data(as_text=True)
    assert re.search(r"At most \d[\d,]*(\.\d)? [MG]B\.", upload)
