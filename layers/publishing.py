"""One way to change a layer: publish, replace, update metadata, set visibility, roll back, delete.

The HTTP API, the admin pages, the CLI and the sample loader all call :class:`Publishing`, so
every change of a layer

- runs in one transaction under the layer's advisory lock (:func:`~layers.versions.lock_layer`):
  a metadata change waits for an upload of the same layer instead of being overwritten by it;
- gets its version number from :func:`~layers.versions.allocate_version`, never one a deleted
  layer of the same name used (tile URLs carry the version and are cached as immutable);
- reads what it keeps (unsent metadata) under that lock, not before it;
- asks the layer's :class:`~layers.kinds.LayerKind` what differs between vector and raster.

After every change that may alter what is live, the facade calls its ``on_change`` hook (the
app sets it to queue pre-rendering of low-zoom tiles, :func:`tiles.prerender.enqueue`); the hook
runs after the change is made and its failure never undoes or fails the change.

Making a public layer private gives its live version a new number (same data, no copy), so
the tile URLs that shared caches hold as ``public, immutable`` are not the live ones any more.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TextIO

import psycopg
from psycopg import sql

from layers.errors import InvalidInput, LayerError, LayerNotFound
from layers.ingest import RASTER_SUFFIXES, IngestLimits, IngestOptions, publish_vector
from layers.ingest.budget import Deadline
from layers.kinds import RASTER, VECTOR, LayerKind, RasterKind, VectorKind, kind_of_layer
from layers.raster.inspect import RasterLimits
from layers.raster.publish import publish_raster
from layers.sample import SampleOutcome, load_sample
from layers.store import LayerSpec, check_layer_name
from layers.versions import allocate_version, lock_layer

log = logging.getLogger(__name__)

#: ``progress(stage, done, total)`` of a vector upload: reading, storing, indexing, done.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class LayerChanges:
    """Metadata a staff member changes; ``None`` keeps the current value."""

    title: str | None = None
    description: str | None = None
    attribution: str | None = None
    public: bool | None = None

    def given(self) -> dict[str, object]:
        """The fields that are set, by name."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class SourceFile:
    """An uploaded or local file to publish, and what its publisher said about reading it.

    ``original_name`` is the name it was uploaded as: its suffix picks raster or vector, and
    GDAL reads an SRTM tile's position from it.
    """

    path: Path
    original_name: str
    srid: int | None = None
    source_layer: str | None = None
    encoding: str | None = None
    geometry_type: str | None = None
    #: ``raster`` or ``vector`` (the command line says which it publishes); ``None``: the suffix.
    kind: str | None = None

    @property
    def is_raster(self) -> bool:
        if self.kind is not None:
            return self.kind == RASTER
        return Path(self.original_name).suffix.lower() in RASTER_SUFFIXES


@dataclass(frozen=True)
class Published:
    """The version that went live and its report."""

    name: str
    version: int
    report: dict[str, Any]


@dataclass(frozen=True)
class Publishing:
    """The publishing facade, configured once (from the settings) and passed to callers."""

    raster_dir: Path
    keep_versions: int = 5
    limits: IngestLimits = field(default_factory=IngestLimits)
    raster_limits: RasterLimits = field(default_factory=RasterLimits)
    #: Where uploads are unpacked (``None``: the system's temporary folder).
    workdir: Path | None = None
    #: Called with the connection after each change (publish, metadata, rollback, delete, sample).
    on_change: Callable[[psycopg.Connection[Any]], object] | None = None

    def _changed(self, conn: psycopg.Connection[Any]) -> None:
        """Run the ``on_change`` hook; its failure is logged, never the change's failure."""
        if self.on_change is None:
            return
        try:
            self.on_change(conn)
        except (psycopg.Error, LayerError) as exc:
            log.warning("after a layer change, the on_change hook failed: %s", exc)

    # -- kinds --------------------------------------------------------------------------------

    def kind(self, name: str) -> LayerKind:
        """The :class:`LayerKind` called ``name`` (``vector`` or ``raster``)."""
        if name == RASTER:
            return RasterKind(self.raster_dir)
        if name == VECTOR:
            return VectorKind()
        raise InvalidInput(f"Unknown layer kind {name!r}.")

    def kind_of(self, conn: psycopg.Connection[Any], layer: str) -> LayerKind:
        """The kind of an existing layer; raises :class:`LayerNotFound`."""
        return self.kind(kind_of_layer(conn, layer))

    # -- new data -------------------------------------------------------------------------------

    def publish(
        self,
        conn: psycopg.Connection[Any],
        spec: LayerSpec,
        source: SourceFile,
        progress: Progress | None = None,
        terminal: TextIO | None = None,
        *,
        exists_ok: bool = False,
    ) -> Published:
        """Publish a new layer; :class:`~layers.ingest.errors.LayerExists` when the name is
        taken (checked under the lock, so two creators of one name cannot both succeed).

        With ``exists_ok`` an existing layer gets a new version and all of ``spec``'s metadata
        (the command line's ``rasters import``, which states every field).
        """
        spec = replace(spec, new=not exists_ok, changed=None)
        published = self._publish(spec, source, conn, progress, terminal)
        self._changed(conn)
        return published

    def replace(
        self,
        conn: psycopg.Connection[Any],
        name: str,
        source: SourceFile,
        changes: LayerChanges = LayerChanges(),
        progress: Progress | None = None,
        terminal: TextIO | None = None,
    ) -> Published:
        """Publish a new version of an existing layer; metadata not in ``changes`` keeps the
        value it has when the version goes live. Raises :class:`LayerNotFound`."""
        given = changes.given()
        if given.get("title") == "":
            raise InvalidInput("The title cannot be empty.")
        spec = LayerSpec(
            name=check_layer_name(name),
            title=str(given.get("title", "")),
            description=str(given.get("description", "")),
            attribution=str(given.get("attribution", "")),
            public=bool(given.get("public", True)),
            changed=frozenset(given),
        )
        published = self._publish(spec, source, conn, progress, terminal)
        self._changed(conn)
        return published

    def _publish(
        self,
        spec: LayerSpec,
        source: SourceFile,
        conn: psycopg.Connection[Any],
        progress: Progress | None,
        terminal: TextIO | None,
    ) -> Published:
        check_layer_name(spec.name)
        if not spec.title.strip() and spec.changed is None:
            raise InvalidInput("Give the layer a title.")
        if source.is_raster:
            report = publish_raster(
                conn,
                spec,
                source.path,
                self.raster_dir,
                source.srid,
                limits=self.raster_limits,
                keep_versions=self.keep_versions,
                progress=terminal,
                deadline=Deadline(self.limits.ingest_max_seconds),
            )
            return Published(spec.name, int(report["version"]), report)
        options = IngestOptions(
            srid=source.srid,
            source_layer=source.source_layer,
            encoding=source.encoding,
            geometry_type=source.geometry_type,
            keep_versions=self.keep_versions,
            limits=self.limits,
        )
        result = publish_vector(
            conn, spec, source.path, source.original_name, options, progress, self.workdir
        )
        return Published(result.name, result.version, result.report)

    # -- metadata -------------------------------------------------------------------------------

    def update_metadata(
        self, conn: psycopg.Connection[Any], name: str, changes: LayerChanges
    ) -> int:
        """Change title, description, attribution or visibility without new data; returns the
        live version (new when a public layer became private). Under the layer's lock, so it
        waits for an upload of the layer instead of being lost to it."""
        check_layer_name(name)
        given = changes.given()
        if "title" in given and not str(given["title"]).strip():
            raise InvalidInput("The title cannot be empty.")
        with conn.transaction():
            lock_layer(conn, name)
            row = conn.execute(
                "SELECT version, public FROM webmap.layers WHERE name = %s FOR UPDATE", [name]
            ).fetchone()
            if row is None:
                raise LayerNotFound(f"There is no layer named {name!r}.")
            version = int(row[0])
            if bool(row[1]) and given.get("public") is False:
                version = self._renumber_live(conn, name, version)
            columns = sorted(given)
            assignments = [sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns]
            conn.execute(
                sql.SQL(
                    "UPDATE webmap.layers SET version = %s, updated_at = now(){} WHERE name = %s"
                ).format(sql.SQL("").join(sql.SQL(", ") + a for a in assignments)),
                [version, *(given[c] for c in columns), name],
            )
        self._changed(conn)
        return version

    def set_visibility(self, conn: psycopg.Connection[Any], name: str, public: bool) -> int:
        """Publish (anyone may read the layer) or unpublish (staff only) without new data;
        returns the live version (see :meth:`update_metadata`)."""
        return self.update_metadata(conn, name, LayerChanges(public=public))

    @staticmethod
    def _renumber_live(conn: psycopg.Connection[Any], name: str, live: int) -> int:
        """Give the live version the next free number: same table or file, new tile URLs.

        Shared caches (nginx, CDNs) hold the public version's tiles as immutable; after this,
        nothing published points at those URLs any more, and an old ``?v=`` is redirected to
        the live version, whose tiles are answered ``private, no-store``.
        """
        version = allocate_version(conn, name)
        conn.execute(
            """
            UPDATE webmap.layer_versions SET version = %s,
                report = CASE WHEN report ? 'version'
                              THEN jsonb_set(report, '{version}', %s::jsonb) ELSE report END
            WHERE layer_name = %s AND version = %s
            """,
            [version, json.dumps(version), name, live],
        )
        return version

    # -- versions -------------------------------------------------------------------------------

    def rollback(self, conn: psycopg.Connection[Any], name: str, to: int | None = None) -> int:
        """Make an older stored version live again (the newest older one by default)."""
        check_layer_name(name)
        with conn.transaction():
            lock_layer(conn, name)
            row = conn.execute(
                "SELECT version, kind FROM webmap.layers WHERE name = %s FOR UPDATE", [name]
            ).fetchone()
            if row is None:
                raise LayerNotFound(f"There is no layer named {name!r}.")
            live, kind = int(row[0]), self.kind(str(row[1]))
            if to is None:
                found = conn.execute(
                    "SELECT max(version) FROM webmap.layer_versions "
                    "WHERE layer_name = %s AND version < %s",
                    [name, live],
                ).fetchone()
                if found is None or found[0] is None:
                    raise InvalidInput(f"The layer {name!r} has no older version to roll back to.")
                to = int(found[0])
            stored = conn.execute(
                "SELECT table_name FROM webmap.layer_versions "
                "WHERE layer_name = %s AND version = %s",
                [name, to],
            ).fetchone()
            if stored is None:
                raise LayerNotFound(f"The layer {name!r} has no stored version {to}.")
            if not kind.present(conn, str(stored[0])):
                raise LayerNotFound(
                    f"The data of version {to} of {name!r} is gone "
                    f"({kind.describe(str(stored[0]))})."
                )
            conn.execute(
                """
                UPDATE webmap.layers SET version = %s, updated_at = now(),
                    geometry_type = coalesce(
                        (SELECT report->>'geometry_type' FROM webmap.layer_versions
                         WHERE layer_name = %s AND version = %s), geometry_type)
                WHERE name = %s
                """,
                [to, name, to, name],
            )
        self._changed(conn)
        return to

    def delete(self, conn: psycopg.Connection[Any], name: str) -> list[int]:
        """Delete a layer with every stored version and its data (tables or files); returns
        the versions dropped. A tombstone keeps their numbers from being used again."""
        check_layer_name(name)
        dropped = self.kind_of(conn, name).delete(conn, name)
        self._changed(conn)
        return dropped

    # -- the sample basemap ---------------------------------------------------------------------

    def load_sample(
        self,
        conn: psycopg.Connection[Any],
        data_dir: Path,
        progress: Callable[[str, int, int], None] | None = None,
        only: set[str] | None = None,
        force: bool = False,
    ) -> dict[str, SampleOutcome]:
        """Publish the sample layers whose sources changed (all with ``force``)."""
        outcome = load_sample(conn, data_dir, progress, only, force)
        self._changed(conn)
        return outcome
