"""HTTP for vector tiles, TileJSON and styles: parse the request, call ``tiles``, shape caching.

Tile URLs carry the tileset's data version (``?v=``). A tile asked for at the live version is
immutable and cached for a year; one asked for without a version is cached for a minute; one asked
for at an old version is redirected to the live one, so no cache keeps serving superseded data.
A zoom outside a layer's range answers an empty tile (200, no bytes): clients treat that as
"nothing here" without logging errors, which a 404 would make them do.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, jsonify, redirect, send_file, url_for
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from layers.catalog import RASTER
from tiles.cache import TileKey
from tiles.grid import parse_tile
from tiles.range_sources import ArchiveUnusable, FileSource
from tiles.style import basemap_style
from tiles.style_palette import PALETTES
from tiles.tilejson import tilejson
from tiles.tilesets import BASEMAP, Tileset, resolve_tileset
from webmap.http import metrics
from webmap.http.archives import (
    archive_tile,
    archive_tilejson,
    archive_tileset,
    archive_visible,
    tile_archive,
    unusable,
)
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
    NOT_MODIFIED,
    RANGE,
    REDIRECT,
    binary,
    contract,
    ok,
    parse_query,
    problems,
)
from webmap.http.models import TileJsonQuery, TileLayer, TilePath, VectorTileQuery
from webmap.http.problems import problem
from webmap.http.tilesets import raster_layer, raster_tilejson_response, tile_url_template
from webmap.http.vector_tiles import render_cached, wants_gzip
from webmap.services import services

blueprint = Blueprint("tiles", __name__)


class TileJSON(BaseModel):
    """TileJSON 3.0.0; vector layers list `vector_layers`, raster layers `renderings`."""

    tilejson: Literal["3.0.0"]
    tiles: list[str] = Field(min_length=1)
    minzoom: int = Field(ge=0, le=24)
    maxzoom: int = Field(ge=0, le=24)
    bounds: list[float] = Field(min_length=4)
    vector_layers: list[dict[str, Any]] | None = None
    renderings: list[str] | None = None


class Style(BaseModel):
    """A MapLibre style (version 8)."""

    version: Literal[8]
    sources: dict[str, Any]
    layers: list[dict[str, Any]]


class StyleName(BaseModel):
    """The style's name."""

    name: str = Field(
        description="`basemap` (light) or `basemap-dark` (for `prefers-color-scheme: dark`).",
        examples=["basemap", "basemap-dark"],
    )


MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
PMTILES_MEDIA_TYPE = "application/vnd.pmtiles"


def _tileset(name: str, stale_ok: bool = False) -> Tileset:
    # stale_ok: a tile may be served from the last good catalog while the database is down.
    return resolve_tileset(name, services().catalog.layers(stale_ok=stale_ok))


@blueprint.get("/tiles/<name>/<z>/<x>/<y>.mvt")
@contract(
    "vectorTile",
    "A Mapbox Vector Tile of a layer or the basemap",
    tags=("tiles",),
    description="Private layers answer 404 to anonymous callers.",
    security=ANYONE_OR_STAFF,
    path=TilePath,
    query=VectorTileQuery,
    headers=(IF_NONE_MATCH,),
    responses={
        200: binary(
            MVT_MEDIA_TYPE,
            "The tile (gzip when accepted); a zoom outside the layer's range answers an empty "
            "tile (no bytes)",
        ),
        302: REDIRECT,
        304: NOT_MODIFIED,
        **problems(400, 404, 503),
    },
)
def vector_tile(name: str, z: str, x: str, y: str) -> Response:
    """One vector tile of a layer or of the basemap."""
    tile = parse_tile(z, x, y)
    try:
        archive = tile_archive(name)  # WEBMAP_TILE_ARCHIVES: from an exported archive
    except ArchiveUnusable as exc:
        return unusable(name, exc)
    if archive is not None:
        return archive_tile(archive, name, tile, parse_query(VectorTileQuery).v)
    tileset = _tileset(name, stale_ok=True)
    if not may_see(tileset.public, tileset.municipality):  # private: its municipality's staff
        return problem(404, "Not found", f"There is no vector layer named {name!r}.", "not-found")
    metrics.note_layer(tileset.name)
    asked = parse_query(VectorTileQuery).v
    moved = redirect_to_live(
        "tiles.vector_tile", tileset.version, asked, name=name, z=tile.z, x=tile.x, y=tile.y
    )
    if moved is not None:
        return moved
    use_gzip = wants_gzip()
    etag = f"{tileset.name}-{tileset.version}-{tile.z}-{tile.x}-{tile.y}" + (
        "-gz" if use_gzip else ""
    )
    cache_control = layer_cache_control(tileset.public, tile_cache_control(asked))
    unchanged = not_modified(etag, cache_control, "Accept-Encoding")
    if unchanged is not None:
        return unchanged
    key = TileKey(tileset.name, tileset.version, tile.z, tile.x, tile.y)
    rendered = render_cached(tileset, key, use_gzip)
    compressed = use_gzip and rendered.gzipped is not None
    body = rendered.gzipped if compressed and rendered.gzipped is not None else rendered.body
    metrics.observe_tile_bytes(tileset.name, len(body))
    response = Response(body, mimetype=MVT_MEDIA_TYPE)
    if compressed:
        response.headers["Content-Encoding"] = "gzip"
    return finish_tile(response, etag, cache_control, "Accept-Encoding")


@blueprint.get("/tiles/<name>.json")
@contract(
    "tileJson",
    "TileJSON 3.0.0 of a layer or the basemap",
    tags=("tiles",),
    security=ANYONE_OR_STAFF,
    path=TileLayer,
    query=TileJsonQuery,
    responses={200: ok(TileJSON), **problems(400, 404, 503)},
)
def tilejson_document(name: str) -> Response:
    """TileJSON 3.0.0 of a layer or the basemap, pointing at versioned tile URLs."""
    try:
        archive = tile_archive(name)
    except ArchiveUnusable as exc:
        return unusable(name, exc)
    if archive is not None:
        return archive_tilejson(archive, name)
    found = services().catalog.layers().get(name)
    if found is not None and found.kind == RASTER:
        params = parse_query(TileJsonQuery)
        return raster_tilejson_response(raster_layer(name), params.format, params.render)
    tileset = _tileset(name)
    if not may_see(tileset.public, tileset.municipality):  # private: its municipality's staff
        return problem(404, "Not found", f"There is no vector layer named {name!r}.", "not-found")
    budget = services().renderer.options.max_bytes
    response = jsonify(tilejson(tileset, tile_url_template(tileset), budget))
    response.headers["Cache-Control"] = layer_cache_control(tileset.public, SHORT)
    return response


@blueprint.get("/tiles/<name>.pmtiles")
@contract(
    "tileArchive",
    "The PMTiles archive a layer or the basemap is served from",
    tags=("tiles",),
    description="Only for tilesets configured in `WEBMAP_TILE_ARCHIVES` (docs/export.md): the "
    "file `webmap tiles export` wrote, for CDNs and PMTiles clients, which read it with HTTP "
    "Range requests (206 Partial Content); an archive configured by URL redirects there.",
    security=ANYONE_OR_STAFF,
    path=TileLayer,
    headers=(IF_NONE_MATCH, RANGE),
    responses={
        200: binary(PMTILES_MEDIA_TYPE, "The whole archive"),
        302: REDIRECT,
        206: binary(PMTILES_MEDIA_TYPE, "The byte range asked for in `Range`"),
        304: NOT_MODIFIED,
        **problems(404, 416, 503),
    },
)
def tile_archive_file(name: str) -> Response:
    """The archive file of an archive-served tileset, with Range support (send_file)."""
    try:
        archive = tile_archive(name)
    except ArchiveUnusable as exc:
        return unusable(name, exc)
    if archive is None or not archive_visible(archive, name):
        return problem(404, "Not found", f"There is no tile archive named {name!r}.", "not-found")
    if not isinstance(archive.source, FileSource):  # on a static host already: go there
        moved = redirect(archive.source.location, 302)
        moved.headers["Cache-Control"] = SHORT
        return moved
    response = send_file(archive.source.path, PMTILES_MEDIA_TYPE, conditional=True, max_age=None)
    response.headers["Cache-Control"] = layer_cache_control(archive.public, SHORT)
    return response


@blueprint.get("/styles/<name>.json")
@contract(
    "style",
    "The MapLibre style of the basemap",
    tags=("tiles",),
    security=ANYONE,
    path=StyleName,
    responses={200: ok(Style), **problems(404, 503)},
)
def style_document(name: str) -> Response:
    """The MapLibre style of the basemap, light (``basemap``) or dark (``basemap-dark``)."""
    palette = PALETTES.get(name)
    if palette is None:
        return problem(404, "Not found", f"There is no style named {name!r}.", "not-found")
    try:
        archive = tile_archive(BASEMAP)
    except ArchiveUnusable as exc:
        return unusable(BASEMAP, exc)
    tileset = _tileset(BASEMAP) if archive is None else archive_tileset(archive, BASEMAP)
    tilejson_url = url_for("tiles.tilejson_document", name=BASEMAP, _external=True)
    # url_for would percent-encode the template's braces: fill in placeholders, then swap them.
    glyphs_url = (
        url_for("fonts.glyphs", fontstack="FONTSTACK", range="RANGE", _external=True)
        .replace("FONTSTACK", "{fontstack}")
        .replace("RANGE", "{range}")
    )
    response = jsonify(basemap_style(tileset, tilejson_url, glyphs_url, palette))
    response.headers["Cache-Control"] = SHORT
    return response
