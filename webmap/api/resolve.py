"""``/api/resolve``: typed text (an address or a property designation) as a picker value."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, jsonify
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from layers.errors import LayerNotFound
from layers.lookup.attribution import address_attributions, answer_attributions
from layers.lookup.resolve import resolve_text
from webmap.db_routing import reads
from webmap.http.contracts import ANYONE, GEOJSON, contract, ok, parse_query, problems
from webmap.http.models import Point
from webmap.i18n import with_place_label

blueprint = Blueprint("resolve", __name__)


class ResolveParams(BaseModel):
    """The query of ``/api/resolve``; the text is checked by the lookup (400 when unusable)."""

    q: str = Field(
        description="What was typed: 1–100 characters, no control characters.",
        examples=["Grev Turegatan 13", "rosen 1"],
        json_schema_extra={"minLength": 1, "maxLength": 100, "pattern": r"^[^\x00-\x1f\x7f]*$"},
    )


class PickerProperties(BaseModel):
    """What the picker value says about the place."""

    label: str
    sweref99tm: dict[str, Any]
    address: dict[str, Any] | None
    property: dict[str, Any] | None
    municipality: dict[str, Any] | None
    source: Literal["text"] | None = None


class PickerValue(BaseModel):
    """The `<webmap-picker>` value: a GeoJSON Feature (docs/widget.md)."""

    type: Literal["Feature"]
    geometry: Point
    properties: PickerProperties
    attribution: list[str] = Field(
        default_factory=list,
        description="Credits the licences of the address and property data behind the value "
        'ask for, e.g. "© Lantmäteriet (CC BY 4.0)"; empty when no credited address or property '
        "unit was used.",
    )


@blueprint.get("/api/resolve")
@contract(
    "resolve",
    "Typed address or property designation as a picker value",
    tags=("lookup",),
    security=ANYONE,
    query=ResolveParams,
    responses={200: ok(PickerValue, GEOJSON), **problems(400, 404, 503)},
)
def resolve_endpoint() -> Response:
    """The best match for typed text (``?q=``) as a picker value: a GeoJSON Feature.

    For e-services that receive the picker's no-JavaScript fallback text and want the same
    value the widget would have sent. 404 problem JSON when nothing matches.
    """
    text = parse_query(ResolveParams).q
    with reads().connection() as conn:
        value = with_place_label(resolve_text(conn, text))
        if value is not None:
            used = value["properties"].get("address") is not None
            found_property = value["properties"].get("property") or {}
            value["attribution"] = answer_attributions(
                address_attributions(conn) if used else [], found_property.get("attribution")
            )
    if value is None:
        raise LayerNotFound("Nothing matches that address or property designation.")
    response = jsonify(value)
    response.mimetype = GEOJSON
    response.headers["Cache-Control"] = "no-store"
    return response
