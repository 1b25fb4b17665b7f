"""Human-facing pages: the map viewer at ``/``."""

from __future__ import annotations

from flask import Blueprint, render_template

from webmap.http.contracts import ANYONE, HTML_PAGE, contract

blueprint = Blueprint("pages", __name__)


@blueprint.get("/")
@contract(
    "viewer", "The map viewer page", tags=("pages",), security=ANYONE, responses={200: HTML_PAGE}
)
def index() -> str:
    """A full-page map of the basemap: proof that the tiles render in a real browser."""
    return render_template("index.html")
