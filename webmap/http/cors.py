"""CORS for the widget's reads: allow-listed e-service origins may read lookups, styles and tiles.

Registered for the whole app by :func:`init_app` (``create_app``), as the routes it covers belong
to several blueprints.
"""

from __future__ import annotations

import re

from flask import Flask, request
from werkzeug.wrappers import Response

from webmap.http.security_headers import embed_origins
from webmap.http.tenant_origins import tenant_origins

# What a widget on an e-service's own origin reads from us: lookups, style, TileJSON, tiles and
# static maps. Public data, fetched without cookies; allowed only for the configured origins.
_WIDGET_READS = (
    "/api/search",
    "/api/reverse",
    "/api/resolve",
    "/api/staticmap",
    "/styles/",
    "/tiles/",
    "/api/municipalities/",
)
# Reads that belong to no municipality in particular: tiles, styles and fonts the widget of any
# municipality loads (public data, no credentials).
_SHARED_READS = ("/styles/", "/tiles/")
_TENANT_PATH = re.compile(r"^/api/municipalities/([0-9]{4})$")


def _municipality() -> str | None:
    """Which municipality's widget this read is for: ``?municipality=`` or the path."""
    found = _TENANT_PATH.match(request.path)
    if found:
        return found.group(1)
    code = request.args.get("municipality", "")
    return code if re.fullmatch(r"[0-9]{4}", code) else None


def allowed_origin(origin: str) -> bool:
    """Whether ``origin`` may read this request's answer: a global origin always; a
    municipality's own origin for that municipality's reads (``?municipality=`` or
    ``/api/municipalities/{code}``) and for the tiles and styles every widget shares."""
    if origin in embed_origins(_municipality()):
        return True
    if request.path.startswith(_SHARED_READS):
        return any(origin in origins for origins in tenant_origins().values())
    return False


def _cors_for_allowed_origins(response: Response) -> Response:
    """``Access-Control-Allow-Origin`` for allow-listed e-service origins on the widget's reads.

    The widget is usually loaded by a page on another origin (the e-service); its fetches are
    CORS requests. Only GETs are shared, never with credentials, and only with origins on the
    allow-list (``embed_origins``), so other sites cannot use the service as their lookup API.
    """
    origin = request.headers.get("Origin", "").rstrip("/")
    if not origin or request.method not in {"GET", "HEAD"}:
        return response
    if not request.path.startswith(_WIDGET_READS):
        return response
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
    if allowed_origin(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
    return response


def allows_shared_read(app: Flask, origin: str) -> bool:
    """Whether ``origin`` (no trailing slash) may read a tile or style of ``app`` outside a
    request context (the tile fast path, webmap/http/tile_fast_path.py): the same rule as
    :func:`allowed_origin` for the reads every municipality's widget shares."""
    with app.app_context():
        if origin in embed_origins():
            return True
        return any(origin in origins for origins in tenant_origins().values())


def init_app(app: Flask) -> None:
    """Add the CORS header to every answer that qualifies."""
    app.after_request(_cors_for_allowed_origins)
