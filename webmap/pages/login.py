"""The staff login page and its routes: ``/login``, ``/logout`` and ``/api/session``.

Who is calling, the session cookie and CSRF are :mod:`webmap.http.auth`. Failed logins are
limited per user name and per client address (:mod:`staff.throttle`): over the limit,
``POST /login`` answers 429 with ``Retry-After`` (problem JSON, or the login page with the message
in its alert region).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, cast

from flask import Blueprint, g, jsonify, redirect, render_template, request, session, url_for
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from staff.accounts import check_password, password_hash_of, store_rehash
from staff.errors import AuthenticationRequired
from staff.sessions import StaffSession, create_session, end_session
from staff.throttle import TooManyAttempts
from webmap.db import get_pool
from webmap.http.auth import (
    check_csrf,
    cookie_name,
    cookie_options,
    csrf_token,
    current_principal,
    login_throttle,
    policy,
    staff_required,
    staff_session,
)
from webmap.http.contracts import (
    ANYONE,
    HTML,
    HTML_PAGE,
    JSON,
    NO_CONTENT,
    PROBLEM_JSON,
    REDIRECT,
    STAFF,
    Problem,
    Reply,
    contract,
    ok,
    problems,
)
from webmap.http.problems import problem
from webmap.i18n import login_wait, wrong_login

blueprint = Blueprint("auth", __name__)
# The name operators filter on (it was the module's name before the split into http/ and pages/).
log = logging.getLogger("webmap.auth")


class Credentials(BaseModel):
    """A JSON login."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class LoginForm(Credentials):
    """The login page's form."""

    csrf_token: str
    next: str | None = None


class LoggedIn(BaseModel):
    """A JSON login's answer."""

    user: str
    csrf_token: str


class SessionInfo(BaseModel):
    """Who is calling, how, with which scope and where (instance administrator, municipality
    code → role); the CSRF token for a session."""

    user: str
    via: str
    scope: str
    instance_admin: bool = False
    municipalities: dict[str, str] = {}
    csrf_token: str | None = None


_TOO_MANY = Reply(
    "Too many failed logins for this user name or from this address; try again after "
    "Retry-After seconds (problem JSON, or the login page with the message for a form)",
    {PROBLEM_JSON: Problem, HTML: {"type": "string"}},
    headers={
        "Retry-After": {
            "description": "Seconds until the next attempt is accepted",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
)


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@blueprint.get("/login")
@contract(
    "loginPage",
    "The staff login form",
    tags=("staff",),
    security=ANYONE,
    responses={200: HTML_PAGE},
)
def login_page() -> str:
    """A plain HTML login form; works without JavaScript."""
    staff = staff_session()
    user = staff.username if staff is not None else None
    return render_template("login.html", user=user, csrf=csrf_token(), error=None)


@blueprint.post("/login")
@contract(
    "login",
    "Log in (form or JSON); the form needs the CSRF token of the login page",
    tags=("staff",),
    security=ANYONE,
    body={JSON: Credentials, "application/x-www-form-urlencoded": LoginForm},
    responses={
        200: Reply("Logged in (JSON)", {JSON: LoggedIn}),
        303: REDIRECT,
        **problems(401, 403, 503),
        429: _TOO_MANY,
    },
)
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
        check_csrf()  # login CSRF: a foreign page must not log the browser into our account
    username, password = str(data.get("username", "")), str(data.get("password", ""))
    if not username or not password or len(username) > 64 or len(password) > 1024:
        raise AuthenticationRequired("Give a user name and a password.")
    if "\x00" in username:  # PostgreSQL text cannot hold NUL: no such user (was a 500)
        raise AuthenticationRequired("Wrong user name or password.")
    throttle = login_throttle()
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
                created = create_session(conn, principal.name, policy())
    except BaseException:
        throttle.succeeded(attempt)  # the check broke (database down): not a failed guess
        raise
    if created is None:  # the reserved slot stays: one more failure for name and address
        log.warning("staff login failed: %r from %s", username, _address())
        if _wants_json():
            raise AuthenticationRequired("Wrong user name or password.")
        page = render_template("login.html", user=None, csrf=csrf_token(), error=wrong_login())
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
    response.set_cookie(cookie_name(), session_id, **cookie_options())
    return response


def _address() -> str:
    return request.remote_addr or "an unknown address"


def _end_browser_session() -> None:
    session_id = request.cookies.get(cookie_name())
    if session_id:
        with get_pool().connection() as conn:
            end_session(conn, session_id)


@blueprint.app_errorhandler(TooManyAttempts)
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
    message = login_wait(error.retry_after)
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
@contract(
    "logout",
    "End the session (needs the CSRF token)",
    tags=("staff",),
    security=STAFF,
    responses={204: NO_CONTENT, 303: REDIRECT, **problems(401, 403, 503)},
)
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
@contract(
    "session",
    "Who is calling, and the session's CSRF token",
    tags=("staff",),
    security=STAFF,
    responses={200: ok(SessionInfo), **problems(401, 503)},
)
@staff_required(publish=False)
def session_info() -> Response:
    """Who is logged in and the CSRF token scripts in the admin pages send back."""
    principal = current_principal()
    assert principal is not None
    body: dict[str, Any] = {
        "user": principal.name,
        "via": principal.via,
        "scope": principal.scope,
        "instance_admin": principal.instance_admin,
        "municipalities": dict(principal.roles),
    }
    if principal.via == "session":
        body["csrf_token"] = csrf_token()
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response
