"""``/readyz``: a balancer drains a node whose database, schema or Redis is not there."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from alembic import command

from layers.schema import alembic_config, newest_revision
from tests.app_helpers import app_with, scratch_database
from tests.throwaway_pg import free_port
from tests.throwaway_redis import redis_for_tests


def _not_ready(response: object) -> dict[str, object]:
    assert response.status_code == 503  # type: ignore[attr-defined]
    assert response.mimetype == "application/problem+json"  # type: ignore[attr-defined]
    assert response.headers["Retry-After"]  # type: ignore[attr-defined]
    body: dict[str, object] = response.get_json()  # type: ignore[attr-defined]
    assert body["type"] == "/problems/not-ready"
    return body


def test_ready_when_database_and_schema_are_in_place(sample_database: str) -> None:
    with app_with(sample_database) as app:
        response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "status": "ready",
        "checks": {"database": "ok", "schema": "ok"},
    }


def test_redis_is_checked_when_configured(sample_database: str) -> None:
    with redis_for_tests() as url, app_with(sample_database, redis_url=url) as app:
        assert app.test_client().get("/readyz").get_json()["checks"]["redis"] == "ok"
    silent = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with app_with(sample_database, redis_url=silent) as app:
        started = time.monotonic()
        body = _not_ready(app.test_client().get("/readyz"))
        assert time.monotonic() - started < 3
    assert body["checks"] == {"database": "ok", "schema": "ok", "redis": "unreachable"}
    assert "redis: unreachable" in str(body["detail"])


def test_an_unreachable_database_is_not_ready_at_once() -> None:
    with app_with("postgresql://postgres@127.0.0.1:1/none") as app:
        started = time.monotonic()
        body = _not_ready(app.test_client().get("/readyz"))
        assert time.monotonic() - started < 5
    assert body["checks"] == {"database": "unreachable"}


@pytest.fixture
def older_schema(database_url: str) -> Iterator[str]:
    """A database migrated only up to the migration before the newest one."""
    with scratch_database(database_url, "older") as url:
        command.upgrade(alembic_config(url), "head-1")
        yield url


def test_a_schema_behind_the_code_is_not_ready(older_schema: str) -> None:
    with app_with(older_schema) as app:
        body = _not_ready(app.test_client().get("/readyz"))
    checks = body["checks"]
    assert isinstance(checks, dict) and checks["database"] == "ok"
    assert newest_revision() in checks["schema"] and "webmap db init" in checks["schema"]


def test_a_schema_ahead_of_the_code_is_ready(database_url: str) -> None:
    """A rolling upgrade: a newer node migrated; this one (older code) keeps serving."""
    import psycopg

    with scratch_database(database_url, "ahead") as url:
        command.upgrade(alembic_config(url), "head")
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE public.alembic_version SET version_num = '9999_next_release'")
        with app_with(url) as app:
            response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"]["schema"] == "ok"
