"""Builds the map's SDF glyph files (MapLibre's glyph protobuf) from the Noto Sans web fonts.

Why at build time and committed: MapLibre (and QGIS's style converter) need glyphs as signed
distance fields in 256-codepoint ranges, and a citizen's browser must get them from our own
server. The font comes from the npm registry (@fontsource/noto-sans, SIL OFL), so the files can
be rebuilt on any developer machine; running this needs ``freetype-py`` (the ``dev`` extra) and
``npm ci`` in frontend/. The server never renders glyphs.

The encoding follows the Mapbox glyph convention every renderer expects: 24 px em, a 3 px
border, distances out to 8 px, an edge value of 192 (cutoff 0.25), ``top`` measured from the
ascender. The distance transform is an exact brute-force search (glyphs are small), seeded with
sub-pixel edge positions from the anti-aliased coverage, as tiny-sdf does.

Usage: ``.venv/bin/python scripts/make_glyphs.py`` (writes tiles/glyphs/<stack>/<range>.pbf and
copies the matching .woff2 files beside them).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import freetype
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FONT_DIR = ROOT / "frontend/node_modules/@fontsource/noto-sans/files"
OUT_DIR = ROOT / "tiles/glyphs"
SIZE = 24
BORDER = 3
RADIUS = 8.0
CUTOFF = 0.25
#: Basic Latin + Latin-1 (å ä ö é ü), Latin Extended-A/B (Š Ž Č Đ Ŋ Ŧ Ǧ Ǥ Ǩ Ǯ Ʒ), IPA
#: extensions (ʒ) and general punctuation (– — ’ “ ” …): Swedish and the Sámi languages.
RANGES = (0, 256, 512, 8192)
#: Fontstack name -> weight of the @fontsource files it is made from.
STACKS = {"Noto Sans Regular": 400, "Noto Sans Bold": 700}
SUBSETS = ("latin", "latin-ext")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _field(number: int, wire: int) -> bytes:
    return _varint((number << 3) | wire)


def _uint(number: int, value: int) -> bytes:
    return _field(number, 0) + _varint(value)


def _sint(number: int, value: int) -> bytes:
    return _field(number, 0) + _varint(_zigzag(value))


def _bytes(number: int, value: bytes) -> bytes:
    return _field(number, 2) + _varint(len(value)) + value


def sdf(alpha: np.ndarray) -> bytes:
    """The bordered signed distance field of an anti-aliased coverage bitmap, as bytes."""
    height, width = alpha.shape
    padded = np.zeros((height + 2 * BORDER, width + 2 * BORDER), dtype=np.float64)
    padded[BORDER : BORDER + height, BORDER : BORDER + width] = alpha / 255.0
    ys, xs = np.indices(padded.shape)
    points = np.stack([ys.ravel(), xs.ravel()], axis=1).astype(np.float64)
    flat = padded.ravel()
    # Squared distance to the edge for pixels on it (partial coverage), infinite elsewhere.
    outer_seed = np.where(flat > 0, np.maximum(0.0, 0.5 - flat) ** 2, np.inf)
    inner_seed = np.where(flat < 1, np.maximum(0.0, flat - 0.5) ** 2, np.inf)

    def transform(seed: np.ndarray) -> np.ndarray:
        finite = np.isfinite(seed)
        if not finite.any():
            return np.full(seed.shape, RADIUS * RADIUS * 4)
        sources = points[finite]
        squared = ((points[:, None, :] - sources[None, :, :]) ** 2).sum(axis=2)
        result: np.ndarray = (squared + seed[finite][None, :]).min(axis=1)
        return result

    distance = np.sqrt(transform(outer_seed)) - np.sqrt(transform(inner_seed))
    scaled = np.clip(distance / RADIUS, -1.0, 1.0)
    encoded: bytes = np.clip(255.0 - 255.0 * (scaled + CUTOFF), 0, 255).astype(np.uint8).tobytes()
    return encoded


def glyph(face: freetype.Face, codepoint: int) -> bytes:
    """One glyph message (id, bitmap, width, height, left, top, advance)."""
    face.load_char(codepoint, freetype.FT_LOAD_RENDER | freetype.FT_LOAD_NO_HINTING)
    slot = face.glyph
    bitmap = slot.bitmap
    ascender = face.size.ascender >> 6
    message = _uint(1, codepoint)
    if bitmap.width and bitmap.rows:
        alpha = np.array(bitmap.buffer, dtype=np.uint8).reshape(bitmap.rows, bitmap.pitch)
        message += _bytes(2, sdf(alpha[:, : bitmap.width]))
    message += _uint(3, bitmap.width) + _uint(4, bitmap.rows)
    message += _sint(5, slot.bitmap_left) + _sint(6, slot.bitmap_top - ascender)
    message += _uint(7, slot.advance.x >> 6)
    return message


def glyph_range(faces: list[freetype.Face], name: str, start: int) -> bytes:
    """A glyphs message with one fontstack of codepoints ``start``..``start+255``; each
    codepoint comes from the first subset font that has it."""
    end = start + 255
    stack = _bytes(1, name.encode()) + _bytes(2, f"{start}-{end}".encode())
    for codepoint in range(start, end + 1):
        face = next((f for f in faces if f.get_char_index(codepoint)), None)
        if face is not None:
            stack += _bytes(3, glyph(face, codepoint))
    return _bytes(1, stack)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    for name, weight in STACKS.items():
        faces = []
        for subset in SUBSETS:
            face = freetype.Face(str(FONT_DIR / f"noto-sans-{subset}-{weight}-normal.woff"))
            face.set_char_size(SIZE * 64)
            faces.append(face)
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        # The same font for the OpenLayers maps' canvas text (served at /fonts/<file>.woff2).
        for subset in SUBSETS:
            webfont = f"noto-sans-{subset}-{weight}-normal.woff2"
            shutil.copyfile(FONT_DIR / webfont, args.out / webfont)
        for start in RANGES:
            data = glyph_range(faces, name, start)
            (folder / f"{start}-{start + 255}.pbf").write_bytes(data)
            print(f"{name} {start}-{start + 255}: {len(data)} bytes")


if __name__ == "__main__":
    main()
