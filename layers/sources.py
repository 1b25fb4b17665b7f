"""Reading features from files with pyogrio (GDAL), as ``(wkb, attributes)`` pairs.

One small adapter over ``pyogrio.raw.read`` so the rest of the code never sees numpy arrays, and
OSM's packed ``other_tags`` column becomes a plain dict. Files are opened the way uploads are
(:mod:`layers.ingest.gdal_policy`): by the driver their suffix allows, content checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layers.ingest import gdal_policy

_OTHER_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class SourceFeature:
    """One feature as read: geometry as WKB, attributes by source field name."""

    wkb: bytes
    attributes: dict[str, Any]


def parse_other_tags(packed: str | None) -> dict[str, str]:
    """Unpack GDAL's OSM ``other_tags`` (``"k"=>"v","k2"=>"v2"``) into a dict."""
    if not packed:
        return {}
    return {
        key.replace('\\"', '"'): value.replace('\\"', '"')
        for key, value in _OTHER_TAG.findall(packed)
    }


def _plain(value: Any) -> Any:
    """numpy scalars to Python scalars, so psycopg can adapt them."""
    return value.item() if hasattr(value, "item") else value


def _checked(path: Path) -> tuple[str, str]:
    """(GDAL path, declared format) of a file that passed the ingest checks."""
    local = gdal_policy.local_file(path)
    fmt = gdal_policy.vector_format(local)
    return gdal_policy.checked_vector(local, fmt), fmt


def gdal_path(path: Path) -> str:
    """The GDAL path of a checked file; zip archives are read in place through ``/vsizip/``."""
    return _checked(path)[0]


def file_info(path: Path, layer: str | None = None) -> dict[str, Any]:
    """GDAL's description of one layer of ``path`` (fields, CRS, driver), checked."""
    source, fmt = _checked(path)
    return gdal_policy.vector_info(source, fmt, layer=layer)


def read_features(
    path: Path, layer: str | None = None, encoding: str | None = None
) -> Iterator[SourceFeature]:
    """Every feature of one layer of ``path`` that has a geometry."""
    source, fmt = _checked(path)
    gdal_policy.vector_info(source, fmt, layer=layer, encoding=encoding)  # checks the driver
    meta, _fids, geometries, columns = gdal_policy.vector_read(
        source, fmt, layer=layer, encoding=encoding
    )
    names = [str(n) for n in meta["fields"]]
    for index, wkb in enumerate(geometries):
        if wkb is None:
            continue
        attributes = {name: _plain(columns[i][index]) for i, name in enumerate(names)}
        if "other_tags" in attributes:
            attributes.update(parse_other_tags(attributes.pop("other_tags")))
        yield SourceFeature(bytes(wkb), attributes)
