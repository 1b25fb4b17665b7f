"""A municipality's external basemap: what its URL may be, and that only its origin, rebuilt
strictly, ever reaches a page's Content-Security-Policy (issue 12 §3). The drawing itself is
tests/browser/test_external_basemap.py."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from flask.testing import FlaskClient
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from layers.basemaps import basemap_origin, check_basemap
from layers.errors import InvalidInput
from tests.tenant_helpers import HARNOSAND, bearer, ensure_municipalities
from webmap.http.security_headers import HTML_POLICY
from webmap.settings import Settings

WMTS = "/wmts/topowebb/default/3006/{TileMatrix}/{TileRow}/{TileCol}.png"


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://maps.example.se/{z}/{x}/{y}.png", "https://maps.example.se"),
        ("https://Maps.Example.SE:8443" + WMTS, "https://maps.example.se:8443"),
        ("https://maps.example.se:443/t/{z}/{x}/{y}.png?key=a;b", "https://maps.example.se"),
        ("https://xn--kartn-jua.example.se/{z}/{x}/{y}", "https://xn--kartn-jua.example.se"),
        ("https://maps.example.se?layer=topo&z={z}&x={x}&y={y}", "https://maps.example.se"),
    ],
)
def test_the_origin_is_scheme_dns_name_and_a_port_only_when_not_default(
    url: str, origin: str
) -> None:
    assert basemap_origin(url) == origin


@pytest.mark.parametrize(
    "url",
    [
        # Attempts to write CSP syntax through the host.
        "https://a.example.se;script-src 'unsafe-inline'/{z}/{x}/{y}.png",
        "https://a.example.se; img-src */{z}/{x}/{y}.png",
        "https://*.example.se/{z}/{x}/{y}.png",
        "https://a.example.se,evil.example.org/{z}/{x}/{y}.png",
        "https://'self'/{z}/{x}/{y}.png",
        'https://a.example.se"/{z}/{x}/{y}.png',
        "https://a.example.se\\@evil.example.org/{z}/{x}/{y}.png",
        "https://a.example.se\n/{z}/{x}/{y}.png",
        "https://a.example.se /{z}/{x}/{y}.png",
        # Not a public DNS name, or not https.
        "https://localhost/{z}/{x}/{y}.png",
        "https://tiles/{z}/{x}/{y}.png",
        "https://10.0.0.1/{z}/{x}/{y}.png",
        "https://[::1]/{z}/{x}/{y}.png",
        "https://kartbild.köping.se/{z}/{x}/{y}.png",
        "http://maps.example.se/{z}/{x}/{y}.png",
        "http://localhost:8080/{z}/{x}/{y}.png",  # loopback, but not allowed by the setting
        "//maps.example.se/{z}/{x}/{y}.png",
        "https://u@maps.example.se/{z}/{x}/{y}.png",
        "https://maps.example.se:99999/{z}/{x}/{y}.png",
        "https://maps.example.se:0/{z}/{x}/{y}.png",
        "https://maps.example.se:/{z}/{x}/{y}.png",
        "https://{s}.maps.example.se/{z}/{x}/{y}.png",
        "javascript:alert(1)//{z}/{x}/{y}",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput):
        basemap_origin(url)


def test_plain_http_only_for_the_loopback_hosts_named_for_tests() -> None:
    url = "http://localhost:8080/tiles/x/{z}/{x}/{y}.png"
    assert basemap_origin(url, ("localhost",)) == "http://localhost:8080"
    assert basemap_origin("http://127.0.0.1:81/{z}", ("127.0.0.1",)) == "http://127.0.0.1:81"
    with pytest.raises(InvalidInput):  # a public host stays https-only whatever is listed
        basemap_origin("http://maps.example.se/{z}/{x}/{y}.png", ("maps.example.se",))
    with pytest.raises(ValidationError):
        Settings(insecure_basemap_hosts="localhost,maps.example.se")
    assert Settings(insecure_basemap_hosts=" localhost ").insecure_basemap_host_list == (
        "localhost",
    )


@pytest.mark.parametrize(
    ("kind", "url", "ok"),
    [
        ("xyz", "https://t.example.se/{z}/{x}/{-y}.png", True),
        ("xyz", "https://t.example.se/{z}/{x}/{y}.png", True),
        ("wmts", "https://t.example.se" + WMTS, True),
        ("wmts", "https://t.example.se/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}", False),
        ("wmts", "https://t.example.se/{Style}/{TileMatrix}/{TileRow}/{TileCol}", False),
        ("xyz", "https://t.example.se/{s}/{z}/{x}/{y}.png", False),
        ("xyz", "https://t.example.se/{TileMatrix}/{x}/{y}.png", False),
        ("wmts", "https://t.example.se/{z}/{TileRow}/{TileCol}", False),
    ],
)
def test_each_kind_has_its_own_placeholders(kind: str, url: str, ok: bool) -> None:
    value = {"kind": kind, "url": url, "crs": 3006, "attribution": "© Lantmäteriet"}
    if ok:
        assert check_basemap(value)["url"] == url
    else:
        with pytest.raises(InvalidInput):
            check_basemap(value)


@pytest.fixture
def harnosand(sample_database: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(sample_database, autocommit=True) as conn:
        ensure_municipalities(conn)
        yield conn
        conn.execute("UPDATE webmap.tenants SET basemap = NULL WHERE code = %s", [HARNOSAND])


def _store(conn: psycopg.Connection[tuple[object, ...]], url: str) -> None:
    """Write the basemap straight into the table, past the validator (an old or hand-made row)."""
    value = {"kind": "xyz", "url": url, "crs": 3857, "attribution": "©"}
    conn.execute(
        "UPDATE webmap.tenants SET basemap = %s WHERE code = %s", [Jsonb(value), HARNOSAND]
    )


def test_the_page_csp_names_the_basemap_origin_and_nothing_else(
    client: FlaskClient, harnosand: psycopg.Connection[tuple[object, ...]]
) -> None:
    _store(harnosand, "https://Topo.Example.se:8443/x/{z}/{x}/{y}.png")
    for path in (f"/demo?municipality={HARNOSAND}", f"/embed?municipality={HARNOSAND}"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "img-src 'self' data: blob: https://topo.example.se:8443;" in policy, path
        assert "connect-src 'self' https://topo.example.se:8443;" in policy, path
        assert policy.count("example") == 2, policy
    # Sundsvall without a basemap (another module's tests may have given it one).
    harnosand.execute("UPDATE webmap.tenants SET basemap = NULL WHERE code = '2281'")
    for path in ("/demo", "/embed", "/demo?municipality=2281", "/"):
        assert "example" not in client.get(path).headers["Content-Security-Policy"], path


@pytest.mark.parametrize(
    "url",
    [
        "https://a.example.se;script-src 'unsafe-inline'/{z}/{x}/{y}.png",
        "https://a.example.se *.evil.example.org/{z}/{x}/{y}.png",
        "http://localhost:8080/{z}/{x}/{y}.png",  # the app here allows no insecure host
    ],
)
def test_a_stored_url_that_is_not_valid_now_never_reaches_the_header(
    client: FlaskClient, harnosand: psycopg.Connection[tuple[object, ...]], url: str
) -> None:
    _store(harnosand, url)
    response = client.get(f"/demo?municipality={HARNOSAND}")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith(HTML_POLICY + ";")
    embed = client.get(f"/embed?municipality={HARNOSAND}")
    assert embed.headers["Content-Security-Policy"].startswith(HTML_POLICY + ";")


def test_the_api_refuses_csp_syntax_in_the_host(client: FlaskClient, sample_database: str) -> None:
    with psycopg.connect(sample_database, autocommit=True) as conn:
        ensure_municipalities(conn)
    admin = bearer(sample_database, "api-basemap-admin", roles={HARNOSAND: "admin"})
    answer = client.patch(
        f"/api/municipalities/{HARNOSAND}",
        json={
            "basemap": {
                "kind": "xyz",
                "url": "https://a.example.se;script-src */{z}/{x}/{y}.png",
                "crs": 3857,
                "attribution": "©",
            }
        },
        headers=admin,
    )
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
