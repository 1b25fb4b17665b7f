"""The demo pages preload the first basemap tiles of their start view (tiles/preload.py).

Checked against the real grid (morecantile), the real TileJSON template (the preloaded URLs
must be exactly the ones the widget asks for, or the browser fetches them twice) and real tiles
(each preloaded URL answers a decodable MVT with the basemap's layers).
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import morecantile
import pytest
from flask.testing import FlaskClient

from tests.tile_helpers import decode
from tiles.preload import first_tiles
from webmap.pages.widget import DEMO_CENTER

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")


@pytest.mark.parametrize(
    ("lon", "lat", "zoom"), [(18.075, 59.338, 16), (13.0038, 55.605, 12.4), (-70.1, -33.4, 9)]
)
def test_the_block_holds_the_centre_and_touches_the_nearest_corner(
    lon: float, lat: float, zoom: float
) -> None:
    tiles = first_tiles(lon, lat, zoom, data_maxzoom=16)
    assert len(tiles) == 4 and len(set(tiles)) == 4
    z = round(zoom) - 1  # 512-pixel tiles: one zoom level below the view's
    assert {t.z for t in tiles} == {z}
    assert WEB_MERCATOR.tile(lon, lat, z) in tiles
    xs, ys = sorted({t.x for t in tiles}), sorted({t.y for t in tiles})
    assert xs[1] == xs[0] + 1 and ys[1] == ys[0] + 1
    # The corner the four share is within half a tile of the centre in both directions.
    corner = WEB_MERCATOR.ul(morecantile.Tile(xs[1], ys[1], z))
    x, y = WEB_MERCATOR.xy(lon, lat)
    size = WEB_MERCATOR.xy_bounds(tiles[0])
    half = (size.right - size.left) / 2
    corner_x, corner_y = WEB_MERCATOR.xy(corner.x, corner.y)
    assert abs(corner_x - x) <= half + 1e-6 and abs(corner_y - y) <= half + 1e-6


def test_over_zoomed_views_use_the_deepest_data_and_edges_are_clamped() -> None:
    assert {t.z for t in first_tiles(18.075, 59.338, 20, data_maxzoom=16)} == {16}
    assert first_tiles(0.0, 0.0, 1, data_maxzoom=16) == [morecantile.Tile(0, 0, 0)]
    corner = first_tiles(-180.0, 85.0, 3, data_maxzoom=16)
    assert sorted((t.x, t.y) for t in corner) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    with pytest.raises(ValueError, match="outside Web Mercator"):
        first_tiles(18.0, 89.0, 10, data_maxzoom=16)


@pytest.mark.parametrize(("page", "zoom"), [("/demo", 16), ("/demo/bygglov", 17)])
def test_demo_pages_preload_exactly_the_widgets_first_tiles(
    client: FlaskClient, page: str, zoom: int
) -> None:
    html = client.get(page).get_data(as_text=True)
    assert f'center="{DEMO_CENTER[0]},{DEMO_CENTER[1]}" zoom="{zoom}"' in html
    hrefs = [
        unescape(href)
        for href in re.findall(
            r'<link rel="preload" as="fetch" crossorigin="anonymous" '
            r'href="([^"]+\.mvt[^"]*)">',
            html,
        )
    ]
    template = client.get("/tiles/basemap.json").get_json()["tiles"][0]
    expected = [
        template.format(z=t.z, x=t.x, y=t.y)
        for t in first_tiles(*DEMO_CENTER, zoom, data_maxzoom=16)
    ]
    assert hrefs == expected
    for href in hrefs:
        url = urlsplit(href)
        response = client.get(f"{url.path}?{url.query}")
        assert response.status_code == 200
        layers = decode(response.get_data())
        assert "roads" in layers or "buildings" in layers
