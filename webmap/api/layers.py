"""``/api/layers``: staff publish, inspect, roll back and delete layers.

The handlers only parse the request and call the publishing facade (:mod:`layers.publishing`,
which takes the layer's lock for every change) or read :mod:`layers.versions`; the upload is
spooled to a scratch folder first, so a client that disconnects halfway fails while the body is
read, before the database is touched.
"""

from __future__ import annotations

import tempfile
from typing import IO, Any, Literal

from flask import Blueprint, Response, g, jsonify, request, url_for
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.datastructures import FileStorage

from layers.errors import InvalidInput, LayerNotFound
from layers.ingest import LayerExists
from layers.publishing import LayerChanges
from layers.store import LayerSpec, check_layer_name
from layers.versions import layer_detail, list_layers
from staff.tenancy import authorize_read, authorize_write, owner_for_new_layer
from tiles.prerender import status as prerender_status
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
from webmap.http.uploads import UploadChoices, publish_upload, replace_upload
from webmap.services import services
from webmap.settings import Settings

blueprint = Blueprint("layers_api", __name__)

_TRUE = {"1", "true", "yes", "on", "ja"}
_FALSE = {"0", "false", "no", "off", "nej"}
_TEXT_LIMIT = 2000
_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
_OWNER_PATTERN = r"^([0-9]{4}|instance)$"
_UPLOAD_PROBLEMS = problems(400, 401, 403, 409, 413, 415, 422, 503, 507)


class Upload(BaseModel):
    """The multipart form of an upload (a new version: only ``file`` is needed)."""

    file: str = Field(json_schema_extra={"contentMediaType": "application/octet-stream"})
    name: str | None = Field(None, pattern=_NAME_PATTERN)
    title: str | None = Field(None, max_length=_TEXT_LIMIT)
    srid: int | None = Field(None, ge=1024, le=999_999)
    description: str | None = Field(None, max_length=_TEXT_LIMIT)
    attribution: str | None = Field(None, max_length=_TEXT_LIMIT)
    public: Literal["true", "false", "1", "0", "ja", "nej"] | None = None
    layer: str | None = Field(None, description="which layer of a GeoPackage or KML")
    encoding: str | None = Field(None, description="DBF encoding, e.g. ISO-8859-1")
    geometry_type: Literal["point", "line", "polygon"] | None = None
    municipality: str | None = Field(
        None,
        pattern=_OWNER_PATTERN,
        description="A new layer's owning municipality (SCB code), or `instance` for an "
        "instance-wide one; by default the caller's only municipality (docs/layers.md, "
        "Municipalities). Ignored for a new version.",
    )


class LayerListQuery(BaseModel):
    """``?municipality=`` narrows the list to one municipality's layers (``instance``: the
    instance-wide ones)."""

    municipality: str | None = Field(None, pattern=_OWNER_PATTERN)


class NewLayer(Upload):
    """The multipart form that publishes a new layer: a file, a name and a title."""

    name: str = Field(pattern=_NAME_PATTERN)
    title: str = Field(max_length=_TEXT_LIMIT)


class LayerPatch(BaseModel):
    """What ``PATCH /api/layers/{name}`` may change."""

    model_config = ConfigDict(extra="forbid")

    # Absent keeps the current value; null is not a value (400), hence no ``| None``.
    title: str = Field(None, min_length=1, max_length=_TEXT_LIMIT)  # type: ignore[assignment]
    description: str = Field(None, max_length=_TEXT_LIMIT)  # type: ignore[assignment]
    attribution: str = Field(None, max_length=_TEXT_LIMIT)  # type: ignore[assignment]
    public: bool = Field(None)  # type: ignore[assignment]


class Rollback(BaseModel):
    """Which version to make live; the previous one when absent."""

    version: int | None = Field(None, ge=1, le=2**31 - 1)


class LayerDetail(BaseModel):
    """Metadata, bounds (WGS 84), feature count, live report and the stored versions of a
    layer (docs/layers.md); ``prerender``: the pre-rendering of its low zooms (state, tiles done
    of total) for the live version, empty when none is queued (docs/architecture.md)."""

    name: str


class LayerList(BaseModel):
    """Every layer with its live version."""

    layers: list[dict[str, Any]]


class Published(BaseModel):
    """A published version and its validation report."""

    name: str
    version: int | None
    report: dict[str, Any]
    links: dict[str, Any] | None = None


def _settings() -> Settings:
    return services().settings


def _flag(value: str | None, default: bool | None) -> bool | None:
    if value is None or value == "":
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise InvalidInput(f"public must be true or false, not {value[:20]!r}.")


def _text(name: str, default: str = "") -> str:
    value = request.form.get(name)
    if value is None:
        return default
    if len(value) > _TEXT_LIMIT:
        raise InvalidInput(f"{name} is longer than {_TEXT_LIMIT} characters.")
    return value.strip()


def _spec(name: str, municipality: str | None) -> LayerSpec:
    """A new layer's description from the form."""
    title = _text("title")
    if not title:
        raise InvalidInput("Give the layer a title.")
    return LayerSpec(
        municipality=municipality,
        name=name,
        title=title,
        description=_text("description"),
        attribution=_text("attribution"),
        public=_flag(request.form.get("public"), True) is not False,
    )


def _changes() -> LayerChanges:
    """What a new version's form changes; unsent fields keep their value (read under the
    layer's lock when the version goes live, not now)."""
    sent = {key: request.form.get(key) for key in ("title", "description", "attribution")}
    texts = {key: _text(key) for key, value in sent.items() if value is not None}
    if "title" in texts and not texts["title"]:
        raise InvalidInput("Give the layer a title.")
    return LayerChanges(**texts, public=_flag(request.form.get("public"), None))


def _spool_to_disk(
    total_content_length: int | None,
    content_type: str | None,
    filename: str | None,
    content_length: int | None = None,
) -> IO[bytes]:
    """Where werkzeug streams an uploaded file: a temp file we close even if parsing fails."""
    settings = _settings()
    handle = tempfile.TemporaryFile(dir=settings.upload_dir or None)  # noqa: SIM115 (closed in teardown)
    g.setdefault("upload_files", []).append(handle)
    return handle


@blueprint.teardown_request
def _close_spooled(_error: BaseException | None) -> None:
    # werkzeug leaves the spool of an aborted body (client gone halfway) to the GC; close now.
    for handle in g.pop("upload_files", []):
        handle.close()


@blueprint.before_request
def _spool_uploads_to_disk() -> None:
    # werkzeug's hook for where uploaded files go (Request._get_file_stream), set per request
    # before anything (the CSRF check included) parses the form.
    setattr(request, "_get_file_stream", _spool_to_disk)  # noqa: B010


def _upload() -> FileStorage:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("Send the data as the multipart field 'file'.")
    return upload


def _choices() -> UploadChoices:
    return UploadChoices(
        srid=optional_whole_number("srid", request.form.get("srid"), 1024, 999_999),
        source_layer=request.form.get("layer") or None,
        encoding=request.form.get("encoding") or None,
        geometry_type=request.form.get("geometry_type") or None,
    )


def _publish(name: str, new: bool, municipality: str | None = None) -> dict[str, Any]:
    """Spool the upload, publish it (a new layer or a new version), return version and report."""
    choices = _choices()
    if new:
        spec = _spec(name, municipality)
        version, report = publish_upload(_upload(), spec, choices, _settings())
    else:
        version, report = replace_upload(_upload(), name, _changes(), choices, _settings())
    return {"name": name, "version": version, "report": report}


def _current(name: str) -> dict[str, Any] | None:
    with get_pool().connection() as conn:
        try:
            return layer_detail(conn, name)
        except LayerNotFound:
            return None


def _writable(name: str) -> None:
    """404 for no such layer, 403 for another municipality's (:mod:`staff.tenancy`)."""
    with get_pool().connection() as conn:
        try:
            authorize_write(conn, principal_required(), name)
        except LayerNotFound:
            raise LayerNotFound(
                f"There is no layer named {name!r}; POST /api/layers creates it."
            ) from None


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
    if _current(name) is not None:
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
    _writable(name)
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
