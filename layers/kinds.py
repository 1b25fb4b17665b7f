"""What differs between vector and raster layers when their versions are managed.

A vector version is a table in the data schema, a raster version a Cloud Optimized GeoTIFF in the
raster folder; ``webmap.layer_versions.table_name`` names either. Code that deletes a layer or
rolls it back asks the layer's :class:`LayerKind` instead of comparing ``kind`` with a string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import psycopg

from layers.catalog import RASTER, VECTOR
from layers.errors import InvalidInput, LayerNotFound
from layers.raster.cog import stored_path
from layers.raster.publish import delete_raster_versions
from layers.schema import DATA_SCHEMA
from layers.versions import delete_layer, lock_layer

__all__ = ["RASTER", "VECTOR", "LayerKind", "RasterKind", "VectorKind", "kind_of_layer"]


class LayerKind(Protocol):
    """How one kind of layer stores its versions."""

    #: The value of ``webmap.layers.kind``.
    name: str

    def present(self, conn: psycopg.Connection[Any], stored: str) -> bool:
        """Whether a version's data (``table_name`` of its catalog row) is still there."""
        ...

    def delete(self, conn: psycopg.Connection[Any], layer: str) -> list[int]:
        """Delete the layer with every version and its data; returns the versions dropped.

        Leaves a tombstone, so a re-created layer never reuses a version number.
        """
        ...

    def describe(self, stored: str) -> str:
        """Where a version's data lives, for staff (a table or a file name)."""
        ...


class VectorKind:
    """Versions are tables ``layerdata.<name>_v<n>``."""

    name = VECTOR

    def present(self, conn: psycopg.Connection[Any], stored: str) -> bool:
        row = conn.execute("SELECT to_regclass(%s)", [f'{DATA_SCHEMA}."{stored}"']).fetchone()
        return row is not None and row[0] is not None

    def delete(self, conn: psycopg.Connection[Any], layer: str) -> list[int]:
        with conn.transaction():
            lock_layer(conn, layer)
            _check_kind(conn, layer, self.name)
            return delete_layer(conn, layer)

    def describe(self, stored: str) -> str:
        return f"table {DATA_SCHEMA}.{stored}"


class RasterKind:
    """Versions are COG files in ``storage_dir``; files go only after the catalog commits."""

    name = RASTER

    def __init__(self, storage_dir: Path) -> None:
        self.storage_dir = storage_dir

    def present(self, conn: psycopg.Connection[Any], stored: str) -> bool:
        return stored_path(self.storage_dir, stored).is_file()

    def delete(self, conn: psycopg.Connection[Any], layer: str) -> list[int]:
        return delete_raster_versions(conn, layer, self.storage_dir)[0]

    def describe(self, stored: str) -> str:
        return f"file {stored}"


def _check_kind(conn: psycopg.Connection[Any], layer: str, kind: str) -> None:
    row = conn.execute("SELECT kind FROM webmap.layers WHERE name = %s", [layer]).fetchone()
    if row is None:
        raise LayerNotFound(f"There is no layer named {layer!r}.")
    if row[0] != kind:
        raise InvalidInput(f"The layer {layer!r} is a {row[0]} layer, not a {kind} layer.")


def kind_of_layer(conn: psycopg.Connection[Any], layer: str) -> str:
    """The ``kind`` of an existing layer; raises :class:`LayerNotFound`."""
    row = conn.execute("SELECT kind FROM webmap.layers WHERE name = %s", [layer]).fetchone()
    if row is None:
        raise LayerNotFound(f"There is no layer named {layer!r}.")
    return str(row[0])
