"""Human-facing pages: the map viewer at ``/``."""

from __future__ import annotations

from flask import Blueprint, render_template

blueprint = Blueprint("pages", __name__)


@blueprint.get("/")
def index() -> str:
    """A full-page map of the basemap: proof that the tiles render in a real browser."""
    return render_template("index.html")
