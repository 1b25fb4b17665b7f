"""HTTP for address and property lookups: ``/api/search`` and ``/api/reverse``.

Parses and checks the query string, calls ``layers.lookup`` and shapes GeoJSON / JSON. Every bad
parameter raises a domain error that ``webmap.http.problems`` answers as RFC 9457 problem JSON.
Query strings carry what citizens typed and where they are: nothing here logs them, and reverse
answers are ``no-store``. The contract is documented in ``docs/api-lookup.md``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, Response
from pydantic import BaseModel, BeforeValidator, Field

from layers.crs import SWEREF99_TM, WGS84, OutsideSweden, check_lonlat, check_sweref
from layers.errors import InvalidInput
from layers.lookup import reverse as lookup_reverse
from layers.lookup.attribution import address_attributions, answer_attributions
from layers.lookup.query import check_query
from layers.lookup.query import parse_query as parse_search_text
from layers.lookup.reverse import DEFAULT_RADIUS_M, MAX_RADIUS_M, reverse
from layers.lookup.search import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SearchHit,
    SearchOptions,
    search_answer,
)
from webmap.db_routing import reads
from webmap.http.contracts import (
    ANYONE,
    GEOJSON,
    FiniteNumber,
    WholeNumber,
    contract,
    ok,
    parse_query,
    problems,
)
from webmap.http.json_output import json_response
from webmap.http.models import Point, Srid, SwerefPoint
from webmap.http.params import number
from webmap.http.problems import DOMAIN_ERRORS, problem
from webmap.i18n import in_lang, reverse_message

blueprint = Blueprint("lookup", __name__)


_CODE = "^[0-9]{4}$"
_MUNICIPALITY_SEARCH = Field(
    None,
    pattern=_CODE,
    description="A municipality's 4-digit SCB code (e.g. 2281): places inside it rank first; "
    "the others follow, each hit saying in `in_requested_municipality` whether it is inside. "
    "A code no municipality has: 400.",
    examples=["0180"],
)
_MUNICIPALITY_REVERSE = Field(
    None,
    pattern=_CODE,
    description="A municipality's 4-digit SCB code: the answer says in "
    "`in_requested_municipality` whether the point is in it. A code no municipality has: 400.",
    examples=["2281"],
)


class SearchParams(BaseModel):
    """The query of ``/api/search``."""

    q: Annotated[str, BeforeValidator(check_query)] = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="What was typed: 1–100 characters, no control characters.",
        examples=["grev tu", "Grev Turegatan 13", "rosen 1"],
    )
    limit: WholeNumber(1, MAX_LIMIT) = Field(DEFAULT_LIMIT, description="How many results.")  # type: ignore[valid-type]
    near: str | None = Field(
        None,
        description="`lon,lat` (WGS 84) in Sweden: nearby results rank a little higher.",
        examples=["18.07,59.33"],
        json_schema_extra={"pattern": "^-?[0-9.]+,-?[0-9.]+$"},
    )
    municipality: str | None = _MUNICIPALITY_SEARCH
    srid: Srid = SWEREF99_TM


class ReverseParams(BaseModel):
    """The query of ``/api/reverse``: ``lon``/``lat``, or ``x``/``y`` with ``srid``."""

    lon: FiniteNumber | None = Field(
        None,
        description="Longitude (WGS 84).",
        examples=[18.075],
        json_schema_extra={"minimum": -180, "maximum": 180},
    )
    lat: FiniteNumber | None = Field(
        None,
        description="Latitude (WGS 84).",
        examples=[59.337],
        json_schema_extra={"minimum": -90, "maximum": 90},
    )
    x: FiniteNumber | None = Field(None, description="SWEREF 99 easting (with y and srid).")
    y: FiniteNumber | None = Field(None, description="SWEREF 99 northing.")
    srid: Srid = SWEREF99_TM
    radius: WholeNumber(1, int(MAX_RADIUS_M)) = Field(  # type: ignore[valid-type]
        int(DEFAULT_RADIUS_M), description="Metres to look for the nearest address."
    )
    municipality: str | None = _MUNICIPALITY_REVERSE


class HitProperties(BaseModel):
    """What a search hit says about itself (docs/api-lookup.md)."""

    label: str
    kind: Literal["street", "address", "property"]
    id: str
    number: int | None = None
    sweref: SwerefPoint
    municipality_code: str | None = Field(description="The place's municipality (SCB code).")
    municipality: str | None = Field(description="Its name.")
    in_requested_municipality: bool | None = Field(
        None, description="With `?municipality=`: whether the place is in that municipality."
    )
    fictional: bool | None = None
    attribution: str | None = None


class HitFeature(BaseModel):
    """A search hit."""

    type: Literal["Feature"]
    id: str
    geometry: Point
    properties: HitProperties


ATTRIBUTION_DESCRIPTION = (
    "Credits the licences of the address and property data behind the answer ask for, e.g. "
    '"© Lantmäteriet (CC BY 4.0)"; empty when no credited address, street or property unit '
    "is in the answer. Show them with the answer."
)


class Municipality(BaseModel):
    """A municipality (kommun)."""

    code: str
    name: str


class SearchResults(BaseModel):
    """A GeoJSON FeatureCollection of search hits."""

    type: Literal["FeatureCollection"]
    features: list[HitFeature]
    attribution: list[str] = Field(description=ATTRIBUTION_DESCRIPTION)
    requested_municipality: Municipality | None = Field(
        None, description="With `?municipality=`: that municipality's code and name."
    )


class LonLat(BaseModel):
    """A WGS 84 position."""

    lon: float
    lat: float


class ReverseResult(BaseModel):
    """What is at a point; ``message``/``message_sv`` say it in English and Swedish."""

    point: LonLat
    sweref99tm: SwerefPoint
    address: dict[str, Any] | None
    property: dict[str, Any] | None
    municipality: Municipality | None
    inside_municipality: bool
    requested_municipality: Municipality | None = Field(
        None, description="With `?municipality=`: that municipality's code and name."
    )
    in_requested_municipality: bool | None = Field(
        None, description="With `?municipality=`: whether the point is in that municipality."
    )
    message: str | None
    message_sv: str | None
    attribution: list[str] = Field(description=ATTRIBUTION_DESCRIPTION)


def _search_options(params: SearchParams) -> SearchOptions:
    near = None
    if params.near is not None:
        parts = params.near.split(",")
        if len(parts) != 2:
            raise InvalidInput("The parameter near must be lon,lat (WGS 84), e.g. 18.07,59.33.")
        near = check_lonlat(number("near lon", parts[0]), number("near lat", parts[1]), "near")
    return SearchOptions(params.limit, near, params.municipality, params.srid)


def _sweref(e: float, n: float, srid: int) -> dict[str, Any]:
    return {"srid": srid, "e": round(e, 3), "n": round(n, 3), "axis_order": "n,e"}


def _feature(hit: SearchHit, srid: int, inside: bool | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "label": hit.label,
        "kind": hit.kind,
        "id": hit.id,
        "street": hit.street,
        "number": hit.number,
        "letter": hit.letter,
        "entrance": hit.entrance,
        "postcode": hit.postcode,
        "city": hit.city,
        "district": hit.district,
        "municipality_code": hit.municipality_code,
        "municipality": hit.municipality,
        "sweref": _sweref(hit.e, hit.n, srid),
    }
    if inside is not None:
        properties["in_requested_municipality"] = inside
    if hit.kind == "property":
        properties.update(
            designation=hit.designation,
            fictional=bool(hit.fictional),
            attribution=hit.attribution,
        )
    return {
        "type": "Feature",
        "id": hit.id,
        "geometry": {"type": "Point", "coordinates": [round(hit.lon, 7), round(hit.lat, 7)]},
        "properties": properties,
    }


@blueprint.get("/api/search")
@contract(
    "search",
    "Type-ahead over streets, addresses and property designations",
    tags=("lookup",),
    description="See docs/api-lookup.md. A point outside Sweden in `near` answers 400 "
    "`/problems/outside-sweden`.",
    security=ANYONE,
    query=SearchParams,
    responses={200: ok(SearchResults, GEOJSON), **problems(400, 503)},
)
def search_endpoint() -> Response:
    """Type-ahead over streets, addresses and property designations (GeoJSON)."""
    params = parse_query(SearchParams)
    query = parse_search_text(params.q)
    options = _search_options(params)
    with reads().connection() as conn:
        answer = search_answer(conn, query, options)  # one statement, credits included
    hits = answer.hits
    uses_addresses = any(hit.kind in ("street", "address") for hit in hits)
    address_credits = answer.address_credits if uses_addresses else ()
    attribution = answer_attributions(address_credits, *(hit.attribution for hit in hits))
    body: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [_feature(hit, options.srid, answer.inside(hit)) for hit in hits],
        "attribution": attribution,
    }
    if answer.municipality is not None:
        code, name = answer.municipality
        body["requested_municipality"] = {"code": code, "name": name}
    response = json_response(body, GEOJSON)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def _reverse_point(params: ReverseParams) -> tuple[float, float, int]:
    """(x, y, srid) from ``lon``/``lat`` or ``x``/``y``/``srid``, checked to be in Sweden."""
    has_lonlat = params.lon is not None or params.lat is not None
    has_xy = params.x is not None or params.y is not None
    if has_lonlat and has_xy:
        raise InvalidInput("Give either lon and lat, or x, y and srid — not both.")
    if has_xy:
        x, y = _given("x", params.x), _given("y", params.y)
        check_sweref(x, y, params.srid)
        return x, y, params.srid
    if not has_lonlat:
        raise InvalidInput("Give the point as lon and lat (WGS 84) or x, y and srid (SWEREF 99).")
    lon, lat = _given("lon", params.lon), _given("lat", params.lat)
    check_lonlat(lon, lat)
    return lon, lat, WGS84


def _given(name: str, value: float | None) -> float:
    if value is None:
        raise InvalidInput(f"The parameter {name} is missing.")
    return value


def _reverse_body(result: lookup_reverse.ReverseResult, attribution: list[str]) -> dict[str, Any]:
    # Both languages in every answer: English in "message", Swedish in "message_sv".
    with in_lang("en"):
        message = reverse_message(result)
    with in_lang("sv"):
        message_sv = reverse_message(result)
    address = None
    if result.address is not None:
        a = result.address
        address = {
            "label": a.label,
            "street": a.street,
            "number": a.number,
            "letter": a.letter,
            "entrance": a.entrance,
            "postcode": a.postcode,
            "city": a.city,
            "district": a.district,
            "distance_m": a.distance_m,
        }
    found_property = None
    if result.designation is not None:
        found_property = {
            "designation": result.designation,
            "label": result.property_label,
            "fictional": bool(result.fictional),
            "attribution": result.property_attribution,
        }
    municipality = None
    if result.municipality_code is not None:
        municipality = {"code": result.municipality_code, "name": result.municipality_name}
    return {
        "point": {"lon": round(result.lon, 7), "lat": round(result.lat, 7)},
        "sweref99tm": {"e": round(result.e, 3), "n": round(result.n, 3), "axis_order": "n,e"},
        "address": address,
        "property": found_property,
        "municipality": municipality,
        "inside_municipality": municipality is not None,
        **_asked(result),
        "message": message,
        "message_sv": message_sv,
        "attribution": answer_attributions(
            attribution if address is not None else [], result.property_attribution
        ),
    }


def _asked(result: lookup_reverse.ReverseResult) -> dict[str, Any]:
    """The members a ``?municipality=`` adds: which one was asked, and is the point in it."""
    if result.asked is None:
        return {}
    code, name = result.asked
    return {
        "requested_municipality": {"code": code, "name": name},
        "in_requested_municipality": result.inside_asked,
    }


@blueprint.get("/api/reverse")
@contract(
    "reverse",
    "Nearest address, property unit and municipality at a point",
    tags=("lookup",),
    description="Give `lon` and `lat`, or `x`, `y` (and `srid`): both or neither is 400. Points "
    "that cannot be in Sweden are 400 `/problems/outside-sweden`, with a `hint` when the axes "
    "look swapped.",
    security=ANYONE,
    query=ReverseParams,
    responses={200: ok(ReverseResult), **problems(400, 503)},
)
def reverse_endpoint() -> Response:
    """Nearest address, property unit and municipality at a point."""
    params = parse_query(ReverseParams)
    x, y, srid = _reverse_point(params)
    with reads().connection() as conn:
        result = reverse(conn, x, y, srid, float(params.radius), params.municipality)
        attribution = address_attributions(conn) if result.address is not None else []
    response = json_response(_reverse_body(result, attribution))
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.errorhandler(OutsideSweden)
def _outside_sweden(error: OutsideSweden) -> Response:
    """Problem JSON with the swap ``hint`` as its own member, so clients can show it."""
    kind = DOMAIN_ERRORS[OutsideSweden]
    extra = {"hint": error.hint} if error.hint else {}
    return problem(kind.status, kind.title, error.detail, kind.slug, **extra)
