"""Staff access (API tokens, login accounts) and the memory of deleted layers' versions.

Revision ID: 0003_staff
Revises: 0002_lookup
"""

from alembic import op

revision = "0003_staff"
down_revision = "0002_lookup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only a SHA-256 of each token is kept: a leaked table does not leak usable tokens, and a
    # high-entropy token needs no slow password hash.
    op.execute(
        """
        CREATE TABLE webmap.api_tokens (
            id serial PRIMARY KEY,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
            token_hash text NOT NULL UNIQUE,
            prefix text NOT NULL,
            scope text NOT NULL DEFAULT 'publish' CHECK (scope IN ('read', 'publish')),
            created_at timestamptz NOT NULL DEFAULT now(),
            last_used_at timestamptz,
            revoked_at timestamptz
        )
        """
    )
    op.execute(
        """
        CREATE TABLE webmap.staff_users (
            username text PRIMARY KEY CHECK (username ~ '^[a-z0-9_.@-]{1,64}$'),
            password_hash text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            disabled boolean NOT NULL DEFAULT false
        )
        """
    )
    # A deleted and re-created layer must not reuse version numbers: tile URLs carry the version
    # and are cached as immutable, so v=1 of the new layer would be served the old tiles.
    op.execute(
        """
        CREATE TABLE webmap.layer_tombstones (
            name text PRIMARY KEY,
            last_version integer NOT NULL,
            deleted_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS webmap.layer_tombstones")
    op.execute("DROP TABLE IF EXISTS webmap.staff_users")
    op.execute("DROP TABLE IF EXISTS webmap.api_tokens")
