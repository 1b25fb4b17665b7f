"""``/api/layers``: staff publish, inspect, roll back and delete layers.

The handlers only parse the request and call the publishing facade (:mod:`layers.publishing`,
which takes the layer's lock for every change) or read :mod:`layers.versions`; the upload is
spooled to a scratch folder first, so a client that disconnects halfway fails while the body is
read, before the database is touched.

This module: the routes. The blueprint and its spooling are
:mod:`webmap.api.layers.blueprint`, reading the form :mod:`webmap.api.layers.forms`, who may
change a layer :mod:`webmap.api.layers.access`, the contract's models
:mod:`webmap.api.layers.models`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for

from layers.errors import InvalidInput
from layers.ingest import LayerExists
from layers.publishing import LayerChanges
from layers.store import check_layer_name
from layers.versions import layer_detail, list_layers
from staff.tenancy import authorize_read, authorize_write, owner_for_new_layer
from tiles.prerender import status as prerender_status
from webmap.api.layers.access import check_writable, existing_layer
from webmap.api.layers.blueprint import blueprint
from webmap.api.layers.forms import new_layer_spec, upload_choices, uploaded_file, version_changes
from webmap.api.layers.models import (
    LayerDetail,
    LayerList,
    LayerListQuery,
    LayerPatch,
    NewLayer,
    Published,
    Rollback,
    Upload,
)
from webmap.db import get_pool
from webmap.http.auth import principal_required, readable_municipalities, staff_required
from webmap.http.contracts import (
    JSON,
    NO_CONTENT,
    STAFF,
    Reply,
    contract,
    ok,
    parse_body,
    parse_query,
    problems,
)
from webmap.http.models import LayerName
from webmap.http.params import optional_whole_number
from webmap.http.uploads import publish_upload, replace_upload
from webmap.services import services
from webmap.settings import Settings

_UPLOAD_PROBLEMS = problems(400, 401, 403, 409, 413, 415, 422, 503, 507)


def _settings() -> Settings:
    return services().settings


def _publish(name: str, new: bool, municipality: str | None = None) -> dict[str, Any]:
    """Spool the upload, publish it (a new layer or a new version), return version and report."""
    choices = upload_choices()
    if new:
        spec = new_layer_spec(name, municipality)
        version, report = publish_upload(uploaded_file(), spec, choices, _settings())
    else:
        version, report = replace_upload(
            uploaded_file(), name, version_changes(), choices, _settings()
        )
    return {"name": name, "version": version, "report": report}


def _published(body: dict[str, Any], status: int) -> Response:
    services().catalog.invalidate()
    detail_url = url_for("layers_api.get_layer", name=body["name"])
    body["links"] = {"self": detail_url}
    response = jsonify(body)
    response.status_code = status
    response.headers["Location"] = detail_url
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/api/layers")
@contract(
    "createLayer",
    "Publish a new layer from an uploaded file",
    tags=("staff",),
    security=STAFF,
    body={"multipart/form-data": NewLayer},
    responses={201: Reply("Published", {JSON: Published}), **_UPLOAD_PROBLEMS},
)
@staff_required()
def create_layer() -> Response:
    """Publish a new layer from an uploaded file (``multipart/form-data``)."""
    name = check_layer_name(request.form.get("name", ""))
    owner = owner_for_new_layer(principal_required(), request.form.get("municipality"))
    if existing_layer(name) is not None:
        # Names are unique in the deployment: this says the name is taken, nothing more.
        raise LayerExists(f"A layer named {name!r} exists; PUT /api/layers/{name} for a version.")
    return _published(_publish(name, new=True, municipality=owner), 201)


@blueprint.put("/api/layers/<name>")
@contract(
    "newVersion",
    "Publish a new version of a layer",
    tags=("staff",),
    security=STAFF,
    path=LayerName,
    body={"multipart/form-data": Upload},
    responses={200: ok(Published), **_UPLOAD_PROBLEMS, **problems(404)},
)
@staff_required()
def new_version(name: str) -> Response:
    """Publish a new version of an existing layer; unsent metadata keeps its current value."""
    check_layer_name(name)
    check_writable(name)
    return _published(_publish(name, new=False), 200)


@blueprint.get("/api/layers")
@contract(
    "listLayers",
    "Every layer, public and private",
    tags=("staff",),
    security=STAFF,
    query=LayerListQuery,
    responses={200: ok(LayerList), **problems(400, 401, 403, 503)},
)
@staff_required(publish=False)
def get_layers() -> Response:
    """Every layer the caller may read (public ones, and the private ones of its
    municipalities), with its live version and owning municipality."""
    wanted = parse_query(LayerListQuery).municipality
    with get_pool().connection() as conn:
        layers = list_layers(conn, readable_municipalities(), wanted)
    response = jsonify({"layers": layers})
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/api/layers/<name>")
@contract(
    "getLayer",
    "A layer's metadata, bounds, report and versions",
    tags=("staff",),
    security=STAFF,
    path=LayerName,
    responses={200: ok(LayerDetail), **problems(400, 401, 403, 404, 503)},
)
@staff_required(publish=False)
def get_layer(name: str) -> Response:
    """Metadata, bounds, feature count, the live report and all stored versions."""
    check_layer_name(name)
    with get_pool().connection() as conn:
        authorize_read(conn, principal_required(), name)
        detail = layer_detail(conn, name)
        detail["prerender"] = [job.as_json() for job in prerender_status(conn, name)]
    response = jsonify(detail)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.patch("/api/layers/<name>")
@contract(
    "updateLayer",
    "Edit metadata or publish/unpublish without new data",
    tags=("staff",),
    security=STAFF,
    path=LayerName,
    body={JSON: LayerPatch},
    responses={200: ok(LayerDetail), **problems(400, 401, 403, 404, 409, 503)},
)
@staff_required()
def update_layer(name: str) -> Response:
    """Change title, description, attribution or public (publish/unpublish) without new data."""
    check_layer_name(name)
    patch = parse_body(
        LayerPatch,
        request.get_json(silent=True),
        "title, description, attribution or public",
    )
    if patch.title is not None and not patch.title.strip():
        raise InvalidInput("The title cannot be empty.")
    with get_pool().connection() as conn:
        authorize_write(conn, principal_required(), name)
        # Under the layer's lock: waits for an upload of the layer instead of being lost to it.
        changes = patch.model_dump(exclude_unset=True)
        services().publishing.update_metadata(conn, name, LayerChanges(**changes))
        detail = layer_detail(conn, name)
    services().catalog.invalidate()
    return jsonify(detail)


@blueprint.delete("/api/layers/<name>")
@contract(
    "deleteLayer",
    "Delete a layer with all its versions",
    tags=("staff",),
    security=STAFF,
    path=LayerName,
    responses={204: NO_CONTENT, **problems(400, 401, 403, 404, 409, 503)},
)
@staff_required()
def remove_layer(name: str) -> Response:
    """Delete a layer and all its versions (tiles of it answer 404 from then on)."""
    check_layer_name(name)
    with get_pool().connection() as conn:
        authorize_write(conn, principal_required(), name)
        services().publishing.delete(conn, name)
    services().catalog.invalidate()
    return Response(status=204)


@blueprint.post("/api/layers/<name>/rollback")
@contract(
    "rollbackLayer",
    "Make an older version live (default: the previous one)",
    tags=("staff",),
    security=STAFF,
    path=LayerName,
    body={JSON: Rollback},
    body_required=False,
    responses={200: ok(LayerDetail), **problems(400, 401, 403, 404, 409, 503)},
)
@staff_required()
def rollback_layer(name: str) -> Response:
    """Make an older version live again: ``{"version": n}``, or the previous one by default."""
    check_layer_name(name)
    data = request.get_json(silent=True) if request.is_json else None
    raw = data.get("version") if isinstance(data, dict) else request.form.get("version")
    version = optional_whole_number("version", None if raw is None else str(raw), 1, 2**31 - 1)
    with get_pool().connection() as conn:
        authorize_write(conn, principal_required(), name)
        services().publishing.rollback(conn, name, version)
        detail = layer_detail(conn, name)
    services().catalog.invalidate()
    return jsonify(detail)
