"""``webmap db upgrade`` from several nodes at once: one migrates, the others wait and find it
done (a rolling upgrade starts every node's upgrade together)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from layers.schema import current_revision, newest_revision, upgrade
from tests.app_helpers import app_with, scratch_database
from webmap.cli import main


@pytest.fixture
def empty_database(database_url: str) -> Iterator[str]:
    with scratch_database(database_url, "migrate") as url:
        yield url


def test_three_concurrent_upgrades_of_an_empty_database_all_succeed(empty_database: str) -> None:
    with ThreadPoolExecutor(3) as pool:
        outcomes = list(pool.map(lambda _: upgrade(empty_database), range(3)))
    assert outcomes == [None, None, None]
    with psycopg.connect(empty_database) as conn:
        assert current_revision(conn) == newest_revision()


def test_the_db_upgrade_command(empty_database: str) -> None:
    with app_with(empty_database) as app:
        result = app.test_cli_runner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    with psycopg.connect(empty_database) as conn:
        assert current_revision(conn) == newest_revision()
