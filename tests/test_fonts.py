"""The fonts the map's labels are drawn with: glyph ranges for MapLibre, web fonts for OpenLayers.

The glyph files are decoded here with a small protobuf wire reader (the format is four nested
messages), so the test checks what a renderer would read: the font's name, the range, and SDF
bitmaps of the advertised size for å, ä, ö and the Sámi letters.
"""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from flask.testing import FlaskClient

from tiles.glyphs import FONTS, FontNotFound, empty_range, parse_range

SWEDISH_AND_SAMI = "åäöÅÄÖŊŋĐđŦŧŠšŽžČčƷʒǮǯǦǧǨǩǤǥ"


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _fields(data: bytes) -> list[tuple[int, Any]]:
    """(field number, int or bytes) of one message, in order."""
    out: list[tuple[int, Any]] = []
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            out.append((number, value))
        elif wire == 2:
            length, at = _varint(data, at)
            out.append((number, data[at : at + length]))
            at += length
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return out


def _stack(body: bytes) -> tuple[str, str, dict[int, dict[int, Any]]]:
    ((number, stack),) = _fields(body)
    assert number == 1
    parts = _fields(stack)
    name = next(v for n, v in parts if n == 1).decode()
    span = next(v for n, v in parts if n == 2).decode()
    glyphs = {}
    for n, raw in parts:
        if n == 3:
            glyph = dict(_fields(raw))
            glyphs[glyph[1]] = glyph
    return name, span, glyphs


def test_glyph_ranges_have_swedish_and_sami_letters(client: FlaskClient) -> None:
    seen: dict[int, dict[int, Any]] = {}
    for start in sorted({ord(c) // 256 * 256 for c in SWEDISH_AND_SAMI}):
        response = client.get(f"/fonts/Noto Sans Regular/{start}-{start + 255}.pbf")
        assert response.status_code == 200
        assert response.mimetype == "application/x-protobuf"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "max-age=604800" in response.headers["Cache-Control"]
        name, span, glyphs = _stack(response.data)
        assert (name, span) == ("Noto Sans Regular", f"{start}-{start + 255}")
        seen.update(glyphs)
    for char in SWEDISH_AND_SAMI:
        glyph = seen[ord(char)]
        width, height = glyph[3], glyph[4]
        assert width > 3 and height > 8, char
        # The SDF carries a 3 px border; inside the letter the field passes the 192 edge value.
        assert len(glyph[2]) == (width + 6) * (height + 6), char
        assert max(glyph[2]) >= 192 and min(glyph[2]) < 64, char
    space = seen.get(32) or _stack(client.get("/fonts/Noto Sans Regular/0-255.pbf").data)[2][32]
    assert space[7] > 0 and 2 not in space  # advance, no bitmap


def test_fontstack_falls_back_to_the_first_font_we_have_and_gzip(client: FlaskClient) -> None:
    plain = client.get("/fonts/Noto Sans Bold/0-255.pbf")
    stacked = client.get(
        "/fonts/Open Sans Bold,Noto Sans Bold/0-255.pbf", headers={"Accept-Encoding": "gzip"}
    )
    assert stacked.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(stacked.data) == plain.data
    assert len(stacked.data) < len(plain.data)
    again = client.get(
        "/fonts/Noto Sans Bold/0-255.pbf", headers={"If-None-Match": plain.headers["ETag"]}
    )
    assert again.status_code == 304
    assert _stack(plain.data)[0] == "Noto Sans Bold" and set(FONTS) >= {"Noto Sans Bold"}


def test_a_range_without_glyphs_is_an_empty_stack(client: FlaskClient) -> None:
    response = client.get("/fonts/Noto Sans Regular/19968-20223.pbf")  # CJK: not in Noto Sans
    assert response.status_code == 200
    assert response.data == empty_range("Noto Sans Regular", 19968)
    assert _stack(response.data) == ("Noto Sans Regular", "19968-20223", {})


@pytest.mark.parametrize(
    "path",
    [
        "/fonts/Comic Sans Regular/0-255.pbf",
        "/fonts/Noto Sans Regular/0-256.pbf",
        "/fonts/Noto Sans Regular/1-256.pbf",
        "/fonts/Noto Sans Regular/65536-65791.pbf",
        "/fonts/Noto Sans Regular/abc.pbf",
        "/fonts/Noto Sans Regular/-1-254.pbf",
        "/fonts/..%2F..%2Fsecrets/0-255.pbf",
        "/fonts/noto-sans-latin-900-normal.woff2",
        "/fonts/..%2Fglyphs.woff2",
    ],
)
def test_unknown_fonts_and_ranges_are_problem_json(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_web_fonts_are_served_for_the_canvas_maps(client: FlaskClient) -> None:
    response = client.get("/fonts/noto-sans-latin-ext-400-normal.woff2")
    assert response.status_code == 200
    assert response.mimetype == "font/woff2"
    assert response.data[:4] == b"wOF2"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_parse_range() -> None:
    assert parse_range("0-255") == 0 and parse_range("65280-65535") == 65280
    with pytest.raises(FontNotFound):
        parse_range("256-255")
