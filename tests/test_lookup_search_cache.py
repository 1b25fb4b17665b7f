"""The search statement kept per shape (layers/lookup/search_cache.py) is the one search_sql
composes for the very query, answers alike, and is prepared by the server after a few uses."""

from __future__ import annotations

import itertools

import psycopg
import pytest

from layers.crs import LonLat
from layers.lookup.normalize import fold
from layers.lookup.query import parse_query
from layers.lookup.search import search, search_params
from layers.lookup.search_cache import shape, statement
from layers.lookup.search_parts import NUMBER_RANGES, number_ranges
from layers.lookup.search_sql import SearchOptions, search_sql

#: Every kind of part a query can have: prefixes of each length, numbers (prefix or not),
#: letters, entrances, towns, postcodes, whole streets, property numbers of each kind, typos.
TEXTS = (
    "s", "ö", "st", "grev tu", "grev turegatan", "grev turegatan ", "grev turegatan 1",
    "grev turegatan 13", "grev turegatan 13 a", "grev turegatan 13b", "storgatan 1 u 1",
    "grev turegatan 13, stockholm", "grev turegatan 13, 114 38", "grev turegatan 13 114 38",
    "storg. 12 a, 212 25 malmö", "grevturegatan 1", "älgatan 16b", "-", "rosen 1", "rosen 1:",
    "rosen 1:2", "berga s:", "berga s:1", "stockholm fiktiva", "q",
)  # fmt: skip
OPTIONS = [
    SearchOptions(limit=limit, near=near, municipality=municipality)
    for limit, near, municipality in itertools.product(
        (1, 10, 50), (None, LonLat(18.07, 59.33)), (None, "0180")
    )
]


def _letters(text: str) -> int:
    return len(fold(parse_query(text).street))


@pytest.mark.parametrize("text", TEXTS)
def test_the_kept_statement_is_the_one_composed_for_the_query(text: str) -> None:
    query = parse_query(text)
    for options in OPTIONS:
        composed = search_sql(query, options, _letters(text)).as_bytes(None).decode()
        assert statement(shape(query, options, _letters(text))).named == composed


def test_queries_of_one_shape_share_a_statement_and_others_do_not() -> None:
    def kept(text: str, options: SearchOptions) -> object:
        return statement(shape(parse_query(text), options, _letters(text)))

    plain = SearchOptions()
    assert kept("storgatan 1", plain) is kept("grev turegatan 13", plain)
    assert kept("rosen 1", plain) is kept("berga 7", plain)
    assert kept("stor", plain) is not kept("st", plain)  # head indexes for two letters
    assert kept("stor", plain) is not kept("stor", SearchOptions(limit=11))
    assert kept("stor", plain) is not kept("stor", SearchOptions(municipality="0180"))
    assert kept("rosen 1", plain) is not kept("rosen 1:", plain)


def test_kept_statements_answer_as_the_composed_ones(sample_database: str) -> None:
    """Row for row, over the sample, with ``$n`` placeholders on a raw cursor."""
    with psycopg.connect(sample_database, autocommit=True) as conn:
        for text, options in itertools.product(TEXTS, OPTIONS[::3]):
            query = parse_query(text)
            params = search_params(query, options)
            composed = search_sql(query, options, _letters(text))
            expected = conn.execute(composed, params, prepare=False).fetchall()
            kept = statement(shape(query, options, _letters(text)))
            with psycopg.RawCursor(conn) as cursor:
                got = cursor.execute(kept.positional, kept.values(params)).fetchall()
            assert got == expected, (text, options)


def test_the_server_prepares_a_shape_after_a_few_searches(sample_database: str) -> None:
    """The same text on every search of a shape, so psycopg prepares it (``prepare_threshold``)
    and PostgreSQL parses and plans it no more: planning costs more than running it."""
    texts = ["grev turegatan 1", "storgatan 2", "karlavägen 3", "sturegatan 4", "valhallavägen 5"]
    with psycopg.connect(sample_database, autocommit=True) as conn:
        assert conn.prepare_threshold is not None
        for text in texts * 2:
            search(conn, parse_query(text), SearchOptions())
        prepared = conn.execute("SELECT statement FROM pg_prepared_statements").fetchall()
    kept = statement(shape(parse_query(texts[0]), SearchOptions(), _letters(texts[0])))
    assert [row[0] for row in prepared] == [kept.positional.decode()]


@pytest.mark.parametrize("typed", [0, 1, 2, 9, 10, 12, 99, 100, 214, 2147, 99999])
def test_number_ranges_hold_exactly_the_numbers_a_prefix_completes(typed: int) -> None:
    """The index ranges of a typed number prefix are the numbers whose digits start with it
    (the LIKE beside them in the statement), none left out, for every int4."""
    bounds = number_ranges(typed)
    ranges = [
        (int(bounds[f"number_lo_{k}"]), int(bounds[f"number_hi_{k}"])) for k in range(NUMBER_RANGES)
    ]
    big = [2**31 - 1, 2**31 - 2, 2_147_483_600, 1_999_999_999, 2_000_000_000, 214_748_364]
    for number in [*range(0, 250_000), *big, *(typed * 10**k for k in range(10))]:
        if number > 2**31 - 1:
            continue
        inside = any(low <= number <= high for low, high in ranges)
        assert inside == str(number).startswith(str(typed)), number
