"""Staff authentication over HTTP: Bearer tokens for tools, a session login for the admin pages.

This module is the request side (who is calling, ``staff_required``, CSRF, the cookie); the login
and logout routes are :mod:`webmap.pages.login`.

A request is a staff request when it carries ``Authorization: Bearer <token>`` of an active token,
or the session cookie of a logged-in staff user. That cookie (``webmap_staff``, or
``__Host-webmap_staff`` with ``WEBMAP_SECURE_COOKIES``) holds only a random session id; the
session itself lives in PostgreSQL (:mod:`staff.sessions`), so logging out, disabling a login or
changing its password ends it for every app process at once. Flask's signed cookie still carries
what is not a credential: the login form's CSRF token before login, the admin page language.

Cookies are sent by browsers on their own, so a session request that changes something must also
echo the session's CSRF token (``X-CSRF-Token`` header or ``csrf_token`` form field); Bearer
requests need no such echo because no browser attaches that header by itself.

Failed logins are limited per user name and per client address (:mod:`staff.throttle`), set up
here for the login route: over the limit, ``POST /login`` answers 429 with ``Retry-After``.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, request, session
from werkzeug.wrappers import Response

from staff.accounts import Principal
from staff.errors import AuthenticationRequired, PermissionDenied
from staff.sessions import SessionPolicy, StaffSession, verify_session
from staff.tenancy import may_read, principal_for_user, visible_municipalities
from staff.throttle import LoginThrottle, MemoryAttemptStore, RedisAttemptStore
from staff.tokens import verify_token
from webmap.db import get_pool
from webmap.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_F = TypeVar("_F", bound=Callable[..., Any])
_POLICY_KEY = "webmap.session_policy"
_THROTTLE_KEY = "webmap.login_throttle"


def policy() -> SessionPolicy:
    policy: SessionPolicy = current_app.extensions[_POLICY_KEY]
    return policy


def login_throttle() -> LoginThrottle:
    throttle: LoginThrottle = current_app.extensions[_THROTTLE_KEY]
    return throttle


def cookie_name() -> str:
    """The staff cookie; ``__Host-`` (HTTPS only, this host only, path /) when cookies are secure,
    so that no sibling subdomain can plant or overwrite it."""
    return "__Host-webmap_staff" if current_app.config["SESSION_COOKIE_SECURE"] else "webmap_staff"


def cookie_options() -> dict[str, Any]:
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
            found = verify_session(conn, session_id, policy())
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
            with get_pool().connection() as conn:
                principal = principal_for_user(conn, staff.username)
    g.principal = principal
    return principal


def is_staff() -> bool:
    """Whether the request comes from staff (any valid token or login). Which private layers
    it may see is :func:`may_see`'s question."""
    return current_principal() is not None


def may_see(public: bool, municipality: str | None) -> bool:
    """Whether this request may read a layer: public ones always, a private one only with a
    credential of its municipality or an instance administrator's (:mod:`staff.tenancy`)."""
    return public or may_read(current_principal(), public, municipality)


def readable_municipalities() -> frozenset[str] | None:
    """The municipalities whose private layers this request reads (None: all of them; empty
    for anonymous requests)."""
    principal = current_principal()
    return frozenset() if principal is None else visible_municipalities(principal)


def principal_required() -> Principal:
    """The caller inside a ``staff_required`` view (which has checked there is one)."""
    principal = current_principal()
    if principal is None:
        raise AuthenticationRequired("This needs a staff login or an API token.")
    return principal


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


def check_csrf() -> None:
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
                check_csrf()
            if publish and not principal.can_publish:
                raise PermissionDenied(f"The token {principal.name!r} may only read.")
            return view(*args, **kwargs)

        return cast(_F, wrapped)

    return decorate


def _challenge(response: Response) -> Response:
    if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = 'Bearer realm="webmap"'
    if "staff_session" in g:
        response.vary.add("Cookie")  # the answer depended on who is logged in
    if g.get("drop_staff_cookie"):
        response.delete_cookie(cookie_name(), **cookie_options())
    return response


def _build_throttle(settings: Settings) -> LoginThrottle:
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
    """Harden the session cookie, set up sessions and login limits, answer 401s with a challenge."""
    settings: Settings = app.config["WEBMAP_SETTINGS"]
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.extensions[_POLICY_KEY] = SessionPolicy(
        idle_seconds=settings.session_idle_seconds, max_seconds=settings.session_max_seconds
    )
    app.extensions[_THROTTLE_KEY] = _build_throttle(settings)
    app.after_request(_challenge)
