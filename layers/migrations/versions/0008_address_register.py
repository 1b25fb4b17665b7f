"""Lantmäteriet's address register: object identity, version, status and popular name per
address, where each address source came from (its attribution), and the indexes a change
extract and a municipality bias need.

Revision ID: 0008_address_register
Revises: 0007_municipalities

``lookup.address_sources`` holds one row per loaded source with the attribution its licence
asks for ("© Lantmäteriet (CC BY 4.0)"); answers built from addresses carry it. The change
extract finds addresses by (source, source_id) — the object identity UUID — and the search's
municipality bias filters addresses by ``municipality_code``.
"""

from alembic import op

revision = "0008_address_register"
down_revision = "0007_municipalities"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE lookup.addresses
            ADD COLUMN object_version integer,
            ADD COLUMN popular_name text,
            ADD COLUMN status text
        """
    )
    op.execute(
        "CREATE INDEX addresses_source_id_idx ON lookup.addresses (source, source_id) "
        "WHERE source_id IS NOT NULL"
    )
    op.execute("CREATE INDEX addresses_municipality_idx ON lookup.addresses (municipality_code)")
    op.execute(
        """
        CREATE TABLE lookup.address_sources (
            source text PRIMARY KEY,
            label text NOT NULL,
            attribution text,
            product text,
            loaded_at timestamptz NOT NULL DEFAULT now(),
            row_count integer NOT NULL DEFAULT 0
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS lookup.address_sources")
    op.execute("DROP INDEX IF EXISTS lookup.addresses_municipality_idx")
    op.execute("DROP INDEX IF EXISTS lookup.addresses_source_id_idx")
    op.execute(
        "ALTER TABLE lookup.addresses DROP COLUMN IF EXISTS status, "
        "DROP COLUMN IF EXISTS popular_name, DROP COLUMN IF EXISTS object_version"
    )
