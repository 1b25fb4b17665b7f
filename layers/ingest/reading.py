"""Reading one layer of an upload with pyogrio into arrays: geometries, fields, declared CRS.

The whole layer is read at once (bounded by the feature limit): the CRS and the geometry family
are decided on all of it before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from layers.ingest import gdal_policy
from layers.ingest.errors import NoUsableFeatures, TooLarge, UnsupportedFormat
from layers.ingest.formats import SourceDataset
from layers.ingest.limits import IngestLimits
from layers.store import OVERVIEW_ZOOMS

_RESERVED_COLUMNS = {"fid", "geom", *(f"geom_z{z}" for z in OVERVIEW_ZOOMS)}


@dataclass(frozen=True)
class Source:
    """One layer as read: geometries (None where missing), attribute columns, its CRS."""

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


def read_source(
    dataset: SourceDataset, limits: IngestLimits, encoding: str | None = None
) -> Source:
    """Read ``dataset``; refuses unreadable files and more features than ``limits`` allow."""
    kwargs: dict[str, Any] = dict(dataset.open_options)
    encoding = encoding or dataset.encoding
    try:
        info = gdal_policy.vector_info(
            dataset.path, dataset.format, layer=dataset.layer, encoding=encoding, **kwargs
        )
        if int(info.get("features") or 0) > limits.max_features:
            raise TooLarge(
                f"The layer has {int(info['features']):,} features; "
                f"at most {limits.max_features:,} are accepted."
            )
        meta, _fids, wkb, columns = gdal_policy.vector_read(
            dataset.path, dataset.format, layer=dataset.layer, encoding=encoding, **kwargs
        )
    except (DataSourceError, DataLayerError, UnicodeDecodeError, ValueError) as exc:
        # GDAL's message helps (a bad field, a broken ring) but names our scratch path: drop it.
        reason = str(exc).replace(dataset.path, "the file")
        raise UnsupportedFormat(f"The file cannot be read as {dataset.format}: {reason}") from exc
    if wkb is None or meta.get("geometry_type") is None:
        if dataset.driver == "CSV":
            raise UnsupportedFormat(
                "The CSV file has no coordinate columns: name them x and y, lon and lat, "
                "Øst and Nord (or give a WKT column)."
            )
        raise UnsupportedFormat("The layer has no geometries.")
    if len(wkb) == 0:
        what = "a header but no rows" if dataset.driver == "CSV" else "no features"
        raise NoUsableFeatures(
            f"The {dataset.format} file has {what}: there is nothing to publish."
        )
    if len(wkb) > limits.max_features:
        raise TooLarge(f"The layer has more than {limits.max_features:,} features.")
    raw_names = [str(n) for n in meta["fields"]]
    geometries = _parse(wkb)
    return Source(
        dataset=dataset,
        geometries=geometries,
        unreadable=shapely.is_missing(geometries) & np.array([w is not None for w in wkb]),
        field_names=raw_names,
        field_types=[_field_type(d) for d in meta["dtypes"]],
        columns=list(columns),
        declared_crs=meta.get("crs"),
    )
