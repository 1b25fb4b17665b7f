"""Which layers a caller of ``/api/layers`` may change, and whether a name is taken.

The rule itself is :mod:`staff.tenancy` (a municipality's staff change its own layers, an
instance administrator every layer); here it is applied with the API's own wording, so a
caller who names a layer that does not exist is told how to create it.
"""

from __future__ import annotations

from typing import Any

from layers.errors import LayerNotFound
from layers.versions import layer_detail
from staff.tenancy import authorize_write
from webmap.db import get_pool
from webmap.http.auth import principal_required


def existing_layer(name: str) -> dict[str, Any] | None:
    """Layer ``name`` whoever owns it (names are unique in the deployment), or ``None``."""
    with get_pool().connection() as conn:
        try:
            return layer_detail(conn, name)
        except LayerNotFound:
            return None


def check_writable(name: str) -> None:
    """404 for no such layer, 403 for another municipality's (:mod:`staff.tenancy`)."""
    with get_pool().connection() as conn:
        try:
            authorize_write(conn, principal_required(), name)
        except LayerNotFound:
            raise LayerNotFound(
                f"There is no layer named {name!r}; POST /api/layers creates it."
            ) from None
