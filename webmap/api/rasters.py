"""HTTP for raster tiles: ``/tiles/{layer}/{z}/{x}/{y}.png`` (and ``.webp``) and raster TileJSON.

The caching rules are the vector tiles' own (:mod:`webmap.http.caching`): versioned URLs are
immutable, an old ``v`` redirects to the live one, ETags answer ``304`` before any rendering.
``?render=hillshade|elevation`` chooses how an elevation model is drawn; the rendering is part
of the cache key and the ETag, and is carried over when an old version redirects.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from werkzeug.wrappers import Response

from tiles.grid import parse_tile
from tiles.raster import describe as describe_raster
from tiles.raster import image_format
from webmap.http import metrics
from webmap.http.caching import (
    finish_tile,
    layer_cache_control,
    not_modified,
    redirect_to_live,
    tile_cache_control,
)
from webmap.http.contracts import (
    ANYONE_OR_STAFF,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    REDIRECT,
    binary,
    contract,
    parse_query,
    problems,
)
from webmap.http.models import RasterTileQuery, TilePath
from webmap.http.tilesets import raster_layer, raster_path, render_raster_cached

blueprint = Blueprint("raster", __name__)


@blueprint.get("/tiles/<name>/<z>/<x>/<y>.<any(png, webp):fmt>")
@contract(
    "rasterTile{Variant}",
    "A {VARIANT} tile of a raster layer",
    tags=("tiles",),
    security=ANYONE_OR_STAFF,
    path=TilePath,
    query=RasterTileQuery,
    headers=(IF_NONE_MATCH,),
    responses={
        200: binary(
            "image/{variant}",
            "A {VARIANT} image (fully transparent outside the raster or its zoom range)",
        ),
        302: REDIRECT,
        304: NOT_MODIFIED,
        **problems(400, 404, 503),
    },
)
def raster_tile(name: str, z: str, x: str, y: str, fmt: str) -> Response:
    """One PNG or WebP tile of a raster layer."""
    _, media_type = image_format(fmt)
    tile = parse_tile(z, x, y)
    layer = raster_layer(name, stale_ok=True)
    metrics.note_layer(name)  # resolved by the catalog: a bounded label
    path = raster_path(layer)
    params = parse_query(RasterTileQuery)
    rendering = describe_raster(path).rendering(params.render)
    version = str(layer.version)
    extra: dict[str, Any] = {"render": params.render} if params.render is not None else {}
    moved = redirect_to_live(
        "raster.raster_tile",
        version,
        params.v,
        name=name,
        z=tile.z,
        x=tile.x,
        y=tile.y,
        fmt=fmt,
        **extra,
    )
    if moved is not None:
        return moved
    etag = f"{name}-{version}-{rendering}-{tile.z}-{tile.x}-{tile.y}.{fmt}"
    # A private layer's tiles must not sit in shared caches (CDN, proxies).
    cache_control = layer_cache_control(layer.public, tile_cache_control(params.v))
    unchanged = not_modified(etag, cache_control)
    if unchanged is not None:
        return unchanged
    cached = render_raster_cached(layer, tile, fmt, rendering)
    return finish_tile(Response(cached.body, mimetype=media_type), etag, cache_control, None)
