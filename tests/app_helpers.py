"""Building the app for tests that need settings of their own (a raster folder, a cache …)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from webmap import create_app


@contextmanager
def app_with(database_url: str, **settings: Any) -> Iterator[Flask]:
    """The app on ``database_url``, catalog re-read on every request; its pool closed after."""
    application = create_app(
        {"database_url": database_url, "catalog_ttl": 0, "pool_min_size": 0, **settings}
    )
    application.config["TESTING"] = True
    try:
        yield application
    finally:
        application.extensions["webmap.pool"].close()
