"""API tokens for scripts and GIS tools.

Tokens are 256 random bits shown once at creation; only their SHA-256 is stored, so the table is
useless to a thief, and a fast hash is enough because the secret has full entropy. Comparisons use
:func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from layers.errors import InvalidInput, LayerNotFound
from staff.accounts import Principal

TOKEN_PREFIX = "wm_"  # noqa: S105 (a marker, not a secret)
SCOPES = ("read", "publish")
#: A staff member's or token's role in one municipality: ``publisher`` changes its layers,
#: ``admin`` also its settings (origins, default layers, theme, basemap).
ROLES = ("publisher", "admin")


@dataclass(frozen=True)
class TokenInfo:
    """One token as listed: never the secret itself."""

    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    conn: psycopg.Connection[Any],
    name: str,
    scope: str = "publish",
    *,
    instance_admin: bool = False,
    roles: Mapping[str, str] | None = None,
) -> tuple[TokenInfo, str]:
    """Store a new token and return it with its secret, which is never retrievable again.

    ``instance_admin`` or ``roles`` (municipality code → ``publisher`` | ``admin``) say where it
    may act; a token with neither may only read public layers (docs/security.md)."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("A token name is 1–100 characters.")
    if scope not in SCOPES:
        raise InvalidInput(f"The scope is one of {', '.join(SCOPES)}.")
    wanted = check_roles(roles or {})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with conn.transaction():
        row = conn.execute(
            """
            INSERT INTO webmap.api_tokens (name, token_hash, prefix, scope, instance_admin)
            VALUES (%s, %s, %s, %s, %s)
            RETURNING id, name, prefix, scope, created_at, last_used_at, revoked_at
            """,
            [name, hash_token(secret), secret[:10], scope, instance_admin],
        ).fetchone()
        assert row is not None
        for code, role in wanted.items():
            try:
                conn.execute(
                    "INSERT INTO webmap.token_memberships (token_id, municipality, role) "
                    "VALUES (%s, %s, %s)",
                    [row[0], code, role],
                )
            except psycopg.errors.ForeignKeyViolation as exc:
                raise InvalidInput(f"Municipality {code} is not served here.") from exc
    return TokenInfo(*row), secret


def list_tokens(conn: psycopg.Connection[Any]) -> list[TokenInfo]:
    """Every token, newest first, including revoked ones (for the audit trail)."""
    rows = conn.execute(
        "SELECT id, name, prefix, scope, created_at, last_used_at, revoked_at "
        "FROM webmap.api_tokens ORDER BY id DESC"
    ).fetchall()
    return [TokenInfo(*row) for row in rows]


def revoke_token(conn: psycopg.Connection[Any], token_id: int) -> None:
    """Revoke a token for good; revoking twice is harmless."""
    row = conn.execute(
        "UPDATE webmap.api_tokens SET revoked_at = coalesce(revoked_at, now()) "
        "WHERE id = %s RETURNING id",
        [token_id],
    ).fetchone()
    if row is None:
        raise LayerNotFound(f"There is no token with id {token_id}.")


def verify_token(conn: psycopg.Connection[Any], token: str) -> Principal | None:
    """The principal of an active token, or None for an unknown or revoked one."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    wanted = hash_token(token)
    row = conn.execute(
        "SELECT id, name, scope, token_hash, instance_admin FROM webmap.api_tokens "
        "WHERE token_hash = %s AND revoked_at IS NULL",
        [wanted],
    ).fetchone()
    if row is None or not hmac.compare_digest(str(row[3]), wanted):
        return None
    conn.execute("UPDATE webmap.api_tokens SET last_used_at = now() WHERE id = %s", [row[0]])
    roles = conn.execute(
        "SELECT municipality, role FROM webmap.token_memberships WHERE token_id = %s", [row[0]]
    ).fetchall()
    return Principal(
        name=str(row[1]),
        scope=str(row[2]),
        via="token",
        instance_admin=bool(row[4]),
        roles={str(code): str(role) for code, role in roles},
    )


def check_roles(roles: Mapping[str, str]) -> dict[str, str]:
    """Municipality code → role, each checked (four-digit code, a known role)."""
    checked: dict[str, str] = {}
    for code, role in roles.items():
        if not (len(code) == 4 and code.isascii() and code.isdigit()):
            raise InvalidInput("A municipality code is four digits (SCB kommunkod), e.g. 2281.")
        if role not in ROLES:
            raise InvalidInput(f"A role is one of {', '.join(ROLES)}.")
        checked[code] = role
    return checked
