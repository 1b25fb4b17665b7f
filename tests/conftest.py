"""Shared fixtures: a real PostGIS database per test session, loaded with the sample data.

Each pytest run gets its own database (``webmap_test_<pid>``) so runs never trip over each other,
and drops it at the end. Point ``WEBMAP_TEST_DATABASE_URL`` at another server to test there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from layers.lookup.sample import load_lookup_sample
from layers.sample import load_sample
from layers.schema import upgrade
from tests.app_helpers import app_with

PROJECT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT / "data"
SHARED_DATA = PROJECT.parent / "shared" / "data"


def _server_url() -> str:
    return os.environ.get(
        "WEBMAP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/webmap_test"
    )


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated database for this run; dropped afterwards."""
    base = _server_url()
    name = f"{conninfo_to_dict(base).get('dbname') or 'webmap_test'}_{os.getpid()}"
    maintenance = make_conninfo(base, dbname="postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _as_url(make_conninfo(base, dbname=name))
    upgrade(url)
    yield url
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _as_url(conninfo: str) -> str:
    """libpq key=value conninfo as a postgresql:// URL (the settings insist on a URL)."""
    params = conninfo_to_dict(conninfo)
    user = f"{params['user']}@" if params.get("user") else ""
    host = params.get("host", "127.0.0.1")
    port = params.get("port", "5432")
    return f"postgresql://{user}{host}:{port}/{params['dbname']}"


@pytest.fixture(scope="session")
def sample_database(database_url: str) -> str:
    """The session database with the sample basemap published."""
    with psycopg.connect(database_url) as conn:
        load_sample(conn, DATA_DIR)
        load_lookup_sample(conn, DATA_DIR)
    return database_url


@pytest.fixture
def app(sample_database: str) -> Iterator[Flask]:
    """The app on the sample database, with the catalog re-read on every request."""
    with app_with(sample_database) as application:
        yield application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``, or a skip with the reason when this checkout has none beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared sample data at {SHARED_DATA}, which is absent")
    return SHARED_DATA
