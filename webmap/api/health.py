"""``/healthz``: is the database reachable, is the schema in place, which data is live;
``/readyz``: may a balancer send this node traffic.

Anyone may ask (monitors have no login), so anonymous callers see only public layers: a private
layer's name is not disclosed here any more than by ``/tiles`` or ``/ogc``. Staff (token or
login) see every layer.
"""

from __future__ import annotations

from typing import Any, Literal

import psycopg
from flask import Blueprint, Response, current_app, jsonify
from psycopg_pool import PoolTimeout
from pydantic import BaseModel

from layers.schema import current_revision, newest_revision, schema_state
from tiles.tilesets import BASEMAP, resolve_tileset
from webmap.db import get_pool
from webmap.db_routing import reads
from webmap.http.auth import may_see
from webmap.http.contracts import ANYONE, contract, ok, problems
from webmap.http.problems import problem
from webmap.services import services

blueprint = Blueprint("health", __name__)


class Health(BaseModel):
    """What ``/healthz`` answers when all is well."""

    status: Literal["ok"]
    database: Literal["ok"]
    schema_revision: str
    data_version: str | None
    layers: dict[str, int]


@blueprint.get("/healthz")
@contract(
    "healthz",
    "Database reachable, schema in place, live data versions",
    tags=("service",),
    security=ANYONE,
    responses={200: ok(Health), **problems(503)},
)
def healthz() -> Response:
    """200 with the data version when all is well; 503 problem JSON when it is not."""
    with get_pool().connection() as conn:
        revision = current_revision(conn)
    if revision is None:
        return problem(
            503, "Database not initialised", "Run `webmap db init`.", "database-unavailable"
        )
    layers = services().catalog.layers()
    basemap_version = resolve_tileset(BASEMAP, layers).version if layers else None
    visible = {
        name: layer
        for name, layer in layers.items()
        if may_see(layer.public, layer.municipality)  # private: its municipality's staff only
    }
    response = jsonify(
        {
            "status": "ok",
            "database": "ok",
            "schema_revision": revision,
            "data_version": basemap_version,
            "layers": {name: layer.version for name, layer in visible.items()},
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


class Readiness(BaseModel):
    """What ``/readyz`` answers when this node can serve: each check and its outcome.

    ``degraded``: the node serves, but a read replica is unreachable or behind (its check says
    which), so the reads it would take go to the primary."""

    status: Literal["ready", "degraded"]
    checks: dict[str, str]


_REDIS_CLIENT = "webmap.readyz.redis"


def _redis(url: str) -> Any:
    """One Redis client per app for the probes, made on the first probe."""
    client = current_app.extensions.get(_REDIS_CLIENT)
    if client is None:
        import redis  # only needed when configured

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        current_app.extensions[_REDIS_CLIENT] = client
    return client


def _checks() -> dict[str, str]:
    """Every dependency this node needs, as ``ok`` or what is wrong (never raises)."""
    checks: dict[str, str] = {}
    try:
        with get_pool().connection() as conn:
            revision = current_revision(conn)
        checks["database"] = "ok"
        wanted = newest_revision()
        if schema_state(revision) in ("current", "ahead"):
            # Ahead: a newer node has migrated during a rolling upgrade; this code still works
            # (migrations expand only, docs/operations.md), so it keeps serving.
            checks["schema"] = "ok"
        else:
            checks["schema"] = (
                f"at {revision or 'nothing'}, this code needs {wanted}: run `webmap db init`"
            )
    except (psycopg.Error, PoolTimeout):
        checks["database"] = "unreachable"
    redis_url = services().settings.redis_url
    if redis_url:
        try:
            _redis(redis_url).ping()
            checks["redis"] = "ok"
        except Exception:  # redis-py raises several types for a refused or silent server
            checks["redis"] = "unreachable"
    return checks


@blueprint.get("/readyz")
@contract(
    "readyz",
    "Whether this node can serve: database reachable, migrations current (or newer), Redis when"
    " configured; read replicas are listed and only degrade it",
    tags=("service",),
    security=ANYONE,
    responses={200: ok(Readiness), **problems(503)},
)
def readyz() -> Response:
    """200 when every dependency answers; 503 problem JSON naming the failing checks, so a
    balancer drains this node (``/healthz`` stays the liveness and data-version answer)."""
    checks = _checks()
    failing = {name: outcome for name, outcome in checks.items() if outcome != "ok"}
    # A replica down or behind does not fail readiness: its reads fall back to the primary, so
    # this node still answers correctly. Draining every node because a shared replica is down
    # would take the whole service away for nothing; the status says "degraded" instead.
    replicas = reads().status()
    checks |= replicas
    if failing:
        detail = "; ".join(f"{name}: {outcome}" for name, outcome in failing.items())
        response = problem(503, "Not ready", detail, "not-ready", checks=checks)
        response.headers["Retry-After"] = str(services().settings.db_retry_after)
        return response
    degraded = any(outcome != "ok" for outcome in replicas.values())
    response = jsonify({"status": "degraded" if degraded else "ready", "checks": checks})
    response.headers["Cache-Control"] = "no-store"
    return response
