"""Staff authentication over HTTP: Bearer tokens for tools, a session login for the admin pages.

A request is a staff request when it carries ``Authorization: Bearer <token>`` of an active token,
or the session cookie of a logged-in staff user. That cookie (``webmap_staff``, or
``__Host-webmap_staff`` with ``WEBMAP_SECURE_COOKIES``) holds only a random session id; the
session itself lives in PostgreSQL (:mod:`layers.sessions`), so logging out, disabling a login or
changing its password ends it for every app process at once. Flask's signed cookie still carries
what is not a credential: the login form's CSRF token before login, the admin page language.

Cookies are sent by browsers on their own, so a session request that changes something must also
echo the session's CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form field); Bearer
requests need no such echo because no browser attaches that header by itself.

Failed logins are limited per user name and per client address (:mod:`layers.throttle`): over
the limit, ``POST /login`` answers 429 with ``Retry-After`` (problem JSON, or the login page
with the message in its alert region).
"""

from __future__ import annotations

import functools
import hmac
import logging
import math
import secrets
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from layers.auth import (
    AuthenticationRequired,
    PermissionDenied,
    Principal,
    check_password,
    password_hash_of,
    store_rehash,
    verify_token,
)
from layers.sessions import (
    SessionPolicy,
    StaffSession,
    create_session,
    end_session,
    verify_session,
)
from layers.throttle import (
    LoginThrottle,
    MemoryAttemptStore,
    RedisAttemptStore,
    TooManyAttempts,
)
from webmap.db import get_pool
from webmap.problems import problem
from webmap.settings import Settings

blueprint = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_F = TypeVar("_F", bound=Callable[..., Any])
_POLICY_KEY = "webmap.session_policy"
_THROTTLE_KEY = "webmap.login_throttle"
WRONG_LOGIN = "Fel användarnamn eller lösenord."


def _policy() -> SessionPolicy:
    policy: SessionPolicy = current_app.extensions[_POLICY_KEY]
    return policy


def _throttle() -> LoginThrottle:
    throttle: LoginThrottle = current_app.extensions[_THROTTLE_KEY]
    return throttle


def cookie_name() -> str:
    """The staff cookie; ``__Host-`` (HTTPS only, this host only, path /) when cookies are secure,
    so that no sibling subdomain can plant or overwrite it."""
    return "__Host-webmap_staff" if current_app.config["SESSION_COOKIE_SECURE"] else "webmap_staff"


def _cookie_options() -> dict[str, Any]:
    config = current_app.config
    return {
        "path": "/",
        "secure": bool(config["SESSION_COOKIE_SECURE"]),
        "httponly": True,
        "samesite": config["SESSION_COOKIE_SAMESITE"],
    }


def staff_session() -> StaffSession | None:
    """The request's live staff session (cached per request), or None."""
    if "staff_session" in g:
        return cast(StaffSession | None, g.staff_session)
    found: StaffSession | None = None
    session_id = request.cookies.get(cookie_name())
    if session_id:
        with get_pool().connection() as conn:
            found = verify_session(conn, session_id, _policy())
        g.drop_staff_cookie = found is None  # ended or expired: tell the browser to forget it
    g.staff_session = found
    return found


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
    else:
        staff = staff_session()
        if staff is not None:
            principal = Principal(name=staff.username, scope="publish", via="session")
    g.principal = principal
    return principal


def is_staff() -> bool:
    """Whether the request may see private layers (any valid token or login)."""
    return current_principal() is not None


def csrf_token() -> str:
    """The staff session's CSRF token; before login, the login form's (kept in Flask's signed
    cookie, created on first use)."""
    staff = staff_session()
    if staff is not None:
        return staff.csrf_token
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def _check_csrf() -> None:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    staff = staff_session()
    expected = staff.csrf_token if staff is not None else session.get("csrf")
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
    staff = staff_session()
    user = staff.username if staff is not None else None
    return render_template("login.html", user=user, csrf=csrf_token(), error=None)


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
    throttle = _throttle()
    try:
        attempt = throttle.begin(username, request.remote_addr)
    except TooManyAttempts:  # answered 429 by _too_many
        log.warning("staff login refused (too many failures): %r from %s", username, _address())
        raise
    created: tuple[StaffSession, str] | None = None
    try:
        with get_pool().connection() as conn:
            stored = password_hash_of(conn, username)
        # The slow hash runs without a database connection, so a burst of logins cannot take
        # the pool from tiles and lookups.
        principal, fresh = check_password(username, password, stored)
        if principal is not None:
            with get_pool().connection() as conn:
                if stored is not None and fresh is not None:
                    store_rehash(conn, username, stored, fresh)
                created = create_session(conn, principal.name, _policy())
    except BaseException:
        throttle.succeeded(attempt)  # the check broke (database down): not a failed guess
        raise
    if created is None:  # the reserved slot stays: one more failure for name and address
        log.warning("staff login failed: %r from %s", username, _address())
        if _wants_json():
            raise AuthenticationRequired("Wrong user name or password.")
        page = render_template("login.html", user=None, csrf=csrf_token(), error=WRONG_LOGIN)
        return page, 401
    throttle.succeeded(attempt)
    staff, session_id = created
    log.info("staff login: %s from %s", staff.username, _address())
    _end_browser_session()  # logging in again (perhaps as someone else) ends the old session
    session.pop("csrf", None)  # the login form's token; the new session has its own
    session.pop("user", None)  # the signed-cookie login of earlier versions, never read again
    g.staff_session, g.drop_staff_cookie = staff, False
    if _wants_json():
        response: Response = jsonify({"user": staff.username, "csrf_token": staff.csrf_token})
    else:
        target = _local_target(request.form.get("next")) or url_for("auth.login_page")
        response = redirect(target, 303)
    # No Max-Age: the cookie goes when the browser closes; the server enforces idle and age.
    response.set_cookie(cookie_name(), session_id, **_cookie_options())
    return response


def _address() -> str:
    return request.remote_addr or "an unknown address"


def _end_browser_session() -> None:
    session_id = request.cookies.get(cookie_name())
    if session_id:
        with get_pool().connection() as conn:
            end_session(conn, session_id)


def _too_many(error: TooManyAttempts) -> Response | tuple[str, int, dict[str, str]]:
    """429 with ``Retry-After``: problem JSON for tools, the login page's alert for browsers."""
    headers = {"Retry-After": str(error.retry_after), "Cache-Control": "no-store"}
    if _wants_json() or request.path != url_for("auth.login"):
        response = problem(
            429,
            "Too many login attempts",
            error.detail,
            "too-many-login-attempts",
            retry_after=error.retry_after,
        )
        response.headers.update(headers)
        return response
    minutes = max(1, math.ceil(error.retry_after / 60))
    wait = "1 minut" if minutes == 1 else f"{minutes} minuter"
    message = f"För många misslyckade inloggningar. Försök igen om {wait}."
    page = render_template("login.html", user=None, csrf=csrf_token(), error=message, locked=True)
    return page, 429, headers


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
    """End the session on the server (needs the CSRF token, like every session write)."""
    _end_browser_session()
    session.clear()
    g.drop_staff_cookie = True
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
    if "staff_session" in g:
        response.vary.add("Cookie")  # the answer depended on who is logged in
    if g.get("drop_staff_cookie"):
        response.delete_cookie(cookie_name(), **_cookie_options())
    return response


def _login_throttle(settings: Settings) -> LoginThrottle:
    store: MemoryAttemptStore | RedisAttemptStore = MemoryAttemptStore()
    if settings.redis_url:  # shared by every process and machine, like the tile cache
        import redis

        client = redis.Redis.from_url(settings.redis_url, socket_timeout=0.5)
        store = RedisAttemptStore(client)
    return LoginThrottle(
        store,
        per_user=settings.login_failures_per_user,
        per_address=settings.login_failures_per_address,
        window_seconds=settings.login_window_seconds,
    )


def init_app(app: Flask) -> None:
    """Harden the session cookie, set up sessions and login limits, register the login routes."""
    settings: Settings = app.config["WEBMAP_SETTINGS"]
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.extensions[_POLICY_KEY] = SessionPolicy(
        idle_seconds=settings.session_idle_seconds, max_seconds=settings.session_max_seconds
    )
    app.extensions[_THROTTLE_KEY] = _login_throttle(settings)
    app.register_blueprint(blueprint)
    app.register_error_handler(TooManyAttempts, _too_many)
    app.after_request(_challenge)
