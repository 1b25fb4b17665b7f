"""The ``/ogc`` blueprint that OGC API – Features (:mod:`.features`) and – Tiles (:mod:`.tiles`)
register their routes on: one API, one landing page, links between the two by endpoint name."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("ogc", __name__, url_prefix="/ogc")
