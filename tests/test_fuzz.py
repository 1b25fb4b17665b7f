"""Fuzz every endpoint of ``/openapi.json`` with schemathesis against the real app and database.

The standard: malformed input gets a 4xx RFC 9457 problem (``application/problem+json`` with
``type``, ``title``, ``detail``), never a 500 or a stack trace. Schemathesis reads the app's own
OpenAPI document through its WSGI support (no server), generates requests that fit the
documented parameters (positive) and requests that break them (negative), and each answer is
checked here. Staff operations are called without credentials and must refuse with a 401
problem. The number of examples is bounded so the run stays well under a minute.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from webmap.openapi_api import openapi_document

PROBLEM_JSON = "application/problem+json"
# Per operation and mode; WEBMAP_FUZZ_EXAMPLES=500 digs deeper when hunting (not in the suite).
EXAMPLES = int(os.environ.get("WEBMAP_FUZZ_EXAMPLES", "12"))
_CREDENTIALS = ("authorization", "cookie", "x-csrf-token")
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
_ROUTING = {404, 405}  # no route for that path or method: answered before any view runs


# The document as served (tests/test_openapi.py checks the served copy is this file); requests go
# to each test's ``app`` through schemathesis' WSGI transport (``case.call(app=...)``).
schema = schemathesis.openapi.from_dict(openapi_document())
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=EXAMPLES,
)


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
def test_malformed_input_gets_a_problem_never_a_500(case: Any, app: Flask) -> None:
    staff_only = _is_staff_only(case.operation)
    if staff_only:
        for name in list(case.headers or {}):
            if name.lower() in _CREDENTIALS:
                del case.headers[name]
        case.cookies = {}
    response = case.call(app=app)
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
