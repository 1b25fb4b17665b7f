"""OGC API – Features (Part 1: Core, GeoJSON) under ``/ogc``, so QGIS and GDAL's OAPIF driver can
read published vector layers. Anonymous callers see public layers; staff (token or login) also
see private ones, and those answers are marked private for caches.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from layers.catalog import VECTOR, LayerInfo
from layers.errors import InvalidInput, LayerNotFound
from layers.features import SUPPORTED_CRS, feature_by_id, feature_page, parse_bbox, srid_of
from webmap.db import get_pool
from webmap.http.auth import is_staff
from webmap.services import services

blueprint = Blueprint("ogc", __name__, url_prefix="/ogc")

GEOJSON = "application/geo+json"
JSON = "application/json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
MAX_OFFSET = 2**63 - 1  # PostgreSQL's OFFSET is a bigint; beyond it the query fails


def _visible() -> dict[str, LayerInfo]:
    staff = is_staff()
    return {
        name: layer
        for name, layer in services().catalog.layers().items()
        if layer.kind == VECTOR and (layer.public or staff)
    }


def _layer(collection_id: str) -> LayerInfo:
    found = _visible().get(collection_id)
    if found is None:
        raise LayerNotFound(f"There is no collection {collection_id!r}.")
    return found


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _respond(body: dict[str, Any], media_type: str = JSON, public: bool = True) -> Response:
    response = jsonify(body)
    response.mimetype = media_type
    response.headers["Cache-Control"] = "public, max-age=60" if public else "private, no-store"
    return response


@blueprint.get("")
@blueprint.get("/")
def landing() -> Response:
    """The landing page: where the API description, conformance and collections are."""
    return _respond(
        {
            "title": "Webmap – OGC API Features",
            "description": "Published map layers of the municipality.",
            "links": [
                {"rel": "self", "type": JSON, "href": _url("ogc.landing")},
                {
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.1",
                    "href": url_for("openapi.openapi", _external=True),
                },
                {"rel": "conformance", "type": JSON, "href": _url("ogc.conformance")},
                {"rel": "data", "type": JSON, "href": _url("ogc.collections")},
            ],
        },
        public=not is_staff(),
    )


@blueprint.get("/conformance")
def conformance() -> Response:
    """The conformance classes implemented."""
    return _respond({"conformsTo": CONFORMANCE})


def _collection(layer: LayerInfo) -> dict[str, Any]:
    bounds = layer.bounds or (-180.0, -90.0, 180.0, 90.0)
    return {
        "id": layer.name,
        "title": layer.title,
        "description": layer.description,
        "attribution": layer.attribution,
        "itemType": "feature",
        "crs": list(SUPPORTED_CRS),
        "extent": {"spatial": {"bbox": [list(bounds)], "crs": CRS84}},
        "links": [
            {"rel": "self", "type": JSON, "href": _url("ogc.collection", collection_id=layer.name)},
            {
                "rel": "items",
                "type": GEOJSON,
                "href": _url("ogc.items", collection_id=layer.name),
            },
        ],
    }


@blueprint.get("/collections")
def collections() -> Response:
    """Every visible vector layer as a collection."""
    layers = _visible()
    return _respond(
        {
            "links": [{"rel": "self", "type": JSON, "href": _url("ogc.collections")}],
            "collections": [_collection(layer) for layer in layers.values()],
        },
        public=all(layer.public for layer in layers.values()),
    )


@blueprint.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    """One collection's description."""
    layer = _layer(collection_id)
    return _respond(_collection(layer), public=layer.public)


def _int_arg(name: str, default: int, low: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a whole number.") from exc
    if value < low:
        raise InvalidInput(f"{name} must be at least {low}.")
    return value


@blueprint.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    """A page of features as a GeoJSON FeatureCollection, filtered by ``bbox``."""
    layer = _layer(collection_id)
    # A limit above the maximum is lowered, not refused (OGC API – Features, /req/core/fc-limit).
    limit = min(_int_arg("limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = _int_arg("offset", 0, 0)
    if offset > MAX_OFFSET:
        raise InvalidInput(f"offset must be at most {MAX_OFFSET}.")
    srid = srid_of(request.args.get("crs"))
    bbox_srid = srid_of(request.args.get("bbox-crs"))
    bbox_text = request.args.get("bbox")
    bbox = parse_bbox(bbox_text, bbox_srid) if bbox_text else None
    with get_pool().connection() as conn:
        page = feature_page(conn, layer, bbox, limit, offset, srid, bbox_srid)
    query: dict[str, Any] = {"limit": limit}
    for name in ("bbox", "bbox-crs", "crs"):
        if request.args.get(name):
            query[name] = request.args[name]
    links = [
        {
            "rel": "self",
            "type": GEOJSON,
            "href": _url("ogc.items", collection_id=layer.name, offset=offset, **query),
        },
        {
            "rel": "collection",
            "type": JSON,
            "href": _url("ogc.collection", collection_id=layer.name),
        },
    ]
    if offset + len(page.features) < page.matched:
        next_offset = offset + len(page.features)
        links.append(
            {
                "rel": "next",
                "type": GEOJSON,
                "href": _url("ogc.items", collection_id=layer.name, offset=next_offset, **query),
            }
        )
    if offset > 0:
        previous = max(offset - limit, 0)
        links.append(
            {
                "rel": "prev",
                "type": GEOJSON,
                "href": _url("ogc.items", collection_id=layer.name, offset=previous, **query),
            }
        )
    body = {
        "type": "FeatureCollection",
        "numberMatched": page.matched,
        "numberReturned": len(page.features),
        "features": page.features,
        "links": links,
    }
    return _with_crs(_respond(body, GEOJSON, public=layer.public), srid)


def _with_crs(response: Response, srid: int) -> Response:
    uri = next(uri for uri, known in SUPPORTED_CRS.items() if known == srid)
    response.headers["Content-Crs"] = f"<{uri}>"
    return response


@blueprint.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    """One feature by its id."""
    layer = _layer(collection_id)
    # isascii: str.isdigit() also accepts digits that int() refuses, such as "²".
    if not (feature_id.isascii() and feature_id.isdigit()) or len(feature_id) > 18:
        raise LayerNotFound(f"The collection {collection_id!r} has no feature {feature_id!r}.")
    srid = srid_of(request.args.get("crs"))
    with get_pool().connection() as conn:
        feature = feature_by_id(conn, layer, int(feature_id), srid)
    feature["links"] = [
        {
            "rel": "self",
            "type": GEOJSON,
            "href": _url("ogc.item", collection_id=layer.name, feature_id=feature_id),
        },
        {
            "rel": "collection",
            "type": JSON,
            "href": _url("ogc.collection", collection_id=layer.name),
        },
    ]
    return _with_crs(_respond(feature, GEOJSON, public=layer.public), srid)
