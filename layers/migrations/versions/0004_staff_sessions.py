"""Staff sessions kept on the server, so that logging out, disabling a login or changing its
password ends them everywhere (every app process reads the same table).

Revision ID: 0004_staff_sessions
Revises: 0003_staff
"""

from alembic import op

revision = "0004_staff_sessions"
down_revision = "0003_staff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The cookie carries a random session id; only its SHA-256 is kept (like API tokens), so a
    # leaked table or backup cannot be replayed as cookies. Deleting a login deletes its sessions.
    op.execute(
        """
        CREATE TABLE webmap.staff_sessions (
            id_hash text PRIMARY KEY CHECK (length(id_hash) = 64),
            username text NOT NULL
                REFERENCES webmap.staff_users (username) ON DELETE CASCADE ON UPDATE CASCADE,
            csrf_token text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX staff_sessions_username ON webmap.staff_sessions (username)")
    op.execute("CREATE INDEX staff_sessions_last_seen ON webmap.staff_sessions (last_seen_at)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS webmap.staff_sessions")
