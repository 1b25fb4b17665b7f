"""``/api/staticmap``: a PNG of a marked place, and its alternative text, for receipts and PDFs.

``GET /api/staticmap?lon=…&lat=…[&zoom=16&width=600&height=400][&geometry=…]`` answers the
image (``geometry``: the chosen line or area as GeoJSON, drawn instead of the marker;
``marker=false``: no marker, ``format=webp``: a smaller lossy image, ``v=``: the basemap's data
version, which makes the answer immutable — the picker's preview of its start view, see
:mod:`webmap.pages.widget`); ``GET /api/staticmap.json`` with the same parameters (and
``lang=sv|en``) answers the image URL and its alt text, so an e-service can store both with
the citizen's case.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from typing import Annotated, Any, Literal

from flask import Blueprint, jsonify, request, url_for
from pydantic import BaseModel, BeforeValidator, Field
from werkzeug.wrappers import Response

from layers.crs import plausible_in_sweden
from layers.lookup.reverse import reverse
from tiles.alttext import PlaceWords, describe
from tiles.staticmap import (
    MAX_SIDE,
    MAX_ZOOM,
    MIN_SIDE,
    InvalidStaticMap,
    StaticMap,
    StaticMapRenderer,
)
from tiles.staticmap_shape import MAX_SHAPE_CHARS, MAX_SHAPE_VERTICES, parse_shape
from tiles.tilesets import BASEMAP, Tileset, resolve_tileset
from webmap.db_routing import reads
from webmap.http.caching import IMMUTABLE, redirect_to_live
from webmap.http.contracts import (
    ANYONE,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    REDIRECT,
    FiniteNumber,
    Reply,
    WholeNumber,
    contract,
    ok,
    parse_query,
    problems,
)
from webmap.i18n import alt_text, in_lang
from webmap.services import services

blueprint = Blueprint("staticmap", __name__)
_CACHE = "public, max-age=3600"
_MIMETYPES = {"png": "image/png", "webp": "image/webp"}
# Versioned previews (``v=``) drawn lately, by ETag: every visitor of a page with a preview asks
# for the same few images, and drawing one takes 0.1–0.2 s of a worker.
_RENDERED: OrderedDict[str, bytes] = OrderedDict()
_RENDERED_MAX = 32


class StaticMapParams(BaseModel):
    """Where and how large: the query of both static map endpoints."""

    lon: FiniteNumber = Field(
        description="Longitude of the marked place (WGS 84).",
        examples=[18.075],
        json_schema_extra={"minimum": -180, "maximum": 180},
    )
    lat: FiniteNumber = Field(
        description="Latitude of the marked place (WGS 84).",
        examples=[59.337],
        json_schema_extra={"minimum": -85, "maximum": 85},
    )
    zoom: WholeNumber(0, MAX_ZOOM) = Field(16, description="Zoom level.")  # type: ignore[valid-type]
    width: WholeNumber(MIN_SIDE, MAX_SIDE) = Field(600, description="Pixels.")  # type: ignore[valid-type]
    height: WholeNumber(MIN_SIDE, MAX_SIDE) = Field(400, description="Pixels.")  # type: ignore[valid-type]
    geometry: str | None = Field(
        None,
        description=(
            "The chosen line or area, drawn instead of the marker: a GeoJSON LineString or "
            f"Polygon in WGS 84, at most {MAX_SHAPE_VERTICES} positions and "
            f"{MAX_SHAPE_CHARS} characters."
        ),
        examples=['{"type":"LineString","coordinates":[[18.074,59.338],[18.076,59.338]]}'],
    )
    marker: Literal["true", "false"] = Field(
        "true", description="`false`: the place unmarked (a preview of a map's start view)."
    )
    format: Literal["png", "webp"] = Field(
        "png", description="`webp`: lossy and about a third of the PNG's bytes (previews)."
    )
    v: str | None = Field(
        None,
        description=(
            "The basemap's data version (its TileJSON's `?v=`): the live one makes the image "
            "immutable, an older one redirects to the live one."
        ),
        max_length=64,
    )

    def wanted(self) -> StaticMap:
        """The domain's request (it checks the place, size and shape, 400 otherwise)."""
        shape = parse_shape(self.geometry) if self.geometry else None
        return StaticMap(
            self.lon,
            self.lat,
            self.zoom,
            self.width,
            self.height,
            shape,
            marker=self.marker == "true",
        )


def _language(value: Any) -> Any:
    if value not in {"sv", "en"}:
        raise InvalidStaticMap("lang must be sv or en.")
    return value


class DescriptionParams(StaticMapParams):
    """The static map's query, and the language of its alternative text."""

    lang: Annotated[Literal["sv", "en"], BeforeValidator(_language)] = Field(
        "sv", description="Language of the alternative text."
    )


class StaticMapDescription(BaseModel):
    """The image URL and its alternative text."""

    image: str
    alt: str
    width: int
    height: int
    lang: Literal["sv", "en"]


def _params(
    wanted: StaticMap, geometry: str | None = None, image_format: str = "png"
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "lon": round(wanted.lon, 6),
        "lat": round(wanted.lat, 6),
        "zoom": wanted.zoom,
        "width": wanted.width,
        "height": wanted.height,
    }
    if geometry:
        params["geometry"] = geometry
    if not wanted.marker:
        params["marker"] = "false"
    if image_format != "png":
        params["format"] = image_format
    return params


@blueprint.get("/api/staticmap")
@contract(
    "staticMap",
    "A PNG of the basemap with the place marked",
    tags=("staticmap",),
    security=ANYONE,
    query=StaticMapParams,
    headers=(IF_NONE_MATCH,),
    responses={
        200: Reply(
            "The image: PNG, or WebP with `format=webp`",
            {m: {"type": "string", "format": "binary"} for m in _MIMETYPES.values()},
        ),
        302: REDIRECT,
        304: NOT_MODIFIED,
        **problems(400, 503),
    },
)
def static_map() -> Response:
    """The image of the (marked) place on the basemap."""
    params = parse_query(StaticMapParams)
    wanted = params.wanted()
    tileset = resolve_tileset(BASEMAP, services().catalog.layers())
    shown = _params(wanted, params.geometry, params.format)
    moved = redirect_to_live("staticmap.static_map", tileset.version, params.v, **shown)
    if moved is not None:
        return moved
    etag = hashlib.sha256(f"{tileset.version}:{sorted(shown.items())}".encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(_image(wanted, tileset, params), mimetype=_MIMETYPES[params.format])
    response.set_etag(etag)
    response.headers["Cache-Control"] = IMMUTABLE if params.v is not None else _CACHE
    return response


def _image(wanted: StaticMap, tileset: Tileset, params: StaticMapParams) -> bytes:
    """The drawn image; a versioned one (``v=``, never changing) from :data:`_RENDERED` when
    it was drawn lately."""
    shown = _params(wanted, params.geometry, params.format)
    key = f"{tileset.name}:{tileset.version}:{sorted(shown.items())}"
    if params.v is not None and key in _RENDERED:
        _RENDERED.move_to_end(key)
        return _RENDERED[key]
    body = StaticMapRenderer(reads().connection).render(wanted, tileset, params.format)
    if params.v is not None:
        _RENDERED[key] = body
        while len(_RENDERED) > _RENDERED_MAX:
            _RENDERED.popitem(last=False)
    return body


@blueprint.get("/api/staticmap.json")
@contract(
    "staticMapDescription",
    "The static map's URL and its alternative text",
    tags=("staticmap",),
    security=ANYONE,
    query=DescriptionParams,
    responses={200: ok(StaticMapDescription), **problems(400, 503)},
)
def static_map_description() -> Response:
    """The image URL and its alternative text (Swedish by default, ``lang=en`` for English)."""
    params = parse_query(DescriptionParams)
    wanted, lang = params.wanted(), params.lang
    place = PlaceWords(lon=wanted.lon, lat=wanted.lat)
    # Far from Sweden SWEREF 99 TM is undefined (PostGIS refuses the transform) and there is
    # nothing to look up: such a place is described by its WGS 84 position alone.
    if plausible_in_sweden(wanted.lon, wanted.lat):
        with reads().connection() as conn:
            found = reverse(conn, wanted.lon, wanted.lat, 4326)
        place = PlaceWords(
            address=found.address.label if found.address else None,
            designation=found.designation,
            fictional=bool(found.fictional),
            municipality=found.municipality_name,
            e=found.e,
            n=found.n,
        )
    # Ground size at the place, not at the equator: Web Mercator stretches by 1/cos(latitude).
    ground = wanted.metres_per_pixel * math.cos(math.radians(wanted.lat))
    with in_lang(lang):
        shape = wanted.shape
        drawn: tuple[Literal["line", "area"], float] | None = None
        if shape is not None:
            drawn = ("area" if shape.kind == "Polygon" else "line", shape.measure())
        facts = describe(place, wanted.width * ground, wanted.height * ground, drawn)
        alt = alt_text(facts)
    response = jsonify(
        {
            "image": url_for(
                "staticmap.static_map", _external=True, **_params(wanted, params.geometry)
            ),
            "alt": alt,
            "width": wanted.width,
            "height": wanted.height,
            "lang": lang,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
