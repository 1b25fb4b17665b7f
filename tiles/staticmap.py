"""Static map images: a PNG of a marked place for an e-service's receipt or PDF.

Drawn here from the same PostGIS layers and palette as the vector basemap, so a receipt never
depends on a browser or another host. Shapes are drawn at twice the size and scaled down, which
gives smooth edges without an anti-aliasing rasteriser.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import shapely
from PIL import Image, ImageDraw, ImageFont
from psycopg import sql
from pyproj import Transformer

from layers.schema import DATA_SCHEMA
from layers.store import STORAGE_SRID, overview_sql
from tiles import style
from tiles.errors import InvalidStaticMap as InvalidStaticMap  # re-exported: its home was here
from tiles.staticmap_shape import Shape, draw_shape
from tiles.tilesets import Tileset, TileSource

_SUPERSAMPLE = 2
_WORLD = 2 * math.pi * 6378137.0
_TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)
MAX_SIDE = 1280
MIN_SIDE = 64
MAX_ZOOM = 20


@dataclass(frozen=True)
class StaticMap:
    """What to draw: the marked place (WGS 84), the zoom and the image size in pixels, and the
    chosen line or area when there is one (drawn instead of the marker). ``marker`` False draws
    the place unmarked: the picker's preview of its start view, where nothing is chosen yet."""

    lon: float
    lat: float
    zoom: int = 16
    width: int = 600
    height: int = 400
    shape: Shape | None = None
    marker: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lon) and -180 <= self.lon <= 180):
            raise InvalidStaticMap("lon must be a longitude between -180 and 180.")
        if not (math.isfinite(self.lat) and -85 <= self.lat <= 85):
            raise InvalidStaticMap("lat must be a latitude between -85 and 85.")
        if not 0 <= self.zoom <= MAX_ZOOM:
            raise InvalidStaticMap(f"zoom must be between 0 and {MAX_ZOOM}.")
        for label, side in (("width", self.width), ("height", self.height)):
            if not MIN_SIDE <= side <= MAX_SIDE:
                raise InvalidStaticMap(f"{label} must be between {MIN_SIDE} and {MAX_SIDE} pixels.")

    @property
    def metres_per_pixel(self) -> float:
        """Ground resolution of the image in EPSG:3857 metres (256-pixel tiles, as the map)."""
        return float(_WORLD / (256 * 2**self.zoom))

    def envelope(self) -> tuple[float, float, float, float]:
        """The image's bounds in EPSG:3857."""
        x, y = _TO_MERCATOR.transform(self.lon, self.lat)
        half_w = self.width / 2 * self.metres_per_pixel
        half_h = self.height / 2 * self.metres_per_pixel
        return (x - half_w, y - half_h, x + half_w, y + half_h)


@dataclass(frozen=True)
class _Paint:
    """How one basemap source is drawn: fill and/or line, optionally only some classes."""

    source: str
    fill: str | None = None
    outline: str | None = None
    line: str | None = None
    casing: str | None = None
    width: float = 1.0
    classes: frozenset[str] | None = None
    exclude: frozenset[str] | None = None


def _road_width(zoom: int) -> float:
    """Road width in pixels, following the style's exponential ramp (0.75 px at z12, 13 at z18)."""
    return max(0.75, min(13.0, 0.75 * 1.5 ** (zoom - 12)))


def _paints(zoom: int) -> tuple[_Paint, ...]:
    parks = frozenset({"park", "grass", "pitch", "cemetery", "wood"})
    return (
        _Paint("municipalities", fill=style.LAND),
        _Paint("builtup", fill=style.BUILTUP),
        _Paint("landuse", fill=style.PARK, classes=parks),
        _Paint("water", fill=style.WATER),
        _Paint("buildings", fill=style.BUILDING, outline=style.BUILDING_OUTLINE),
        _Paint("roads", line=style.ROAD_CASING, width=1.0, classes=frozenset({"path"})),
        _Paint(
            "roads",
            line=style.ROAD,
            casing=style.ROAD_CASING,
            width=_road_width(zoom),
            exclude=frozenset({"path"}),
        ),
        _Paint("municipalities", line=style.MUNICIPALITY_BORDER, width=1.5),
        _Paint("counties", line=style.COUNTY_BORDER, width=2.5),
    )


Connect = Callable[[], AbstractContextManager[Any]]


class StaticMapRenderer:
    """Draws :class:`StaticMap` images from a tileset's sources; connections from ``connect``."""

    def __init__(self, connect: Connect, max_features: int = 20_000) -> None:
        self._connect = connect
        self._max_features = max_features

    def _shapes(
        self, conn: Any, source: TileSource, zoom: int, envelope: Sequence[float]
    ) -> list[tuple[shapely.Geometry, str | None]]:
        has_class = any(f.name == "class" for f in source.layer.fields)
        # Features invisible at this zoom (EMPTY overviews) go before the cap, and the cap takes
        # features in id order: the same request draws the same map, and a dense area never
        # loses visible features to invisible ones (the tile query's rule, tiles/mvt.py).
        query = sql.SQL(
            """
            SELECT ST_AsBinary(ST_ClipByBox2D(q.g, q.box)), q.klass
            FROM (
                SELECT {geometry} AS g, {klass} AS klass, t.fid, e.box
                FROM {table} AS t,
                     (SELECT ST_MakeEnvelope(%s, %s, %s, %s, {srid}) AS box) AS e
                WHERE t.geom && e.box
            ) AS q
            WHERE NOT ST_IsEmpty(q.g)
            ORDER BY q.fid
            LIMIT {limit}
            """
        ).format(
            geometry=overview_sql(zoom, "t"),
            klass=sql.SQL("t.class") if has_class else sql.SQL("NULL::text"),
            table=sql.Identifier(DATA_SCHEMA, source.layer.table_name),
            srid=sql.Literal(STORAGE_SRID),
            limit=sql.Literal(self._max_features),
        )
        rows = conn.execute(query, list(envelope)).fetchall()
        return [(shapely.from_wkb(bytes(wkb)), klass) for wkb, klass in rows if wkb is not None]

    def render(self, request: StaticMap, tileset: Tileset, image_format: str = "png") -> bytes:
        """The image bytes (``png`` or ``webp``) of the map with a marker at the requested place.

        WebP is for previews on slow networks: line art in lossy WebP is about a third of the
        palette PNG's bytes, and a preview is replaced by the live map within seconds."""
        scale = _SUPERSAMPLE
        size = (request.width * scale, request.height * scale)
        image = Image.new("RGB", size, style.OUTSIDE)
        draw = ImageDraw.Draw(image)
        envelope = request.envelope()
        left, _bottom, _right, top = envelope
        unit = request.metres_per_pixel / scale

        def to_pixels(coords: Any) -> Any:
            return [((x - left) / unit, (top - y) / unit) for x, y in coords]

        active = {s.name: s for s in tileset.sources_at(request.zoom)}
        with self._connect() as conn:
            cached: dict[str, list[tuple[shapely.Geometry, str | None]]] = {}
            for paint in _paints(request.zoom):
                source = active.get(paint.source)
                if source is None:
                    continue
                if paint.source not in cached:
                    cached[paint.source] = self._shapes(conn, source, request.zoom, envelope)
                chosen = [
                    shapely.transform(shape, to_pixels)
                    for shape, klass in cached[paint.source]
                    if (paint.classes is None or klass in paint.classes)
                    and (paint.exclude is None or klass not in paint.exclude)
                ]
                _draw(image, draw, chosen, paint, scale)
        if request.shape is not None:
            draw_shape(image, request.shape, to_pixels, scale)
        elif request.marker:
            _draw_marker(draw, size, scale)
        _draw_attribution(image, tileset.attribution, scale)
        output = io.BytesIO()
        final = image.resize((request.width, request.height), Image.Resampling.LANCZOS)
        if image_format == "webp":
            final.save(output, "WEBP", quality=60, method=4)
            return output.getvalue()
        # A 128-colour palette keeps a receipt's map around a quarter of the RGB size.
        final.quantize(colors=128, dither=Image.Dither.NONE).save(output, "PNG")
        return output.getvalue()


def _parts(shape: shapely.Geometry, kinds: tuple[str, ...]) -> Iterable[Any]:
    if shape.is_empty:  # clipped or simplified away: nothing to draw, and Pillow refuses it
        return
    if shape.geom_type in kinds:
        yield shape
    elif hasattr(shape, "geoms"):
        for part in shape.geoms:
            yield from _parts(part, kinds)


def _draw(
    image: Image.Image, draw: ImageDraw.ImageDraw, shapes: list[Any], paint: _Paint, scale: int
) -> None:
    if paint.fill:
        # A mask per layer draws holes (courtyards, islands) correctly: rings cut the fill.
        mask = Image.new("L", image.size, 0)
        pen = ImageDraw.Draw(mask)
        for shape in shapes:
            for polygon in _parts(shape, ("Polygon",)):
                pen.polygon(list(polygon.exterior.coords), fill=255)
                for ring in polygon.interiors:
                    pen.polygon(list(ring.coords), fill=0)
        image.paste(paint.fill, mask=mask)
        if paint.outline:
            for shape in shapes:
                for polygon in _parts(shape, ("Polygon",)):
                    draw.line(list(polygon.exterior.coords), fill=paint.outline, width=scale)
    if paint.line:
        lines = [
            list(part.coords) for shape in shapes for part in _parts(shape, ("LineString",))
        ] + [
            list(ring.coords)
            for shape in shapes
            for polygon in _parts(shape, ("Polygon",))
            for ring in (polygon.exterior, *polygon.interiors)
        ]
        width = max(1, round(paint.width * scale))
        if paint.casing:
            for coords in lines:
                draw.line(coords, fill=paint.casing, width=width + 2 * scale, joint="curve")
        for coords in lines:
            draw.line(coords, fill=paint.line, width=width, joint="curve")


def _draw_marker(draw: ImageDraw.ImageDraw, size: tuple[int, int], scale: int) -> None:
    """A ring with a dot: dark on light and light on dark, readable on any background."""
    cx, cy = size[0] / 2, size[1] / 2
    outer, ring, dot = 13 * scale, 4 * scale, 4 * scale
    draw.ellipse(
        (cx - outer - scale, cy - outer - scale, cx + outer + scale, cy + outer + scale),
        fill="#ffffff",
    )
    draw.ellipse((cx - outer, cy - outer, cx + outer, cy + outer), fill="#1a1a1a")
    draw.ellipse(
        (cx - outer + ring, cy - outer + ring, cx + outer - ring, cy + outer - ring), fill="#ffffff"
    )
    draw.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill="#1a1a1a")


#: A local font with å, ä and ö (Debian's fonts-dejavu-core); Pillow's built-in one lacks them.
FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_FILES:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _draw_attribution(image: Image.Image, text: str, scale: int) -> None:
    if not text:
        return
    font = _font(10 * scale)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    pad = 3 * scale
    box = (image.width - (right - left) - 2 * pad, image.height - (bottom - top) - 2 * pad)
    draw.rectangle((box[0], box[1], image.width, image.height), fill="#ffffff")
    draw.text((box[0] + pad - left, box[1] + pad - top), text, fill="#1a1a1a", font=font)
