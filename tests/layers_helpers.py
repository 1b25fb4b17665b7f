"""Helpers for the layer publishing tests: staff tokens, uploads, and decoded tiles."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import morecantile
import psycopg
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from staff.tokens import create_token

TMS = morecantile.tms.get("WebMercatorQuad")


def token_headers(database_url: str, scope: str = "publish", name: str = "tests") -> dict[str, str]:
    """``Authorization`` headers of a fresh token with ``scope``."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        _info, secret = create_token(conn, name, scope, instance_admin=True)
    return {"Authorization": f"Bearer {secret}"}


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    data: bytes | Path,
    filename: str,
    name: str | None = None,
    method: str = "POST",
    **fields: Any,
) -> Any:
    """POST /api/layers (or PUT /api/layers/<name>) with a multipart file."""
    body = data.read_bytes() if isinstance(data, Path) else data
    form: dict[str, Any] = {k: str(v) for k, v in fields.items()}
    form["file"] = FileStorage(io.BytesIO(body), filename)
    if method == "POST":
        if name is not None:
            form["name"] = name
        form.setdefault("title", f"Test {name}")
    # Encoded in memory: the test client would spool large bodies to a file it never closes.
    boundary, encoded = encode_multipart(form)
    kwargs = {
        "data": encoded,
        "content_type": f"multipart/form-data; boundary={boundary}",
        "headers": headers,
    }
    if method == "POST":
        return client.post("/api/layers", **kwargs)
    return client.put(f"/api/layers/{name}", **kwargs)


def zip_files(members: dict[str, bytes | Path]) -> bytes:
    """A zip archive in memory of ``{name: bytes or file}``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, content in members.items():
            zf.writestr(arcname, content.read_bytes() if isinstance(content, Path) else content)
    return buffer.getvalue()


def tile_of(lon: float, lat: float, zoom: int) -> morecantile.Tile:
    return TMS.tile(lon, lat, zoom)


def decoded_tile(
    client: FlaskClient, layer: str, lon: float, lat: float, zoom: int, **kwargs: Any
) -> dict[str, Any]:
    """The decoded MVT of ``layer`` at the tile holding (lon, lat); follows the version redirect."""
    tile = tile_of(lon, lat, zoom)
    response = client.get(
        f"/tiles/{layer}/{tile.z}/{tile.x}/{tile.y}.mvt", follow_redirects=True, **kwargs
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return mapbox_vector_tile.decode(response.data) if response.data else {}


def raw_tile(client: FlaskClient, layer: str, tile: morecantile.Tile, version: int) -> bytes:
    response = client.get(f"/tiles/{layer}/{tile.z}/{tile.x}/{tile.y}.mvt?v={version}")
    assert response.status_code == 200
    return bytes(response.data)


def catalog_state(database_url: str) -> tuple[object, ...]:
    """Everything an upload could have written: catalog rows and data tables (compare before
    and after a refused upload)."""
    with psycopg.connect(database_url) as conn:
        layers = conn.execute("SELECT name, version FROM webmap.layers ORDER BY name").fetchall()
        versions = conn.execute("SELECT count(*) FROM webmap.layer_versions").fetchone()
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'layerdata' ORDER BY 1"
        ).fetchall()
    return (tuple(layers), versions, tuple(tables))
