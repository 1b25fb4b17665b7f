"""The embeddable widget: its bundle at ``/widget/…``, the demo e-service and the iframe page.

- ``/widget/webmap.js`` is one ES module defining ``<webmap-picker>``. Module scripts are fetched
  with CORS, so it is served with ``Access-Control-Allow-Origin: *`` (a public file, no cookies).
- ``/demo`` is a realistic Swedish e-service form ("Felanmälan – gata och park"); posting it shows
  exactly what the server received, which is what an e-service developer needs to see.
- ``/embed`` is the picker alone, for platforms that cannot load scripts: it posts the value to
  the parent window, but only to an origin on the allow-list (``WEBMAP_EMBED_ORIGINS``).

Pages are sent with a strict Content-Security-Policy (no inline script or style, see
:mod:`webmap.http.security_headers`), which proves the widget works on e-services that use one.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
from flask import Blueprint, render_template, request, url_for
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from layers.errors import DatabaseNotReady, InvalidInput, LayerNotFound
from layers.lookup.resolve import resolve_text
from layers.municipalities import Municipality, get_municipality
from tiles.preload import first_tiles
from tiles.tilejson import DATA_MAXZOOM
from tiles.tilesets import BASEMAP, resolve_tileset
from webmap.db_routing import reads
from webmap.http.contracts import (
    ANYONE,
    HTML_PAGE,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    Reply,
    contract,
    parse_query,
    problems,
)
from webmap.http.models import LANGUAGE, PageLanguage
from webmap.http.receipt_map import receipt_map
from webmap.http.security_headers import allow_basemap, allow_framing, embed_origins
from webmap.http.tilesets import tile_url_template
from webmap.i18n import with_place_label
from webmap.services import services

blueprint = Blueprint("widget", __name__)

DIST = Path(__file__).resolve().parents[1] / "static" / "dist"
WIDGET_FILES = {"webmap.js": "text/javascript", "webmap.js.map": "application/json"}
MAX_VALUE_CHARS = 20_000


class WidgetFile(BaseModel):
    """A file of the widget's build."""

    filename: Literal["webmap.js", "webmap.js.map"] = Field(description="The file.")


class EmbedParams(BaseModel):
    """The query of ``/embed``."""

    origin: str = Field(
        "",
        description="The parent page's origin; must be allow-listed (WEBMAP_EMBED_ORIGINS, "
        "or the municipality's own embedding origins).",
    )
    lang: Literal["sv", "en"] = LANGUAGE
    municipality: str | None = Field(
        None,
        pattern=r"^[0-9]{4}$",
        description="The municipality (SCB code) whose widget this is: its own embedding "
        "origins are allowed too, and the picker opens on it.",
    )


class DemoPage(PageLanguage):
    """The query of the demo pages."""

    projection: Literal["EPSG:3857", "EPSG:3006"] = Field(
        "EPSG:3857",
        description="The picker's map CRS: Web Mercator, or SWEREF 99 TM (projection attribute)",
    )


class DemoQuery(DemoPage):
    """The query of ``/demo``: the language, and optionally the municipality to play."""

    municipality: str | None = Field(
        None,
        pattern=r"^[0-9]{4}$",
        description="A municipality served here (SCB code): the demo shows its display name "
        "and theme colour and opens the picker on it.",
    )


class DemoForm(BaseModel):
    """What the demo e-service's form posts (any other field is echoed back)."""

    location: str | None = Field(
        None, max_length=MAX_VALUE_CHARS, description="The picker's value (JSON GeoJSON Feature)"
    )
    area: str | None = Field(None, max_length=MAX_VALUE_CHARS)
    location_text: str | None = None


def _lang() -> str:
    return parse_query(PageLanguage).lang


def _page(html: str) -> Response:
    # The CSP and framing headers come from webmap.http.security_headers, as for every page.
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class _Compressed:
    """A built file, its gzip and the build's Brotli of it (``webmap.js.br``, if there is one
    from the same build), for one modification time of the file."""

    mtime: float
    body: bytes
    gzipped: bytes
    brotli: bytes | None


_COMPRESSED: dict[str, _Compressed] = {}


def _compressed(path: Path) -> _Compressed:
    """The file gzipped once per build: the bundle is ~4× smaller on the wire, which is most of
    a phone's wait on a slow network (see bench/widget.py). The build also writes it in Brotli
    (frontend/vite.config.js; ~16 % smaller than gzip, and Python has no Brotli of its own),
    used only when written after the file itself (the same build)."""
    mtime = path.stat().st_mtime
    cached = _COMPRESSED.get(path.name)
    if cached is None or cached.mtime != mtime:
        body = path.read_bytes()
        beside = path.with_name(f"{path.name}.br")
        fresh = beside.is_file() and beside.stat().st_mtime >= mtime
        brotli = beside.read_bytes() if fresh else None
        cached = _Compressed(mtime, body, gzip.compress(body, 9, mtime=0), brotli)
        _COMPRESSED[path.name] = cached
    return cached


@blueprint.get("/widget/<path:filename>")
@contract(
    "widgetFile",
    "The widget bundle (one ES module) and its source map",
    tags=("widget",),
    security=ANYONE,
    path=WidgetFile,
    headers=(IF_NONE_MATCH,),
    responses={
        200: Reply(
            "The file (Brotli or gzip when accepted), `Access-Control-Allow-Origin: *`",
            {"text/javascript": {"type": "string"}, "application/json": None},
        ),
        304: NOT_MODIFIED,
        **problems(404),
    },
)
def widget_file(filename: str) -> Response:
    """The widget bundle (and its source map) from the frontend build, compressed when accepted."""
    if filename not in WIDGET_FILES:
        raise LayerNotFound(f"There is no widget file named {filename!r}.")
    path = DIST / filename
    if not path.is_file():
        raise LayerNotFound(f"{filename} is not built yet: run scripts/install.sh (npm run build).")
    built = _compressed(path)
    accepted = request.accept_encodings
    # Brotli when the build has it and the browser takes it (all current ones do), else gzip.
    encoding = "br" if built.brotli and accepted["br"] else "gzip" if accepted["gzip"] else ""
    etag = f"{filename}-{int(built.mtime * 1000)}" + {"br": "-br", "gzip": "-gz"}.get(encoding, "")
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        bodies = {"br": built.brotli, "gzip": built.gzipped}
        response = Response(bodies.get(encoding) or built.body, mimetype=WIDGET_FILES[filename])
        if encoding:
            response.headers["Content-Encoding"] = encoding
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# The demo pickers' start view (Östermalm, Stockholm): in the tag and in the tile preload hints.
DEMO_CENTER = (18.075, 59.338)
# The /embed picker's start view (its tag says the same).
EMBED_CENTER = (18.07, 59.338)
# The preview's box in CSS pixels: wider than the demo form's map (672 px) and as high as the
# picker's map gets (picker.css: at most 420 px); drawn at half that (a zoom level less), which
# keeps it near 16 KB, and shown at 1:1 scale with the live map (``srcset`` 0.5x).
PREVIEW_SIZE = (800, 420)
# Phone-width pages (a viewport at most this many CSS pixels wide, so the map's box is no wider):
# the centre of the same picture, 400 CSS pixels wide, about 9.7 KB instead of 17 KB, which on
# a slow link shared with the script and the tiles is most of the preview's wait
# (bench/widget.py). Chosen by <picture>'s media source, not by srcset ``w`` candidates: those
# are picked by the screen's density and would change the picture's scale.
PREVIEW_NARROW_WIDTH = 400
PREVIEW_NARROW_MEDIA = f"(max-width: {PREVIEW_NARROW_WIDTH}px)"
# The picker's map label (frontend/src/picker/i18n: mapLabel), the preview's alt text: the
# picture stands in for that map until it has drawn.
MAP_LABEL = {"sv": "Karta för att välja plats", "en": "Map for choosing a place"}


@dataclass(frozen=True)
class PreviewPicture:
    """One drawing of the preview: ``drawn_width`` image pixels shown ``width`` CSS pixels wide
    (``srcset``'s ``w`` and ``sizes``), so that it has the live map's scale."""

    src: str
    width: int
    drawn_width: int


@dataclass(frozen=True)
class Preview:
    """A server-drawn picture of a picker's start view, shown until the live map has drawn: the
    wide picture, and its centre for phone-width pages (``narrow``, when ``narrow_media``
    matches), both ``height`` CSS pixels high."""

    wide: PreviewPicture
    narrow: PreviewPicture
    narrow_media: str
    height: int
    alt: str


@dataclass(frozen=True)
class StartView:
    """What a page that knows its picker's start view puts in its HTML: tile preload hints and
    the preview (both empty without the database: they are optional)."""

    center: str
    zoom: int
    tile_preloads: list[str]
    preview: Preview | None


# A picker with municipality="…" opens on the municipality itself (municipality.js: its
# boundary's extent), so its page names no center or zoom, and Östermalm's tiles and preview
# would be no use to it.
_MUNICIPALITY_START = StartView("", 0, [], None)


def _start_view(center: tuple[float, float], zoom: int, lang: str) -> StartView:
    """The first basemap tiles a map at ``center``/``zoom`` asks for, and its preview.

    Why: on a throttled phone the tile hints remove the last sequential round trip before the
    first tiles are drawn, and the preview gives the citizen a picture of the place while the
    widget's script downloads and starts (bench/widget.py). Tile URLs must equal the
    TileJSON's (absolute, ``?v=``), or the browser would fetch them twice; the preview's ``v``
    makes it immutable (cached for a year, a new URL when the data changes).
    """
    where = f"{center[0]},{center[1]}"
    try:
        tileset = resolve_tileset(BASEMAP, services().catalog.layers())
    except (psycopg.Error, PoolTimeout):
        return StartView(where, zoom, [], None)
    template = tile_url_template(tileset)
    tiles = [
        template.replace("{z}", str(t.z)).replace("{x}", str(t.x)).replace("{y}", str(t.y))
        for t in first_tiles(*center, zoom, DATA_MAXZOOM)
    ]
    width, height = PREVIEW_SIZE

    def picture(css_width: int) -> PreviewPicture:
        src = url_for(
            "staticmap.static_map",
            lon=center[0],
            lat=center[1],
            zoom=max(0, zoom - 1),
            width=css_width // 2,
            height=height // 2,
            marker="false",
            format="webp",
            v=tileset.version,
        )
        return PreviewPicture(src, css_width, css_width // 2)

    preview = Preview(
        wide=picture(width),
        narrow=picture(PREVIEW_NARROW_WIDTH),
        narrow_media=PREVIEW_NARROW_MEDIA,
        height=height,
        alt=MAP_LABEL[lang],
    )
    return StartView(where, zoom, tiles, preview)


def _demo(template: str, zoom: int, municipality: Municipality | None = None) -> Response:
    params = parse_query(DemoPage)
    sweref = params.projection == "EPSG:3006"
    if municipality is not None:
        # Its external basemap's host, and only that one, joins this page's CSP.
        allow_basemap(municipality.basemap)
        start = _MUNICIPALITY_START
    else:
        start = _start_view(DEMO_CENTER, zoom, params.lang)
        if sweref:
            # The hints and the preview are Web Mercator: no use to a map in SWEREF 99 TM.
            start = StartView(start.center, start.zoom, [], None)
    return _page(
        render_template(
            template,
            lang=params.lang,
            start=start,
            projection=params.projection if sweref else None,
            municipality=municipality,
        )
    )


@blueprint.get("/demo")
@contract(
    "demoForm",
    "The demo e-service form (Felanmälan – gata och park)",
    tags=("widget",),
    security=ANYONE,
    query=DemoQuery,
    responses={200: HTML_PAGE, **problems(400, 404, 503)},
)
def demo_form() -> Response:
    """The demo e-service's form, with the picker (``?lang=en`` for the English picker,
    ``?municipality=2281`` to play that municipality's e-service)."""
    code = parse_query(DemoQuery).municipality
    if code is None:
        return _demo("demo.html", zoom=16)
    with reads().connection() as conn:
        return _demo("demo.html", zoom=16, municipality=get_municipality(conn, code))


@blueprint.get("/demo/bygglov")
@contract(
    "demoBuildingPermit",
    "The demo building-permit question (draw an area)",
    tags=("widget",),
    security=ANYONE,
    query=DemoPage,
    responses={200: HTML_PAGE, **problems(400)},
)
def demo_building_permit() -> Response:
    """A building-permit question answered by drawing an area (``mode="polygon"``)."""
    return _demo("demo_bygglov.html", zoom=17)


def _position(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
        and -180 <= value[0] <= 180
        and -90 <= value[1] <= 90
    )


def _valid_geometry(geometry: Any) -> bool:
    """A Point, LineString or Polygon in longitude/latitude, as the picker's modes produce."""
    if not isinstance(geometry, dict):
        return False
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        return _position(coordinates)
    if kind == "LineString":
        return (
            isinstance(coordinates, list)
            and len(coordinates) >= 2
            and all(_position(p) for p in coordinates)
        )
    if kind == "Polygon":
        return (
            isinstance(coordinates, list)
            and len(coordinates) >= 1
            and all(
                isinstance(ring, list)
                and len(ring) >= 4
                and ring[0] == ring[-1]
                and all(_position(p) for p in ring)
                for ring in coordinates
            )
        )
    return False


def _location(text: str) -> dict[str, Any] | None:
    """The picker's submitted value, checked to be a GeoJSON Feature in EPSG:4326."""
    if not text:
        return None
    if len(text) > MAX_VALUE_CHARS:
        raise InvalidInput("location is too long to be a picker value.")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:  # nested thousands deep: a 400, not a 500
        raise InvalidInput("location is not JSON (or is nested too deeply).") from exc
    if not isinstance(value, dict) or value.get("type") != "Feature":
        raise InvalidInput("location must be a GeoJSON Feature.")
    if not _valid_geometry(value.get("geometry")):
        raise InvalidInput(
            "location must have a Point, LineString or Polygon geometry in longitude, latitude."
        )
    if not isinstance(value.get("properties"), dict):
        value["properties"] = {}
    return value


@blueprint.post("/demo")
@contract(
    "demoReceipt",
    "What the demo e-service received",
    tags=("widget",),
    security=ANYONE,
    body={"application/x-www-form-urlencoded": DemoForm},
    responses={200: HTML_PAGE, **problems(400, 503)},
)
def demo_receipt() -> Response:
    """What the demo e-service received: the picker's value as JSON, and the fallback text."""
    location = _location(request.form.get("location", "") or request.form.get("area", ""))
    location_text = request.form.get("location_text", "").strip()
    resolved = None
    if location is None and location_text:
        # Without JavaScript only the text arrives: resolve it as the e-service would.
        try:
            with reads().connection() as conn:
                resolved = with_place_label(resolve_text(conn, location_text))
        except InvalidInput:
            resolved = None
    received = {
        key: value for key, value in request.form.items() if key not in {"location", "area"}
    }
    html = render_template(
        "demo_receipt.html",
        location=location,
        location_json=json.dumps(location, ensure_ascii=False, indent=2) if location else None,
        receipt_map=receipt_map(location) if location else None,
        location_text=location_text,
        resolved=resolved,
        received=received,
    )
    return _page(html)


def _basemap_of(code: str) -> dict[str, Any] | None:
    """The external basemap of municipality ``code`` for the embed page's CSP; none for an
    unknown municipality or while the database is unreachable (the page still works, on
    webmap's own basemap: the widget's own read of the municipality fails the same way)."""
    try:
        with reads().connection() as conn:
            return get_municipality(conn, code).basemap
    except (psycopg.Error, PoolTimeout, LayerNotFound, DatabaseNotReady):
        return None


@blueprint.get("/embed")
@contract(
    "embed",
    "The picker alone, for an iframe",
    tags=("widget",),
    security=ANYONE,
    query=EmbedParams,
    responses={200: HTML_PAGE, **problems(400)},
)
def embed_page() -> Response:
    """The picker alone, for an iframe; posts its value to ``?origin=`` if allow-listed."""
    params = parse_query(EmbedParams)
    origin = params.origin.rstrip("/")
    allowed = embed_origins(params.municipality)
    if origin and origin not in allowed:
        raise InvalidInput(f"origin {origin!r} is not allowed to embed this map.")
    # Framed only by the parent that receives the value, or (no ?origin) by any allowed one.
    allow_framing([origin] if origin else allowed)
    if params.municipality:
        allow_basemap(_basemap_of(params.municipality))
    lang = _lang()
    start = _MUNICIPALITY_START if params.municipality else _start_view(EMBED_CENTER, 16, lang)
    html = render_template(
        "embed.html", lang=lang, origin=origin, start=start, municipality=params.municipality
    )
    return _page(html)
