"""``/metrics``: Prometheus text for a scraper, off unless ``WEBMAP_METRICS`` is on.

When on, a scraper proves itself by a staff API token (any scope: ``Authorization: Bearer …``)
or by its address being in ``WEBMAP_METRICS_ALLOW``; behind the shipped nginx the address is
the client's as nginx saw it (``WEBMAP_PROXY_HOPS``), which a client cannot forge. Under the app
server the answer sums every worker's values (``PROMETHEUS_MULTIPROC_DIR``, set by ``webmap
serve``).
"""

from __future__ import annotations

import ipaddress
import os

from flask import Blueprint, Response, request

from webmap.http.auth import is_staff
from webmap.http.contracts import ANYONE_OR_STAFF, contract, ok, problems
from webmap.http.problems import problem
from webmap.services import services

blueprint = Blueprint("metrics", __name__)


def _allowed_address(allow: str) -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:  # a unix socket peer has no address
        return False
    for part in allow.split(","):
        if part.strip() and address in ipaddress.ip_network(part.strip(), strict=False):
            return True
    return False


def _exposition() -> tuple[bytes, str]:
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several app server workers: sum the files each one writes.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


@blueprint.get("/metrics")
@contract(
    "metrics",
    "Prometheus metrics (requests, latency, tile cache, pool waits, database errors)",
    tags=("service",),
    description="404 unless WEBMAP_METRICS is on; then a staff API token (any scope) or a "
    "client address in WEBMAP_METRICS_ALLOW. See docs/deploy.md, Metrics.",
    security=ANYONE_OR_STAFF,
    responses={
        200: ok({"type": "string"}, "text/plain", "Prometheus text format 0.0.4"),
        **problems(401, 403, 404),
    },
)
def metrics() -> Response:
    """The metrics of every worker of this node, as Prometheus text."""
    settings = services().settings
    if not settings.metrics:
        return problem(404, "Not found", "Metrics are turned off (WEBMAP_METRICS).", "not-found")
    if not _allowed_address(settings.metrics_allow) and not is_staff():
        return problem(
            403,
            "Forbidden",
            "Metrics need a staff API token or a client address in WEBMAP_METRICS_ALLOW.",
            "forbidden",
        )
    body, media_type = _exposition()
    response = Response(body, content_type=media_type)
    response.headers["Cache-Control"] = "no-store"
    return response
