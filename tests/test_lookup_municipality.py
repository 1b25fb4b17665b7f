"""``?municipality=`` on ``/api/search`` and ``/api/reverse`` (issue 12 §2), on real PostGIS.

A database of its own: the municipality polygons, Östermalm's OSM addresses (Stockholm, 0180,
placed by point-in-polygon as any file without codes is) and a handful of addresses in central
Sundsvall (2281) on streets whose names Östermalm also has (Nybrogatan, Storgatan), stored as a
register stores them: with its municipality code. Searching with ``municipality=2281`` must put
Sundsvall first and still find Stockholm's, each hit saying whether it is inside.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from layers.lookup.normalize import HouseNumber
from layers.lookup.readers import read_osm_addresses
from layers.lookup.records import AddressRecord
from layers.lookup.store import import_addresses, load_municipalities
from layers.municipalities import add_municipality
from layers.schema import upgrade
from tests.app_helpers import scratch_database
from webmap import create_app

DATA = Path(__file__).resolve().parent.parent / "data"
SUNDSVALL, STOCKHOLM = "2281", "0180"
# Central Sundsvall (SWEREF 99 TM): around Stora torget.
E, N = 617_300.0, 6_919_900.0
SUNDSVALL_ROWS = [("Nybrogatan", 3), ("Nybrogatan", 5), ("Storgatan", 12), ("Storgatan", 14)]


@pytest.fixture(scope="module")
def app(database_url: str) -> Iterator[Flask]:
    with scratch_database(database_url, "muni") as url:
        upgrade(url)
        with psycopg.connect(url) as conn:
            load_municipalities(conn, DATA / "lantmateriet" / "ak_riks.zip")
            osm = read_osm_addresses(DATA / "osm" / "stockholm-ostermalm.osm")
            import_addresses(conn, osm.rows, osm.srid, "osm")
            rows = [
                AddressRecord(street, HouseNumber(number), E + i * 40, N + i * 10, city="Sundsvall")
                for i, (street, number) in enumerate(SUNDSVALL_ROWS)
            ]
            import_addresses(conn, rows, 3006, "register-2281", municipality=SUNDSVALL)
            # A tenant only (Härnösand has no addresses here): still a known code.
            add_municipality(conn, "2280", DATA / "lantmateriet" / "ak_riks.zip")
            conn.commit()
        application = create_app({"database_url": url, "pool_min_size": 0})
        try:
            yield application
        finally:
            application.extensions["webmap.pool"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _search(client: FlaskClient, **params: Any) -> dict[str, Any]:
    answer = client.get("/api/search", query_string=params)
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def _props(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [f["properties"] for f in body["features"]]


def test_without_a_municipality_stockholm_wins_and_nothing_is_marked(client: FlaskClient) -> None:
    hits = _props(_search(client, q="Nybrogatan"))
    assert hits[0]["municipality_code"] == STOCKHOLM  # the bigger street (more addresses)
    assert {h["municipality_code"] for h in hits} == {STOCKHOLM, SUNDSVALL}
    assert all("in_requested_municipality" not in h for h in hits)


@pytest.mark.parametrize("typed", ["Nybrogatan", "nybro", "ny", "Storgatan", "Nybrogatan "])
def test_a_municipality_puts_its_own_places_first(client: FlaskClient, typed: str) -> None:
    body = _search(client, q=typed, municipality=SUNDSVALL, limit=20)
    assert body["requested_municipality"] == {"code": SUNDSVALL, "name": "Sundsvall"}
    hits = _props(body)
    inside = [h["in_requested_municipality"] for h in hits]
    assert inside[0] is True, hits[:3]
    # Every inside hit before every outside one, and the outside ones still there.
    assert inside == sorted(inside, reverse=True)
    assert False in inside
    for hit in hits:
        assert hit["in_requested_municipality"] == (hit["municipality_code"] == SUNDSVALL)
        assert hit["municipality"] in {"Sundsvall", "Stockholm"}


def test_numbers_inside_come_first(client: FlaskClient) -> None:
    hits = _props(_search(client, q="Nybrogatan 5", municipality=SUNDSVALL))
    assert hits[0]["municipality_code"] == SUNDSVALL and hits[0]["number"] == 5
    assert any(h["municipality_code"] == STOCKHOLM for h in hits)
    stockholm_first = _props(_search(client, q="Nybrogatan 5", municipality=STOCKHOLM))
    assert stockholm_first[0]["municipality_code"] == STOCKHOLM


def test_a_typo_is_biased_too(client: FlaskClient) -> None:
    hits = _props(_search(client, q="Nybrogtan", municipality=SUNDSVALL))
    assert hits and hits[0]["municipality_code"] == SUNDSVALL


def test_a_served_municipality_without_addresses_marks_everything_outside(
    client: FlaskClient,
) -> None:
    body = _search(client, q="Nybrogatan", municipality="2280")
    assert body["requested_municipality"]["name"] == "Härnösand"
    assert body["features"]
    assert all(p["in_requested_municipality"] is False for p in _props(body))


@pytest.mark.parametrize("code", ["9999", "0000"])
def test_an_unknown_code_is_a_problem(client: FlaskClient, code: str) -> None:
    for url, params in (
        ("/api/search", {"q": "nybro"}),
        ("/api/reverse", {"lon": 17.3069, "lat": 62.3908}),
    ):
        answer = client.get(url, query_string={**params, "municipality": code})
        assert answer.status_code == 400, (url, answer.get_json())
        assert answer.mimetype == "application/problem+json"
        problem = answer.get_json()
        assert problem["type"].endswith("/problems/invalid-input")
        assert code in problem["detail"] and problem["title"]


@pytest.mark.parametrize("code", ["228", "22811", "abcd", "22 1", "", "２２８１"])
def test_a_malformed_code_is_a_problem(client: FlaskClient, code: str) -> None:
    for url, params in (
        ("/api/search", {"q": "nybro"}),
        ("/api/reverse", {"lon": 17.3069, "lat": 62.3908}),
    ):
        answer = client.get(url, query_string={**params, "municipality": code})
        assert answer.status_code == 400, (url, code, answer.get_json())
        assert answer.mimetype == "application/problem+json"


def test_reverse_says_whether_the_point_is_inside(client: FlaskClient) -> None:
    inside = client.get(
        "/api/reverse", query_string={"x": E, "y": N, "srid": 3006, "municipality": SUNDSVALL}
    ).get_json()
    assert inside["municipality"] == {"code": SUNDSVALL, "name": "Sundsvall"}
    assert inside["requested_municipality"] == {"code": SUNDSVALL, "name": "Sundsvall"}
    assert inside["in_requested_municipality"] is True
    assert inside["address"]["street"] == "Nybrogatan"
    outside = client.get(
        "/api/reverse", query_string={"lon": 18.075, "lat": 59.337, "municipality": SUNDSVALL}
    ).get_json()
    assert outside["municipality"]["code"] == STOCKHOLM
    assert outside["in_requested_municipality"] is False
    assert outside["requested_municipality"]["name"] == "Sundsvall"
    assert outside["message"] == "The point is in Stockholm, outside the municipality Sundsvall."
    assert outside["message_sv"] == "Platsen ligger i Stockholm, utanför kommunen Sundsvall."
    assert inside["message"] is None
    at_sea = client.get(
        "/api/reverse", query_string={"lon": 19.5, "lat": 61.0, "municipality": SUNDSVALL}
    ).get_json()
    assert at_sea["municipality"] is None and at_sea["in_requested_municipality"] is False
    plain = client.get("/api/reverse", query_string={"lon": 18.075, "lat": 59.337}).get_json()
    assert "requested_municipality" not in plain and "in_requested_municipality" not in plain
