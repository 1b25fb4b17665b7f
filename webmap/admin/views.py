"""``/admin``: HTML pages where GIS staff upload, inspect, publish, roll back and delete layers.

Every page works as plain HTML forms (POST, then a 303 redirect to a page that says what
happened); ``static/admin/admin.js`` only adds an upload progress bar and announcements. The
views call the same domain functions as ``/api/layers`` (:mod:`layers.versions`,
:mod:`layers.ingest` through :mod:`webmap.admin.forms`) and the login of :mod:`webmap.http.auth`:
a browser without a session is sent to ``/login``, anything else gets 401/403 problem JSON,
and every POST needs the session's CSRF token.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    g,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from layers.errors import InvalidInput, LayerError, LayerNotFound
from layers.store import check_layer_name
from layers.versions import layer_detail, list_layers
from staff.errors import AuthenticationRequired, PermissionDenied
from staff.tenancy import authorize_read, authorize_write, owner_for_new_layer
from webmap.admin.contracts import (
    URLENCODED,
    ConfirmForm,
    ReportAddress,
    RollbackForm,
    UploadPost,
    VisibilityForm,
    page_contract,
    post_contract,
)
from webmap.admin.forms import (
    FieldError,
    FormInvalid,
    UploadForm,
    publish,
    read_form,
    refusal,
)
from webmap.db import get_pool
from webmap.http.auth import (
    csrf_token,
    current_principal,
    principal_required,
    readable_municipalities,
    staff_required,
)
from webmap.http.params import whole_number
from webmap.http.problems import DOMAIN_ERRORS, problem
from webmap.i18n import LANGS, gettext, pick_lang, size
from webmap.services import services

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
_LANG_KEY = "admin_lang"


def _wants_html() -> bool:
    """Browsers (and the progress script) ask for HTML; tools get problem JSON."""
    offered = ["text/html", "application/json", "application/problem+json"]
    return request.accept_mimetypes.best_match(offered) == "text/html"


def _from_script() -> bool:
    """The upload came from ``admin.js`` (which wants the form page back only on errors)."""
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _here(lang: str) -> str:
    """This page in another language (the choice is then remembered in the session)."""
    values: dict[str, Any] = {k: v for k, v in request.args.items() if k != "lang"}
    values.update(request.view_args or {}, lang=lang)
    return url_for(request.endpoint or "admin.index", **values)


@blueprint.before_request
def _staff_only() -> Response | None:
    wanted = request.args.get("lang")
    g.admin_lang = g.lang = pick_lang(wanted, session.get(_LANG_KEY))
    if wanted in LANGS:
        session[_LANG_KEY] = wanted
    if current_principal() is None:  # raises 401 itself for a wrong token
        if request.method == "GET" and _wants_html():
            query = request.query_string.decode()
            target = request.path + (f"?{query}" if query else "")
            return redirect(url_for("auth.login_page", next=target), 303)
        raise AuthenticationRequired("The admin pages need a staff login.")
    return None


@blueprint.after_request
def _harden(response: Response) -> Response:
    # Private data behind a login: never cached. (CSP, no framing, Referrer-Policy: the
    # app-wide webmap.http.security_headers.)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie, Accept"
    return response


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    principal = current_principal()
    lang = str(g.admin_lang)
    other = "en" if lang == "sv" else "sv"
    html = render_template(
        f"admin/{template}",
        lang=lang,
        other_lang=other,
        other_lang_url=_here(other),
        user=principal.name if principal else "",
        csrf=csrf_token(),
        messages=get_flashed_messages(),
        **context,
    )
    return html, status


@blueprint.errorhandler(LayerError)
def _error_page(error: LayerError) -> Response | tuple[str, int]:
    kind = next((DOMAIN_ERRORS[c] for c in type(error).__mro__ if c in DOMAIN_ERRORS), None)
    status, title, slug = (
        (kind.status, kind.title, kind.slug) if kind else (400, "Bad request", None)
    )
    if not _wants_html() or "admin_lang" not in g or isinstance(error, AuthenticationRequired):
        extensions = getattr(error, "extensions", {})
        return problem(status, title, error.detail, slug, **extensions)
    return _page("error.html", status, detail=error.detail)


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> Any:
    limit = services().settings.max_upload_bytes
    if not _wants_html() or "admin_lang" not in g:
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


def _detail(name: str, write: bool = False) -> dict[str, Any]:
    """Layer ``name`` if the caller may read it (404 otherwise, as for anonymous callers) or,
    with ``write``, change it (403 for another municipality's layer, as in the API)."""
    check_layer_name(name)
    principal = principal_required()
    with get_pool().connection() as conn:
        if write:
            authorize_write(conn, principal, name)
        else:
            authorize_read(conn, principal, name)
        return layer_detail(conn, name)


def _check_write(name: str) -> None:
    check_layer_name(name)
    with get_pool().connection() as conn:
        authorize_write(conn, principal_required(), name)


def _owners() -> list[str]:
    """The choices of the upload form's municipality field: the caller's municipalities, and
    ``instance`` first for an instance administrator."""
    principal = principal_required()
    codes = sorted(code for code, role in principal.roles.items() if role)
    return (["instance"] if principal.instance_admin else []) + codes


@blueprint.get("/")
@blueprint.get("")  # registered first, so url_for gives the canonical /admin
@page_contract("adminIndex", "Every layer (admin page)", path=None)
@staff_required(publish=False)
def index() -> tuple[str, int]:
    """Every layer, public and private, in one table."""
    with get_pool().connection() as conn:
        layers = list_layers(conn, readable_municipalities())
    return _page("index.html", layers=layers, active="list")


def _upload_page(form: UploadForm, current: dict[str, Any] | None, status: int = 200) -> Any:
    settings = services().settings
    return _page(
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
    current = _detail(name)
    _check_write(name)
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
    return _handle_upload(_detail(name, write=True))


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
            if not _wants_html():
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
            if _wants_html() and not _from_script():
                return redirect(report_url, 303)
            # The progress script cannot stop XMLHttpRequest from following a redirect (which
            # would use up the flash message), so it gets the report's address in Location.
            body = {"name": name, "version": version, "report": report}
            response = jsonify({**body, "links": {"report": report_url}})
            response.status_code = 201
            response.headers["Location"] = report_url
            return response
    if not _wants_html():
        raise FormInvalid(form.errors)
    return _upload_page(form, current, status)


@blueprint.get("/layers/<name>")
@page_contract("adminLayer", "A layer's page")
@staff_required(publish=False)
def layer(name: str) -> Any:
    """One layer: its metadata, actions, and every stored version with rollback buttons."""
    return _page("layer.html", layer=_detail(name))


@blueprint.get("/layers/<name>/versions/<int:version>/report")
@page_contract("adminReport", "The validation report of a version", path=ReportAddress)
@staff_required(publish=False)
def report(name: str, version: int) -> Any:
    """The validation report of one stored version."""
    detail = _detail(name)
    found = [v for v in detail["versions"] if v["version"] == version]
    if not found:
        raise LayerNotFound(f"The layer {name!r} has no stored version {version}.")
    return _page("report.html", layer=detail, version=found[0], report=found[0]["report"])


@blueprint.post("/layers/<name>/visibility")
@post_contract("adminVisibility", "Publish or unpublish", (URLENCODED, VisibilityForm))
@staff_required()
def visibility(name: str) -> Response:
    """Publish or unpublish (``public`` = true | false) without uploading again."""
    check_layer_name(name)
    wanted = request.form.get("public", "")
    if wanted not in ("true", "false"):
        raise InvalidInput("public must be true or false.")
    _check_write(name)
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
    _check_write(name)
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
    layer = _detail(name)
    _check_write(name)
    return _page("delete.html", layer=layer)


@blueprint.post("/layers/<name>/delete")
@post_contract("adminDelete", "Delete a layer", (URLENCODED, ConfirmForm))
@staff_required()
def delete(name: str) -> Response:
    """Delete the layer with all its versions (raster files too)."""
    _check_write(name)
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
    detail = _detail(name)
    return _page(
        "preview.html",
        layer=detail,
        style_url=url_for("tiles.style_document", name="basemap"),
        overlay_url=url_for("tiles.tilejson_document", name=name),
    )
