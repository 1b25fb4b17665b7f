"""What staff credentials can fail with; webmap/http/problems.py maps them to HTTP statuses."""

from __future__ import annotations

from layers.errors import LayerError


class AuthenticationRequired(LayerError):
    """No credentials, or credentials that are wrong, unknown or revoked (HTTP 401)."""


class PermissionDenied(LayerError):
    """Valid credentials that may not do this: a read-only token, a missing CSRF token (403)."""
