"""Fuzz every endpoint of ``/openapi.json`` with schemathesis against the real app and database.

The standard: malformed input gets a 4xx RFC 9457 problem (``application/problem+json`` with
``type``, ``title``, ``detail``), never a 500 or a stack trace. Schemathesis reads the app's own
OpenAPI document through its WSGI support (no server), generates requests that fit the
documented parameters (positive) and requests that break them (negative), and each answer is
checked here, also against the document itself (listed status, media type, schema). Staff
operations are called without credentials (a 401 problem, or the admin's redirect to the login
for browsers), and again with a read-only token, whose reads run and whose writes must be
refused. The number of examples is bounded so the run stays well under a minute;
``WEBMAP_FUZZ_EXAMPLES=300`` (random, not derandomized) digs deeper when hunting.

The sample has no raster layer, so a small elevation model is published as ``fuzz_dem`` and
part of the raster requests are steered at it; otherwise only the "no such layer" path of the
raster code would ever run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from layers.raster import publish_raster
from layers.store import LayerSpec
from staff.tokens import create_token
from tests.raster_helpers import write_geotiff
from tiles.grid import WEB_MERCATOR_QUAD
from webmap import create_app
from webmap.http.openapi import build_document

PROBLEM_JSON = "application/problem+json"
# Per operation and mode; WEBMAP_FUZZ_EXAMPLES=500 digs deeper when hunting (not in the suite).
EXAMPLES = int(os.environ.get("WEBMAP_FUZZ_EXAMPLES", "12"))
_CREDENTIALS = ("authorization", "cookie", "x-csrf-token")
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
_ROUTING = {404, 405}  # no route for that path or method: answered before any view runs
RASTER = "fuzz_dem"
GOTEBORG = (11.9709, 57.7014)  # the middle of the raster written by write_geotiff (lon, lat)


# The document as served, generated from the views' contracts (tests/test_openapi.py checks the
# served copy is this one) by an app whose database is never touched: the routes are the same in
# every app. Requests go to each test's ``app`` through schemathesis' WSGI transport
# (``case.call(app=...)``).
schema = schemathesis.openapi.from_dict(
    build_document(create_app({"database_url": "postgresql://postgres@127.0.0.1:5432/unused"}))
)
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
)


@pytest.fixture(scope="module")
def fuzz_app(sample_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on the sample database, plus a raster layer (a 1 km slope over Göteborg)."""
    rasters = tmp_path_factory.mktemp("fuzz-rasters")
    heights = np.linspace(0, 120, 100 * 100, dtype="float32").reshape(1, 100, 100)
    source = write_geotiff(tmp_path_factory.mktemp("fuzz-source") / "dem.tif", heights)
    with psycopg.connect(sample_database) as conn:
        publish_raster(conn, LayerSpec(RASTER, "Fuzz DEM"), source, rasters)
    app = create_app(
        {
            "database_url": sample_database,
            "catalog_ttl": 0,
            "pool_min_size": 0,
            "raster_dir": str(rasters),
        }
    )
    app.config["TESTING"] = True
    yield app
    app.extensions["webmap.pool"].close()


def _steer_at_raster(case: Any) -> None:
    """Point part of the raster requests at the published raster instead of a random name.

    Tiles with an even z go to ``fuzz_dem`` with x/y wrapped into the zoom's range; with z a
    multiple of four, to the tile over the raster itself (so pixels are read and drawn). The
    generated query (``render``, ``v``) is kept. TileJSON requests with an odd-length name too.
    """
    path = case.operation.path
    params = case.path_parameters or {}
    if not isinstance(params.get("name"), str):
        return
    if path == "/tiles/{name}.json" and len(params["name"]) % 2:
        params["name"] = RASTER
    z, x, y = params.get("z"), params.get("x"), params.get("y")
    if not path.endswith((".png", ".webp")) or not all(isinstance(v, int) for v in (z, x, y)):
        return
    if not 0 <= z <= 24 or z % 2:
        return
    params["name"] = RASTER
    if z % 4 == 0:
        tile = WEB_MERCATOR_QUAD.tile(*GOTEBORG, z)
        params["x"], params["y"] = tile.x, tile.y
    else:
        params["x"], params["y"] = x % 2**z, y % 2**z


def _is_staff_only(operation: Any) -> bool:
    """Staff operations declare security without the empty (anonymous) alternative."""
    security = operation.definition.raw.get("security", [])
    return bool(security) and {} not in security


def _problem(response: Any, what: str) -> dict[str, Any]:
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.split(";")[0].strip() == PROBLEM_JSON, (
        f"{what}: {response.status_code} answered as {content_type!r}, not problem JSON: "
        f"{response.content[:300]!r}"
    )
    body = json.loads(response.content)
    for member in ("type", "title", "detail"):
        assert isinstance(body.get(member), str) and body[member], f"{what}: no {member}: {body}"
    assert body.get("status") == response.status_code, f"{what}: status member {body}"
    assert "Traceback" not in body["detail"], f"{what}: stack trace in detail"
    return body


def _refused(case: Any, response: Any) -> bool:
    """How a staff operation may answer an anonymous request: 401, or before any view runs."""
    status = response.status_code
    if status == 401 or status in _ROUTING:
        return True
    if case.method.upper() == "OPTIONS":  # Flask's own answer: the allowed methods, no data
        return status == 200 and not response.content
    # The admin pages send a browser (any GET that does not prefer JSON) to the login form.
    location = (response.headers.get("location") or [""])[0]
    return case.method.upper() == "GET" and status == 303 and "/login?next=" in location


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="WEBMAP_FUZZ_EXAMPLES" not in os.environ,  # hunting runs explore new inputs
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_malformed_input_gets_a_problem_never_a_500(case: Any, fuzz_app: Flask) -> None:
    _steer_at_raster(case)
    staff_only = _is_staff_only(case.operation)
    if staff_only:
        for name in list(case.headers or {}):
            if name.lower() in _CREDENTIALS:
                del case.headers[name]
        case.cookies = {}
    response = case.call(app=fuzz_app)
    what = f"{case.method} {case.formatted_path} {case.query!r}"
    assert response.status_code < 500, (
        f"{what}: server error {response.status_code}: {response.content[:500]!r}"
    )
    if staff_only:
        assert _refused(case, response), f"{what}: {response.status_code} without credentials"
    if 400 <= response.status_code < 500:
        _problem(response, what)
    # The answer is one the document promises: a listed status, its media type, its schema
    # (a gzipped body is not decoded by the test transport, so its schema is not checked).
    compressed = bool(response.headers.get("content-encoding"))
    case.validate_response(response, checks=CONFORMANCE[:2] if compressed else CONFORMANCE)


@pytest.fixture(scope="module")
def read_token(fuzz_app: Flask, sample_database: str) -> str:
    """A read-only staff token: staff reads run for real, every write is refused with 403, so
    fuzzing cannot change the session database that other tests read."""
    with psycopg.connect(sample_database, autocommit=True) as conn:
        _info, secret = create_token(conn, "fuzz-read", "read", instance_admin=True)
    return secret


staff_schema = schema.include(lambda ctx: _is_staff_only(ctx.operation))


@staff_schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="WEBMAP_FUZZ_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_staff_input_gets_a_problem_never_a_500(
    case: Any, fuzz_app: Flask, read_token: str
) -> None:
    # A tool's request: the admin pages answer browsers (Accept: text/html) with HTML pages.
    case.headers = {
        **(case.headers or {}),
        "Authorization": f"Bearer {read_token}",
        "Accept": "application/json",
    }
    response = case.call(app=fuzz_app)
    what = f"{case.method} {case.formatted_path} {case.query!r} (read token)"
    assert response.status_code < 500, (
        f"{what}: server error {response.status_code}: {response.content[:500]!r}"
    )
    assert response.status_code != 401, f"{what}: a valid token was refused"
    writes = case.method.upper() not in {"GET", "HEAD", "OPTIONS"} and case.path != "/logout"
    if writes and response.status_code < 400:
        raise AssertionError(f"{what}: a read-only token changed something")
    if 400 <= response.status_code < 500:
        _problem(response, what)
    compressed = bool(response.headers.get("content-encoding"))
    case.validate_response(response, checks=CONFORMANCE[:2] if compressed else CONFORMANCE)
