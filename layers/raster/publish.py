"""Publishing a raster layer: inspect, convert to a COG beside the live one, swap one pointer.

The slow part (the COG conversion) runs before the catalog transaction, into a hidden partial
folder; the transaction then takes the layer's advisory lock, picks the version number, renames the
file into place and swaps ``webmap.layers.version``. A failure at any point removes the new file
and leaves the live version serving, exactly as for vector layers.

Budgets (docs/layers.md, "Budgets"): the declared size is checked against the pixel budget right
after the header is read, before a pixel is decoded; with a deadline the conversion runs in a
child process that is killed when the deadline passes (GDAL cannot be interrupted otherwise); a
disk that fills up answers :class:`~layers.ingest.errors.StorageFull`.
"""

from __future__ import annotations

import errno
import json
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import psycopg
from rasterio.io import DatasetReader
from rio_tiler.io import Reader

from layers.catalog import RASTER
from layers.errors import InvalidInput, LayerNotFound
from layers.ingest.budget import Deadline, run_bounded
from layers.ingest.errors import TooLarge, is_storage_full, storage_full
from layers.ingest.limits import setting_name
from layers.raster.cog import remove_stored, storage_name, stored_path, write_cog
from layers.raster.inspect import RasterFacts, RasterLimits, inspect_raster, open_raster
from layers.store import LayerSpec, check_layer_name, publish_version
from layers.versions import begin_version, delete_layer, lock_layer

KIND = RASTER


def publish_raster(
    conn: psycopg.Connection[Any],
    spec: LayerSpec,
    path: Path,
    storage_dir: Path,
    srid: int | None = None,
    *,
    limits: RasterLimits | None = None,
    keep_versions: int | None = None,
    progress: TextIO | None = None,
    deadline: Deadline | None = None,
) -> dict[str, Any]:
    """Publish ``path`` as a new live version of raster layer ``spec.name``; returns the report.

    ``path`` keeps its original file name (GDAL's SRTMHGT driver reads the tile's position from a
    name such as ``N57E011.hgt``). ``srid`` declares the coordinate system when the file has none
    or a wrong one. ``keep_versions`` old versions are kept for rollback (``None``: all).
    ``progress`` (a terminal stream) shows the conversion's progress bar.
    The new version is committed on return unless the caller has a transaction open, which
    then holds it. Raises :class:`~layers.errors.InvalidInput` for unusable or implausible
    rasters (:class:`~layers.ingest.errors.TooLarge` over the pixel budget of ``limits``) and
    :class:`~layers.ingest.errors.BudgetExceeded` when ``deadline`` passes; nothing is written
    then. A full disk raises :class:`~layers.ingest.errors.StorageFull`, nothing left behind.
    """
    check_layer_name(spec.name)
    limits = limits or RasterLimits()
    with conn.transaction():  # not an implicit one, which would defer the commit to the caller
        _refuse_other_kind(conn, spec.name)
    storage_dir.mkdir(parents=True, exist_ok=True)
    with open_raster(path) as src:
        _check_pixel_budget(src, limits)
        facts = inspect_raster(src, srid, limits)
        with _partial_file(storage_dir) as partial:
            _convert(src, path, facts, partial, progress, deadline)
            zooms = _native_zooms(partial)
            report = _report(spec.name, path, facts, zooms, partial.stat().st_size)
            _swap_in(conn, spec, facts, partial, storage_dir, report)
    if keep_versions is not None:
        prune_raster_versions(conn, spec.name, keep_versions, storage_dir)
    return report


def _check_pixel_budget(src: DatasetReader, limits: RasterLimits) -> None:
    """Refuse a raster whose declared size is over the budget, before a pixel is decoded.

    The header is all GDAL has read so far: a 47 KB sparse GeoTIFF can declare 10⁹ pixels, and
    converting it took 75 s and 1.5 GB before this check.
    """
    if max(src.width, src.height) > limits.max_side:
        return  # inspect_raster refuses it, naming the longest side allowed
    pixels = src.width * src.height
    if pixels <= limits.max_pixels:
        return
    tiles = int(np.ceil(pixels / limits.max_pixels))
    raise TooLarge(
        f"The raster is {src.width:,} × {src.height:,} = {pixels:,} pixels per band; at most "
        f"{limits.max_pixels:,} are accepted.",
        limit=setting_name("max_raster_pixels"),
        value=limits.max_pixels,
        actual=pixels,
        hint=f"Split it into {tiles} or more tiles (e.g. gdal_retile.py -ps 10000 10000) and "
        "publish them as separate layers, or lower its resolution (gdalwarp -tr).",
    )


def _convert(
    src: DatasetReader,
    path: Path,
    facts: RasterFacts,
    partial: Path,
    progress: TextIO | None,
    deadline: Deadline | None,
) -> None:
    """Write the COG to ``partial``: here, or with a deadline in a child process killed when
    it passes (GDAL's conversion is one call that Python cannot interrupt)."""
    stage = "converting the raster to a Cloud Optimized GeoTIFF"
    try:
        if deadline is None:
            _write(src, facts, partial, progress)
        else:
            args = (path, facts, partial, progress is not None)
            run_bounded(convert_file, args, deadline, stage)
    except OSError as exc:
        if is_storage_full(exc):
            raise storage_full("writing the raster") from exc
        raise


def convert_file(path: Path, facts: RasterFacts, target: Path, show_progress: bool) -> None:
    """The child process's side of :func:`_convert`: open ``path`` again and convert it."""
    with open_raster(path) as src:
        _write(src, facts, target, sys.stderr if show_progress else None)


def _write(src: DatasetReader, facts: RasterFacts, target: Path, progress: TextIO | None) -> None:
    """:func:`write_cog`, with a full disk reported as ``ENOSPC``.

    GDAL does not pass ``errno`` on: a full disk surfaces as "Write failed" (libtiff prints
    "No space left on device" to stderr). A write failure while the folder has less room than
    the uncompressed result is taken for a full disk.
    """
    try:
        write_cog(src, facts, target, progress)
    except Exception as exc:
        if is_storage_full(exc) or (_write_failure(exc) and _short_of_room(target.parent, facts)):
            raise OSError(errno.ENOSPC, "No space left on device while writing the COG") from exc
        raise


def _write_failure(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if "write" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _short_of_room(folder: Path, facts: RasterFacts) -> bool:
    """Less free space in ``folder`` than the COG would take uncompressed, overviews included."""
    itemsize = np.dtype(facts.dtype).itemsize
    estimate = facts.width * facts.height * facts.count * itemsize * 4 // 3
    return shutil.disk_usage(folder).free < estimate


@contextmanager
def _partial_file(storage_dir: Path) -> Iterator[Path]:
    """A file name in a hidden folder of the storage folder; the folder is removed with
    whatever is left in it (the converter's own temporary file, too) unless the file was
    renamed into place."""
    folder = storage_dir / f"{_PARTIAL_PREFIX}{secrets.token_hex(8)}"
    folder.mkdir()
    try:
        yield folder / "cog.tif"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_PARTIAL_PREFIX = ".partial_"


def _swap_in(
    conn: psycopg.Connection[Any],
    spec: LayerSpec,
    facts: RasterFacts,
    partial: Path,
    storage_dir: Path,
    report: dict[str, Any],
) -> None:
    """Record and publish the converted file as the next version, in one transaction."""
    relative = ""
    try:
        with conn.transaction():
            # Never a number a deleted layer of this name used: caches hold its tiles as immutable.
            version = begin_version(conn, spec, KIND)
            relative = storage_name(spec.name, version)
            report["version"] = version
            report["file"] = relative
            partial.rename(stored_path(storage_dir, relative))
            west, south, east, north = facts.bounds_wgs84
            conn.execute(
                """
                INSERT INTO webmap.layer_versions
                    (layer_name, version, table_name, feature_count, fields, bounds, report)
                VALUES (%s, %s, %s, 0, '[]', ST_MakeEnvelope(%s, %s, %s, %s, 4326), %s)
                """,
                [spec.name, version, relative, west, south, east, north, json.dumps(report)],
            )
            publish_version(conn, spec, version, None, kind=KIND)
    except BaseException:
        if relative:
            remove_stored(storage_dir, relative)
        raise


def _refuse_other_kind(conn: psycopg.Connection[Any], name: str) -> None:
    row = conn.execute("SELECT kind FROM webmap.layers WHERE name = %s", [name]).fetchone()
    if row is not None and row[0] != KIND:
        raise InvalidInput(
            f"The layer {name!r} is a {row[0]} layer; a raster cannot be a version of it. "
            "Choose another name."
        )


def _native_zooms(cog: Path) -> tuple[int, int]:
    """The Web Mercator zooms that match the COG's coarsest overview and its full resolution."""
    with Reader(str(cog)) as reader:
        return int(reader.minzoom), int(reader.maxzoom)


def _report(
    name: str, path: Path, facts: RasterFacts, zooms: tuple[int, int], size: int
) -> dict[str, Any]:
    return {
        "layer": name,
        "kind": KIND,
        "source": path.name,
        "driver": facts.driver,
        "width": facts.width,
        "height": facts.height,
        "bands": facts.count,
        "dtype": facts.dtype,
        "crs": facts.crs_note,
        "stored_crs": facts.crs.to_string(),
        "nodata": facts.nodata,
        "render_kind": facts.kind,
        "value_range": list(facts.value_range) if facts.value_range else None,
        "resampling": facts.resampling,
        "bounds": list(facts.bounds_wgs84),
        "native_zooms": list(zooms),
        "bytes": size,
    }


def prune_raster_versions(
    conn: psycopg.Connection[Any], name: str, keep: int, storage_dir: Path
) -> list[int]:
    """Forget all but the newest ``keep`` non-live versions, then delete their files.

    Files go only after the catalog rows are committed, so a rolled-back prune never leaves a
    version in the catalog whose file is gone. Under the layer's lock, so a rollback cannot make
    a version live while it is being pruned.
    """
    with conn.transaction():
        lock_layer(conn, name)
        rows = conn.execute(
            """
            DELETE FROM webmap.layer_versions d
            USING (
                SELECT v.version FROM webmap.layer_versions v
                JOIN webmap.layers l ON l.name = v.layer_name
                WHERE v.layer_name = %s AND v.version <> l.version AND l.kind = %s
                ORDER BY v.version DESC OFFSET %s
            ) old
            WHERE d.layer_name = %s AND d.version = old.version
            RETURNING d.version, d.table_name
            """,
            [name, KIND, max(keep, 0), name],
        ).fetchall()
    for _, relative in rows:
        remove_stored(storage_dir, relative)
    return sorted(int(r[0]) for r in rows)


def delete_raster_layer(conn: psycopg.Connection[Any], name: str, storage_dir: Path) -> int:
    """Remove a raster layer with every version, then its files; returns the files removed."""
    return len(delete_raster_versions(conn, name, storage_dir)[1])


def delete_raster_versions(
    conn: psycopg.Connection[Any], name: str, storage_dir: Path
) -> tuple[list[int], list[str]]:
    """Remove a raster layer with every version, then its files: (versions, files) removed.

    The catalog side is :func:`layers.versions.delete_layer`, so the layer leaves a tombstone
    and a re-created layer of the same name never reuses a version number (and tile URL).
    Files go only after the catalog change is committed.
    """
    with conn.transaction():
        lock_layer(conn, name)
        row = conn.execute("SELECT kind FROM webmap.layers WHERE name = %s", [name]).fetchone()
        if row is None:
            raise LayerNotFound(f"There is no layer named {name!r}.")
        if row[0] != KIND:
            raise InvalidInput(f"The layer {name!r} is a {row[0]} layer, not a raster layer.")
        files = [
            str(r[0])
            for r in conn.execute(
                "SELECT table_name FROM webmap.layer_versions WHERE layer_name = %s", [name]
            ).fetchall()
        ]
        versions = delete_layer(conn, name)
    for relative in files:
        remove_stored(storage_dir, relative)
    return versions, files


def clean_storage(
    conn: psycopg.Connection[Any], storage_dir: Path, grace_seconds: float = 3600.0
) -> list[str]:
    """Delete files no catalog row points at: partial files of killed uploads and files of
    versions whose catalog change was rolled back. Returns the names removed.

    Files younger than ``grace_seconds`` are left alone: an upload in progress owns them.
    """
    if not storage_dir.is_dir():
        return []
    with conn.transaction():
        rows = conn.execute(
            "SELECT v.table_name FROM webmap.layer_versions v "
            "JOIN webmap.layers l ON l.name = v.layer_name WHERE l.kind = %s",
            [KIND],
        ).fetchall()
    known = {str(row[0]) for row in rows}
    cutoff = time.time() - grace_seconds
    removed = []
    for entry in sorted(storage_dir.iterdir()):
        if entry.is_dir() and entry.name.startswith(_PARTIAL_PREFIX):
            # The partial folder of a conversion whose process was killed.
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
            continue
        if not entry.is_file() or entry.suffix != ".tif" or entry.name in known:
            continue
        if entry.stat().st_mtime < cutoff:
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
    return removed
