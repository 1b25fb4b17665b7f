"""Hello-world apps for ``bench/tiles.py --floor``: what one request through granian costs
before an app does anything, by interface. Same headers as a tile answer, a tile-sized body."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

BODY = b"x" * 104
HEADERS = [
    ("Content-Type", "application/vnd.mapbox-vector-tile"),
    ("Content-Length", str(len(BODY))),
    ("ETag", '"municipalities-1-16-36057-19270"'),
    ("Cache-Control", "public, max-age=31536000, immutable"),
    ("Vary", "Accept-Encoding"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Server-Timing", 'cache;desc="miss";dur=0.01, db;dur=0.20, render;dur=0.01, total;dur=0.30'),
]


def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """WSGI, as the service is served."""
    start_response("200 OK", HEADERS)
    return [BODY]


async def rsgi(scope: Any, proto: Any) -> None:
    """granian's native interface, on its event loop."""
    proto.response_bytes(200, HEADERS, BODY)


async def rsgi_thread(scope: Any, proto: Any) -> None:
    """RSGI handing the work to a thread, as a blocking database call would need."""
    body = await asyncio.get_running_loop().run_in_executor(None, lambda: BODY)
    proto.response_bytes(200, HEADERS, body)
