"""webmap: an accessible web map and geodata service for Swedish municipalities' e-services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from webmap.settings import Settings


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app.

    ``config`` is a :class:`Settings`, or a mapping of settings that override the ``WEBMAP_*``
    environment (tests pass their database URL this way); ``None`` reads the environment only.
    """
    from webmap import auth, db, health, layers_api, ogc_api, pages, problems, services, tiles_api

    settings = config if isinstance(config, Settings) else Settings(**dict(config or {}))
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["WEBMAP_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    from webmap.json_input import JSONProvider

    app.json = JSONProvider(app)  # too-deep JSON bodies are bad input (400), not a 500
    app.json.ensure_ascii = False
    db.init_app(app, settings)
    services.init_app(app, settings)
    problems.init_app(app)
    app.register_blueprint(health.blueprint)
    from webmap import openapi_api

    app.register_blueprint(openapi_api.blueprint)
    app.register_blueprint(tiles_api.blueprint)
    from webmap import raster_api  # after tiles_api: shares /tiles/…, suffix .png/.webp

    app.register_blueprint(raster_api.blueprint)
    app.register_blueprint(pages.blueprint)
    from webmap import widget_api

    app.register_blueprint(widget_api.blueprint)
    from webmap import lookup_api, staticmap_api

    app.register_blueprint(lookup_api.blueprint)
    app.register_blueprint(staticmap_api.blueprint)
    auth.init_app(app)
    app.register_blueprint(layers_api.blueprint)
    app.register_blueprint(ogc_api.blueprint)
    from webmap import admin

    app.register_blueprint(admin.blueprint)
    return app
