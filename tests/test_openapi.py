"""The OpenAPI document: generated from the views' contracts, served, valid OpenAPI 3.1, and
never behind the app's URL rules.

A new route without a ``@contract`` fails here (the generator refuses it, and every rule must be
described), so the contract the fuzz test (tests/test_fuzz.py) checks cannot fall behind the code.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from webmap import create_app
from webmap.api.openapi import openapi_document
from webmap.http.openapi import MissingContract, build_document, openapi_paths

UNUSED_DATABASE = {"database_url": "postgresql://postgres@127.0.0.1:5432/unused"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The document of an app whose database is never touched (building it only registers
    routes)."""
    return openapi_document(create_app(UNUSED_DATABASE))


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
    # The generator's own translation agrees with this independent one.
    rule = "/tiles/<name>/<z>/<x>/<y>.<any(png, webp):fmt>"
    assert [path for path, _ in openapi_paths(rule)] == _openapi_paths(rule)


def test_every_url_rule_is_documented(document: dict[str, Any]) -> None:
    app = create_app(UNUSED_DATABASE)
    served = _served_operations(app)
    documented = _documented_operations(document)
    assert len(served) > 40
    assert served - documented == set(), "URL rules missing from the document"
    assert documented - served == set(), "the document describes routes that do not exist"


def test_a_route_without_a_contract_is_refused() -> None:
    app = create_app(UNUSED_DATABASE)
    extra = Blueprint("undescribed", __name__)
    extra.add_url_rule("/undescribed", view_func=lambda: "", methods=["GET"])
    app.register_blueprint(extra)
    with pytest.raises(MissingContract, match="/undescribed"):
        build_document(app)


def test_document_is_valid_openapi_31(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    validate(document)  # raises OpenAPIValidationError with the failing pointer


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
    ]
    assert len(ids) == len(set(ids))
    assert {"rasterTilePng", "rasterTileWebp", "adminIndex", "adminIndexSlash"} <= set(ids)


def test_every_operation_documents_its_problems(document: dict[str, Any]) -> None:
    """Every operation that can refuse input says so with the shared Problem schema."""
    problem_ref = "#/components/schemas/Problem"
    responses = document["components"].get("responses", {})
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


def test_served_document_is_the_generated_one(app: Flask, client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == build_document(app)
    assert "max-age" in response.headers["Cache-Control"]


def test_query_models_are_the_documented_parameters(document: dict[str, Any]) -> None:
    """The parameters come from the models the views parse with: names, ranges, defaults."""
    search = document["paths"]["/api/search"]["get"]["parameters"]
    limit = next(param for param in search if param["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}
    items = document["paths"]["/ogc/collections/{collection_id}/items"]["get"]["parameters"]
    assert {param["name"] for param in items} >= {"limit", "offset", "bbox", "bbox-crs", "crs"}


def test_a_refused_query_is_problem_json_invalid_input(client: FlaskClient) -> None:
    """What the query models refuse is 400 ``/problems/invalid-input``, never pydantic's own
    error format (no database is needed to refuse)."""
    for url in (
        "/api/staticmap.json?lat=59.3",  # lon missing
        "/api/search?q=storgatan&limit=1_0",  # not the one whole-number form
        "/embed?lang=de",  # not one of sv, en
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.mimetype == "application/problem+json", url
        body = response.get_json()
        assert body["type"] == "/problems/invalid-input", (url, body)
        assert "loc" not in body and "input" not in body, body


def test_staff_operations_declare_bearer_security(document: dict[str, Any]) -> None:
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
