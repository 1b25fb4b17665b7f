"""The one writer of a version table's features: geometry, overview columns, attributes.

Every vector layer is written here, uploads (:func:`copy_features`) and the sample basemap
(:func:`write_features`) alike, so the overview columns follow one rule (:func:`_overview`).

Uploads, per chunk: validate and repair (shapely), transform to EPSG:3857 (pyproj), build the
overview columns, serialise to WKB. shapely and pyproj release the GIL, so two worker threads
prepare chunks on both cores while the main thread streams finished ones to PostgreSQL with a
binary COPY.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import psycopg
import shapely
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.adapt import Dumper
from psycopg.copy import QueuedLibpqWriter
from psycopg.pq import Format
from psycopg.types import TypeInfo
from pyproj import CRS, Transformer

from layers.catalog import FieldInfo
from layers.errors import DatabaseNotReady
from layers.ingest.budget import Deadline
from layers.ingest.crs_check import CrsDecision
from layers.ingest.reading import Source
from layers.ingest.validate import ValidationReport, validate
from layers.schema import DATA_SCHEMA
from layers.store import OVERVIEW_ZOOMS, STORAGE_SRID, simplify_tolerance

# Web Mercator is undefined at the poles: pyproj answers inf there.
_MERCATOR_LIMIT = 20037508.342789244 * 1.0001


def _value(value: object, kind: str) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "text":
        text = str(value)
        return text.replace("\x00", "") if "\x00" in text else text
    return value


#: Vertices simplified topology-preserving between two deadline checks (about a second).
_CAREFUL_BATCH_VERTICES = 100_000


def _batches(vertices: np.ndarray[Any, Any], limit: int) -> Iterator[slice]:
    """Consecutive slices of ``vertices`` summing to at most ``limit`` (or one item each)."""
    start, total = 0, 0
    for i, count in enumerate(vertices.tolist()):
        if i > start and total + count > limit:
            yield slice(start, i)
            start, total = i, 0
        total += count
    if start < len(vertices):
        yield slice(start, len(vertices))


def _simplified(
    geoms: np.ndarray[Any, Any], tolerance: float, deadline: Deadline | None = None
) -> np.ndarray[Any, Any]:
    """Douglas–Peucker (fast), redone topology-preserving where that broke a geometry.

    The result is as valid as ``ST_SimplifyPreserveTopology`` would give, at a fraction of the
    cost, because only the few geometries DP damages pay for the careful algorithm. That one
    is slow on large features (seconds for 250,000 vertices), so it runs in batches with a
    deadline check between them.
    """
    fast: np.ndarray[Any, Any] = shapely.simplify(geoms, tolerance, preserve_topology=False)
    broken = np.flatnonzero(shapely.is_empty(fast) | ~shapely.is_valid(fast))
    sizes = shapely.get_num_coordinates(geoms[broken])
    for batch in _batches(sizes, _CAREFUL_BATCH_VERTICES):
        if deadline is not None:
            deadline.check("simplifying overviews")
        part = broken[batch]
        fast[part] = shapely.simplify(geoms[part], tolerance, preserve_topology=True)
    return fast


_EMPTY = shapely.to_wkb(shapely.GeometryCollection())

#: Features with at most this many vertices go into overviews unsimplified: simplifying a
#: building outline saves nothing measurable in a tile and costs most of the ingest time.
SIMPLIFY_ABOVE_VERTICES = 32


def _overview(
    geoms: np.ndarray[Any, Any],
    vertices: np.ndarray[Any, Any],
    extent: np.ndarray[Any, Any],
    zoom: int,
    deadline: Deadline | None = None,
) -> list[bytes | None]:
    """The overview column at ``zoom`` (see :func:`layers.store.overview_sql`).

    Simplified to half a pixel when the feature has many vertices; NULL, meaning "the same as
    ``geom``", when it has few (no second copy is written); EMPTY when the feature's extent is
    under half a pixel, so low-zoom tiles stay free of thousands of invisible specks.
    """
    tolerance = simplify_tolerance(zoom)
    visible = extent >= tolerance
    detailed = visible & (vertices > SIMPLIFY_ABOVE_VERTICES)
    out = np.full(len(geoms), None, dtype=object)
    out[~visible] = _EMPTY
    if detailed.any():
        out[detailed] = shapely.to_wkb(_simplified(geoms[detailed], tolerance, deadline))
    return list(out.tolist())


def _column(values: np.ndarray[Any, Any], kind: str) -> list[object]:
    """One attribute column as COPY values: NaN becomes NULL, text is text without NUL bytes.

    pyogrio reads an integer or boolean column with NULLs as floats with NaN: their values go
    back to ``int`` or ``bool``, or the binary COPY into ``bigint``/``boolean`` refuses them.
    """
    if values.dtype.kind == "f":
        missing = np.isnan(values)
        cast = {"integer": int, "boolean": bool}.get(kind)
        out = values.astype(object)
        if cast is not None:
            out[~missing] = [cast(v) for v in values[~missing].tolist()]
        out[missing] = None
        return list(out.tolist())
    plain = values.tolist()
    if kind != "text":
        return list(plain)
    return [
        v if v is None or (type(v) is str and "\x00" not in v) else _value(v, kind) for v in plain
    ]


#: shapely's type ids of Point and MultiPoint.
_POINT_TYPES = (0, 4)


def _rows(
    geoms: np.ndarray[Any, Any],
    values: list[list[object]],
    deadline: Deadline | None = None,
) -> list[tuple[object, ...]]:
    """COPY rows: geometry and overview columns as WKB, then the attribute columns."""
    # Plain WKB without an SRID: PostGIS gives it the column's SRID (3857) from the typmod.
    full = shapely.to_wkb(geoms)
    columns = [list(full.tolist())]
    box = shapely.bounds(geoms)
    extent = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
    vertices = shapely.get_num_coordinates(geoms)
    # A point needs no simplifying, and is never "too small": NULL makes readers use ``geom``.
    points = np.isin(shapely.get_type_id(geoms), _POINT_TYPES)
    others = ~points
    for zoom in OVERVIEW_ZOOMS:
        column = np.full(len(geoms), None, dtype=object)
        if others.any():
            column[others] = _overview(
                geoms[others], vertices[others], extent[others], zoom, deadline
            )
        columns.append(list(column.tolist()))
    return list(zip(*columns, *values, strict=True))


_Prepared = tuple[int, list[tuple[object, ...]], ValidationReport]


@dataclass(frozen=True)
class _Chunk:
    source: Source
    fields: list[FieldInfo]
    crs: CRS
    family: str
    strays: np.ndarray[Any, Any]
    deadline: Deadline | None = None
    # One transformer per worker thread: cheap to build, and no PROJ state is shared.
    local: threading.local = field(default_factory=threading.local)

    def transformer(self) -> Transformer:
        found: Transformer | None = getattr(self.local, "transformer", None)
        if found is None:
            found = Transformer.from_crs(self.crs, STORAGE_SRID, always_xy=True)
            self.local.transformer = found
        return found

    def prepare(self, start: int, end: int) -> _Prepared:
        """Validate, transform and serialise features ``start`` … ``end`` (a worker's job).

        Each chunk reports into its own :class:`ValidationReport`; the caller merges them in
        order, so workers share no mutable state.
        """
        source, report = self.source, ValidationReport()
        if self.deadline is not None:
            self.deadline.check("validating")
        geoms, keep = validate(
            source.geometries[start:end],
            start,
            self.family,
            report,
            source.unreadable[start:end],
            self.deadline,
        )
        for i in np.flatnonzero(keep & self.strays[start:end]):
            report.reject(start + int(i), "far from the rest of the layer (stray coordinates)")
            keep[i] = False
        projected = shapely.transform(geoms[keep], self.transformer().transform, interleaved=False)
        xy = shapely.bounds(projected)
        inside = np.isfinite(xy).all(axis=1) & (np.abs(xy) <= _MERCATOR_LIMIT).all(axis=1)
        kept_index = np.flatnonzero(keep)
        for i in kept_index[~inside]:
            report.reject(start + int(i), "outside the Web Mercator range (beyond ±85°)")
        chosen = kept_index[inside]
        values = [
            _column(column[start:end][chosen], f.type)
            for column, f in zip(source.columns, self.fields, strict=True)
        ]
        report.stored += len(chosen)
        return end, _rows(projected[inside], values, self.deadline), report


#: Chunks prepared at once. shapely and pyproj release the GIL, so two workers use both cores
#: while the main thread streams finished chunks to PostgreSQL.
_WORKERS = 2


def _prepared(chunk: _Chunk, total: int, size: int) -> Iterator[_Prepared]:
    """Chunks in file order, the next ones prepared on worker threads while this one is sent."""
    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="ingest") as pool:
        pending: deque[Future[_Prepared]] = deque()
        for start in range(0, total, size):
            pending.append(pool.submit(chunk.prepare, start, min(start + size, total)))
            if len(pending) > _WORKERS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_COPY_TYPES = {"text": "text", "integer": "int8", "number": "float8", "boolean": "bool"}


def _register_wkb_dumper(conn: psycopg.Connection[Any]) -> int:
    """Let binary COPY send ``bytes`` as ``geometry`` (PostGIS reads WKB as its binary form)."""
    info = TypeInfo.fetch(conn, "geometry")
    if info is None:
        raise DatabaseNotReady("PostGIS is not installed in this database: run `webmap db init`.")
    geometry_oid = info.oid

    class WkbDumper(Dumper):
        format = Format.BINARY
        oid = geometry_oid

        def dump(self, obj: Any) -> Buffer:
            return cast(Buffer, obj)

    conn.adapters.register_dumper(None, WkbDumper)
    return int(geometry_oid)


def _copy_statement(
    conn: psycopg.Connection[Any], table: str, fields: Sequence[FieldInfo]
) -> tuple[sql.Composed, list[int | str]]:
    """The binary COPY into a version table's columns, and the types of its row values."""
    names = ["geom", *(f"geom_z{z}" for z in OVERVIEW_ZOOMS), *(f.name for f in fields)]
    # Binary COPY: WKB goes to PostGIS as is, no hex to write on this side or parse on that one.
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(DATA_SCHEMA, table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    geometry_oid = _register_wkb_dumper(conn)
    types: list[int | str] = [geometry_oid] * (1 + len(OVERVIEW_ZOOMS))
    types += [_COPY_TYPES[f.type] for f in fields]
    return statement, types


def write_features(
    conn: psycopg.Connection[Any],
    table: str,
    geoms: np.ndarray[Any, Any],
    fields: Sequence[FieldInfo],
    columns: Sequence[Sequence[object]],
    chunk_size: int = 20_000,
) -> int:
    """COPY features that are already valid and in EPSG:3857 into ``table``; returns the count.

    The door for data that is not an upload (the sample basemap, prepared in PostGIS): the
    same columns, overview rule and COPY as :func:`copy_features`. ``columns`` holds one
    sequence of values per field, in the order of ``fields``.
    """
    statement, types = _copy_statement(conn, table, fields)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(types)
        for start in range(0, len(geoms), chunk_size):
            end = min(start + chunk_size, len(geoms))
            values = [
                _column(np.asarray(column[start:end], dtype=object), f.type)
                for column, f in zip(columns, fields, strict=True)
            ]
            for row in _rows(geoms[start:end], values):
                copy.write_row(row)
    return len(geoms)


def copy_features(
    conn: psycopg.Connection[Any],
    table: str,
    source: Source,
    fields: list[FieldInfo],
    decision: CrsDecision,
    family: str,
    strays: np.ndarray[Any, Any],
    report: ValidationReport,
    progress: Callable[[str, int, int], None] | None,
    chunk_size: int = 20_000,
    deadline: Deadline | None = None,
) -> None:
    """COPY the usable features of ``source`` into ``table``, reporting into ``report``.

    With a ``deadline``, workers check it between features that are slow to prepare and the
    main thread between chunks; :class:`~layers.ingest.errors.BudgetExceeded` ends the COPY
    (the caller's transaction then rolls the table back).
    """
    statement, types = _copy_statement(conn, table, fields)
    total = len(source.geometries)
    chunk = _Chunk(source, fields, decision.crs, family, strays, deadline)
    # The queued writer sends buffers to the server from its own thread while this one formats.
    with conn.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        copy.set_types(types)
        for end, rows, part in _prepared(chunk, total, chunk_size):
            report.merge(part)
            if deadline is not None:
                deadline.check("storing")
            for row in rows:
                copy.write_row(row)
            if progress:
                progress("storing", end, total)
