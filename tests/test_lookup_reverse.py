"""``GET /api/reverse`` on the sample, and RFC 9457 answers to bad lookup input."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient
from pyproj import Transformer


@pytest.fixture(scope="module")
def known_address(sample_database: str) -> dict[str, Any]:
    """A real Östermalm address with its WGS 84 and SWEREF 99 TM coordinates."""
    with psycopg.connect(sample_database) as conn:
        row = conn.execute(
            "SELECT street, number, letter, ST_X(geom), ST_Y(geom), "
            "ST_X(ST_Transform(geom, 4326)), ST_Y(ST_Transform(geom, 4326)) "
            "FROM lookup.addresses WHERE street = 'Brahegatan' ORDER BY number LIMIT 1"
        ).fetchone()
    assert row is not None
    keys = ("street", "number", "letter", "e", "n", "lon", "lat")
    return dict(zip(keys, row, strict=True))


def _reverse(client: FlaskClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/reverse", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body: dict[str, Any] = response.get_json()
    return body


def test_reverse_by_lonlat_finds_address_property_and_municipality(
    client: FlaskClient, known_address: dict[str, Any]
) -> None:
    body = _reverse(client, lon=known_address["lon"], lat=known_address["lat"])
    address = body["address"]
    assert (address["street"], address["number"]) == ("Brahegatan", known_address["number"])
    assert address["distance_m"] < 0.5
    assert address["label"].startswith(f"Brahegatan {known_address['number']}")
    assert body["municipality"] == {"code": "0180", "name": "Stockholm"}
    assert body["inside_municipality"] is True
    assert body["message"] is None
    assert abs(body["sweref99tm"]["e"] - known_address["e"]) < 0.01
    assert abs(body["sweref99tm"]["n"] - known_address["n"]) < 0.01
    assert body["sweref99tm"]["axis_order"] == "n,e"
    prop = body["property"]
    if prop is not None:  # an address on a street corridor lies in no block
        assert prop["fictional"] is True and prop["label"].endswith("(fiktiv)")


def test_reverse_inside_a_fictional_unit(client: FlaskClient, sample_database: str) -> None:
    with psycopg.connect(sample_database) as conn:
        row = conn.execute(
            "SELECT designation, ST_X(ST_Transform(point, 4326)), ST_Y(ST_Transform(point, 4326)),"
            " ST_X(point), ST_Y(point) FROM lookup.properties ORDER BY designation LIMIT 1"
        ).fetchone()
    assert row is not None
    designation, lon, lat, e, n = row
    by_lonlat = _reverse(client, lon=lon, lat=lat)
    assert by_lonlat["property"] == {
        "designation": designation,
        "label": f"{designation} (fiktiv)",
        "fictional": True,
        "attribution": None,
    }
    by_sweref = _reverse(client, x=e, y=n, srid=3006)
    assert by_sweref["property"]["designation"] == designation
    e11, n11 = Transformer.from_crs(3006, 3011, always_xy=True).transform(e, n)
    by_zone = _reverse(client, x=e11, y=n11, srid=3011)
    assert by_zone["property"]["designation"] == designation
    assert abs(by_zone["sweref99tm"]["e"] - e) < 0.01


def test_point_outside_every_municipality_says_so(client: FlaskClient) -> None:
    # Öresund between Malmö and Copenhagen: inside Sweden's box, in no municipality.
    body = _reverse(client, lon=12.75, lat=55.62)
    assert body["inside_municipality"] is False
    assert body["municipality"] is None and body["address"] is None
    assert "outside every Swedish municipality" in body["message"]
    assert "utanför" in body["message_sv"]


def test_no_address_within_the_radius(client: FlaskClient) -> None:
    body = _reverse(client, lon=14.0, lat=63.0)  # Jämtland, far from Östermalm's addresses
    assert body["address"] is None and body["inside_municipality"] is True
    assert "No address within 250 m" in body["message"]


def _problem(client: FlaskClient, path: str, slug: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, query_string=params)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == 400 and body["title"] and body["detail"]
    assert body["type"] == f"/problems/{slug}", body
    return body


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({}, "invalid-input"),
        ({"q": ""}, "invalid-input"),
        ({"q": "   "}, "invalid-input"),
        ({"q": "a" * 101}, "invalid-input"),
        ({"q": "Storgatan\x00 1"}, "invalid-input"),
        ({"q": "Storgatan\x1b[31m"}, "invalid-input"),
        ({"q": "grev", "limit": "0"}, "invalid-input"),
        ({"q": "grev", "limit": "51"}, "invalid-input"),
        ({"q": "grev", "limit": "ten"}, "invalid-input"),
        ({"q": "grev", "near": "18.07"}, "invalid-input"),
        ({"q": "grev", "near": "x,y"}, "invalid-input"),
        ({"q": "grev", "near": "2.35,48.85"}, "outside-sweden"),  # Paris
        ({"q": "grev", "municipality": "180"}, "invalid-input"),
        ({"q": "grev", "srid": "4326"}, "unknown-srid"),
        ({"q": "grev", "srid": "EPSG:3006"}, "invalid-input"),
    ],
)
def test_bad_search_input_is_a_problem(
    client: FlaskClient, params: dict[str, str], slug: str
) -> None:
    _problem(client, "/api/search", slug, **params)


@pytest.mark.parametrize(
    ("params", "slug"),
    [
        ({}, "invalid-input"),
        ({"lon": "18.07"}, "invalid-input"),
        ({"lon": "abc", "lat": "59.3"}, "invalid-input"),
        ({"lon": "nan", "lat": "59.3"}, "invalid-input"),
        ({"lon": "inf", "lat": "59.3"}, "invalid-input"),
        ({"lon": "18.07", "lat": "59.33", "x": "674032", "y": "6580822"}, "invalid-input"),
        ({"x": "674032", "y": "6580822", "srid": "3857"}, "unknown-srid"),
        ({"x": "674032", "y": "6580822", "srid": "3006", "radius": "0"}, "invalid-input"),
        ({"x": "1", "y": "2", "srid": "3006"}, "outside-sweden"),
        ({"lon": "-74.0", "lat": "40.7"}, "outside-sweden"),  # New York
    ],
)
def test_bad_reverse_input_is_a_problem(
    client: FlaskClient, params: dict[str, str], slug: str
) -> None:
    _problem(client, "/api/reverse", slug, **params)


def test_swapped_coordinates_get_a_hint(client: FlaskClient) -> None:
    lonlat = _problem(client, "/api/reverse", "outside-sweden", lon=59.33, lat=18.07)
    assert "swapped" in lonlat["hint"]
    sweref = _problem(client, "/api/reverse", "outside-sweden", x=6580822, y=674032, srid=3006)
    assert "swapped" in sweref["hint"] and "easting" in sweref["hint"]
    near = _problem(client, "/api/search", "outside-sweden", q="grev", near="59.33,18.07")
    assert "swapped" in near["hint"]
    _problem(client, "/api/reverse", "unknown-srid", x=674032, y=6580822, srid=3857)


@pytest.mark.parametrize(
    "q",
    ["%", "_", "\\", "'; DROP TABLE lookup.addresses;--", "🏠", "12", "1:23", ",", "a,", "--",
     "g.", "Storgatan 99999", "ÅÄÖ", "x" * 100, "00000 11111"],
)  # fmt: skip
def test_odd_but_valid_text_is_an_ordinary_answer(client: FlaskClient, q: str) -> None:
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200
    assert response.get_json()["type"] == "FeatureCollection"
