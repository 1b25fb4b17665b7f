"""What ``webmap doctor`` checks in a deployment: each check a small function returning
:class:`Finding` (level, message, fix), so the CLI only prints them.

The checks read settings, the database, Redis and the file system and never change anything
(no folder is created, no migration run): an operator runs them on a live node, as the service's
user, before and after an upgrade (docs/operations.md). The rules come from elsewhere in the
project and are named there: the secret key and cookies (docs/security.md), the proxy hop count
(werkzeug's ProxyFix in webmap/app.py), the GDAL policy (layers/ingest/gdal_policy.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from webmap.setup_checks.configuration import (
    embed_origins,
    insecure_basemap_hosts,
    proxy,
    secret_key,
    secure_cookies,
    unknown_variables,
)
from webmap.setup_checks.database import database
from webmap.setup_checks.findings import Deployment, Finding, Level
from webmap.setup_checks.services import gdal, nginx, raster_folder, redis

__all__ = ["CHECKS", "Deployment", "Finding", "Level", "run_checks"]

#: Every check, in the order printed; ``database`` yields several findings.
CHECKS: tuple[Callable[[Deployment], Finding | Iterator[Finding]], ...] = (
    unknown_variables,
    database,
    secret_key,
    secure_cookies,
    proxy,
    embed_origins,
    insecure_basemap_hosts,
    redis,
    raster_folder,
    nginx,
    gdal,
)


def run_checks(deployment: Deployment) -> list[Finding]:
    """Every finding, in :data:`CHECKS` order."""
    findings: list[Finding] = []
    for check in CHECKS:
        outcome = check(deployment)
        findings.extend([outcome] if isinstance(outcome, Finding) else outcome)
    return findings
