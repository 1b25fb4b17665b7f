"""HTTP for address and property lookups: ``/api/search`` and ``/api/reverse``.

Parses and checks the query string, calls ``layers.lookup`` and shapes GeoJSON / JSON. Every bad
parameter raises a domain error that ``webmap.http.problems`` answers as RFC 9457 problem JSON.
Query strings carry what citizens typed and where they are: nothing here logs them, and reverse
answers are ``no-store``. The contract is documented in ``docs/api-lookup.md``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from layers.crs import SWEREF99_TM, WGS84, OutsideSweden, check_lonlat, check_srid, check_sweref
from layers.errors import InvalidInput
from layers.lookup.query import check_query, parse_query
from layers.lookup.reverse import DEFAULT_RADIUS_M, MAX_RADIUS_M, ReverseResult, reverse
from layers.lookup.search import DEFAULT_LIMIT, MAX_LIMIT, SearchHit, SearchOptions, search
from webmap.db import get_pool
from webmap.http.params import number, whole_number
from webmap.http.problems import DOMAIN_ERRORS, problem
from webmap.i18n import in_lang, reverse_message

blueprint = Blueprint("lookup", __name__)

GEOJSON = "application/geo+json"
_MUNICIPALITY_CODE = re.compile(r"^[0-9]{4}$")


def _srid(text: str | None) -> int:
    if text is None:
        return SWEREF99_TM
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput("The parameter srid must be an EPSG code such as 3006.") from None
    return check_srid(value)


def _search_options() -> SearchOptions:
    args = request.args
    limit = whole_number("limit", args["limit"], 1, MAX_LIMIT) if "limit" in args else DEFAULT_LIMIT
    near = None
    if "near" in args:
        parts = args["near"].split(",")
        if len(parts) != 2:
            raise InvalidInput("The parameter near must be lon,lat (WGS 84), e.g. 18.07,59.33.")
        near = check_lonlat(number("near lon", parts[0]), number("near lat", parts[1]), "near")
    municipality = args.get("municipality")
    if municipality is not None and not _MUNICIPALITY_CODE.match(municipality):
        raise InvalidInput("The parameter municipality must be a 4-digit code such as 0180.")
    return SearchOptions(limit, near, municipality, _srid(args.get("srid")))


def _sweref(e: float, n: float, srid: int) -> dict[str, Any]:
    return {"srid": srid, "e": round(e, 3), "n": round(n, 3), "axis_order": "n,e"}


def _feature(hit: SearchHit, srid: int) -> dict[str, Any]:
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
    if hit.kind == "property":
        properties.update(designation=hit.designation, fictional=bool(hit.fictional))
    return {
        "type": "Feature",
        "id": hit.id,
        "geometry": {"type": "Point", "coordinates": [round(hit.lon, 7), round(hit.lat, 7)]},
        "properties": properties,
    }


@blueprint.get("/api/search")
def search_endpoint() -> Response:
    """Type-ahead over streets, addresses and property designations (GeoJSON)."""
    query = parse_query(check_query(request.args.get("q")))
    options = _search_options()
    with get_pool().connection() as conn:
        hits = search(conn, query, options)
    body = {
        "type": "FeatureCollection",
        "features": [_feature(hit, options.srid) for hit in hits],
    }
    response = jsonify(body)
    response.mimetype = GEOJSON
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def _reverse_point() -> tuple[float, float, int]:
    """(x, y, srid) from ``lon``/``lat`` or ``x``/``y``/``srid``, checked to be in Sweden."""
    args = request.args
    has_lonlat = "lon" in args or "lat" in args
    has_xy = "x" in args or "y" in args
    if has_lonlat and has_xy:
        raise InvalidInput("Give either lon and lat, or x, y and srid — not both.")
    if has_xy:
        srid = _srid(args.get("srid"))
        x, y = number("x", args.get("x")), number("y", args.get("y"))
        check_sweref(x, y, srid)
        return x, y, srid
    if not has_lonlat:
        raise InvalidInput("Give the point as lon and lat (WGS 84) or x, y and srid (SWEREF 99).")
    lon, lat = number("lon", args.get("lon")), number("lat", args.get("lat"))
    check_lonlat(lon, lat)
    return lon, lat, WGS84


def _reverse_body(result: ReverseResult) -> dict[str, Any]:
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
        "message": message,
        "message_sv": message_sv,
    }


@blueprint.get("/api/reverse")
def reverse_endpoint() -> Response:
    """Nearest address, property unit and municipality at a point."""
    x, y, srid = _reverse_point()
    radius = DEFAULT_RADIUS_M
    if "radius" in request.args:
        radius = float(whole_number("radius", request.args["radius"], 1, int(MAX_RADIUS_M)))
    with get_pool().connection() as conn:
        result = reverse(conn, x, y, srid, radius)
    response = jsonify(_reverse_body(result))
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.errorhandler(OutsideSweden)
def _outside_sweden(error: OutsideSweden) -> Response:
    """Problem JSON with the swap ``hint`` as its own member, so clients can show it."""
    kind = DOMAIN_ERRORS[OutsideSweden]
    extra = {"hint": error.hint} if error.hint else {}
    return problem(kind.status, kind.title, error.detail, kind.slug, **extra)
