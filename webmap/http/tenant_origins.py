"""Each municipality's own embedding origins, as the CORS and framing rules read them.

The CORS hook runs on every widget read (tiles included), so the origins are kept for a few
seconds per process rather than read from PostgreSQL each time; a change made with ``webmap
municipalities set`` or ``PATCH /api/municipalities/{code}`` is in force everywhere within
:data:`TTL_SECONDS`. While the database is unreachable the last good copy is used, and before
there is one, no municipality's origins (the global ``WEBMAP_EMBED_ORIGINS`` still hold).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import psycopg
from flask import current_app
from psycopg_pool import PoolTimeout

from layers.errors import DatabaseNotReady
from layers.municipalities import embed_origins_of
from webmap.db import get_pool

TTL_SECONDS = 5.0
_KEY = "webmap.tenant_origins"
log = logging.getLogger(__name__)


@dataclass
class _Snapshot:
    by_code: dict[str, tuple[str, ...]] = field(default_factory=dict)
    loaded_at: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)


def _snapshot() -> _Snapshot:
    found = current_app.extensions.get(_KEY)
    if found is None:
        found = current_app.extensions.setdefault(_KEY, _Snapshot())
    return found  # type: ignore[no-any-return]


def tenant_origins() -> dict[str, tuple[str, ...]]:
    """Municipality code → its own embedding origins (at most :data:`TTL_SECONDS` old)."""
    snap = _snapshot()
    if time.monotonic() - snap.loaded_at < TTL_SECONDS:
        return snap.by_code
    with snap.lock:
        if time.monotonic() - snap.loaded_at >= TTL_SECONDS:
            try:
                with get_pool().connection() as conn:
                    snap.by_code = embed_origins_of(conn)
            except (psycopg.Error, PoolTimeout, DatabaseNotReady) as exc:
                # Keep the last good copy (CORS and framing go on working from it); the next
                # read after TTL_SECONDS tries again. Said, so an operator sees why a
                # municipality's new origin is not in force yet.
                log.warning("municipalities' embed origins not reloaded: %s", type(exc).__name__)
            snap.loaded_at = time.monotonic()
    return snap.by_code


def forget() -> None:
    """Drop the copy (this process just changed a municipality's origins)."""
    _snapshot().loaded_at = float("-inf")
