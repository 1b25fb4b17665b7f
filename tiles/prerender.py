"""Pre-rendering the low zooms: which tiles, the jobs that render them, and their progress.

Low zooms are the expensive tiles (z3–z8 take 5–150 ms: a whole country's features meet in
them) and the first a citizen's map asks for. So when a version goes live, a *job* is queued
for each tileset it changes (the layer's own tiles, and the basemap's when it is a member);
a worker (:mod:`tiles.prerender_worker`) renders the job's tiles into
``webmap.prerendered_tiles``, which the tile route reads on a cache miss
(:class:`tiles.cache.StoredTileCache`) before it would render.

- **Bounded**: zooms from the tileset's minimum to ``max_zoom`` (8 by default), and only the
  tiles that meet the layer's bounds; a layer with no bounds (no features) has nothing to do.
- **Never blocks the publish**: :func:`enqueue` is a few inserts after the version is live.
- **Resumable and shared**: a job is cut into *chunks* (one row of tiles at one zoom, at most
  :data:`CHUNK_TILES`). A worker claims a chunk with ``FOR UPDATE SKIP LOCKED``, renders and
  stores its tiles and marks it done in the same transaction, so a worker killed mid-chunk
  leaves that chunk for the next one and several nodes never render the same chunk.
- **Superseded**: :func:`enqueue` reconciles the jobs with the catalog. A job whose tileset is
  no longer live at its version (a newer version, a rollback, a layer made private or deleted)
  becomes ``superseded``; its tiles and unrendered chunks are deleted. Rolling back to a version
  whose job was superseded queues that job again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from layers.catalog import VECTOR, LayerInfo, load_catalog
from layers.errors import LayerNotFound
from tiles.grid import WEB_MERCATOR_QUAD
from tiles.tilesets import BASEMAP, Tileset, resolve_tileset

log = logging.getLogger(__name__)

#: Deepest zoom pre-rendered unless configured (``WEBMAP_PRERENDER_MAX_ZOOM``).
DEFAULT_MAX_ZOOM = 8
#: Tiles in one chunk: one transaction of a worker, a few seconds at most.
CHUNK_TILES = 16
#: The channel :func:`enqueue` notifies, so an idle worker starts at once.
CHANNEL = "webmap_prerender"
#: Advisory lock key: one reconciliation at a time (two publishes finishing together).
_LOCK_KEY = 0x7072_6572  # "prer"
#: Superseded jobs are kept this long for ``--status`` (their tiles are deleted at once).
_KEEP_SUPERSEDED = "30 days"

Chunk = tuple[int, int, int, int]  # z, y, x_min, x_max
_EPSILON = 1e-14  # morecantile's LL_EPSILON


@dataclass(frozen=True)
class Plan:
    """The tiles of one tileset to pre-render: zoom range and chunks (rows of tiles)."""

    tileset: Tileset
    min_zoom: int
    max_zoom: int
    chunks: tuple[Chunk, ...]

    @property
    def tiles(self) -> int:
        return sum(x_max - x_min + 1 for _, _, x_min, x_max in self.chunks)


def _known_bounds(tileset: Tileset) -> list[tuple[float, float, float, float]]:
    return [s.layer.bounds for s in tileset.sources if s.layer.bounds]


def tile_rows(
    bounds: Iterable[tuple[float, float, float, float]], min_zoom: int, max_zoom: int
) -> list[Chunk]:
    """Chunks covering every tile of zooms ``min_zoom..max_zoom`` that meets one of ``bounds``.

    Each chunk is a run of at most :data:`CHUNK_TILES` tiles of one row; tiles met by several
    bounds are listed once. Lowest zooms first: they are the most expensive and asked first.
    Works on each row's x intervals (not tile by tile), so a world-wide layer's z8 costs
    milliseconds.
    """
    chunks: list[Chunk] = []
    boxes = list(bounds)
    for zoom in range(min_zoom, max_zoom + 1):
        rows: dict[int, list[tuple[int, int]]] = {}
        for west, south, east, north in boxes:
            # The corners as morecantile's ``tiles()`` takes them (a tile merely touched at
            # its edge is not met).
            first = WEB_MERCATOR_QUAD.tile(west + _EPSILON, north - _EPSILON, zoom, truncate=True)
            last = WEB_MERCATOR_QUAD.tile(east - _EPSILON, south + _EPSILON, zoom, truncate=True)
            for y in range(first.y, last.y + 1):
                rows.setdefault(y, []).append((first.x, last.x))
        for y in sorted(rows):
            for low, high in _merged(rows[y]):
                for start in range(low, high + 1, CHUNK_TILES):
                    chunks.append((zoom, y, start, min(high, start + CHUNK_TILES - 1)))
    return chunks


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or adjacent integer intervals joined, in order."""
    joined: list[tuple[int, int]] = []
    for low, high in sorted(intervals):
        if joined and low <= joined[-1][1] + 1:
            joined[-1] = (joined[-1][0], max(joined[-1][1], high))
        else:
            joined.append((low, high))
    return joined


def plan(tileset: Tileset, max_zoom: int = DEFAULT_MAX_ZOOM) -> Plan:
    """What pre-rendering ``tileset`` means: its zooms up to ``max_zoom`` within its bounds."""
    low = min(tileset.minzoom, max_zoom)
    high = min(max_zoom, tileset.maxzoom)
    chunks = tile_rows(_known_bounds(tileset), low, high) if high >= low else []
    return Plan(tileset, low, max(low, high), tuple(chunks))


def prerenderable(catalog: Mapping[str, LayerInfo]) -> list[Tileset]:
    """The tilesets citizens see: every public vector layer, and the basemap when it exists."""
    names = [n for n, layer in catalog.items() if layer.kind == VECTOR and layer.public]
    tilesets = [resolve_tileset(n, catalog) for n in names]
    with contextlib.suppress(LayerNotFound):  # no basemap layers published
        tilesets.append(resolve_tileset(BASEMAP, catalog))
    return tilesets


def enqueue(conn: psycopg.Connection[Any], max_zoom: int = DEFAULT_MAX_ZOOM) -> list[int]:
    """Bring the jobs in line with the live catalog; returns the ids of jobs (re)queued.

    Queues a job for every live tileset version that has none, marks jobs of versions no
    longer live ``superseded`` (deleting their tiles and chunks), and wakes idle workers.
    Cheap (a catalog read and a few inserts), so it runs right after a publish commits.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        live = {(t.name, t.version): t for t in prerenderable(load_catalog(conn))}
        _supersede(conn, set(live))
        queued = [
            job
            for job in (_queue(conn, plan(tileset, max_zoom)) for tileset in live.values())
            if job is not None
        ]
        if queued:
            conn.execute("SELECT pg_notify(%s, '')", [CHANNEL])
    return queued


def _supersede(conn: psycopg.Connection[Any], live: set[tuple[str, str]]) -> None:
    rows = conn.execute(
        "SELECT id, tileset, version FROM webmap.prerender_jobs WHERE state <> 'superseded'"
    ).fetchall()
    stale = [int(job) for job, tileset, version in rows if (tileset, version) not in live]
    if stale:
        conn.execute(
            "UPDATE webmap.prerender_jobs SET state = 'superseded', updated_at = now() "
            "WHERE id = ANY(%s)",
            [stale],
        )
        conn.execute("DELETE FROM webmap.prerendered_tiles WHERE job_id = ANY(%s)", [stale])
        conn.execute("DELETE FROM webmap.prerender_chunks WHERE job_id = ANY(%s)", [stale])
        log.info("pre-render jobs superseded: %s", stale)
    conn.execute(
        "DELETE FROM webmap.prerender_jobs WHERE state = 'superseded' "
        "AND updated_at < now() - %s::interval",
        [_KEEP_SUPERSEDED],
    )


def _queue(conn: psycopg.Connection[Any], work: Plan) -> int | None:
    """Insert the plan's job (or revive its superseded one) with its chunks; None if it exists."""
    total = work.tiles
    row = conn.execute(
        """
        INSERT INTO webmap.prerender_jobs AS j
            (tileset, version, min_zoom, max_zoom, tiles_total, state, finished_at)
        VALUES (%(tileset)s, %(version)s, %(low)s, %(high)s, %(total)s,
                CASE WHEN %(total)s = 0 THEN 'done' ELSE 'queued' END,
                CASE WHEN %(total)s = 0 THEN now() END)
        ON CONFLICT (tileset, version) DO UPDATE
            SET state = EXCLUDED.state, min_zoom = EXCLUDED.min_zoom,
                max_zoom = EXCLUDED.max_zoom, tiles_total = EXCLUDED.tiles_total,
                tiles_done = 0, updated_at = now(), finished_at = EXCLUDED.finished_at
            WHERE j.state = 'superseded'
        RETURNING id
        """,
        {
            "tileset": work.tileset.name,
            "version": work.tileset.version,
            "low": work.min_zoom,
            "high": work.max_zoom,
            "total": total,
        },
    ).fetchone()
    if row is None:
        return None
    job = int(row[0])
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO webmap.prerender_chunks (job_id, z, y, x_min, x_max) "
            "VALUES (%s, %s, %s, %s, %s)",
            [(job, *chunk) for chunk in work.chunks],
        )
    log.info(
        "pre-render job %s queued: %s v%s, %s tiles",
        job,
        work.tileset.name,
        work.tileset.version,
        total,
    )
    return job


@dataclass(frozen=True)
class JobStatus:
    """One job's progress, as ``webmap tiles prerender --status`` and the layer API show it."""

    id: int
    tileset: str
    version: str
    min_zoom: int
    max_zoom: int
    state: str
    tiles_total: int
    tiles_done: int
    updated_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tileset": self.tileset,
            "version": self.version,
            "zooms": [self.min_zoom, self.max_zoom],
            "state": self.state,
            "tiles_total": self.tiles_total,
            "tiles_done": self.tiles_done,
            "updated_at": self.updated_at,
        }


def status(
    conn: psycopg.Connection[Any], tileset: str | None = None, include_superseded: bool = False
) -> list[JobStatus]:
    """The jobs, newest first; only ``tileset``'s when given."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """
            SELECT id, tileset, version, min_zoom, max_zoom, state, tiles_total, tiles_done,
                   to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                       AS updated_at
            FROM webmap.prerender_jobs
            WHERE (%(tileset)s::text IS NULL OR tileset = %(tileset)s)
              AND (%(all)s OR state <> 'superseded')
            ORDER BY id DESC
            """,
            {"tileset": tileset, "all": include_superseded},
        ).fetchall()
    return [JobStatus(**row) for row in rows]
