"""``/admin``: HTML pages where GIS staff upload, inspect, publish, roll back and delete layers.

Every page works as plain HTML forms (POST, then a 303 redirect to a page that says what
happened); ``static/admin/admin.js`` only adds an upload progress bar and announcements. The
views call the same domain functions as ``/api/layers`` (:mod:`layers.versions`,
:mod:`layers.ingest` through :mod:`webmap.admin.forms`) and the login of :mod:`webmap.http.auth`:
a browser without a session is sent to ``/login``, anything else gets 401/403 problem JSON,
and every POST needs the session's CSRF token.

This module: the list of layers and a layer's pages and actions. What every page shares (the
blueprint, staff-only, errors, language) is :mod:`webmap.admin.pages`; the upload forms are
:mod:`webmap.admin.uploads`.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from layers.errors import InvalidInput, LayerNotFound
from layers.store import check_layer_name
from layers.versions import list_layers
from webmap.admin.contracts import (
    URLENCODED,
    ConfirmForm,
    ReportAddress,
    RollbackForm,
    VisibilityForm,
    page_contract,
    post_contract,
)
from webmap.admin.pages import blueprint, check_write, layer_for, render_page
from webmap.db import get_pool
from webmap.http.auth import readable_municipalities, staff_required
from webmap.http.params import whole_number
from webmap.i18n import gettext
from webmap.services import services


@blueprint.get("/")
@blueprint.get("")  # registered first, so url_for gives the canonical /admin
@page_contract("adminIndex", "Every layer (admin page)", path=None)
@staff_required(publish=False)
def index() -> tuple[str, int]:
    """Every layer, public and private, in one table."""
    with get_pool().connection() as conn:
        layers = list_layers(conn, readable_municipalities())
    return render_page("index.html", layers=layers, active="list")


@blueprint.get("/layers/<name>")
@page_contract("adminLayer", "A layer's page")
@staff_required(publish=False)
def layer(name: str) -> Any:
    """One layer: its metadata, actions, and every stored version with rollback buttons."""
    return render_page("layer.html", layer=layer_for(name))


@blueprint.get("/layers/<name>/versions/<int:version>/report")
@page_contract("adminReport", "The validation report of a version", path=ReportAddress)
@staff_required(publish=False)
def report(name: str, version: int) -> Any:
    """The validation report of one stored version."""
    detail = layer_for(name)
    found = [v for v in detail["versions"] if v["version"] == version]
    if not found:
        raise LayerNotFound(f"The layer {name!r} has no stored version {version}.")
    return render_page("report.html", layer=detail, version=found[0], report=found[0]["report"])


@blueprint.post("/layers/<name>/visibility")
@post_contract("adminVisibility", "Publish or unpublish", (URLENCODED, VisibilityForm))
@staff_required()
def visibility(name: str) -> Response:
    """Publish or unpublish (``public`` = true | false) without uploading again."""
    check_layer_name(name)
    wanted = request.form.get("public", "")
    if wanted not in ("true", "false"):
        raise InvalidInput("public must be true or false.")
    check_write(name)
    with get_pool().connection() as conn:
        services().publishing.set_visibility(conn, name, wanted == "true")
    services().catalog.invalidate()
    flash(
        gettext("%(name)s is now public: anyone can see it.", name=name)
        if wanted == "true"
        else gettext("%(name)s is now private: only staff can see it.", name=name)
    )
    return redirect(url_for("admin.layer", name=name), 303)


@blueprint.post("/layers/<name>/rollback")
@post_contract("adminRollback", "Roll back to a version", (URLENCODED, RollbackForm))
@staff_required()
def rollback_layer(name: str) -> Response:
    """Make the chosen stored version live again."""
    check_layer_name(name)
    version = whole_number("version", request.form.get("version", ""), 1, 2**31 - 1)
    check_write(name)
    with get_pool().connection() as conn:
        live = services().publishing.rollback(conn, name, version)
    services().catalog.invalidate()
    flash(gettext("Version %(version)s of %(name)s is now live.", name=name, version=live))
    return redirect(url_for("admin.layer", name=name), 303)


@blueprint.get("/layers/<name>/delete")
@page_contract("adminDeleteForm", "Confirm deleting a layer")
@staff_required(publish=False)
def delete_form(name: str) -> Any:
    """Ask before deleting: the layer and all versions go, and that cannot be undone."""
    layer = layer_for(name)
    check_write(name)
    return render_page("delete.html", layer=layer)


@blueprint.post("/layers/<name>/delete")
@post_contract("adminDelete", "Delete a layer", (URLENCODED, ConfirmForm))
@staff_required()
def delete(name: str) -> Response:
    """Delete the layer with all its versions (raster files too)."""
    check_write(name)
    with get_pool().connection() as conn:
        services().publishing.delete(conn, name)
    services().catalog.invalidate()
    flash(gettext("The layer %(name)s and all its versions are deleted.", name=name))
    return redirect(url_for("admin.index"), 303)


@blueprint.get("/layers/<name>/preview")
@page_contract("adminPreview", "Preview a layer on the map")
@staff_required(publish=False)
def preview(name: str) -> Any:
    """The live version over the basemap, drawn by the viewer bundle from our own tiles."""
    detail = layer_for(name)
    return render_page(
        "preview.html",
        layer=detail,
        style_url=url_for("tiles.style_document", name="basemap"),
        overlay_url=url_for("tiles.tilejson_document", name=name),
    )
