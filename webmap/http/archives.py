"""Serving a tileset from its exported PMTiles archive (``WEBMAP_TILE_ARCHIVES``).

A tileset named there is answered from the archive under its usual URLs, with the same bytes,
versions, ETags and caching rules as when rendered from the database, so the widget and every
other client keep working unchanged; the database is not asked for its tiles or TileJSON. The
archive file itself is offered at ``/tiles/<name>.pmtiles`` (with HTTP Range) for CDNs and
PMTiles-aware clients. Kept here, not in a blueprint, because the tile routes and the archive
route share it (see :mod:`webmap.http.tilesets` for the same reason).
"""

from __future__ import annotations

import gzip
import html
import logging
import threading

import psycopg
from flask import Flask, current_app, jsonify, request, url_for
from morecantile import Tile
from werkzeug.wrappers import Response

from tiles.range_sources import ArchiveUnusable, open_source
from tiles.tile_archive import TileArchive
from tiles.tilesets import Tileset
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
from webmap.http.problems import problem
from webmap.services import services
from webmap.settings import Settings

log = logging.getLogger(__name__)
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
_KEY = "webmap.tile_archives"
_LOCK = threading.Lock()


def _opened(app: Flask) -> dict[str, TileArchive]:
    """The app's open archives, by tileset name; opened on first use, kept open."""
    found: dict[str, TileArchive] | None = app.extensions.get(_KEY)
    if found is None:
        with _LOCK:
            found = app.extensions.setdefault(_KEY, {})
    return found


def tile_archive(name: str) -> TileArchive | None:
    """The archive configured for ``name``, or ``None`` when ``name`` is served from the
    database. Raises :class:`ArchiveUnusable` when the configured file cannot be used."""
    settings: Settings = current_app.config["WEBMAP_SETTINGS"]
    path = settings.archive_paths.get(name)
    if path is None:
        return None
    opened = _opened(current_app)
    archive = opened.get(name)
    if archive is None or not archive.is_current():
        with _LOCK:
            archive = opened.get(name)
            if archive is None or not archive.is_current():
                # A re-exported archive (a new version) is picked up at once; the old one's
                # descriptor is left to requests still reading it, then to the garbage collector.
                archive = opened[name] = TileArchive(open_source(path))
    return archive


def unusable(name: str, error: ArchiveUnusable) -> Response:
    """503 for a configured archive that cannot be read (the operator's mistake, logged)."""
    log.error("tile archive of %s: %s", name, error.detail)
    return problem(
        503,
        "Tiles unavailable",
        f"The tile archive of {name!r} cannot be read.",
        "archive-unavailable",
    )


def archive_visible(archive: TileArchive, name: str) -> bool:
    """Whether this request may read ``archive``: a private one only with the layer's
    municipality's credentials (its owner from the last good catalog; none known: instance
    administrators only)."""
    if archive.public:
        return True
    try:
        layer = services().catalog.layers(stale_ok=True).get(name)
    except psycopg.OperationalError:  # no catalog yet and no database: nobody's but the admins'
        layer = None
    return may_see(False, layer.municipality if layer is not None else None)


def _hidden(archive: TileArchive, name: str) -> Response | None:
    if archive_visible(archive, name):
        return None
    return problem(404, "Not found", f"There is no vector layer named {name!r}.", "not-found")


def archive_tile(archive: TileArchive, name: str, tile: Tile, asked: str | None) -> Response:
    """One tile out of ``archive``, as :func:`webmap.api.tiles.vector_tile` would answer it:
    gzip when accepted (stored so), plain otherwise, empty where the archive has no tile."""
    hidden = _hidden(archive, name)
    if hidden is not None:
        return hidden
    metrics.note_layer(name)
    version = archive.version
    moved = redirect_to_live(
        "tiles.vector_tile", version, asked, name=name, z=tile.z, x=tile.x, y=tile.y
    )
    if moved is not None:
        return moved
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    etag = f"{name}-{version}-{tile.z}-{tile.x}-{tile.y}" + ("-gz" if use_gzip else "")
    cache_control = layer_cache_control(archive.public, tile_cache_control(asked))
    unchanged = not_modified(etag, cache_control, "Accept-Encoding")
    if unchanged is not None:
        return unchanged
    try:
        stored = archive.get(tile.z, tile.x, tile.y) or b""
    except ArchiveUnusable as exc:  # an archive on a static host that is away or replaced
        return unusable(name, exc)
    body = stored if use_gzip or not stored else gzip.decompress(stored)
    metrics.observe_tile_bytes(name, len(body))
    response = Response(body, mimetype=MVT_MEDIA_TYPE)
    if use_gzip and body:
        response.headers["Content-Encoding"] = "gzip"
    return finish_tile(response, etag, cache_control, "Accept-Encoding")


def archive_tilejson(archive: TileArchive, name: str) -> Response:
    """The archive's TileJSON (its metadata), pointing at this server's versioned tile URLs."""
    hidden = _hidden(archive, name)
    if hidden is not None:
        return hidden
    base = url_for("tiles.vector_tile", name=name, z=0, x=0, y=0, _external=True)
    template = base.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt") + f"?v={archive.version}"
    document = {**archive.metadata, "tiles": [template]}
    response = jsonify(document)
    response.headers["Cache-Control"] = layer_cache_control(archive.public, SHORT)
    return response


def archive_tileset(archive: TileArchive, name: str) -> Tileset:
    """What the basemap style needs to know of a tileset (version, attribution), from the
    archive's metadata: the style then needs no database either. No sources: the style's
    layers are fixed, and the zooms it names come from the TileJSON it points at."""
    meta = archive.metadata
    return Tileset(
        name=name,
        title=str(meta.get("name", name)),
        description=str(meta.get("description", "")),
        version=archive.version,
        sources=(),
        # TileJSON holds it as HTML (tiles.tilejson.attribution_html); the style escapes again.
        attribution=html.unescape(str(meta.get("attribution", ""))),
        public=archive.public,
    )
