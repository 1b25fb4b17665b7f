"""``/api/municipalities``: the municipalities this deployment serves.

Anyone reads a municipality's public description (the widget's ``municipality="2281"`` reads
it: name, bounding boxes, default layers, theme, external basemap); its embedding origins and
staff are not in it. An admin of the municipality or an instance administrator changes its
settings with ``PATCH``. Adding a municipality takes its boundary from the sample data on the
server: ``webmap municipalities add`` (docs/operations.md), not HTTP.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field

from layers.municipalities import (
    Municipality,
    check_code,
    get_municipality,
    list_municipalities,
    public_view,
    update_settings,
)
from layers.tenant_settings import SettingsChange
from staff.tenancy import check_manage
from webmap.db import get_pool
from webmap.db_routing import reads
from webmap.http import tenant_origins
from webmap.http.auth import principal_required, staff_required
from webmap.http.contracts import (
    ANYONE,
    JSON,
    STAFF,
    binary,
    contract,
    ok,
    parse_body,
    problems,
)

blueprint = Blueprint("municipalities", __name__)

_CODE = r"^[0-9]{4}$"


class MunicipalityCode(BaseModel):
    """A municipality's address: its SCB kommunkod."""

    code: str = Field(pattern=_CODE, description="Four digits, e.g. 2281 (Sundsvall).")


class Basemap(BaseModel):
    """An external raster basemap drawn under the municipality's layers."""

    kind: Literal["xyz", "wmts"]
    url: str = Field(
        description="https URL template: {z}/{x}/{y} (xyz) or {TileMatrix}/{TileRow}/{TileCol} "
        "(WMTS RESTful)."
    )
    crs: Literal[3857, 3006]
    attribution: str


class MunicipalityView(BaseModel):
    """A municipality as the widget sees it: ``bbox`` west, south, east, north in WGS 84
    (CRS84), ``bbox_sweref99tm`` min E, min N, max E, max N in EPSG:3006."""

    code: str
    name: str
    display_name: str
    bbox: list[float]
    bbox_crs: str
    bbox_sweref99tm: list[float]
    default_layers: list[str]
    theme_colour: str | None
    basemap: Basemap | None


class MunicipalityList(BaseModel):
    """Every municipality served, by code."""

    municipalities: list[MunicipalityView]


class StaffView(MunicipalityView):
    """The public description plus what only staff see: the embedding origins."""

    embed_origins: list[str]


class MunicipalityPatch(BaseModel):
    """What ``PATCH`` may change; absent keeps the value, ``""`` (or ``{}`` for the basemap)
    clears an optional one."""

    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(None, max_length=100)  # type: ignore[assignment]
    theme_colour: str = Field(None, max_length=7)  # type: ignore[assignment]
    embed_origins: list[str] = Field(None, max_length=20)  # type: ignore[arg-type]
    default_layers: list[str] = Field(None, max_length=20)  # type: ignore[arg-type]
    basemap: dict[str, Any] = Field(None)  # type: ignore[arg-type]


def _json(body: dict[str, Any], cache: str) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = cache
    return response


def _staff_view(municipality: Municipality) -> dict[str, Any]:
    return {**public_view(municipality), "embed_origins": list(municipality.embed_origins)}


@blueprint.get("/api/municipalities")
@contract(
    "listMunicipalities",
    "The municipalities this deployment serves",
    tags=("widget",),
    security=ANYONE,
    responses={200: ok(MunicipalityList), **problems(503)},
)
def municipalities() -> Response:
    """Every municipality served, as ``GET /api/municipalities/{code}`` describes each."""
    with reads().connection() as conn:
        found = list_municipalities(conn)
    body = {"municipalities": [public_view(m) for m in found]}
    return _json(body, "public, max-age=60")


@blueprint.get("/api/municipalities/<code>")
@contract(
    "getMunicipality",
    "A municipality's start view, default layers, theme and basemap (for the widget)",
    tags=("widget",),
    security=ANYONE,
    path=MunicipalityCode,
    responses={200: ok(MunicipalityView), **problems(400, 404, 503)},
)
def municipality(code: str) -> Response:
    """What a ``<webmap-picker municipality="…">`` needs; short-lived in caches (a minute)."""
    with reads().connection() as conn:
        found = get_municipality(conn, code)
    return _json(public_view(found), "public, max-age=60")


@blueprint.patch("/api/municipalities/<code>")
@contract(
    "updateMunicipality",
    "Change a municipality's settings (its admins, instance administrators)",
    tags=("staff",),
    security=STAFF,
    path=MunicipalityCode,
    body={JSON: MunicipalityPatch},
    responses={200: ok(StaffView), **problems(400, 401, 403, 404, 503)},
)
@staff_required()
def update_municipality(code: str) -> Response:
    """Display name, theme colour, embedding origins, default layers, external basemap."""
    wanted = parse_body(
        MunicipalityPatch,
        request.get_json(silent=True),
        "display_name, theme_colour, embed_origins, default_layers or basemap",
    )
    check_code(code)
    check_manage(principal_required(), code)
    sent = wanted.model_dump(exclude_unset=True)
    change = SettingsChange(
        display_name=sent.get("display_name"),
        theme_colour=sent.get("theme_colour"),
        embed_origins=tuple(sent["embed_origins"]) if "embed_origins" in sent else None,
        default_layers=tuple(sent["default_layers"]) if "default_layers" in sent else None,
        basemap=sent.get("basemap"),
    )
    with get_pool().connection() as conn:
        insecure = current_app.config["WEBMAP_SETTINGS"].insecure_basemap_host_list
        found = update_settings(conn, code, change, insecure)
    tenant_origins.forget()
    return _json(_staff_view(found), "no-store")


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour_on(background: str) -> str:
    """White or near-black, whichever contrasts more with ``background`` (WCAG 1.4.3: a
    municipality's brand colour must not make the demo's header unreadable)."""
    lum = _luminance(background)
    on_white = (1.05) / (lum + 0.05)
    on_dark = (lum + 0.05) / (_luminance("#1a1a1a") + 0.05)
    return "#ffffff" if on_white >= on_dark else "#1a1a1a"


@blueprint.get("/api/municipalities/<code>/theme.css")
@contract(
    "municipalityTheme",
    "A stylesheet with the municipality's theme colour (for /demo)",
    tags=("widget",),
    security=ANYONE,
    path=MunicipalityCode,
    responses={200: binary("text/css", "The header in the theme colour"), **problems(400, 404)},
)
def municipality_theme(code: str) -> Response:
    """The demo page's header in the municipality's colour, with readable text on it; empty
    when it has no theme colour. A stylesheet, because the pages' CSP allows no inline style."""
    with reads().connection() as conn:
        found = get_municipality(conn, code)
    css = ""
    if found.theme_colour:
        text = text_colour_on(found.theme_colour)
        css = f".site {{ background: {found.theme_colour}; color: {text}; }}\n"
    response = Response(css, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
