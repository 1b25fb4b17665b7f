"""Human-facing pages: the map viewer at ``/``."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, render_template
from pydantic import BaseModel, Field

from layers.municipalities import get_municipality
from webmap.db_routing import reads
from webmap.http.contracts import ANYONE, HTML_PAGE, contract, parse_query, problems
from webmap.http.security_headers import allow_basemap

blueprint = Blueprint("pages", __name__)


class ViewerPage(BaseModel):
    """The query of the viewer page."""

    projection: Literal["EPSG:3857", "EPSG:3006"] = Field(
        "EPSG:3857",
        description="The map's CRS: Web Mercator, or SWEREF 99 TM from the OGC API – Tiles "
        "SWEREF99TM tile matrix set",
    )
    municipality: str | None = Field(
        None,
        pattern=r"^[0-9]{4}$",
        description="A municipality served here (SCB code): the map opens on its whole extent, "
        "is named after it, and draws its external basemap when it has one.",
    )


@blueprint.get("/")
@contract(
    "viewer",
    "The map viewer page",
    tags=("pages",),
    security=ANYONE,
    query=ViewerPage,
    responses={200: HTML_PAGE, **problems(400, 404, 503)},
)
def index() -> str:
    """A full-page map of the basemap: proof that the tiles render in a real browser
    (``?projection=EPSG:3006``: in SWEREF 99 TM, as staff compare it with municipal maps;
    ``?municipality=2281``: the municipality's own map, as its staff and citizens see it in its
    pickers, external basemap included)."""
    params = parse_query(ViewerPage)
    municipality = None
    if params.municipality is not None:
        with reads().connection() as conn:
            municipality = get_municipality(conn, params.municipality)
        # Its external basemap's host, and only that one, joins this page's CSP.
        allow_basemap(municipality.basemap)
    return render_template("index.html", projection=params.projection, municipality=municipality)
