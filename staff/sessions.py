"""Staff sessions kept in PostgreSQL: created at login, checked on every request, revocable.

A browser holds only a random session id (256 bits) in its cookie; the table keeps the id's
SHA-256, the user, the session's CSRF token and three times. A session is valid while its row
exists, its user is not disabled, it was used within ``idle_seconds`` and it is younger than
``max_seconds``. Times are the database's ``now()``, so several app processes on several
machines agree without synchronised clocks, and a row deleted by one of them (logout, a disabled
user, a new password) ends the session for all of them at once.

``last_seen_at`` is written at most once per :attr:`SessionPolicy.touch_seconds` (a minute by
default), not on every request; the idle time is therefore enforced to within that interval.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

_ID_BYTES = 32
_MAX_ID_LENGTH = 100  # a token_urlsafe(32) is 43 characters; longer cookies are not ours


@dataclass(frozen=True)
class SessionPolicy:
    """How long sessions live: idle limit and absolute limit, in seconds."""

    idle_seconds: float = 8 * 3600
    max_seconds: float = 7 * 24 * 3600

    @property
    def touch_seconds(self) -> float:
        """How stale ``last_seen_at`` may get before a request writes it again."""
        return min(60.0, self.idle_seconds / 4)


@dataclass(frozen=True)
class StaffSession:
    """A live session as a request sees it (never its id)."""

    username: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


def hash_session_id(session_id: str) -> str:
    """The stored form of a session id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def _plausible(session_id: str) -> bool:
    return 0 < len(session_id) <= _MAX_ID_LENGTH and session_id.isascii()


def create_session(
    conn: psycopg.Connection[Any], username: str, policy: SessionPolicy
) -> tuple[StaffSession, str]:
    """Start a session for ``username``; returns it with the id to put in the cookie.

    Expired rows are swept here, at login, so the table stays small without a scheduled job.
    """
    session_id = secrets.token_urlsafe(_ID_BYTES)
    csrf = secrets.token_urlsafe(32)
    purge_expired(conn, policy)
    row = conn.execute(
        """
        INSERT INTO webmap.staff_sessions (id_hash, username, csrf_token, expires_at)
        VALUES (%s, %s, %s, now() + make_interval(secs => %s))
        RETURNING username, csrf_token, created_at, last_seen_at, expires_at
        """,
        [hash_session_id(session_id), username, csrf, float(policy.max_seconds)],
    ).fetchone()
    assert row is not None
    return StaffSession(*row), session_id


def verify_session(
    conn: psycopg.Connection[Any], session_id: str, policy: SessionPolicy
) -> StaffSession | None:
    """The live session with this id, or None when it is unknown, ended, idle or too old."""
    if not _plausible(session_id):
        return None
    wanted = hash_session_id(session_id)
    row = conn.execute(
        """
        SELECT s.username, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
               s.last_seen_at < now() - make_interval(secs => %(touch)s) AS stale
        FROM webmap.staff_sessions s JOIN webmap.staff_users u USING (username)
        WHERE s.id_hash = %(id)s AND NOT u.disabled AND s.expires_at > now()
          AND s.last_seen_at > now() - make_interval(secs => %(idle)s)
        """,
        {"id": wanted, "touch": float(policy.touch_seconds), "idle": float(policy.idle_seconds)},
    ).fetchone()
    if row is None:
        return None
    *fields, stale = row
    if stale:
        conn.execute(
            "UPDATE webmap.staff_sessions SET last_seen_at = now() WHERE id_hash = %s", [wanted]
        )
    return StaffSession(*fields)


def end_session(conn: psycopg.Connection[Any], session_id: str) -> bool:
    """End one session (logout); False when it had already ended."""
    if not _plausible(session_id):
        return False
    row = conn.execute(
        "DELETE FROM webmap.staff_sessions WHERE id_hash = %s RETURNING 1",
        [hash_session_id(session_id)],
    ).fetchone()
    return row is not None


def end_user_sessions(conn: psycopg.Connection[Any], username: str) -> int:
    """End every session of a user (password changed, login disabled); returns how many."""
    cursor = conn.execute("DELETE FROM webmap.staff_sessions WHERE username = %s", [username])
    return max(cursor.rowcount, 0)


def purge_expired(conn: psycopg.Connection[Any], policy: SessionPolicy) -> int:
    """Delete sessions past their idle or absolute limit; returns how many."""
    cursor = conn.execute(
        "DELETE FROM webmap.staff_sessions "
        "WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => %s)",
        [float(policy.idle_seconds)],
    )
    return max(cursor.rowcount, 0)


def count_sessions(conn: psycopg.Connection[Any], policy: SessionPolicy) -> dict[str, int]:
    """Live sessions per user (for ``webmap staff list``)."""
    rows = conn.execute(
        "SELECT username, count(*) FROM webmap.staff_sessions "
        "WHERE expires_at > now() AND last_seen_at > now() - make_interval(secs => %s) "
        "GROUP BY username",
        [float(policy.idle_seconds)],
    ).fetchall()
    return {str(name): int(n) for name, n in rows}
