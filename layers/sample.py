"""The sample basemap: Lantmäteriet's Sweden at 1:1 million, OSM's Östermalm, Stockholm, and
OSM's buildings of Möllevången, Malmö (so Malmö's addresses, when imported, are not on a blank map).

Each :class:`SampleLayer` (the recipes are in :mod:`layers.sample_layers`) names a file in
``data/``, how to pick and rename its features, and how the layer is described in the catalog.
:func:`load_sample` publishes them through the same version mechanism and feature writer as
staff uploads, so the sample is a realistic exercise of the real
path; a layer whose sources (and recipe) have not changed since its live version is skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import psycopg

from layers import sample_layers, staging
from layers.catalog import VECTOR
from layers.ingest import writer
from layers.sample_layers import SAMPLE_LAYERS, SampleLayer
from layers.sources import SourceFeature, read_features
from layers.staging import merge_parts, stage_features, staged, subdivide
from layers.store import (
    create_version_table,
    finish_version_table,
    geometry_type_of,
    prune_versions,
    publish_version,
    record_version,
    version_table,
)
from layers.versions import begin_version, lock_layer

#: Older versions kept after reloading the sample (rollback needs one; the sample needs no more).
KEEP_OLD_VERSIONS = 1
Progress = Callable[[str, int, int], None]


def _rows(
    features: Iterator[SourceFeature], layer: SampleLayer
) -> Iterator[tuple[bytes, list[Any]]]:
    for feature in features:
        values = layer.mapper(feature.attributes)
        if values is not None:
            yield feature.wkb, [values.get(f.name) for f in layer.fields]


@dataclass(frozen=True)
class SampleOutcome:
    """What loading one sample layer did: its live version, and whether it was published now."""

    name: str
    version: int
    features: int
    published: bool


#: What decides a sample layer's content besides its data files: the recipes, this loader, the
#: staging steps and the writer. A change to any publishes every sample layer again.
_RECIPE_FILES = (
    Path(__file__),
    Path(sample_layers.__file__),
    Path(staging.__file__),
    Path(writer.__file__),
)


def source_digest(layer: SampleLayer, data_dir: Path) -> str:
    """SHA-256 of what a sample layer is made from: its recipe and its source files.

    A shapefile's side files (same stem: .dbf, .shx, .prj, .cpg) count as part of it.
    """
    digest = hashlib.sha256()
    recipe = (
        layer.spec,
        layer.path,
        layer.srid,
        layer.fields,
        layer.source_layer,
        layer.encoding,
        layer.dissolve_by,
        layer.subdivide,
        layer.extra_sql,
        layer.extra_sources,
        getattr(layer.mapper, "__qualname__", ""),
    )
    digest.update(repr(recipe).encode())
    for recipe_file in _RECIPE_FILES:
        digest.update(recipe_file.read_bytes())
    parts: list[Path] = []
    for path in (layer.path, *(extra.path for extra in layer.extra_sources)):
        source = data_dir / path
        if source.suffix.lower() == ".shp":
            parts += sorted(p for p in source.parent.glob(f"{source.stem}.*") if p.is_file())
        else:
            parts.append(source)
    for part in parts:
        digest.update(part.name.encode())
        with part.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _live(conn: psycopg.Connection[Any], name: str) -> tuple[int, int, str | None] | None:
    """(version, feature count, source digest) of the layer's live version, if it exists."""
    row = conn.execute(
        """
        SELECT l.version, v.feature_count, v.report->>'source_sha256'
        FROM webmap.layers l
        JOIN webmap.layer_versions v ON v.layer_name = l.name AND v.version = l.version
        WHERE l.name = %s
        """,
        [name],
    ).fetchone()
    return (int(row[0]), int(row[1]), row[2]) if row else None


def publish_sample_layer(
    conn: psycopg.Connection[Any], layer: SampleLayer, data_dir: Path, force: bool = False
) -> SampleOutcome:
    """Load one sample layer as a new version and make it live, unless the live version was
    made from the same sources (``force`` publishes anyway).

    Under the layer's lock, with a version number from
    :func:`~layers.versions.allocate_version` (never one a deleted layer used), like every
    other publication; the features go through the uploads' writer.
    """
    name = layer.spec.name
    digest = source_digest(layer, data_dir)
    with conn.transaction():
        lock_layer(conn, name)
        live = _live(conn, name)
        if live is not None and live[2] == digest and not force:
            return SampleOutcome(name, live[0], live[1], published=False)
        version = begin_version(conn, layer.spec, VECTOR)
        table = version_table(name, version)
        create_version_table(conn, table, layer.fields)
        features = chain(
            read_features(data_dir / layer.path, layer.source_layer, layer.encoding),
            *(
                read_features(data_dir / extra.path, extra.source_layer, None)
                for extra in layer.extra_sources
            ),
        )
        temp = f"staging_{table}"
        stage_features(conn, temp, layer.srid, layer.fields, _rows(features, layer))
        if layer.dissolve_by:
            merge_parts(conn, temp, layer.fields)
        if layer.subdivide:
            subdivide(conn, temp, layer.fields, layer.subdivide)
        geoms, columns = staged(conn, temp, layer.fields)
        count = writer.write_features(conn, table, geoms, layer.fields, columns)
        finish_version_table(conn, table)
        report: dict[str, object] = {"source": layer.path, "source_sha256": digest}
        record_version(conn, name, version, table, layer.fields, report)
        publish_version(conn, layer.spec, version, geometry_type_of(conn, table))
        prune_versions(conn, name, keep=KEEP_OLD_VERSIONS)
    return SampleOutcome(name, version, count, published=True)


def load_sample(
    conn: psycopg.Connection[Any],
    data_dir: Path,
    progress: Progress | None = None,
    only: set[str] | None = None,
    force: bool = False,
) -> dict[str, SampleOutcome]:
    """Publish every sample layer (or those named in ``only``) whose sources changed since
    its live version was loaded (all with ``force``); returns what happened, by name."""
    chosen = [layer for layer in SAMPLE_LAYERS if only is None or layer.spec.name in only]
    outcomes: dict[str, SampleOutcome] = {}
    for index, layer in enumerate(chosen):
        if progress:
            progress(layer.spec.name, index, len(chosen))
        outcomes[layer.spec.name] = publish_sample_layer(conn, layer, data_dir, force)
    if progress:
        progress("", len(chosen), len(chosen))
    return outcomes
