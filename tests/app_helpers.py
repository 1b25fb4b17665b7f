"""Building the app for tests that need settings of their own (a raster folder, a cache …)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from webmap import create_app


@contextmanager
def app_with(database_url: str, **settings: Any) -> Iterator[Flask]:
    """The app on ``database_url``, catalog re-read on every request; its pool closed after."""
    application = create_app(
        {"database_url": database_url, "catalog_ttl": 0, "pool_min_size": 0, **settings}
    )
    application.config["TESTING"] = True
    try:
        yield application
    finally:
        application.extensions["webmap.pool"].close()


@contextmanager
def scratch_database(database_url: str, suffix: str) -> Iterator[str]:
    """An empty database beside the session's (``<name>_<suffix>``), dropped afterwards."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"{conninfo_to_dict(database_url)['dbname']}_{suffix}"
    maintenance = make_conninfo(database_url, dbname="postgres")
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(drop)
