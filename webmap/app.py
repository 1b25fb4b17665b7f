"""The application factory: settings, the database pool, services, HTTP hooks and blueprints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from webmap.settings import Settings


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app.

    ``config`` is a :class:`Settings`, or a mapping of settings that override the ``WEBMAP_*``
    environment (tests pass their database URL this way); ``None`` reads the environment only.
    """
    # Imported here, not at module level: ``import webmap`` (settings, the CLI's --help) stays
    # light, and the blueprints may import webmap's helpers without a cycle.
    from webmap import admin, db, i18n, services
    from webmap.api import (
        fonts,
        health,
        layers,
        lookup,
        metrics,
        municipalities,
        ogc,
        openapi,
        rasters,
        resolve,
        staticmap,
        tiles,
    )
    from webmap.http import auth, cors, problems, security_headers, tile_fast_path
    from webmap.http import metrics as request_metrics
    from webmap.http.json_input import JSONProvider
    from webmap.pages import eplatform, login, viewer, widget

    settings = config if isinstance(config, Settings) else Settings(**dict(config or {}))
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["WEBMAP_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes
    app.config["SESSION_COOKIE_SECURE"] = settings.secure_cookies
    app.json = JSONProvider(app)  # too-deep JSON bodies are bad input (400), not a 500
    app.json.ensure_ascii = False
    request_metrics.init_app(app)  # first: its hooks see every request and the final answer
    i18n.init_app(app)
    db.init_app(app, settings)
    services.init_app(app, settings)
    problems.init_app(app)
    auth.init_app(app)
    security_headers.init_app(app)
    cors.init_app(app)
    # api.tiles before api.rasters: both serve /tiles/…, the raster routes end in .png/.webp.
    for module in (
        health,
        metrics,
        openapi,
        tiles,
        fonts,
        rasters,
        viewer,
        widget,
        eplatform,
        login,
        resolve,
        lookup,
        staticmap,
        layers,
        municipalities,
        ogc,
        admin,
    ):
        app.register_blueprint(module.blueprint)
    if settings.proxy_hops:
        # Behind nginx (deploy/, docs/deploy.md) the client's address, scheme and host come from
        # X-Forwarded-*, trusted for exactly this many proxies: a client cannot forge them.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    # Plain public tile requests answered without Flask's machinery, same bytes and headers
    # (webmap/http/tile_fast_path.py; issue 11 §2). Off with WEBMAP_TILE_FAST_PATH=false.
    if settings.tile_fast_path:
        tile_fast_path.init_app(app)
    return app
