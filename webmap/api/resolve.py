"""``/api/resolve``: typed text (an address or a property designation) as a picker value."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from layers.errors import LayerNotFound
from layers.lookup.resolve import resolve_text
from webmap.db import get_pool
from webmap.i18n import with_place_label

blueprint = Blueprint("resolve", __name__)


@blueprint.get("/api/resolve")
def resolve_endpoint() -> Response:
    """The best match for typed text (``?q=``) as a picker value: a GeoJSON Feature.

    For e-services that receive the picker's no-JavaScript fallback text and want the same
    value the widget would have sent. 404 problem JSON when nothing matches.
    """
    text = request.args.get("q")
    with get_pool().connection() as conn:
        value = with_place_label(resolve_text(conn, text or ""))
    if value is None:
        raise LayerNotFound("Nothing matches that address or property designation.")
    response = jsonify(value)
    response.mimetype = "application/geo+json"
    response.headers["Cache-Control"] = "no-store"
    return response
