"""What a file is, judged from its bytes before GDAL sees it, and the side files it brings.

GDAL picks a reader by content, so a file named ``parks.csv`` may be a GDAL virtual dataset
(VRT) that reads ``/etc/passwd`` or a URL. :func:`identify` names what the bytes are, so an
upload whose content is not its declared format is refused by name ("The file is a GDAL
virtual raster (VRT), not GeoTIFF") before any GDAL driver runs. The side files GDAL reads
beside a dataset (``.prj``, ``.cpg``, ``.csvt``) and the parts of a format that point elsewhere
(a KML ``NetworkLink``, an SQLite virtual table) are checked here too. No GDAL import.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

from layers.ingest.errors import UnsupportedFormat

_HEAD_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"

#: What each kind found by :func:`identify` is called in a refusal.
LABELS = {
    "vrt-raster": "a GDAL virtual raster (VRT), which reads other files",
    "vrt-vector": "an OGR virtual dataset (VRT), which reads other files",
    "gdal-service": "a GDAL web service description (WMS/WMTS/WFS/WCS), which reads URLs",
    "gpkg": "a GeoPackage",
    "sqlite": "an SQLite database that is not a GeoPackage",
    "tiff": "a TIFF image",
    "zip": "a zip archive",
    "fgb": "a FlatGeobuf file",
    "shp": "a Shapefile",
    "osm-pbf": "an OpenStreetMap PBF file",
    "osm-xml": "an OpenStreetMap XML file",
    "json": "a JSON object",
    "kml": "a KML document",
    "html": "an HTML page",
    "xml": "an XML document",
    "text": "plain text",
    "binary": "binary data of no format read here",
    "empty": "empty",
}

#: The kinds each declared format may be; anything else is refused before GDAL opens it.
ACCEPTED = {
    "GeoJSON": frozenset({"json"}),
    "CSV": frozenset({"text"}),
    "Shapefile": frozenset({"shp"}),
    "GeoPackage": frozenset({"gpkg"}),
    "KML": frozenset({"kml"}),
    "FlatGeobuf": frozenset({"fgb"}),
    "OSM": frozenset({"osm-xml", "osm-pbf"}),
    "GeoTIFF": frozenset({"tiff"}),
    # Raw big-endian heights: no magic number. GDAL's SRTMHGT driver checks name and size.
    "SRTM HGT": frozenset({"tiff", "binary"}),
}

# GDAL recognises these XML roots anywhere in the first kilobyte, whatever the file's name.
_GDAL_XML = (
    (b"<vrtdataset", "vrt-raster"),
    (b"<ogrvrtdatasource", "vrt-vector"),
    (b"<gdal_wms", "gdal-service"),
    (b"<gdal_wmts", "gdal-service"),
    (b"<gdal_wcs", "gdal-service"),
    (b"<wcs_gdal", "gdal-service"),
    (b"<ogrwfsdatasource", "gdal-service"),
    (b"<ogrgmlas", "gdal-service"),
)
_XML_ROOT = re.compile(
    rb"\A(?:\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>))*\s*<(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)",
    re.DOTALL,
)
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_GPKG_IDS = (b"GPKG", b"GP10", b"GP11")


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(_HEAD_BYTES)


def identify(path: Path) -> str:
    """The kind of ``path`` by its first bytes: a key of :data:`LABELS`."""
    head = _head(path)
    if not head:
        return "empty"
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg" if head[68:72] in _GPKG_IDS else "sqlite"
    magic = (
        (head[:4] in _TIFF_MAGIC, "tiff"),
        (head[:4] in (b"PK\x03\x04", b"PK\x05\x06"), "zip"),
        (head[:3] == b"fgb" and head[4:7] == b"fgb", "fgb"),
        (head[:4] == b"\x00\x00\x27\x0a", "shp"),
        (b"OSMHeader" in head[:64], "osm-pbf"),
    )
    for matches, kind in magic:
        if matches:
            return kind
    if b"\x00" in head:
        return "binary"
    text = head.removeprefix(_BOM).lstrip()
    if text.startswith(b"{"):
        return "json"
    if text.startswith(b"<"):
        return _xml_kind(text)
    return "text"


def _xml_kind(text: bytes) -> str:
    lowered = text[:4096].lower()
    for marker, kind in _GDAL_XML:
        if marker in lowered:
            return kind
    root = _XML_ROOT.match(text)
    name = root.group(1).decode("ascii", "replace").lower() if root else ""
    return {"kml": "kml", "osm": "osm-xml", "html": "html"}.get(name, "xml")


def require(path: Path, declared: str) -> str:
    """The kind of ``path``; :class:`UnsupportedFormat` unless it may be ``declared``."""
    kind = identify(path)
    if kind not in ACCEPTED[declared]:
        raise UnsupportedFormat(f"The file is {LABELS[kind]}, not {declared}.", found=kind)
    return kind


# --- side files ---------------------------------------------------------------------------

_WKT_ROOTS = (
    "PROJCS[", "GEOGCS[", "GEOCCS[", "COMPD_CS[", "VERT_CS[", "LOCAL_CS[", "PROJCRS[",
    "GEOGCRS[", "GEODCRS[", "GEODETICCRS[", "GEOGRAPHICCRS[", "PROJECTEDCRS[", "COMPOUNDCRS[",
    "VERTCRS[", "VERTICALCRS[", "BOUNDCRS[", "ENGCRS[", "ENGINEERINGCRS[",
)  # fmt: skip
_CODE_PAGE = re.compile(r"[A-Za-z0-9 _.\-]{1,40}")
_CSV_TYPES = re.compile(r'[\sA-Za-z0-9(),."]*')


def _side_text(path: Path, limit: int) -> str:
    data = path.read_bytes()[: limit + 1]
    if len(data) > limit or b"\x00" in data:
        raise UnsupportedFormat(f"The side file {path.name} is not a small text file.")
    return data.removeprefix(_BOM).decode("utf-8", "replace").strip()


def check_side_files(dataset: Path) -> None:
    """Refuse a ``.prj``, ``.cpg`` or ``.csvt`` beside ``dataset`` that is not what it claims.

    GDAL reads them by name: a ``.prj`` holding a path, a URL or a VRT instead of WKT, or a
    ``.cpg`` that is not a code page name, is someone trying to make it read elsewhere.
    """
    stem = dataset.stem.lower()
    for sibling in dataset.parent.iterdir():
        if sibling.stem.lower() != stem or not sibling.is_file():
            continue
        suffix = sibling.suffix.lower()
        if suffix == ".prj":
            text = _side_text(sibling, 64 * 1024)
            if not text.upper().startswith(_WKT_ROOTS):
                raise UnsupportedFormat(
                    f"{sibling.name} is not a coordinate system in WKT; export the layer "
                    "again, or leave the .prj out and give srid."
                )
        elif suffix == ".cpg":
            if not _CODE_PAGE.fullmatch(_side_text(sibling, 64)):
                raise UnsupportedFormat(
                    f"{sibling.name} does not name a code page (such as UTF-8 or 1252)."
                )
        elif suffix == ".csvt" and not _CSV_TYPES.fullmatch(_side_text(sibling, 64 * 1024)):
            raise UnsupportedFormat(f"{sibling.name} is not a list of CSV column types.")


# --- parts of a format that point elsewhere -----------------------------------------------

_NETWORK_LINK = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?NetworkLink\b")
_CHUNK = 1024 * 1024


def check_kml(path: Path) -> None:
    """Refuse a KML with a ``NetworkLink``: its content lives elsewhere and is not fetched."""
    overlap = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            if _NETWORK_LINK.search(overlap + chunk):
                raise UnsupportedFormat(
                    "The KML holds a NetworkLink: linked content is never fetched. Save the "
                    "linked places into the file itself (in Google Earth: Save Place As…)."
                )
            overlap = chunk[-64:]


_MODULE = re.compile(r"\bUSING\s+([A-Za-z_]\w*)", re.IGNORECASE)


def check_geopackage(path: Path) -> None:
    """Refuse a GeoPackage whose schema reaches outside the file.

    A GeoPackage is an SQLite database: a virtual table (``CREATE VIRTUAL TABLE … USING
    VirtualOGR('/etc/passwd')``) reads whatever its module is told to. Only the R-tree spatial
    index is a virtual table in a real GeoPackage. The schema is read with Python's sqlite3,
    read-only, which has none of GDAL's modules.
    """
    for journal in ("-wal", "-journal", "-shm"):
        if path.with_name(path.name + journal).exists():
            # SQLite would replay it on open: a schema this check never saw.
            raise UnsupportedFormat(
                f"The GeoPackage comes with its {journal} file; close it in QGIS (or run "
                "VACUUM) and send the .gpkg alone."
            )
    uri = f"{path.absolute().as_uri()}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            db.execute("PRAGMA trusted_schema = OFF")
            rows = db.execute(
                "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"
            ).fetchall()
    except sqlite3.Error as exc:
        raise UnsupportedFormat("The file cannot be read as GeoPackage.") from exc
    for name, sql in rows:
        match = _MODULE.search(str(sql)) if "VIRTUAL" in str(sql).upper() else None
        if match and match.group(1).lower() != "rtree":
            raise UnsupportedFormat(
                f"The GeoPackage holds a virtual table {name!r} ({match.group(1)}) that reads "
                "from outside the file; only tables stored in the GeoPackage are read."
            )
