"""The admin pages for GIS staff: ``pages`` (the blueprint and what every page shares),
``views`` (the list of layers, a layer's pages and actions), ``uploads`` (the upload forms),
``forms`` (reading and checking the upload form) and ``contracts`` (their OpenAPI contracts).

Importing the package registers every admin route on :data:`blueprint`.
"""

from webmap.admin import uploads, views  # noqa: F401 (their routes register on the blueprint)
from webmap.admin.pages import blueprint

__all__ = ["blueprint"]
