"""``/openapi.json``: the OpenAPI 3.1 description of every HTTP endpoint the app serves.

The document is a hand-written file beside this module (``openapi.json``), not generated from
the views: it states the contract (parameter types and ranges, problem responses) that the
views must keep, and ``tests/test_openapi.py`` fails when a URL rule is missing from it, while
``tests/test_fuzz.py`` (schemathesis) checks the app against it. JSON, so no YAML dependency.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify

blueprint = Blueprint("openapi", __name__)

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi.json"


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The parsed document, read once per process (the file only changes with a release)."""
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return document


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI document, cacheable for a few minutes and readable from any origin."""
    response = jsonify(openapi_document())
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
