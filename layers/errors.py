"""Errors raised by the layer catalog, ingest and lookups; ``webmap`` maps them to HTTP."""

from __future__ import annotations


class LayerError(Exception):
    """Base of every error the ``layers`` package raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class LayerNotFound(LayerError):
    """The named layer (or version) is not in the catalog, or not visible to the caller."""


class InvalidInput(LayerError):
    """The caller's input cannot be used as given (malformed, out of range, implausible)."""


class DatabaseNotReady(LayerError):
    """The database is unreachable or its schema has not been created (``webmap db init``)."""
