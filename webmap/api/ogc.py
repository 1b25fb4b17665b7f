"""OGC API – Features (Part 1: Core, GeoJSON) under ``/ogc``, so QGIS and GDAL's OAPIF driver can
read published vector layers. Anonymous callers see public layers; staff (token or login) also
see private ones, and those answers are marked private for caches.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Response, jsonify, url_for
from pydantic import BaseModel, Field, model_validator

from layers.catalog import VECTOR, LayerInfo
from layers.errors import LayerNotFound
from layers.features import SUPPORTED_CRS, feature_by_id, feature_page, parse_bbox, srid_of
from webmap.db import get_pool
from webmap.http.auth import is_staff
from webmap.http.contracts import (
    ANYONE,
    ANYONE_OR_STAFF,
    GEOJSON,
    JSON,
    WholeNumber,
    contract,
    documented_as,
    ok,
    parse_query,
    problems,
)
from webmap.http.params import parse_whole_number
from webmap.services import services

blueprint = Blueprint("ogc", __name__, url_prefix="/ogc")

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
MAX_OFFSET = 2**63 - 1  # PostgreSQL's OFFSET is a bigint; beyond it the query fails
LARGEST_FEATURE_ID = 10**18 - 1
_CRS = Field(
    None,
    description="CRS of the answer's geometries (OGC API – Features Part 2); default CRS84. The "
    "URI may be wrapped in <…>. The answer's `Content-Crs` header names it.",
    json_schema_extra=documented_as({"enum": list(SUPPORTED_CRS)}),
)


class Link(BaseModel):
    """A link of an OGC API answer."""

    rel: str
    href: str


class CollectionId(BaseModel):
    """A collection's address."""

    collection_id: str = Field(description="A visible vector layer.", examples=["roads"])


class FeatureAddress(CollectionId):
    """A feature's address; other ids answer 404."""

    feature_id: str = Field(description="The feature id.", pattern="^[0-9]{1,18}$")


class FeatureParams(BaseModel):
    """The query of one feature: the CRS of its geometry (checked by ``srid_of``)."""

    crs: str | None = _CRS


class ItemsParams(FeatureParams):
    """The query of a page of features."""

    limit: WholeNumber(1, MAX_OFFSET) = Field(  # type: ignore[valid-type]
        DEFAULT_LIMIT, description=f"Page size; above {MAX_LIMIT:,} it is lowered to {MAX_LIMIT:,}."
    )
    offset: WholeNumber(0, MAX_OFFSET) = Field(0, description="Features to skip.")  # type: ignore[valid-type]
    bbox_crs: str | None = Field(
        None,
        alias="bbox-crs",
        description="CRS of `bbox`; default CRS84.",
        json_schema_extra=documented_as({"enum": list(SUPPORTED_CRS)}),
    )
    bbox: str | None = Field(
        None,
        description="minx,miny,maxx,maxy in `bbox-crs` (CRS84: minlon,minlat,maxlon,maxlat), or "
        "the 6-number 3D form.",
        json_schema_extra=documented_as(
            {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 4,
                "maxItems": 6,
                "style": "form",
                "explode": False,
            }
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_is_absent(cls, data: Any) -> Any:
        # ``?limit=&bbox=``: what a form sends for an empty field means the default.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value != ""}
        return data


class Landing(BaseModel):
    """The landing page."""

    links: list[Link]


class Conformance(BaseModel):
    """The conformance classes."""

    conformsTo: list[str]  # noqa: N815 (the standard's name)


class Collections(BaseModel):
    """Every visible vector layer."""

    links: list[Link]
    collections: list[dict[str, Any]]


class Collection(BaseModel):
    """One collection."""

    id: str
    links: list[Link]


class FeaturePage(BaseModel):
    """A page of features."""

    type: Literal["FeatureCollection"]
    features: list[dict[str, Any]]
    numberMatched: int = Field(ge=0)  # noqa: N815
    numberReturned: int = Field(ge=0)  # noqa: N815
    links: list[Link]


class Feature(BaseModel):
    """One feature."""

    type: Literal["Feature"]
    geometry: dict[str, Any] | None
    properties: dict[str, Any] | None


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
@contract(
    "ogcLanding",
    "OGC API – Features: landing page",
    tags=("ogc",),
    security=ANYONE_OR_STAFF,
    responses={200: ok(Landing)},
)
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
@contract(
    "ogcConformance",
    "OGC API – Features: conformance classes",
    tags=("ogc",),
    security=ANYONE,
    responses={200: ok(Conformance)},
)
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
@contract(
    "ogcCollections",
    "OGC API – Features: every visible vector layer",
    tags=("ogc",),
    security=ANYONE_OR_STAFF,
    responses={200: ok(Collections), **problems(503)},
)
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
@contract(
    "ogcCollection",
    "OGC API – Features: one collection",
    tags=("ogc",),
    security=ANYONE_OR_STAFF,
    path=CollectionId,
    responses={200: ok(Collection), **problems(404, 503)},
)
def collection(collection_id: str) -> Response:
    """One collection's description."""
    layer = _layer(collection_id)
    return _respond(_collection(layer), public=layer.public)


@blueprint.get("/collections/<collection_id>/items")
@contract(
    "ogcItems",
    "OGC API – Features: a page of features",
    tags=("ogc",),
    security=ANYONE_OR_STAFF,
    path=CollectionId,
    query=ItemsParams,
    responses={200: ok(FeaturePage, GEOJSON), **problems(400, 404, 503)},
)
def items(collection_id: str) -> Response:
    """A page of features as a GeoJSON FeatureCollection, filtered by ``bbox``."""
    layer = _layer(collection_id)
    params = parse_query(ItemsParams)
    # A limit above the maximum is lowered, not refused (OGC API – Features, /req/core/fc-limit).
    limit = min(params.limit, MAX_LIMIT)
    offset = params.offset
    srid = srid_of(params.crs)
    bbox_srid = srid_of(params.bbox_crs)
    bbox = parse_bbox(params.bbox, bbox_srid) if params.bbox else None
    with get_pool().connection() as conn:
        page = feature_page(conn, layer, bbox, limit, offset, srid, bbox_srid)
    query: dict[str, Any] = {"limit": limit}
    for name, value in (("bbox", params.bbox), ("bbox-crs", params.bbox_crs), ("crs", params.crs)):
        if value:
            query[name] = value
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
@contract(
    "ogcItem",
    "OGC API – Features: one feature",
    tags=("ogc",),
    security=ANYONE_OR_STAFF,
    path=FeatureAddress,
    query=FeatureParams,
    responses={200: ok(Feature, GEOJSON), **problems(400, 404, 503)},
)
def item(collection_id: str, feature_id: str) -> Response:
    """One feature by its id."""
    layer = _layer(collection_id)
    number = parse_whole_number(feature_id, 0, LARGEST_FEATURE_ID)
    if number is None or feature_id.startswith("-"):
        raise LayerNotFound(f"The collection {collection_id!r} has no feature {feature_id!r}.")
    srid = srid_of(parse_query(FeatureParams).crs)
    with get_pool().connection() as conn:
        feature = feature_by_id(conn, layer, number, srid)
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
