"""The demo pages and /embed preload the first basemap tiles of their start view
(tiles/preload.py) and show a preview of it (webmap.pages.widget, issue 15).

Checked against the real grid (morecantile), the real TileJSON template (the preloaded URLs
must be exactly the ones the widget asks for, or the browser fetches them twice) and real tiles
(each preloaded URL answers a decodable MVT with the basemap's layers).
"""

from __future__ import annotations

import re
from html import escape, unescape
from urllib.parse import parse_qsl, urlsplit

import morecantile
import pytest
from flask.testing import FlaskClient

from tests.tile_helpers import decode
from tiles.preload import first_tiles
from webmap.pages.widget import DEMO_CENTER, EMBED_CENTER

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


@pytest.mark.parametrize(
    ("page", "center", "zoom"),
    [("/demo", DEMO_CENTER, 16), ("/demo/bygglov", DEMO_CENTER, 17), ("/embed", EMBED_CENTER, 16)],
)
def test_pages_preload_exactly_the_widgets_first_tiles(
    client: FlaskClient, page: str, center: tuple[float, float], zoom: int
) -> None:
    html = client.get(page).get_data(as_text=True)
    assert f'center="{center[0]},{center[1]}" zoom="{zoom}"' in html
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
        template.format(z=t.z, x=t.x, y=t.y) for t in first_tiles(*center, zoom, data_maxzoom=16)
    ]
    assert hrefs == expected
    for href in hrefs:
        url = urlsplit(href)
        response = client.get(f"{url.path}?{url.query}")
        assert response.status_code == 200
        layers = decode(response.get_data())
        assert "roads" in layers or "buildings" in layers


def _hints(html: str) -> list[tuple[str, str]]:
    """Each preload hint as (as, what): the tile URLs reduced to "tile"."""
    found = []
    for tag in re.findall(r"<link rel=\"preload\"[^>]*>", html):
        kind = re.search(r'as="([^"]+)"', tag)
        href = unescape(re.search(r'href="([^"]+)"', tag).group(1))  # type: ignore[union-attr]
        what = urlsplit(href).path
        if what.endswith(".mvt"):
            what = "tile"
        found.append((kind.group(1) if kind else "", what))
    return found


def test_embed_has_the_same_preload_hints_as_the_demo(client: FlaskClient) -> None:
    demo = _hints(client.get("/demo").get_data(as_text=True))
    embed = _hints(client.get("/embed?lang=en").get_data(as_text=True))
    assert embed == demo
    assert [kind for kind, _ in demo].count("fetch") == 6  # style, TileJSON, four tiles
    assert ("font", "/fonts/noto-sans-latin-400-normal.woff2") in demo
    assert ("image", "/api/staticmap") in demo
    # The preview's hint comes before the widget's script; the others after it.
    html = client.get("/embed").get_data(as_text=True)
    assert html.index('as="image"') < html.index("/widget/webmap.js") < html.index('as="fetch"')


@pytest.mark.parametrize("page", ["/demo", "/demo/bygglov", "/embed"])
def test_pages_show_a_preview_of_the_start_view_at_the_live_data_version(
    client: FlaskClient, page: str
) -> None:
    html = client.get(page).get_data(as_text=True)
    picture = re.search(r"<picture slot=\"preview\".*?</picture>", html, re.S)
    assert picture is not None
    img = re.search(r"<img [^>]*>", picture.group(0))
    source = re.search(r"<source [^>]*>", picture.group(0))
    assert img is not None and source is not None
    src = unescape(re.search(r' src="([^"]+)"', img.group(0)).group(1))  # type: ignore[union-attr]
    query = dict(parse_qsl(urlsplit(src).query))
    assert query["v"] == client.get("/healthz").get_json()["data_version"]
    assert (query["marker"], query["format"]) == ("false", "webp")
    assert 'alt="Karta för att välja plats"' in img.group(0)
    assert 'width="800" height="420"' in img.group(0)
    assert f'srcset="{escape(src)} 400w" sizes="800px"' in img.group(0)
    # Phone-width pages: the centre of the same picture, at the same scale (0.5x), 400 px wide.
    narrow = unescape(re.search(r' srcset="([^" ]+) 200w"', source.group(0)).group(1))  # type: ignore[union-attr]
    assert dict(parse_qsl(urlsplit(narrow).query)) == {**query, "width": "200"}
    assert 'media="(max-width: 400px)"' in source.group(0) and 'sizes="400px"' in source.group(0)
    # Each picture preloaded where <picture> shows it, and only there.
    assert f'media="(max-width: 400px)" imagesrcset="{escape(narrow)} 200w"' in html
    assert f'media="not all and (max-width: 400px)" imagesrcset="{escape(src)} 400w"' in html
    for picture_src in (src, narrow):
        response = client.get(picture_src)
        assert response.status_code == 200 and response.mimetype == "image/webp"
    response = client.get(src)
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert response.headers["Cache-Control"].endswith("immutable")
