"""More formats through the same pipeline: KML, the old GeoJSON ``crs`` member, and Shapefiles
whose DBF is UTF-8 or ISO-8859-1 without a ``.cpg``, with and without a ``.prj``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.layers_helpers import decoded_tile, token_headers, upload, zip_files

NAMES = ["Årsta gård", "Änggårdsbergen", "Östra Ängby"]


@pytest.fixture(scope="module")
def staff(sample_database: str) -> dict[str, str]:
    return token_headers(sample_database, "publish", "formats")


def _points_geojson(path: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"namn": name, "nr": i},
            "geometry": {"type": "Point", "coordinates": [18.0 + i * 0.01, 59.3]},
        }
        for i, name in enumerate(NAMES)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def _shapefile(tmp_path: Path, encoding: str, srs: str, prj: bool) -> bytes:
    source = _points_geojson(tmp_path / "src.geojson")
    out = tmp_path / f"platser_{encoding.lower().replace('-', '')}.shp"
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "ESRI Shapefile",
            "-t_srs",
            srs,
            "-lco",
            f"ENCODING={encoding}",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    out.with_suffix(".cpg").unlink(missing_ok=True)  # make the reader detect the encoding
    members: dict[str, bytes | Path] = {
        out.with_suffix(ext).name: out.with_suffix(ext) for ext in (".shp", ".shx", ".dbf")
    }
    if prj:
        members[out.with_suffix(".prj").name] = out.with_suffix(".prj")
    return zip_files(members)


@pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-1"])
def test_shapefile_dbf_encoding_is_detected_without_cpg(
    client: FlaskClient, staff: dict[str, str], tmp_path: Path, encoding: str
) -> None:
    data = _shapefile(tmp_path, encoding, "EPSG:3006", prj=True)
    name = f"enc_{encoding.lower().replace('-', '')}"
    response = upload(client, staff, data, "platser.zip", name)
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert report["source"]["encoding"] == encoding and report["crs"]["srid"] == 3006
    tile = decoded_tile(client, name, 18.01, 59.3, 10)
    assert sorted(f["properties"]["namn"] for f in tile[name]["features"]) == sorted(NAMES)


def test_shapefile_without_prj_needs_an_srid(
    client: FlaskClient, staff: dict[str, str], tmp_path: Path
) -> None:
    data = _shapefile(tmp_path, "UTF-8", "EPSG:3011", prj=False)
    refused = upload(client, staff, data, "utan_prj.zip", "noprj")
    assert refused.status_code == 422
    assert "local SWEREF 99 zones" in refused.get_json()["hint"]
    ok = upload(client, staff, data, "utan_prj.zip", "noprj", srid=3011)
    assert ok.status_code == 201
    tile = decoded_tile(client, "noprj", 18.01, 59.3, 10)
    assert len(tile["noprj"]["features"]) == 3


def test_geojson_with_the_old_crs_member(client: FlaskClient, staff: dict[str, str]) -> None:
    # Stockholm City Hall in SWEREF 99 TM, declared the pre-RFC 7946 way.
    document = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"namn": "Stadshuset"},
                "geometry": {"type": "Point", "coordinates": [673916.0, 6580510.0]},
            }
        ],
    }
    response = upload(client, staff, json.dumps(document).encode(), "stadshuset.json", "townhall")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["report"]["crs"] == {
        "srid": 3006,
        "name": "EPSG:3006 (SWEREF 99 TM)",
        "from": "declared",
    }
    west, south, _east, _north = client.get("/api/layers/townhall", headers=staff).get_json()[
        "bounds"
    ]
    assert abs(west - 18.054) < 0.01 and abs(south - 59.3275) < 0.01


def test_swapped_lat_lon_is_refused_with_a_hint(client: FlaskClient, staff: dict[str, str]) -> None:
    csv = b"namn,lat,lon\nA,18.07,59.33\nB,18.08,59.34\n"  # columns mislabelled
    refused = upload(client, staff, csv, "swapped.csv", "swapped")
    assert refused.status_code == 422
    assert "swapped" in refused.get_json()["hint"]


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>Lekplatser</name>
<Placemark><name>Vasaparkens lekplats</name><Point><coordinates>18.043,59.341</coordinates></Point>
</Placemark>
<Placemark><name>Humlegårdens lekplats</name><Point><coordinates>18.072,59.339,0</coordinates>
</Point></Placemark>
</Folder></Document></kml>"""


def test_kml_points_publish(client: FlaskClient, staff: dict[str, str]) -> None:
    response = upload(client, staff, KML.encode(), "lekplatser.kml", "playgrounds")
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert report["source"]["format"] == "KML" and report["stored"] == 2
    tile = decoded_tile(client, "playgrounds", 18.06, 59.34, 11)
    names = {f["properties"]["Name"] for f in tile["playgrounds"]["features"]}
    assert names == {"Vasaparkens lekplats", "Humlegårdens lekplats"}


def test_csv_rows_without_usable_coordinates_are_reported_by_index(
    client: FlaskClient, staff: dict[str, str]
) -> None:
    csv = b"namn,lon,lat\nA,18.07,59.33\nB,nan,59.34\nC,18.08,inf\nD,,\nE,18.09,59.35\n"
    response = upload(client, staff, csv, "platser.csv", "csv_gaps")
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert report["stored"] == 2 and report["features_read"] == 5
    assert [r["index"] for r in report["rejected"]] == [1, 2, 3]
    assert report["crs"]["from"] == "assumed" and "WGS 84" in report["warnings"][0]


def _sweref_points(count: int, stray: bool) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"nr": i},
            "geometry": {"type": "Point", "coordinates": [674000.0 + 50 * i, 6580000.0 + 20 * i]},
        }
        for i in range(count)
    ]
    if stray:  # a classic export error: a point at 0,0 ("null island")
        features.insert(
            3,
            {
                "type": "Feature",
                "properties": {"nr": -1},
                "geometry": {"type": "Point", "coordinates": [0.0, 0.0]},
            },
        )
    document = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}},
        "features": features,
    }
    return json.dumps(document).encode()


def test_a_stray_point_at_null_island_is_left_out_not_the_whole_layer(
    client: FlaskClient, staff: dict[str, str]
) -> None:
    response = upload(client, staff, _sweref_points(120, stray=True), "p.geojson", "strays")
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert report["stored"] == 120
    assert report["rejected"] == [
        {"index": 3, "reason": "far from the rest of the layer (stray coordinates)"}
    ]
    assert any("stray" in w for w in report["warnings"])
    west, south, east, north = client.get("/api/layers/strays", headers=staff).get_json()["bounds"]
    assert 18.0 < west < east < 18.3 and 59.3 < south < north < 59.4
    # With too few features to tell strays from data, the whole upload is refused instead.
    few = upload(client, staff, _sweref_points(5, stray=True), "p.geojson", "strays_few")
    assert few.status_code == 422


@pytest.mark.parametrize("srid", [3006, 3011, 3021, 25833, 3857, 4326])
def test_every_supported_crs_lands_where_it_should(
    client: FlaskClient, staff: dict[str, str], tmp_path: Path, srid: int
) -> None:
    """Points written in each CRS by GDAL come back through OGC API at their WGS 84 position."""
    source = _points_geojson(tmp_path / "wgs84.geojson")
    target = tmp_path / f"platser_{srid}.gpkg"
    subprocess.run(
        ["ogr2ogr", "-f", "GPKG", "-t_srs", f"EPSG:{srid}", str(target), str(source)],
        check=True,
        capture_output=True,
    )
    name = f"crs_{srid}"
    response = upload(client, staff, target, target.name, name)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["report"]["crs"]["srid"] == srid
    items = client.get(f"/ogc/collections/{name}/items?limit=10").get_json()["features"]
    positions = {f["properties"]["namn"]: f["geometry"]["coordinates"] for f in items}
    for i, namn in enumerate(NAMES):
        lon, lat = positions[namn]
        # RT90 goes through a 7-parameter datum shift: about a metre is expected.
        assert abs(lon - (18.0 + i * 0.01)) < 2e-5 and abs(lat - 59.3) < 2e-5, (namn, lon, lat)


def test_chunks_prepared_in_parallel_keep_attributes_with_their_geometries(
    sample_database: str, tmp_path: Path
) -> None:
    """Many small chunks on two worker threads: every row keeps its own attributes and place."""
    import psycopg

    from layers.ingest import IngestOptions, publish_vector
    from layers.store import LayerSpec

    features = [
        {
            "type": "Feature",
            "properties": {"nr": i, "namn": f"punkt {i}"},
            "geometry": {"type": "Point", "coordinates": [17.0 + i * 0.001, 59.0 + i * 0.0005]},
        }
        for i in range(2_000)
    ]
    features[1234]["geometry"] = None  # one rejection in the middle, reported by its index
    path = tmp_path / "many.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    with psycopg.connect(sample_database, autocommit=True) as conn:
        result = publish_vector(
            conn, LayerSpec("chunked", "Bitar"), path, path.name, IngestOptions(chunk_size=37)
        )
        rows = conn.execute(
            f"SELECT nr, namn, ST_X(ST_Transform(geom, 4326)), ST_Y(ST_Transform(geom, 4326)) "
            f"FROM layerdata.chunked_v{result.version} ORDER BY fid"
        ).fetchall()
    assert result.report["rejected"] == [{"index": 1234, "reason": "empty or missing geometry"}]
    assert [r[0] for r in rows] == [i for i in range(2_000) if i != 1234]  # file order kept
    for nr, namn, lon, lat in rows:
        assert namn == f"punkt {nr}"
        assert abs(lon - (17.0 + nr * 0.001)) < 1e-9 and abs(lat - (59.0 + nr * 0.0005)) < 1e-9
