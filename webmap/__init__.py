"""webmap: an accessible web map and geodata service for Swedish municipalities' e-services.

The package's layout (docs/architecture.md, "Packages and their jobs"): ``app`` (the factory),
``settings``, ``services``, ``db``, ``i18n`` (text and language, catalogues in ``translations/``);
``http/`` (problems, params, caching, CORS, security headers, staff auth); ``api/`` (one module
per resource); ``pages/`` (viewer, widget, demo, login); ``admin/`` (views, forms); ``cli/`` (one
module per command group).
"""

from webmap.app import create_app

__all__ = ["create_app"]
