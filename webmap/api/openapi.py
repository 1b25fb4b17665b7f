"""``/openapi.json``: the OpenAPI 3.1 description of every HTTP endpoint the app serves.

Generated (:mod:`webmap.http.openapi`) from the contracts declared on the views with pydantic
models, once per app, and served from memory. ``tests/test_openapi.py`` fails when a URL rule
has no contract; ``tests/test_fuzz.py`` (schemathesis) checks the app against the document.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify

from webmap.http.contracts import ANYONE, contract, ok
from webmap.http.openapi import build_document

blueprint = Blueprint("openapi", __name__)


def openapi_document(app: Flask) -> dict[str, Any]:
    """The app's document, built on first use (the routes do not change after start)."""
    document: dict[str, Any] | None = app.extensions.get("webmap.openapi")
    if document is None:
        document = app.extensions["webmap.openapi"] = build_document(app)
    return document


@blueprint.get("/openapi.json")
@contract(
    "openapi",
    "This OpenAPI 3.1 document",
    tags=("service",),
    security=ANYONE,
    responses={200: ok({"type": "object", "required": ["openapi", "paths"]})},
)
def openapi() -> Response:
    """The OpenAPI document, cacheable for a few minutes and readable from any origin."""
    response = jsonify(openapi_document(current_app))
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
