"""``/api/staticmap``: a PNG of a marked place, and its alternative text, for receipts and PDFs.

``GET /api/staticmap?lon=…&lat=…[&zoom=16&width=600&height=400][&geometry=…]`` answers the
image (``geometry``: the chosen line or area as GeoJSON, drawn instead of the marker);
``GET /api/staticmap.json`` with the same parameters (and ``lang=sv|en``) answers the image URL
and its alt text, so an e-service can store both with the citizen's case.
"""

from __future__ import annotations

import hashlib
import math
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
from tiles.tilesets import BASEMAP, resolve_tileset
from webmap.db_routing import reads
from webmap.http.contracts import (
    ANYONE,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    FiniteNumber,
    WholeNumber,
    binary,
    contract,
    ok,
    parse_query,
    problems,
)
from webmap.i18n import alt_text, in_lang
from webmap.services import services

blueprint = Blueprint("staticmap", __name__)
_CACHE = "public, max-age=3600"


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

    def wanted(self) -> StaticMap:
        """The domain's request (it checks the place, size and shape, 400 otherwise)."""
        shape = parse_shape(self.geometry) if self.geometry else None
        return StaticMap(self.lon, self.lat, self.zoom, self.width, self.height, shape)


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


def _params(wanted: StaticMap, geometry: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "lon": round(wanted.lon, 6),
        "lat": round(wanted.lat, 6),
        "zoom": wanted.zoom,
        "width": wanted.width,
        "height": wanted.height,
    }
    if geometry:
        params["geometry"] = geometry
    return params


@blueprint.get("/api/staticmap")
@contract(
    "staticMap",
    "A PNG of the basemap with the place marked",
    tags=("staticmap",),
    security=ANYONE,
    query=StaticMapParams,
    headers=(IF_NONE_MATCH,),
    responses={200: binary("image/png", "PNG image"), 304: NOT_MODIFIED, **problems(400, 503)},
)
def static_map() -> Response:
    """The PNG image of the marked place on the basemap."""
    params = parse_query(StaticMapParams)
    wanted = params.wanted()
    tileset = resolve_tileset(BASEMAP, services().catalog.layers())
    etag = hashlib.sha256(
        f"{tileset.version}:{sorted(_params(wanted, params.geometry).items())}".encode()
    ).hexdigest()
    if request.if_none_match.contains(etag[:32]):
        response = Response(status=304)
    else:
        renderer = StaticMapRenderer(reads().connection)
        response = Response(renderer.render(wanted, tileset), mimetype="image/png")
    response.set_etag(etag[:32])
    response.headers["Cache-Control"] = _CACHE
    return response


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
