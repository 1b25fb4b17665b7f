"""HTTP for raster tiles: ``/tiles/{layer}/{z}/{x}/{y}.png`` (and ``.webp``) and raster TileJSON.

The caching rules are the vector tiles' own (:mod:`webmap.tile_http`): versioned URLs are
immutable, an old ``v`` redirects to the live one, ETags answer ``304`` before any rendering.
``?render=hillshade|elevation`` chooses how an elevation model is drawn; the rendering is part
of the cache key and the ETag, and is carried over when an old version redirects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, jsonify, request, url_for
from werkzeug.wrappers import Response

from layers.catalog import LayerInfo
from layers.errors import LayerNotFound
from layers.raster import stored_path
from tiles.cache import CachedTile, TileKey
from tiles.grid import parse_tile
from tiles.raster import describe as describe_raster
from tiles.raster import image_format, raster_tilejson, render_raster_tile
from webmap.auth import is_staff
from webmap.services import services
from webmap.settings import Settings
from webmap.tile_http import (
    SHORT,
    finish_tile,
    layer_cache_control,
    not_modified,
    redirect_to_live,
    tile_cache_control,
)

blueprint = Blueprint("raster", __name__)

PROJECT = Path(__file__).resolve().parent.parent


def raster_storage(settings: Settings) -> Path:
    """Where published COGs live: ``WEBMAP_RASTER_DIR``, else the project's ``var/rasters``."""
    return Path(settings.raster_dir) if settings.raster_dir else PROJECT / "var" / "rasters"


def raster_layer(name: str, stale_ok: bool = False) -> LayerInfo:
    """The live raster layer ``name``; a private one only for staff (token or login), else it
    is not found at all, as for vector layers: its existence is not disclosed. ``stale_ok``:
    the last good catalog will do while the database is down (tiles need no database)."""
    layer = services().catalog.layers(stale_ok=stale_ok).get(name)
    if layer is None or layer.kind != "raster" or not (layer.public or is_staff()):
        raise LayerNotFound(f"There is no raster layer named {name!r}.")
    return layer


def _path(layer: LayerInfo) -> Path:
    return stored_path(raster_storage(services().settings), layer.table_name)


@blueprint.get("/tiles/<name>/<z>/<x>/<y>.<any(png, webp):fmt>")
def raster_tile(name: str, z: str, x: str, y: str, fmt: str) -> Response:
    """One PNG or WebP tile of a raster layer."""
    _, media_type = image_format(fmt)
    tile = parse_tile(z, x, y)
    layer = raster_layer(name, stale_ok=True)
    path = _path(layer)
    rendering = describe_raster(path).rendering(request.args.get("render"))
    version = str(layer.version)
    extra: dict[str, Any] = {"render": request.args["render"]} if "render" in request.args else {}
    moved = redirect_to_live(
        "raster.raster_tile", version, name=name, z=tile.z, x=tile.x, y=tile.y, fmt=fmt, **extra
    )
    if moved is not None:
        return moved
    etag = f"{name}-{version}-{rendering}-{tile.z}-{tile.x}-{tile.y}.{fmt}"
    # A private layer's tiles must not sit in shared caches (CDN, proxies).
    cache_control = layer_cache_control(layer.public, tile_cache_control())
    unchanged = not_modified(etag, cache_control)
    if unchanged is not None:
        return unchanged
    cache = services().tile_cache
    key = TileKey(f"raster:{name}:{rendering}.{fmt}", version, tile.z, tile.x, tile.y)
    cached = cache.get(key)
    if cached is None:
        cached = CachedTile(render_raster_tile(layer, path, tile, fmt, rendering))
        cache.put(key, cached)
    return finish_tile(Response(cached.body, mimetype=media_type), etag, cache_control, None)


def raster_tilejson_response(layer: LayerInfo) -> Response:
    """The TileJSON of a raster layer, pointing at versioned tile URLs.

    ``?render=`` and ``?format=png|webp`` on the TileJSON URL carry over into the tile URLs, so
    a map client configured with ``/tiles/dem.json?render=elevation`` gets the colour ramp.
    """
    path = _path(layer)
    suffix = request.args.get("format", "png")
    image_format(suffix)
    query = f"?v={layer.version}"
    if "render" in request.args:
        query += f"&render={describe_raster(path).rendering(request.args['render'])}"
    base = url_for("raster.raster_tile", name=layer.name, z=0, x=0, y=0, fmt=suffix, _external=True)
    template = base.replace(f"/0/0/0.{suffix}", f"/{{z}}/{{x}}/{{y}}.{suffix}") + query
    response = jsonify(raster_tilejson(layer, path, template))
    response.headers["Cache-Control"] = layer_cache_control(layer.public, SHORT)
    return response
