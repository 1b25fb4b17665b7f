"""Pre-rendering of low-zoom tiles: jobs, their chunks of work, and the tiles they produced.

A job is one tileset (a vector layer or the basemap) at one version; its chunks are rectangles of
tiles at one zoom, claimed one at a time with ``FOR UPDATE SKIP LOCKED`` so several nodes share a
job and a killed worker's chunk is simply taken again. The tiles live in PostgreSQL, where every
node finds them and where they outlive a restart or a flushed Redis (docs/architecture.md,
"Pre-rendered low zooms").

Revision ID: 0005_prerender
Revises: 0004_staff_sessions
"""

from alembic import op

revision = "0005_prerender"
down_revision = "0004_staff_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE webmap.prerender_jobs (
            id bigserial PRIMARY KEY,
            tileset text NOT NULL,
            version text NOT NULL,
            min_zoom integer NOT NULL,
            max_zoom integer NOT NULL,
            state text NOT NULL DEFAULT 'queued'
                CONSTRAINT prerender_jobs_state_check
                CHECK (state IN ('queued', 'running', 'done', 'superseded')),
            tiles_total integer NOT NULL DEFAULT 0,
            tiles_done integer NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            CONSTRAINT prerender_jobs_zooms_check
                CHECK (min_zoom BETWEEN 0 AND 24 AND max_zoom BETWEEN min_zoom AND 24),
            UNIQUE (tileset, version)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE webmap.prerender_chunks (
            job_id bigint NOT NULL REFERENCES webmap.prerender_jobs (id) ON DELETE CASCADE,
            z integer NOT NULL,
            y integer NOT NULL,
            x_min integer NOT NULL,
            x_max integer NOT NULL,
            done boolean NOT NULL DEFAULT false,
            PRIMARY KEY (job_id, z, y, x_min)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE webmap.prerendered_tiles (
            tileset text NOT NULL,
            version text NOT NULL,
            z integer NOT NULL,
            x integer NOT NULL,
            y integer NOT NULL,
            job_id bigint NOT NULL REFERENCES webmap.prerender_jobs (id) ON DELETE CASCADE,
            body bytea NOT NULL,
            gzipped bytea,
            PRIMARY KEY (tileset, version, z, x, y)
        )
        """
    )
    op.execute("CREATE INDEX prerendered_tiles_job ON webmap.prerendered_tiles (job_id)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS webmap.prerendered_tiles")
    op.execute("DROP TABLE IF EXISTS webmap.prerender_chunks")
    op.execute("DROP TABLE IF EXISTS webmap.prerender_jobs")
