"""Vector tiles served from the sample database, decoded and checked against the source data."""

from __future__ import annotations

from pathlib import Path

import pyogrio.raw
import pytest
import shapely
from flask import Flask
from flask.testing import FlaskClient

from tests.tile_helpers import decode, feature_shapes, tile_coordinates, tile_of, to_tile_grid
from tiles.tilesets import Tileset, TileSource
from webmap.services import services

OSM = Path(__file__).resolve().parent.parent / "data" / "osm" / "stockholm-ostermalm.osm"


def _osm_geometries(layer: str, field: str, value: str) -> list[shapely.Geometry]:
    """Geometries straight from the OSM file (GDAL), independent of the database."""
    meta, _fids, geometries, columns = pyogrio.raw.read(str(OSM), layer=layer)
    names = list(meta["fields"])
    return [
        shapely.from_wkb(wkb)
        for wkb, found in zip(geometries, columns[names.index(field)], strict=True)
        if found == value
    ]


def _tile(client: FlaskClient, name: str, z: int, x: int, y: int) -> dict:
    response = client.get(f"/tiles/{name}/{z}/{x}/{y}.mvt")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    return decode(response.data)


def test_basemap_tile_over_ostermalm_has_the_city_layers(client: FlaskClient) -> None:
    tile = tile_of(18.0705, 59.3382, 15)
    layers = _tile(client, "basemap", tile.z, tile.x, tile.y)
    assert {"municipalities", "roads", "buildings", "pois", "landuse"} <= set(layers)
    assert "address_points" not in layers  # from z16 on
    assert all(layer["extent"] == 4096 for layer in layers.values())


def test_a_known_street_lies_where_osm_puts_it(client: FlaskClient) -> None:
    street = _osm_geometries("lines", "name", "Sturegatan")[0]
    lon, lat = street.coords[len(street.coords) // 2]
    tile = tile_of(lon, lat, 15)
    expected = shapely.Point(tile_coordinates(lon, lat, tile))
    roads = _tile(client, "basemap", tile.z, tile.x, tile.y)["roads"]
    drawn = feature_shapes(roads, name="Sturegatan")
    assert drawn, "Sturegatan is missing from its z15 tile"
    assert min(shape.distance(expected) for shape in drawn) <= 2.0


def test_a_known_building_is_drawn_at_its_footprint(client: FlaskClient) -> None:
    footprint = _osm_geometries("multipolygons", "name", "Kungliga biblioteket")[0]
    centre = footprint.centroid
    tile = tile_of(centre.x, centre.y, 15)
    expected = shapely.Point(tile_coordinates(centre.x, centre.y, tile))
    buildings = _tile(client, "basemap", tile.z, tile.x, tile.y)["buildings"]
    drawn = feature_shapes(buildings, name="Kungliga biblioteket")
    assert len(drawn) == 1
    assert drawn[0].geom_type in {"Polygon", "MultiPolygon"}
    assert drawn[0].buffer(1).contains(expected)
    source = to_tile_grid(footprint, tile)
    mismatch = drawn[0].symmetric_difference(source).area / source.area
    assert mismatch < 0.02  # same footprint, up to snapping to whole tile units


def test_municipality_border_of_stockholm_appears_at_z5(client: FlaskClient) -> None:
    tile = tile_of(18.07, 59.33, 5)
    layers = _tile(client, "basemap", tile.z, tile.x, tile.y)
    codes = {
        f["properties"]["code"]: f["properties"]["name"]
        for f in layers["municipalities"]["features"]
    }
    assert codes["0180"] == "Stockholm"
    assert "builtup" in layers  # built-up areas from z5
    stockholm = feature_shapes(layers["municipalities"], code="0180")
    assert stockholm[0].contains(shapely.Point(tile_coordinates(18.07, 59.33, tile)))


@pytest.mark.parametrize(
    ("lon", "lat", "zoom"),
    [(-20.0, 60.0, 5), (1.0, 58.0, 7), (20.5, 56.5, 8)],
    ids=["atlantic", "north-sea", "baltic-sea"],
)
def test_nothing_appears_over_the_sea(
    client: FlaskClient, lon: float, lat: float, zoom: int
) -> None:
    tile = tile_of(lon, lat, zoom)
    layers = _tile(client, "basemap", tile.z, tile.x, tile.y)
    assert sum(len(layer["features"]) for layer in layers.values()) == 0


def test_low_zoom_tiles_are_simplified_and_small(client: FlaskClient) -> None:
    whole_sweden = client.get("/tiles/basemap/3/4/2.mvt")
    assert 0 < len(whole_sweden.data) < 100_000
    z3 = decode(whole_sweden.data)["municipalities"]["features"]
    tile = tile_of(18.07, 59.33, 9)
    z9 = decode(client.get(f"/tiles/basemap/9/{tile.x}/{tile.y}.mvt").data)
    assert len(z3) > 250  # all of Sweden's municipalities in one small tile
    assert "municipalities" in z9


def test_single_layer_tiles_carry_all_its_fields(client: FlaskClient) -> None:
    tile = tile_of(18.0705, 59.3382, 16)
    layers = _tile(client, "address_points", tile.z, tile.x, tile.y)
    assert list(layers) == ["address_points"]
    feature = layers["address_points"]["features"][0]
    assert {"street", "housenumber"} <= set(feature["properties"])


def test_zoom_outside_a_layers_range_is_an_empty_tile(client: FlaskClient) -> None:
    tile = tile_of(18.0705, 59.3382, 8)
    response = client.get(f"/tiles/buildings/8/{tile.x}/{tile.y}.mvt")
    assert response.status_code == 200
    assert response.data == b""
    assert client.get("/tiles/basemap/23/0/0.mvt").data == b""


def test_points_without_overview_copies_are_drawn_at_low_zoom(app: Flask) -> None:
    """The sample stores no overview copies for points; tiles fall back to the full geometry."""
    with app.app_context():
        found = services()
        pois = found.catalog.get("pois")
        source = TileSource(pois, "pois", 0, 22, ("name",))
        anywhere = Tileset("t", "t", "", "1", (source,), "", True)
        data = found.renderer.render(anywhere, tile_of(18.0705, 59.3382, 9))
    assert len(decode(data)["pois"]["features"]) == pois.feature_count
