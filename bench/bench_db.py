"""Scratch databases for the benchmarks: created empty at the schema's head, dropped after.

Every benchmark that loads data wants the same thing: a database of its own name on the local
PostgreSQL server, emptied of any earlier run (``WITH (FORCE)``: a run that was interrupted may
have left connections open), brought to the current schema with ``layers.schema.upgrade``, and
dropped again unless the run was asked to keep it. One copy of that here, so the benchmarks
cannot drift apart in how they set up (bench/lookup.py, national.py, register_import.py,
ingest.py).

Imported as ``bench.bench_db``: the scripts put the project, not bench/, first on ``sys.path``.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from layers.schema import upgrade

#: The local server the benchmarks use (trust authentication as ``postgres``).
SERVER = "postgresql://postgres@127.0.0.1:5432"


def create_database(name: str, server: str = SERVER) -> str:
    """Drop ``name`` if it exists, create it empty, upgrade it to the head; returns its URL."""
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        identifier = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(identifier))
    url = f"{server}/{name}"
    upgrade(url)
    return url


def drop_database(name: str, server: str = SERVER) -> None:
    """Drop ``name`` (and any connection still open to it), if it exists."""
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
