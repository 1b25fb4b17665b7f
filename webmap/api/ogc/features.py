"""OGC API – Features (Part 1: Core, GeoJSON) under ``/ogc``, so QGIS and GDAL's OAPIF driver can
read published vector layers. Anonymous callers see public layers; staff (token or login) also
see private ones, and those answers are marked private for caches.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for

from layers.catalog import VECTOR, LayerInfo
from layers.errors import LayerNotFound
from layers.feature_schema import collection_schema
from layers.features import (
    STORAGE_CRS,
    SUPPORTED_CRS,
    feature_by_id,
    feature_page,
    parse_bbox,
    srid_of,
)
from webmap.api.ogc import tiles
from webmap.api.ogc.blueprint import blueprint
from webmap.api.ogc.models import (
    LARGEST_FEATURE_ID,
    MAX_LIMIT,
    Collection,
    CollectionId,
    Collections,
    Conformance,
    Feature,
    FeatureAddress,
    FeatureParams,
    FeatureSchema,
    ItemsParams,
    Landing,
)
from webmap.api.ogc.models import FeaturePage as FeaturePageModel
from webmap.db_routing import reads
from webmap.http.auth import is_staff, may_see
from webmap.http.contracts import (
    ANYONE,
    ANYONE_OR_STAFF,
    GEOJSON,
    JSON,
    contract,
    ok,
    parse_query,
    problems,
)
from webmap.http.params import parse_whole_number
from webmap.services import services

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
SCHEMA_JSON = "application/schema+json"
#: Part 5's link relation for a collection's feature schema; GDAL looks for ``describedby``.
SCHEMA_REL = "http://www.opengis.net/def/rel/ogc/1.0/schema"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
]


def _visible() -> dict[str, LayerInfo]:
    return {
        name: layer
        for name, layer in services().catalog.layers().items()
        if layer.kind == VECTOR and may_see(layer.public, layer.municipality)
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
                {"rel": tiles.TILING_SCHEMES, "type": JSON, "href": _url("ogc.tile_matrix_sets")},
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
    return _respond({"conformsTo": CONFORMANCE + tiles.CONFORMANCE})


def _collection(layer: LayerInfo) -> dict[str, Any]:
    bounds = layer.bounds or (-180.0, -90.0, 180.0, 90.0)
    schema = _schema(layer)
    return {
        "id": layer.name,
        "title": layer.title,
        "description": layer.description,
        "attribution": layer.attribution,
        "itemType": "feature",
        "crs": list(SUPPORTED_CRS),
        "storageCrs": STORAGE_CRS,
        "geometryFormat": schema["properties"]["geometry"]["format"],
        "extent": {"spatial": {"bbox": [list(bounds)], "crs": CRS84}},
        "links": [
            {"rel": "self", "type": JSON, "href": _url("ogc.collection", collection_id=layer.name)},
            {
                "rel": "items",
                "type": GEOJSON,
                "href": _url("ogc.items", collection_id=layer.name),
            },
            {"rel": SCHEMA_REL, "type": SCHEMA_JSON, "href": schema["$id"]},
            {"rel": "describedby", "type": SCHEMA_JSON, "href": schema["$id"]},
            *tiles.collection_tile_links(layer.name, "vector"),
        ],
    }


def _schema(layer: LayerInfo) -> dict[str, Any]:
    return collection_schema(layer, _url("ogc.schema", collection_id=layer.name))


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
    """One collection's description: a vector layer's features and tiles, or a collection that
    has only tiles (a raster layer, the basemap), which the collections list leaves out so that
    Features clients do not meet collections without items."""
    layer = _visible().get(collection_id)
    if layer is None:
        described, public = tiles.tiles_only_collection(collection_id)
        return _respond(described, public=public)
    return _respond(_collection(layer), public=layer.public)


@blueprint.get("/collections/<collection_id>/schema")
@contract(
    "ogcSchema",
    "OGC API – Features: a collection's feature schema (Part 5)",
    tags=("ogc",),
    security=ANYONE_OR_STAFF,
    path=CollectionId,
    responses={200: ok(FeatureSchema, SCHEMA_JSON), **problems(404, 503)},
)
def schema(collection_id: str) -> Response:
    """The collection's attributes and geometry type as JSON Schema."""
    layer = _layer(collection_id)
    return _respond(_schema(layer), SCHEMA_JSON, public=layer.public)


@blueprint.get("/collections/<collection_id>/items")
@contract(
    "ogcItems",
    "OGC API – Features: a page of features",
    tags=("ogc",),
    security=ANYONE_OR_STAFF,
    path=CollectionId,
    query=ItemsParams,
    responses={200: ok(FeaturePageModel, GEOJSON), **problems(400, 404, 503)},
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
    with reads().connection() as conn:
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
    with reads().connection() as conn:
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
