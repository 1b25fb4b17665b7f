"""``/api/layers``: staff publish, inspect, roll back and delete layers (:mod:`.views`)."""

from webmap.api.layers import views
from webmap.api.layers.blueprint import blueprint

__all__ = ["blueprint", "views"]
