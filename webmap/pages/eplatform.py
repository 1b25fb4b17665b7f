"""``/demo/eplatform``: a form step shaped like Open ePlatform's property map query, and what the
platform would make of the submit.

Why: municipalities run their e-services on Open ePlatform, whose "Fastighetsbeteckning i
karta" query (PUDMapQuery) posts the chosen place as six hidden fields named by the query's
prefix (``q12_propertyUnitDesignation``, ``q12_xCoordinate`` …; see
``frontend/src/picker/eplatform-fields.js`` and docs/widget.md). ``<webmap-picker
fields="open-eplatform">`` writes those fields. This page is that query's markup (the platform's
own hidden inputs included, or left out with ``?platform-inputs=0``), and its receipt applies
the platform's own checks (``BaseMapQueryProviderModule.populate`` and
``PUDMapQueryProvider.populate``), so a GIS coordinator sees before going live whether the
platform would accept the answer.

``?query=area`` is the same step for the platform's drawing query (GeneralMapQuery: "mark the
area on the map"): ``<webmap-picker mode="polygon">`` adds the area as WKT in ``q12_geometry``
(and ``q12_polygon``, SinglePolygonMapQuery's name), and the receipt applies
``GeneralMapQueryProviderModule.populate``'s checks.

Without JavaScript the picker's fallback field posts the typed designation under the
platform's name; the coordinates need the map, so the platform would ask again. The receipt says
so, and shows what webmap's server-side resolve (``/api/resolve``) makes of the text.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from flask import Blueprint, render_template, request
from pydantic import BaseModel, Field
from shapely import wkt
from shapely.errors import ShapelyError
from werkzeug.wrappers import Response

from layers.errors import InvalidInput
from layers.lookup.resolve import resolve_text
from webmap.db_routing import reads
from webmap.http.contracts import ANYONE, HTML_PAGE, contract, parse_query, problems
from webmap.http.models import LANGUAGE
from webmap.i18n import with_place_label

blueprint = Blueprint("eplatform", __name__)

# The query's id in the demo flow: its fields are q12_…
QUERY_ID = 12
PREFIX = f"q{QUERY_ID}"
SUFFIXES = (
    "propertyUnitDesignation",
    "xCoordinate",
    "yCoordinate",
    "extent",
    "epsg",
    "baseLayer",
)
# Where the demo opens (Östermalm, in the sample's invented property register).
CENTER = (18.075, 59.338)
# What the no-JavaScript fallback posts besides the typed designation: the CRS webmap uses, the
# base layer it names, and the municipality's start extent (SWEREF 99 TM, minE,minN,maxE,maxN).
FALLBACK_EPSG = "EPSG:3006"
FALLBACK_BASE_LAYER = "webmap#webmap"
FALLBACK_EXTENT = "673000,6580000,677000,6583500"
MAX_FIELD_CHARS = 1000


class EplatformForm(BaseModel):
    """What the demo step posts: Open ePlatform's six fields of query 12 (any other field is
    listed on the receipt too)."""

    designation: str | None = Field(
        None, alias="q12_propertyUnitDesignation", max_length=MAX_FIELD_CHARS
    )
    x: str | None = Field(None, alias="q12_xCoordinate", description="Easting, SWEREF 99 TM (m)")
    y: str | None = Field(None, alias="q12_yCoordinate", description="Northing, SWEREF 99 TM (m)")
    extent: str | None = Field(None, alias="q12_extent", description="minE,minN,maxE,maxN")
    epsg: str | None = Field(None, alias="q12_epsg", description="EPSG:3006")
    base_layer: str | None = Field(None, alias="q12_baseLayer", description="layerName#printLayer")
    geometry: str | None = Field(
        None,
        alias="q12_geometry",
        max_length=MAX_FIELD_CHARS * 100,
        description="The drawing query's shape: WKT in SWEREF 99 TM, optionally #config",
    )
    polygon: str | None = Field(
        None, alias="q12_polygon", max_length=MAX_FIELD_CHARS * 100, description="WKT"
    )
    step: Literal["property", "area"] | None = Field(
        None, description="Which of the demo's steps posted (not a platform field)"
    )


class EplatformPage(BaseModel):
    """The query of ``/demo/eplatform``."""

    lang: Literal["sv", "en"] = LANGUAGE
    platform_inputs: int = Field(
        1,
        alias="platform-inputs",
        ge=0,
        le=1,
        description="1: the platform's own six hidden inputs are in the form (as on Open "
        "ePlatform); 0: the picker posts the fields itself.",
    )
    query: Literal["property", "area"] = Field(
        "property",
        description="property: the property map query (PUDMapQuery); area: the drawing query "
        "(GeneralMapQuery), with the picker in polygon mode.",
    )


# The drawing query's inputs in its template (GeneralMapQueryTemplates.xsl): the shapes are
# rendered one input per saved geometry, so a new step has none of its own.
AREA_SUFFIXES = ("extent", "epsg", "baseLayer")
MAX_SHAPE_CHARS = MAX_FIELD_CHARS * 100


def _first(name: str, limit: int = MAX_FIELD_CHARS) -> str:
    """The first value of a field, as Java's ``HttpServletRequest.getParameter`` reads it."""
    values = request.form.getlist(name)
    if not values:
        return ""
    if len(values[0]) > limit:
        raise InvalidInput(f"{name} is too long.")
    return values[0]


def drawing_verdict(
    geometries: list[str], extent: str, epsg: str, *, required: bool
) -> tuple[str | None, list[Any]]:
    """What Open ePlatform's GeneralMapQuery says to a submit: None (accepted) or its
    validation error's key, and the shapes it read.

    Mirrors ``GeneralMapQueryProviderModule.populate``: each ``_geometry`` value is "WKT" or
    "WKT#config" and must parse (``GeometryNotValid``); none when the question is required is
    ``GeometryRequired``; shapes without extent or epsg are ``InCompleteMapQuerySubmit``.
    """
    shapes = []
    for value in geometries:
        try:
            shapes.append(wkt.loads(value.split("#")[0].strip()))
        except (ShapelyError, ValueError):
            return "GeometryNotValid", shapes
    if not shapes:
        return ("GeometryRequired" if required else None), shapes
    if not (extent and epsg):
        return "InCompleteMapQuerySubmit", shapes
    return None, shapes


def _is_double(text: str) -> bool:
    """Whether Java's ``Double`` would read ``text`` as a finite number."""
    try:
        return math.isfinite(float(text.strip()))
    except ValueError:
        return False


def platform_verdict(fields: dict[str, str], *, required: bool) -> str | None:
    """What Open ePlatform's PUDMapQuery says to these fields: None (accepted), or its
    validation error's key.

    Mirrors ``BaseMapQueryProviderModule.populate`` (no designation: ``RequiredQuery`` when the
    question is required, else unanswered; a designation without extent, epsg or base layer:
    ``InCompleteMapQuerySubmit``) and ``PUDMapQueryProvider.populate`` (x and y must be
    numbers, ``InCompleteMapQuerySubmit``).
    """
    if not fields["propertyUnitDesignation"]:
        return "RequiredQuery" if required else None
    if not (fields["extent"] and fields["epsg"] and fields["baseLayer"]):
        return "InCompleteMapQuerySubmit"
    if not (_is_double(fields["xCoordinate"]) and _is_double(fields["yCoordinate"])):
        return "InCompleteMapQuerySubmit"
    return None


def _page(html: str) -> Response:
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/demo/eplatform")
@contract(
    "demoEplatform",
    "A form step shaped like Open ePlatform's property map query (fields='open-eplatform')",
    tags=("widget",),
    security=ANYONE,
    query=EplatformPage,
    responses={200: HTML_PAGE, **problems(400)},
)
def eplatform_form() -> Response:
    """The demo step: ``<webmap-picker name="q12" fields="open-eplatform">`` in Open
    ePlatform's markup."""
    params = parse_query(EplatformPage)
    return _page(
        render_template(
            "demo_eplatform.html",
            lang=params.lang,
            center=f"{CENTER[0]},{CENTER[1]}",
            prefix=PREFIX,
            query=params.query,
            suffixes=AREA_SUFFIXES if params.query == "area" else SUFFIXES,
            platform_inputs=bool(params.platform_inputs),
            fallback={
                "epsg": FALLBACK_EPSG,
                "baseLayer": FALLBACK_BASE_LAYER,
                "extent": FALLBACK_EXTENT,
            },
        )
    )


@blueprint.post("/demo/eplatform")
@contract(
    "demoEplatformReceipt",
    "What Open ePlatform would make of the demo step's fields",
    tags=("widget",),
    security=ANYONE,
    body={"application/x-www-form-urlencoded": EplatformForm},
    responses={200: HTML_PAGE, **problems(400, 503)},
)
def eplatform_receipt() -> Response:
    """The fields as the platform reads them (first value of each name), its verdict, and, when
    the coordinates are missing, what webmap's resolve finds for the typed designation."""
    fields = {suffix: _first(f"{PREFIX}_{suffix}").strip() for suffix in SUFFIXES}
    if request.form.get("step") == "area":
        return _drawing_receipt(fields)
    verdict = platform_verdict(fields, required=True)
    resolved: dict[str, Any] | None = None
    if fields["propertyUnitDesignation"] and verdict is not None:
        try:
            with reads().connection() as conn:
                resolved = with_place_label(resolve_text(conn, fields["propertyUnitDesignation"]))
        except InvalidInput:
            resolved = None
    posted = [(key, value) for key, value in request.form.items(multi=True)]
    return _page(
        render_template(
            "demo_eplatform_receipt.html",
            prefix=PREFIX,
            fields=fields,
            verdict=verdict,
            resolved=resolved,
            posted=posted,
        )
    )


def _drawing_receipt(fields: dict[str, str]) -> Response:
    """The drawing step's receipt: the shapes as GeneralMapQuery reads them (every
    ``_geometry`` value), its verdict, and each shape's kind and size in SWEREF 99 TM."""
    geometries = request.form.getlist(f"{PREFIX}_geometry")
    if any(len(value) > MAX_SHAPE_CHARS for value in geometries):
        raise InvalidInput(f"{PREFIX}_geometry is too long.")
    verdict, shapes = drawing_verdict(geometries, fields["extent"], fields["epsg"], required=True)
    return _page(
        render_template(
            "demo_eplatform_receipt.html",
            prefix=PREFIX,
            fields={key: fields[key] for key in AREA_SUFFIXES},
            verdict=verdict,
            shapes=[
                {"kind": shape.geom_type, "area_m2": round(shape.area), "wkt": text}
                for shape, text in zip(shapes, geometries, strict=False)
            ],
            resolved=None,
            posted=list(request.form.items(multi=True)),
        )
    )
