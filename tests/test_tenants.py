"""Municipalities as tenants over HTTP: two municipalities, two publishers, an instance
administrator; every cross-tenant read of a private layer is 404 and every cross-tenant write
403, in the staff API and the tile, TileJSON and OGC reads; public layers stay readable by all;
``/api/municipalities`` and each municipality's own embedding origins (docs/security.md)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from layers.municipalities import get_municipality
from tests.app_helpers import app_with
from tests.layers_helpers import upload
from tests.tenant_helpers import (
    HARNOSAND,
    SUNDSVALL,
    SUNDSVALL_POINT,
    Tenants,
    bearer,
    points,
    set_up,
)
from webmap.api.municipalities import MunicipalityView

ORIGIN_S = "https://e-tjanst.sundsvall.example"


@pytest.fixture(scope="module")
def tenant_app(sample_database: str) -> Iterator[Flask]:
    with app_with(sample_database) as application:
        yield application


@pytest.fixture(scope="module")
def tenants(tenant_app: Flask, sample_database: str) -> Tenants:
    return set_up(sample_database, tenant_app.test_client(), "api")


@pytest.fixture
def http(tenant_app: Flask) -> FlaskClient:
    return tenant_app.test_client()


def _version(http: FlaskClient, tenants: Tenants, name: str) -> int:
    answer = http.get(f"/api/layers/{name}", headers=tenants.admin)
    assert answer.status_code == 200
    return int(answer.get_json()["version"])


def test_new_layers_belong_to_their_publishers_municipality(
    http: FlaskClient, tenants: Tenants
) -> None:
    detail = http.get(f"/api/layers/{tenants.sundsvall_private}", headers=tenants.sundsvall)
    assert detail.status_code == 200
    assert detail.get_json()["municipality"] == SUNDSVALL
    other = http.get(f"/api/layers/{tenants.harnosand_private}", headers=tenants.harnosand)
    assert other.get_json()["municipality"] == HARNOSAND


def test_another_municipalitys_private_layer_does_not_exist_for_reads(
    http: FlaskClient, tenants: Tenants
) -> None:
    name = tenants.sundsvall_private
    version = _version(http, tenants, name)
    for headers in (tenants.harnosand, {}):
        reads = (
            f"/api/layers/{name}",
            f"/tiles/{name}.json",
            f"/tiles/{name}/14/8987/4208.mvt?v={version}",
            f"/ogc/collections/{name}",
            f"/ogc/collections/{name}/items",
        )
        for url in reads:
            answer = http.get(url, headers=headers)
            expected = 401 if url.startswith("/api/") and not headers else 404
            assert answer.status_code == expected, (url, headers, answer.get_json())
            assert answer.mimetype == "application/problem+json"
    listed = http.get("/api/layers", headers=tenants.harnosand).get_json()["layers"]
    names = {layer["name"] for layer in listed}
    assert name not in names and tenants.harnosand_private in names
    assert tenants.sundsvall_public in names  # public layers are listed for everyone
    collections = http.get("/ogc/collections", headers=tenants.harnosand).get_json()
    assert name not in {c["id"] for c in collections["collections"]}
    health = http.get("/healthz", headers=tenants.harnosand).get_json()["layers"]
    assert name not in health and tenants.harnosand_private in health
    assert name in http.get("/healthz", headers=tenants.sundsvall).get_json()["layers"]


def test_own_private_layers_and_public_layers_are_readable(
    http: FlaskClient, tenants: Tenants
) -> None:
    for headers, name in (
        (tenants.sundsvall, tenants.sundsvall_private),
        (tenants.sundsvall_reader, tenants.sundsvall_private),
        (tenants.admin, tenants.sundsvall_private),
        (tenants.admin, tenants.harnosand_private),
        (tenants.harnosand, tenants.sundsvall_public),
        ({}, tenants.sundsvall_public),
    ):
        assert http.get(f"/tiles/{name}.json", headers=headers).status_code == 200, name
        assert http.get(f"/ogc/collections/{name}/items", headers=headers).status_code == 200
    detail = http.get(f"/api/layers/{tenants.sundsvall_public}", headers=tenants.harnosand)
    assert detail.status_code == 200
    narrowed = http.get(f"/api/layers?municipality={SUNDSVALL}", headers=tenants.admin)
    owners = {layer["municipality"] for layer in narrowed.get_json()["layers"]}
    assert owners == {SUNDSVALL}
    instance = http.get("/api/layers?municipality=instance", headers=tenants.admin)
    assert {layer["municipality"] for layer in instance.get_json()["layers"]} == {None}
    assert http.get("/api/layers?municipality=22", headers=tenants.admin).status_code == 400


@pytest.mark.parametrize("target", ["sundsvall_private", "sundsvall_public"])
def test_every_write_to_another_municipalitys_layer_is_refused(
    http: FlaskClient, tenants: Tenants, target: str
) -> None:
    name = getattr(tenants, target)
    before = http.get(f"/api/layers/{name}", headers=tenants.admin).get_json()
    writer = tenants.harnosand
    data = points(*SUNDSVALL_POINT, "hostile")
    refused = {
        "new version": upload(http, writer, data, "p.geojson", name, method="PUT"),
        "edit": http.patch(f"/api/layers/{name}", json={"title": "Taken"}, headers=writer),
        "publish": http.patch(f"/api/layers/{name}", json={"public": True}, headers=writer),
        "unpublish": http.patch(f"/api/layers/{name}", json={"public": False}, headers=writer),
        "rollback": http.post(f"/api/layers/{name}/rollback", json={}, headers=writer),
        "delete": http.delete(f"/api/layers/{name}", headers=writer),
    }
    for what, answer in refused.items():
        assert answer.status_code == 403, (what, answer.get_json())
        assert answer.get_json()["type"].endswith("/forbidden")
    after = http.get(f"/api/layers/{name}", headers=tenants.admin).get_json()
    for key in ("version", "title", "public", "municipality"):
        assert after[key] == before[key], key
    assert len(after["versions"]) == len(before["versions"])


def test_a_publisher_cannot_create_a_layer_for_another_municipality(
    http: FlaskClient, tenants: Tenants
) -> None:
    data = points(*SUNDSVALL_POINT, "x")
    foreign = upload(
        http, tenants.harnosand, data, "p.geojson", "api_foreign", municipality=SUNDSVALL
    )
    assert foreign.status_code == 403
    instance_wide = upload(
        http, tenants.harnosand, data, "p.geojson", "api_foreign", municipality="instance"
    )
    assert instance_wide.status_code == 403
    read_only = upload(http, tenants.sundsvall_reader, data, "p.geojson", "api_foreign")
    assert read_only.status_code == 403
    assert http.get("/api/layers/api_foreign", headers=tenants.admin).status_code == 404
    # Names are unique in the deployment: a name another municipality uses is taken (409).
    taken = upload(http, tenants.harnosand, data, "p.geojson", tenants.sundsvall_private)
    assert taken.status_code == 409


def test_instance_layers_are_changed_only_by_instance_administrators(
    http: FlaskClient, tenants: Tenants
) -> None:
    # The sample's basemap layers belong to the instance.
    municipalities = http.get("/api/layers/municipalities", headers=tenants.sundsvall)
    assert municipalities.status_code == 200
    assert municipalities.get_json()["municipality"] is None
    edit = http.patch(
        "/api/layers/municipalities", json={"description": "x"}, headers=tenants.sundsvall
    )
    assert edit.status_code == 403
    assert "instance" in edit.get_json()["detail"]


def test_an_instance_administrator_can_do_everything(http: FlaskClient, tenants: Tenants) -> None:
    admin = tenants.admin
    data = points(*SUNDSVALL_POINT, "admin")
    made = upload(http, admin, data, "p.geojson", "api_admin_made", municipality=HARNOSAND)
    assert made.status_code == 201, made.get_json()
    name = "api_admin_made"
    assert http.get(f"/api/layers/{name}", headers=admin).get_json()["municipality"] == HARNOSAND
    assert upload(http, admin, data, "p.geojson", name, method="PUT").status_code == 200
    assert (
        http.patch(f"/api/layers/{name}", json={"public": False}, headers=admin).status_code == 200
    )
    assert http.post(f"/api/layers/{name}/rollback", json={}, headers=admin).status_code == 200
    # Its municipality's publisher may now change it too, Sundsvall's may not.
    assert (
        http.patch(
            f"/api/layers/{name}", json={"title": "H"}, headers=tenants.harnosand
        ).status_code
        == 200
    )
    assert http.delete(f"/api/layers/{name}", headers=tenants.sundsvall).status_code == 403
    assert http.delete(f"/api/layers/{name}", headers=admin).status_code == 204
    instance = upload(http, admin, data, "p.geojson", "api_admin_instance")
    assert instance.status_code == 201
    detail = http.get("/api/layers/api_admin_instance", headers=admin).get_json()
    assert detail["municipality"] is None
    assert http.delete("/api/layers/api_admin_instance", headers=admin).status_code == 204


def test_a_publisher_of_two_municipalities_says_which(
    http: FlaskClient, tenants: Tenants, sample_database: str
) -> None:
    both = bearer(
        sample_database, "api-both", roles={SUNDSVALL: "publisher", HARNOSAND: "publisher"}
    )
    data = points(*SUNDSVALL_POINT, "both")
    unsaid = upload(http, both, data, "p.geojson", "api_both")
    assert unsaid.status_code == 400
    assert "municipality" in unsaid.get_json()["detail"]
    said = upload(http, both, data, "p.geojson", "api_both", municipality=HARNOSAND)
    assert said.status_code == 201
    assert http.delete("/api/layers/api_both", headers=both).status_code == 204


# -- /api/municipalities --------------------------------------------------------------------


def test_the_public_municipality_description(http: FlaskClient, tenants: Tenants) -> None:
    answer = http.get(f"/api/municipalities/{SUNDSVALL}")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["code"] == SUNDSVALL and body["name"] == "Sundsvall"
    west, south, east, north = body["bbox"]
    lon, lat = SUNDSVALL_POINT
    assert west < lon < east and south < lat < north
    assert 16 < west < east < 18.5 and 62 < south < north < 63  # Sundsvall, not Sweden
    e_min, n_min, e_max, n_max = body["bbox_sweref99tm"]
    assert 500_000 < e_min < e_max < 700_000 and 6_850_000 < n_min < n_max < 7_000_000
    assert "embed_origins" not in body
    MunicipalityView.model_validate(body)  # what the OpenAPI document promises
    assert answer.headers["Cache-Control"].startswith("public")
    listed = http.get("/api/municipalities").get_json()["municipalities"]
    assert {SUNDSVALL, HARNOSAND} <= {m["code"] for m in listed}
    assert http.get("/api/municipalities/0000").status_code == 404
    assert http.get("/api/municipalities/22x1").status_code == 400


def test_settings_are_changed_by_municipality_and_instance_admins_only(
    http: FlaskClient, tenants: Tenants, sample_database: str
) -> None:
    url = f"/api/municipalities/{SUNDSVALL}"
    assert http.patch(url, json={"theme_colour": "#005a9c"}).status_code == 401
    assert (
        http.patch(url, json={"theme_colour": "#005a9c"}, headers=tenants.sundsvall).status_code
        == 403
    )  # a publisher, not an admin
    assert (
        http.patch(
            url, json={"theme_colour": "#005a9c"}, headers=tenants.sundsvall_reader
        ).status_code
        == 403
    )  # an admin, but a read-only token
    hadmin = bearer(sample_database, "api-hadmin", roles={HARNOSAND: "admin"})
    assert http.patch(url, json={"theme_colour": "#005a9c"}, headers=hadmin).status_code == 403
    sadmin = bearer(sample_database, "api-sadmin", roles={SUNDSVALL: "admin"})
    changed = http.patch(
        url,
        json={
            "display_name": "Sundsvalls kommun",
            "theme_colour": "#005A9C",
            "embed_origins": [ORIGIN_S],
            "default_layers": [tenants.sundsvall_public, "municipalities"],
            "basemap": {
                "kind": "wmts",
                "url": "https://maps.example.se/wmts/topowebb/default/3006/{TileMatrix}/"
                "{TileRow}/{TileCol}.png",
                "crs": 3006,
                "attribution": "© Lantmäteriet",
            },
        },
        headers=sadmin,
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["embed_origins"] == [ORIGIN_S]
    public = http.get(url).get_json()
    assert public["display_name"] == "Sundsvalls kommun"
    assert public["theme_colour"] == "#005a9c"
    assert public["default_layers"] == [tenants.sundsvall_public, "municipalities"]
    assert public["basemap"]["crs"] == 3006
    # A default layer made private since is left out of the public description.
    hidden = http.patch(
        f"/api/layers/{tenants.sundsvall_public}", json={"public": False}, headers=tenants.sundsvall
    )
    assert hidden.status_code == 200
    try:
        assert http.get(url).get_json()["default_layers"] == ["municipalities"]
    finally:
        http.patch(
            f"/api/layers/{tenants.sundsvall_public}",
            json={"public": True},
            headers=tenants.sundsvall,
        )
    # Private, or another municipality's, layers cannot be a picker's default.
    for layer in (tenants.sundsvall_private, tenants.harnosand_private):
        refused = http.patch(url, json={"default_layers": [layer]}, headers=sadmin)
        assert refused.status_code == 400, layer


@pytest.mark.parametrize(
    "basemap",
    [
        {"kind": "xyz", "url": "http://tiles.example.se/{z}/{x}/{y}.png", "crs": 3857},
        {"kind": "xyz", "url": "https://tiles.example.se/{z}/{x}.png", "crs": 3857},
        {"kind": "xyz", "url": "https://tiles.example.se/{z}/{x}/{y}/{q}.png", "crs": 3857},
        {"kind": "xyz", "url": "https://{s}.tiles.example.se/{z}/{x}/{y}.png", "crs": 3857},
        {"kind": "xyz", "url": "https://10.0.0.1/{z}/{x}/{y}.png", "crs": 3857},
        {"kind": "xyz", "url": "https://u:p@tiles.example.se/{z}/{x}/{y}.png", "crs": 3857},
        {"kind": "xyz", "url": "https://tiles.example.se/{z}/{x}/{y}.png", "crs": 4326},
        {"kind": "xyz", "url": "https://tiles.example.se/{z}/{x}/{y}.png", "crs": 3857.5},
        {"kind": "xyz", "url": "https://tiles.example.se/{z}/{x}/{y}.png", "crs": True},
        {"kind": "wmts", "url": "https://tiles.example.se/{z}/{x}/{y}.png", "crs": 3006},
        {"kind": "tms", "url": "https://tiles.example.se/{z}/{x}/{y}.png", "crs": 3857},
        {"kind": "xyz", "url": "https://tiles.example.se/{z}/{x}/{y}.png", "crs": 3857, "x": 1},
    ],
)
def test_a_bad_basemap_is_refused(
    http: FlaskClient, tenants: Tenants, basemap: dict[str, object]
) -> None:
    body = {"attribution": "© Someone", **basemap}
    answer = http.patch(
        f"/api/municipalities/{HARNOSAND}", json={"basemap": body}, headers=tenants.admin
    )
    assert answer.status_code == 400, basemap
    assert answer.mimetype == "application/problem+json"


def test_a_municipalitys_origins_are_allowed_only_for_its_own_widget(
    http: FlaskClient, tenants: Tenants
) -> None:
    saved = http.patch(
        f"/api/municipalities/{SUNDSVALL}",
        json={"embed_origins": [ORIGIN_S]},
        headers=tenants.admin,
    )
    assert saved.status_code == 200
    own = http.get(f"/embed?origin={ORIGIN_S}&municipality={SUNDSVALL}")
    assert own.status_code == 200
    assert f"frame-ancestors {ORIGIN_S}" in own.headers["Content-Security-Policy"]
    assert f'municipality="{SUNDSVALL}"' in own.get_data(as_text=True)
    for query in (f"origin={ORIGIN_S}&municipality={HARNOSAND}", f"origin={ORIGIN_S}"):
        refused = http.get(f"/embed?{query}")
        assert refused.status_code == 400, query
        assert "frame-ancestors 'none'" in refused.headers["Content-Security-Policy"]
    # CORS: its own municipality's reads, not another's.
    mine = http.get(f"/api/municipalities/{SUNDSVALL}", headers={"Origin": ORIGIN_S})
    assert mine.headers.get("Access-Control-Allow-Origin") == ORIGIN_S
    theirs = http.get(f"/api/municipalities/{HARNOSAND}", headers={"Origin": ORIGIN_S})
    assert "Access-Control-Allow-Origin" not in theirs.headers
    search = http.get(f"/api/search?q=stor&municipality={SUNDSVALL}", headers={"Origin": ORIGIN_S})
    assert search.headers.get("Access-Control-Allow-Origin") == ORIGIN_S
    other = http.get(f"/api/search?q=stor&municipality={HARNOSAND}", headers={"Origin": ORIGIN_S})
    assert "Access-Control-Allow-Origin" not in other.headers
    unknown = http.get("/api/municipalities/2281", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in unknown.headers


def test_the_demo_plays_a_municipality(http: FlaskClient, tenants: Tenants) -> None:
    saved = http.patch(
        f"/api/municipalities/{HARNOSAND}",
        json={"display_name": "Härnösands kommun", "theme_colour": "#ffd700"},
        headers=tenants.admin,
    )
    assert saved.status_code == 200
    page = http.get(f"/demo?municipality={HARNOSAND}").get_data(as_text=True)
    assert "Härnösands kommun e-tjänster" in page
    assert f'municipality="{HARNOSAND}"' in page
    # The picker opens on the municipality by itself: no center or zoom to override it, and
    # its description is preloaded with the script.
    assert "center=" not in page and " zoom=" not in page
    assert f'href="/api/municipalities/{HARNOSAND}"' in page
    assert 'center="' in http.get("/demo").get_data(as_text=True)
    theme = http.get(f"/api/municipalities/{HARNOSAND}/theme.css")
    assert theme.mimetype == "text/css"
    # Gold is light: the header text must be dark to stay readable (WCAG 1.4.3).
    assert theme.get_data(as_text=True) == ".site { background: #ffd700; color: #1a1a1a; }\n"
    assert http.get("/demo?municipality=0000").status_code == 404
    assert http.get("/demo?municipality=abc").status_code == 400
    assert "Exempelkommunen" in http.get("/demo").get_data(as_text=True)


def test_the_viewer_opens_on_a_municipality(
    http: FlaskClient, tenants: Tenants, sample_database: str
) -> None:
    with psycopg.connect(sample_database) as conn:
        west, south, east, north = get_municipality(conn, SUNDSVALL).bbox_wgs84
    page = http.get(f"/?municipality={SUNDSVALL}").get_data(as_text=True)
    assert f'data-municipality="{SUNDSVALL}"' in page
    assert f'data-bbox="{west},{south},{east},{north}"' in page
    assert 'aria-label="Karta över Sundsvall' in page and "Bakgrundskarta – Sundsvall" in page
    plain = http.get("/").get_data(as_text=True)
    assert "data-municipality" not in plain and "Östermalm" in plain
    assert http.get("/?municipality=0000").status_code == 404
    refused = http.get("/?municipality=22810")
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"


def test_read_only_and_unscoped_credentials(
    http: FlaskClient, tenants: Tenants, sample_database: str
) -> None:
    nobody = bearer(sample_database, "api-nobody")  # neither instance-wide nor a municipality
    who = http.get("/api/session", headers=tenants.sundsvall_reader).get_json()
    assert who["municipalities"] == {SUNDSVALL: "admin"} and who["instance_admin"] is False
    assert http.get("/api/session", headers=nobody).get_json()["municipalities"] == {}
    assert http.get(f"/api/layers/{tenants.sundsvall_private}", headers=nobody).status_code == 404
    assert http.get(f"/api/layers/{tenants.sundsvall_public}", headers=nobody).status_code == 200
    made = upload(http, nobody, points(*SUNDSVALL_POINT, "n"), "p.geojson", "api_nobody")
    assert made.status_code == 403
    with psycopg.connect(sample_database) as conn:
        row = conn.execute(
            "SELECT count(*) FROM webmap.layers WHERE name = 'api_nobody'"
        ).fetchone()
    assert row == (0,)
