"""The map's fonts, from our own files: SDF glyph ranges for MapLibre, web fonts for OpenLayers.

Both are made from Noto Sans (SIL OFL, npm ``@fontsource/noto-sans``) by
``scripts/make_glyphs.py`` and committed under ``tiles/glyphs/``, so no renderer is ever sent to
another host for text. Noto Sans has å, ä, ö and the letters of the Sámi languages (Ŋ, Đ, Ŧ,
Ʒ, Ǯ, Ǧ, Ǩ, Ǥ …).

A MapLibre glyph request names a *fontstack* (the style's ``text-font`` list joined with
commas) and a 256-codepoint range. The first font of the stack we have answers; a well-formed
range we hold no glyphs for answers an empty stack (the renderer then lacks those characters,
as with any font), so only an unknown font or a malformed range is "not found".
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from layers.errors import LayerNotFound

GLYPH_DIR = Path(__file__).resolve().parent / "glyphs"
#: The fontstacks the styles use; each is a folder of ``<start>-<end>.pbf`` files.
FONTS = ("Noto Sans Regular", "Noto Sans Bold")
REGULAR, BOLD = FONTS
#: Web font files (woff2) the OpenLayers maps load with the FontFace API.
WEBFONTS = (
    "noto-sans-latin-400-normal.woff2",
    "noto-sans-latin-ext-400-normal.woff2",
    "noto-sans-latin-700-normal.woff2",
    "noto-sans-latin-ext-700-normal.woff2",
)
_RANGE = re.compile(r"(\d{1,5})-(\d{1,5})")
_LAST_CODEPOINT = 0xFFFF


class FontNotFound(LayerNotFound):
    """No font of the stack is ours, or the range is not a 256-codepoint block."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def empty_range(font: str, start: int) -> bytes:
    """A glyphs message with one fontstack and no glyphs (a range the font does not cover)."""
    stack = _field(1, font.encode()) + _field(2, f"{start}-{start + 255}".encode())
    return _field(1, stack)


def parse_range(text: str) -> int:
    """The first codepoint of a range ``"<start>-<start+255>"``; :class:`FontNotFound` else."""
    match = _RANGE.fullmatch(text)
    if match is None:
        raise FontNotFound(f"{text!r} is not a glyph range such as 0-255.")
    start, end = int(match[1]), int(match[2])
    if start % 256 or end != start + 255 or end > _LAST_CODEPOINT:
        raise FontNotFound(f"{text!r} is not a 256-codepoint glyph range such as 256-511.")
    return start


def font_of_stack(fontstack: str) -> str:
    """The first font of a comma-separated fontstack that we have."""
    for name in fontstack.split(","):
        if name.strip() in FONTS:
            return name.strip()
    raise FontNotFound(f"No font of {fontstack!r} is served here; fonts: {', '.join(FONTS)}.")


def glyph_range(fontstack: str, range_text: str) -> bytes:
    """The protobuf glyph range MapLibre asks for."""
    return _glyph_file(font_of_stack(fontstack), parse_range(range_text))


@cache
def _glyph_file(font: str, start: int) -> bytes:
    # Cached by (known font, valid range): a bounded set of small files.
    path = GLYPH_DIR / font / f"{start}-{start + 255}.pbf"
    if path.is_file():
        return path.read_bytes()
    return empty_range(font, start)


def webfont(filename: str) -> bytes:
    """One of the :data:`WEBFONTS`; :class:`FontNotFound` for any other name."""
    if filename not in WEBFONTS:
        raise FontNotFound(f"There is no web font named {filename!r}.")
    return (GLYPH_DIR / filename).read_bytes()
