"""Endpoint contracts, written once beside each view with pydantic models.

``@contract(...)`` records what a view takes (query, path, headers, body) and what it answers
(status → media type → schema) on the view function; :mod:`webmap.http.openapi` turns the
recorded contracts and the app's URL rules into the OpenAPI 3.1 document. The query model is
also what the view parses its input with (:func:`parse_query`), so the document and the code
cannot disagree about a parameter's name, type, range or default.

Why not spectree, flask-openapi3 or apiflask: see docs/architecture.md ("Contracts").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from flask import request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo

from layers.errors import InvalidInput
from webmap.http.params import number, whole_number

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"

# What a media type carries: a model (a ``$ref`` to its component schema), a literal JSON
# Schema, or None (anything).
Schema = type[BaseModel] | dict[str, Any] | None
F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)


class Problem(BaseModel):
    """RFC 9457 problem details. Extension members (`hint`, `suggested_srids`, `report` …) may
    follow."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        description="`/problems/<slug>` or `about:blank`", examples=["/problems/invalid-input"]
    )
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    hint: str | None = None


@dataclass(frozen=True)
class Reply:
    """One documented answer: a description, its media types and their schemas, headers."""

    description: str
    content: Mapping[str, Schema] = field(default_factory=dict)
    headers: Mapping[str, dict[str, Any]] = field(default_factory=dict)


def ok(schema: Schema, media_type: str = JSON, description: str = "OK") -> Reply:
    """A 2xx answer with one media type."""
    return Reply(description, {media_type: schema})


def binary(media_type: str, description: str) -> Reply:
    """Bytes of one media type (tiles, images)."""
    return Reply(description, {media_type: {"type": "string", "format": "binary"}})


HTML_PAGE = Reply("An HTML page", {HTML: {"type": "string"}})
NO_CONTENT = Reply("No content")
NOT_MODIFIED = Reply("The client's copy (If-None-Match) is current")
REDIRECT = Reply("Redirect", headers={"Location": {"schema": {"type": "string"}}})

_PROBLEMS: dict[int, tuple[str, dict[str, dict[str, Any]]]] = {
    400: ("Malformed input (problem JSON)", {}),
    401: (
        "Missing or wrong credentials",
        {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
    ),
    403: ("A read-only token, or a missing CSRF token", {}),
    404: ("Not found (problem JSON)", {}),
    409: ("Name taken, or the layer is busy", {}),
    413: ("Upload over the limits", {}),
    415: ("Unsupported file format", {}),
    422: (
        "Implausible CRS (with `hint`, `suggested_srids`), mixed geometry types or no usable "
        "features",
        {},
    ),
    416: ("The Range asked for lies outside the file", {}),
    429: ("Too many requests; try again after Retry-After seconds", {}),
    503: (
        "Database or raster unavailable",
        {
            "Retry-After": {
                "description": "Seconds to wait before asking again (sent when the database is "
                "unreachable: WEBMAP_DB_RETRY_AFTER)",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    ),
    507: ("The server's disk filled up while the upload was stored; nothing was kept", {}),
}


def problems(*statuses: int, html: bool = False) -> dict[int, Reply]:
    """Problem JSON answers for ``statuses``; ``html`` adds the HTML page browsers get instead
    (the admin pages answer ``Accept: text/html`` with a page, other clients with JSON)."""
    replies = {}
    for status in statuses:
        description, headers = _PROBLEMS[status]
        content: dict[str, Schema] = {PROBLEM_JSON: Problem}
        if html and status != 503:
            description += "; an HTML page when the browser asks for text/html"
            content[HTML] = {"type": "string"}
        replies[status] = Reply(description, content, headers)
    return replies


# Who may call: anyone; anyone, with staff credentials seeing private layers; staff only.
Security = tuple[dict[str, list[str]], ...]
ANYONE: Security = ()
ANYONE_OR_STAFF: Security = ({}, {"bearerAuth": []}, {"sessionCookie": []})
STAFF: Security = ({"bearerAuth": []}, {"sessionCookie": []})
STAFF_SESSION_FIRST: Security = ({"sessionCookie": []}, {"bearerAuth": []})

IF_NONE_MATCH: dict[str, Any] = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An ETag from an earlier answer: `304` when unchanged.",
    "schema": {"type": "string"},
}

RANGE: dict[str, Any] = {
    "name": "Range",
    "in": "header",
    "required": False,
    "description": "`bytes=START-END`: just that part of the file (`206`).",
    "schema": {"type": "string"},
}


@dataclass(frozen=True)
class Contract:
    """What one view takes and answers.

    ``operation_id``, ``summary`` and media types may contain ``{variant}`` (``{VARIANT}``
    upper-cased, ``{Variant}`` capitalised): a rule with ``<any(png, webp):fmt>`` is one
    operation per option.
    """

    operation_id: str
    summary: str
    tags: tuple[str, ...]
    responses: Mapping[int, Reply]
    security: Security = ANYONE
    description: str | None = None
    path: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: tuple[dict[str, Any], ...] = ()
    body: Mapping[str, Schema] | None = None
    body_required: bool = True


def contract(
    operation_id: str,
    summary: str,
    *,
    tags: tuple[str, ...],
    responses: Mapping[int, Reply],
    **details: Any,
) -> Callable[[F], F]:
    """Record the view's :class:`Contract` on it, for :mod:`webmap.http.openapi`."""
    recorded = Contract(operation_id, summary, tags, responses, **details)

    def record(view: F) -> F:
        view.__contract__ = recorded  # type: ignore[attr-defined]
        return view

    return record


def contract_of(view: Callable[..., Any]) -> Contract | None:
    """The contract recorded on ``view``, if any."""
    found = getattr(view, "__contract__", None)
    return found if isinstance(found, Contract) else None


def parse_query(model: type[M]) -> M:
    """The request's query string through ``model`` (the first value of each name).

    Types declared with :data:`WholeNumber` and :data:`FiniteNumber` refuse with the project's
    own wording; any other refusal by the model is :class:`InvalidInput` (400
    ``/problems/invalid-input``) naming the parameter, never pydantic's error format.
    """
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise InvalidInput(_describe(error)) from None


def parse_body(model: type[M], data: Any, what: str) -> M:
    """A decoded JSON body through ``model`` (strict: JSON has types, nothing is coerced);
    :class:`InvalidInput` saying ``what`` to send when it is not one."""
    if not isinstance(data, dict):
        raise InvalidInput(f"Send a JSON object with {what}.")
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as error:
        raise InvalidInput(_describe(error, "field")) from None


def _describe(error: ValidationError, kind: str = "parameter") -> str:
    first = error.errors(include_url=False)[0]
    name = ".".join(str(part) for part in first["loc"]) or "query"
    if first["type"] == "missing":
        return f"The {kind} {name} is missing."
    if first["type"] == "extra_forbidden":
        return f"Unknown {kind}: {name}."
    return f"The {kind} {name} is invalid: {first['msg']}."


def _whole_number(low: int, high: int) -> Callable[[Any, ValidationInfo], Any]:
    def check(value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            return whole_number(info.field_name or "value", value, low, high)
        return value

    return check


def _finite(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str):
        return number(info.field_name or "value", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"The parameter {info.field_name} must be a finite number.")
    return value


def documented_as(schema: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    """A field's ``json_schema_extra`` that replaces its schema: for text the domain parses
    (an enum it checks with its own refusal, a comma-separated ``bbox``)."""

    def replace(generated: dict[str, Any]) -> None:
        description = generated.get("description")
        generated.clear()
        generated.update(schema)
        if description:
            generated["description"] = description

    return replace


def WholeNumber(low: int, high: int) -> Any:  # noqa: N802 (used as a type)
    """A whole number in [low, high], parsed the one way (:mod:`webmap.http.params`)."""
    # The range is the parser's check (with its wording); the schema only documents it.
    return Annotated[
        int,
        BeforeValidator(_whole_number(low, high)),
        Field(json_schema_extra={"minimum": low, "maximum": high}),
    ]


# A finite number; its range is checked by the domain (e.g. "not a place in Sweden"), so a
# documented range goes in the field's json_schema_extra, not as a pydantic constraint.
FiniteNumber = Annotated[float, BeforeValidator(_finite)]
