"""The common vector tile request answered without Flask: the lean dispatch path.

A map asks for hundreds of tiles; most are ``GET /tiles/<name>/<z>/<x>/<y>.mvt?v=<live>`` of a
public layer, with no cookie, token or validator. For those, Flask's request machinery (request
context, session, URL matching, five ``after_request`` hooks) cost about as much as the tile's
own SQL (issue 11 §2, README "Vector tiles"). :class:`TileFastPath` sits in front of the Flask
app as WSGI middleware and answers exactly those requests itself, with the same bytes and the
same headers as :func:`webmap.api.tiles.vector_tile` (security headers, CORS for the widget's
origins, caching, ``Server-Timing``) and the same metrics; ``tests/test_tile_fast_path.py``
compares the two answers header by header.

Anything else goes to Flask untouched: another method or URL, any query parameter but ``v``, a
cookie, an ``Authorization`` header (staff may see private layers), ``If-None-Match`` (304s), an
address Flask would refuse (400), an unknown or private layer (404), an old version (302), an
archive-served tileset, and any error while rendering (Flask renders again and answers the
problem JSON, 503 with ``Retry-After`` when the database is down). The fast path only ever
answers 200.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from morecantile import Tile

from layers.errors import LayerNotFound
from tiles.cache import TileKey
from tiles.errors import InvalidTileAddress
from tiles.grid import parse_tile
from tiles.tilesets import Tileset, resolve_tileset
from webmap.http import metrics
from webmap.http.caching import tile_cache_control
from webmap.http.cors import allows_shared_read
from webmap.http.security_headers import OTHER_POLICY, REFERRER_POLICY
from webmap.http.vector_tiles import render_cached
from webmap.services import Services, services_of
from webmap.settings import Settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
_TILE_PATH = re.compile(
    r"/tiles/([A-Za-z0-9_.-]{1,200})/([0-9]{1,9})/([0-9]{1,9})/([0-9]{1,9})\.mvt"
)
_VERSION_QUERY = re.compile(r"v=([A-Za-z0-9_.-]{1,200})")
#: What :mod:`webmap.http.security_headers` sends with every non-HTML answer nobody may frame.
_SECURITY_HEADERS = (
    ("Content-Security-Policy", f"{OTHER_POLICY}; frame-ancestors 'none'"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", REFERRER_POLICY),
)
#: Names remembered per catalog snapshot, unknown ones included (a client may ask for any).
_TILESETS_KEPT = 1024
#: Request headers whose presence sends the request to Flask (see the module docstring).
_TO_FLASK = ("HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_IF_NONE_MATCH")
#: What follows ``ETag`` when the request has no ``Origin`` (nearly every one: same-origin
#: maps and the benchmarks), by whether the URL was versioned: built once, not per request.
_TAIL_WITHOUT_ORIGIN = {
    versioned: [
        ("Cache-Control", tile_cache_control("v" if versioned else None)),
        ("Vary", "Accept-Encoding"),
        *_SECURITY_HEADERS,
    ]
    for versioned in (True, False)
}


class TileFastPath:
    """WSGI middleware: plain public vector tile requests answered here, the rest by ``inner``
    (the Flask app's own ``wsgi_app``)."""

    def __init__(self, app: Flask, inner: WSGIApp) -> None:
        self._app = app
        self._inner = inner
        settings: Settings = app.config["WEBMAP_SETTINGS"]
        self._archived = frozenset(settings.archive_paths)  # served by Flask, from the archive
        # Tilesets resolved from the catalog snapshot they were resolved in (``None``: not a
        # vector layer there); a new snapshot starts afresh. Resolving builds the tileset's
        # dataclasses, and hashing those to find the memoised statement costs as much again.
        self._resolved: tuple[object, dict[str, Tileset | None]] = (None, {})

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        answer = self._answer(environ) if environ.get("REQUEST_METHOD") == "GET" else None
        if answer is None:
            return self._inner(environ, start_response)
        headers, body = answer
        start_response("200 OK", headers)
        return [body]

    def _answer(self, environ: dict[str, Any]) -> tuple[list[tuple[str, str]], bytes] | None:
        """The headers and body of a plain tile request, or ``None`` for Flask to answer."""
        found = _TILE_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if found is None or any(name in environ for name in _TO_FLASK):
            return None
        query = environ.get("QUERY_STRING", "")
        asked = None
        if query:
            version = _VERSION_QUERY.fullmatch(query)
            if version is None:
                return None
            asked = version.group(1)
        name, z, x, y = found.groups()
        if name in self._archived:
            return None
        try:
            tile = parse_tile(z, x, y)
        except InvalidTileAddress:
            return None
        record = metrics.begin_request()
        try:
            return self._render(environ, record, name, z, tile, asked)
        except Exception:  # Flask renders again and shapes the error (problem JSON, 503)
            return None
        finally:
            metrics.end_request()

    def _render(
        self,
        environ: dict[str, Any],
        record: metrics.RequestRecord,
        name: str,
        z: str,
        tile: Tile,
        asked: str | None,
    ) -> tuple[list[tuple[str, str]], bytes] | None:
        services: Services = services_of(self._app)
        tileset = self._tileset(name, services)
        if tileset is None or not tileset.public:
            return None
        if asked is not None and asked != tileset.version:
            return None
        metrics.note_layer(tileset.name)
        use_gzip = "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "").lower()
        etag = f'"{tileset.name}-{tileset.version}-{tile.z}-{tile.x}-{tile.y}' + (
            '-gz"' if use_gzip else '"'
        )
        key = TileKey(tileset.name, tileset.version, tile.z, tile.x, tile.y)
        rendered = render_cached(tileset, key, use_gzip, found=services)
        compressed = use_gzip and rendered.gzipped is not None
        body = rendered.gzipped if compressed and rendered.gzipped is not None else rendered.body
        metrics.observe_tile_bytes(tileset.name, len(body))
        headers = [("Content-Type", MVT_MEDIA_TYPE), ("Content-Length", str(len(body)))]
        if compressed:
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("ETag", etag))
        origin = environ.get("HTTP_ORIGIN", "").rstrip("/")
        if origin:
            headers += [
                ("Cache-Control", tile_cache_control(asked)),
                ("Vary", "Accept-Encoding, Origin"),
            ]
            if allows_shared_read(self._app, origin):
                headers.append(("Access-Control-Allow-Origin", origin))
            headers += _SECURITY_HEADERS
        else:
            headers += _TAIL_WITHOUT_ORIGIN[asked is not None]
        timing = metrics.finish_request(record, metrics.TILES, z, 200)
        if timing is not None:
            headers.append(("Server-Timing", timing))
        return headers, body

    def _tileset(self, name: str, services: Services) -> Tileset | None:
        """The tileset ``name`` of the current catalog snapshot; ``None`` when there is none."""
        snapshot = services.catalog.layers(stale_ok=True)
        seen, tilesets = self._resolved
        if seen is not snapshot:
            tilesets = {}
            self._resolved = (snapshot, tilesets)
        try:
            return tilesets[name]
        except KeyError:
            pass
        try:
            found: Tileset | None = resolve_tileset(name, snapshot)
        except LayerNotFound:
            found = None
        if len(tilesets) < _TILESETS_KEPT:  # unknown names are remembered too, up to a bound
            tilesets[name] = found
        return found


def init_app(app: Flask) -> None:
    """Put the fast path in front of ``app``'s WSGI callable (last, outside ProxyFix: a tile
    answer depends on no forwarded address, scheme or host)."""
    app.wsgi_app = TileFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
