"""The one ingest pipeline behind ``POST /api/layers`` and ``webmap layers import``.

read (pyogrio) → limits → geometry family → coordinate system (refuse implausible ones) → then,
inside ONE transaction under the layer's advisory lock: per chunk validate & repair (shapely),
transform to EPSG:3857 (pyproj, vectorised), pre-simplify the overview columns, COPY; index;
record the version with its report; swap the live pointer; prune old versions.

Everything that can refuse the upload happens before the transaction or inside it, so a refusal,
an error, a client that goes away or a killed process leaves the live version untouched and no
table behind (PostgreSQL rolls the DDL back with the rest).
"""

from __future__ import annotations

import math
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import psycopg
import pyogrio
import pyogrio.raw
import shapely
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types import TypeInfo
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import Transformer

from layers.catalog import FieldInfo
from layers.errors import DatabaseNotReady
from layers.ingest.crs_check import CrsDecision, decide_crs
from layers.ingest.errors import NoUsableFeatures, TooLarge, UnsupportedFormat
from layers.ingest.formats import SourceDataset, csv_srid, open_dataset
from layers.ingest.limits import IngestLimits
from layers.ingest.validate import ValidationReport, check_limits, choose_family, validate
from layers.models import DATA_SCHEMA
from layers.store import (
    OVERVIEW_ZOOMS,
    STORAGE_SRID,
    LayerSpec,
    check_layer_name,
    create_version_table,
    prune_versions,
    publish_version,
    record_version,
    simplify_tolerance,
    version_table,
)
from layers.versions import allocate_version, lock_layer

#: ``progress(stage, done, total)``: stages are reading, storing, indexing, done.
Progress = Callable[[str, int, int], None]
_RESERVED_COLUMNS = {"fid", "geom", *(f"geom_z{z}" for z in OVERVIEW_ZOOMS)}
_GEOMETRY_TYPES = {"point": "Point", "line": "LineString", "polygon": "Polygon"}
# Web Mercator is undefined at the poles: pyproj answers inf there.
_MERCATOR_LIMIT = 20037508.342789244 * 1.0001


@dataclass(frozen=True)
class IngestOptions:
    """How to read an upload, beyond the layer's own description (:class:`LayerSpec`)."""

    srid: int | None = None
    source_layer: str | None = None
    encoding: str | None = None
    geometry_type: str | None = None
    keep_versions: int = 5
    limits: IngestLimits = field(default_factory=IngestLimits)
    chunk_size: int = 20_000


@dataclass(frozen=True)
class PublishResult:
    """The version that went live and its report."""

    name: str
    version: int
    report: dict[str, Any]


@dataclass(frozen=True)
class _Source:
    dataset: SourceDataset
    geometries: np.ndarray[Any, Any]
    field_names: list[str]
    field_types: list[str]
    columns: list[np.ndarray[Any, Any]]
    declared_crs: str | None
    #: Features whose geometry GDAL returned but GEOS cannot parse (rings of 2 points, …).
    unreadable: np.ndarray[Any, Any]


def _field_type(dtype: object) -> str:
    text = str(dtype)
    if text.startswith(("int", "uint")):
        return "integer"
    if text.startswith("float"):
        return "number"
    if text == "bool":
        return "boolean"
    return "text"


def column_names(names: Sequence[str]) -> list[str]:
    """Source field names as safe, unique column names (quoted in SQL, so case is kept)."""
    out: list[str] = []
    for raw in names:
        name = "".join(ch for ch in raw if ch.isprintable()).strip() or "field"
        name = name.encode()[:60].decode(errors="ignore")
        if name.lower() in _RESERVED_COLUMNS:
            name = f"{name}_src"
        candidate, n = name, 1
        while candidate in out:
            n += 1
            candidate = f"{name}_{n}"
        out.append(candidate)
    return out


def _parse(wkb: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """WKB to shapely geometries (None where unreadable), in two halves on two threads."""
    if len(wkb) < 50_000:
        return np.asarray(shapely.from_wkb(wkb, on_invalid="ignore"))
    half = len(wkb) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(
            pool.map(
                lambda part: shapely.from_wkb(part, on_invalid="ignore"), (wkb[:half], wkb[half:])
            )
        )
    return np.concatenate(parts)


def _read(dataset: SourceDataset, options: IngestOptions) -> _Source:
    limits = options.limits
    kwargs: dict[str, Any] = dict(dataset.open_options)
    encoding = options.encoding or dataset.encoding
    try:
        info = pyogrio.read_info(dataset.path, layer=dataset.layer, encoding=encoding, **kwargs)
        if int(info.get("features") or 0) > limits.max_features:
            raise TooLarge(
                f"The layer has {int(info['features']):,} features; "
                f"at most {limits.max_features:,} are accepted."
            )
        meta, _fids, wkb, columns = pyogrio.raw.read(
            dataset.path, layer=dataset.layer, encoding=encoding, **kwargs
        )
    except (DataSourceError, DataLayerError, UnicodeDecodeError, ValueError) as exc:
        raise UnsupportedFormat(f"The file cannot be read as {dataset.format}: {exc}") from exc
    if wkb is None or meta.get("geometry_type") is None:
        if dataset.driver == "CSV":
            raise UnsupportedFormat(
                "The CSV file has no coordinate columns: name them x and y, lon and lat, "
                "Øst and Nord (or give a WKT column)."
            )
        raise UnsupportedFormat("The layer has no geometries.")
    if len(wkb) > limits.max_features:
        raise TooLarge(f"The layer has more than {limits.max_features:,} features.")
    raw_names = [str(n) for n in meta["fields"]]
    geometries = _parse(wkb)
    return _Source(
        dataset=dataset,
        geometries=geometries,
        unreadable=shapely.is_missing(geometries) & np.array([w is not None for w in wkb]),
        field_names=raw_names,
        field_types=[_field_type(d) for d in meta["dtypes"]],
        columns=list(columns),
        declared_crs=meta.get("crs"),
    )


def _decide(source: _Source, options: IngestOptions) -> CrsDecision:
    geoms = source.geometries
    present = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if not len(present):
        raise NoUsableFeatures("The layer has no features with a geometry.")
    bounds = shapely.total_bounds(present)
    if not np.isfinite(bounds).all():
        raise NoUsableFeatures("The coordinates of the layer are not finite numbers.")
    return decide_crs(
        (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3])),
        given_srid=options.srid,
        declared=source.declared_crs,
        implied_wgs84=source.dataset.implied_wgs84,
        column_srid=csv_srid(source.dataset, source.field_names, source.columns),
    )


def _value(value: object, kind: str) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "text":
        text = str(value)
        return text.replace("\x00", "") if "\x00" in text else text
    return value


def _simplified(geoms: np.ndarray[Any, Any], tolerance: float) -> np.ndarray[Any, Any]:
    """Douglas–Peucker (fast), redone topology-preserving where that broke a geometry.

    The result is as valid as ``ST_SimplifyPreserveTopology`` would give, at a fraction of the
    cost, because only the few geometries DP damages pay for the careful algorithm.
    """
    fast: np.ndarray[Any, Any] = shapely.simplify(geoms, tolerance, preserve_topology=False)
    broken = shapely.is_empty(fast) | ~shapely.is_valid(fast)
    if broken.any():
        fast[broken] = shapely.simplify(geoms[broken], tolerance, preserve_topology=True)
    return fast


#: Features with at most this many vertices go into overviews unsimplified: simplifying a
#: building outline saves nothing measurable in a tile and costs most of the ingest time.
SIMPLIFY_ABOVE_VERTICES = 32


def _overview(
    geoms: np.ndarray[Any, Any],
    full: np.ndarray[Any, Any],
    vertices: np.ndarray[Any, Any],
    extent: np.ndarray[Any, Any],
    zoom: int,
) -> list[bytes | None]:
    """The overview column at ``zoom``: simplified to half a pixel; NULL when smaller than that.

    A feature whose extent is under half a pixel is invisible at that zoom; leaving it out of
    the overview keeps low-zoom tiles free of thousands of specks (and saves the simplifying).
    ``full`` holds the features' own WKB, reused for those with few vertices.
    """
    tolerance = simplify_tolerance(zoom)
    visible = extent >= tolerance
    detailed = visible & (vertices > SIMPLIFY_ABOVE_VERTICES)
    out = np.full(len(geoms), None, dtype=object)
    out[visible] = full[visible]
    if detailed.any():
        out[detailed] = shapely.to_wkb(_simplified(geoms[detailed], tolerance))
    return list(out.tolist())


def _column(values: np.ndarray[Any, Any], kind: str) -> list[object]:
    """One attribute column as COPY values: NaN becomes NULL, text is text without NUL bytes."""
    if values.dtype.kind == "f":
        out = values.astype(object)
        out[np.isnan(values)] = None
        return list(out.tolist())
    plain = values.tolist()
    if kind != "text":
        return list(plain)
    return [
        v if v is None or (type(v) is str and "\x00" not in v) else _value(v, kind) for v in plain
    ]


def _rows(
    geoms: np.ndarray[Any, Any], values: list[list[object]], family: str
) -> list[tuple[object, ...]]:
    """COPY rows: geometry and overview columns as WKB, then the attribute columns."""
    # Plain WKB without an SRID: PostGIS gives it the column's SRID (3857) from the typmod.
    full = shapely.to_wkb(geoms)
    columns = [list(full.tolist())]
    box = shapely.bounds(geoms)
    extent = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
    vertices = shapely.get_num_coordinates(geoms)
    for zoom in OVERVIEW_ZOOMS:
        # Tiles below z13 read the overview column; a point needs no simplifying.
        if family == "point":
            columns.append(columns[0])
        else:
            columns.append(_overview(geoms, full, vertices, extent, zoom))
    return list(zip(*columns, *values, strict=True))


_Prepared = tuple[int, list[tuple[object, ...]], ValidationReport]


@dataclass(frozen=True)
class _Chunk:
    source: _Source
    fields: list[FieldInfo]
    transformer: Transformer
    family: str

    def prepare(self, start: int, end: int) -> _Prepared:
        """Validate, transform and serialise features ``start`` … ``end`` (a worker's job).

        Each chunk reports into its own :class:`ValidationReport`; the caller merges them in
        order, so workers share no mutable state.
        """
        source, report = self.source, ValidationReport()
        geoms, keep = validate(
            source.geometries[start:end], start, self.family, report, source.unreadable[start:end]
        )
        projected = shapely.transform(geoms[keep], self.transformer.transform, interleaved=False)
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
        return end, _rows(projected[inside], values, self.family), report


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


def _copy_features(
    conn: psycopg.Connection[Any],
    table: str,
    source: _Source,
    fields: list[FieldInfo],
    decision: CrsDecision,
    family: str,
    options: IngestOptions,
    report: ValidationReport,
    progress: Progress | None,
) -> None:
    transformer = Transformer.from_crs(decision.crs, STORAGE_SRID, always_xy=True)
    names = ["geom", *(f"geom_z{z}" for z in OVERVIEW_ZOOMS), *(f.name for f in fields)]
    # Binary COPY: WKB goes to PostGIS as is, no hex to write on this side or parse on that one.
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(DATA_SCHEMA, table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    geometry_oid = _register_wkb_dumper(conn)
    types: list[int | str] = [geometry_oid] * (1 + len(OVERVIEW_ZOOMS))
    types += [_COPY_TYPES[f.type] for f in fields]
    total = len(source.geometries)
    chunk = _Chunk(source, fields, transformer, family)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(types)
        for end, rows, part in _prepared(chunk, total, options.chunk_size):
            report.merge(part)
            for row in rows:
                copy.write_row(row)
            if progress:
                progress("storing", end, total)


def _finish(conn: psycopg.Connection[Any], table: str) -> None:
    ident = sql.Identifier(DATA_SCHEMA, table)
    conn.execute(
        sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(
            sql.Identifier(f"{table}_geom_idx"), ident
        )
    )
    conn.execute(sql.SQL("ANALYZE {}").format(ident))


def publish_vector(
    conn: psycopg.Connection[Any],
    spec: LayerSpec,
    path: Path,
    original_name: str,
    options: IngestOptions,
    progress: Progress | None = None,
    workdir: Path | None = None,
) -> PublishResult:
    """Publish ``path`` (uploaded as ``original_name``) as the new live version of ``spec.name``."""
    check_layer_name(spec.name)
    with tempfile.TemporaryDirectory(prefix="webmap-ingest-", dir=workdir) as scratch:
        if progress:
            progress("reading", 0, 1)
        dataset = open_dataset(
            path, original_name, Path(scratch), options.limits, options.source_layer
        )
        source = _read(dataset, options)
        check_limits(source.geometries, options.limits)
        family = choose_family(source.geometries, options.geometry_type)
        decision = _decide(source, options)
        fields = [
            FieldInfo(name, kind)
            for name, kind in zip(column_names(source.field_names), source.field_types, strict=True)
        ]
        report = ValidationReport(features_read=len(source.geometries))
        with conn.transaction():
            # An upload is long by nature (and may wait its turn behind another one): the
            # service's per-statement timeout for tiles and lookups does not apply here.
            conn.execute("SELECT set_config('statement_timeout', '0', true)")
            lock_layer(conn, spec.name)
            version = allocate_version(conn, spec.name)
            table = version_table(spec.name, version)
            create_version_table(conn, table, fields)
            _copy_features(conn, table, source, fields, decision, family, options, report, progress)
            full = _report(dataset, decision, family, fields, report, original_name)
            if report.stored == 0:
                raise NoUsableFeatures(
                    "No feature could be stored; see the report for why each was rejected.",
                    report=full,
                )
            if progress:
                progress("indexing", 0, 1)
            _finish(conn, table)
            record_version(conn, spec.name, version, table, fields, full)
            publish_version(conn, spec, version, _GEOMETRY_TYPES[family])
            prune_versions(conn, spec.name, keep=options.keep_versions)
    if progress:
        progress("done", 1, 1)
    return PublishResult(spec.name, version, full)


def _report(
    dataset: SourceDataset,
    decision: CrsDecision,
    family: str,
    fields: list[FieldInfo],
    validation: ValidationReport,
    original_name: str,
) -> dict[str, Any]:
    return {
        "source": {
            "file": Path(original_name).name,
            "format": dataset.format,
            "layer": dataset.layer,
            "encoding": dataset.encoding,
        },
        "crs": {
            "srid": decision.srid,
            "name": decision.label,
            "from": decision.source,
        },
        "geometry_type": _GEOMETRY_TYPES[family],
        "fields": [{"name": f.name, "type": f.type} for f in fields],
        "warnings": list(decision.warnings),
        **validation.as_dict(),
    }
