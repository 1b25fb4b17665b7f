"""What a layer backup says about the layer it holds, and checking it when it comes back.

An export carries the layer's metadata beside its data (a table in the GeoPackage, a JSON file
beside a raster), so a restore can publish it again as it was: title, attribution, visibility,
zoom range, field types. A restore file is a file from outside like any upload: every value is
checked here before anything is published, and a file that is not a webmap backup is refused by
name instead of being half understood.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from typing import Any

from layers.catalog import RASTER, VECTOR
from layers.errors import InvalidInput
from layers.store import check_layer_name

#: The value of the ``format`` key: a restore refuses anything else.
FORMAT = "webmap-layer-backup"
#: Bumped when a key's meaning changes; a restore refuses newer versions it cannot read.
FORMAT_VERSION = 1
#: The GeoPackage table holding the metadata (``key``, ``value`` as JSON text).
METADATA_TABLE = "webmap_layer_metadata"
#: At most this much metadata is read from a restore file (the real thing is a few kB).
MAX_METADATA_BYTES = 1024 * 1024

_FIELD_TYPES = ("text", "integer", "number", "boolean")
_GEOMETRY_TYPES = ("Point", "LineString", "Polygon")


class NotABackup(InvalidInput):
    """The file is not a webmap layer backup, or its metadata cannot be used."""


@dataclass(frozen=True)
class BackupMetadata:
    """One exported version of a layer, as recorded in its backup file."""

    name: str
    title: str
    kind: str
    description: str = ""
    attribution: str = ""
    public: bool = True
    minzoom: int = 0
    maxzoom: int = 22
    #: Point, LineString or Polygon (vector layers; ``None`` for rasters).
    geometry_type: str | None = None
    #: The attribute columns and their types (vector layers).
    fields: tuple[dict[str, str], ...] = field(default_factory=tuple)
    feature_count: int = 0
    #: The coordinate system the data is stored in (EPSG:3857 for vectors; a raster's own).
    crs: str = ""
    #: The version number the data had where it was exported.
    source_version: int = 0
    source_created_at: str = ""
    exported_at: str = ""
    webmap_version: str = ""
    #: The GeoPackage table holding the features (vector layers).
    layer: str = ""

    def as_record(self) -> dict[str, Any]:
        """The metadata as stored: every field plus the format marker and its version."""
        record = asdict(self)
        record["fields"] = [dict(f) for f in self.fields]
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **record}


def webmap_version() -> str:
    """The installed webmap package's version (``unknown`` when run from a bare checkout)."""
    try:
        return package_metadata.version("webmap")
    except package_metadata.PackageNotFoundError:
        return "unknown"


def now_iso() -> str:
    """The current time in UTC as ISO 8601, for ``exported_at``."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def from_record(record: object, what: str) -> BackupMetadata:
    """Check a metadata record read from a restore file (``what`` names it in refusals)."""
    if not isinstance(record, dict):
        raise NotABackup(f"The metadata in {what} is not a JSON object.")
    if record.get("format") != FORMAT:
        raise NotABackup(f"{what} is not a webmap layer backup (no format {FORMAT!r}).")
    version = record.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version > FORMAT_VERSION:
        raise NotABackup(
            f"{what} is backup format version {version!r}; this webmap reads up to "
            f"{FORMAT_VERSION}. Restore it with the webmap version that wrote it, or newer."
        )
    check = _Checker(record, what)
    meta = BackupMetadata(
        name=check.name(),
        title=check.text("title", required=True),
        kind=check.choice("kind", (VECTOR, RASTER)),
        description=check.text("description"),
        attribution=check.text("attribution"),
        public=check.flag("public"),
        minzoom=check.zoom("minzoom", 0),
        maxzoom=check.zoom("maxzoom", 22),
        geometry_type=check.optional_choice("geometry_type", _GEOMETRY_TYPES),
        fields=check.fields(),
        feature_count=check.count("feature_count"),
        crs=check.text("crs"),
        source_version=check.count("source_version"),
        source_created_at=check.text("source_created_at"),
        exported_at=check.text("exported_at"),
        webmap_version=check.text("webmap_version"),
        layer=check.text("layer"),
    )
    if meta.minzoom > meta.maxzoom:
        raise NotABackup(f"The metadata in {what} has minzoom above maxzoom.")
    return meta


def parse_json(data: bytes, what: str) -> BackupMetadata:
    """:func:`from_record` of JSON bytes (a raster's side file)."""
    if len(data) > MAX_METADATA_BYTES:
        raise NotABackup(f"{what} is larger than a backup's metadata can be.")
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NotABackup(f"{what} is not JSON metadata of a webmap layer backup.") from exc
    return from_record(record, what)


class _Checker:
    """Typed reads of one metadata record; each refusal names the key and the file."""

    def __init__(self, record: dict[str, Any], what: str) -> None:
        self.record = record
        self.what = what

    def _refuse(self, key: str, expected: str) -> NotABackup:
        return NotABackup(f"The metadata in {self.what} has no usable {key!r} ({expected}).")

    def name(self) -> str:
        value = self.record.get("name")
        if not isinstance(value, str):
            raise self._refuse("name", "a layer name")
        try:
            return check_layer_name(value)
        except InvalidInput as exc:
            raise NotABackup(f"The layer name in {self.what} is not usable: {exc.detail}") from exc

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.record.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise self._refuse(key, "text")
        return value

    def flag(self, key: str) -> bool:
        value = self.record.get(key)
        if not isinstance(value, bool):
            raise self._refuse(key, "true or false")
        return value

    def zoom(self, key: str, default: int) -> int:
        value = self.record.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 24:
            raise self._refuse(key, "a zoom level 0–24")
        return value

    def count(self, key: str) -> int:
        value = self.record.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self._refuse(key, "a whole number")
        return value

    def choice(self, key: str, allowed: tuple[str, ...]) -> str:
        value = self.record.get(key)
        if value not in allowed:
            raise self._refuse(key, " or ".join(allowed))
        return str(value)

    def optional_choice(self, key: str, allowed: tuple[str, ...]) -> str | None:
        return None if self.record.get(key) is None else self.choice(key, allowed)

    def fields(self) -> tuple[dict[str, str], ...]:
        value = self.record.get("fields", [])
        expected = "a list of {name, type}"
        if not isinstance(value, list):
            raise self._refuse("fields", expected)
        out = []
        for item in value:
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("name"), str)
                or item.get("type") not in _FIELD_TYPES
                or not re.fullmatch(r"[^\x00]{1,200}", item["name"])
            ):
                raise self._refuse("fields", expected)
            out.append({"name": item["name"], "type": item["type"]})
        return tuple(out)
