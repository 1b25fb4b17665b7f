"""The one ingest pipeline behind ``POST /api/layers`` and ``webmap layers import``.

read (pyogrio) → limits → geometry family → coordinate system (refuse implausible ones) → then,
inside ONE transaction under the layer's advisory lock: per chunk validate & repair (shapely),
transform to EPSG:3857 (pyproj, vectorised), pre-simplify the overview columns, COPY; index;
record the version with its report; swap the live pointer; prune old versions.

Everything that can refuse the upload happens before the transaction or inside it, so a refusal,
an error, a client that goes away or a killed process leaves the live version untouched and no
table behind (PostgreSQL rolls the DDL back with the rest).

Budgets (docs/layers.md, "Budgets"): vertex limits are checked on the parsed file before any
work; a wall-clock deadline (``WEBMAP_INGEST_MAX_SECONDS``) is checked between steps, chunks and
slow features; the transaction runs under ``SET LOCAL statement_timeout`` (the lower of
``WEBMAP_INGEST_STATEMENT_TIMEOUT_MS`` and the time left, never 0). A full disk answers
:class:`~layers.ingest.errors.StorageFull`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg import sql

from layers.catalog import VECTOR, FieldInfo
from layers.ingest.budget import Deadline
from layers.ingest.crs_check import CrsDecision, decide_crs
from layers.ingest.errors import (
    BudgetExceeded,
    ImplausibleCrs,
    NoUsableFeatures,
    storage_errors,
    storage_full,
)
from layers.ingest.formats import SourceDataset, csv_srid, open_dataset
from layers.ingest.limits import IngestLimits, setting_name
from layers.ingest.reading import Source, column_names, read_source
from layers.ingest.validate import ValidationReport, check_limits, choose_family
from layers.ingest.writer import copy_features
from layers.store import (
    LayerSpec,
    check_layer_name,
    create_version_table,
    finish_version_table,
    prune_versions,
    publish_version,
    record_version,
    version_table,
)
from layers.versions import begin_version

#: ``progress(stage, done, total)``: stages are reading, storing, indexing, done.
Progress = Callable[[str, int, int], None]
_GEOMETRY_TYPES = {"point": "Point", "line": "LineString", "polygon": "Polygon"}


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


Bounds = tuple[float, float, float, float]
#: At most this share of features may be left out as strays for the rest to be published.
_STRAY_SHARE = 0.01


def _decide(source: Source, options: IngestOptions) -> tuple[CrsDecision, np.ndarray[Any, Any]]:
    """The layer's CRS, and a mask of stray features to leave out (all False normally).

    A file whose bounds do not fit any CRS because of a few strays (a point at 0,0 — "null
    island" — is a classic) is published without them when the other 99 % fit: they are
    rejected one by one in the report instead of refusing the whole upload.
    """
    geoms = source.geometries
    box = shapely.bounds(geoms)  # NaN rows for missing geometries
    # Features with NaN or infinite coordinates are rejected one by one later; they must not
    # decide the layer's coordinate system.
    usable = np.isfinite(box).all(axis=1) & ~shapely.is_empty(geoms)
    if not usable.any():
        raise NoUsableFeatures("The layer has no features with usable coordinates.")
    good = box[usable]
    everything = (good[:, 0].min(), good[:, 1].min(), good[:, 2].max(), good[:, 3].max())
    strays = np.zeros(len(geoms), dtype=bool)
    try:
        return _crs_for(source, options, everything), strays
    except ImplausibleCrs:
        core, strays = _core(box, usable)
        if len(good) < 20 or not strays.any() or strays.sum() > _STRAY_SHARE * len(good):
            raise
        try:
            decision = _crs_for(source, options, core)
        except ImplausibleCrs:
            pass
        else:
            note = f"{int(strays.sum())} features far from the rest were left out (stray points)."
            return replace(decision, warnings=(*decision.warnings, note)), strays
        raise


def _crs_for(source: Source, options: IngestOptions, bounds: Bounds) -> CrsDecision:
    return decide_crs(
        tuple(float(v) for v in bounds),  # type: ignore[arg-type]
        given_srid=options.srid,
        declared=source.declared_crs,
        implied_wgs84=source.dataset.implied_wgs84,
        column_srid=csv_srid(source.dataset, source.field_names, source.columns),
    )


def _core(box: np.ndarray[Any, Any], usable: np.ndarray[Any, Any]) -> tuple[Bounds, Any]:
    """Bounds of the middle 98 % of feature centres, and the features far outside them."""
    cx = (box[:, 0] + box[:, 2]) / 2
    cy = (box[:, 1] + box[:, 3]) / 2
    x1, x2 = np.quantile(cx[usable], [0.01, 0.99])
    y1, y2 = np.quantile(cy[usable], [0.01, 0.99])
    margin = max(x2 - x1, y2 - y1, 1e-9 * max(abs(x1), abs(y1), 1.0))
    far = usable & (
        (cx < x1 - margin) | (cx > x2 + margin) | (cy < y1 - margin) | (cy > y2 + margin)
    )
    core = box[usable & ~far]
    return (core[:, 0].min(), core[:, 1].min(), core[:, 2].max(), core[:, 3].max()), far


@dataclass(frozen=True)
class _Checked:
    """An upload read and checked, ready for the transaction."""

    source: Source
    decision: CrsDecision
    family: str
    strays: np.ndarray[Any, Any]
    original_name: str


def publish_vector(
    conn: psycopg.Connection[Any],
    spec: LayerSpec,
    path: Path,
    original_name: str,
    options: IngestOptions,
    progress: Progress | None = None,
    workdir: Path | None = None,
) -> PublishResult:
    """Publish ``path`` (uploaded as ``original_name``) as the new live version of ``spec.name``.

    Raises :class:`~layers.ingest.errors.UploadRefused` subclasses for data that cannot or may
    not be published (:class:`~layers.ingest.errors.BudgetExceeded` when over the time budget),
    and :class:`~layers.ingest.errors.StorageFull` when the disk fills up.
    """
    check_layer_name(spec.name)
    limits = options.limits
    deadline = Deadline(limits.ingest_max_seconds)
    with (
        storage_errors("unpacking the upload"),
        tempfile.TemporaryDirectory(prefix="webmap-ingest-", dir=workdir) as scratch,
    ):
        if progress:
            progress("reading", 0, 1)
        dataset = open_dataset(path, original_name, Path(scratch), limits, options.source_layer)
        deadline.check("unpacking")
        source = read_source(dataset, limits, options.encoding)
        deadline.check("reading")
        check_limits(source.geometries, limits)
        family = choose_family(source.geometries, options.geometry_type)
        decision, strays = _decide(source, options)
        deadline.check("checking the coordinate system")
        checked = _Checked(source, decision, family, strays, original_name)
        result = _store(conn, spec, checked, options, deadline, progress)
    if progress:
        progress("done", 1, 1)
    return result


def _store(
    conn: psycopg.Connection[Any],
    spec: LayerSpec,
    checked: _Checked,
    options: IngestOptions,
    deadline: Deadline,
    progress: Progress | None,
) -> PublishResult:
    """The one transaction, under the ingest's statement timeout, with its errors named."""
    cap = options.limits.ingest_statement_timeout_ms
    timeout_ms = deadline.statement_timeout_ms(cap)
    try:
        with conn.transaction():
            # Uploads are long by nature, so the service's short timeout for tiles and lookups
            # does not fit them; but never no timeout at all (0): a statement that outlives the
            # ingest's budget is cancelled by PostgreSQL itself, even while Python waits.
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(timeout_ms))
            return _publish(conn, spec, checked, options, deadline, progress)
    except psycopg.errors.QueryCanceled as exc:
        # (Waiting for the layer's lock ends as LayerBusy in lock_layer, not here.)
        if timeout_ms < cap:
            raise deadline.exceeded("storing in the database") from exc
        raise BudgetExceeded(
            f"A database step of the upload took longer than {cap:,} ms; nothing was published.",
            limit=setting_name("ingest_statement_timeout_ms"),
            value=cap,
            hint="Split the data into smaller files (by area or by feature type), or ask the "
            "operator to raise the limit.",
        ) from exc
    except psycopg.errors.DiskFull as exc:
        raise storage_full("storing in the database") from exc


def _publish(
    conn: psycopg.Connection[Any],
    spec: LayerSpec,
    checked: _Checked,
    options: IngestOptions,
    deadline: Deadline,
    progress: Progress | None,
) -> PublishResult:
    """Inside the transaction: from the layer's lock to the pointer swap."""
    source, family = checked.source, checked.family
    fields = [
        FieldInfo(name, kind)
        for name, kind in zip(column_names(source.field_names), source.field_types, strict=True)
    ]
    report = ValidationReport(features_read=len(source.geometries))
    version = begin_version(conn, spec, VECTOR)
    table = version_table(spec.name, version)
    create_version_table(conn, table, fields)
    copy_features(
        conn,
        table,
        source,
        fields,
        checked.decision,
        family,
        checked.strays,
        report,
        progress,
        options.chunk_size,
        deadline,
    )
    full = _report(source.dataset, checked.decision, family, fields, report, checked.original_name)
    if report.stored == 0:
        raise NoUsableFeatures(
            "No feature could be stored; see the report for why each was rejected.",
            report=full,
        )
    deadline.check("storing")
    if progress:
        progress("indexing", 0, 1)
    finish_version_table(conn, table)
    deadline.check("indexing")
    record_version(conn, spec.name, version, table, fields, full)
    publish_version(conn, spec, version, _GEOMETRY_TYPES[family])
    prune_versions(conn, spec.name, keep=options.keep_versions)
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
