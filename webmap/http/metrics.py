"""Prometheus metrics and ``Server-Timing``: where requests spend their time, per process and in
total (docs/deploy.md, "Metrics").

Metric objects live in prometheus-client's default registry, created on first use (not at
import). Under the app server (granian or gunicorn), ``webmap serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before any worker starts, so each worker's values
go to files there and ``/metrics``
(:mod:`webmap.api.metrics`) sums the files of every worker. In one process (tests, ``flask
run``) the default registry is read directly.

Labels are bounded: a route *family* (never a path or query string), a layer name only once the
catalog has resolved it, a zoom *band*, a status code.

Each request collects durations in a :class:`RequestRecord` (``cache``, ``pool``, ``db``,
``render``), held in a context variable rather than ``flask.g``, so that the tile fast path
(:mod:`webmap.http.tile_fast_path`), which answers without Flask, records the same; tile and
lookup answers carry them as ``Server-Timing`` so a browser's devtools show where the time went.
The timers are ``time.perf_counter`` calls, a few per request.
"""

from __future__ import annotations

import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, g, request

from tiles.cache import CachedTile, TileCache, TileKey

TILES, SEARCH, REVERSE, UPLOADS, OTHER = "tiles", "search", "reverse", "uploads", "other"
_FAMILY_OF_ENDPOINT = {
    "tiles.vector_tile": TILES,
    "raster.raster_tile": TILES,
    "lookup.search_endpoint": SEARCH,
    "lookup.reverse_endpoint": REVERSE,
}
# Families whose answers carry Server-Timing.
_TIMED = frozenset({TILES, SEARCH, REVERSE})
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_WAIT_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)
_SIZE_BUCKETS = (0, 1024, 4096, 16384, 65536, 131072, 262144, 524288, 1048576)


@dataclass(frozen=True)
class _Metrics:
    requests: Any
    latency: Any
    tile_cache: Any
    tile_bytes: Any
    pool_wait: Any
    db_errors: Any
    reads: Any


_made: list[_Metrics] = []
_making = threading.Lock()


def _metrics() -> _Metrics:
    """The process's metric objects, made once (metric names are unique per registry)."""
    if _made:
        return _made[0]
    with _making:
        if not _made:
            from prometheus_client import Counter, Histogram

            _made.append(
                _Metrics(
                    requests=Counter(
                        "webmap_http_requests",
                        "HTTP requests answered, by route family, layer, zoom band and status.",
                        ["family", "layer", "zoom", "status"],
                    ),
                    latency=Histogram(
                        "webmap_http_request_duration_seconds",
                        "Time the app took to answer, by route family, layer and zoom band.",
                        ["family", "layer", "zoom"],
                        buckets=_LATENCY_BUCKETS,
                    ),
                    tile_cache=Counter(
                        "webmap_tile_cache_lookups",
                        "Tile cache lookups by level (memory, redis) and result (hit, miss).",
                        ["level", "result"],
                    ),
                    tile_bytes=Histogram(
                        "webmap_tile_response_bytes",
                        "Bytes of the vector tile bodies sent (gzip when sent gzipped), by layer.",
                        ["layer"],
                        buckets=_SIZE_BUCKETS,
                    ),
                    pool_wait=Histogram(
                        "webmap_db_pool_wait_seconds",
                        "Time a request waited for a database connection from the pool.",
                        buckets=_WAIT_BUCKETS,
                    ),
                    db_errors=Counter(
                        "webmap_db_errors",
                        "Requests answered 503 because the database path failed, by reason.",
                        ["reason"],
                    ),
                    reads=Counter(
                        "webmap_db_reads",
                        "Reads routed with WEBMAP_DATABASE_READ_URLS set, by the server that"
                        " answered (replica, or primary when no replica had replayed far enough"
                        " or answered).",
                        ["server"],
                    ),
                )
            )
    return _made[0]


def zoom_band(z: str | int | None) -> str:
    """``z0-5``, ``z6-10``, ``z11-14``, ``z15+``; ``invalid`` for anything that is not a zoom."""
    try:
        zoom = int(z)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "invalid"
    if zoom < 0 or zoom > 30:
        return "invalid"
    if zoom <= 5:
        return "z0-5"
    if zoom <= 10:
        return "z6-10"
    if zoom <= 14:
        return "z11-14"
    return "z15+"


# --- per-request timings -------------------------------------------------------------------


@dataclass(slots=True)
class RequestRecord:
    """What one request has recorded so far: its start, timings (seconds), tile cache result
    and the catalog-resolved layer (the only layer name used as a label)."""

    started: float
    timings: dict[str, float] = field(default_factory=dict)
    cache: str | None = None
    layer: str = ""


#: The record of the request this thread (or task) is answering; ``None`` outside requests.
_RECORD: ContextVar[RequestRecord | None] = ContextVar("webmap_request_record", default=None)


def begin_request() -> RequestRecord:
    """A fresh record for the request now starting in this context (Flask's hook and the tile
    fast path call this first)."""
    record = RequestRecord(time.perf_counter())
    _RECORD.set(record)
    return record


def end_request() -> None:
    """Forget this context's record: code outside a request records nothing."""
    _RECORD.set(None)


def add_timing(name: str, seconds: float) -> None:
    """Add ``seconds`` to this request's ``name`` timing (no-op outside a request)."""
    record = _RECORD.get()
    if record is not None:
        record.timings[name] = record.timings.get(name, 0.0) + seconds


def timing(name: str) -> float:
    """Seconds recorded so far for ``name`` in this request."""
    record = _RECORD.get()
    return 0.0 if record is None else record.timings.get(name, 0.0)


def note_layer(name: str) -> None:
    """The catalog-resolved layer this request is about (the only layer name used as a label)."""
    record = _RECORD.get()
    if record is not None:
        record.layer = name


def note_cache(result: str, far: bool) -> None:
    """The tile cache's answer for this request: a miss is kept only if nothing was said yet,
    a hit (``far``: from a level further out) overrides a nearer miss."""
    record = _RECORD.get()
    if record is not None and (far or record.cache is None):
        record.cache = result


def observe_pool_wait(seconds: float) -> None:
    """Time spent getting a database connection (histogram and Server-Timing ``pool``)."""
    _metrics().pool_wait.observe(seconds)
    add_timing("pool", seconds)


def count_database_error(reason: str) -> None:
    """A request answered 503 from the database path: ``down``, ``pool_timeout`` or ``error``."""
    _metrics().db_errors.labels(reason=reason).inc()


def count_read(server: str) -> None:
    """A read routed to ``replica`` or ``primary`` (webmap.db_routing)."""
    _metrics().reads.labels(server=server).inc()


#: Labelled children by label values, made once each: prometheus-client's ``labels()`` checks
#: and sorts its arguments and takes a lock on every call, as much as the observation itself
#: (issue 11 §2). Labels are bounded (see the module docstring), and so are these.
_REQUEST_CHILDREN: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}
_BYTES_CHILDREN: dict[str, Any] = {}


def _request_children(kind: str, layer: str, zoom: str, status: int) -> tuple[Any, Any]:
    """The request counter's and the latency histogram's children for these labels."""
    key = (kind, layer, zoom, status)
    found = _REQUEST_CHILDREN.get(key)
    if found is None:
        metrics = _metrics()
        found = _REQUEST_CHILDREN[key] = (
            metrics.requests.labels(family=kind, layer=layer, zoom=zoom, status=status),
            metrics.latency.labels(family=kind, layer=layer, zoom=zoom),
        )
    return found


def observe_tile_bytes(layer: str, size: int) -> None:
    """Bytes of a tile body sent."""
    child = _BYTES_CHILDREN.get(layer)
    if child is None:
        child = _BYTES_CHILDREN[layer] = _metrics().tile_bytes.labels(layer=layer)
    child.observe(size)


class CountedTileCache:
    """A tile cache level that counts its hits and misses and times its calls for the request."""

    def __init__(self, inner: TileCache, level: str) -> None:
        self.inner = inner
        self.level = level
        self._hits = _metrics().tile_cache.labels(level=level, result="hit")
        self._misses = _metrics().tile_cache.labels(level=level, result="miss")

    def get(self, key: TileKey) -> CachedTile | None:
        started = time.perf_counter()
        found = self.inner.get(key)
        add_timing("cache", time.perf_counter() - started)
        if found is None:
            self._misses.inc()
            note_cache("miss", far=False)
        else:
            self._hits.inc()
            note_cache(f"hit-{self.level}", far=True)  # a far hit overrides the near miss
        return found

    def put(self, key: TileKey, tile: CachedTile) -> None:
        started = time.perf_counter()
        self.inner.put(key, tile)
        add_timing("cache", time.perf_counter() - started)


# --- request hooks -------------------------------------------------------------------------


def family() -> str:
    """The route family of the current request (bounded: never the path itself)."""
    found = _FAMILY_OF_ENDPOINT.get(request.endpoint or "")
    if found is not None:
        return found
    if request.method in ("POST", "PUT") and request.mimetype == "multipart/form-data":
        return UPLOADS
    return OTHER


def _start() -> None:
    g.webmap_record = begin_request()


def server_timing(timings: dict[str, float], cache: str | None, total: float) -> str:
    """The ``Server-Timing`` value: ``cache;desc="miss";dur=0.1, db;dur=3.2, …`` (ms)."""
    parts = []
    if cache is not None:
        parts.append(f'cache;desc="{cache}";dur={timings.get("cache", 0.0) * 1000:.2f}')
    for name in ("pool", "db", "render"):
        if name in timings:
            parts.append(f"{name};dur={timings[name] * 1000:.2f}")
    parts.append(f"total;dur={total * 1000:.2f}")
    return ", ".join(parts)


def _finish(response: Response) -> Response:
    record: RequestRecord | None = g.get("webmap_record")
    if record is None:
        return response
    kind = family()
    z = (request.view_args or {}).get("z") if kind == TILES else None
    timing_header = finish_request(record, kind, z, response.status_code)
    if timing_header is not None:
        response.headers["Server-Timing"] = timing_header
    return response


def finish_request(record: RequestRecord, kind: str, z: str | None, status: int) -> str | None:
    """Count and time the request of ``record`` (route family ``kind``, tile zoom ``z``);
    the ``Server-Timing`` value for the families that carry it, else ``None``."""
    elapsed = time.perf_counter() - record.started
    layer = zoom = ""
    if kind == TILES:
        layer = record.layer or "unknown"
        zoom = zoom_band(z)
    count, latency = _request_children(kind, layer, zoom, status)
    count.inc()
    latency.observe(elapsed)
    if kind in _TIMED:
        return server_timing(record.timings, record.cache, elapsed)
    return None


def _forget(_error: BaseException | None) -> None:
    end_request()


def init_app(app: Flask) -> None:
    """Time and count every request of ``app``."""
    _metrics()
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)
