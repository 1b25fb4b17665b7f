"""Reading the layer catalog: which layers exist, their live version and the table behind it.

The tile hot path asks the catalog on every request, so :class:`CatalogCache` keeps a snapshot for
a short time (a second or two): a new version is live everywhere within that time, and tiles do
not pay a catalog round trip each. While the database is down the tile path keeps the last good
snapshot (``layers(stale_ok=True)``), so cached tiles are still served.

With read replicas, the snapshot also notes how far the primary's WAL had got when it was read
(:meth:`CatalogCache.wal_position`): every version the snapshot names was committed before that
point, so a replica that has replayed that far holds all of them (webmap.db_routing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from layers.errors import DatabaseNotReady, LayerNotFound
from layers.schema import DATA_SCHEMA

#: ``webmap.layers.kind``: versions are tables (vector) or COG files (raster); see layers.kinds.
VECTOR = "vector"
RASTER = "raster"


@dataclass(frozen=True)
class FieldInfo:
    """One attribute column of a layer, as stored."""

    name: str
    type: str


@dataclass(frozen=True)
class LayerInfo:
    """A catalog entry joined with its live version."""

    name: str
    title: str
    description: str
    kind: str
    geometry_type: str | None
    version: int
    public: bool
    attribution: str
    minzoom: int
    maxzoom: int
    table_name: str
    feature_count: int
    fields: tuple[FieldInfo, ...] = field(default_factory=tuple)
    bounds: tuple[float, float, float, float] | None = None
    #: The owning municipality's code; None: an instance-wide layer (staff.tenancy).
    municipality: str | None = None

    @property
    def schema(self) -> str:
        """The schema that holds every layer's data tables."""
        return DATA_SCHEMA


_CATALOG_SQL = """
SELECT l.name, l.title, l.description, l.kind, l.geometry_type, l.version, l.public,
       l.attribution, l.minzoom, l.maxzoom, v.table_name, v.feature_count, v.fields,
       l.municipality, ST_XMin(v.bounds) AS xmin, ST_YMin(v.bounds) AS ymin,
       ST_XMax(v.bounds) AS xmax, ST_YMax(v.bounds) AS ymax
FROM webmap.layers l
JOIN webmap.layer_versions v ON v.layer_name = l.name AND v.version = l.version
ORDER BY l.name
"""


def _row_to_layer(row: Mapping[str, Any]) -> LayerInfo:
    bounds = None
    if row["xmin"] is not None:
        bounds = (float(row["xmin"]), float(row["ymin"]), float(row["xmax"]), float(row["ymax"]))
    return LayerInfo(
        name=row["name"],
        title=row["title"],
        description=row["description"],
        kind=row["kind"],
        geometry_type=row["geometry_type"],
        version=int(row["version"]),
        public=bool(row["public"]),
        attribution=row["attribution"],
        minzoom=int(row["minzoom"]),
        maxzoom=int(row["maxzoom"]),
        table_name=row["table_name"],
        feature_count=int(row["feature_count"]),
        fields=tuple(FieldInfo(f["name"], f["type"]) for f in row["fields"]),
        bounds=bounds,
        municipality=row["municipality"],
    )


def load_catalog(conn: psycopg.Connection[Any]) -> dict[str, LayerInfo]:
    """Every layer with its live version, keyed by name."""
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(_CATALOG_SQL).fetchall()
    except psycopg.errors.UndefinedTable as exc:
        raise DatabaseNotReady("The catalog tables are missing: run `webmap db init`.") from exc
    return {row["name"]: _row_to_layer(row) for row in rows}


_VERSION_SQL = (
    _CATALOG_SQL.replace("v.version = l.version", "v.version = %(version)s")
    .replace("l.geometry_type, l.version", "l.geometry_type, v.version")
    .replace("ORDER BY l.name", "WHERE l.name = %(name)s")
)


def load_layer_version(conn: psycopg.Connection[Any], name: str, version: int) -> LayerInfo:
    """Layer ``name`` as it was at ``version`` (a kept, not necessarily live, version), e.g.
    to export an earlier version's tiles; raises :class:`LayerNotFound`."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_VERSION_SQL, {"name": name, "version": version}).fetchone()
    if row is None:
        raise LayerNotFound(f"Layer {name!r} has no version {version} (kept versions only).")
    return _row_to_layer(row)


class CatalogCache:
    """A snapshot of the catalog, reloaded when older than ``ttl`` seconds."""

    def __init__(
        self,
        connect: Callable[[], Any],
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        track_wal: bool = False,
    ) -> None:
        self._connect = connect
        self._ttl = ttl
        self._clock = clock
        self._track_wal = track_wal
        self._position: int | None = None
        self._snapshot: dict[str, LayerInfo] | None = None
        self._loaded_at = 0.0
        self._failed_at = float("-inf")
        self._lock = threading.Lock()

    def layers(self, *, stale_ok: bool = False) -> dict[str, LayerInfo]:
        """The current snapshot, reloading it when it has expired.

        With ``stale_ok`` (the tile path) an expired snapshot is still returned when reloading
        it fails for want of a database (``psycopg.OperationalError``) or while another thread
        reloads it: a cached tile needs no database, so an outage must not stop it. A failed
        reload is retried only after ``ttl`` seconds on this path.
        """
        now = self._clock()
        snapshot = self._snapshot
        if snapshot is not None and now - self._loaded_at < self._ttl:
            return snapshot
        if stale_ok and snapshot is not None:
            if now - self._failed_at < self._ttl or not self._lock.acquire(blocking=False):
                return snapshot
        else:
            self._lock.acquire()
        try:
            if self._snapshot is None or self._clock() - self._loaded_at >= self._ttl:
                try:
                    with self._connect() as conn:
                        snapshot = load_catalog(conn)
                        if self._track_wal:
                            # Read after the catalog, noted before the snapshot is visible, so
                            # whoever sees this snapshot sees this position or a later one.
                            self._position = wal_insert_position(conn)
                        self._snapshot = snapshot
                except psycopg.OperationalError:
                    self._failed_at = self._clock()
                    if stale_ok and self._snapshot is not None:
                        return self._snapshot
                    raise
                self._loaded_at = self._clock()
            return self._snapshot
        finally:
            self._lock.release()

    def get(self, name: str) -> LayerInfo:
        """The live entry of ``name``; raises :class:`LayerNotFound`."""
        found = self.layers().get(name)
        if found is None:
            raise LayerNotFound(f"There is no layer named {name!r}.")
        return found

    def wal_position(self) -> int | None:
        """The primary's WAL insert position (bytes) read just after the current snapshot, or
        ``None`` without ``track_wal``. Reloads an expired snapshot as the tile path does
        (``stale_ok``), so while the primary is down the last snapshot's position holds."""
        self.layers(stale_ok=True)
        return self._position

    def invalidate(self) -> None:
        """Forget the snapshot, e.g. right after this process published a new version."""
        with self._lock:
            self._snapshot = None


#: What :func:`wal_insert_position` reads: the insert position and the WAL's page and segment sizes.
_POSITION_SQL = """
SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn,
       (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_block_size'),
       (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')
"""
#: Sizes of a WAL page's header (PostgreSQL's SizeOfXLogShortPHD) and of a segment's first
#: page's header (SizeOfXLogLongPHD), on the 64-bit platforms PostgreSQL servers run on.
_PAGE_HEADER, _SEGMENT_HEADER = 24, 40


def wal_insert_position(conn: psycopg.Connection[Any]) -> int:
    """How far the server's WAL has been written, in bytes: every transaction committed before
    this call ends at or below it (``pg_current_wal_insert_lsn``; fails on a standby).

    On an empty page the insert position points past the page's header, while a standby that
    has replayed everything reports the page's start: that header is taken off, or a replica
    would count as behind until the primary next wrote anything."""
    row = conn.execute(_POSITION_SQL).fetchone()
    if row is None:
        return 0
    position, page, segment = (int(value) for value in row)
    if position % segment == _SEGMENT_HEADER:
        return position - _SEGMENT_HEADER
    if position % page == _PAGE_HEADER:
        return position - _PAGE_HEADER
    return position
