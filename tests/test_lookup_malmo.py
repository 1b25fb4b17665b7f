"""Search at register scale: Malmö's 52,861 addresses (shared data) next to Östermalm's OSM ones.

Loaded into a database of its own through the real ``webmap addresses import`` command, so the
rest of the suite keeps the small sample. Also proves with EXPLAIN that search and reverse run on
their indexes at this size.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from psycopg import sql

from layers.crs import LonLat
from layers.lookup.normalize import natural_key
from layers.lookup.query import parse_query
from layers.lookup.readers import read_osm_addresses
from layers.lookup.reverse import REVERSE_SQL
from layers.lookup.search import search_statement
from layers.lookup.search_sql import SearchOptions
from layers.lookup.store import import_addresses, load_municipalities
from layers.schema import upgrade
from tests.app_helpers import scratch_database
from webmap import create_app
from webmap.cli import main

pytestmark = pytest.mark.shared_data
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MALMO = "1280"


@dataclass(frozen=True)
class Malmo:
    app: Flask
    url: str
    import_output: str


@contextmanager
def _scratch_database(database_url: str, suffix: str) -> Iterator[str]:
    """A fresh, migrated database beside the session's; dropped even when set-up fails."""
    with scratch_database(database_url, suffix) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def malmo(database_url: str, shared_data: Path) -> Iterator[Malmo]:
    """A database with the municipalities, Östermalm (OSM) and Malmö (CSV via the CLI)."""
    with _scratch_database(database_url, "malmo") as url:
        with psycopg.connect(url) as conn:
            load_municipalities(conn, DATA_DIR / "lantmateriet" / "ak_riks.zip")
            osm = read_osm_addresses(DATA_DIR / "osm" / "stockholm-ostermalm.osm")
            import_addresses(conn, osm.rows, osm.srid, "osm")
        app = create_app({"database_url": url, "pool_min_size": 0})
        try:
            csv_path = str(shared_data / "malmo" / "adresser.csv")
            result = app.test_cli_runner().invoke(
                main, ["addresses", "import", csv_path, "--municipality", MALMO]
            )
            assert result.exit_code == 0, result.output
            yield Malmo(app, url, result.output)
        finally:
            app.extensions["webmap.pool"].close()


@pytest.fixture
def mclient(malmo: Malmo) -> FlaskClient:
    return malmo.app.test_client()


def _props(client: FlaskClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [f["properties"] for f in response.get_json()["features"]]


def test_import_summary_counts_every_row(malmo: Malmo, shared_data: Path) -> None:
    out = malmo.import_output
    assert "read 52861 rows" in out
    with psycopg.connect(malmo.url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT street_uid), count(*) FILTER (WHERE letter IS NOT "
            "NULL OR entrance IS NOT NULL) FROM lookup.addresses WHERE municipality_code = %s",
            [MALMO],
        ).fetchone()
    assert row is not None
    stored, streets, lettered = row
    assert f"stored {stored}" in out
    skipped = 52861 - stored
    assert f"skipped {skipped}" in out
    assert skipped == 0 and stored == 52861
    assert streets == 2306
    with (shared_data / "malmo" / "adresser.csv").open(encoding="utf-8") as handle:
        expected = sum(any(c.isalpha() for c in r["gatunummer"]) for r in csv.DictReader(handle))
    assert lettered == expected  # numbers with a letter (12A) or an entrance (5 U2)


def test_postcodes_and_town_come_from_the_register(mclient: FlaskClient) -> None:
    first = _props(mclient, q="Ågatan 4")[0]
    assert first["label"] == "Ågatan 4, 212 25 Malmö"
    assert first["municipality_code"] == MALMO and first["municipality"] == "Malmö"


def test_typing_a_number_offers_letters_in_natural_order(mclient: FlaskClient) -> None:
    props = _props(mclient, q="Östra Förstadsgatan 2", limit=50)
    keys = [natural_key(p["number"], p["letter"], p["entrance"]) for p in props]
    assert keys == sorted(keys)
    assert all(str(p["number"]).startswith("2") for p in props)
    assert props[0]["number"] == 2


def test_entrances_follow_their_number(mclient: FlaskClient) -> None:
    props = _props(mclient, q="Östergårdsgatan 1 ", limit=50)
    entrances = [p["entrance"] for p in props if p["number"] == 1]
    assert len(entrances) >= 10 and "U1" in entrances and "U10" in entrances
    digits = [int(e[1:]) for e in entrances if e]
    assert digits == sorted(digits)  # U1 < U3 < U10, not U1 < U10 < U3


def test_exact_diacritics_rank_first_but_folding_finds_them(mclient: FlaskClient) -> None:
    # Malmö has both Törngatan and Torngatan: what was typed decides which comes first.
    assert [p["street"] for p in _props(mclient, q="Törngatan")][:2] == ["Törngatan", "Torngatan"]
    assert [p["street"] for p in _props(mclient, q="Torngatan")][:2] == ["Torngatan", "Törngatan"]
    assert _props(mclient, q="alggatan")[0]["street"] == "Älggatan"
    assert _props(mclient, q="Ågatan")[0]["street"] == "Ågatan"
    folded = _props(mclient, q="agatan")
    assert folded[0]["street"] == "Ågatan"
    # Typing the å itself puts å-streets before a-streets that fold the same way.
    ranked = [p["street"] for p in _props(mclient, q="å", limit=50)]
    first_plain = next(i for i, s in enumerate(ranked) if not s.lower().startswith("å"))
    assert all(s.lower().startswith("å") for s in ranked[:first_plain])
    assert first_plain > 0


def test_abbreviated_gatan_and_vagen(mclient: FlaskClient) -> None:
    first = _props(mclient, q="Köpenhamnsv. 10")[0]
    assert (first["street"], first["number"]) == ("Köpenhamnsvägen", 10)
    first = _props(mclient, q="Östra Förstadsg. 16A")[0]
    assert (first["street"], first["number"], first["letter"]) == ("Östra Förstadsgatan", 16, "A")


def test_saint_is_found_however_it_is_written(mclient: FlaskClient) -> None:
    for typed in ("S:t Johannesgatan 5", "st johannesgatan 5", "Sankt Johannesgatan 5"):
        first = _props(mclient, q=typed)[0]
        assert first["street"] == "S:t Johannesgatan" and first["number"] == 5, typed
    assert "S:t Johannesgatan" in [p["street"] for p in _props(mclient, q="johannesg")]


def test_typo_with_digits_finds_the_address(mclient: FlaskClient) -> None:
    first = _props(mclient, q="Älgatan 16B")[0]
    assert (first["street"], first["number"], first["letter"]) == ("Älggatan", 16, "B")
    assert _props(mclient, q="drotninggatan")[0]["street"] == "Drottninggatan"


def test_a_number_the_street_lacks_offers_the_street(mclient: FlaskClient) -> None:
    props = _props(mclient, q="Ågatan 999")
    assert [(p["kind"], p["street"]) for p in props][:1] == [("street", "Ågatan")]


def test_town_and_postcode_narrow_between_malmo_and_stockholm(mclient: FlaskClient) -> None:
    both = {p["city"] for p in _props(mclient, q="Storgatan 1", limit=50)}
    assert {"Malmö", "Stockholm"} <= both
    malmo = _props(mclient, q="Storgatan 1, Malmö", limit=50)
    assert malmo and {p["city"] for p in malmo} == {"Malmö"}
    assert all(p["number"] == 1 for p in malmo)
    stockholm = _props(mclient, q="Storgatan 1, Stockholm")
    assert stockholm and {p["city"] for p in stockholm} == {"Stockholm"}
    by_code = _props(mclient, q="Ågatan 4 212 25")
    assert by_code[0]["postcode"] == "212 25" and by_code[0]["city"] == "Malmö"
    assert _props(mclient, q="Storgatan", municipality="0180")[0]["city"] == "Stockholm"


def test_near_biases_softly_but_exact_beats_near_partial(mclient: FlaskClient) -> None:
    malmo_first = _props(mclient, q="Storgatan", near="13.0,55.6")
    assert malmo_first[0]["city"] == "Malmö"
    stockholm_first = _props(mclient, q="Storgatan", near="18.07,59.34")
    assert stockholm_first[0]["city"] == "Stockholm"
    # Brahegatan exists in Stockholm only; Malmö has Tycho Brahegatan (a partial match).
    tycho = _props(mclient, q="Tycho Brahegatan")[0]
    near_tycho = f"{tycho['sweref']['e']},{tycho['sweref']['n']}"
    assert near_tycho  # the point itself comes back in WGS 84 below
    response = mclient.get("/api/search", query_string={"q": "Tycho Brahegatan"})
    lon, lat = response.get_json()["features"][0]["geometry"]["coordinates"]
    ranked = [p["street"] for p in _props(mclient, q="Brahegatan", near=f"{lon},{lat}")]
    assert ranked[:2] == ["Brahegatan", "Tycho Brahegatan"]


def _plan(conn: psycopg.Connection[Any], statement: Any, params: dict[str, Any]) -> str:
    rows = conn.execute(sql.SQL("EXPLAIN ") + statement, params).fetchall()
    return "\n".join(str(r[0]) for r in rows)


def _search_plan(conn: psycopg.Connection[Any], text: str, **options: Any) -> str:
    return _plan(conn, *search_statement(parse_query(text), SearchOptions(**options)))


def test_search_statements_use_their_indexes(malmo: Malmo) -> None:
    """Each stage of the one statement reads its index (tests/test_lookup_scale.py: at 1M)."""
    with psycopg.connect(malmo.url) as conn:
        street = _search_plan(conn, "stor")
        assert "street_keys_key_idx" in street
        assert not any(f"Seq Scan on {t} " in street for t in ("street_keys", "streets"))
        assert "street_keys_head1_idx" in _search_plan(conn, "s")
        assert "street_keys_near1_idx" in _search_plan(conn, "s", near=LonLat(13.0, 55.6))
        in_town = _search_plan(conn, "storgatan 1, malmö")
        assert "street_keys_key_idx" in in_town
        fuzzy = _search_plan(conn, "algatan")
        assert "street_names_trgm_idx" in fuzzy  # KNN over distinct names
        numbers = _search_plan(conn, "Storgatan 1")
        assert "addresses_street_number_idx" in numbers
        assert "Seq Scan on addresses" not in numbers


def test_reverse_uses_knn_and_spatial_indexes(malmo: Malmo) -> None:
    with psycopg.connect(malmo.url) as conn:
        plan = _plan(
            conn,
            sql.SQL(REVERSE_SQL),
            {"x": 13.0, "y": 55.6, "srid": 4326, "radius": 250.0, "municipality": None},
        )
    assert "addresses_geom_idx" in plan and "Order By" in plan  # KNN <-> on the GiST index
    assert "municipality_parts_geom_idx" in plan
    assert "properties_geom_idx" in plan
    assert "Seq Scan on addresses" not in plan


def test_fold_is_an_immutable_unaccent_wrapper(malmo: Malmo) -> None:
    with psycopg.connect(malmo.url) as conn:
        row = conn.execute(
            "SELECT provolatile, lookup.fold('  Östra   FÖRSTADSGATAN ') FROM pg_proc "
            "WHERE proname = 'fold' AND pronamespace = 'lookup'::regnamespace"
        ).fetchone()
    assert row == ("i", "ostra forstadsgatan")


def test_reverse_in_malmo_by_local_zone(mclient: FlaskClient, malmo: Malmo) -> None:
    with psycopg.connect(malmo.url) as conn:
        row = conn.execute(
            "SELECT ST_X(ST_Transform(geom, 3008)), ST_Y(ST_Transform(geom, 3008)) "
            "FROM lookup.addresses WHERE street = 'Ågatan' AND number = 4"
        ).fetchone()
    assert row is not None
    body = mclient.get("/api/reverse", query_string={"x": row[0], "y": row[1], "srid": 3008})
    data = body.get_json()
    assert data["address"]["label"] == "Ågatan 4, 212 25 Malmö"
    assert data["municipality"] == {"code": MALMO, "name": "Malmö"}
    assert data["property"] is None  # no register here, fictional or real


def test_search_domain_near_option(malmo: Malmo) -> None:
    """The domain API takes ``near`` as a LonLat (the HTTP layer parses ``lon,lat``)."""
    from layers.lookup.search import search

    with psycopg.connect(malmo.url) as conn:
        hits = search(conn, parse_query("Kungsgatan"), SearchOptions(near=LonLat(13.0, 55.6)))
    assert hits[0].city == "Malmö" and hits[1].city == "Stockholm"
