"""The widget's HTTP side: bundle delivery, the demo e-service's form and receipt, the embed page.

Malformed input gets RFC 9457 problem JSON with a 4xx status, never a 500.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess

import pytest
from flask import Flask
from flask.testing import FlaskClient

from webmap.pages.widget import DIST

FEATURE = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [18.075, 59.338]},
    "properties": {
        "label": "Fastighet Stockholm Fiktiva Rönnen 2, nära Linnégatan 2, Stockholm",
        "sweref99tm": {"srid": 3006, "e": 674891.0, "n": 6581728.0},
        "address": {"label": "Linnégatan 2, Stockholm", "distance_m": 12.0},
        "property": {"designation": "Stockholm Fiktiva Rönnen 2", "fictional": True},
        "municipality": {"code": "0180", "name": "Stockholm"},
        "source": "map",
        "zoom": 16,
    },
}


def _is_problem(response, status: int, slug: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body: dict = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["type"] == f"/problems/{slug}", body
    return body


def test_demo_form_is_sent_with_a_strict_csp(client: FlaskClient) -> None:
    response = client.get("/demo")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    html = response.get_data(as_text=True)
    assert '<webmap-picker name="location" required lang="sv"' in html
    assert 'name="location_text"' in html  # the no-JavaScript fallback
    assert "<script>" not in html  # no inline script


def test_demo_receipt_shows_what_was_received(client: FlaskClient) -> None:
    response = client.post(
        "/demo",
        data={
            "kind": "belysning",
            "description": "Lampan är släckt",
            "location": json.dumps(FEATURE),
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Stockholm Fiktiva Rönnen 2" in html
    assert "Linnégatan 2, Stockholm" in html
    assert "Lampan är släckt" in html
    assert "6581728.0" in html


def test_demo_receipt_takes_the_fallback_text(client: FlaskClient) -> None:
    response = client.post("/demo", data={"kind": "klotter", "location_text": "Karlavägen 10"})
    assert response.status_code == 200
    assert "Karlavägen 10" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "location",
    [
        "not json",
        json.dumps({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}}),
        json.dumps({**FEATURE, "geometry": {"type": "Point", "coordinates": [18.0]}}),
        json.dumps({**FEATURE, "geometry": {"type": "Point", "coordinates": [674891, 6581728]}}),
        json.dumps([1, 2]),
        "x" * 30_000,
        "[" * 5_000,  # nested too deep for Python's JSON parser: was a 500 (RecursionError)
        '{"type": "Feature", "properties": ' + "[" * 3_000 + "]" * 3_000 + "}",
    ],
)
def test_demo_rejects_malformed_locations(client: FlaskClient, location: str) -> None:
    _is_problem(client.post("/demo", data={"location": location}), 400, "invalid-input")


def test_demo_rejects_an_unknown_language(client: FlaskClient) -> None:
    _is_problem(client.get("/demo?lang=xx"), 400, "invalid-input")


def test_widget_bundle_is_served_as_a_cors_module(client: FlaskClient) -> None:
    if not (DIST / "webmap.js").is_file():
        pytest.fail("the widget is not built: run scripts/install.sh (npm run build)")
    response = client.get("/widget/webmap.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert b"webmap-picker" in response.get_data()
    response.close()


def test_widget_bundle_is_sent_in_brotli_to_browsers_that_take_it(client: FlaskClient) -> None:
    """The build's Brotli copy (about 16 % smaller than gzip: the script is the last of the
    map's first bytes on a slow link), gzip to clients without Brotli, each its own ETag."""
    if not (DIST / "webmap.js.br").is_file():
        pytest.fail("the widget is not built: run scripts/install.sh (npm run build)")
    sent = {}
    for accepts in ("gzip, deflate, br, zstd", "gzip", "br;q=0, gzip", ""):
        response = client.get("/widget/webmap.js", headers={"Accept-Encoding": accepts})
        assert response.status_code == 200 and response.headers["Vary"] == "Accept-Encoding"
        sent[accepts] = (response.headers.get("Content-Encoding"), response.get_data())
        again = client.get(
            "/widget/webmap.js",
            headers={"Accept-Encoding": accepts, "If-None-Match": response.headers["ETag"]},
        )
        assert again.status_code == 304
    plain = (DIST / "webmap.js").read_bytes()
    assert sent["gzip, deflate, br, zstd"] == ("br", (DIST / "webmap.js.br").read_bytes())
    assert sent["gzip"][0] == "gzip" and gzip.decompress(sent["gzip"][1]) == plain
    assert sent["br;q=0, gzip"] == sent["gzip"]
    assert sent[""] == (None, plain)
    # The Brotli copy is the same file: Node (the build's own zlib) unpacks it.
    node = shutil.which("node")
    if node is not None:
        unpacked = subprocess.run(
            [
                node,
                "-e",
                "process.stdout.write(require('zlib').brotliDecompressSync("
                "require('fs').readFileSync(0)))",
            ],
            input=sent["gzip, deflate, br, zstd"][1],
            capture_output=True,
            check=True,
        )
        assert unpacked.stdout == plain


def test_unknown_widget_files_are_problems(client: FlaskClient) -> None:
    _is_problem(client.get("/widget/../settings.py"), 404, "not-found")
    _is_problem(client.get("/widget/secret.txt"), 404, "not-found")


def test_embed_only_for_allow_listed_origins(app: Flask, client: FlaskClient) -> None:
    _is_problem(client.get("/embed?origin=https://evil.example"), 400, "invalid-input")
    app.config["WEBMAP_EMBED_ORIGINS"] = ["https://e-tjanst.example.se"]
    response = client.get("/embed?origin=https://e-tjanst.example.se&lang=en")
    assert response.status_code == 200
    assert (
        "frame-ancestors https://e-tjanst.example.se" in response.headers["Content-Security-Policy"]
    )
    html = response.get_data(as_text=True)
    assert '<meta name="webmap-parent-origin" content="https://e-tjanst.example.se">' in html
    assert 'lang="en"' in html
    standalone = client.get("/embed")
    assert standalone.status_code == 200
    assert "webmap-parent-origin" not in standalone.get_data(as_text=True)


def test_resolve_turns_a_property_designation_into_a_picker_value(client: FlaskClient) -> None:
    there = client.get("/api/reverse?lon=18.075&lat=59.338").get_json()
    designation = there["property"]["designation"]
    response = client.get("/api/resolve", query_string={"q": designation})
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    value = response.get_json()
    assert value["type"] == "Feature" and value["geometry"]["type"] == "Point"
    props = value["properties"]
    assert props["property"]["designation"] == designation
    assert props["address"]["label"]  # filled in by a reverse lookup at the property
    assert props["municipality"]["code"] == "0180"
    assert props["sweref99tm"]["srid"] == 3006
    assert props["label"].startswith(f"Fastighet {designation}, nära ")
    assert props["source"] == "text"


def test_resolve_an_address_keeps_its_letters(client: FlaskClient) -> None:
    response = client.get("/api/resolve", query_string={"q": "Karlavägen"})
    assert response.status_code == 200
    assert "Karlavägen" in response.get_json()["properties"]["address"]["label"]


def test_resolve_problems(client: FlaskClient) -> None:
    _is_problem(client.get("/api/resolve"), 400, "invalid-input")
    _is_problem(client.get("/api/resolve", query_string={"q": "x" * 500}), 400, "invalid-input")
    nowhere = client.get("/api/resolve", query_string={"q": "Qwzxvbnmgatan 999"})
    _is_problem(nowhere, 404, "not-found")


def test_receipt_shows_a_static_map_with_alt_text(client: FlaskClient) -> None:
    html = client.post("/demo", data={"location": json.dumps(FEATURE)}).get_data(as_text=True)
    assert 'id="received-map"' in html
    assert f'alt="Karta som visar {FEATURE["properties"]["label"]}"' in html
    src = html.split('id="received-map"')[1].split('src="')[1].split('"')[0].replace("&amp;", "&")
    image = client.get(src)
    assert image.status_code == 200 and image.mimetype == "image/png"


def test_cors_only_for_allow_listed_origins(app: Flask, client: FlaskClient) -> None:
    app.config["WEBMAP_EMBED_ORIGINS"] = ["https://e-tjanst.example.se"]
    allowed = {"Origin": "https://e-tjanst.example.se"}
    for path in ("/styles/basemap.json", "/tiles/basemap.json", "/api/search?q=Karlav%C3%A4gen"):
        response = client.get(path, headers=allowed)
        assert response.status_code == 200, path
        assert response.headers["Access-Control-Allow-Origin"] == "https://e-tjanst.example.se"
        assert "Origin" in response.headers["Vary"]
        assert "Access-Control-Allow-Credentials" not in response.headers
    other = client.get("/api/search?q=Karlav%C3%A4gen", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in other.headers["Vary"]
    # Pages and staff endpoints are never shared.
    page = client.get("/demo", headers=allowed)
    assert "Access-Control-Allow-Origin" not in page.headers


def test_embed_origins_come_from_the_settings(sample_database: str) -> None:
    from webmap import create_app

    application = create_app(
        {
            "database_url": sample_database,
            "pool_min_size": 0,
            "embed_origins": "https://a.example.se, https://b.example.se/",
        }
    )
    try:
        client = application.test_client()
        response = client.get("/embed?origin=https://b.example.se")
        assert response.status_code == 200
        styled = client.get("/styles/basemap.json", headers={"Origin": "https://a.example.se"})
        assert styled.headers["Access-Control-Allow-Origin"] == "https://a.example.se"
    finally:
        application.extensions["webmap.pool"].close()


def test_the_whole_widget_is_at_most_150_kb_gzipped() -> None:
    """Every file an e-service's one script tag brings in (webmap.js and any chunk beside it),
    gzipped as /widget/ serves them: the budget of issues 5, 10 and 15."""
    files = sorted(DIST.glob("webmap*.js"))
    if not files:
        pytest.fail("the widget is not built: run scripts/install.sh (npm run build)")
    total = sum(len(gzip.compress(path.read_bytes(), 9)) for path in files)
    assert total <= 150 * 1024, f"{total / 1024:.1f} KB gzipped: {[p.name for p in files]}"
