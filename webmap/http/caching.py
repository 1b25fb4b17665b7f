"""Caching rules shared by every tile URL (vector and raster), so they cannot drift apart.

A tile asked for at the live version (``?v=``) is immutable and cached for a year; one asked for
without a version is cached for a minute; one asked for at an old version is redirected to the
live one, so no cache keeps serving superseded data. ETags name (tileset, version, z, x, y and
encoding), so ``If-None-Match`` is answered with ``304`` before any rendering.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"
# A private layer's tiles and TileJSON: for the staff member who asked only, never for a shared
# cache (CDN, proxy), whatever the URL's version says.
PRIVATE = "private, no-store"


def layer_cache_control(public: bool, shared: str) -> str:
    """``shared`` (a ``public`` rule) for a public layer's answer, :data:`PRIVATE` otherwise."""
    return shared if public else PRIVATE


def redirect_to_live(
    endpoint: str, live_version: str, asked: str | None, **values: Any
) -> Response | None:
    """A ``302`` to the live version's URL when an older version (``?v=``, ``asked``) was asked
    for, else ``None``."""
    if asked is None or asked == live_version:
        return None
    response = redirect(url_for(endpoint, **values, v=live_version), 302)
    response.headers["Cache-Control"] = "no-cache"
    return response


def tile_cache_control(asked: str | None) -> str:
    """Year-long and immutable for a versioned URL (``asked``, the ``?v=``); a minute for an
    unversioned one."""
    return IMMUTABLE if asked is not None else SHORT


def not_modified(etag: str, cache_control: str, vary: str | None = None) -> Response | None:
    """A ``304`` when the client already holds ``etag``, else ``None``."""
    if not request.if_none_match.contains(etag):
        return None
    response = Response(status=304)
    finish_tile(response, etag, cache_control, vary)
    return response


def finish_tile(response: Response, etag: str, cache_control: str, vary: str | None) -> Response:
    """Set the validator and caching headers every tile response carries."""
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    if vary:
        response.headers["Vary"] = vary
    return response
