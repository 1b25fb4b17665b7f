"""Security headers and private layers through the Flask client (issue 8, section 2).

Every GET route of ``app.url_map`` is requested (anonymously and as staff, asking for HTML);
every answer must carry nosniff, Referrer-Policy and a CSP whose ``frame-ancestors`` is
``'none'`` — except ``/embed``, which only allow-listed origins may frame. HTML answers must
carry the strict page policy, and their markup must need nothing that policy forbids. Private
layers: their TileJSON and tiles are never cacheable by shared caches, ``/healthz`` does not
name them to anonymous callers, and an uploaded attribution reaches HTML readers as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import morecantile
import numpy as np
import pytest
from flask import Flask
from werkzeug.routing import Rule

from tests.app_helpers import app_with
from tests.layers_helpers import token_headers, upload
from tests.raster_helpers import write_geotiff

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
EVIL = '<a href="https://evil.example">x</a><img src=x onerror=alert(1)>'
SECRET = "hemliga_parker"  # a private vector layer
SECRET_RASTER = "hemlig_raster"  # a private raster layer
TMS = morecantile.tms.get("WebMercatorQuad")
# Pages that must be among the HTML answers, so the enumeration below cannot pass vacuously.
HTML_ENDPOINTS = {
    "pages.index",
    "auth.login_page",
    "widget.demo_form",
    "widget.demo_building_permit",
    "eplatform.eplatform_form",
    "widget.embed_page",
    "admin.index",
    "admin.upload_form",
    "admin.layer",
    "admin.report",
    "admin.version_form",
    "admin.delete_form",
    "admin.preview",
}


def _parks() -> bytes:
    ring = [[18.05, 59.33], [18.06, 59.33], [18.06, 59.34], [18.05, 59.34], [18.05, 59.33]]
    feature = {
        "type": "Feature",
        "properties": {"namn": "Hemlig park"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


@pytest.fixture(scope="module")
def secured_app(sample_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app with a private vector layer and a private raster layer (evil attributions)."""
    folder = tmp_path_factory.mktemp("security-headers")
    with app_with(sample_database, raster_dir=str(folder / "rasters")) as application:
        client = application.test_client()
        staff = token_headers(sample_database, "publish", "security-headers")
        made = upload(
            client, staff, _parks(), "parker.geojson", SECRET, public="false", attribution=EVIL
        )
        assert made.status_code == 201, made.get_json()
        tif = write_geotiff(
            folder / "hojd.tif", np.arange(10_000, dtype="uint8").reshape(1, 100, 100)
        )
        made = upload(
            client, staff, tif, "hojd.tif", SECRET_RASTER, public="false", attribution=EVIL
        )
        assert made.status_code == 201, made.get_json()
        yield application
        for name in (SECRET, SECRET_RASTER):
            client.delete(f"/api/layers/{name}", headers=staff)


@pytest.fixture(scope="module")
def staff(sample_database: str) -> dict[str, str]:
    return token_headers(sample_database, "publish", "security-headers-reader")


def csp_of(response: Any) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    policy = response.headers.get("Content-Security-Policy", "")
    assert policy, f"{response.request.path}: no Content-Security-Policy"
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_every_response_headers(response: Any, framed_by: str = "'none'") -> None:
    where = f"{response.request.method} {response.request.path} ({response.status_code})"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where
    assert csp_of(response).get("frame-ancestors") == framed_by, where
    if framed_by == "'none'":
        assert response.headers.get("X-Frame-Options") == "DENY", where
    else:
        assert "X-Frame-Options" not in response.headers, where


def assert_html_page_headers(response: Any, framed_by: str = "'none'") -> None:
    """The strict page policy, and markup that needs nothing it forbids."""
    where = f"{response.request.method} {response.request.path} ({response.status_code})"
    assert response.mimetype == "text/html", where
    assert_every_response_headers(response, framed_by)
    csp = csp_of(response)
    assert csp["default-src"] == "'self'", where
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'", where
    assert csp["object-src"] == "'none'" and csp["base-uri"] == "'self'", where
    assert set(csp["img-src"].split()) == {"'self'", "data:", "blob:"}, where
    assert csp["connect-src"] == "'self'" and csp["form-action"] == "'self'", where
    assert "unsafe" not in response.headers["Content-Security-Policy"], where
    found = _ForbiddenMarkup()
    found.feed(response.get_data(as_text=True))
    assert found.problems == [], f"{where}: {found.problems}"


class _ForbiddenMarkup(HTMLParser):
    """What the page policy would block: inline script or style, handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("inline <style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…>")


def _sample_url(rule: Rule) -> str:
    """A URL of ``rule`` with plausible values (the private layer for the admin pages)."""
    values: dict[str, Any] = {}
    for argument in rule.arguments:
        if argument == "name":
            values[argument] = SECRET if rule.endpoint.startswith("admin.") else "basemap"
        elif argument in {"z", "x", "y"}:
            values[argument] = "0"
        elif argument == "version":
            values[argument] = 1
        elif argument == "fmt":
            values[argument] = "png"
        elif argument == "collection_id":
            values[argument] = "municipalities"
        elif argument == "feature_id":
            values[argument] = "1"
        elif argument == "code":
            values[argument] = "2281"
        elif argument == "fontstack":
            values[argument] = "Noto Sans Regular"
        elif argument == "range":
            values[argument] = "0-255"
        elif argument == "tile_matrix_set_id":
            values[argument] = "SWEREF99TM"
        elif argument in {"tile_matrix", "tile_row", "tile_col"}:
            values[argument] = "0"
        elif argument == "filename":
            values[argument] = "webmap.js" if rule.endpoint.startswith("widget.") else "demo.css"
        else:
            raise AssertionError(f"no sample value for <{argument}> of {rule.rule}")
    url = rule.rule
    for key, value in values.items():
        url = re.sub(rf"<(?:[^:>]+:)?{key}>", str(value), url)
    return url


def test_every_get_route_sends_the_headers_and_html_pages_the_strict_policy(
    secured_app: Flask, staff: dict[str, str]
) -> None:
    rules = [r for r in secured_app.url_map.iter_rules() if "GET" in (r.methods or set())]
    assert len(rules) > 30
    html_endpoints: set[str] = set()
    for rule in rules:
        url = _sample_url(rule)
        for headers in (HTML, {**HTML, **staff}):
            response = secured_app.test_client().get(url, headers=headers)
            assert response.status_code < 500, (url, response.get_data(as_text=True)[:300])
            if response.mimetype == "text/html":
                html_endpoints.add(rule.endpoint)
                assert_html_page_headers(response)
            else:
                assert_every_response_headers(response)
                assert csp_of(response)["default-src"] == "'none'", url
            response.close()
    assert html_endpoints >= HTML_ENDPOINTS, HTML_ENDPOINTS - html_endpoints


def test_error_pages_and_posted_pages_send_the_headers(
    secured_app: Flask, staff: dict[str, str]
) -> None:
    client = secured_app.test_client()
    # HTML error pages: the admin's "no such layer" page, a failed login, the demo receipt.
    missing = client.get("/admin/layers/no_such_layer", headers={**HTML, **staff})
    assert missing.status_code == 404
    assert_html_page_headers(missing)
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    failed = client.post(
        "/login",
        data={"username": "nobody", "password": "wrong", "csrf_token": csrf.group(1)},
        headers=HTML,
    )
    assert failed.status_code >= 400
    assert_html_page_headers(failed)
    receipt = client.post("/demo", data={"location_text": "Karlavägen 10"})
    assert receipt.status_code == 200
    assert_html_page_headers(receipt)
    # Problem JSON for unknown URLs, wrong methods and bad input: the same headers.
    for response in (
        client.get("/no/such/page", headers=HTML),
        client.delete("/demo"),
        client.get("/embed?origin=https://evil.example"),
    ):
        assert response.mimetype == "application/problem+json"
        assert_every_response_headers(response)


def test_login_cannot_be_framed_even_with_an_allow_list(secured_app: Flask) -> None:
    secured_app.config["WEBMAP_EMBED_ORIGINS"] = ["https://e-tjanst.example.se"]
    try:
        response = secured_app.test_client().get("/login")
    finally:
        secured_app.config.pop("WEBMAP_EMBED_ORIGINS")
    assert_html_page_headers(response)
    assert csp_of(response)["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_embed_is_framed_by_allow_listed_origins_only(secured_app: Flask) -> None:
    client = secured_app.test_client()
    # No allow-list: nobody may frame it.
    assert_html_page_headers(client.get("/embed"))
    allowed = ["https://e-tjanst.example.se", "https://karta.kommun.example"]
    secured_app.config["WEBMAP_EMBED_ORIGINS"] = allowed
    try:
        standalone = client.get("/embed")
        one = client.get("/embed?origin=https://karta.kommun.example&lang=en")
        refused = client.get("/embed?origin=https://evil.example")
        demo = client.get("/demo")
    finally:
        secured_app.config.pop("WEBMAP_EMBED_ORIGINS")
    # Without ?origin: exactly the allow-list; with ?origin: only the parent that gets the value.
    assert_html_page_headers(standalone, " ".join(allowed))
    assert set(csp_of(standalone)["frame-ancestors"].split()) == set(allowed)
    assert_html_page_headers(one, "https://karta.kommun.example")
    assert refused.status_code == 400
    assert_every_response_headers(refused)
    assert_html_page_headers(demo)  # only /embed is ever framable


def _tile_of(tilejson: dict[str, Any], zoom: int) -> str:
    west, south, east, north = tilejson["bounds"]
    tile = TMS.tile((west + east) / 2, (south + north) / 2, zoom)
    template = str(tilejson["tiles"][0]).split("://", 1)[1].split("/", 1)[1]
    path = "/" + template.replace("{z}", str(tile.z)).replace("{x}", str(tile.x))
    return path.replace("{y}", str(tile.y))


@pytest.mark.parametrize(("name", "zoom"), [(SECRET, 14), (SECRET_RASTER, 14)])
def test_private_layers_are_never_cacheable_by_shared_caches(
    secured_app: Flask, staff: dict[str, str], name: str, zoom: int
) -> None:
    client = secured_app.test_client()
    assert client.get(f"/tiles/{name}.json").status_code == 404  # anonymous: not even named
    doc = client.get(f"/tiles/{name}.json", headers=staff)
    assert doc.status_code == 200
    assert doc.headers["Cache-Control"] == "private, no-store"
    tile_url = _tile_of(doc.get_json(), zoom)
    assert "?v=" in tile_url  # the versioned URL, which a public layer would get as immutable
    tile = client.get(tile_url, headers=staff)
    assert tile.status_code == 200 and tile.data, tile_url
    assert tile.headers["Cache-Control"] == "private, no-store"
    again = client.get(tile_url, headers={**staff, "If-None-Match": tile.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == "private, no-store"
    unversioned = client.get(tile_url.split("?")[0], headers=staff)
    assert "public" not in unversioned.headers["Cache-Control"]
    anonymous = client.get(tile_url)
    assert anonymous.status_code == 404 and "public" not in anonymous.headers["Cache-Control"]


def test_private_layers_ogc_answers_are_private(secured_app: Flask, staff: dict[str, str]) -> None:
    client = secured_app.test_client()
    for url in (
        "/ogc/collections",
        f"/ogc/collections/{SECRET}",
        f"/ogc/collections/{SECRET}/items",
    ):
        response = client.get(url, headers=staff)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "private, no-store", url
    assert SECRET not in client.get("/ogc/collections").get_data(as_text=True)


def test_public_layers_stay_cacheable(secured_app: Flask) -> None:
    client = secured_app.test_client()
    doc = client.get("/tiles/basemap.json")
    assert doc.headers["Cache-Control"] == "public, max-age=60"
    tile = client.get(_tile_of(doc.get_json(), 12))
    assert tile.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_healthz_names_private_layers_to_staff_only(
    secured_app: Flask, staff: dict[str, str]
) -> None:
    client = secured_app.test_client()
    anonymous = client.get("/healthz")
    assert anonymous.status_code == 200
    body = anonymous.get_data(as_text=True)
    assert SECRET not in body and SECRET_RASTER not in body
    assert "municipalities" in anonymous.get_json()["layers"]  # public layers are still listed
    staff_view = client.get("/healthz", headers=staff).get_json()["layers"]
    assert SECRET in staff_view and SECRET_RASTER in staff_view
    assert anonymous.headers["Cache-Control"] == "no-store"


def test_attribution_reaches_html_readers_as_text(
    secured_app: Flask, staff: dict[str, str]
) -> None:
    """TileJSON and style ``attribution`` is inserted as HTML by OpenLayers, MapLibre and
    Leaflet, so it is sent escaped; JSON for tools and the admin page keep the plain text."""
    client = secured_app.test_client()
    escaped = (
        "&lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt;"
        "&lt;img src=x onerror=alert(1)&gt;"
    )
    for name in (SECRET, SECRET_RASTER):
        doc = client.get(f"/tiles/{name}.json", headers=staff).get_json()
        assert doc["attribution"] == escaped
    style = client.get("/styles/basemap.json").get_json()
    assert "<" not in json.dumps(style["sources"]["basemap"]["attribution"])
    assert client.get(f"/api/layers/{SECRET}", headers=staff).get_json()["attribution"] == EVIL
    page = client.get(f"/admin/layers/{SECRET}", headers={**HTML, **staff})
    html = page.get_data(as_text=True)
    assert escaped.replace("&quot;", "&#34;") in html or escaped in html
    assert 'href="https://evil.example"' not in html and "<img" not in html
