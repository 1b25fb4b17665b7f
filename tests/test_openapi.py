"""The OpenAPI document: served, valid OpenAPI 3.1, and never behind the app's URL rules.

A new route without its entry in ``webmap/openapi.json`` fails here, so the contract the fuzz
test (tests/test_fuzz.py) checks cannot silently fall behind the code.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from webmap import create_app
from webmap.api.openapi import openapi_document

_ANY = re.compile(r"<any\(([^)]*)\):\w+>")
_VARIABLE = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")
_DOCUMENTED_ELSEWHERE = {"HEAD", "OPTIONS"}  # answered by Flask for every GET / every rule


def _openapi_paths(rule: str) -> list[str]:
    """``/tiles/<name>/<z>/<x>/<y>.<any(png, webp):fmt>`` → the OpenAPI paths it serves."""
    found = _ANY.search(rule)
    if found is None:
        return [_VARIABLE.sub(r"{\1}", rule)]
    options = [option.strip().strip("'\"") for option in found.group(1).split(",")]
    return [
        path
        for option in options
        for path in _openapi_paths(rule[: found.start()] + option + rule[found.end() :])
    ]


def _served_operations(app: Flask) -> set[tuple[str, str]]:
    return {
        (path, method.lower())
        for rule in app.url_map.iter_rules()
        for path in _openapi_paths(rule.rule)
        for method in rule.methods or ()
        if method not in _DOCUMENTED_ELSEWHERE
    }


def _documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in methods
    }


def test_rule_paths_are_translated() -> None:
    assert _openapi_paths("/tiles/<name>/<z>/<x>/<y>.<any(png, webp):fmt>") == [
        "/tiles/{name}/{z}/{x}/{y}.png",
        "/tiles/{name}/{z}/{x}/{y}.webp",
    ]
    assert _openapi_paths("/admin/layers/<name>/versions/<int:version>/report") == [
        "/admin/layers/{name}/versions/{version}/report"
    ]
    assert _openapi_paths("/static/<path:filename>") == ["/static/{filename}"]


def test_every_url_rule_is_documented() -> None:
    # No database is touched: building the app only registers its routes.
    app = create_app({"database_url": "postgresql://postgres@127.0.0.1:5432/unused"})
    served = _served_operations(app)
    documented = _documented_operations(openapi_document())
    assert len(served) > 40
    assert served - documented == set(), "URL rules missing from webmap/openapi.json"
    assert documented - served == set(), "webmap/openapi.json documents routes that do not exist"


def test_document_is_valid_openapi_31() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1.")
    validate(document)  # raises OpenAPIValidationError with the failing pointer


def test_every_operation_documents_its_problems() -> None:
    """Every operation that can refuse input says so with the shared Problem schema."""
    document = openapi_document()
    problem_ref = "#/components/schemas/Problem"
    responses = document["components"]["responses"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation.get("operationId"), (path, method)
            for status, response in operation["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                if "$ref" in response:
                    response = responses[response["$ref"].rsplit("/", 1)[1]]
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": problem_ref}, (path, method, status)


def test_served_document_is_the_file(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == openapi_document()
    assert "max-age" in response.headers["Cache-Control"]


def test_staff_operations_declare_bearer_security() -> None:
    document = openapi_document()
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        if not path.startswith("/api/layers"):
            continue
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert {"bearerAuth": []} in operation["security"], (path, method)
            assert {} not in operation["security"], (path, method)
            assert "401" in operation["responses"], (path, method)
