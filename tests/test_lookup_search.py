"""``GET /api/search`` over the sample: Östermalm's OSM addresses and the fictional register."""

from __future__ import annotations

from typing import Any

import psycopg
from flask.testing import FlaskClient
from psycopg import sql
from pyproj import Transformer

from layers.lookup.normalize import natural_key
from layers.lookup.query import parse_query
from layers.lookup.search import search_statement
from layers.lookup.search_sql import SearchOptions


def _search(client: FlaskClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    features: list[dict[str, Any]] = body["features"]
    return features


def _labels(features: list[dict[str, Any]]) -> list[str]:
    return [f["properties"]["label"] for f in features]


def test_partial_street_gives_streets_with_a_point_on_the_street(
    client: FlaskClient, sample_database: str
) -> None:
    features = _search(client, q="grev tu")
    first = features[0]
    assert first["properties"]["kind"] == "street"
    assert first["properties"]["label"] == "Grev Turegatan, Stockholm"
    assert first["properties"]["municipality_code"] == "0180"
    assert first["properties"]["municipality"] == "Stockholm"
    lon, lat = first["geometry"]["coordinates"]
    # The representative point is one of the street's own addresses.
    with psycopg.connect(sample_database) as conn:
        row = conn.execute(
            "SELECT min(ST_Distance(geom, ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), "
            "3006))) FROM lookup.addresses WHERE street = 'Grev Turegatan'",
            [lon, lat],
        ).fetchone()
    assert row is not None and row[0] < 0.05


def test_sweref_coordinates_in_the_asked_zone_with_axis_order(client: FlaskClient) -> None:
    for srid in (3006, 3011):
        feature = _search(client, q="Grev Turegatan 3", srid=srid)[0]
        lon, lat = feature["geometry"]["coordinates"]
        sweref = feature["properties"]["sweref"]
        assert sweref["srid"] == srid and sweref["axis_order"] == "n,e"
        e, n = Transformer.from_crs(4326, srid, always_xy=True).transform(lon, lat)
        assert abs(sweref["e"] - e) < 0.05 and abs(sweref["n"] - n) < 0.05


def test_street_and_number_gives_numbers_starting_with_it_in_natural_order(
    client: FlaskClient,
) -> None:
    features = _search(client, q="Grev Turegatan 1", limit=50)
    props = [f["properties"] for f in features]
    assert props and all(p["kind"] == "address" for p in props)
    assert all(p["street"] == "Grev Turegatan" for p in props)
    assert all(str(p["number"]).startswith("1") for p in props)
    assert props[0]["number"] == 1
    keys = [natural_key(p["number"], p["letter"], p["entrance"]) for p in props]
    assert keys == sorted(keys)


def test_number_offers_its_letters_in_natural_order(
    client: FlaskClient, sample_database: str
) -> None:
    with psycopg.connect(sample_database) as conn:
        row = conn.execute(
            "SELECT street, number, array_agg(letter ORDER BY letter) FROM lookup.addresses "
            "WHERE letter IS NOT NULL GROUP BY street, number HAVING count(*) >= 3 "
            "ORDER BY count(*) DESC, street LIMIT 1"
        ).fetchone()
    assert row is not None
    street, number, letters = row
    props = [f["properties"] for f in _search(client, q=f"{street} {number}", limit=50)]
    exact = [(p["number"], p["letter"]) for p in props if p["number"] == number]
    assert [letter for _n, letter in exact if letter] == letters
    assert props[0]["number"] == number
    # …and a longer number never comes before a shorter one (7 < 7A < 8 < 10)
    numbers = [p["number"] for p in props]
    assert numbers == sorted(numbers)


def test_letter_narrows_to_that_address(client: FlaskClient) -> None:
    props = [f["properties"] for f in _search(client, q="Birger Jarlsgatan 57c")]
    assert props[0]["label"].startswith("Birger Jarlsgatan 57C")
    assert all(p["letter"] == "C" for p in props)


def test_diacritics_fold_case_spacing_and_abbreviations(client: FlaskClient) -> None:
    folded = _labels(_search(client, q="ostermalmsg"))
    assert folded[0] == "Östermalmsgatan, Stockholm"
    messy = _search(client, q="  GREV   tureg. 3 ")
    assert messy[0]["properties"]["label"].startswith("Grev Turegatan 3")
    assert messy[0]["properties"]["number"] == 3


def test_word_inside_a_street_name_matches(client: FlaskClient) -> None:
    labels = _labels(_search(client, q="jarlsg"))
    assert "Birger Jarlsgatan, Stockholm" in labels


def test_trailing_space_after_a_whole_street_lists_its_numbers(client: FlaskClient) -> None:
    props = [f["properties"] for f in _search(client, q="Sturegatan ")]
    assert props and all(p["kind"] == "address" and p["street"] == "Sturegatan" for p in props)
    keys = [natural_key(p["number"], p["letter"]) for p in props]
    assert keys == sorted(keys)


def test_typo_in_the_street_still_finds_the_address(client: FlaskClient) -> None:
    first = _search(client, q="Brahgatan 4")[0]["properties"]
    assert first["street"] == "Brahegatan" and first["number"] == 4


def test_postcode_narrows_and_is_written_ddd_dd(client: FlaskClient, sample_database: str) -> None:
    with psycopg.connect(sample_database) as conn:
        row = conn.execute(
            "SELECT street, number, postcode FROM lookup.addresses WHERE postcode IS NOT NULL "
            "AND letter IS NULL ORDER BY street, number LIMIT 1"
        ).fetchone()
    assert row is not None
    street, number, postcode = row
    written = f"{postcode[:3]} {postcode[3:]}"
    props = _search(client, q=f"{street} {number} {written}")[0]["properties"]
    assert (props["street"], props["number"], props["postcode"]) == (street, number, written)
    assert props["label"] == f"{street} {number}, {written} Stockholm"


def test_fictional_properties_are_found_and_labelled_fictional(client: FlaskClient) -> None:
    features = _search(client, q="Fiktiva Rosen 1")
    first = features[0]["properties"]
    assert first["kind"] == "property"
    assert first["designation"] == "Stockholm Fiktiva Rosen 1"
    assert first["fictional"] is True
    assert first["label"] == "Stockholm Fiktiva Rosen 1 (fiktiv)"
    assert first["id"].startswith("p")
    short = _search(client, q="rosen 1")[0]["properties"]
    assert short["designation"] == "Stockholm Fiktiva Rosen 1"
    every = [f["properties"] for f in _search(client, q="stockholm fiktiva", limit=50)]
    assert len(every) == 50 and all(p["fictional"] and "(fiktiv)" in p["label"] for p in every)


def test_property_search_reads_the_head_index(sample_database: str) -> None:
    statement, params = search_statement(parse_query("rosen 1"), SearchOptions())
    with psycopg.connect(sample_database) as conn:
        plan = conn.execute(sql.SQL("EXPLAIN ") + statement, params).fetchall()
    text = "\n".join(str(r[0]) for r in plan)
    # The sample's few hundred heads may be read whole; tests/test_property_register.py asserts
    # the head key index at 200,000 units.
    assert "properties_head_idx" in text and "Seq Scan on properties" not in text


def test_limit_and_municipality_bias(client: FlaskClient) -> None:
    assert len(_search(client, q="fiktiva")) == 10
    assert len(_search(client, q="fiktiva", limit=3)) == 3
    assert len(_search(client, q="fiktiva", limit=50)) == 50
    inside = _search(client, q="grev", municipality="0180")
    assert inside and all(f["properties"]["in_requested_municipality"] for f in inside)
    # A municipality biases, it does not hide: Stockholm's streets are still found from Malmö,
    # marked as outside (tests/test_lookup_municipality.py ranks both).
    outside = _search(client, q="grev", municipality="1280")
    assert outside and not any(f["properties"]["in_requested_municipality"] for f in outside)


def test_every_label_searched_again_finds_the_same_place(client: FlaskClient) -> None:
    for typed in ("grev", "Grev Turegatan 1", "fiktiva rosen", "Birger Jarlsgatan 57", "Sture"):
        for feature in _search(client, q=typed, limit=5):
            again = _search(client, q=feature["properties"]["label"], limit=5)
            assert again[0]["properties"]["id"] == feature["properties"]["id"], feature


def test_ids_are_stable_across_requests(client: FlaskClient) -> None:
    first = [f["properties"]["id"] for f in _search(client, q="Grev Turegatan 1")]
    again = [f["properties"]["id"] for f in _search(client, q="grev turegatan 1")]
    assert first == again and len(set(first)) == len(first)
