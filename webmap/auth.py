"""Staff authentication over HTTP: Bearer tokens for tools, a session login for the admin pages.

A request is a staff request when it carries ``Authorization: Bearer <token>`` of an active token,
or the session cookie of a logged-in staff user. Cookies are sent by browsers on their own, so a
session request that changes something must also echo the session's CSRF token
(``X-CSRF-Token`` header or ``csrf_token`` form field); Bearer requests need no such echo because
no browser attaches that header by itself.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, g, jsonify, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from layers.auth import (
    AuthenticationRequired,
    PermissionDenied,
    Principal,
    verify_token,
    verify_user,
)
from webmap.db import get_pool

blueprint = Blueprint("auth", __name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_F = TypeVar("_F", bound=Callable[..., Any])


def _bearer() -> str | None:
    """The Bearer token of the request; raises when another scheme or a malformed header is sent."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired("Send an API token as `Authorization: Bearer <token>`.")
    return token.strip()


def current_principal() -> Principal | None:
    """Who is calling (cached per request); raises for a wrong token rather than ignoring it."""
    if "principal" in g:
        return cast(Principal | None, g.principal)
    principal: Principal | None = None
    token = _bearer()
    if token is not None:
        with get_pool().connection() as conn:
            principal = verify_token(conn, token)
        if principal is None:
            raise AuthenticationRequired("The API token is unknown or has been revoked.")
    elif isinstance(session.get("user"), str):
        principal = Principal(name=session["user"], scope="publish", via="session")
    g.principal = principal
    return principal


def is_staff() -> bool:
    """Whether the request may see private layers (any valid token or login)."""
    return current_principal() is not None


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _check_csrf() -> None:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        raise PermissionDenied("This form has expired or lacks its CSRF token; reload the page.")


def staff_required(publish: bool = True) -> Callable[[_F], _F]:
    """Allow only staff; ``publish`` also requires a publishing (not read-only) credential."""

    def decorate(view: _F) -> _F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if principal is None:
                raise AuthenticationRequired(
                    "This needs a staff login or an API token (`Authorization: Bearer …`)."
                )
            if principal.via == "session" and request.method not in SAFE_METHODS:
                _check_csrf()
            if publish and not principal.can_publish:
                raise PermissionDenied(f"The token {principal.name!r} may only read.")
            return view(*args, **kwargs)

        return cast(_F, wrapped)

    return decorate


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@blueprint.get("/login")
def login_page() -> str:
    """A plain HTML login form; works without JavaScript."""
    return render_template("login.html", user=session.get("user"), csrf=csrf_token(), error=None)


@blueprint.post("/login")
def login() -> Response | tuple[str, int]:
    """Log in with a form or JSON ``{username, password}``; answers JSON or redirects."""
    sent = request.get_json(silent=True) if request.is_json else None
    # A JSON body that is not an object (a list, a string) has no credentials: 401, not a 500.
    data: Mapping[str, Any] = (
        (cast(dict[str, Any], sent) if isinstance(sent, dict) else {})
        if request.is_json
        else request.form
    )
    if not request.is_json:
        _check_csrf()  # login CSRF: a foreign page must not log the browser into our account
    username, password = str(data.get("username", "")), str(data.get("password", ""))
    if not username or not password or len(username) > 64 or len(password) > 1024:
        raise AuthenticationRequired("Give a user name and a password.")
    if "\x00" in username:  # PostgreSQL text cannot hold NUL: no such user (was a 500)
        raise AuthenticationRequired("Wrong user name or password.")
    with get_pool().connection() as conn:
        principal = verify_user(conn, username, password)
    if principal is None:
        if _wants_json():
            raise AuthenticationRequired("Wrong user name or password.")
        page = render_template(
            "login.html", user=None, csrf=csrf_token(), error="Fel användarnamn eller lösenord."
        )
        return page, 401
    session.clear()  # a fresh session on login defeats session fixation
    session["user"] = principal.name
    token = csrf_token()
    if _wants_json():
        return jsonify({"user": principal.name, "csrf_token": token})
    return redirect(_local_target(request.form.get("next")) or url_for("auth.login_page"), 303)


def _local_target(target: str | None) -> str | None:
    """``next`` when it is a path on this site (e.g. ``/admin``), never another host.

    Browsers drop tabs and newlines from URLs and read a backslash as ``/``, so such a path
    could turn into ``//evil.example``, another host: only printable, backslash-free paths pass.
    """
    if not target or not target.isprintable() or "\\" in target:
        return None
    if target.startswith("/") and not target.startswith("//"):
        return target
    return None


@blueprint.post("/logout")
@staff_required(publish=False)
def logout() -> Response:
    """End the session (needs the CSRF token, like every session write)."""
    session.clear()
    if _wants_json():
        return Response(status=204)
    return redirect(url_for("auth.login_page"), 303)


@blueprint.get("/api/session")
@staff_required(publish=False)
def session_info() -> Response:
    """Who is logged in and the CSRF token scripts in the admin pages send back."""
    principal = current_principal()
    assert principal is not None
    body = {"user": principal.name, "via": principal.via, "scope": principal.scope}
    if principal.via == "session":
        body["csrf_token"] = csrf_token()
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _challenge(response: Response) -> Response:
    if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = 'Bearer realm="webmap"'
    return response


def init_app(app: Flask) -> None:
    """Harden the session cookie and register the login routes."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(blueprint)
    app.after_request(_challenge)
