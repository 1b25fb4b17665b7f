"""The admin upload forms: a new layer, or a new version of one, and what follows a post.

A post publishes through :func:`webmap.admin.forms.publish` (the same ingest as
``POST /api/layers``) and then redirects to the validation report; a refused file shows the
form again with the reasons next to the fields. ``static/admin/admin.js`` posts the same form
with a progress bar and gets JSON back (201 with the report's address, or problem JSON).
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, jsonify, redirect, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from layers.errors import InvalidInput, LayerNotFound
from layers.versions import layer_detail
from staff.errors import AuthenticationRequired, PermissionDenied
from staff.tenancy import owner_for_new_layer
from webmap.admin.contracts import UploadPost, page_contract, post_contract
from webmap.admin.forms import (
    FieldError,
    FormInvalid,
    UploadForm,
    publish,
    read_form,
    refusal,
)
from webmap.admin.pages import (
    blueprint,
    check_write,
    from_script,
    layer_for,
    render_page,
    wants_html,
)
from webmap.db import get_pool
from webmap.http.auth import principal_required, staff_required
from webmap.http.problems import DOMAIN_ERRORS, problem
from webmap.i18n import gettext, size
from webmap.services import services


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> Any:
    limit = services().settings.max_upload_bytes
    if not wants_html() or "admin_lang" not in g:
        return problem(
            413, "Upload too large", f"Uploads are limited to {limit} bytes.", "too-large"
        )
    form = UploadForm({"public": "true"})
    form.errors.append(
        FieldError(
            "file",
            gettext(
                "GeoJSON, zipped Shapefile, GeoPackage, CSV with coordinates, "
                "KML, GeoTIFF or SRTM (.hgt). At most %(size)s.",
                size=size(limit),
            ),
        )
    )
    return _upload_page(form, None, 413)


def _owners() -> list[str]:
    """The choices of the upload form's municipality field: the caller's municipalities, and
    ``instance`` first for an instance administrator."""
    principal = principal_required()
    codes = sorted(code for code, role in principal.roles.items() if role)
    return (["instance"] if principal.instance_admin else []) + codes


def _upload_page(form: UploadForm, current: dict[str, Any] | None, status: int = 200) -> Any:
    settings = services().settings
    return render_page(
        "upload.html",
        status,
        form=form,
        current=current,
        max_bytes=settings.max_upload_bytes,
        owners=_owners() if current is None else [],
        active="upload" if current is None else None,
    )


@blueprint.get("/upload")
@page_contract("adminUploadForm", "The upload form", path=None)
@staff_required(publish=False)
def upload_form() -> Any:
    """The upload form for a new layer."""
    return _upload_page(UploadForm({"public": "true"}), None)


@blueprint.post("/upload")
@post_contract(
    "adminUpload",
    "Upload a new layer (form)",
    ("multipart/form-data", UploadPost),
    (409, 413, 415, 422, 507),
    path=None,
)
@staff_required()
def upload() -> Any:
    """Publish a new layer from the form; the validation report follows on success."""
    return _handle_upload(None)


@blueprint.get("/layers/<name>/upload")
@page_contract("adminVersionForm", "The form for a new version")
@staff_required(publish=False)
def version_form(name: str) -> Any:
    """The upload form for a new version of ``name`` (its metadata filled in)."""
    current = layer_for(name)
    check_write(name)
    values = {
        "name": name,
        "title": str(current["title"]),
        "description": str(current["description"] or ""),
        "attribution": str(current["attribution"] or ""),
        "public": "true" if current["public"] else "false",
    }
    return _upload_page(UploadForm(values), current)


@blueprint.post("/layers/<name>/upload")
@post_contract(
    "adminUploadVersion",
    "Upload a new version (form)",
    ("multipart/form-data", UploadPost),
    (409, 413, 415, 422, 507),
)
@staff_required()
def upload_version(name: str) -> Any:
    """Publish a new version of ``name``."""
    return _handle_upload(layer_for(name, write=True))


def _taken(name: str) -> bool:
    # Names are unique in the deployment, whoever owns the layer.
    with get_pool().connection() as conn:
        try:
            layer_detail(conn, name)
        except LayerNotFound:
            return False
    return True


def _owner(form: UploadForm) -> str | None:
    """The new layer's municipality from the form (:func:`staff.tenancy.owner_for_new_layer`);
    a missing choice becomes a field error, a refused one raises 403."""
    try:
        return owner_for_new_layer(principal_required(), form.values.get("municipality") or None)
    except PermissionDenied:
        raise
    except InvalidInput:
        form.errors.append(
            FieldError("municipality", gettext("Choose the municipality the layer belongs to."))
        )
        return None


def _handle_upload(current: dict[str, Any] | None) -> Any:
    form = read_form(current)
    name = form.values["name"]
    status = 400
    owner = _owner(form) if current is None else None
    if not form.errors and current is None and _taken(name):
        form.errors.append(
            FieldError(
                "name",
                gettext(
                    "A layer named %(name)s exists. Upload a new version from its page instead.",
                    name=name,
                ),
            )
        )
        status = 409
    if not form.errors:
        try:
            version, report = publish(form, current, services().settings, owner)
        except (AuthenticationRequired, PermissionDenied):
            raise
        except InvalidInput as exc:
            if not wants_html():
                raise
            form.errors.append(refusal(exc))
            form.report = getattr(exc, "extensions", {}).get("report")
            kind = next((DOMAIN_ERRORS[c] for c in type(exc).__mro__ if c in DOMAIN_ERRORS), None)
            status = kind.status if kind else 400
        else:
            services().catalog.invalidate()
            flash(
                gettext("Version %(version)s of %(name)s is published.", name=name, version=version)
            )
            report_url = url_for("admin.report", name=name, version=version)
            if wants_html() and not from_script():
                return redirect(report_url, 303)
            # The progress script cannot stop XMLHttpRequest from following a redirect (which
            # would use up the flash message), so it gets the report's address in Location.
            body = {"name": name, "version": version, "report": report}
            response = jsonify({**body, "links": {"report": report_url}})
            response.status_code = 201
            response.headers["Location"] = report_url
            return response
    if not wants_html():
        raise FormInvalid(form.errors)
    return _upload_page(form, current, status)
