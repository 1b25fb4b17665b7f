"""tiles/lean_sql.py: the tile statement through libpq gives psycopg's answer and psycopg's
errors, survives its prepared statements being deallocated, and keeps a bounded number."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from layers.catalog import load_catalog
from layers.schema import DATA_SCHEMA
from tests.tile_helpers import tile_of
from tiles import lean_sql
from tiles.mvt import TileOptions, tile_query
from tiles.tilesets import resolve_tileset

PLACES = ((18.0705, 59.3382), (17.3063, 62.3908), (11.9746, 57.7089))


@pytest.fixture
def conn(sample_database: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(sample_database, autocommit=True) as connection:
        yield connection


def _statements(conn: psycopg.Connection[Any]) -> list[tuple[bytes, dict[str, float]]]:
    catalog = load_catalog(conn)
    found = []
    for name in ("basemap", "roads", "buildings", "municipalities"):
        tileset = resolve_tileset(name, catalog)
        for z in (6, 10, 14, 16):
            for lon, lat in PLACES:
                sources = tileset.sources_at(z)
                if sources:
                    found.append(tile_query(sources, tile_of(lon, lat, z), TileOptions()))
    return found


def test_same_row_as_psycopg(conn: psycopg.Connection[Any]) -> None:
    statements = _statements(conn)
    drawn = 0
    for _ in range(2):  # the second time from the statements prepared the first
        for query, params in statements:
            expected = conn.execute(query, params).fetchone()
            row = lean_sql.fetch_row(conn, query, params)
            assert expected is not None and row is not None
            assert [bytes(blob) for blob in expected[0::2]] == row[0::2]
            counts = [int.from_bytes(n or b"", "big", signed=True) for n in row[1::2]]
            assert counts == list(expected[1::2])
            drawn += sum(counts)
    assert drawn > 1000  # real features, not empty tiles


def test_prepared_again_after_deallocate_all(conn: psycopg.Connection[Any]) -> None:
    query, params = _statements(conn)[0]
    first = lean_sql.fetch_row(conn, query, params)
    conn.execute("DEALLOCATE ALL")  # as psycopg does after a ROLLBACK or DROP it ran
    assert lean_sql.fetch_row(conn, query, params) == first


def test_psycopg_errors_and_a_usable_connection(conn: psycopg.Connection[Any]) -> None:
    query, params = _statements(conn)[0]
    schema = f'"{DATA_SCHEMA}".'.encode()
    assert schema in query
    with pytest.raises(psycopg.errors.UndefinedTable):
        lean_sql.fetch_row(conn, query.replace(schema, b'"nosuchschema".'), params)
    conn.execute("SET statement_timeout = 1")
    slow = b"SELECT pg_sleep(%(left)s * 0 + 0.2)"
    with pytest.raises(psycopg.errors.QueryCanceled):
        lean_sql.fetch_row(conn, slow, params)
    conn.execute("SET statement_timeout = 0")
    assert lean_sql.fetch_row(conn, query, params) is not None


def test_a_broken_connection_is_an_operational_error(sample_database: str) -> None:
    with (
        psycopg.connect(sample_database, autocommit=True) as conn,
        psycopg.connect(sample_database, autocommit=True) as other,
    ):
        query, params = _statements(conn)[0]
        other.execute("SELECT pg_terminate_backend(%s)", [conn.info.backend_pid])
        with pytest.raises(psycopg.OperationalError):
            lean_sql.fetch_row(conn, query, params)
        assert conn.broken


def test_prepared_statements_are_bounded(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lean_sql, "KEPT_PER_CONNECTION", 3)
    texts = [b"SELECT %(left)s + " + str(i).encode() for i in range(6)]
    for text in texts:
        assert lean_sql.fetch_row(conn, text, {"left": 1.5}) is not None
    names = conn.execute("SELECT name FROM pg_prepared_statements").fetchall()
    assert len([n for (n,) in names if n.startswith("webmap_tile_")]) == 3
    for text in texts:  # the evicted ones are prepared again
        assert lean_sql.fetch_row(conn, text, {"left": 1.5}) is not None
