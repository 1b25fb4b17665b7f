"""The tile matrix sets tiles are cut in: Web Mercator, and SWEREF 99 TM as Swedish maps use it.

Swedish municipal maps are drawn in SWEREF 99 TM (EPSG:3006). The grid here is the one
Lantmäteriet's open topographic web map (Topografisk webbkarta Visning, WMTS tile matrix set
``3006``) uses and that the municipal map clients Origo and Hajk are configured with by default:

* top-left corner E −1 200 000, N 8 500 000 (west of Norway, north of Sweden);
* 256 × 256 pixel tiles, 4 × 4 tiles at level 0;
* cell size 4096 m at level 0, halving per level down to 0.5 m at level 13 (scale denominators
  14 628 571.43 … 1 785.71 with the standard 0.28 mm pixel);
* so the grid covers E −1 200 000 … 2 994 304, N 4 305 696 … 8 500 000.

A tile in either grid is rendered from the same stored EPSG:3857 geometry; what differs is the
tile's envelope, its CRS and which overview (simplification level) suits its cell size, which is
what :class:`TileGrid` provides to :mod:`tiles.mvt`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

import morecantile
from morecantile import Tile, TileMatrixSet
from pyproj import CRS, Transformer

from tiles.errors import InvalidTileAddress
from tiles.grid import whole_number

#: Web Mercator's cell size at zoom 0 (metres of EPSG:3857 per pixel of a 256-pixel tile).
_MERCATOR_CELL_0 = 2 * math.pi * 6378137 / 256
#: The latitude SWEREF tiles are compared with Web Mercator zooms at (the middle of Sweden):
#: an EPSG:3857 metre there is cos(62°) ≈ 0.47 metres on the ground.
_SWEDEN_MID_LATITUDE = 62.0

#: How many tile envelopes a grid remembers (a few hundred KB).
_ENVELOPES_KEPT = 4096

SWEREF99TM_EXTENT = (-1_200_000.0, 4_305_696.0, 2_994_304.0, 8_500_000.0)


@dataclass(frozen=True)
class TileGrid:
    """A tile matrix set as the tile renderer needs it."""

    id: str
    tms: TileMatrixSet
    srid: int
    #: Envelopes already computed (morecantile's ``xy_bounds`` builds pydantic models per call,
    #: a tenth of a small tile's time in process); bounded, emptied when full.
    _envelopes: dict[Tile, tuple[float, float, float, float]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def uri(self) -> str:
        """The matrix set's URI (OGC's register for WebMercatorQuad, ours for SWEREF99TM)."""
        return self.tms.uri or f"urn:webmap:tilematrixset:{self.id}"

    @property
    def max_level(self) -> int:
        """The deepest tile matrix of the set."""
        return int(self.tms.maxzoom)

    def envelope(self, tile: Tile) -> tuple[float, float, float, float]:
        """The tile's bounds (left, bottom, right, top) in the grid's CRS, x = easting."""
        found = self._envelopes.get(tile)
        if found is None:
            bounds = self.tms.xy_bounds(tile)
            found = (bounds.left, bounds.bottom, bounds.right, bounds.top)
            if len(self._envelopes) >= _ENVELOPES_KEPT:
                self._envelopes.clear()
            self._envelopes[tile] = found
        return found

    def storage_box(self, tile: Tile, margin: float) -> tuple[float, float, float, float]:
        """The tile grown by ``margin`` (grid units), as a box in EPSG:3857 for the GiST index."""
        left, bottom, right, top = self.envelope(tile)
        box = (left - margin, bottom - margin, right + margin, top + margin)
        if self.srid == 3857:
            return box
        return _to_mercator(self.srid).transform_bounds(*box, densify_pts=21)

    def data_zoom(self, level: int) -> int:
        """The Web Mercator zoom whose detail suits this grid's ``level``.

        Layers' zoom ranges and the stored overviews are in Web Mercator zooms; a SWEREF
        level is matched by cell size on the ground in the middle of Sweden, rounded up so
        the map is never coarser than its pixels.
        """
        if self.srid == 3857:
            return level
        cell = float(self.tms.matrix(level).cellSize)
        ground_cell_0 = _MERCATOR_CELL_0 * math.cos(math.radians(_SWEDEN_MID_LATITUDE))
        return max(0, math.ceil(math.log2(ground_cell_0 / cell) - 1e-9))

    def parse(self, level: str, row: str, column: str) -> Tile:
        """The tile at OGC API – Tiles' ``{tileMatrix}/{tileRow}/{tileCol}``, checked."""
        z, y, x = (
            whole_number(label, text)
            for label, text in (("tileMatrix", level), ("tileRow", row), ("tileCol", column))
        )
        if z > self.max_level:
            raise InvalidTileAddress(f"tileMatrix of {self.id} is 0–{self.max_level}, got {z}.")
        matrix = self.tms.matrix(z)
        if x >= matrix.matrixWidth or y >= matrix.matrixHeight:
            raise InvalidTileAddress(
                f"At tileMatrix {z} of {self.id}, tileCol is below {matrix.matrixWidth} and "
                f"tileRow below {matrix.matrixHeight}; got row {y}, column {x}."
            )
        return Tile(x, y, z)


@cache
def _to_mercator(srid: int) -> Transformer:
    return Transformer.from_crs(srid, 3857, always_xy=True)


WEB_MERCATOR_GRID = TileGrid("WebMercatorQuad", morecantile.tms.get("WebMercatorQuad"), 3857)
SWEREF99TM_GRID = TileGrid(
    "SWEREF99TM",
    TileMatrixSet.custom(
        list(SWEREF99TM_EXTENT),
        CRS.from_epsg(3006),
        tile_width=256,
        tile_height=256,
        matrix_scale=[4, 4],
        minzoom=0,
        maxzoom=13,
        id="SWEREF99TM",
        title="SWEREF 99 TM, Lantmäteriet's topographic web map grid (tile matrix set 3006)",
    ),
    3006,
)
#: Every tile matrix set served, by id (OGC API – Tiles ``tileMatrixSetId``).
TILE_GRIDS: dict[str, TileGrid] = {g.id: g for g in (WEB_MERCATOR_GRID, SWEREF99TM_GRID)}
