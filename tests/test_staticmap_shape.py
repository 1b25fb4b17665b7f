"""The chosen line or area on a static map (issue 10 §3, the bygglov receipt): drawn as an
outline (its pixels are in the PNG), fitted, described in the alt text in both languages, and
bad geometry refused with problem JSON. Real PNGs from the sample database."""

from __future__ import annotations

import io
import json
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from PIL import Image

from tiles.alttext import stated_area
from tiles.staticmap_shape import (
    CASING,
    MAX_SHAPE_VERTICES,
    OUTLINE,
    fit,
    parse_shape,
)

# A block in Östermalm, about 120 × 90 m.
AREA = {
    "type": "Polygon",
    "coordinates": [
        [
            [18.0740, 59.3375],
            [18.0761, 59.3375],
            [18.0761, 59.3383],
            [18.0740, 59.3383],
            [18.0740, 59.3375],
        ]
    ],
}
LINE = {"type": "LineString", "coordinates": [[18.0740, 59.3375], [18.0761, 59.3383]]}
CENTRE = "lon=18.07505&lat=59.3379"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _near(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 30) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=False))


def _png(client: FlaskClient, geometry: dict[str, object] | str, extra: str = "") -> Image.Image:
    text = geometry if isinstance(geometry, str) else json.dumps(geometry)
    response = client.get(
        f"/api/staticmap?{CENTRE}&zoom=17&width=400&height=300&geometry={quote(text)}{extra}"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return Image.open(io.BytesIO(response.data)).convert("RGB")


def test_the_area_is_outlined_where_it_lies_and_the_centre_has_no_marker(
    client: FlaskClient,
) -> None:
    image = _png(client, AREA)
    # At zoom 17 the block spans ~ ±(0.00105° lon, 0.0004° lat) around the centre: 400 × 300 px
    # at 1.2 m/px (Web Mercator at 59.34°: ~0.6 m per px on the ground) -> about ±98 px, ±70 px.
    dark = _rgb(OUTLINE)
    row = [image.getpixel((x, 150)) for x in range(400)]
    edges = [x for x, pixel in enumerate(row) if _near(pixel, dark, 40)]
    assert edges, "the outline's dark pixels cross the middle row"
    assert min(edges) < 120 and max(edges) > 280, edges  # both the west and the east edge
    column = [image.getpixel((200, y)) for y in range(300)]
    assert any(_near(p, dark, 40) for p in column[:110]) and any(
        _near(p, dark, 40) for p in column[190:]
    ), "the north and the south edge"
    # The casing beside the outline, and no marker (a dark dot) at the centre.
    assert any(_near(p, _rgb(CASING), 20) for p in row)
    assert not _near(image.getpixel((200, 150)), dark, 40)
    # Without the geometry the same request draws the marker there instead.
    response = client.get(f"/api/staticmap?{CENTRE}&zoom=17&width=400&height=300")
    plain = Image.open(io.BytesIO(response.data)).convert("RGB")
    assert _near(plain.getpixel((200, 150)), dark, 40)


def test_a_line_is_drawn(client: FlaskClient) -> None:
    image = _png(client, LINE)
    dark = _rgb(OUTLINE)
    # The line runs through the centre, from south-west to north-east.
    assert _near(image.getpixel((200, 150)), dark, 40)
    assert not _near(image.getpixel((200, 40)), dark, 40)


def test_the_etag_depends_on_the_geometry(client: FlaskClient) -> None:
    def etag(geometry: dict[str, object]) -> str:
        url = f"/api/staticmap?{CENTRE}&zoom=17&geometry={quote(json.dumps(geometry))}"
        return str(client.get(url).headers["ETag"])

    assert etag(AREA) != etag(LINE)


def test_alt_text_says_an_area_or_line_is_drawn_and_how_large(client: FlaskClient) -> None:
    geometry = quote(json.dumps(AREA))
    sv = client.get(f"/api/staticmap.json?{CENTRE}&zoom=17&geometry={geometry}").get_json()
    en = client.get(f"/api/staticmap.json?{CENTRE}&zoom=17&geometry={geometry}&lang=en").get_json()
    area = stated_area(parse_shape(json.dumps(AREA)).measure())
    assert 8_000 <= area <= 12_000
    shown = f"{area:,}".replace(",", "\u00a0")
    assert sv["alt"].startswith(
        f"Karta där det valda området på ungefär {shown} m² är inritat, vid "
    )
    assert "Stockholm kommun" in sv["alt"] and "Kartan visar ett område på ungefär" in sv["alt"]
    assert en["alt"].startswith(f"Map with the chosen area of about {area:,} m² outlined, near ")
    assert "geometry=" in sv["image"]
    line = client.get(f"/api/staticmap.json?{CENTRE}&geometry={quote(json.dumps(LINE))}").get_json()
    assert line["alt"].startswith("Karta där den valda linjen på ungefär ")


@pytest.mark.parametrize(
    ("geometry", "words"),
    [
        ("not json", "not JSON"),
        ('{"type":"Point","coordinates":[18,59]}', "LineString or Polygon"),
        ('{"type":"LineString","coordinates":[[18,59]]}', "at least 2"),
        (
            '{"type":"Polygon","coordinates":[[[18,59],[18.1,59],[18.1,59.1],[18,59.2]]]}',
            "last the first",
        ),
        ('{"type":"LineString","coordinates":[[18,59],[200,59]]}', "longitude"),
        ('{"type":"LineString","coordinates":[[18,59],["18",59]]}', "[longitude, latitude]"),
        ('{"type":"LineString","coordinates":[[18,59],[1e999,59]]}', "longitude"),
        (
            '{"type":"LineString","coordinates":'
            + json.dumps([[18, 59]] * (MAX_SHAPE_VERTICES + 1))
            + "}",
            "at most",
        ),
        ("[" * 5000 + "]" * 5000, "at most"),
        ('{"type":"Polygon","coordinates":7}', "no coordinates"),
    ],
)
def test_bad_geometry_is_a_problem(client: FlaskClient, geometry: str, words: str) -> None:
    response = client.get(f"/api/staticmap?{CENTRE}&geometry={quote(geometry)}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert words in response.get_json()["detail"]


def test_fit_frames_the_shape() -> None:
    lon, lat, zoom = fit(parse_shape(json.dumps(AREA)), 600, 300, 18)
    assert abs(lon - 18.07505) < 1e-6 and abs(lat - 59.3379) < 1e-3
    assert zoom == 17  # 120 m wide in 520 px: zoom 18 would not fit 160 m of height in 220 px
    assert fit(parse_shape(json.dumps(LINE)), 600, 300, 15)[2] == 15  # capped
