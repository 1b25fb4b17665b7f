"""Static map PNGs and their alternative text, drawn from the sample database."""

from __future__ import annotations

import io

import pytest
import shapely
from flask.testing import FlaskClient
from PIL import Image

from tiles import staticmap, style

# Kungliga biblioteket in Humlegården, Östermalm.
HUMLEGARDEN = "lon=18.0722&lat=59.3382"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=False))


def test_png_shows_the_park_the_marker_and_the_city(client: FlaskClient) -> None:
    response = client.get(f"/api/staticmap?{HUMLEGARDEN}&zoom=16&width=400&height=300")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data)).convert("RGB")
    assert image.size == (400, 300)
    colours = {colour for _count, colour in image.getcolors(maxcolors=100_000) or []}
    assert any(_close(c, _rgb(style.PARK)) for c in colours)  # Humlegården
    assert any(_close(c, _rgb(style.BUILDING)) for c in colours)
    assert _close(image.getpixel((200, 150)), (0x1A, 0x1A, 0x1A), 40)  # the marker's centre
    assert _close(image.getpixel((200 + 11, 150)), (0x1A, 0x1A, 0x1A), 40)  # its dark ring


def test_png_is_cacheable_and_revalidates(client: FlaskClient) -> None:
    first = client.get(f"/api/staticmap?{HUMLEGARDEN}&zoom=15")
    again = client.get(
        f"/api/staticmap?{HUMLEGARDEN}&zoom=15", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert first.headers["Cache-Control"] == "public, max-age=3600"
    assert again.status_code == 304


def test_alt_text_names_the_place_in_swedish_and_english(client: FlaskClient) -> None:
    sv = client.get(f"/api/staticmap.json?{HUMLEGARDEN}&zoom=16&width=600&height=400").get_json()
    en = client.get(f"/api/staticmap.json?{HUMLEGARDEN}&lang=en").get_json()
    assert sv["alt"].startswith("Karta med en markering vid ")
    assert "Stockholm kommun" in sv["alt"]
    assert "(fiktiv)" in sv["alt"]  # the sample's property register is fictional, and says so
    assert "m." in sv["alt"] and "område på ungefär" in sv["alt"]
    assert en["alt"].startswith("Map with a marker near ")
    assert "Stockholm municipality" in en["alt"]
    assert sv["image"].startswith("http://localhost/api/staticmap?")
    assert client.get(sv["image"].replace("http://localhost", "")).mimetype == "image/png"


@pytest.mark.parametrize(
    ("query", "named", "slug"),
    [
        # Parameters that do not parse are invalid-input (webmap.http.params); values that parse
        # but make no map are the static map's own problem (tiles.staticmap.InvalidStaticMap).
        ("", "lon", "invalid-input"),
        ("lon=18.07", "lat", "invalid-input"),
        ("lon=abc&lat=59.3", "lon", "invalid-input"),
        ("lon=nan&lat=59.3", "lon", "invalid-input"),
        ("lon=18.07&lat=95", "lat", "invalid-static-map"),
        ("lon=18.07&lat=59.3&zoom=21", "zoom", "invalid-input"),
        ("lon=18.07&lat=59.3&zoom=1.5", "zoom", "invalid-input"),
        ("lon=18.07&lat=59.3&width=10", "width", "invalid-input"),
        ("lon=18.07&lat=59.3&height=5000", "height", "invalid-input"),
    ],
)
def test_bad_requests_are_problem_json(
    client: FlaskClient, query: str, named: str, slug: str
) -> None:
    response = client.get(f"/api/staticmap?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == f"/problems/{slug}", body
    assert named in body["detail"]


def test_unknown_language_is_refused(client: FlaskClient) -> None:
    response = client.get(f"/api/staticmap.json?{HUMLEGARDEN}&lang=de")
    assert response.status_code == 400
    assert response.get_json()["type"] == "/problems/invalid-static-map"


def test_world_view_with_shapes_clipped_to_nothing_renders(client: FlaskClient) -> None:
    # Found by tests/test_fuzz.py: at z2 over the Gulf of Guinea a simplified shape came back
    # empty and Pillow refused to draw it (500).
    response = client.get("/api/staticmap?lat=4.0&lon=0.0&zoom=2")
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data)).convert("RGB")
    assert image.size == (600, 400)
    assert _close(image.getpixel((300, 200)), _rgb("#1a1a1a"), 40)  # the marker's dot
    assert list(staticmap._parts(shapely.Polygon(), ("Polygon",))) == []
    assert list(staticmap._parts(shapely.LineString(), ("LineString",))) == []


def test_alt_text_of_a_place_far_from_sweden_gives_its_position(client: FlaskClient) -> None:
    # Found by tests/test_fuzz.py: SWEREF 99 TM is undefined at 96° E, the lookup failed (500).
    sv = client.get("/api/staticmap.json?lat=0.0&lon=96.0")
    assert sv.status_code == 200
    assert "vid 0,00000° N, 96,00000° E (WGS 84)" in sv.get_json()["alt"]
    en = client.get("/api/staticmap.json?lat=-33.9&lon=-70.6&lang=en").get_json()
    assert en["alt"].startswith("Map with a marker at 33.90000° S, 70.60000° W (WGS 84).")


def test_the_feature_cap_keeps_visible_features_in_id_order(sample_database: str) -> None:
    """Invisible features (EMPTY at the zoom) are dropped before the cap, which takes features
    by id: a capped static map is the same every time and never loses what can be seen."""
    import psycopg
    from psycopg import sql

    from layers.catalog import load_catalog
    from layers.schema import DATA_SCHEMA
    from layers.store import overview_sql
    from tiles.tilesets import BASEMAP, resolve_tileset

    with psycopg.connect(sample_database) as conn:
        source = next(
            s
            for s in resolve_tileset(BASEMAP, load_catalog(conn)).sources
            if s.layer.name == "buildings"
        )
        box = [2_010_000.0, 8_250_000.0, 2_016_000.0, 8_256_000.0]  # Östermalm, EPSG:3857
        zoom = 11  # 79 of the 178 sample buildings there are big enough to see
        table = sql.Identifier(DATA_SCHEMA, source.layer.table_name)
        counts = conn.execute(
            sql.SQL(
                "SELECT count(*) FILTER (WHERE NOT ST_IsEmpty({g})), count(*) FROM {t} AS t "
                "WHERE t.geom && ST_MakeEnvelope(%s, %s, %s, %s, 3857)"
            ).format(g=overview_sql(zoom, "t"), t=table),
            box,
        ).fetchone()
        assert counts is not None
        visible, everything = counts
        assert 20 < visible < everything
        cap = visible - 5
        renderer = staticmap.StaticMapRenderer(lambda: psycopg.connect(sample_database), cap)
        first = renderer._shapes(conn, source, zoom, box)
        again = renderer._shapes(conn, source, zoom, box)
    assert len(first) == cap
    assert not any(shape.is_empty for shape, _ in first)
    assert [shape.wkb for shape, _ in first] == [shape.wkb for shape, _ in again]


def _live_version(client: FlaskClient) -> str:
    return str(client.get("/healthz").get_json()["data_version"])


def test_preview_flavour_is_an_unmarked_webp_immutable_at_the_live_version(
    client: FlaskClient,
) -> None:
    version = _live_version(client)
    query = f"{HUMLEGARDEN}&zoom=16&width=400&height=300"
    marked = client.get(f"/api/staticmap?{query}&format=webp")
    preview = client.get(f"/api/staticmap?{query}&marker=false&format=webp&v={version}")
    assert preview.status_code == 200 and preview.mimetype == "image/webp"
    assert preview.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert marked.headers["Cache-Control"] == "public, max-age=3600"  # no v: may change
    with_marker = Image.open(io.BytesIO(marked.data)).convert("RGB")
    without = Image.open(io.BytesIO(preview.data)).convert("RGB")
    assert without.size == (400, 300)
    assert _close(with_marker.getpixel((200, 150)), (0x1A, 0x1A, 0x1A), 40)
    assert not _close(without.getpixel((200, 150)), (0x1A, 0x1A, 0x1A), 40)
    # Lossy WebP of line art is far smaller than the palette PNG: the point of the flavour.
    png = client.get(f"/api/staticmap?{query}&marker=false")
    assert len(preview.data) < len(png.data) * 0.6
    # Drawn once, then from the cache of versioned images: the same bytes.
    again = client.get(f"/api/staticmap?{query}&marker=false&format=webp&v={version}")
    assert again.data == preview.data
    assert (
        client.get(
            f"/api/staticmap?{query}&marker=false&format=webp&v={version}",
            headers={"If-None-Match": preview.headers["ETag"]},
        ).status_code
        == 304
    )


def test_preview_at_an_old_version_redirects_to_the_live_one(client: FlaskClient) -> None:
    version = _live_version(client)
    old = client.get(f"/api/staticmap?{HUMLEGARDEN}&marker=false&format=webp&v=0ld")
    assert old.status_code == 302
    assert old.headers["Location"].endswith(f"v={version}")
    assert "marker=false" in old.headers["Location"] and "format=webp" in old.headers["Location"]


@pytest.mark.parametrize("query", ["format=gif", "marker=no", "v=" + "x" * 65])
def test_bad_preview_parameters_are_problem_json(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/staticmap?{HUMLEGARDEN}&{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
