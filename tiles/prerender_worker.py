"""The pre-render worker: claims chunks of queued jobs and renders their tiles into PostgreSQL.

One chunk is one transaction: claim (``FOR UPDATE SKIP LOCKED``), render each tile, store it,
mark the chunk done and count it on the job, commit. A worker stopped or killed mid-chunk rolls
back and the chunk is claimed again by the next worker, so progress survives any stop and no
tile is stored twice; several workers (threads or nodes) take different chunks.

The tiles are rendered by the same :class:`~tiles.mvt.TileRenderer` as the tile route, with the
same :class:`~tiles.mvt.TileOptions` (the ``WEBMAP_TILE_*`` settings), so a pre-rendered tile is
the same bytes a request would have rendered (tiles are deterministic, docs/architecture.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import psycopg
from morecantile import Tile

from layers.catalog import load_catalog
from layers.errors import LayerNotFound
from tiles.cache import CachedTile
from tiles.mvt import TileOptions, TileRenderer
from tiles.prerender import CHANNEL, DEFAULT_MAX_ZOOM, enqueue
from tiles.tilesets import resolve_tileset

log = logging.getLogger(__name__)

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]

_CLAIM = """
SELECT c.job_id, c.z, c.y, c.x_min, c.x_max, j.tileset, j.version
FROM webmap.prerender_chunks c
JOIN webmap.prerender_jobs j ON j.id = c.job_id
WHERE NOT c.done AND j.state IN ('queued', 'running')
  AND (%(tileset)s::text IS NULL OR j.tileset = %(tileset)s)
ORDER BY j.id, c.z, c.y, c.x_min
LIMIT 1
FOR UPDATE OF c SKIP LOCKED
"""

_COUNT = """
UPDATE webmap.prerender_jobs
SET tiles_done = tiles_done + %(n)s, updated_at = now(),
    state = CASE WHEN tiles_done + %(n)s >= tiles_total THEN 'done' ELSE 'running' END,
    finished_at = CASE WHEN tiles_done + %(n)s >= tiles_total THEN now() END
WHERE id = %(job)s AND state IN ('queued', 'running')
"""


class Reconnecting:
    """One connection from ``open_connection``, opened again once it has died, so a worker
    outlives a database restart (its chunk in hand rolls back and is claimed again)."""

    def __init__(self, open_connection: Callable[[], psycopg.Connection[Any]]) -> None:
        self._open = open_connection
        self._conn: psycopg.Connection[Any] | None = None

    def __call__(self) -> AbstractContextManager[psycopg.Connection[Any]]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._open()
        return nullcontext(self._conn)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


@dataclass(frozen=True)
class ChunkDone:
    """What one claimed chunk gave: its job, tileset and the tiles rendered (0 if stale)."""

    job: int
    tileset: str
    tiles: int


class PrerenderWorker:
    """Renders queued chunks on connections from ``connect`` (plain, autocommit ones).

    ``only`` limits the worker to one tileset (``webmap tiles prerender LAYER``).
    """

    def __init__(
        self,
        connect: Connect,
        options: TileOptions | None = None,
        max_zoom: int = DEFAULT_MAX_ZOOM,
        only: str | None = None,
    ) -> None:
        self._connect = connect
        self.options = options or TileOptions()
        self.max_zoom = max_zoom
        self.only = only

    def run_chunk(self) -> ChunkDone | None:
        """Claim, render and store one chunk; ``None`` when no chunk is waiting."""
        with self._connect() as conn, conn.transaction():
            row = conn.execute(_CLAIM, {"tileset": self.only}).fetchone()
            if row is None:
                return None
            job, z, y, x_min, x_max, name, version = row
            try:
                tileset = resolve_tileset(name, load_catalog(conn))
            except LayerNotFound:
                tileset = None
            if tileset is None or tileset.version != version:
                # Published over (or deleted) since it was queued: the next enqueue supersedes
                # the job; until then its chunks are skipped, not rendered for nothing.
                conn.execute(
                    "UPDATE webmap.prerender_chunks SET done = true WHERE job_id = %s", [job]
                )
                return ChunkDone(int(job), name, 0)
            renderer = TileRenderer(lambda: nullcontext(conn), self.options)
            rows = []
            for x in range(x_min, x_max + 1):
                tile = CachedTile(renderer.render(tileset, Tile(x, y, z)))
                if tile.body:
                    tile = tile.with_gzip()
                rows.append((name, version, z, x, y, job, tile.body, tile.gzipped))
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO webmap.prerendered_tiles "
                    "(tileset, version, z, x, y, job_id, body, gzipped) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    rows,
                )
            conn.execute(
                "UPDATE webmap.prerender_chunks SET done = true "
                "WHERE job_id = %s AND z = %s AND y = %s AND x_min = %s",
                [job, z, y, x_min],
            )
            # Last, so the job's row is locked only for the commit: workers on other chunks
            # of the same job wait for each other here, not for each other's rendering.
            conn.execute(_COUNT, {"n": len(rows), "job": job})
            return ChunkDone(int(job), name, len(rows))

    def drain(
        self,
        stop: threading.Event | None = None,
        max_chunks: int | None = None,
        progress: Callable[[ChunkDone], None] | None = None,
    ) -> int:
        """Render chunks until none is waiting (or ``stop`` is set, or ``max_chunks`` are done);
        returns the tiles rendered."""
        rendered = chunks = 0
        while not (stop is not None and stop.is_set()) and (
            max_chunks is None or chunks < max_chunks
        ):
            done = self.run_chunk()
            if done is None:
                break
            chunks += 1
            rendered += done.tiles
            if progress is not None:
                progress(done)
        return rendered

    def reconcile(self) -> list[int]:
        """Queue jobs for live versions that have none (and supersede the rest)."""
        with self._connect() as conn:
            return enqueue(conn, self.max_zoom)

    def run_forever(
        self,
        listen: Connect,
        stop: threading.Event,
        poll_seconds: float = 30.0,
        progress: Callable[[ChunkDone], None] | None = None,
    ) -> None:
        """Reconcile, drain, then sleep until notified (a publish) or ``poll_seconds`` pass.

        The poll catches what no notification announced (a worker that was down, a version
        changed by hand); a database outage is logged and retried after the poll interval.
        """
        while not stop.is_set():
            try:
                with listen() as waiter:
                    waiter.execute(f"LISTEN {CHANNEL}")
                    while not stop.is_set():
                        self.reconcile()
                        self.drain(stop, progress=progress)
                        _wait(waiter, stop, poll_seconds)
            except psycopg.OperationalError as exc:
                log.warning("pre-render worker: database unavailable (%s); retrying", exc)
                stop.wait(poll_seconds)


def _wait(waiter: psycopg.Connection[Any], stop: threading.Event, seconds: float) -> None:
    """Until a notification arrives, ``stop`` is set or ``seconds`` pass (checked each second,
    so a stopping worker does not sit out the whole poll interval)."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:
        timeout = min(1.0, max(0.0, deadline - time.monotonic()))
        if any(True for _ in waiter.notifies(timeout=timeout, stop_after=1)):
            return
