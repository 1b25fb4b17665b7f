"""OGC API – Tiles under ``/ogc``: the tile matrix sets, each layer's tilesets, and its tiles
in Web Mercator (``WebMercatorQuad``) or SWEREF 99 TM (``SWEREF99TM``, Lantmäteriet's grid).

Vector layers and the basemap are Mapbox Vector Tiles, raster layers PNG. Tile URLs carry the
data version as the XYZ tiles do (``?v=``): the same year-long caching, ETags and redirects of
an old version to the live one.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from layers.catalog import RASTER, VECTOR, LayerInfo
from layers.errors import LayerNotFound
from tiles.cache import TileKey
from tiles.matrix_sets import TILE_GRIDS, TileGrid
from tiles.ogc_tilesets import matrix_limits, matrix_set_document
from tiles.raster import describe as describe_raster
from tiles.tilesets import BASEMAP, Tileset, resolve_tileset
from webmap.api.ogc.blueprint import blueprint
from webmap.api.ogc.models import CollectionId
from webmap.http import metrics
from webmap.http.auth import may_see
from webmap.http.caching import (
    SHORT,
    finish_tile,
    layer_cache_control,
    not_modified,
    redirect_to_live,
    tile_cache_control,
)
from webmap.http.contracts import (
    ANYONE,
    ANYONE_OR_STAFF,
    IF_NONE_MATCH,
    JSON,
    NOT_MODIFIED,
    REDIRECT,
    Reply,
    contract,
    ok,
    parse_query,
    problems,
)
from webmap.http.models import RasterTileQuery
from webmap.http.tilesets import raster_path, render_raster_cached
from webmap.http.vector_tiles import cache_name, render_cached, wants_gzip
from webmap.services import services

MVT = "application/vnd.mapbox-vector-tile"
PNG = "image/png"
BYTES = {"type": "string", "format": "binary"}
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
TILESETS_MAP = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
]


class MatrixSetId(BaseModel):
    """A tile matrix set's address."""

    tile_matrix_set_id: str = Field(
        description="`WebMercatorQuad` or `SWEREF99TM`.", examples=["SWEREF99TM"]
    )


class TilesetAddress(MatrixSetId):
    """A layer's tileset in one matrix set."""

    collection_id: str = Field(description="A layer, or `basemap`.", examples=["roads"])


class OgcTileAddress(TilesetAddress):
    """One tile; rows count down from the top, columns right from the left."""

    tile_matrix: int = Field(ge=0, le=24, description="Level (`tileMatrix`).")
    tile_row: int = Field(ge=0, description="Row (`tileRow`).")
    tile_col: int = Field(ge=0, description="Column (`tileCol`).")


class Document(BaseModel):
    """A JSON document of OGC API – Tiles (described by the standard's own schemas)."""

    links: list[dict[str, Any]] | None = None


def _grid(tile_matrix_set_id: str) -> TileGrid:
    grid = TILE_GRIDS.get(tile_matrix_set_id)
    if grid is None:
        raise LayerNotFound(
            f"There is no tile matrix set {tile_matrix_set_id!r}; use one of "
            f"{', '.join(TILE_GRIDS)}."
        )
    return grid


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _template(collection_id: str, grid: TileGrid, version: str) -> str:
    """The tile URL template, with OGC's ``{tileMatrix}/{tileRow}/{tileCol}`` placeholders."""
    example = _url(
        "ogc.ogc_tile",
        collection_id=collection_id,
        tile_matrix_set_id=grid.id,
        tile_matrix=0,
        tile_row=0,
        tile_col=0,
    )
    return example.replace("/0/0/0", "/{tileMatrix}/{tileRow}/{tileCol}") + f"?v={version}"


class _Source:
    """What a collection id names for tiles: a vector tileset (a layer or the basemap) or a
    raster layer, with what the descriptions need."""

    def __init__(self, collection_id: str, stale_ok: bool = False) -> None:
        catalog = services().catalog.layers(stale_ok=stale_ok)
        layer = catalog.get(collection_id)
        self.raster: LayerInfo | None = None
        self.tileset: Tileset | None = None
        if layer is not None and layer.kind == RASTER:
            self.raster = layer
        elif collection_id == BASEMAP or (layer is not None and layer.kind == VECTOR):
            self.tileset = resolve_tileset(collection_id, catalog)
        if (self.raster is None and self.tileset is None) or not may_see(
            self.public, self.municipality
        ):
            raise LayerNotFound(f"There is no collection {collection_id!r}.")
        self.id = collection_id

    @property
    def public(self) -> bool:
        return self.raster.public if self.raster else bool(self.tileset and self.tileset.public)

    @property
    def municipality(self) -> str | None:
        if self.raster:
            return self.raster.municipality
        return self.tileset.municipality if self.tileset else None

    @property
    def version(self) -> str:
        return str(self.raster.version) if self.raster else self.tileset.version  # type: ignore[union-attr]

    @property
    def title(self) -> str:
        return self.raster.title if self.raster else self.tileset.title  # type: ignore[union-attr]

    @property
    def data_type(self) -> str:
        return "map" if self.raster else "vector"

    def limits(self, grid: TileGrid) -> list[dict[str, Any]]:
        if self.raster is not None:
            bounds = self.raster.bounds or (-180.0, -85.0, 180.0, 85.0)
            return matrix_limits(grid, bounds, self.raster.minzoom, self.raster.maxzoom)
        assert self.tileset is not None
        return matrix_limits(grid, self.tileset.bounds, self.tileset.minzoom, self.tileset.maxzoom)


def _respond(body: dict[str, Any], public: bool = True) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = SHORT if public else "private, no-store"
    return response


def _tileset_summary(source: _Source, grid: TileGrid) -> dict[str, Any]:
    return {
        "title": f"{source.title} ({grid.id})",
        "dataType": source.data_type,
        "crs": f"http://www.opengis.net/def/crs/EPSG/0/{grid.srid}",
        "tileMatrixSetURI": grid.uri,
        "links": [
            {
                "rel": "self",
                "type": JSON,
                "href": _url("ogc.tileset", collection_id=source.id, tile_matrix_set_id=grid.id),
            },
            {
                "rel": TILING_SCHEME,
                "type": JSON,
                "href": _url("ogc.tile_matrix_set", tile_matrix_set_id=grid.id),
            },
        ],
    }


def collection_tile_links(collection_id: str, data_type: str) -> list[dict[str, Any]]:
    """The links a collection description carries to its tilesets."""
    return [
        {
            "rel": TILESETS_MAP if data_type == "map" else TILESETS_VECTOR,
            "type": JSON,
            "href": _url("ogc.tilesets", collection_id=collection_id),
        }
    ]


def tiles_only_collection(collection_id: str) -> tuple[dict[str, Any], bool]:
    """The description of a collection that has tiles but no features (a raster, the basemap),
    and whether it is public (a private layer's answer must not sit in shared caches)."""
    source = _Source(collection_id)
    bounds = source.raster.bounds if source.raster else source.tileset.bounds  # type: ignore[union-attr]
    description = {
        "id": collection_id,
        "title": source.title,
        "dataType": source.data_type,
        "extent": {"spatial": {"bbox": [list(bounds or (-180, -85, 180, 85))]}},
        "links": [
            {
                "rel": "self",
                "type": JSON,
                "href": _url("ogc.collection", collection_id=collection_id),
            },
            *collection_tile_links(collection_id, source.data_type),
        ],
    }
    return description, source.public


@blueprint.get("/tileMatrixSets")
@contract(
    "ogcTileMatrixSets",
    "OGC API – Tiles: the tile matrix sets served",
    tags=("ogc",),
    security=ANYONE,
    responses={200: ok(Document)},
)
def tile_matrix_sets() -> Response:
    """Web Mercator and SWEREF 99 TM."""
    return _respond(
        {
            "tileMatrixSets": [
                {
                    "id": grid.id,
                    "title": grid.tms.title,
                    "uri": grid.uri,
                    "links": [
                        {
                            "rel": "self",
                            "type": JSON,
                            "href": _url("ogc.tile_matrix_set", tile_matrix_set_id=grid.id),
                        }
                    ],
                }
                for grid in TILE_GRIDS.values()
            ],
            "links": [{"rel": "self", "type": JSON, "href": _url("ogc.tile_matrix_sets")}],
        }
    )


@blueprint.get("/tileMatrixSets/<tile_matrix_set_id>")
@contract(
    "ogcTileMatrixSet",
    "OGC API – Tiles: one tile matrix set (OGC 2DTMS 2.0 JSON)",
    tags=("ogc",),
    security=ANYONE,
    path=MatrixSetId,
    responses={200: ok(Document), **problems(404)},
)
def tile_matrix_set(tile_matrix_set_id: str) -> Response:
    """The definition: CRS, origin (in the CRS's axis order), cell sizes and matrix sizes."""
    return _respond(matrix_set_document(_grid(tile_matrix_set_id)))


@blueprint.get("/collections/<collection_id>/tiles")
@contract(
    "ogcTilesets",
    "OGC API – Tiles: a layer's tilesets, one per tile matrix set",
    tags=("ogc",),
    security=ANYONE_OR_STAFF,
    path=CollectionId,
    responses={200: ok(Document), **problems(404, 503)},
)
def tilesets(collection_id: str) -> Response:
    """The layer's tilesets in every matrix set served."""
    source = _Source(collection_id)
    return _respond(
        {
            "tilesets": [_tileset_summary(source, grid) for grid in TILE_GRIDS.values()],
            "links": [
                {"rel": "self", "type": JSON, "href": _url("ogc.tilesets", collection_id=source.id)}
            ],
        },
        source.public,
    )


@blueprint.get("/collections/<collection_id>/tiles/<tile_matrix_set_id>")
@contract(
    "ogcTileset",
    "OGC API – Tiles: a layer's tileset in one tile matrix set",
    tags=("ogc",),
    security=ANYONE_OR_STAFF,
    path=TilesetAddress,
    responses={200: ok(Document), **problems(404, 503)},
)
def tileset(collection_id: str, tile_matrix_set_id: str) -> Response:
    """Where its tiles are, which levels, rows and columns hold data, and the matrix set."""
    grid = _grid(tile_matrix_set_id)
    source = _Source(collection_id)
    body = _tileset_summary(source, grid)
    body["tileMatrixSetLimits"] = source.limits(grid)
    body["links"] = [
        *body["links"],
        {
            "rel": "item",
            "type": PNG if source.raster else MVT,
            "templated": True,
            "href": _template(source.id, grid, source.version),
        },
    ]
    return _respond(body, source.public)


@blueprint.get(
    "/collections/<collection_id>/tiles/<tile_matrix_set_id>/<tile_matrix>/<tile_row>/<tile_col>"
)
@contract(
    "ogcTile",
    "OGC API – Tiles: one tile (MVT of a vector layer or the basemap, PNG of a raster)",
    tags=("ogc",),
    security=ANYONE_OR_STAFF,
    path=OgcTileAddress,
    query=RasterTileQuery,
    headers=(IF_NONE_MATCH,),
    responses={
        200: Reply(
            "The tile: MVT of a vector layer or the basemap, PNG of a raster; outside the "
            "layer's levels an empty one",
            {MVT: BYTES, PNG: BYTES},
        ),
        302: REDIRECT,
        304: NOT_MODIFIED,
        **problems(400, 404, 503),
    },
)
def ogc_tile(
    collection_id: str, tile_matrix_set_id: str, tile_matrix: str, tile_row: str, tile_col: str
) -> Response:
    """One tile, versioned and cached like the XYZ tiles."""
    grid = _grid(tile_matrix_set_id)
    tile = grid.parse(tile_matrix, tile_row, tile_col)
    source = _Source(collection_id, stale_ok=True)
    metrics.note_layer(source.id)
    params = parse_query(RasterTileQuery)
    rendering = None
    if source.raster is not None:  # ?render= of an elevation model, as on the XYZ raster tiles
        rendering = describe_raster(raster_path(source.raster)).rendering(params.render)
    extra: dict[str, Any] = (
        {"render": params.render} if rendering is not None and params.render else {}
    )
    moved = redirect_to_live(
        "ogc.ogc_tile",
        source.version,
        params.v,
        collection_id=collection_id,
        tile_matrix_set_id=grid.id,
        tile_matrix=tile.z,
        tile_row=tile.y,
        tile_col=tile.x,
        **extra,
    )
    if moved is not None:
        return moved
    compressed = source.tileset is not None and wants_gzip()
    etag = f"{source.id}-{source.version}-{grid.id}-{tile.z}-{tile.y}-{tile.x}"
    etag += f"-{rendering}" if rendering else ("-gz" if compressed else "")
    cache_control = layer_cache_control(source.public, tile_cache_control(params.v))
    vary = "Accept-Encoding" if source.tileset is not None else None
    unchanged = not_modified(etag, cache_control, vary)
    if unchanged is not None:
        return unchanged
    if source.raster is not None and rendering is not None:
        image = render_raster_cached(source.raster, tile, "png", rendering, grid)
        return finish_tile(Response(image.body, mimetype=PNG), etag, cache_control, None)
    assert source.tileset is not None
    key = TileKey(cache_name(source.tileset, grid), source.version, tile.z, tile.x, tile.y)
    rendered = render_cached(source.tileset, key, compressed, grid)
    body = rendered.gzipped if compressed and rendered.gzipped is not None else rendered.body
    response = Response(body, mimetype=MVT)
    if compressed and rendered.gzipped is not None:
        response.headers["Content-Encoding"] = "gzip"
    return finish_tile(response, etag, cache_control, vary)
