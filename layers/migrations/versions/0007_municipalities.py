"""Municipalities as tenants: who owns a layer, which staff and tokens act for which
municipality (with a role each), and each municipality's settings for its widget.

Revision ID: 0007_municipalities
Revises: 0006_search_heads

Upgrading locks nobody out: every staff login and API token that exists when this runs becomes
an *instance administrator* (it could change every layer before, and still can), and every
existing layer stays instance-wide (``municipality`` NULL). New logins and tokens get only the
rights they are given (docs/security.md, "Who can do what").

A tenant keeps its own copy of its boundary: ``lookup.municipalities`` is reloaded wholesale by
``webmap data load-sample`` and the address imports, and a tenant (with its layers and staff)
must not depend on that table's rows staying put.
"""

from alembic import op

revision = "0007_municipalities"
down_revision = "0006_search_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE webmap.tenants (
            code text PRIMARY KEY CONSTRAINT tenants_code_check CHECK (code ~ '^[0-9]{4}$'),
            name text NOT NULL CONSTRAINT tenants_name_check
                CHECK (length(name) BETWEEN 1 AND 100),
            display_name text CONSTRAINT tenants_display_name_check
                CHECK (length(display_name) BETWEEN 1 AND 100),
            theme_colour text CONSTRAINT tenants_theme_colour_check
                CHECK (theme_colour ~ '^#[0-9a-f]{6}$'),
            boundary geometry(MultiPolygon, 3006) NOT NULL,
            embed_origins text[] NOT NULL DEFAULT '{}',
            default_layers text[] NOT NULL DEFAULT '{}',
            basemap jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    # A municipality that still owns layers cannot be deleted (RESTRICT): its layers would
    # silently become instance-wide, i.e. visible to nobody but the instance administrators.
    op.execute(
        "ALTER TABLE webmap.layers ADD COLUMN municipality text "
        "REFERENCES webmap.tenants (code) ON UPDATE CASCADE"
    )
    op.execute("CREATE INDEX layers_municipality ON webmap.layers (municipality)")
    op.execute(
        "ALTER TABLE webmap.staff_users ADD COLUMN instance_admin boolean NOT NULL DEFAULT false"
    )
    op.execute(
        "ALTER TABLE webmap.api_tokens ADD COLUMN instance_admin boolean NOT NULL DEFAULT false"
    )
    op.execute("UPDATE webmap.staff_users SET instance_admin = true")
    op.execute("UPDATE webmap.api_tokens SET instance_admin = true")
    op.execute(
        """
        CREATE TABLE webmap.staff_memberships (
            username text NOT NULL
                REFERENCES webmap.staff_users (username) ON DELETE CASCADE ON UPDATE CASCADE,
            municipality text NOT NULL
                REFERENCES webmap.tenants (code) ON DELETE CASCADE ON UPDATE CASCADE,
            role text NOT NULL CONSTRAINT staff_memberships_role_check
                CHECK (role IN ('publisher', 'admin')),
            PRIMARY KEY (username, municipality)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE webmap.token_memberships (
            token_id integer NOT NULL REFERENCES webmap.api_tokens (id) ON DELETE CASCADE,
            municipality text NOT NULL
                REFERENCES webmap.tenants (code) ON DELETE CASCADE ON UPDATE CASCADE,
            role text NOT NULL CONSTRAINT token_memberships_role_check
                CHECK (role IN ('publisher', 'admin')),
            PRIMARY KEY (token_id, municipality)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS webmap.token_memberships")
    op.execute("DROP TABLE IF EXISTS webmap.staff_memberships")
    op.execute("ALTER TABLE webmap.api_tokens DROP COLUMN IF EXISTS instance_admin")
    op.execute("ALTER TABLE webmap.staff_users DROP COLUMN IF EXISTS instance_admin")
    op.execute("DROP INDEX IF EXISTS webmap.layers_municipality")
    op.execute("ALTER TABLE webmap.layers DROP COLUMN IF EXISTS municipality")
    op.execute("DROP TABLE IF EXISTS webmap.tenants")
