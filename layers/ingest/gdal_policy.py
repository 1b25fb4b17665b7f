"""What GDAL may do with a file from outside: the one place that decides it.

Every reader of uploads and imports goes through here (vector ingest, raster ingest, the
address and property importers, the sample loader). GDAL chooses a driver by a file's content,
and some drivers read other files or URLs (VRT, WMS, WFS, OAPIF, GDALG, SQLite's VirtualOGR …),
so a file is read only when all of these hold:

1. the path is a plain local file: no ``/vsi…`` prefix, no ``CSV:``-style driver prefix, no
   ``scheme://`` (pyogrio and rasterio turn those into network paths);
2. its bytes are its declared format (:mod:`layers.ingest.content`), its side files are what
   they claim, and it does not point elsewhere (KML ``NetworkLink``, virtual tables);
3. GDAL opens it with the declared format's driver(s) only. Rasters: ``rasterio.open(path,
   driver=…)``, GDAL's allowed-driver list. Vectors: pyogrio cannot pass one, so its GDAL (a
   copy of its own, used for nothing but reading files) keeps only the drivers of
   :data:`VECTOR_FORMATS`: ``OGR_SKIP`` lists every other one and ``GDALAllRegister`` unloads
   them. The driver GDAL reports is checked again after opening;
4. GDAL makes no HTTP request: a callback installed with ``CPLHTTPSetFetchCallback`` answers
   every ``CPLHTTPFetch`` (a GeoJSON ``crs`` link, for one) with an error, and ``/vsicurl/``
   and friends only allow a random file name nobody can guess. A read that tried the network
   is refused.

The configuration is applied once per process, on first use, and checked: if a driver could
not be unloaded or the HTTP refusal did not take, reading fails instead of going on unguarded.
"""

from __future__ import annotations

import ctypes
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from layers.ingest import content
from layers.ingest.errors import UnsupportedFormat

#: Declared vector format → the GDAL drivers that may open it.
VECTOR_FORMATS: dict[str, tuple[str, ...]] = {
    "GeoJSON": ("GeoJSON",),
    "Shapefile": ("ESRI Shapefile",),
    "GeoPackage": ("GPKG",),
    "CSV": ("CSV",),
    "KML": ("KML", "LIBKML"),
    "FlatGeobuf": ("FlatGeobuf",),
    "OSM": ("OSM",),
}
#: Declared raster format → the GDAL drivers that may open it (a COG is a GeoTIFF).
RASTER_FORMATS: dict[str, tuple[str, ...]] = {
    "GeoTIFF": ("GTiff",),
    "SRTM HGT": ("SRTMHGT", "GTiff"),
}
RASTER_SUFFIX_FORMATS = {".tif": "GeoTIFF", ".tiff": "GeoTIFF", ".hgt": "SRTM HGT"}
_VECTOR_SUFFIX_FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".shp": "Shapefile",
    ".zip": "Shapefile",  # read in place through /vsizip/ (the staff importers and the sample)
    ".gpkg": "GeoPackage",
    ".csv": "CSV",
    ".kml": "KML",
    ".fgb": "FlatGeobuf",
    ".osm": "OSM",
    ".pbf": "OSM",
}

#: Known to nobody: ``/vsicurl/`` and its cousins treat every other URL as missing.
_NO_URL = f".webmap-no-network-{secrets.token_hex(16)}"
_COMMON_OPTIONS = {
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": _NO_URL,
    "CPL_VSIL_CURL_ALLOWED_FILENAME": _NO_URL,
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_VRT_ENABLE_PYTHON": "NO",
}
#: pyogrio's GDAL, for the whole process: SQL in a GeoPackage may not ATTACH other files or
#: open other datasets (GDAL's default, made explicit), KML styles are not fetched.
VECTOR_OPTIONS = {
    **_COMMON_OPTIONS,
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
    "ALLOW_VIRTUAL_OGR_FROM_TRIGGER_AND_VIEW": "NO",
    "ALLOW_OGR_SQL_FUNCTIONS_FROM_TRIGGER_AND_VIEW": "NO",
    "LIBKML_RESOLVE_STYLE": "NO",
}
#: rasterio's GDAL, while an untrusted raster is open: no side files (``.aux.xml``, ``.ovr``,
#: ``.msk``, world files) are looked for or written beside it.
RASTER_OPTIONS = {
    **_COMMON_OPTIONS,
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_PAM_ENABLED": "NO",
}

_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*:")


def local_file(path: str | Path) -> Path:
    """``path`` as an absolute local file, or :class:`UnsupportedFormat`."""
    text = str(path)
    if text.startswith("/vsi") or "://" in text or _PREFIX.match(text) or "\x00" in text:
        raise UnsupportedFormat("Only plain local files are read, not GDAL paths or URLs.")
    absolute = Path(text).absolute()
    if str(absolute).startswith("/vsi") or not absolute.is_file():
        raise UnsupportedFormat(f"{absolute.name!r} is not a readable file.")
    return absolute


def vector_format(path: Path) -> str:
    """The declared vector format of a staff import file, by its suffix."""
    fmt = _VECTOR_SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnsupportedFormat(
            f"Files ending in {path.suffix or '(nothing)'} are not read; use GeoPackage, "
            "GeoJSON, a (zipped) Shapefile, FlatGeobuf, KML or OpenStreetMap."
        )
    return fmt


def checked_vector(path: str | Path, fmt: str) -> str:
    """The GDAL path of ``path`` once it has passed the content checks for ``fmt``."""
    local = local_file(path)
    if local.suffix.lower() == ".zip" and fmt == "Shapefile":
        _check_zipped_shapefiles(local)
        return f"/vsizip/{local}"
    kind = content.require(local, fmt)
    if kind in ("shp", "text"):
        content.check_side_files(local)
    if kind == "kml":
        content.check_kml(local)
    if kind == "gpkg":
        content.check_geopackage(local)
    return str(local)


def _check_zipped_shapefiles(archive: Path) -> None:
    """A zip read in place must hold Shapefiles whose parts are what they claim."""
    import tempfile

    from layers.ingest.archive import safe_extract
    from layers.ingest.limits import IngestLimits

    # Staff imports only (uploads are unpacked by the pipeline): unpack the small parts to
    # check them with the same code as uploads; the .shp is checked by its header.
    with tempfile.TemporaryDirectory(prefix="webmap-zipcheck-") as scratch:
        files = safe_extract(archive, Path(scratch), IngestLimits())
        shapefiles = [f for f in files if f.suffix.lower() == ".shp"]
        if not shapefiles:
            raise UnsupportedFormat(f"{archive.name} holds no Shapefile.")
        for shp in shapefiles:
            content.require(shp, "Shapefile")
            content.check_side_files(shp)


# --- pyogrio (vectors) --------------------------------------------------------------------

_lock = threading.Lock()
_vector_ready = False
_raster_ready = False


class _HTTPResult(ctypes.Structure):
    """GDAL's ``CPLHTTPResult`` (cpl_http.h)."""

    _fields_ = [
        ("nStatus", ctypes.c_int),
        ("pszContentType", ctypes.c_void_p),
        ("pszErrBuf", ctypes.c_void_p),
        ("nDataLen", ctypes.c_int),
        ("nDataAlloc", ctypes.c_int),
        ("pabyData", ctypes.c_void_p),
        ("papszHeaders", ctypes.c_void_p),
        ("nMimePartCount", ctypes.c_int),
        ("pasMimePart", ctypes.c_void_p),
    ]


_FETCH = ctypes.CFUNCTYPE(
    ctypes.c_void_p,
    ctypes.c_char_p,
    *(ctypes.c_void_p for _ in range(6)),
)
#: Per thread: URLs GDAL tried to fetch during the current guarded read.
_attempts = threading.local()
#: The callbacks must outlive every call GDAL makes to them.
_callbacks: list[Any] = []


def _refuse_http(lib: ctypes.CDLL) -> Any:
    """A ``CPLHTTPFetchCallbackFunc`` answering every request with an error."""
    lib.CPLCalloc.restype = ctypes.c_void_p
    lib.CPLCalloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    lib.CPLStrdup.restype = ctypes.c_void_p
    lib.CPLStrdup.argtypes = [ctypes.c_char_p]

    def refuse(url: bytes | None, *_: Any) -> int:
        tried = getattr(_attempts, "urls", None)
        if tried is not None:
            tried.append(url or b"")
        result = lib.CPLCalloc(1, ctypes.sizeof(_HTTPResult))
        record = _HTTPResult.from_address(result)
        record.nStatus = 1  # CURLE_UNSUPPORTED_PROTOCOL: GDAL treats it as a failed request
        record.pszErrBuf = lib.CPLStrdup(b"webmap: GDAL may not use the network")
        return int(result)

    callback = _FETCH(refuse)
    _callbacks.append(callback)
    return callback


def _install_http_refusal(lib: ctypes.CDLL) -> None:
    """Install the refusal in the GDAL behind ``lib`` and prove that it answers."""
    callback = _refuse_http(lib)
    lib.CPLHTTPSetFetchCallback.argtypes = [_FETCH, ctypes.c_void_p]
    lib.CPLHTTPSetFetchCallback(callback, None)
    lib.CPLHTTPFetch.restype = ctypes.POINTER(_HTTPResult)
    lib.CPLHTTPFetch.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    lib.CPLHTTPDestroyResult.argtypes = [ctypes.POINTER(_HTTPResult)]
    _attempts.urls = []
    try:
        answer = lib.CPLHTTPFetch(b"http://127.0.0.1:9/webmap-gdal-policy-self-test", None)
        refused = bool(answer) and answer.contents.nStatus == 1 and len(_attempts.urls) == 1
        if answer:
            lib.CPLHTTPDestroyResult(answer)
    finally:
        _attempts.urls = None
    if not refused:
        raise RuntimeError("GDAL's HTTP client could not be switched off; refusing to read.")


def _gdal_of(extension_module: str) -> ctypes.CDLL:
    """The GDAL library a compiled extension is linked with (pyogrio and rasterio each
    bundle their own): symbols looked up through its handle resolve in its dependencies."""
    import importlib

    module = importlib.import_module(extension_module)
    lib = ctypes.CDLL(str(module.__file__))
    lib.GDALVersionInfo.restype = ctypes.c_char_p
    lib.GDALVersionInfo.argtypes = [ctypes.c_char_p]
    return lib


def _harden_vector_gdal() -> None:
    """Once per process: pyogrio's GDAL keeps only the allowed drivers and no network."""
    global _vector_ready
    if _vector_ready:
        return
    with _lock:
        if _vector_ready:
            return
        import pyogrio

        lib = _gdal_of("pyogrio._ogr")
        if lib.GDALVersionInfo(b"RELEASE_NAME").decode() != pyogrio.__gdal_version_string__:
            raise RuntimeError("Cannot find the GDAL library pyogrio uses; refusing to read.")
        allowed = {d for drivers in VECTOR_FORMATS.values() for d in drivers}
        extra = sorted(set(pyogrio.list_drivers()) - allowed)
        pyogrio.set_gdal_config_options({**VECTOR_OPTIONS, "OGR_SKIP": ",".join(extra) or None})
        # GDALAllRegister ends by unloading what OGR_SKIP names (AutoSkipDrivers).
        lib.GDALAllRegister()
        left = set(pyogrio.list_drivers()) - allowed
        if left:
            raise RuntimeError(f"GDAL drivers {sorted(left)} could not be unloaded.")
        _install_http_refusal(lib)
        _vector_ready = True


def self_check() -> list[str]:
    """Apply the policy to both GDAL copies in this process, as the first read of an upload
    would, and return the vector drivers pyogrio's GDAL still has (``webmap doctor`` compares
    them with :data:`VECTOR_FORMATS`). RuntimeError when a guard could not be installed."""
    import pyogrio

    _harden_vector_gdal()
    _harden_raster_gdal()
    return sorted(pyogrio.list_drivers())


@contextmanager
def _no_network(what: str) -> Iterator[None]:
    """Refuse the file when GDAL tried to fetch anything while reading it."""
    outer = getattr(_attempts, "urls", None)
    _attempts.urls = []
    try:
        yield
        if _attempts.urls:
            raise UnsupportedFormat(
                f"The {what} file refers to a network address; uploads are read on their own "
                "and nothing they point to is fetched."
            )
    finally:
        _attempts.urls = outer


def _check_driver(found: str | None, fmt: str) -> None:
    if found not in VECTOR_FORMATS[fmt]:
        raise UnsupportedFormat(f"The file is read by GDAL as {found}, not {fmt}.")


def vector_info(path: str, fmt: str, **kwargs: Any) -> dict[str, Any]:
    """``pyogrio.read_info`` of a path from :func:`checked_vector`, with the driver checked."""
    import pyogrio

    _harden_vector_gdal()
    with _no_network(fmt):
        info: dict[str, Any] = pyogrio.read_info(path, **kwargs)
    _check_driver(info.get("driver"), fmt)
    return info


def vector_read(path: str, fmt: str, **kwargs: Any) -> Any:
    """``pyogrio.raw.read`` of a path whose driver :func:`vector_info` has checked.

    The restriction is not an argument here because pyogrio has none to pass: pyogrio's GDAL
    holds only the upload drivers (:func:`_harden_vector_gdal` unloads the rest, VRT and every
    network driver among them, and checks it did), and :func:`vector_info`, which every caller
    runs first, refuses a file another of those drivers claimed.
    """
    import pyogrio.raw

    _harden_vector_gdal()
    with _no_network(fmt):
        return pyogrio.raw.read(path, **kwargs)


def vector_layers(path: str, fmt: str) -> Any:
    """``pyogrio.list_layers`` of a path from :func:`checked_vector` (the same drivers only)."""
    import pyogrio

    _harden_vector_gdal()
    with _no_network(fmt):
        return pyogrio.list_layers(path)


# --- rasterio (rasters) -------------------------------------------------------------------


def _harden_raster_gdal() -> None:
    global _raster_ready
    if _raster_ready:
        return
    with _lock:
        if _raster_ready:
            return
        import rasterio

        lib = _gdal_of("rasterio._base")
        if lib.GDALVersionInfo(b"RELEASE_NAME").decode() != rasterio.__gdal_version__:
            raise RuntimeError("Cannot find the GDAL library rasterio uses; refusing to read.")
        _install_http_refusal(lib)
        _raster_ready = True


def raster_format(path: Path) -> str:
    """The declared raster format by suffix (``.tif``/``.tiff``: GeoTIFF, ``.hgt``: SRTM)."""
    fmt = RASTER_SUFFIX_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnsupportedFormat(
            f"{path.name!r} is not a raster GDAL can read here: send a GeoTIFF (.tif) or an "
            "SRTM tile (.hgt)."
        )
    return fmt


@contextmanager
def open_untrusted_raster(path: Path) -> Iterator[Any]:
    """Open ``path`` with its format's GDAL driver only, under :data:`RASTER_OPTIONS`.

    The options stay in force while the dataset is open (reads happen later); a
    ``RasterioIOError`` from opening is the caller's to explain.
    """
    import rasterio

    fmt = raster_format(path)
    local = local_file(path)
    try:
        kind = content.require(local, fmt)
    except UnsupportedFormat as exc:
        found = content.LABELS[exc.extensions["found"]]
        raise UnsupportedFormat(
            f"{path.name!r} is not a raster GDAL can read as {fmt}: the file is {found}.",
            **exc.extensions,
        ) from exc
    # One driver per open, chosen by the bytes among those the format allows.
    driver = "GTiff" if kind == "tiff" else RASTER_FORMATS[fmt][0]
    _harden_raster_gdal()
    with rasterio.Env(**RASTER_OPTIONS), rasterio.open(local, driver=driver) as src:
        if src.driver not in RASTER_FORMATS[fmt]:
            raise UnsupportedFormat(f"The file is read by GDAL as {src.driver}, not {fmt}.")
        yield src
