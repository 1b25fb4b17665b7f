"""HTTP for the map's fonts: MapLibre glyph ranges and the web fonts the OpenLayers maps use.

Public files that change only with a release, so they are cached for a week (with an ETag for
revalidation) and readable from any origin: the widget on an e-service's page loads them with
CORS (``FontFace``, MapLibre's fetches), like ``/widget/webmap.js``.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import cache

from flask import Blueprint, request
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from tiles.glyphs import glyph_range, webfont
from webmap.http.contracts import (
    ANYONE,
    IF_NONE_MATCH,
    NOT_MODIFIED,
    binary,
    contract,
    problems,
)

blueprint = Blueprint("fonts", __name__)

FONT_CACHE = "public, max-age=604800"
GLYPHS_MEDIA_TYPE = "application/x-protobuf"


class GlyphPath(BaseModel):
    """A MapLibre glyph request: fontstack and 256-codepoint range."""

    fontstack: str = Field(
        description="Font names, comma-separated; the first one served here answers.",
        examples=["Noto Sans Regular"],
    )
    range: str = Field(
        description="`<start>-<start+255>`, start a multiple of 256.", examples=["0-255"]
    )


class WebFontPath(BaseModel):
    """A web font file."""

    filename: str = Field(
        description="`noto-sans-{latin,latin-ext}-{400,700}-normal`.",
        examples=["noto-sans-latin-400-normal"],
    )


@cache
def _gzipped(body: bytes) -> bytes:
    return gzip.compress(body, mtime=0)


def _send(body: bytes, media_type: str, compressible: bool) -> Response:
    use_gzip = compressible and "gzip" in request.headers.get("Accept-Encoding", "").lower()
    etag = hashlib.sha256(body).hexdigest()[:16] + ("-gz" if use_gzip else "")
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(_gzipped(body) if use_gzip else body, mimetype=media_type)
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
    response.set_etag(etag)
    response.headers["Cache-Control"] = FONT_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"
    if compressible:
        response.headers["Vary"] = "Accept-Encoding"
    return response


@blueprint.get("/fonts/<fontstack>/<range>.pbf")
@contract(
    "glyphs",
    "SDF glyphs of one 256-codepoint range (the styles' `glyphs` URL)",
    tags=("tiles",),
    security=ANYONE,
    path=GlyphPath,
    headers=(IF_NONE_MATCH,),
    responses={
        200: binary(GLYPHS_MEDIA_TYPE, "Mapbox glyph protobuf (gzip when accepted)"),
        304: NOT_MODIFIED,
        **problems(404),
    },
)
def glyphs(fontstack: str, range: str) -> Response:
    """Glyphs for MapLibre: 404 problem JSON for an unknown font or a malformed range."""
    return _send(glyph_range(fontstack, range), GLYPHS_MEDIA_TYPE, compressible=True)


@blueprint.get("/fonts/<filename>.woff2")
@contract(
    "webFont",
    "Noto Sans as a woff2 web font, for the OpenLayers maps' canvas text",
    tags=("tiles",),
    security=ANYONE,
    path=WebFontPath,
    headers=(IF_NONE_MATCH,),
    responses={200: binary("font/woff2", "The font file"), 304: NOT_MODIFIED, **problems(404)},
)
def web_font(filename: str) -> Response:
    """One web font file; 404 problem JSON for any other name."""
    return _send(webfont(f"{filename}.woff2"), "font/woff2", compressible=False)
