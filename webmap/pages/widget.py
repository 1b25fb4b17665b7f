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
from flask import Blueprint, render_template, request
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from layers.errors import InvalidInput, LayerNotFound
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
from webmap.http.security_headers import allow_framing, embed_origins
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
    """A built file and its gzip, for one modification time of the file."""

    mtime: float
    body: bytes
    gzipped: bytes


_COMPRESSED: dict[str, _Compressed] = {}


def _compressed(path: Path) -> _Compressed:
    """The file gzipped once per build: the bundle is ~4× smaller on the wire, which is most of
    a phone's wait on a slow network (see bench/widget.py)."""
    mtime = path.stat().st_mtime
    cached = _COMPRESSED.get(path.name)
    if cached is None or cached.mtime != mtime:
        body = path.read_bytes()
        cached = _Compressed(mtime, body, gzip.compress(body, 9, mtime=0))
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
            "The file (gzip when accepted), `Access-Control-Allow-Origin: *`",
            {"text/javascript": {"type": "string"}, "application/json": None},
        ),
        304: NOT_MODIFIED,
        **problems(404),
    },
)
def widget_file(filename: str) -> Response:
    """The widget bundle (and its source map) from the frontend build, gzipped when accepted."""
    if filename not in WIDGET_FILES:
        raise LayerNotFound(f"There is no widget file named {filename!r}.")
    path = DIST / filename
    if not path.is_file():
        raise LayerNotFound(f"{filename} is not built yet: run scripts/install.sh (npm run build).")
    built = _compressed(path)
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    etag = f"{filename}-{int(built.mtime * 1000)}" + ("-gz" if use_gzip else "")
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(
            built.gzipped if use_gzip else built.body, mimetype=WIDGET_FILES[filename]
        )
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# The demo pickers' start view (Östermalm, Stockholm): in the tag and in the tile preload hints.
DEMO_CENTER = (18.075, 59.338)


def _tile_preloads(zoom: int) -> list[str]:
    """The basemap tiles a demo map at ``zoom`` asks for first, to preload with the script.

    Why: on a throttled phone this removes the last sequential round trip before the first
    tiles are drawn (bench/widget.py). The URLs must equal the TileJSON's (absolute, ``?v=``),
    or the browser would fetch them twice. Hints are optional: without the database, none.
    """
    try:
        tileset = resolve_tileset(BASEMAP, services().catalog.layers())
    except (psycopg.Error, PoolTimeout):
        return []
    template = tile_url_template(tileset)
    return [
        template.replace("{z}", str(t.z)).replace("{x}", str(t.x)).replace("{y}", str(t.y))
        for t in first_tiles(*DEMO_CENTER, zoom, DATA_MAXZOOM)
    ]


def _demo(template: str, zoom: int, municipality: Municipality | None = None) -> Response:
    center = f"{DEMO_CENTER[0]},{DEMO_CENTER[1]}"
    params = parse_query(DemoPage)
    sweref = params.projection == "EPSG:3006"
    # The hints are Web Mercator tiles: no use to a map in SWEREF 99 TM.
    preloads = [] if sweref else _tile_preloads(zoom)
    if municipality is not None:
        # The picker opens on the municipality itself (municipality="…", its boundary's
        # extent): no center or zoom, and Östermalm's tiles would be no use to it.
        preloads = []
    return _page(
        render_template(
            template,
            lang=params.lang,
            center=None if municipality else center,
            zoom=zoom,
            projection=params.projection if sweref else None,
            tile_preloads=preloads,
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
    html = render_template(
        "embed.html", lang=_lang(), origin=origin, municipality=params.municipality
    )
    return _page(html)
