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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyogrio
import pyogrio.raw
import shapely
from psycopg import sql
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import Transformer

from layers.catalog import FieldInfo
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
    return _Source(
        dataset=dataset,
        geometries=shapely.from_wkb(wkb, on_invalid="ignore"),
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


def _hex(geoms: np.ndarray[Any, Any]) -> list[str | None]:
    with_srid = shapely.set_srid(geoms, STORAGE_SRID)
    return list(shapely.to_wkb(with_srid, hex=True, include_srid=True))


def _store_chunk(
    copy: psycopg.Copy,
    geoms: np.ndarray[Any, Any],
    rows: list[list[object]],
    family: str,
) -> None:
    columns = [_hex(geoms)]
    for zoom in OVERVIEW_ZOOMS:
        if family == "point":
            # Tiles below z13 read the overview column; a point needs no simplifying.
            columns.append(columns[0])
        else:
            simple = shapely.simplify(geoms, simplify_tolerance(zoom), preserve_topology=True)
            columns.append(_hex(simple))
    for i, values in enumerate(rows):
        copy.write_row([c[i] for c in columns] + values)


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
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(DATA_SCHEMA, table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    total = len(source.geometries)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for start in range(0, total, options.chunk_size):
            end = min(start + options.chunk_size, total)
            geoms, keep = validate(source.geometries[start:end], start, family, report)
            projected = shapely.transform(geoms[keep], transformer.transform, interleaved=False)
            xy = shapely.bounds(projected)
            inside = np.isfinite(xy).all(axis=1) & (np.abs(xy) <= _MERCATOR_LIMIT).all(axis=1)
            kept_index = np.flatnonzero(keep)
            for i in kept_index[~inside]:
                report.reject(start + int(i), "outside the Web Mercator range (beyond ±85°)")
            chosen = kept_index[inside]
            lists = [c[start:end].tolist() for c in source.columns]
            rows = [[_value(lists[j][i], f.type) for j, f in enumerate(fields)] for i in chosen]
            _store_chunk(copy, projected[inside], rows, family)
            report.stored += len(chosen)
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
