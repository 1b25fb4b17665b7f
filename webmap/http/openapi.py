"""The OpenAPI 3.1 document, generated from the app's URL rules and the views' contracts.

Every rule's view carries a :class:`~webmap.http.contracts.Contract`; a rule without one is an
error here (and in ``tests/test_openapi.py``), so the document cannot fall behind the routes.
Models become ``#/components/schemas/<Model>`` with pydantic's ``model_json_schema``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from werkzeug.routing import Rule

from webmap.http.contracts import (
    NOT_MODIFIED,
    Contract,
    Reply,
    Schema,
    contract_of,
    problems,
)

REF = "#/components/schemas/{model}"
_ANY = re.compile(r"<any\(([^)]*)\):\w+>")
_VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_NOT_DESCRIBED = {"HEAD", "OPTIONS"}  # Flask answers them for every GET / every rule

INFO = {
    "title": "webmap",
    "version": "0.1.0",
    "summary": "Accessible web map and geodata service for Swedish municipalities' e-services",
    "description": "Vector and raster tiles, address and property lookup, static maps, the "
    "embeddable location picker, OGC API – Features and the staff publishing API. Every "
    "malformed request is answered with 4xx RFC 9457 problem JSON (`application/problem+json`, "
    "schema `Problem`), never a 500. Human-facing HTML pages (viewer, demo, embed, login, admin) "
    "are listed as simple GETs and form posts. Generated from the views' contracts "
    "(webmap/http/contracts.py). Details: docs/architecture.md, docs/api-lookup.md, "
    "docs/layers.md, docs/widget.md.",
    "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
}
TAGS = [
    {"name": "tiles", "description": "Vector and raster tiles, TileJSON and styles"},
    {"name": "lookup", "description": "Address and property search, reverse, resolve"},
    {"name": "staticmap", "description": "Static map images for receipts and PDFs"},
    {"name": "widget", "description": "The embeddable picker and its demo pages"},
    {"name": "ogc", "description": "OGC API – Features (Core, GeoJSON)"},
    {"name": "staff", "description": "Staff authentication and layer publishing"},
    {"name": "admin", "description": "Admin HTML pages (session login)"},
    {"name": "pages", "description": "Viewer page and static assets"},
    {"name": "service", "description": "Health and this description"},
]
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "A staff API token (`webmap tokens create`), sent as `Authorization: "
        "Bearer wm_…`. Scope `publish` may write; `read` may only read private layers.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "webmap_staff",
        "description": "The admin login's session cookie (`POST /login`; named "
        "`__Host-webmap_staff` when WEBMAP_SECURE_COOKIES is on): a random id of a session kept "
        "on the server, ended by `POST /logout`, after WEBMAP_SESSION_IDLE_SECONDS unused or "
        "WEBMAP_SESSION_MAX_SECONDS after login. Writes with a session also need the CSRF token "
        "as `X-CSRF-Token` or form field `csrf_token`.",
    },
}

# Flask's own static route has no view of ours to carry a contract.
STATIC_FILES = Contract(
    "staticFile",
    "Built assets of the viewer and admin pages (CSS, JS, icons)",
    tags=("pages",),
    responses={
        200: Reply("The file", {"*/*": None}),
        304: NOT_MODIFIED,
        **problems(404),
    },
)
_BUILT_IN = {"static": STATIC_FILES}


class MissingContract(LookupError):
    """A URL rule whose view declares no contract."""


def openapi_paths(rule: str) -> list[tuple[str, str | None]]:
    """``/t/<z>.<any(png, webp):fmt>`` → ``[("/t/{z}.png", "png"), ("/t/{z}.webp", "webp")]``."""
    found = _ANY.search(rule)
    if found is None:
        return [(_VARIABLE.sub(r"{\2}", rule), None)]
    options = [option.strip().strip("'\"") for option in found.group(1).split(",")]
    return [
        (_VARIABLE.sub(r"{\2}", rule[: found.start()] + option + rule[found.end() :]), option)
        for option in options
    ]


class _Builder:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self._models: dict[str, type[BaseModel]] = {}

    def model_schema(self, model: type[BaseModel], mode: str = "serialization") -> dict[str, Any]:
        """The model's JSON Schema, with nested models moved to the components."""
        schema = model.model_json_schema(by_alias=True, ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for name, nested in schema.pop("$defs", {}).items():
            self._add(name, _without_null_defaults(nested))
        return _without_null_defaults(schema)

    def _add(self, name: str, schema: dict[str, Any]) -> None:
        known = self.schemas.setdefault(name, schema)
        if known != schema:
            raise ValueError(f"two different schemas are called {name}: rename a model")

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        name = model.__name__
        known = self._models.setdefault(name, model)
        if known is not model:
            raise ValueError(f"two models are called {name}: {known} and {model}")
        if name not in self.schemas:
            self._add(name, self.model_schema(model))
        return {"$ref": REF.format(model=name)}

    def schema(self, schema: Schema) -> dict[str, Any]:
        if schema is None:
            return {}
        if isinstance(schema, dict):
            return schema
        return self.ref(schema)

    def parameters(self, model: type[BaseModel], where: str) -> list[dict[str, Any]]:
        schema = self.model_schema(model, mode="validation")
        required = set(schema.get("required", []))
        found = []
        for name, prop in schema["properties"].items():
            prop = {key: value for key, value in prop.items() if key != "title"}
            # A path parameter is always there (OpenAPI requires it to say so).
            needed = where == "path" or name in required
            param: dict[str, Any] = {"name": name, "in": where, "required": needed}
            if "description" in prop:
                param["description"] = prop.pop("description")
            for key in ("style", "explode"):
                if key in prop:
                    param[key] = prop.pop(key)
            examples = prop.pop("examples", None)
            if examples:
                param["examples"] = {f"e{i}": {"value": v} for i, v in enumerate(examples)}
            param["schema"] = _not_null(prop)
            found.append(param)
        return found

    def reply(self, reply: Reply) -> dict[str, Any]:
        answer: dict[str, Any] = {"description": reply.description}
        if reply.headers:
            answer["headers"] = dict(reply.headers)
        if reply.content:
            answer["content"] = {
                media: {"schema": self.schema(schema)} for media, schema in reply.content.items()
            }
        return answer

    def operation(self, contract: Contract, path_names: list[str]) -> dict[str, Any]:
        params: list[dict[str, Any]] = []
        if contract.path is not None:
            params += self.parameters(contract.path, "path")
        described = {param["name"] for param in params}
        params += [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in path_names
            if name not in described
        ]
        if contract.query is not None:
            params += self.parameters(contract.query, "query")
        params += list(contract.headers)
        operation: dict[str, Any] = {
            "operationId": contract.operation_id,
            "summary": contract.summary,
            "tags": list(contract.tags),
        }
        if contract.description:
            operation["description"] = contract.description
        if params:
            operation["parameters"] = params
        if contract.body is not None:
            operation["requestBody"] = {
                "required": contract.body_required,
                "content": {
                    media: {"schema": self.schema(schema)}
                    for media, schema in contract.body.items()
                },
            }
        operation["security"] = list(contract.security)
        operation["responses"] = {
            str(status): self.reply(reply) for status, reply in sorted(contract.responses.items())
        }
        return operation


def _without_null_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop ``default: null`` where the type has no null: a field that may be absent but not
    null (``title: str = Field(None)``) would otherwise make the document invalid."""
    for prop in schema.get("properties", {}).values():
        if prop.get("default", ...) is None and prop.get("type") not in (None, "null"):
            del prop["default"]
    return schema


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf [X, null]`` → X, no ``default: null``: a parameter is absent, never null."""
    if schema.get("default", ...) is None:
        schema = {key: value for key, value in schema.items() if key != "default"}
    options = schema.get("anyOf")
    if options and len(options) == 2 and {"type": "null"} in options:
        rest = {key: value for key, value in schema.items() if key != "anyOf"}
        return {**rest, **next(option for option in options if option != {"type": "null"})}
    return schema


def _variant(operation: dict[str, Any], option: str | None) -> dict[str, Any]:
    if option is None:
        return operation
    text = json.dumps(operation)
    for key, value in (
        ("{variant}", option),
        ("{VARIANT}", option.upper()),
        ("{Variant}", option.capitalize()),
    ):
        text = text.replace(key, value)
    result: dict[str, Any] = json.loads(text)
    return result


def _path_names(rule: Rule) -> list[str]:
    return [name for kind, name in _VARIABLE.findall(rule.rule) if kind != "any"]


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every URL rule of ``app``."""
    builder = _Builder()
    paths: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        contract = contract_of(view) or _BUILT_IN.get(rule.endpoint)
        if contract is None:
            raise MissingContract(f"{rule.rule} ({rule.endpoint}) has no @contract")
        for path, option in openapi_paths(rule.rule):
            operation = _variant(builder.operation(contract, _path_names(rule)), option)
            if operation["operationId"] in operation_ids:
                # One view at two rules (``/admin`` and ``/admin/``): the second gets a suffix.
                operation["operationId"] += "Slash" if path.endswith("/") else "Again"
            operation_ids.add(operation["operationId"])
            item = paths.setdefault(path, {})
            for method in sorted((rule.methods or set()) - _NOT_DESCRIBED):
                item[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "tags": TAGS,
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": SECURITY_SCHEMES,
            "schemas": dict(sorted(builder.schemas.items())),
        },
    }
