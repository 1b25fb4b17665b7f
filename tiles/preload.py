"""Which basemap tiles a map opened at a known view will ask for first, so a page can preload them.

On a throttled phone the first tiles are requested only after the widget's JavaScript has
downloaded and run (bench/widget.py: about 2.2 s into the page). A page that knows the map's
start view (the demo e-service does) can name those tiles in ``<link rel="preload">`` and fetch
them alongside the script, which removes the last sequential round trip before the first draw.

The widget's tile grid is OpenLayers' XYZ grid with 512-pixel tiles, so the view's zoom ``z``
(in 256-pixel terms) draws data tiles of zoom ``z - 1``, capped at the data's maximum zoom
(beyond it the tiles are over-zoomed). The map's size is not known on the server, so this returns
the 2 × 2 block around the tile corner nearest the centre: it covers at least half a tile
(256 CSS pixels at integer zooms) in every direction from the centre, i.e. a phone-sized map.
"""

from __future__ import annotations

import math

from morecantile import Tile


def first_tiles(lon: float, lat: float, view_zoom: float, data_maxzoom: int) -> list[Tile]:
    """The 2 × 2 block of 512-pixel data tiles around the centre of a map view (row by row)."""
    if not (-180 <= lon <= 180 and -85.0511 <= lat <= 85.0511):
        raise ValueError(f"centre {lon}, {lat} is outside Web Mercator")
    z = max(0, min(data_maxzoom, round(view_zoom) - 1))
    n = 2**z
    fx = (lon + 180) / 360 * n
    fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    # The nearest tile corner; the block is the four tiles that meet there (clamped at the edges).
    x0 = min(max(round(fx) - 1, 0), max(n - 2, 0))
    y0 = min(max(round(fy) - 1, 0), max(n - 2, 0))
    return [Tile(x, y, z) for y in range(y0, min(y0 + 2, n)) for x in range(x0, min(x0 + 2, n))]
