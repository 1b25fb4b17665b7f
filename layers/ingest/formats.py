"""Finding the dataset in an upload and how GDAL should open it: one small reader per format.

Every format is read by GDAL through pyogrio; what differs is how to find the data (a Shapefile
inside a zip, one layer of several in a GeoPackage or KML), the open options (CSV coordinate
columns) and the text encoding (a Shapefile's DBF without a ``.cpg``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyogrio.errors import DataLayerError, DataSourceError

from layers.ingest import gdal_policy
from layers.ingest.archive import safe_extract
from layers.ingest.errors import ChooseLayer, UnsupportedFormat
from layers.ingest.limits import IngestLimits

VECTOR_SUFFIXES = (".geojson", ".json", ".zip", ".gpkg", ".csv", ".kml", ".kmz", ".fgb")
RASTER_SUFFIXES = (".tif", ".tiff", ".hgt")

# GDAL's CSV driver looks for these (case-insensitive) to build point geometries.
_X_NAMES = "x,lon,long,lng,longitude,east,easting,ost,öst,øst,Øst,Öst,e,ostkoordinat"
_Y_NAMES = "y,lat,latitude,north,northing,nord,n,nordkoordinat"
_GEOM_NAMES = "wkt,geometry,geom,the_geom"
_SRID_COLUMNS = {"epsg", "epsg-kode", "epsg_kode", "epsgkod", "epsg_code", "srid", "crs_epsg"}


@dataclass(frozen=True)
class SourceDataset:
    """An opened upload: the GDAL path, the chosen layer and how to read it."""

    path: str
    layer: str | None
    driver: str
    format: str
    encoding: str | None = None
    open_options: dict[str, str] = field(default_factory=dict)
    #: GeoJSON without a ``crs`` member: GDAL says WGS 84 because RFC 7946 implies it.
    implied_wgs84: bool = False


def _dbf_encoding(dbf: Path) -> str | None:
    """UTF-8 or ISO-8859-1 for a DBF without a ``.cpg`` (None: plain ASCII, nothing to decide).

    Text that decodes as UTF-8 and has bytes above 127 is almost surely UTF-8: ISO-8859-1 text
    with å, ä, ö essentially never forms valid UTF-8 sequences.
    """
    data = dbf.read_bytes()
    header_length = int.from_bytes(data[8:10], "little") if len(data) >= 10 else 0
    body = data[header_length:]
    if all(b < 128 for b in body):
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "ISO-8859-1"
    return "UTF-8"


def _shapefile(shp: Path) -> SourceDataset:
    for part in (".shx", ".dbf"):
        if not shp.with_suffix(part).exists() and not shp.with_suffix(part.upper()).exists():
            raise UnsupportedFormat(
                f"The Shapefile {shp.name} has no {part} beside it; zip .shp, .shx, .dbf "
                "(and .prj, .cpg) together."
            )
    gdal_path = gdal_policy.checked_vector(shp, "Shapefile")
    encoding = None
    dbf = shp.with_suffix(".dbf")
    if not shp.with_suffix(".cpg").exists() and dbf.exists():
        encoding = _dbf_encoding(dbf)
    return SourceDataset(gdal_path, None, "ESRI Shapefile", "Shapefile", encoding)


def _geojson(path: Path) -> SourceDataset:
    gdal_path = gdal_policy.checked_vector(path, "GeoJSON")
    with path.open("rb") as handle:
        head = handle.read(4 * 1024 * 1024)
    # The pre-RFC 7946 ``crs`` member names the system; without it RFC 7946 means WGS 84.
    return SourceDataset(gdal_path, None, "GeoJSON", "GeoJSON", implied_wgs84=b'"crs"' not in head)


def _csv(path: Path) -> SourceDataset:
    options = {
        "X_POSSIBLE_NAMES": _X_NAMES,
        "Y_POSSIBLE_NAMES": _Y_NAMES,
        "GEOM_POSSIBLE_NAMES": _GEOM_NAMES,
        "KEEP_GEOM_COLUMNS": "NO",
        # Keep every other column as text: postcodes and municipality codes keep leading zeros.
        "AUTODETECT_TYPE": "NO",
    }
    gdal_path = gdal_policy.checked_vector(path, "CSV")
    return SourceDataset(gdal_path, None, "CSV", "CSV", open_options=options)


def _plain(driver: str, fmt: str) -> Callable[[Path], SourceDataset]:
    return lambda p: SourceDataset(gdal_policy.checked_vector(p, fmt), None, driver, fmt)


_OPENERS: dict[str, Callable[[Path], SourceDataset]] = {
    ".geojson": _geojson,
    ".json": _geojson,
    ".csv": _csv,
    ".shp": _shapefile,
    ".gpkg": _plain("GPKG", "GeoPackage"),
    ".kml": _plain("KML", "KML"),
    ".fgb": _plain("FlatGeobuf", "FlatGeobuf"),
}


def _from_archive(files: list[Path], wanted_layer: str | None) -> Path:
    """The one dataset inside an unpacked archive (``wanted_layer`` picks among Shapefiles)."""
    candidates = [
        f for f in files if f.suffix.lower() in _OPENERS and not f.name.startswith(("._", "."))
    ]
    shapefiles = [f for f in candidates if f.suffix.lower() == ".shp"]
    if shapefiles:
        candidates = shapefiles
    if wanted_layer is not None and len(candidates) > 1:
        candidates = [f for f in candidates if f.stem == wanted_layer] or candidates
    if not candidates:
        raise UnsupportedFormat(
            "The archive holds no Shapefile, GeoPackage, GeoJSON, KML or CSV file."
        )
    if len(candidates) > 1:
        names = sorted(f.stem for f in candidates)
        raise ChooseLayer(
            f"The archive holds several datasets ({', '.join(names)}); say which one as layer.",
            layers=names,
        )
    return candidates[0]


def _choose_layer(dataset: SourceDataset, wanted: str | None) -> SourceDataset:
    """Pick the layer of a multi-layer file; layers without geometry do not count."""
    if dataset.driver == "CSV":
        return dataset  # one layer; its geometry exists only with the open options
    try:
        listed = gdal_policy.vector_layers(dataset.path, dataset.format)
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise UnsupportedFormat(f"The file cannot be read as {dataset.format}.") from exc
    names = [str(row[0]) for row in listed if row[1] is not None]
    if wanted is not None:
        if wanted not in names:
            raise ChooseLayer(
                f"The file has no layer {wanted!r}; it has: {', '.join(names) or 'none'}.",
                layers=names,
            )
        names = [wanted]
    if not names:
        raise UnsupportedFormat(f"The {dataset.format} file has no layer with geometries.")
    if len(names) > 1:
        raise ChooseLayer(
            f"The file has {len(names)} layers ({', '.join(names)}); say which one as layer.",
            layers=names,
        )
    return SourceDataset(
        dataset.path,
        names[0],
        dataset.driver,
        dataset.format,
        dataset.encoding,
        dataset.open_options,
        dataset.implied_wgs84,
    )


def open_dataset(
    path: Path,
    original_name: str,
    workdir: Path,
    limits: IngestLimits,
    layer: str | None = None,
) -> SourceDataset:
    """Find and describe the vector dataset in an uploaded file named ``original_name``."""
    suffix = Path(original_name).suffix.lower()
    if suffix in (".zip", ".kmz"):
        unpacked = workdir / "unpacked"
        unpacked.mkdir()
        found = _from_archive(safe_extract(path, unpacked, limits), layer)
        if found.suffix.lower() == ".shp":
            return _choose_layer(_OPENERS[".shp"](found), None)
        path, suffix = found, found.suffix.lower()
    if suffix == ".shp":
        raise UnsupportedFormat("Send a Shapefile as a .zip with its .shp, .shx, .dbf and .prj.")
    opener = _OPENERS.get(suffix)
    if opener is None:
        raise UnsupportedFormat(
            f"Files ending in {suffix or '(nothing)'} are not read; send GeoJSON, a zipped "
            "Shapefile, GeoPackage, CSV, KML, FlatGeobuf or a GeoTIFF/.hgt raster."
        )
    return _choose_layer(opener(path), layer)


def csv_srid(
    dataset: SourceDataset, fields: Sequence[str], columns: Sequence[Iterable[object]]
) -> int | None:
    """An EPSG code from a CSV column like ``EPSG-kode`` when it holds one value throughout."""
    if dataset.driver != "CSV":
        return None
    for name, values in zip(fields, columns, strict=True):
        if name.strip().lower() not in _SRID_COLUMNS:
            continue
        distinct = {str(v).strip().upper().removeprefix("EPSG:") for v in values}
        if len(distinct) == 1:
            only = distinct.pop()
            if only.isdigit():
                return int(only)
    return None
