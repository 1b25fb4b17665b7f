"""The admin blueprint and what every admin page shares.

Every page is for staff only: a browser without a session is sent to ``/login``, any other
client gets 401 problem JSON; answers are never cached. Errors become an error page for
browsers and problem JSON for tools. Pages render in the session's language (``?lang=``
switches and is remembered), with the CSRF token every form posts back. A layer is read or
changed only as :mod:`staff.tenancy` allows (:func:`layer_for`, :func:`check_write`), the same
rule as ``/api/layers``. The routes are in :mod:`webmap.admin.views` (a layer's pages and
actions) and :mod:`webmap.admin.uploads` (the upload forms).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from layers.errors import LayerError
from layers.store import check_layer_name
from layers.versions import layer_detail
from staff.errors import AuthenticationRequired
from staff.tenancy import authorize_read, authorize_write
from webmap.db import get_pool
from webmap.http.auth import csrf_token, current_principal, principal_required
from webmap.http.problems import DOMAIN_ERRORS, problem
from webmap.i18n import LANGS, pick_lang

blueprint = Blueprint("admin", __name__, url_prefix="/admin")
_LANG_KEY = "admin_lang"


def wants_html() -> bool:
    """Browsers (and the progress script) ask for HTML; tools get problem JSON."""
    offered = ["text/html", "application/json", "application/problem+json"]
    return request.accept_mimetypes.best_match(offered) == "text/html"


def from_script() -> bool:
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
        if request.method == "GET" and wants_html():
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


def render_page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """``admin/{template}`` in the page language, with what the page layout needs."""
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
    if not wants_html() or "admin_lang" not in g or isinstance(error, AuthenticationRequired):
        extensions = getattr(error, "extensions", {})
        return problem(status, title, error.detail, slug, **extensions)
    return render_page("error.html", status, detail=error.detail)


def layer_for(name: str, write: bool = False) -> dict[str, Any]:
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


def check_write(name: str) -> None:
    """Refuse (403) unless the caller may change layer ``name``; 404 when there is none."""
    check_layer_name(name)
    with get_pool().connection() as conn:
        authorize_write(conn, principal_required(), name)
