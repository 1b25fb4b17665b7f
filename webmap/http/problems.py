"""RFC 9457 problem details: the one place where errors become HTTP responses.

Domain packages raise their own errors and never choose a status code; :data:`DOMAIN_ERRORS` maps
each error class to a status and a problem type here, and every other failure (a wrong URL, a
wrong method, a bug) is still answered as problem JSON without a stack trace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg
import psycopg_pool
from flask import Flask, Response, current_app, json
from werkzeug.exceptions import HTTPException

from layers.crs import OutsideSweden, UnknownSrid
from layers.errors import DatabaseNotReady, InvalidInput, LayerError, LayerNotFound
from layers.ingest import errors as ingest
from layers.versions import LayerBusy
from staff.errors import AuthenticationRequired, PermissionDenied
from tiles.errors import InvalidTileAddress, TileError
from tiles.raster import InvalidRasterRequest, RasterUnavailable
from tiles.staticmap import InvalidStaticMap
from webmap.db import DatabaseDown
from webmap.http import metrics
from webmap.settings import Settings

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    """A documented kind of problem: its status, short title and type URI slug."""

    status: int
    slug: str
    title: str


DOMAIN_ERRORS: dict[type[Exception], ProblemType] = {
    LayerNotFound: ProblemType(404, "not-found", "Not found"),
    InvalidInput: ProblemType(400, "invalid-input", "Invalid input"),
    OutsideSweden: ProblemType(400, "outside-sweden", "Not a place in Sweden"),
    UnknownSrid: ProblemType(400, "unknown-srid", "Unknown coordinate system"),
    InvalidTileAddress: ProblemType(400, "invalid-tile-address", "Invalid tile address"),
    InvalidStaticMap: ProblemType(400, "invalid-static-map", "Invalid static map request"),
    InvalidRasterRequest: ProblemType(400, "invalid-raster-request", "Invalid raster request"),
    RasterUnavailable: ProblemType(503, "raster-unavailable", "Raster unavailable"),
    DatabaseNotReady: ProblemType(503, "database-unavailable", "Database unavailable"),
    AuthenticationRequired: ProblemType(401, "unauthorized", "Authentication required"),
    PermissionDenied: ProblemType(403, "forbidden", "Forbidden"),
    ingest.UnsupportedFormat: ProblemType(415, "unsupported-format", "Unsupported file format"),
    ingest.UnsafeArchive: ProblemType(400, "unsafe-archive", "Unsafe archive"),
    ingest.TooLarge: ProblemType(413, "too-large", "Upload too large"),
    ingest.ImplausibleCrs: ProblemType(422, "implausible-crs", "Implausible coordinate system"),
    ingest.MixedGeometry: ProblemType(422, "mixed-geometry-types", "Mixed geometry types"),
    ingest.ChooseLayer: ProblemType(400, "choose-layer", "Choose a layer"),
    ingest.NoUsableFeatures: ProblemType(422, "no-usable-features", "No usable features"),
    ingest.LayerExists: ProblemType(409, "layer-exists", "Layer exists"),
    ingest.BudgetExceeded: ProblemType(422, "ingest-budget", "Ingest budget exceeded"),
    ingest.StorageFull: ProblemType(507, "insufficient-storage", "Insufficient storage"),
    LayerBusy: ProblemType(409, "layer-busy", "Layer busy"),
}
_DATABASE_DOWN = ProblemType(503, "database-unavailable", "Database unavailable")


def problem(
    status: int, title: str, detail: str, slug: str | None = None, **extensions: Any
) -> Response:
    """A problem+json response; ``slug`` names the type (``/problems/<slug>``)."""
    body: dict[str, Any] = {
        "type": f"/problems/{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(extensions)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers["Cache-Control"] = "no-store"
    return response


def _for_domain_error(error: Exception) -> Response:
    for cls in type(error).__mro__:
        kind = DOMAIN_ERRORS.get(cls)
        if kind is not None:
            detail = getattr(error, "detail", str(error))
            extensions = getattr(error, "extensions", {})
            return problem(kind.status, kind.title, detail, kind.slug, **extensions)
    log.error("unmapped domain error %s", type(error).__name__, exc_info=error)
    return problem(400, "Bad request", getattr(error, "detail", "The request was refused."))


def _for_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    detail = error.description or ""
    response = problem(status, error.name, detail, f"http-{status}")
    if status == 405 and error.response is None:
        allowed = getattr(error, "valid_methods", None)
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
    return response


def _for_database_error(error: Exception) -> Response:
    # DatabaseDown is raised without trying, on every request of an outage: webmap.db logs the
    # outage once; anything else (a lost connection, a pool timeout) is logged as it happens.
    if not isinstance(error, DatabaseDown):
        log.error("database unavailable: %s", type(error).__name__)
    metrics.count_database_error(
        "down"
        if isinstance(error, DatabaseDown)
        else "pool_timeout"
        if isinstance(error, psycopg_pool.PoolTimeout)
        else "error"
    )
    settings: Settings = current_app.config["WEBMAP_SETTINGS"]
    retry_after = getattr(error, "retry_after", settings.db_retry_after)
    response = problem(
        _DATABASE_DOWN.status,
        _DATABASE_DOWN.title,
        "The map database cannot be reached right now; try again in a moment.",
        _DATABASE_DOWN.slug,
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


def _for_os_error(error: OSError) -> Response:
    # A full disk anywhere in a request (werkzeug spooling a form, too) is 507, not a bug.
    if ingest.is_storage_full(error):
        return _for_domain_error(ingest.storage_full("storing the request"))
    return _for_unexpected(error)


def _for_unexpected(error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    return problem(500, "Internal error", "Something went wrong on our side.", "internal-error")


def init_app(app: Flask) -> None:
    """Register the handlers that turn every error into problem JSON."""
    app.register_error_handler(LayerError, _for_domain_error)
    app.register_error_handler(TileError, _for_domain_error)
    app.register_error_handler(HTTPException, _for_http_error)
    app.register_error_handler(psycopg.OperationalError, _for_database_error)
    app.register_error_handler(psycopg_pool.PoolTimeout, _for_database_error)
    app.register_error_handler(OSError, _for_os_error)
    app.register_error_handler(Exception, _for_unexpected)
