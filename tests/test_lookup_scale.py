"""The search statement's plans on a register the size of a country's, not the sample's.

At the sample's size PostgreSQL rightly reads small tables whole, so a plan there proves
nothing. This module builds a synthetic register in a scratch database in seconds (``INSERT …
SELECT generate_series``: 40,000 streets named the Swedish way, "Storgatan", "S:t Eriksgatan",
"Östra Ängsvägen", in 290 municipalities; ~170,000 addresses, 75,000 key rows), indexes it with
the real ``rebuild_streets`` and EXPLAINs (ANALYZE) exactly the statement ``search`` runs:
prefixes of one, two, three and five letters, a typo, numbers, a town, ``near``, a municipality.
No big table may be read by a sequential scan, a one-letter prefix must read a bounded number of
key rows, and its bounded candidates must rank as a full scan of the keys would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from layers.crs import LonLat
from layers.lookup.query import parse_query
from layers.lookup.search import search, search_params, search_statement
from layers.lookup.search_sql import HEAD_CANDIDATES, SearchOptions
from layers.lookup.store import rebuild_streets
from layers.schema import upgrade
from tests.app_helpers import scratch_database

STREETS = 40_000
BIG_TABLES = {"addresses", "streets", "street_keys", "street_names"}

# Name parts as Swedish streets are made: an optional prefix word, a stem, a joint, a suffix.
_FIRST = ["", "", "", "", "Östra ", "Västra ", "Norra ", "Södra ", "S:t ", "Lilla ", "Stora "]
_STEMS = [
    "Stor", "Kungs", "Drottning", "Ny", "Ås", "Äng", "Björk", "Ek", "Lind", "Gran", "Tall",
    "Hag", "Skol", "Kyrko", "Kvarn", "Mölle", "Sjö", "Strand", "Hamn", "Berg", "Dal", "Lund",
    "Fält", "Torp", "Gård", "Park", "Bruks", "Rådhus", "Eriks", "Görans", "Prins", "Fredriks",
    "Gustav", "Ör", "Ygg", "Quist", "Zorn", "Vall", "Jungfru", "Ugglebo",
]  # fmt: skip
_JOINTS = ["", "s", "a", "e", "vik", "holms", "bo", "näs", "by", "hems"]
_SUFFIXES = ["gatan", "vägen", "gränd", "stigen", "backen", "torget", "allén", " väg"]


def _synthesise(conn: psycopg.Connection[Any]) -> None:
    """Streets with 1–11 numbers each, spread over Sweden; then the real key rebuild."""
    conn.execute(
        """
        INSERT INTO lookup.addresses (uid, street, street_uid, number, letter, postcode, city,
            municipality_code, source, geom)
        SELECT 'a' || s || '-' || n, w.name, 's' || s, n, CASE WHEN mod(n, 4) = 0 THEN 'A' END,
            (10000 + mod(s, 89999))::text, 'Ort ' || mod(s, 290), (9000 + mod(s, 290))::text,
            'synthetic',
            ST_SetSRID(ST_MakePoint(300000 + mod(s::bigint * 7919, 600000) + n * 15,
                                    6150000 + mod(s::bigint * 104729, 1500000)), 3006)
        FROM generate_series(1, %(streets)s) AS s
        CROSS JOIN LATERAL (SELECT
            (%(first)s::text[])[1 + mod(s, cardinality(%(first)s::text[]))]
            || (%(stems)s::text[])[1 + mod(s / 7, cardinality(%(stems)s::text[]))]
            || (%(joints)s::text[])[1 + mod(s / 280, cardinality(%(joints)s::text[]))]
            || (%(suffixes)s::text[])[1 + mod(s / 2800, cardinality(%(suffixes)s::text[]))]
            AS name) w
        -- 1 to 7 numbers a street, and every 97th street a big one (up to 71)
        CROSS JOIN generate_series(1, 1 + mod(s * 37, 7) + CASE WHEN mod(s, 97) = 0
                                                             THEN mod(s, 61) ELSE 0 END) AS n
        """,
        {
            "streets": STREETS,
            "first": _FIRST,
            "stems": _STEMS,
            "joints": _JOINTS,
            "suffixes": _SUFFIXES,
        },
    )
    rebuild_streets(conn)
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE lookup.street_keys")
    conn.execute("VACUUM ANALYZE lookup.streets")
    conn.execute("VACUUM ANALYZE lookup.addresses")
    conn.autocommit = False


@pytest.fixture(scope="module")
def big(database_url: str) -> Iterator[str]:
    with scratch_database(database_url, "scale") as url:
        upgrade(url)
        with psycopg.connect(url) as conn:
            _synthesise(conn)
        yield url


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _analyse(url: str, text: str, options: SearchOptions) -> list[dict[str, Any]]:
    statement, params = search_statement(parse_query(text), options)
    with psycopg.connect(url) as conn:
        explain = psycopg.sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + statement
        row = conn.execute(explain, params).fetchone()
    assert row is not None
    document = row[0] if isinstance(row[0], list) else json.loads(row[0])
    return list(_nodes(document[0]["Plan"]))


def _rows_read(nodes: list[dict[str, Any]], table: str) -> int:
    return sum(
        int(n["Actual Rows"]) * int(n["Actual Loops"])
        for n in nodes
        if n.get("Relation Name") == table and "Scan" in n["Node Type"]
    )


NEAR = LonLat(15.0, 59.0)
CASES = [
    ("s", SearchOptions()),
    ("ö", SearchOptions()),
    ("st", SearchOptions()),
    ("sto", SearchOptions()),
    ("kungs", SearchOptions()),
    ("s", SearchOptions(near=NEAR)),
    ("q", SearchOptions(near=NEAR)),
    ("st", SearchOptions(municipality="9007")),
    ("s", SearchOptions(municipality="9007")),
    ("kungs", SearchOptions(municipality="9007")),
    ("storgatan 3", SearchOptions(municipality="9007", near=NEAR)),
    ("drotninggatan", SearchOptions(municipality="9007")),
    ("storgatan", SearchOptions()),
    ("storgatan ", SearchOptions()),
    ("storgatan 3", SearchOptions(near=NEAR)),
    ("storgatan 3, ort 7", SearchOptions()),
    ("s, ort 7", SearchOptions()),
    ("kungsvägen 2 10007", SearchOptions()),
    ("drotninggatan", SearchOptions()),
    ("kvarnbakken 2", SearchOptions()),
    ("st eriksg", SearchOptions()),
]


def test_the_register_is_country_sized(big: str) -> None:
    with psycopg.connect(big) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM lookup.addresses), (SELECT count(*) FROM lookup.streets),"
            " (SELECT count(*) FROM lookup.street_keys), (SELECT count(*) FROM lookup.street_names)"
        ).fetchone()
    assert row is not None
    addresses, streets, keys, names = row
    assert addresses > 150_000 and streets == STREETS and keys > streets and names > 2000


@pytest.mark.parametrize(("text", "options"), CASES, ids=[f"{t!r} {o}" for t, o in CASES])
def test_no_big_table_is_read_whole(big: str, text: str, options: SearchOptions) -> None:
    nodes = _analyse(big, text, options)
    scans = [n for n in nodes if n["Node Type"] == "Seq Scan"]
    assert not [n["Relation Name"] for n in scans if n["Relation Name"] in BIG_TABLES]


@pytest.mark.parametrize("text", ["s", "st", "ö"])
def test_a_short_prefix_reads_a_bounded_number_of_keys(big: str, text: str) -> None:
    with psycopg.connect(big) as conn:
        row = conn.execute(
            "SELECT count(*) FROM lookup.street_keys WHERE left(key, %s) = lookup.fold(%s)",
            [len(text), text],
        ).fetchone()
    assert row is not None and row[0] > 10 * HEAD_CANDIDATES  # a big head, read in part
    for options in (SearchOptions(), SearchOptions(near=NEAR)):
        nodes = _analyse(big, text, options)
        assert _rows_read(nodes, "street_keys") <= 2 * HEAD_CANDIDATES + 50


_REFERENCE = """
    SELECT round(score::numeric, 6), address_count FROM (
        SELECT min(CASE WHEN k.key = lookup.fold(%(street)s) AND k.word_start THEN 0 ELSE 3 END
                   + CASE WHEN strpos(k.name_lower, %(street)s) > 0 THEN 0 ELSE 1 END
                   + CASE WHEN k.word_start THEN 0 ELSE 0.5 END + {near}) AS score,
            max(k.address_count) AS address_count
        FROM lookup.street_keys k WHERE k.key LIKE lookup.fold(%(street)s) || '%%'
        GROUP BY k.street_uid) x
    ORDER BY 1, 2 DESC LIMIT %(limit)s
"""
_NEAR_TERM = "1.5 * {d} / ({d} + 5000)".format(
    d="sqrt(power(k.e - %(near_e)s, 2) + power(k.n - %(near_n)s, 2))"
)


@pytest.mark.parametrize("text", ["s", "st", "ö", "q"])
def test_short_prefixes_rank_as_if_every_key_were_read(big: str, text: str) -> None:
    """The bounded candidates give the top ten that ranking every matching key row gives:
    the biggest streets of the head, or with ``near`` the nearest (a full scan, as reference)."""
    for options in (SearchOptions(), SearchOptions(near=NEAR)):
        query = parse_query(text)
        params = search_params(query, options)
        reference = _REFERENCE.format(near=_NEAR_TERM if options.near else "0")
        with psycopg.connect(big) as conn:
            hits = search(conn, query, options)
            expected = [(float(s), c) for s, c in conn.execute(reference, params)]
            sizes = [
                conn.execute(
                    "SELECT address_count FROM lookup.streets WHERE uid = %s", [h.id]
                ).fetchone()[0]  # type: ignore[index]
                for h in hits
            ]
        assert len(hits) == 10
        assert [(round(h.score, 6), size) for h, size in zip(hits, sizes, strict=True)] == expected


@pytest.mark.parametrize("text", ["s", "st", "ö"])
def test_a_municipality_reads_a_bounded_number_of_keys_too(big: str, text: str) -> None:
    """With ``municipality`` a short prefix also reads the municipality's own biggest streets of
    the head (one more index scan with a LIMIT), and its streets come first."""
    options = SearchOptions(municipality="9007")
    nodes = _analyse(big, text, options)
    read = sum(
        (int(n["Actual Rows"]) + int(n.get("Rows Removed by Filter", 0))) * int(n["Actual Loops"])
        for n in nodes
        if n.get("Relation Name") == "street_keys" and "Scan" in n["Node Type"]
    )
    # The country's head and the municipality's own (migration 0010), each at most a LIMIT.
    assert read <= 3 * HEAD_CANDIDATES + 50, read
    with psycopg.connect(big) as conn:
        # The code must name a municipality (the synthetic register has only codes).
        conn.execute(
            "INSERT INTO lookup.municipalities (code, name, geom) VALUES ('9007', 'Ort 7', "
            "ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 3006))) ON CONFLICT DO NOTHING"
        )
        hits = search(conn, parse_query(text), options)
    assert hits and hits[0].municipality_code == "9007"
    inside = [h.municipality_code == "9007" for h in hits]
    assert inside == sorted(inside, reverse=True)
