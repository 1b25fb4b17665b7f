"""Staff logins: user names and passwords for the admin pages, and who a caller is.

Passwords are low-entropy, so they get scrypt with a per-user salt, stored in werkzeug's
self-describing format ``scrypt:<n>:<r>:<p>$<salt>$<hash>`` so that the cost can be raised later: a
login with a hash weaker than :data:`PASSWORD_METHOD` (including the first format, ``scrypt$…``
with n=2**14) stores a fresh hash. Changing a password or disabling a login ends all of that
user's sessions (:mod:`staff.sessions`). API tokens are in :mod:`staff.tokens`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from werkzeug.security import check_password_hash, generate_password_hash

from layers.errors import InvalidInput, LayerNotFound
from staff.sessions import end_user_sessions

_USERNAME = re.compile(r"^[a-z0-9_.@-]{1,64}$")
# scrypt at OWASP's "N=2^15, r=8, p=3" (32 MiB, about 0.1–0.3 s here); raise it by editing
# this line: stored hashes carry their own parameters and are upgraded at the next login.
_CURRENT_SCRYPT = (2**15, 8, 3)
PASSWORD_METHOD = "scrypt:{}:{}:{}".format(*_CURRENT_SCRYPT)
_LEGACY_SCRYPT = (2**14, 8, 1)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's or a user's name, and what it may do.

    ``scope`` is the credential's (a read-only token never writes); ``instance_admin`` and
    ``roles`` (municipality code → ``publisher`` | ``admin``) say where it may act
    (:mod:`staff.tenancy` holds the rules)."""

    name: str
    scope: str
    via: str
    instance_admin: bool = False
    roles: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def can_publish(self) -> bool:
        return self.scope == "publish"


def hash_password(password: str) -> str:
    """``scrypt:<n>:<r>:<p>$<salt>$<hash>`` (werkzeug's format) with the current parameters."""
    return generate_password_hash(password, method=PASSWORD_METHOD, salt_length=16)


def _scrypt_parameters(stored: str) -> tuple[int, int, int] | None:
    """``(n, r, p)`` of a stored hash; the first format's ``scrypt$…`` had ``2**14, 8, 1``."""
    method = stored.split("$", 1)[0]
    if method == "scrypt" and stored.count("$") == 2:
        return _LEGACY_SCRYPT
    kind, _, params = method.partition(":")
    try:
        n, r, p = (int(part) for part in params.split(":"))
    except ValueError:
        return None
    return (n, r, p) if kind == "scrypt" else None


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash is weaker than :data:`PASSWORD_METHOD` in any parameter (or is
    another kind of hash), so that a successful login should store a fresh one."""
    found = _scrypt_parameters(stored)
    return found is None or any(
        have < want for have, want in zip(found, _CURRENT_SCRYPT, strict=True)
    )


def _legacy_matches(password: str, stored: str) -> bool:
    """The first format, ``scrypt$<base64 salt>$<base64 hash>`` with n=2**14, r=8, p=1."""
    try:
        _kind, salt_b64, digest_b64 = stored.split("$")
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(digest_b64, validate=True)
    except ValueError:
        return False
    n, r, p = _LEGACY_SCRYPT
    actual = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p)
    return hmac.compare_digest(actual, expected)


def _password_matches(password: str, stored: str) -> bool:
    if stored.startswith("scrypt$"):
        return _legacy_matches(password, stored)
    if _scrypt_parameters(stored) is None:
        return False  # only scrypt hashes are ever written; anything else is refused
    try:
        return check_password_hash(stored, password)
    except ValueError:  # a damaged row: no login, and not a 500
        return False


def set_user(
    conn: psycopg.Connection[Any],
    username: str,
    password: str,
    *,
    instance_admin: bool | None = None,
) -> None:
    """Create a staff login or change its password (which enables it and ends its sessions).

    ``instance_admin``: make the login an instance administrator (True) or not (False); None
    keeps what an existing login has (a new one is not)."""
    if not _USERNAME.fullmatch(username):
        raise InvalidInput("A user name is 1–64 characters: a–z, digits, _ . @ -.")
    if len(password) < 12:
        raise InvalidInput("A password has at least 12 characters.")
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO webmap.staff_users (username, password_hash, instance_admin)
            VALUES (%(user)s, %(hash)s, coalesce(%(admin)s, false))
            ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,
                disabled = false,
                instance_admin = coalesce(%(admin)s, webmap.staff_users.instance_admin)
            """,
            {"user": username, "hash": hash_password(password), "admin": instance_admin},
        )
        end_user_sessions(conn, username)


def disable_user(conn: psycopg.Connection[Any], username: str) -> int:
    """Refuse a login from now on and end its sessions; returns how many sessions ended.

    ``set_user`` with a new password enables the login again.
    """
    with conn.transaction():
        row = conn.execute(
            "UPDATE webmap.staff_users SET disabled = true WHERE username = %s RETURNING 1",
            [username],
        ).fetchone()
        if row is None:
            raise LayerNotFound(f"There is no login named {username!r}.")
        return end_user_sessions(conn, username)


def list_users(conn: psycopg.Connection[Any]) -> list[tuple[str, bool]]:
    """Every login's name and whether it is disabled, by name."""
    rows = conn.execute(
        "SELECT username, disabled FROM webmap.staff_users ORDER BY username"
    ).fetchall()
    return [(str(name), bool(disabled)) for name, disabled in rows]


# Checked against when the user does not exist, so a login takes as long for a wrong name as for
# a wrong password and does not reveal which names exist.
@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def password_hash_of(conn: psycopg.Connection[Any], username: str) -> str | None:
    """The stored hash of an enabled login, or None."""
    row = conn.execute(
        "SELECT password_hash FROM webmap.staff_users WHERE username = %s AND NOT disabled",
        [username],
    ).fetchone()
    return None if row is None else str(row[0])


def check_password(
    username: str, password: str, stored: str | None
) -> tuple[Principal | None, str | None]:
    """The principal when ``password`` matches ``stored``, and a fresh hash to store when the
    stored one is weaker than today's parameters. Needs no connection: the slow hash runs
    without holding one of the pool's few database connections."""
    if stored is None:
        _password_matches(password, _dummy_hash())
        return None, None
    if not _password_matches(password, stored):
        return None, None
    fresh = hash_password(password) if needs_rehash(stored) else None
    return Principal(name=username, scope="publish", via="session"), fresh


def store_rehash(conn: psycopg.Connection[Any], username: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` unless the password was changed meanwhile."""
    conn.execute(
        "UPDATE webmap.staff_users SET password_hash = %s "
        "WHERE username = %s AND password_hash = %s",
        [new, username, old],
    )


def verify_user(conn: psycopg.Connection[Any], username: str, password: str) -> Principal | None:
    """The principal of a staff login, or None for a wrong name or password; a weak stored
    hash is replaced (see :func:`check_password`)."""
    stored = password_hash_of(conn, username)
    principal, fresh = check_password(username, password, stored)
    if stored is not None and fresh is not None:
        store_rehash(conn, username, stored, fresh)
    return principal
