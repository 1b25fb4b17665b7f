"""CORS for the widget's reads: allow-listed e-service origins may read lookups, styles and tiles.

Registered for the whole app by :func:`init_app` (``create_app``), as the routes it covers belong
to several blueprints.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

from webmap.http.security_headers import embed_origins

# What a widget on an e-service's own origin reads from us: lookups, style, TileJSON, tiles and
# static maps. Public data, fetched without cookies; allowed only for the configured origins.
_WIDGET_READS = (
    "/api/search",
    "/api/reverse",
    "/api/resolve",
    "/api/staticmap",
    "/styles/",
    "/tiles/",
)


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
    if allows_origin(current_app, origin):
        response.headers["Access-Control-Allow-Origin"] = origin
    return response


def allows_origin(app: Flask, origin: str) -> bool:
    """Whether ``origin`` (no trailing slash) is an e-service origin ``app`` shares reads with."""
    return origin in embed_origins(app)


def init_app(app: Flask) -> None:
    """Add the CORS header to every answer that qualifies."""
    app.after_request(_cors_for_allowed_origins)
