"""``/healthz``: is the database reachable, is the schema in place, which data is live.

Anyone may ask (monitors have no login), so anonymous callers see only public layers: a private
layer's name is not disclosed here any more than by ``/tiles`` or ``/ogc``. Staff (token or
login) see every layer.
"""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel

from layers.schema import current_revision
from tiles.tilesets import BASEMAP, resolve_tileset
from webmap.db import get_pool
from webmap.http.auth import is_staff
from webmap.http.contracts import ANYONE, contract, ok, problems
from webmap.http.problems import problem
from webmap.services import services

blueprint = Blueprint("health", __name__)


class Health(BaseModel):
    """What ``/healthz`` answers when all is well."""

    status: Literal["ok"]
    database: Literal["ok"]
    schema_revision: str
    data_version: str | None
    layers: dict[str, int]


@blueprint.get("/healthz")
@contract(
    "healthz",
    "Database reachable, schema in place, live data versions",
    tags=("service",),
    security=ANYONE,
    responses={200: ok(Health), **problems(503)},
)
def healthz() -> Response:
    """200 with the data version when all is well; 503 problem JSON when it is not."""
    with get_pool().connection() as conn:
        revision = current_revision(conn)
    if revision is None:
        return problem(
            503, "Database not initialised", "Run `webmap db init`.", "database-unavailable"
        )
    layers = services().catalog.layers()
    basemap_version = resolve_tileset(BASEMAP, layers).version if layers else None
    staff = is_staff()
    visible = {name: layer for name, layer in layers.items() if layer.public or staff}
    response = jsonify(
        {
            "status": "ok",
            "database": "ok",
            "schema_revision": revision,
            "data_version": basemap_version,
            "layers": {name: layer.version for name, layer in visible.items()},
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
