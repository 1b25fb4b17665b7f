"""Staff credentials: API tokens for scripts and GIS tools, passwords for the admin pages.

Tokens are 256 random bits shown once at creation; only their SHA-256 is stored, so the table is
useless to a thief, and a fast hash is enough because the secret has full entropy. Passwords are
low-entropy, so they get scrypt with a per-user salt. Comparisons use :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from layers.errors import InvalidInput, LayerError, LayerNotFound

TOKEN_PREFIX = "wm_"  # noqa: S105 (a marker, not a secret)
SCOPES = ("read", "publish")
_USERNAME = re.compile(r"^[a-z0-9_.@-]{1,64}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class AuthenticationRequired(LayerError):
    """No credentials, or credentials that are wrong, unknown or revoked (HTTP 401)."""


class PermissionDenied(LayerError):
    """Valid credentials that may not do this: a read-only token, a missing CSRF token (403)."""


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


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's or a user's name, and what it may do."""

    name: str
    scope: str
    via: str

    @property
    def can_publish(self) -> bool:
        return self.scope == "publish"


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    conn: psycopg.Connection[Any], name: str, scope: str = "publish"
) -> tuple[TokenInfo, str]:
    """Store a new token and return it with its secret, which is never retrievable again."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("A token name is 1–100 characters.")
    if scope not in SCOPES:
        raise InvalidInput(f"The scope is one of {', '.join(SCOPES)}.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = conn.execute(
        """
        INSERT INTO webmap.api_tokens (name, token_hash, prefix, scope) VALUES (%s, %s, %s, %s)
        RETURNING id, name, prefix, scope, created_at, last_used_at, revoked_at
        """,
        [name, hash_token(secret), secret[:10], scope],
    ).fetchone()
    assert row is not None
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
        "SELECT id, name, scope, token_hash FROM webmap.api_tokens "
        "WHERE token_hash = %s AND revoked_at IS NULL",
        [wanted],
    ).fetchone()
    if row is None or not hmac.compare_digest(str(row[3]), wanted):
        return None
    conn.execute("UPDATE webmap.api_tokens SET last_used_at = now() WHERE id = %s", [row[0]])
    return Principal(name=str(row[1]), scope=str(row[2]), via="token")


def hash_password(password: str) -> str:
    """``scrypt$<salt>$<hash>`` with a fresh salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def _password_matches(password: str, stored: str) -> bool:
    try:
        kind, salt_b64, digest_b64 = stored.split("$")
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    actual = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return hmac.compare_digest(actual, expected)


def set_user(conn: psycopg.Connection[Any], username: str, password: str) -> None:
    """Create a staff login or change its password."""
    if not _USERNAME.fullmatch(username):
        raise InvalidInput("A user name is 1–64 characters: a–z, digits, _ . @ -.")
    if len(password) < 12:
        raise InvalidInput("A password has at least 12 characters.")
    conn.execute(
        """
        INSERT INTO webmap.staff_users (username, password_hash) VALUES (%s, %s)
        ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,
            disabled = false
        """,
        [username, hash_password(password)],
    )


# Checked against when the user does not exist, so a login takes as long for a wrong name as for
# a wrong password and does not reveal which names exist.
@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def verify_user(conn: psycopg.Connection[Any], username: str, password: str) -> Principal | None:
    """The principal of a staff login, or None for a wrong name or password."""
    row = conn.execute(
        "SELECT password_hash FROM webmap.staff_users WHERE username = %s AND NOT disabled",
        [username],
    ).fetchone()
    if row is None:
        _password_matches(password, _dummy_hash())
        return None
    if not _password_matches(password, str(row[0])):
        return None
    return Principal(name=username, scope="publish", via="session")
