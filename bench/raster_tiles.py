"""Raster tile benchmark: our COG in the source's own CRS against a Web-Mercator-aligned COG.

Why this exists: ``layers/raster`` stores rasters without reprojecting them (see
docs/architecture.md). The alternative is rio-cogeo's ``web_optimized`` COG, resampled once on
upload to the WebMercatorQuad grid so that tiles need no warp. This script converts the same
source both ways, renders the same tiles from each with :func:`tiles.raster.render_raster_tile`
(tile cache not involved), and prints conversion time, file size, per-zoom median render time
and the ratios native / web-optimized. No database is needed.

    .venv/bin/python bench/raster_tiles.py [--rounds 3] [--source ../shared/data/raster/N57E011.hgt]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide the
# project's ``tiles`` package; drop the folder so the real package is imported.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import statistics
import tempfile
import time
import warnings

import morecantile
from rio_cogeo.cogeo import cog_translate

from layers.catalog import LayerInfo
from layers.raster.cog import TAG_KIND, TAG_MAX, TAG_MIN, _cog_profile, write_cog
from layers.raster.inspect import inspect_raster, open_raster
from tiles.raster import describe, render_raster_tile

TMS = morecantile.tms.get("WebMercatorQuad")
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "raster"
#: Göteborg, inside the SRTM tile N57E011.
CENTRE = (11.95, 57.70)
ZOOMS = (8, 10, 12, 14)
Bounds = tuple[float, float, float, float]


def _convert(source: Path, folder: Path) -> tuple[dict[str, tuple[Path, float]], Bounds]:
    out: dict[str, tuple[Path, float]] = {}
    with open_raster(source) as src:
        facts = inspect_raster(src)
        started = time.perf_counter()
        native = folder / "native.tif"
        write_cog(src, facts, native)
        out["native"] = (native, time.perf_counter() - started)
        tags = {TAG_KIND: facts.kind}
        if facts.value_range:
            tags[TAG_MIN], tags[TAG_MAX] = (repr(v) for v in facts.value_range)
        started = time.perf_counter()
        aligned = folder / "webmercator.tif"
        cog_translate(
            src,
            str(aligned),
            _cog_profile(facts),
            tms=TMS,  # aligned to WebMercatorQuad: rio-cogeo's "web optimized" COG
            resampling=facts.resampling,
            overview_resampling=facts.overview_resampling,
            additional_cog_metadata=tags,
            quiet=True,
        )
        out["web-optimized"] = (aligned, time.perf_counter() - started)
    return out, facts.bounds_wgs84


def _tiles(zoom: int, bounds: Bounds) -> list[morecantile.Tile]:
    """Up to six tiles round the centre that lie wholly inside the raster (no empty tiles)."""
    centre = TMS.tile(*CENTRE, zoom)
    around = [
        morecantile.Tile(centre.x + dx, centre.y + dy, zoom) for dx in (-1, 0, 1) for dy in (-1, 0)
    ]
    inside = [
        t
        for t in around
        if (b := TMS.bounds(t)).left >= bounds[0]
        and b.bottom >= bounds[1]
        and b.right <= bounds[2]
        and b.top <= bounds[3]
    ]
    return inside or [centre]


def _median_ms(path: Path, zoom: int, rendering: str, rounds: int, bounds: Bounds) -> float:
    layer = LayerInfo(path.stem, path.stem, "", "raster", None, 1, True, "", 0, 24, path.name, 0)
    times = []
    for _ in range(rounds):
        for tile in _tiles(zoom, bounds):
            started = time.perf_counter()
            render_raster_tile(layer, path, tile, "png", rendering)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--source", type=Path, default=SHARED / "N57E011.hgt")
    args = parser.parse_args()
    if not args.source.is_file():
        sys.exit(f"{args.source} is absent: pass --source with a GeoTIFF or SRTM .hgt")
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
    with tempfile.TemporaryDirectory() as scratch:
        files, bounds = _convert(args.source, Path(scratch))
        native, aligned = files["native"][0], files["web-optimized"][0]
        print(f"source: {args.source.name}")
        print(f"{'':24}{'native CRS':>14}{'web-optimized':>16}{'ratio':>8}")
        for label, index in (("conversion (s)", 1),):
            a, b = files["native"][index], files["web-optimized"][index]
            print(f"{label:24}{a:14.2f}{b:16.2f}{a / b:8.2f}")
        size_a, size_b = native.stat().st_size / 1e6, aligned.stat().st_size / 1e6
        print(f"{'file size (MB)':24}{size_a:14.2f}{size_b:16.2f}{size_a / size_b:8.2f}")
        print(
            f"{'native zooms':24}{describe(native).minzoom:>8}–{describe(native).maxzoom:<5}"
            f"{describe(aligned).minzoom:>10}–{describe(aligned).maxzoom:<5}"
        )
        for rendering in ("hillshade", "elevation"):
            for zoom in ZOOMS:
                a = _median_ms(native, zoom, rendering, args.rounds, bounds)
                b = _median_ms(aligned, zoom, rendering, args.rounds, bounds)
                print(f"{f'{rendering} z{zoom} (ms/tile)':24}{a:14.1f}{b:16.1f}{a / b:8.2f}")


if __name__ == "__main__":
    main()
