"""Human-facing pages: the map viewer at ``/``."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, render_template
from pydantic import BaseModel, Field

from webmap.http.contracts import ANYONE, HTML_PAGE, contract, parse_query, problems

blueprint = Blueprint("pages", __name__)


class ViewerPage(BaseModel):
    """The query of the viewer page."""

    projection: Literal["EPSG:3857", "EPSG:3006"] = Field(
        "EPSG:3857",
        description="The map's CRS: Web Mercator, or SWEREF 99 TM from the OGC API – Tiles "
        "SWEREF99TM tile matrix set",
    )


@blueprint.get("/")
@contract(
    "viewer",
    "The map viewer page",
    tags=("pages",),
    security=ANYONE,
    query=ViewerPage,
    responses={200: HTML_PAGE, **problems(400)},
)
def index() -> str:
    """A full-page map of the basemap: proof that the tiles render in a real browser
    (``?projection=EPSG:3006``: in SWEREF 99 TM, as staff compare it with municipal maps)."""
    projection = parse_query(ViewerPage).projection
    return render_template("index.html", projection=projection)
