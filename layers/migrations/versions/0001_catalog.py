"""Extensions, schemas and the layer catalog.

Revision ID: 0001_catalog
Revises:
"""

from alembic import op

revision = "0001_catalog"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE SCHEMA IF NOT EXISTS webmap")
    op.execute("CREATE SCHEMA IF NOT EXISTS layerdata")
    op.execute(
        """
        CREATE TABLE webmap.layers (
            name text PRIMARY KEY
                CONSTRAINT layer_name_format CHECK (name ~ '^[a-z][a-z0-9_]{0,47}$'),
            title text NOT NULL,
            description text NOT NULL DEFAULT '',
            kind text NOT NULL DEFAULT 'vector'
                CONSTRAINT layer_kind CHECK (kind IN ('vector', 'raster')),
            geometry_type text,
            version integer NOT NULL,
            public boolean NOT NULL DEFAULT true,
            attribution text NOT NULL DEFAULT '',
            minzoom integer NOT NULL DEFAULT 0,
            maxzoom integer NOT NULL DEFAULT 22,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK (minzoom BETWEEN 0 AND 24 AND maxzoom BETWEEN minzoom AND 24)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE webmap.layer_versions (
            layer_name text NOT NULL REFERENCES webmap.layers (name) ON DELETE CASCADE
                DEFERRABLE INITIALLY DEFERRED,
            version integer NOT NULL,
            table_name text NOT NULL UNIQUE,
            feature_count integer NOT NULL DEFAULT 0,
            fields jsonb NOT NULL DEFAULT '[]',
            bounds geometry(Polygon, 4326),
            report jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (layer_name, version)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS webmap.layer_versions")
    op.execute("DROP TABLE IF EXISTS webmap.layers")
    op.execute("DROP SCHEMA IF EXISTS layerdata CASCADE")
    op.execute("DROP SCHEMA IF EXISTS webmap CASCADE")
